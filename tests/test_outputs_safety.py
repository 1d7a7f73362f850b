"""Outputs: inside the folder the user names, all or nothing, only kubesim's own files deleted,
the user's umask, failure studies exported, chain files by path (issue 11)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd
import pytest

from simulator.cli import main
from simulator.config import ConfigError
from simulator.presentation import outputs
from simulator.presentation.outfolder import MANIFEST, inside, safe_name, staged
from tests.html_tables import parse_tables

SMALL = ["--set", "workload.pods=2", "--set", "simulation.horizonSeconds=60",
         "--set", "simulation.steadyStateSeconds=0"]
ALL_FAIL = SMALL + ["--set", "faults=[{kind: stepError, step: RunPodSandbox, probability: 1}]"]
NO_PODS = ["--set", "workload.kind=poisson", "--set", "workload.ratePerSecond=0.0001",
           "--set", "simulation.horizonSeconds=30"]


def _no_staging_left(folder: Path) -> bool:
    return not [p for p in folder.iterdir() if ".staging." in p.name]


# ----------------------------------------------------------------------------- chain files by path
@pytest.fixture()
def chain_copy(tmp_path) -> str:
    """A copy of containerd that keeps the built-in's name, in a sub-folder (a path with '/')."""
    d = tmp_path / "chains"
    d.mkdir()
    (d / "my-chain.yaml").write_text("base: containerd\nname: containerd\n")
    return str(d / "my-chain.yaml")


def test_regression_chain_file_by_path_behaves_like_the_builtin_in_compare_and_out(tmp_path, chain_copy, capsys):
    """Before the fix, ``compare --out`` with a chain file given by a path with a folder failed
    half-way (the label made a figure name with '/') and left a partial folder."""
    out = tmp_path / "out"
    assert main(["compare", "--runtimes", f"{chain_copy},containerd", "--json", "--out", str(out)] + SMALL) == 0
    doc = json.loads(capsys.readouterr().out)
    mine, builtin = doc["runtimes"][chain_copy], doc["runtimes"]["containerd"]
    assert mine["pods"] == builtin["pods"] == 2 and mine["running"] == 2
    # the same numbers; only the label differs (it is also in the what-binds sentence)
    mine_as_builtin = json.loads(json.dumps(mine).replace(json.dumps(chain_copy)[1:-1], "containerd"))
    assert {k: v for k, v in mine_as_builtin.items() if k != "chain"} == \
        {k: v for k, v in builtin.items() if k != "chain"}
    pods = pd.read_csv(out / "pods.csv")
    assert sorted(pods.runtime.unique()) == sorted([chain_copy, "containerd"])  # two labels, not one
    figs = {p.name for p in (out / "figures").iterdir()}
    assert f"sequence-{safe_name(chain_copy)}.png" in figs and "sequence-containerd.png" in figs
    assert all(inside(out, p.relative_to(out)) for p in out.rglob("*"))


def test_chain_file_by_path_in_report_trace_and_sweep(tmp_path, chain_copy, capsys):
    page = tmp_path / "r.html"
    assert main(["report", "--runtimes", f"{chain_copy},containerd", "--replications", "1",
                 "--out", str(page)] + SMALL) == 0
    text = page.read_text()
    comparison = parse_tables(text)[0]["comparison"]
    assert comparison.headers == ["metric", "unit", chain_copy, "containerd"]
    assert comparison.row("pods running")[2:] == ["2", "2"]
    assert comparison.row("pods failed")[2:] == comparison.row("pods pending at the horizon")[2:] == ["0", "0"]
    assert main(["trace", "--runtime", chain_copy, "--out", str(tmp_path / "t")] + SMALL) == 0
    names = {p.name for p in (tmp_path / "t").iterdir()}
    assert f"trace-{safe_name(chain_copy)}.json" in names
    assert any(n.startswith(f"sequence-{safe_name(chain_copy)}-pod-") for n in names)
    assert main(["sweep", "--runtimes", f"{chain_copy},containerd", "--grid", "workload.pods=1,2",
                 "--set", "simulation.horizonSeconds=60", "--out", str(tmp_path / "sw")]) == 0
    df = pd.read_parquet(tmp_path / "sw" / "results.parquet")
    assert list(df.runtime) == [chain_copy, "containerd"] * 2
    assert list(df.running) == [1, 1, 2, 2]
    capsys.readouterr()


