import os

import pytest

os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture(scope="session")
def default_scenario():
    from simulator.config import load_scenario

    return load_scenario("default")
