"""The bad-input suite (issue 11): every case of ``tests/bad_inputs/cases.yaml`` runs the CLI and
states the outcome: refused (exit 2, on stderr one paragraph per problem, each on its own line,
holding every ``says`` substring: the field, the value, what is allowed) or accepted (exit 0).
No case may end in a traceback.

Cases marked ``sub: true`` (those that once hung or took gigabytes: alias bombs, extreme
values, FIFOs, oversized files) run ``python -m simulator.cli`` in a subprocess limited to 1 GiB
of address space (RLIMIT_AS) and ``CPU_SECONDS`` of CPU (RLIMIT_CPU: a hang ends there whatever
the machine's load), with a wall-clock backstop; the others run in-process through ``main()``
(the same code path, without the interpreter's start-up cost).

A case's files are written into its own folder: ``scenario:`` (deep-merged into ``BASE``, a
two-pod scenario of a minute), ``text:`` (verbatim), ``hex:`` (bytes), ``gen:`` (a generator
below). ``{name}`` in ``argv`` is the path of file ``name``; ``{dir}`` the case's folder.
"""

from __future__ import annotations

import contextlib
import copy
import io
import os
import resource
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from simulator.cli import main
from simulator.safe_load import parse_yaml

ROOT = Path(__file__).resolve().parent.parent
CASES_FILE = Path(__file__).resolve().parent / "bad_inputs" / "cases.yaml"
MEMORY_BYTES = 1 << 30
CPU_SECONDS = 30
WALL_SECONDS = 180

BASE: dict[str, Any] = {
    "name": "tiny",
    "images": {"pause": {"sizeMB": 0.3, "layers": 1, "prePulled": True},
               "nginx": {"sizeMB": 55, "layers": 6, "prePulled": True}},
    "workload": {"kind": "batch", "pods": 2,
                 "templates": [{"name": "web", "spec": {"containers": [{"name": "nginx", "image": "nginx"}]}}]},
    "simulation": {"horizonSeconds": 60, "steadyStateSeconds": 1},
    "runtimes": ["containerd"],
}

# the kinds' default command lines
ARGV = {
    "scenario": ["compare", "--json", "--preset", "{s.yaml}"],
    "file": ["compare", "--json", "--preset", "{s.yaml}"],
    "trace": ["compare", "--json", "--preset", "{s.yaml}"],
    "chain": ["compare", "--json", "--preset", "{s.yaml}", "--runtimes", "{c.yaml}"],
    "sweep": ["sweep", "--sweep-file", "{sw.yaml}", "--out", "{dir}/sweep-out"],
    "scrape": ["calibrate", "--metrics", "{m.prom}", "--out", "{dir}/cal.yaml"],
    "cli": [],
    "output": [],
}


def _merge(base: Any, extra: Any) -> Any:
    if isinstance(base, dict) and isinstance(extra, dict):
        out = dict(base)
        for k, v in extra.items():
            out[k] = _merge(base.get(k), v) if k in base else v
        return out
    return copy.deepcopy(extra)


def _bomb() -> str:
    """The 342-byte "billion laughs" of the issue: 9**6 lists of 'lol' behind six aliases."""
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for prev, name in zip("abcde", "bcdef"):
        lines.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    return "\n".join(lines) + "\n"


def _alias_depth() -> str:
    """Aliases that stack nesting: each anchor holds 60 levels plus the previous anchor."""
    lines = ["x0: &x0 " + "[" * 60 + "1" + "]" * 60]
    for i in range(1, 40):
        lines.append(f"x{i}: &x{i} " + "[" * 60 + f"*x{i - 1}" + "]" * 60)
    return "\n".join(lines) + "\n"


GENERATORS = {
    "alias_bomb": _bomb,
    "alias_depth": _alias_depth,
    "deep_list": lambda: "a: " + "[" * 5000 + "]" * 5000 + "\n",
    "deep_json": lambda: '{"a": ' + "[" * 100_000 + "]" * 100_000 + "}",
    "huge_int": lambda: yaml.safe_dump(BASE) + "extra: " + "9" * 5000 + "\n",
    "big_yaml": lambda: yaml.safe_dump(BASE) + ("# padding\n" * 120_000),
    "long_key": lambda: yaml.safe_dump(BASE) + "? " + "k" * 100_000 + "\n: 1\n",
    "bom_scenario": lambda: "\ufeff" + yaml.safe_dump(BASE),
    "long_name": lambda: yaml.safe_dump(_merge(BASE, {"name": "n" * 20_000}), width=10**9),
}


def _load_cases() -> list[dict[str, Any]]:
    doc = parse_yaml(CASES_FILE.read_text(encoding="utf-8"), str(CASES_FILE))  # no repeated keys
    cases = []
    for kind, items in doc.items():
        for case in items:
            case = dict(case, kind=kind, id=f"{kind}-{case['id']}")
            assert case["expect"] in ("refused", "accepted"), case["id"]
            cases.append(case)
    ids = [c["id"] for c in cases]
    assert len(ids) == len(set(ids)), "case ids must be unique"
    return cases


