"""Sweeps (``kubesim sweep``): every executor gives the serial results exactly, a sweep killed
with SIGKILL resumes without losing or repeating a run, and bad specs are refused before any run
with one paragraph naming the field and the value."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml

from simulator.config import ConfigError
from simulator.experiments import sweep
from simulator.experiments.sweep import (
    expand,
    load_sweep_file,
    parse_grid,
    run_sweep,
    split_values,
    sweep_spec,
)
from simulator.presets import preset_data

ROOT = Path(__file__).resolve().parent.parent
TINY = {"workload.pods": 4, "simulation.steadyStateSeconds": 0}
# 2 x 2 grid x 2 runtimes x 2 replications = 16 runs of 4 pods each.
SPEC = sweep_spec({"grid": {"node.cpuCores": [1, 4], "kubelet.kubeAPIQPS": [5, 50]},
                   "runtimes": ["dockershim", "containerd"], "replications": 2, "seed": 3,
                   "overrides": TINY})


def _comparable(df: pd.DataFrame) -> pd.DataFrame:
    return df.drop(columns=["wall_seconds"]).sort_values("key").reset_index(drop=True)


@pytest.fixture(scope="module")
def serial_out(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("serial")
    run_sweep(SPEC, out, progress=False)
    return out


@pytest.fixture(scope="module")
def serial(serial_out) -> pd.DataFrame:
    return pd.read_parquet(serial_out / "results.parquet")


@pytest.fixture
def kubesim_main():
    """``kubesim``'s main() (the sweep sub-command is simulator/cli/sweep.py)."""
    from simulator.cli import main

    return main


# ----------------------------------------------------------------------------- results
def test_table_has_one_row_per_run_in_grid_order_and_is_written(serial, serial_out):
    runs = expand(SPEC)
    assert len(runs) == len(serial) == 16
    assert list(serial.key) == [r.key for r in runs] and serial.key.is_unique
    assert list(serial.columns[:5]) == ["node.cpuCores", "kubelet.kubeAPIQPS", "runtime", "replication", "seed"]
    first = serial.iloc[:4]  # first grid point, then runtime, then replication
    assert list(zip(first.runtime, first.replication)) == [("dockershim", 0), ("dockershim", 1),
                                                           ("containerd", 0), ("containerd", 1)]
    assert list(serial["node.cpuCores"]) == [1] * 8 + [4] * 8
    assert {"pod_startup_seconds.p50", "pod_startup_seconds.p99", "per_operation_mean_seconds.run_podsandbox",
            "cpu_cores.kubelet", "memory_mb.runtime", "chain.title"} <= set(serial.columns)
    assert (serial.running + serial.failed + serial.pending == serial.pods).all()
    assert (serial.seed == 3).all()

    assert list(pd.read_csv(serial_out / "results.csv").key) == list(serial.key)
    assert sorted(p.stem for p in (serial_out / "runs").glob("*.json")) == sorted(serial.key)
    assert json.loads((serial_out / "sweep.json").read_text())["spec"]["grid"] == SPEC.grid
    # The returned table is the stored one (resuming a finished sweep only reads it back).
    pd.testing.assert_frame_equal(run_sweep(SPEC, serial_out, progress=False), serial)


def test_keys_are_stable_and_depend_on_scenario_runtime_seed_replication():
    keys = [r.key for r in expand(SPEC)]
    assert keys == [r.key for r in expand(SPEC)] and len(set(keys)) == len(keys)
    other_seed = sweep_spec({**SPEC.model_dump(), "seed": 4})
    assert not set(keys) & {r.key for r in expand(other_seed)}
    # A grid point's runs do not depend on which other runtimes or values the sweep has.
    narrow = sweep_spec({**SPEC.model_dump(), "runtimes": ["containerd"],
                         "grid": {"node.cpuCores": [4], "kubelet.kubeAPIQPS": [50]}})
    assert {r.key for r in expand(narrow)} <= set(keys)