# ----------------------------------------------------------------------------- folders and names
def test_regression_run_scenario_name_cannot_leave_out(tmp_path, monkeypatch, capsys):
    """Before the fix, ``name: ../../x`` made ``kubesim run`` write to ``out/../../x``."""
    work = tmp_path / "a" / "b"
    work.mkdir(parents=True)
    monkeypatch.chdir(work)
    assert main(["run", "default", "--set", "name=../../x"] + SMALL) == 0
    assert (work / "out" / "x" / "summary.json").is_file()
    assert not (tmp_path / "x").exists() and not (tmp_path / "a" / "x").exists()
    capsys.readouterr()


def test_inside_refuses_parent_and_absolute_paths(tmp_path):
    for bad in ("../x", "a/../../x", "/etc/passwd"):
        with pytest.raises(ConfigError, match="output folder"):
            inside(tmp_path, bad)
    assert safe_name("../../x") == "x" and safe_name("/tmp/my chain.yaml") == "tmp-my-chain.yaml"
    with pytest.raises(ConfigError):
        safe_name("../..")


def test_regression_out_naming_an_existing_file_is_a_clear_error(tmp_path, capsys):
    f = tmp_path / "file"
    f.write_text("keep me")
    assert main(["compare", "--out", str(f)] + SMALL) == 2
    err = capsys.readouterr().err
    assert "existing file" in err and "Traceback" not in err
    assert main(["report", "--out", str(tmp_path)] + SMALL) == 2
    err = capsys.readouterr().err
    assert "is a folder" in err and "Traceback" not in err
    assert f.read_text() == "keep me"


@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002])
def test_regression_outputs_follow_the_umask(tmp_path, umask, capsys):
    """Before the fix every file made by ``tempfile.mkstemp`` was 0600 whatever the umask."""
    old = os.umask(umask)
    try:
        path = outputs.atomic_write(tmp_path / "x.json", lambda p: p.write_text("{}"))
        with staged(tmp_path / "o") as st:
            outputs.atomic_write(st / "s" / "y.txt", lambda p: p.write_text("y"))
    finally:
        os.umask(old)
    for p in (path, tmp_path / "o" / "s" / "y.txt", tmp_path / "o" / MANIFEST):
        assert (p.stat().st_mode & 0o777) == (0o666 & ~umask)
    capsys.readouterr()


def test_an_error_leaves_no_half_written_folder(tmp_path, monkeypatch, capsys):
    def boom(*_a, **_k):
        raise RuntimeError("disk full")

    monkeypatch.setattr(outputs, "_figures", boom)
    out = tmp_path / "new"
    with pytest.raises(RuntimeError):
        main(["compare", "--out", str(out)] + SMALL)
    assert not out.exists() and _no_staging_left(tmp_path)
    existing = tmp_path / "old"
    existing.mkdir()
    (existing / "notes.txt").write_text("mine")
    with pytest.raises(RuntimeError):
        main(["compare", "--out", str(existing)] + SMALL)
    assert [p.name for p in existing.iterdir()] == ["notes.txt"]
    capsys.readouterr()


def test_manifest_deletes_only_files_kubesim_wrote(tmp_path):
    out = tmp_path / "o"
    with staged(out) as st:
        (st / "a.png").write_text("1")
        (st / "b.png").write_text("1")
    (out / "user.png").write_text("user")
    with staged(out) as st:
        (st / "a.png").write_text("2")
    assert sorted(p.name for p in out.iterdir()) == [MANIFEST, "a.png", "user.png"]
    doc = json.loads((out / MANIFEST).read_text())
    (out / MANIFEST).write_text(json.dumps({**doc, "files": ["../../escape", "/etc/hosts", "a.png"]}))
    (tmp_path / "escape").write_text("x")
    with staged(out):
        pass
    assert (tmp_path / "escape").exists() and not (out / "a.png").exists()


