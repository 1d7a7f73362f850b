"""Sweeps survive anything (issue 11): one sweep per folder, no orphan workers after kill -9,
every run exactly once after resuming, run keys that follow the content of input files, a
one-line message on Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from simulator.cli import main
from simulator.config import ConfigError
from simulator.experiments.sweep import expand, run_sweep, sweep_spec
from simulator.experiments.sweep_lock import folder_lock

ROOT = Path(__file__).resolve().parents[1]
SLOW_GRID = ["--grid", "workload.pods=30,32,34,36,38,40", "--runtimes", "containerd"]


def _cli(args: list[str], cwd: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MPLBACKEND": "Agg"}
    return subprocess.Popen([sys.executable, "-m", "simulator.cli", *args], cwd=cwd, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _children(pid: int) -> list[int]:
    out = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                fields = (d / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                out.append(int(d.name))
    return out


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _wait_for(cond, seconds: float) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.05)
    return cond()


def test_regression_a_second_sweep_into_a_locked_folder_is_refused(tmp_path, capsys):
    """Before the fix two sweeps into one folder both 'succeeded' with mixed results."""
    out = tmp_path / "sw"
    with folder_lock(out):
        with pytest.raises(ConfigError, match="in use by another kubesim sweep"):
            run_sweep(sweep_spec({"grid": {"workload.pods": [1]}}), out, progress=False)
        assert main(["sweep", "--grid", "workload.pods=1", "--out", str(out)]) == 2
        assert "in use by another kubesim sweep" in capsys.readouterr().err
    assert not (out / "runs").exists() or not any((out / "runs").iterdir())


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_regression_sigkill_leaves_no_orphans_and_resuming_runs_each_run_once(tmp_path):
    """Before the fix, SIGKILL of the driver left its worker processes running forever."""
    args = ["sweep", *SLOW_GRID, "--workers", "2", "--out", str(tmp_path / "sw")]
    runs = tmp_path / "sw" / "runs"
    proc = _cli(args, tmp_path)
    try:
        assert _wait_for(lambda: runs.is_dir() and any(runs.glob("*.json")), 120), proc.communicate()
        workers = _children(proc.pid)
        assert len(workers) >= 2
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert _wait_for(lambda: not any(_alive(w) for w in workers), 10), "orphaned sweep workers"
    done = {p.name: p.read_text() for p in runs.glob("*.json")}
    assert 1 <= len(done) < 6
    resumed = _cli(args, tmp_path)
    _out, err = resumed.communicate(timeout=300)
    assert resumed.returncode == 0, err
    records = {p.name: p.read_text() for p in runs.glob("*.json")}
    assert len(records) == 6
    assert all(records[name] == text for name, text in done.items())  # finished runs not redone
    import pandas as pd
    df = pd.read_parquet(tmp_path / "sw" / "results.parquet")
    assert len(df) == 6 and df.key.is_unique and sorted(f"{k}.json" for k in df.key) == sorted(records)


def test_regression_ctrl_c_prints_one_line_and_exits_130(tmp_path):
    runs = tmp_path / "sw" / "runs"
    proc = _cli(["sweep", *SLOW_GRID, "--workers", "2", "--out", str(tmp_path / "sw")], tmp_path)
    try:
        assert _wait_for(lambda: runs.is_dir() and any(runs.glob("*.json")), 120)
        workers = _children(proc.pid)
        proc.send_signal(signal.SIGINT)
        _out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130
    assert "Traceback" not in err and "kubesim: interrupted" in err
    assert _wait_for(lambda: not any(_alive(w) for w in workers), 10)


def test_regression_run_keys_follow_the_content_of_trace_and_chain_files(tmp_path):
    """Before the fix, editing a trace CSV (or a chain file) and resuming reused stale results:
    the key hashed the path, not the content."""
    trace = tmp_path / "t.csv"
    chain = tmp_path / "c.yaml"
    trace.write_text("time,template\n0,web\n1,web\n")
    chain.write_text("base: containerd\nname: mine\n")
    spec = sweep_spec({"grid": {"simulation.horizonSeconds": [60]}, "runtimes": [str(chain)],
                       "overrides": {"workload.kind": "trace", "workload.traceFile": str(trace)}})
    out = tmp_path / "sw"
    first = run_sweep(spec, out, progress=False)
    assert first.running.iloc[0] == 2
    trace.write_text("time,template\n0,web\n1,web\n2,web\n")
    second = run_sweep(spec, out, progress=False)
    assert second.key.iloc[0] != first.key.iloc[0] and second.running.iloc[0] == 3
    key = expand(spec)[0].key
    chain.write_text("base: containerd\nname: mine\nstepOverrides: {\"generatePodSandboxConfig + mkdir log dir\": {cpuShare: 0.5}}\n")
    assert expand(spec)[0].key != key
    assert json.loads((out / "sweep.json").read_text())["spec"]["runtimes"] == [str(chain)]
