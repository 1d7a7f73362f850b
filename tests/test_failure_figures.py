"""Failure figures: the failure-ramp heatmap and table, and the migration timeline.

Every test builds small synthetic DataFrames shaped like the experiments' outputs (the failure
ramp's tidy table; a cluster run's pods and events), so the figures are tested without running
the model.
"""

from __future__ import annotations

import math
import struct
from pathlib import Path

import matplotlib
import pandas as pd
import pytest
from matplotlib.figure import Figure

from simulator.presentation.figures.failures import failure_heatmap, failure_table
from simulator.presentation.figures.migration import migration_timeline
from simulator.presentation.style import save_figure

matplotlib.use("Agg")

RAMP_COLUMNS = ["runtime", "load", "hop", "kind", "count", "per_pod", "pods", "replication"]
CREATE = "kubelet -> dockershim: CreateContainer"
SANDBOX = "kubelet -> dockershim: RunPodSandbox"
PLEG = "PLEG (node NotReady)"
LOADS = (100, 200, 400)


def _png_size(path: Path) -> tuple[int, int]:
    with open(path, "rb") as f:
        header = f.read(24)
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", header[16:24])


def _ramp(runtimes=("dockershim", "containerd"), replications=2) -> pd.DataFrame:
    """dockershim: retried errors from 200 pods, failed and pending pods and a PLEG stall at
    400; containerd (and any other runtime): nothing but running pods."""
    rows = []
    for rep in range(replications):
        for runtime in runtimes:
            for load in LOADS:
                rows.append((runtime, load, "(none)", "ok", float(load), 1.0, load, rep))
                if runtime != "dockershim":
                    continue
                if load >= 200:  # 280 and 290 errors: 285 on average
                    count = 280.0 + 10 * rep if load == 200 else 40.0
                    rows.append((runtime, load, CREATE, "errors", count, count / load, load, rep))
                if load == 400:
                    for hop, kind, count in ((CREATE, "failed", 12.0), (SANDBOX, "pending", 101.0),
                                             (PLEG, "stall", 114.0)):
                        rows.append((runtime, load, hop, kind, count, count / load, load, rep))
    return pd.DataFrame(rows, columns=RAMP_COLUMNS)