def test_process_workers_give_the_serial_results(serial, tmp_path):
    parallel = run_sweep(SPEC, tmp_path, workers=2, progress=False)
    assert list(parallel.key) == list(serial.key)
    pd.testing.assert_frame_equal(_comparable(parallel), _comparable(serial))


def test_local_dask_cluster_gives_the_serial_results(serial, tmp_path):
    pytest.importorskip("dask.distributed")
    on_dask = run_sweep(SPEC, tmp_path, workers=2, local_dask=True, progress=False)
    pd.testing.assert_frame_equal(_comparable(on_dask), _comparable(serial))


def _worker_view(_):
    import dask

    from simulator.experiments import executors

    return (dask.config.get("distributed.worker.profile.enabled"),
            getattr(executors, "_set_in_the_driver", False))


def test_local_dask_workers_run_without_profiler_and_on_linux_are_forked(monkeypatch):
    pytest.importorskip("dask.distributed")
    from dask.distributed import Client

    from simulator.experiments import executors
    from simulator.experiments.executors import local_cluster

    # a forked worker inherits this module state; a spawned one imports the module afresh
    monkeypatch.setattr(executors, "_set_in_the_driver", True, raising=False)
    cluster = local_cluster(1)
    client = Client(cluster)
    try:
        profiling, inherited = client.submit(_worker_view, 0, pure=False).result()
    finally:
        client.close()
        cluster.close()
    assert profiling is False
    assert inherited is sys.platform.startswith("linux")


def test_a_finished_sweep_is_not_run_again(serial, tmp_path, monkeypatch):
    small = sweep_spec({"grid": {"node.cpuCores": [1, 4]}, "runtimes": ["containerd"], "overrides": TINY})
    first = run_sweep(small, tmp_path, progress=False)

    def fail(*args):
        raise AssertionError("a finished run was simulated again")

    monkeypatch.setattr(sweep, "simulate", fail)
    pd.testing.assert_frame_equal(run_sweep(small, tmp_path, progress=False), first)


_KILLED_CHILD = """
import sys, time
from simulator.experiments import sweep
real = sweep.simulate
def slow(*args):
    time.sleep(0.25)
    return real(*args)
sweep.simulate = slow
sweep.run_sweep(sweep.SweepSpec.model_validate_json(sys.argv[1]), sys.argv[2], progress=False)
"""


