"""Golden summaries: every preset on every chain (1 replication, seed 1) gives exactly the
``--json`` summary captured in ``tests/golden/`` (see ``tests/golden/capture.py``).

A refactoring must leave these identical; a change of the model that moves them on purpose
recaptures them in the same commit and says why in its message.
"""

import json

import pytest

from tests.golden.capture import cases, path_for, summary


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
def test_summary_unchanged(case):
    golden = json.loads(path_for(case).read_text())
    _close(summary(case), golden)
