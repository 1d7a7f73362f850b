"""Golden summaries: every preset on every chain (1 replication, seed 1) gives exactly the
``--json`` summary captured in ``tests/golden/`` (see ``tests/golden/capture.py``).

A refactoring must leave these identical; a change of the model that moves them on purpose
recaptures them in the same commit and says why in its message.
"""

import json
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor

import pytest

from tests.golden.capture import cases, path_for, summary


def _summary_or_error(case: tuple[str, str]) -> dict | str:
    try:
        return summary(case)
    except Exception as e:  # noqa: BLE001 - reported by the case's own test
        return f"{type(e).__name__}: {e}"


@pytest.fixture(scope="module")
def summaries(request) -> dict[tuple[str, str], dict | str]:
    """The selected cases' summaries, computed once on every core (forked workers: each case is
    its own seeded run, so the results are the same as one after the other; the suite's slowest
    part then takes half the time on the 2-core CI machine)."""
    todo = [item.callspec.params["case"] for item in request.session.items
            if item.originalname == "test_summary_unchanged" and hasattr(item, "callspec")]
    workers = max(1, min(os.cpu_count() or 1, 4))
    if workers == 1:
        return {c: _summary_or_error(c) for c in todo}
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as ex:
        return dict(zip(todo, ex.map(_summary_or_error, todo)))


def _close(a, b, path="$"):
    if isinstance(a, dict):
        assert isinstance(b, dict) and a.keys() == b.keys(), f"{path}: keys differ"
        for k in a:
            _close(a[k], b[k], f"{path}.{k}")
    elif isinstance(a, list):
        assert isinstance(b, list) and len(a) == len(b), f"{path}: lengths differ"
        for i, (x, y) in enumerate(zip(a, b)):
            _close(x, y, f"{path}[{i}]")
    elif isinstance(a, float) and isinstance(b, (int, float)):
        assert abs(a - b) <= 1e-9, f"{path}: {a!r} != {b!r}"
    else:
        assert a == b, f"{path}: {a!r} != {b!r}"


@pytest.mark.parametrize("case", cases(), ids=lambda c: f"{c[0]}-{c[1]}")
def test_summary_unchanged(case, summaries):
    golden = json.loads(path_for(case).read_text())
    got = summaries[case]
    assert not isinstance(got, str), got
    _close(got, golden)