CASES = _load_cases()


def _write_files(case: dict[str, Any], d: Path) -> dict[str, str]:
    files = dict(case.get("files") or {})
    kind = case["kind"]
    if "scenario" in case or (kind in ("trace", "chain", "sweep") and "s.yaml" not in files):
        files.setdefault("s.yaml", {"scenario": case.get("scenario", {})})
    paths = {"dir": str(d), "long": "x" * 300}
    for name, spec in files.items():
        p = d / name
        p.parent.mkdir(parents=True, exist_ok=True)
        paths[name] = str(p)
        if spec is None:
            continue  # named only (a missing file)
        if "scenario" in spec:
            data = _merge(BASE, spec["scenario"])
            for key in spec.get("drop", []):
                data.pop(key, None)
            p.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
        elif "text" in spec:
            p.write_text(spec["text"], encoding="utf-8")
        elif "hex" in spec:
            p.write_bytes(bytes.fromhex(spec["hex"]))
        elif "gen" in spec:
            p.write_text(GENERATORS[spec["gen"]](), encoding="utf-8")
        elif "mkdir" in spec:
            p.mkdir()
        elif "fifo" in spec:
            os.mkfifo(p)
        elif "sparse" in spec:
            with open(p, "wb") as f:
                f.truncate(int(spec["sparse"]))
        else:
            raise AssertionError(f"{case['id']}: unknown file spec {spec}")
    return paths


def _argv(case: dict[str, Any], paths: dict[str, str]) -> list[str]:
    argv = case.get("argv", ARGV[case["kind"]]) + case.get("extra", [])
    out = []
    for a in argv:
        a = str(a)
        for name, path in sorted(paths.items(), key=lambda kv: -len(kv[0])):
            a = a.replace("{" + name + "}", path)
        out.append(a)
    return out


def _limits() -> None:  # in the child, before exec
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_BYTES, MEMORY_BYTES))
    resource.setrlimit(resource.RLIMIT_CPU, (CPU_SECONDS, CPU_SECONDS))


def _run_subprocess(argv: list[str], cwd: Path) -> tuple[int, str, str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT), MPLBACKEND="Agg", OPENBLAS_NUM_THREADS="1",
               OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    try:
        r = subprocess.run([sys.executable, "-m", "simulator.cli", *argv], cwd=cwd, env=env,
                           capture_output=True, text=True, preexec_fn=_limits, timeout=WALL_SECONDS)
    except subprocess.TimeoutExpired:
        pytest.fail(f"hung: no answer within {WALL_SECONDS} s")
    if r.returncode < 0:
        pytest.fail(f"killed by signal {-r.returncode} (CPU limit {CPU_SECONDS} s or memory limit "
                    f"{MEMORY_BYTES >> 20} MiB): {r.stderr[-2000:]}")
    return r.returncode, r.stdout, r.stderr


def _run_in_process(argv: list[str], cwd: Path) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    old = os.getcwd()
    os.chdir(cwd)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            rc = main(argv)
    finally:
        os.chdir(old)
    return rc, out.getvalue(), err.getvalue()


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_bad_input(case: dict[str, Any], tmp_path: Path) -> None:
    d = tmp_path / "case"
    d.mkdir()
    paths = _write_files(case, d)
    argv = _argv(case, paths)
    cwd = d / case["cwd"] if case.get("cwd") else d
    cwd.mkdir(parents=True, exist_ok=True)
    run = _run_subprocess if case.get("sub") else _run_in_process
    rc, out, err = run(argv, cwd)
    assert "Traceback" not in err, err
    if case["expect"] == "accepted":
        assert rc == 0, f"expected the input to be accepted and run; exit {rc}: {err}"
        return
    assert rc == 2, f"expected a refusal (exit 2); exit {rc}; stderr: {err!r}; stdout: {out[-500:]!r}"
    if case.get("says") is not None or err:
        lines = err.splitlines()  # one paragraph per problem, each on its own line (issue 12)
        assert err.endswith("\n") and lines and all(ln.startswith("kubesim: error: ") for ln in lines), \
            f"not one paragraph per problem: {err!r}"
        assert max(map(len, lines)) < 2000, f"message too long ({len(err)} characters)"
    for words in case.get("says", []):
        words = str(words)
        for name, path in paths.items():
            words = words.replace("{" + name + "}", path)
        assert words in err, f"the message should say {words!r}: {err!r}"


def test_the_suite_covers_every_input_kind() -> None:
    counts: dict[str, int] = {}
    for c in CASES:
        counts[c["kind"]] = counts.get(c["kind"], 0) + 1
    assert len(CASES) >= 150, counts
    assert set(counts) == set(ARGV), counts
    assert sum(c["expect"] == "accepted" for c in CASES) >= 15
    assert sum(bool(c.get("sub")) for c in CASES) >= 10