def test_sweep_killed_with_sigkill_resumes_without_losing_or_repeating_runs(serial, tmp_path, monkeypatch):
    out = tmp_path / "sweep"
    runs_dir = out / "runs"
    child = subprocess.Popen([sys.executable, "-c", _KILLED_CHILD, SPEC.model_dump_json(), str(out)],
                             cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while len(list(runs_dir.glob("*.json"))) < 3:
        assert child.poll() is None, f"the sweep ended before it was killed: {child.stderr.read().decode()}"
        assert time.monotonic() < deadline, "the sweep wrote no results in 60 s"
        time.sleep(0.02)
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    child.stderr.close()
    assert child.returncode == -signal.SIGKILL

    keys = [r.key for r in expand(SPEC)]
    done = {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in runs_dir.glob("*.json")}
    assert 3 <= len(done) < len(keys)

    real = sweep.simulate
    calls = []
    monkeypatch.setattr(sweep, "simulate", lambda *args: calls.append(args) or real(*args))
    resumed = run_sweep(SPEC, out, progress=False)

    assert len(calls) == len(keys) - len(done)  # only the missing runs were simulated
    files = sorted(runs_dir.glob("*.json"))
    assert sorted(p.stem for p in files) == sorted(keys)  # every run, exactly one file each
    assert all(json.loads(p.read_text())["key"] == p.stem for p in files)
    assert {n: (p.stat().st_ino, p.stat().st_mtime_ns) for n, p in
            ((p.name, p) for p in files) if n in done} == done  # finished files untouched
    assert list(pd.read_parquet(out / "results.parquet").key) == keys
    pd.testing.assert_frame_equal(_comparable(resumed), _comparable(serial))


# ----------------------------------------------------------------------------- bad input
GOOD_GRID = {"node.cpuCores": [1, 2]}


@pytest.mark.parametrize("fields, named", [
    ({"grid": {"kubelet.kubeAPIQSP": [5, 10]}}, ["kubelet.kubeAPIQSP", "unknown key"]),
    ({"grid": {"node.cpuCores": [2, -1]}}, ["node.cpuCores", "-1", "greater than 0"]),
    ({"grid": GOOD_GRID, "runtimes": ["dockershim", "rkt"]}, ["runtimes", "rkt", "allowed: containerd"]),
    ({"grid": {"node.cpuCores": []}}, ["node.cpuCores", "empty list"]),
    ({"grid": {}}, ["grid", "empty"]),
    ({"grid": {"node.cpuCores": [1, 1]}}, ["node.cpuCores", "twice"]),
    ({"grid": GOOD_GRID, "replications": 0}, ["replications", "= 0", "greater than or equal to 1"]),
    ({"grid": GOOD_GRID, "seed": -1}, ["seed", "-1"]),
    ({"grid": GOOD_GRID, "overrides": {"node.cpuCores": 4}}, ["node.cpuCores", "both in the grid and in overrides"]),
    ({"grid": GOOD_GRID, "overrides": {"node.cpuCorez": 4}}, ["base scenario", "node.cpuCorez"]),
    ({"grid": {"kubelet.runtimeRequestTimeout": ["2m", 120]}}, ["kubelet.runtimeRequestTimeout", "same scenario"]),
    ({"grid": GOOD_GRID, "replication": 2}, ["replication", "unknown key"]),
])
def test_bad_sweeps_are_refused_before_anything_runs(fields, named, tmp_path):
    out = tmp_path / "out"
    with pytest.raises(ConfigError) as err:
        run_sweep(sweep_spec(fields), out, progress=False)
    message = str(err.value)
    assert "\n" not in message
    for part in named:
        assert part in message
    assert not out.exists()


def test_values_refused_only_together_name_the_grid_point(tmp_path):
    scenario = preset_data("default")
    scenario["kubelet"] = {"serializeImagePulls": False}
    scenario["kubernetesVersion"] = "1.27"  # maxParallelImagePulls exists from 1.27, without dockershim
    scenario["runtimes"] = ["containerd"]
    parallel_pulls = tmp_path / "parallel-pulls.yaml"
    parallel_pulls.write_text(yaml.safe_dump(scenario))
    grid = {"kubelet.serializeImagePulls": [False, True], "kubelet.maxParallelImagePulls": [None, 2]}
    # Each value is valid on its own; serializeImagePulls true with 2 parallel pulls is not.
    with pytest.raises(ConfigError, match="grid point .*true.* 2.* not together"):
        expand(sweep_spec({"preset": str(parallel_pulls), "grid": grid}))
    # From the default preset (serial pulls, 1.23), the value 2 is refused on its own.
    with pytest.raises(ConfigError, match="grid key 'kubelet.maxParallelImagePulls' = 2 is refused"):
        expand(sweep_spec({"grid": grid}))


def test_resuming_into_a_folder_of_another_sweep_is_refused(tmp_path):
    small = sweep_spec({"grid": {"node.cpuCores": [4]}, "runtimes": ["containerd"], "overrides": TINY})
    run_sweep(small, tmp_path, progress=False)
    with pytest.raises(ConfigError, match="different sweep.*replications.*another --out"):
        run_sweep(sweep_spec({**small.model_dump(), "replications": 2}), tmp_path, progress=False)


def test_sweep_file(tmp_path):
    good = tmp_path / "good.yaml"
    good.write_text("grid:\n  node.cpuCores: [1, 4]\n  kubelet.kubeAPIQPS: [5, 50]\n"
                    "runtimes: [dockershim, containerd]\nreplications: 2\nseed: 3\n"
                    "overrides: {workload.pods: 4, simulation.steadyStateSeconds: 0}\n")
    assert load_sweep_file(good) == SPEC
    typo = tmp_path / "typo.yaml"
    typo.write_text("grid: {node.cpuCores: [1]}\nreplication: 2\n")
    with pytest.raises(ConfigError, match="typo.yaml.*'replication'.*unknown key"):
        load_sweep_file(typo)
    twice = tmp_path / "twice.yaml"
    twice.write_text("grid: {node.cpuCores: [1]}\nseed: 1\nseed: 2\n")
    with pytest.raises(ConfigError, match='"seed" appears twice'):
        load_sweep_file(twice)


def test_grid_strings_split_on_top_level_commas_only():
    assert split_values("1,2,4") == ["1", "2", "4"]
    assert split_values("{sizeMB: 1, layers: 2},{sizeMB: 5}") == ["{sizeMB: 1, layers: 2}", "{sizeMB: 5}"]
    assert split_values("'a,b',\"c,\\\"d\",[1, 2]") == ["'a,b'", '"c,\\"d"', "[1, 2]"]
    assert parse_grid(["images.app={sizeMB: 1, layers: 2}", "node.cpuCores=1,2.5",
                       "kubelet.maxParallelImagePulls=null,3"]) == {
        "images.app": [{"sizeMB": 1, "layers": 2}], "node.cpuCores": [1, 2.5],
        "kubelet.maxParallelImagePulls": [None, 3]}
    for bad, match in [(["node.cpuCores"], "must look like"), (["node.cpuCores=1,,2"], "empty value"),
                       (["a=1", "a=2"], "given twice"), (["images.app={sizeMB: 1"], "unclosed")]:
        with pytest.raises(ConfigError, match=match):
            parse_grid(bad)


# ----------------------------------------------------------------------------- command line
def test_cli_sweep_prints_a_summary_and_refuses_bad_input(kubesim_main, tmp_path, capsys):
    out = tmp_path / "cli"
    argv = ["sweep", "--grid", "node.cpuCores=1,4", "--runtimes", "containerd", "--set", "workload.pods=4",
            "--set", "simulation.steadyStateSeconds=0", "--replications", "2", "--out", str(out)]
    assert kubesim_main(argv) == 0
    printed = capsys.readouterr().out
    lines = printed.splitlines()
    assert lines[0] == "kubesim sweep: 4 runs (seed 1, mean of 2 replications)"
    assert "node.cpuCores" in lines[2] and "startup p50 (s)" in lines[2] and "startup p99 (s)" in lines[2]
    assert [ln.split()[:5] for ln in lines[4:6]] == [["1", "containerd", "4", "0", "0"],
                                                     ["4", "containerd", "4", "0", "0"]]
    assert len(pd.read_parquet(out / "results.parquet")) == 4

    sweep_file = tmp_path / "sweep.yaml"
    sweep_file.write_text("grid: {node.cpuCores: [2, 8]}\nruntimes: [containerd]\nreplications: 2\n"
                          "overrides: {workload.pods: 4, simulation.steadyStateSeconds: 0}\n")
    # --grid replaces the file's values for that key: the same sweep as above, so it resumes.
    assert kubesim_main(["sweep", "--sweep-file", str(sweep_file), "--grid", "node.cpuCores=1,4",
                         "--out", str(out)]) == 0
    capsys.readouterr()

    for bad, named in [(argv[:-1] + [str(tmp_path / "new"), "--grid", "kubelet.kubeAPIQSP=5"], "kubelet.kubeAPIQSP"),
                       (argv[:-2] + ["--replications", "3"] + argv[-2:], "different sweep"),
                       (argv + ["--workers", "0"], "--workers = 0"),
                       (argv[:-2], "--out")]:
        assert kubesim_main(bad) == 2
        err = capsys.readouterr().err
        assert named in err and err.count("\n") == 1
    assert not (tmp_path / "new").exists()
