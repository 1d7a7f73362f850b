"""``kubesim sensitivity``: the registry of ASSUMPTION defaults, varying them, the Morris
screening (a planted strong parameter ranks first; serial = parallel), the tornado figure and
the command line's errors. Screenings here are tiny: a few pods, two trajectories."""

from __future__ import annotations

import json

import matplotlib
import numpy as np
import pandas as pd
import pytest

from simulator.chains import iter_steps, load_chain
from simulator.cli import main
from simulator.config import KubeletCosts, load_scenario
from simulator.experiments.runner import compare
from simulator.experiments.sensitivity import (
    morris,
    parameters,
    parse_range,
    scenario_parameters,
    vary,
)
from simulator.presentation.figures.tornado import tornado, wrap_label

matplotlib.use("Agg")

# a few pods, one of them behind a 3 s watch delivery: the planted strong parameter
TINY = ["workload.pods=4", "apiserver.watchDelay={dist: constant, ms: 3000}"]


def _by_name(params):
    return {p.name: p for p in params}


def test_registry_finds_kubelet_costs_scenario_assumptions_and_chain_steps():
    scenario = load_scenario("default")
    chain = load_chain("containerd")
    params, skipped = parameters(scenario, chain)
    names = _by_name(params)
    assert {f"kubeletCosts.{f}" for f in KubeletCosts.model_fields} <= set(names)
    for name in ("node.registryRttMs", "node.unpackCpuMsPerMB", "cni.cpuShare", "apiserver.cpuCores",
                 "apiserver.dispatchPerWatcherMs",
                 "workload.templates[*].spec.containers[*].terminationSeconds"):
        assert names[name].kind == "value", name
    for name in ("cni.loopbackAdd", "cni.delete", "apiserver.requestLatency", "apiserver.watchDelay",
                 "scheduler.cycle"):
        assert names[name].kind == "dist", name
    # cited defaults are not assumptions
    assert "node.cpuCores" not in names and "cni.add" not in names
    assert names["cni.cpuShare"].upper == 1.0
    # one parameter per name of the chain's ASSUMPTION steps, but for those of operations the
    # scenario never calls (ReopenContainerLog: no container writes logs; tests/test_logs.py)
    expected = {s.name for name, op in chain.operations.items() if name != "reopen_container_log"
                for s in iter_steps(op.steps) if "ASSUMPTION" in s.source}
    steps = [p for p in params if p.kind == "step"]
    assert {p.path[0] for p in steps} == expected and len(steps) == len(expected)
    assert "containerd: ListContainers" in names
    assert not skipped


def test_defaults_of_zero_and_unused_fields_are_skipped_and_lists_are_walked():
    params, skipped = scenario_parameters(load_scenario("default", ["kubeletCosts.syncMs=0"]))
    assert "kubeletCosts.syncMs" not in _by_name(params)
    assert [s.reason for s in skipped if s.name == "kubeletCosts.syncMs"] == ["default 0: a factor changes nothing"]
    # a fault's ASSUMPTION default is a parameter when the scenario has that fault
    names = _by_name(scenario_parameters(load_scenario("dockerd-restart"))[0])
    assert names["faults[*].downSeconds"].default == "10"
    assert "faults[*].downSeconds" not in _by_name(params)


def test_varying_changes_the_scenario_and_the_chain():
    scenario = load_scenario("default")
    chain = load_chain("containerd")
    params, _ = parameters(scenario, chain)
    names = [p.name for p in params]
    factors = np.ones(len(params))
    for name, f in (("kubeletCosts.syncMs", 2.0), ("apiserver.requestLatency", 0.5), ("cni.cpuShare", 3.0),
                    ("containerd: ListContainers", 2.0),
                    ("workload.templates[*].spec.containers[*].terminationSeconds", 4.0)):
        factors[names.index(name)] = f
    sc, ch = vary(scenario.model_dump(mode="json"), chain.model_dump(mode="json"), params, factors)
    assert sc.kubeletCosts.syncMs == pytest.approx(1.0)
    assert (sc.apiserver.requestLatency.medianMs, sc.apiserver.requestLatency.p90Ms) == (2.0, 6.0)
    assert sc.cni.cpuShare == 1.0  # clipped at the field's bound
    assert all(c.terminationSeconds == 2.0 for t in sc.workload.templates for c in t.spec.containers)
    assert sc.kubeletCosts.admitMs == scenario.kubeletCosts.admitMs  # factor 1: unchanged
    step = ch.operations["list_containers"].steps[0]
    base = chain.operations["list_containers"].steps[0]
    assert step.name == "ListContainers"
    assert step.service.medianMs == 2 * base.service.medianMs and step.perItem.ms == 2 * base.perItem.ms
    assert ch.operations["create_container"] == chain.operations["create_container"]
    # all factors 1: the same scenario and chain
    same_sc, same_ch = vary(scenario.model_dump(mode="json"), chain.model_dump(mode="json"), params,
                            np.ones(len(params)))
    assert same_sc == scenario and same_ch == chain


