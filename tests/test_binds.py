"""What binds (docs/model/attribution.md): every pod-startup second is attributed to a cause, the
shares add up to the start-up, and the cause named is the one a setting moves.

Issue 12's acceptance: ``compare`` on the default and density presets prints what binds for
each chain, and the attributed shares add up to within 5 % of the pod-startup time.
"""

from __future__ import annotations

import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.text import Text

from simulator.config import load_scenario
from simulator.experiments.runner import compare
from simulator.presentation.binds import equal_lines
from simulator.presentation.figures.what_binds import takeaway, what_binds
from simulator.presentation.report_tables import binds_table
from simulator.presentation.tables import comparison_table


@pytest.fixture(scope="module", params=["default", "node-e2e-density-105"])
def preset_run(request):
    comp = compare(load_scenario(request.param))
    return comp, comp.summary()


def test_shares_add_up_to_the_startup_within_5_percent(preset_run):
    comp, summary = preset_run
    for rt in comp.runtimes:
        b = summary["runtimes"][rt]["binds"]
        assert b["pods"] == summary["runtimes"][rt]["running"] > 0
        assert abs(sum(b["shares"].values()) - 1.0) <= 0.05, (rt, b["shares"])
        assert b["attributed"] == pytest.approx(sum(b["shares"].values()), abs=1e-5)
        assert b["top"] == max(b["shares"], key=lambda c: b["shares"][c])


def test_every_pod_is_attributed_within_5_percent(preset_run):
    comp, _ = preset_run
    for run in comp.runs:
        ok = run.pods[run.pods.outcome == "running"].set_index("pod")
        per_pod = run.blame.groupby("pod").seconds.sum().reindex(ok.index).fillna(0.0)
        ratio = per_pod / ok.pod_startup_total
        assert ratio.between(0.95, 1.05).all(), ratio[~ratio.between(0.95, 1.05)]
        assert (run.blame.seconds >= 0).all()


def test_compare_prints_what_binds_for_each_chain(preset_run):
    comp, summary = preset_run
    text = comparison_table(summary)
    assert "What binds" in text
    for rt in comp.runtimes:
        sentence = summary["runtimes"][rt]["binds"]["sentence"]
        assert sentence.startswith(f"{rt}: ") and " % " in sentence
        assert sentence in text
    table = binds_table(summary)  # the report's
    assert table.headers == ("waited on", *comp.runtimes)
    assert [c.text for c in table.rows[0][1:]] == [
        f"{summary['runtimes'][rt]['binds']['mean_startup_seconds']:.2f}" for rt in comp.runtimes]


def _containerd(qps: int):
    sc = load_scenario("default", ["workload.kind=batch", "workload.pods=30", f"kubelet.kubeAPIQPS={qps}",
                                   "kubelet.kubeAPIBurst=10"])
    return compare(sc, runtimes=["containerd"]).summary()["runtimes"]["containerd"]["binds"]


def test_a_low_kube_api_qps_binds_and_a_raised_one_does_not():
    low, high = _containerd(5), _containerd(50)
    assert low["top"] == "api_client"
    assert "kubeAPIQPS 5" in low["sentence"] and "API client" in low["sentence"]
    assert high["top"] != "api_client"
    assert high["shares"].get("api_client", 0.0) < low["shares"]["api_client"] / 2
    assert high["mean_startup_seconds"] < low["mean_startup_seconds"]


def test_equal_chains_name_the_constraint_that_made_them_equal():
    same = {"top": "api_client", "constraint": "kubeAPIQPS 5, kubeAPIBurst 10"}
    lines = equal_lines({"dockershim": {**same, "mean_startup_seconds": 82.27},
                         "containerd": {**same, "mean_startup_seconds": 82.26}})
    assert len(lines) == 1
    assert "kubeAPIQPS 5" in lines[0] and "does not depend on the chain" in lines[0]
    differ = equal_lines({"dockershim": {**same, "mean_startup_seconds": 80.0},
                          "containerd": {**same, "mean_startup_seconds": 40.0}})
    assert differ == []