def _migration() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Two dockershim nodes reinstalled with containerd one after the other: 6 app pods move
    to the other node at each drain; the 3 Docker-in-Docker runners lose their last Docker
    node and stay Pending (unschedulable)."""
    pods, events = [], []

    def pod(name, node, runtime, template, created, running, deleted=math.nan,
            outcome="running", hop="", reason=""):
        pods.append(dict(pod=name, node=node, runtime=runtime, template=template,
                         created=created, scheduled=created + 0.05,
                         running_observed=running, deleted=deleted, outcome=outcome,
                         failure_hop=hop or math.nan, failure_reason=reason or math.nan))

    def event(runtime, node, time, name, what, detail=""):
        events.append(dict(runtime=runtime, node=node, time=time, pod=name, event=what,
                           hop="", detail=detail))

    # before: 3 apps on each node, the runners on apps-2
    for i in range(3):
        pod(f"app-a{i}", "apps-1", "dockershim", "app", 0.0, 3.0 + i, deleted=100.5)
        pod(f"app-b{i}", "apps-2", "dockershim", "app", 0.0, 3.5 + i, deleted=400.5)
        pod(f"dind-{i}", "apps-2", "dockershim", "dind-runner", 0.0, 4.0, deleted=400.6)
    # apps-1 drained at 100 s: its apps recreated on apps-2; back with containerd at 300 s
    for i in range(3):
        pod(f"app-c{i}", "apps-2", "dockershim", "app", 100.5, 103.0, deleted=400.5)
    # apps-2 drained at 400 s: its apps recreated on apps-1 (containerd); the runners stay Pending
    for i in range(6):
        pod(f"app-d{i}", "apps-1", "containerd", "app", 400.5, 403.0 + 0.2 * i)
    reason = "0/2 nodes are available: 2 node(s) didn't match Pod's node affinity/selector"
    for i in range(3):
        pod(f"dind-r{i}", math.nan, "unscheduled", "dind-runner", 400.6, math.nan,
            outcome="pending", hop="kube-scheduler", reason=reason)
    for node, t in (("apps-1", 100.0), ("apps-2", 400.0)):
        event("dockershim", node, t, math.nan, "Cordoned", f"{node} cordoned and drained")
        event("dockershim", node, t + 5, math.nan, "NodeRemoved",
              f"{node} reinstalling with containerd")
        event("containerd", node, t + 200, math.nan, "NodeJoined", f"{node} back with containerd")
    for p in pods:
        if not math.isnan(p["running_observed"]):
            event(p["runtime"], p["node"], p["running_observed"], p["pod"], "RunningObserved")
    return pd.DataFrame(pods), pd.DataFrame(events).sort_values("time", kind="stable")


def _texts(fig: Figure) -> list[str]:
    return [t.get_text() for ax in fig.axes for t in ax.texts] + [t.get_text() for t in fig.texts]


def _save_twice(fig_factory, tmp_path: Path, name: str) -> None:
    """Exactly 1920 × 1080 px, and the same bytes when the figure is built and saved again."""
    saved = []
    for attempt in ("a", "b"):
        png, svg = save_figure(fig_factory(), tmp_path / attempt / name)
        assert _png_size(png) == (1920, 1080)
        saved.append((png.read_bytes(), svg.read_bytes()))
    assert saved[0] == saved[1]


# --------------------------------------------------------------------------------------------
# failure ramp


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_failure_heatmap_is_a_deterministic_1920_by_1080_slide(tmp_path, theme):
    ramp = _ramp()
    fig = failure_heatmap(ramp, footnote="load-ramp · seed 1 · 2 replications", theme=theme)
    assert isinstance(fig, Figure)
    _save_twice(lambda: failure_heatmap(ramp, footnote="seed 1", theme=theme), tmp_path, "heat")


def test_failure_heatmap_has_one_panel_per_runtime_in_house_order():
    fig = failure_heatmap(_ramp(("containerd", "crio", "dockershim")))
    panels = [ax.get_title(loc="left") for ax in fig.axes if ax.get_title(loc="left")]
    assert panels == ["dockershim", "containerd", "crio"]
    # the panels share the hop rows: the worst hop (failed pods) on top, errors-only hops last
    hop_axis = next(ax for ax in fig.axes if ax.get_title(loc="left") == "dockershim")
    labels = [t.get_text() for t in hop_axis.get_yticklabels()]
    assert labels[0] == "kubelet → dockershim\nCreateContainer"
    assert labels[-1] == PLEG


def test_failure_heatmap_marks_cells_and_the_breaking_load():
    texts = _texts(failure_heatmap(_ramp()))
    assert "breaks at 400 pods" in texts
    # each kind's marker, whole or split over two lines in a narrow cell
    for letter, number in (("F", "12"), ("P", "101"), ("E", "285"), ("S", "114")):
        assert f"{letter} {number}" in texts or f"{letter} {number}s" in texts or (
            letter in texts and number in texts), (letter, number)


def test_runtimes_without_problems_say_so(tmp_path):
    texts = _texts(failure_heatmap(_ramp()))
    assert "no failures\nup to 400 pods" in texts  # containerd's panel
    # a ramp in which nothing went wrong anywhere still draws one panel per runtime
    quiet = _ramp(("containerd", "crio"))
    fig = failure_heatmap(quiet)
    assert sum(1 for t in _texts(fig) if t.startswith("no failures")) == 2
    png, _ = save_figure(fig, tmp_path / "quiet")
    assert _png_size(png) == (1920, 1080)
    table = failure_table(quiet)
    assert list(table.index) == [("containerd", "(no failures)"), ("crio", "(no failures)")]
    assert (table == "-").all().all()


def test_failure_table_shape_and_cells():
    table = failure_table(_ramp())
    assert list(table.columns) == list(LOADS)
    assert table.index.names == ["runtime", "hop"]
    assert list(table.index) == [("dockershim", CREATE), ("dockershim", SANDBOX),
                                 ("dockershim", PLEG), ("containerd", "(no failures)")]
    assert table.loc[("dockershim", CREATE)].tolist() == ["-", "E 285", "F 12, E 40"]
    assert table.loc[("dockershim", SANDBOX)].tolist() == ["-", "-", "P 101"]
    assert table.loc[("dockershim", PLEG)].tolist() == ["-", "-", "S 114s"]
    assert table.loc[("containerd", "(no failures)")].tolist() == ["-", "-", "-"]


def test_failure_table_averages_over_replications_counting_absent_rows_as_zero():
    ramp = _ramp(replications=2)
    # a hop that failed in one replication of two: half a pod on average
    ramp = pd.concat([ramp, pd.DataFrame([("containerd", 400, "cni: CNI ADD", "failed", 1.0,
                                           1 / 400, 400, 0)], columns=RAMP_COLUMNS)])
    table = failure_table(ramp)
    assert table.loc[("containerd", "cni: CNI ADD")].tolist() == ["-", "-", "F 0.5"]


def test_failure_figures_refuse_a_table_without_the_ramp_columns():
    with pytest.raises(KeyError, match="kind"):
        failure_table(_ramp().drop(columns="kind"))


# --------------------------------------------------------------------------------------------
# migration timeline


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_migration_timeline_is_a_deterministic_1920_by_1080_slide(tmp_path, theme):
    pods, events = _migration()
    _save_twice(lambda: migration_timeline(pods, events, footnote="seed 1", theme=theme),
                tmp_path, "migration")


def test_migration_timeline_shows_the_switch_and_the_unschedulable_pods():
    pods, events = _migration()
    fig = migration_timeline(pods, events)
    top, bottom = fig.axes[:2]
    # the title states the takeaway, computed from the run
    # (on two lines when it is too long for one: figures/_text.py fitted_title)
    assert top.get_title(loc="left").replace("\n", " ") == (
        "dockershim to containerd: 3 pods left Pending once the last dockershim node went")
    assert [t.get_text() for t in top.get_yticklabels()] == ["apps-1", "apps-2"]
    legend = [t.get_text() for t in top.get_legend().get_texts()]
    assert legend[:3] == ["dockershim", "containerd", "reinstalling"]
    texts = _texts(fig)
    assert "3 pods left Pending (3 × dind-runner)" in texts
    assert any("didn't match Pod's" in t for t in texts)
    assert "last dockershim node gone" in texts
    # one lane label per node: the pods on it at the end (apps-1 holds the 6 moved apps)
    assert "6 pods" in texts and "0 pods" in texts
    # the reinstall gaps are drawn and named
    assert sum(t.startswith("reinstall") for t in texts) == 2


def test_migration_timeline_without_a_migration_still_draws(tmp_path):
    pods, events = _migration()
    quiet = events[~events["event"].isin(["Cordoned", "NodeRemoved", "NodeJoined"])]
    fig = migration_timeline(pods[pods["runtime"] != "containerd"], quiet,
                             title="Two Docker nodes")
    png, _ = save_figure(fig, tmp_path / "no-migration")
    assert _png_size(png) == (1920, 1080)
