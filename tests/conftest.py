import os

import pytest
from hypothesis import HealthCheck, settings

os.environ.setdefault("MPLBACKEND", "Agg")

# Hypothesis profiles (tests/test_properties.py), chosen by KUBESIM_HYPOTHESIS_PROFILE:
#   ci     `make test`: 300 random examples of the invariants (+ 50 of determinism), new ones each run
#   soak   `make soak`: 5,000 random examples (+ 833 of determinism)
#   repro  derandomized: the same 300 examples every time, to bisect a change
_COMMON = dict(deadline=None, database=None, print_blob=True,
               suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                      HealthCheck.filter_too_much])
settings.register_profile("ci", max_examples=300, derandomize=False, **_COMMON)
settings.register_profile("soak", max_examples=5000, derandomize=False, **_COMMON)
settings.register_profile("repro", max_examples=300, derandomize=True, **_COMMON)
settings.load_profile(os.environ.get("KUBESIM_HYPOTHESIS_PROFILE", "ci"))
if os.environ.get("KUBESIM_HYPOTHESIS_EXAMPLES"):  # a shorter (or longer) soak on a busy machine
    settings.register_profile("custom", settings(max_examples=int(os.environ["KUBESIM_HYPOTHESIS_EXAMPLES"])))
    settings.load_profile("custom")


@pytest.fixture(scope="session")
def default_scenario():
    from simulator.config import load_scenario

    return load_scenario("default")
