"""Faults are checked against the chains that run, not the scenario's own ``runtimes`` (issue 11)."""

from __future__ import annotations

import pytest

from simulator.config import ConfigError, load_scenario
from simulator.experiments.runner import compare
from simulator.experiments.sweep import expand, run_sweep, sweep_spec
from simulator.model.simulation import simulate

CRIO_ONLY = 'faults=[{kind: slowStep, step: "pinns (ipc, net, uts)", extraSeconds: 1}]'
TINY = {"simulation.horizonSeconds": 30}


def test_regression_sweep_accepts_a_fault_of_the_runtime_it_runs(tmp_path):
    """Before the fix, ``sweep --runtimes crio`` refused a crio-only step: the base scenario
    (preset runtimes dockershim, containerd) was checked instead of the chains run."""
    faults = [{"kind": "slowStep", "step": "pinns (ipc, net, uts)", "extraSeconds": 1}]
    spec = sweep_spec({"grid": {"workload.pods": [1]}, "runtimes": ["crio"],
                       "overrides": {**TINY, "faults": faults}})
    df = run_sweep(spec, tmp_path / "sw", progress=False)
    assert list(df.runtime) == ["crio"] and df.running.iloc[0] == 1
    with pytest.raises(ConfigError, match="pinns"):  # ... and refuses it where it cannot fire
        expand(sweep_spec({"grid": {"workload.pods": [1]}, "runtimes": ["containerd"],
                           "overrides": {**TINY, "faults": faults}}))


def test_regression_python_api_refuses_a_fault_the_chain_cannot_fire():
    """Before the fix, ``simulate(scenario, 'containerd')`` with a crio-only step silently ran
    without the fault."""
    scenario = load_scenario("default", ["runtimes=[crio]", CRIO_ONLY, "workload.pods=1"])
    with pytest.raises(ConfigError, match=r"faults\[0\]\.step 'pinns.*containerd"):
        simulate(scenario, "containerd", 1)
    with pytest.raises(ConfigError, match="pinns"):
        compare(scenario, runtimes=["containerd"])
    r = simulate(scenario, "crio", 1)
    assert (r.pods.outcome == "running").all()