def _overlaps(fig) -> list[tuple[str, str]]:
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    r = canvas.get_renderer()
    boxes = [(t.get_text(), t.get_window_extent(r)) for t in fig.findobj(Text)
             if t.get_visible() and t.get_text().strip()]
    return [(a, b) for i, (a, ba) in enumerate(boxes) for b, bb in boxes[i + 1:] if ba.overlaps(bb)]


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_what_binds_figure_states_the_takeaway_without_overlaps(theme):
    shares = {"dockershim-1.10": {"lock:dockerd layer-store": 0.31, "cpu_queue": 0.27, "api_client": 0.21,
                                  "pleg": 0.17, "runtime": 0.01, "kubelet": 0.004},
              "containerd-1.1": {"api_client": 0.43, "cpu_queue": 0.27, "lock:containerd bbolt-writer": 0.18,
                                 "pleg": 0.09, "control_plane": 0.02, "runtime": 0.01}}
    fig = what_binds(shares, footnote="kubesim · test", theme=theme)
    title = fig.axes[0].get_title(loc="left").replace("\n", " ")
    assert title == takeaway(shares)
    assert "layer-store lock binds dockershim-1.10 (31\u00a0%)" in title
    assert "API client binds containerd-1.1 (43\u00a0%)" in title
    assert _overlaps(fig) == []


def test_what_binds_figure_is_1920x1080_and_deterministic(tmp_path):
    import struct

    from simulator.presentation.style import save_figure

    shares = {"dockershim": {"runtime": 0.38, "pleg": 0.38, "volumes": 0.24},
              "containerd": {"pleg": 0.46, "runtime": 0.23, "volumes": 0.31}}
    pngs = [save_figure(what_binds(shares, theme="dark"), tmp_path / run / "what-binds")[0] for run in "ab"]
    assert struct.unpack(">II", pngs[0].read_bytes()[16:24]) == (1920, 1080)
    assert pngs[0].read_bytes() == pngs[1].read_bytes()


def test_sweep_names_the_constraint_that_made_two_settings_equal():
    import pandas as pd

    from simulator.presentation.binds import sweep_binds_lines

    rows = [(1, 5, "api_client", 0.69, 16.28, "kubeAPIQPS 5, kubeAPIBurst 10"),
            (4, 5, "api_client", 0.86, 16.28, "kubeAPIQPS 5, kubeAPIBurst 10"),
            (1, 50, "cpu_queue", 0.59, 8.9, "node.cpuCores 1"),
            (4, 50, "cpu_queue", 0.23, 3.45, "node.cpuCores 4")]
    df = pd.DataFrame([{"node.cpuCores": c, "kubelet.kubeAPIQPS": q, "runtime": "containerd", "binds.top": t,
                        f"binds.shares.{t}": s, "binds.mean_startup_seconds": m, "binds.constraint": k}
                       for c, q, t, s, m, k in rows])
    lines = sweep_binds_lines(df, ["node.cpuCores", "kubelet.kubeAPIQPS"])
    same = [line for line in lines if line.strip().startswith("Same answer")]
    assert len(same) == 1
    assert "node.cpuCores = 1, 4" in same[0] and "kubelet.kubeAPIQPS=5" in same[0]
    assert "API client binds at every value (kubeAPIQPS 5" in same[0]
    assert any("kubeAPIQPS=50 containerd: CPU queue 59 %" in line for line in lines)


def test_a_reboot_and_failed_syncs_are_causes_of_their_own():
    # a node reboot: the kubelet's downtime is 'restart'; syncs that fail meanwhile wait for 'retry'
    b = compare(load_scenario("unclean-reboot-image-loss"), runtimes=["crio"]).summary()["runtimes"]["crio"]["binds"]
    assert abs(b["attributed"] - 1.0) <= 0.05
    assert b["top"] == "restart" and b["shares"]["retry"] > 0.1
    assert "kubelet's restart" in b["sentence"]