# ----------------------------------------------------------------------------- failure studies
def _strict_json(text: str) -> None:
    """Valid JSON only: ``NaN``/``Infinity`` (what ``json.dumps`` writes for a statistic of no
    pod) are refused, as strict JSON readers do."""
    def refuse(token):
        raise AssertionError(f"summary holds {token}")
    json.loads(text, parse_constant=refuse)


def test_regression_failure_studies_export(tmp_path, capsys):
    """Before the fix, ``compare --out``, ``run`` and ``trace`` failed when no pod reached
    Running (and left a partial folder)."""
    assert main(["compare", "--runtimes", "containerd", "--out", str(tmp_path / "c")] + ALL_FAIL) == 0
    assert (tmp_path / "c" / "figures" / "time-by-hop.png").is_file()
    assert (pd.read_csv(tmp_path / "c" / "pods.csv").outcome != "running").all()
    assert main(["run", "default", "--out", str(tmp_path / "r")] + ALL_FAIL) == 0
    assert (tmp_path / "r" / "summary.json").is_file()
    _strict_json((tmp_path / "r" / "summary.json").read_text())
    assert main(["trace", "--runtime", "containerd", "--out", str(tmp_path / "t")] + ALL_FAIL) == 0
    assert (tmp_path / "t" / "sequence-containerd-pod-00000.txt").is_file()
    assert "failed" in capsys.readouterr().out


def test_regression_runs_without_any_pod_export(tmp_path, capsys):
    assert main(["compare", "--runtimes", "containerd", "--out", str(tmp_path / "c")] + NO_PODS) == 0
    assert (tmp_path / "c" / "summary.json").is_file()
    _strict_json((tmp_path / "c" / "summary.json").read_text())
    capsys.readouterr()
    assert main(["compare", "--runtimes", "containerd", "--json"] + NO_PODS) == 0
    _strict_json(capsys.readouterr().out)
    assert main(["trace", "--runtime", "containerd", "--out", str(tmp_path / "t")] + NO_PODS) == 0
    assert (tmp_path / "t" / "trace-containerd.json").is_file()
    capsys.readouterr()


# ----------------------------------------------------------------------------- duplicate runtimes
def test_regression_duplicate_runtimes_are_refused(default_scenario, capsys):
    """Before the fix, ``--runtimes containerd,containerd`` ran the chain twice under one label
    and doubled every pod count."""
    from simulator.experiments.runner import compare

    assert main(["compare", "--runtimes", "containerd,crio,containerd"] + SMALL) == 2
    err = capsys.readouterr().err
    assert "'containerd' is listed more than once" in err and "Traceback" not in err
    with pytest.raises(ConfigError, match="listed twice"):
        compare(default_scenario, runtimes=["crio", "crio"])


def test_regression_summary_json_is_strict_json_whatever_the_statistics(tmp_path, capsys, monkeypatch):
    """A statistic that comes out infinite or undefined is written as null, never as the
    ``Infinity``/``NaN`` that Python's json module writes by default (not JSON)."""
    from simulator.experiments.runner import Comparison

    real = Comparison.summary

    def with_non_finite(self):
        doc = real(self)
        doc["probe"] = {"inf": float("inf"), "nan": float("nan"), "ok": 1.5}
        return doc

    monkeypatch.setattr(Comparison, "summary", with_non_finite)
    assert main(["compare", "--runtimes", "containerd", "--out", str(tmp_path / "c")] + NO_PODS) == 0
    doc = json.loads((tmp_path / "c" / "summary.json").read_text(), parse_constant=lambda t: 1 / 0)
    assert doc["probe"] == {"inf": None, "nan": None, "ok": 1.5}
    capsys.readouterr()
    assert main(["compare", "--runtimes", "containerd", "--json"] + NO_PODS) == 0
    doc = json.loads(capsys.readouterr().out, parse_constant=lambda t: 1 / 0)
    assert doc["probe"]["inf"] is None
