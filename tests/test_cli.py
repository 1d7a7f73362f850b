"""The command line as users run it: compare --json schema, outputs, explain, trace."""

import json

import pandas as pd
import pytest

from simulator.cli import main

DESIGN_KEYS = {"pods", "running", "failed", "pending", "pod_startup_seconds", "pod_startup_total_seconds",
               "batch_seconds", "per_operation_mean_seconds", "cpu_cores", "memory_mb", "failures_by_hop"}


def _json(capsys, argv):
    assert main(argv) == 0
    return json.loads(capsys.readouterr().out)


def test_compare_json_follows_design_schema_and_is_repeatable(capsys):
    argv = ["compare", "--json", "--pods", "10", "--set", "simulation.steadyStateSeconds=5"]
    doc = _json(capsys, argv)
    assert set(doc) == {"scenario", "seed", "replications", "runtimes"}
    assert set(doc["runtimes"]) == {"dockershim", "containerd"}
    for rt, d in doc["runtimes"].items():
        assert DESIGN_KEYS <= set(d)
        assert d["running"] + d["failed"] + d["pending"] == d["pods"] == 10
        assert set(d["pod_startup_seconds"]) == {"p50", "p90", "p99", "max"}
        assert {"run_podsandbox", "create_container", "start_container"} <= set(d["per_operation_mean_seconds"])
        assert set(d["cpu_cores"]) == {"kubelet", "runtime"} == set(d["memory_mb"])
    assert doc["scenario"]["workload"]["pods"] == 10  # the resolved scenario, defaults included
    assert doc["scenario"]["kubelet"]["runtimeRequestTimeout"] == "2m"
    assert _json(capsys, argv) == doc


def test_replications_give_confidence_intervals(capsys):
    doc = _json(capsys, ["compare", "--json", "--pods", "8", "--replications", "3", "--runtimes", "crio",
                         "--set", "simulation.steadyStateSeconds=0"])
    ci = doc["runtimes"]["crio"]["ci95"]["pod_startup_seconds"]["p50"]
    assert ci[0] <= ci[1]


def test_compare_out_writes_data_summary_and_figures(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["compare", "--pods", "6", "--out", str(out), "--set", "simulation.steadyStateSeconds=2"]) == 0
    assert "dockershim" in capsys.readouterr().out
    for name in ("pods", "spans", "resources", "events"):
        frame = pd.read_parquet(out / f"{name}.parquet")
        assert len(frame) > 0 and len(pd.read_csv(out / f"{name}.csv")) == len(frame)
    assert json.loads((out / "summary.json").read_text())["runtimes"]
    pngs = sorted(p.name for p in (out / "figures").glob("*.png"))
    assert "pod-startup-cdf.png" in pngs and "sequence-dockershim.png" in pngs
    # no temporary files left behind: only kubesim's manifest of what it wrote
    assert [p.name for p in out.rglob(".*")] == [".kubesim-manifest.json"]
    assert not [p for p in out.parent.iterdir() if ".staging." in p.name]


def test_explain_narrates_hops_with_sources(capsys):
    assert main(["explain", "dockershim"]) == 0
    text = capsys.readouterr().out
    assert "dockershim -> dockerd via HTTP" in text
    assert "nsenter" in text and "source:" in text
    assert "realdata 1.21" in text
    assert main(["explain", "containerd"]) == 0
    chain_part = capsys.readouterr().out.split("Pod creation")[1].split("Kubelet behaviour of Kubernetes")[0]
    assert "dockerd" not in chain_part


def test_trace_writes_picture_text_and_chrome_trace(tmp_path, capsys):
    assert main(["trace", "--runtime", "containerd", "--out", str(tmp_path), "--set", "workload.pods=4"]) == 0
    out = capsys.readouterr().out
    assert "RunPodSandbox" in out and "runc create" in out
    trace = json.loads(next(tmp_path.glob("trace-*.json")).read_text())
    assert any(e.get("ph") == "X" for e in trace["traceEvents"])
    assert list(tmp_path.glob("sequence-containerd-*.png"))


def test_presets_list_and_show(capsys):
    assert main(["presets"]) == 0
    assert "node-e2e-density-105" in capsys.readouterr().out
    assert main(["presets", "--show", "default"]) == 0
    assert "workload:" in capsys.readouterr().out


@pytest.mark.parametrize("extra", [[], ["--set", "kubelet.kubeAPIQPS=60"]])
def test_density_preset_runs(capsys, extra):
    doc = _json(capsys, ["compare", "--preset", "node-e2e-density-105", "--json", *extra])
    for d in doc["runtimes"].values():
        assert d["pods"] == 105 and d["running"] == 105


def test_report_is_one_self_contained_page(tmp_path, capsys):
    out = tmp_path / "r.html"
    assert main(["report", "--pods", "8", "--replications", "2", "--out", str(out),
                 "--set", "simulation.steadyStateSeconds=2"]) == 0
    page = out.read_text()
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert page.count("data:image/png;base64,") >= 5  # CDF, two breakdowns, a sequence per chain
    assert "<script" not in page and "src='http" not in page and 'src="http' not in page
    assert "95% confidence interval" in page and "realdata 1.21" in page
    assert "kubeAPIQPS: 5" in page  # the resolved scenario


def test_mixed_cluster_outputs_one_section_per_chain(tmp_path, capsys):
    out = tmp_path / "mig"
    argv = ["compare", "--preset", "migration-docker-to-containerd", "--out", str(out),
            "--set", "cluster.migration.pools=[apps]", "--set", "cluster.migration.reinstallSeconds=30"]
    assert main(argv) == 0
    doc = json.loads((out / "summary.json").read_text())
    assert {"dockershim", "containerd"} <= set(doc["runtimes"])
    assert (out / "figures" / "sequence-dockershim.png").exists()
    assert (out / "figures" / "sequence-containerd.png").exists()
    capsys.readouterr()


SUBCOMMANDS = ["compare", "run", "presets", "explain", "trace", "failures", "report", "sweep", "sensitivity",
               "figures", "validate", "calibrate"]


def test_one_module_per_subcommand_and_only_the_cli_imports_the_cli():
    import importlib
    import re
    from pathlib import Path

    from simulator.cli import SUBCOMMANDS as modules
    from simulator.cli import build_parser

    sub = next(a for a in build_parser()._actions if a.dest == "command")
    assert list(sub.choices) == SUBCOMMANDS  # the order `kubesim --help` lists them in
    for name in SUBCOMMANDS:
        module = importlib.import_module(f"simulator.cli.{name}")
        assert module in modules and callable(module.register)
        assert sub.choices[name].get_default("func") is getattr(module, f"cmd_{name}")
    # layers import only downwards: nothing outside simulator/cli/ imports the command line
    package = Path(importlib.import_module("simulator").__file__).parent
    for path in package.rglob("*.py"):
        if "cli" not in path.relative_to(package).parts:
            text = path.read_text(encoding="utf-8")
            assert not re.search(r"^\s*(from|import)\s+(simulator\.cli|\.+cli)\b"
                                 r"|^\s*from\s+(simulator|\.+)\s+import\s+.*\bcli\b", text, re.M), path
