"""Check the golden summaries while the branch adds a key that the goldens do not have yet.

``python -m tests.golden_minus_key binds [PRESET-or-CASE-SUBSTRING ...]`` runs the golden cases
(``tests/golden/capture.py``), deletes ``KEY`` from every chain's entry of the fresh summary
(``runtimes.<chain>.KEY``) and compares the rest with the golden file exactly as
``tests/test_golden.py`` does: nothing but the new key may change. Exits 1 on a difference.
``GOLDEN_DIR=dir`` reads the golden files from ``dir`` instead (summaries captured from another
tree, e.g. the base branch, while the goldens are being recaptured). Once the goldens are recaptured with the key this is the golden test itself (the key is then
deleted from both sides).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from concurrent.futures import ProcessPoolExecutor

from tests.golden.capture import cases, path_for, summary
from tests.test_golden import _close


def without(doc: dict, key: str) -> dict:
    for entry in doc.get("runtimes", {}).values():
        entry.pop(key, None)
    return doc


def check(args: tuple[tuple[str, str], str]) -> str:
    case, key = args
    # GOLDEN_DIR: summaries captured elsewhere (e.g. from the base branch's tree), same names
    where = os.environ.get("GOLDEN_DIR")
    path = Path(where) / path_for(case).name if where else path_for(case)
    if not path.is_file():
        return f"skip {case}: no {path}"
    golden = without(json.loads(path.read_text()), key)
    try:
        _close(without(summary(case), key), golden)
    except AssertionError as e:
        return f"DIFF {case}: {e}"
    return f"ok   {case}"


def main(argv: list[str]) -> int:
    key, wanted = argv[0], argv[1:]
    todo = [c for c in cases() if not wanted or any(w in f"{c[0]}__{c[1]}" for w in wanted)]
    bad = 0
    with ProcessPoolExecutor(2) as ex:
        for line in ex.map(check, [(c, key) for c in todo]):
            print(line, flush=True)
            bad += line.startswith("DIFF")
    print(f"{len(todo) - bad}/{len(todo)} identical without '{key}'")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
