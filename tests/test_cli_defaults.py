"""The commands share one default replication count and seed, so ``compare`` and ``report`` print
the same statistics for the same scenario; ``figures --set`` changes the preset the figures run
(issue 12)."""

import argparse
import json

import pytest

from simulator.cli import build_parser, main
from simulator.experiments.defaults import DEFAULT_REPLICATIONS
from simulator.experiments.sweep_spec import SweepSpec

SMALL = ["--pods", "6", "--runtimes", "containerd,crio", "--set", "simulation.steadyStateSeconds=1"]


def _sub(name: str) -> argparse.ArgumentParser:
    parser = build_parser()
    return next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices[name]


@pytest.mark.parametrize("command", ["compare", "run", "report", "figures", "failures"])
def test_one_default_replication_count_and_seed(command):
    defaults = {a.dest: a.default for a in _sub(command)._actions}
    assert defaults["replications"] == DEFAULT_REPLICATIONS
    assert defaults["seed"] == 1
    assert SweepSpec.model_fields["replications"].default == DEFAULT_REPLICATIONS


def test_compare_and_report_print_the_same_p99(tmp_path, capsys):
    assert main(["compare", "--json", *SMALL]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["replications"] == DEFAULT_REPLICATIONS
    page = tmp_path / "r.html"
    assert main(["report", "--out", str(page), *SMALL]) == 0
    capsys.readouterr()
    from tests.html_tables import parse_tables

    comparison = parse_tables(page.read_text())[0]["comparison"]
    shown = comparison.row("pod start-up p99 (SLO definition: pulls excluded)")[2:]
    assert shown == [f"{d['pod_startup_seconds']['p99']:.2f}" for d in doc["runtimes"].values()]
    assert f"seed {doc['seed']} · {DEFAULT_REPLICATIONS} replication(s)" in page.read_text()


class _Stop(Exception):
    pass


def test_figures_honours_set(monkeypatch, tmp_path, capsys):
    """The catalogue's comparison runs the preset with --set (stopped there: the whole catalogue
    takes a minute), and the figures that rerun the preset apply it too, but not another preset."""
    from simulator.presentation import outputs
    from simulator.presentation.figures.data import FigureData

    seen = {}

    def fake_compare(scenario, **kw):
        seen["scenario"], seen["kw"] = scenario, kw
        raise _Stop

    monkeypatch.setattr(outputs, "compare", fake_compare)
    with pytest.raises(_Stop):
        main(["figures", "--out", str(tmp_path / "f"), "--set", "workload.pods=7",
              "--set", "kubelet.kubeAPIQPS=20", "--replications", "2", "--quiet"])
    assert seen["scenario"].workload.pods == 7 and seen["scenario"].kubelet.kubeAPIQPS == 20
    assert seen["kw"]["replications"] == 2

    data = FigureData.__new__(FigureData)  # only the scenario helper, without a comparison
    data.preset, data.overrides = "default", ("workload.pods=7",)
    assert data.scenario().workload.pods == 7
    assert data.scenario(["node.cpuCores=2"]).workload.pods == 7
    assert data.scenario(name="load-ramp").workload.pods != 7  # a preset of its own: left alone


def test_figures_refuses_a_bad_set_before_writing(tmp_path, capsys):
    out = tmp_path / "f"
    assert main(["figures", "--out", str(out), "--set", "workload.podz=7"]) == 2
    assert "did you mean 'pods'" in capsys.readouterr().err
    assert not out.exists()