def test_a_planted_strong_parameter_ranks_first():
    scenario = load_scenario("default", TINY)
    res = morris(scenario, ["containerd"], trajectories=2, seed=3)  # every parameter
    mine = res.table.sort_values("rank")
    assert set(mine.runtime) == {"containerd"}
    assert mine.parameter.iloc[0] == "apiserver.watchDelay", mine.head()
    # a 3 s delivery swung x0.5 -> x2 moves p50 by seconds; nothing else comes close
    assert mine.mu_star.iloc[0] > 1.0 > mine.mu_star.iloc[1]
    assert list(mine["rank"]) == list(range(1, len(mine) + 1))
    assert res.runs == 2 * (len(parameters(scenario, load_chain("containerd"))[0]) + 1) + 1
    # the output at the defaults is the ordinary comparison's
    doc = compare(scenario, ["containerd"], seed=3).summary()["runtimes"]["containerd"]
    assert res.baseline["containerd"] == pytest.approx(doc["pod_startup_seconds"]["p50"])
    d = res.to_dict()
    assert d["range"] == [0.5, 2.0] and "log-uniform" in d["distribution"] and d["steady_state_skipped"]


def test_serial_and_parallel_give_identical_results():
    scenario = load_scenario("default", TINY)
    kw = dict(runtimes=["dockershim", "containerd"], trajectories=2, seed=3, only=["apiserver", "scheduler"])
    serial, parallel = morris(scenario, **kw), morris(scenario, workers=2, **kw)
    assert set(serial.table.parameter) == {"apiserver.requestLatency", "apiserver.requestCpuMs",
                                           "apiserver.cpuCores", "apiserver.watchDelay",
                                           "apiserver.dispatchPerWatcherMs", "scheduler.cycle"}
    pd.testing.assert_frame_equal(serial.table, parallel.table)
    assert serial.baseline == parallel.baseline


def test_tornado_is_16_9_with_the_takeaway_in_the_title():
    rows = [{"runtime": rt, "parameter": p, "mu_star": m * (1.0 if rt == "dockershim" else 0.5),
             "mu_star_conf": 0.01}
            for rt in ("dockershim", "containerd")
            for p, m in (("apiserver.watchDelay", 1.2), ("containerd: metadata write (bbolt txn)", 0.1),
                         ("workload.templates[*].spec.containers[*].terminationSeconds", 0.0))]
    fig = tornado(pd.DataFrame(rows), "pod_startup_seconds.p50", "s")
    w, h = fig.get_size_inches() * fig.dpi
    assert (round(w), round(h)) == (1920, 1080)
    assert fig._suptitle.get_text() == "One guess drives p50 pod startup: watchDelay"
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()][0] == "apiserver.watchDelay"
    label = wrap_label("workload.templates[*].spec.containers[*].terminationSeconds", 300, 15)
    assert 1 <= label.count("\n") + 1 <= 2


def test_cli_writes_table_json_and_figure(tmp_path, capsys):
    out = tmp_path / "sens"
    code = main(["sensitivity", "--set", "workload.pods=3", "--runtimes", "containerd",
                 "--only", "apiserver,containerd:", "--trajectories", "2", "--top", "5", "--out", str(out)])
    assert code == 0
    text = capsys.readouterr().out
    assert "containerd (chain containerd" in text and "mu* (s)" in text
    table = pd.read_csv(out / "sensitivity.csv")
    assert set(table.columns) >= {"runtime", "rank", "parameter", "where", "default", "range",
                                  "mu_star", "sigma"}
    doc = json.loads((out / "sensitivity.json").read_text())
    assert doc["output"] == "pod_startup_seconds.p50" and doc["trajectories"] == 2
    assert (out / "sensitivity-tornado.png").exists() and (out / "sensitivity-tornado.svg").exists()


@pytest.mark.parametrize("argv, message", [
    (["--output", "pod_startup_seconds.p42"], "allowed: pod_startup_seconds.p50"),
    (["--range", "2,0.5"], "0 < LOW < HIGH"),
    (["--range", "half,2"], "expected two factors"),
    (["--preset", "no-such-preset"], "no-such-preset"),
    (["--trajectories", "0"], "--trajectories"),
    (["--levels", "3"], "even number of levels"),
    (["--only", "noSuchSection"], "starts with noSuchSection"),
])
def test_cli_refuses_bad_input_with_one_paragraph(argv, message, tmp_path, capsys):
    assert main(["sensitivity", "--out", str(tmp_path / "x"), *argv]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
    assert not (tmp_path / "x").exists()


def test_parse_range():
    assert parse_range("0.5,2") == (0.5, 2.0)
    assert parse_range(" 0.25 , 4 ") == (0.25, 4.0)
