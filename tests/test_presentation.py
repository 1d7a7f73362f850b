"""Presentation layer: figure size, deterministic files, fixed colours, trace and text export.

Every test builds its own small synthetic DataFrames shaped like the model's outputs
(docs/DESIGN.md, "Outputs"), so the presentation layer is tested without running the model.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from simulator.presentation import (
    figure_style,
    new_figure,
    save_figure,
    to_chrome_trace,
    write_chrome_trace,
)
from simulator.presentation.figures.cdf import latency_cdf
from simulator.presentation.figures.sequence import sequence_diagram, sequence_text
from simulator.presentation.figures.time_by_hop import time_by_hop
from simulator.presentation.figures.time_by_operation import time_by_operation
from simulator.presentation.style import (
    PROCESS_COLORS,
    RUNTIME_COLORS,
    RUNTIMES,
    add_footnote,
    process_color,
    runtime_color,
)

matplotlib.use("Agg")

# One pod's chain per runtime: (caller, process, step, duration in ms) per hop, nested by order:
# each hop is called by the nearest earlier hop whose process is its caller.
CHAINS = {
    "dockershim": [
        ("kubelet", "dockershim", "RunPodSandbox", 300.0),
        ("dockershim", "dockerd", "POST /containers/create", 60.0),
        ("dockershim", "dockerd", "POST /containers/{id}/start", 150.0),
        ("dockerd", "containerd", "tasks.Create", 80.0),
        ("containerd", "containerd-shim", "Create", 60.0),
        ("containerd-shim", "runc", "runc create", 45.0),
        ("dockershim", "cni", "CNI ADD", 60.0),
    ],
    "containerd": [
        ("kubelet", "containerd", "RunPodSandbox", 200.0),
        ("containerd", "cni", "CNI ADD", 60.0),
        ("containerd", "containerd-shim", "Create", 70.0),
        ("containerd-shim", "runc", "runc create", 45.0),
    ],
}


def _pod_spans(runtime: str, pod: str, t0: float, first_id: int) -> list[dict]:
    """Spans of one pod: run_podsandbox with its hops, then a short podsandbox_status."""
    rows: list[dict] = []
    next_id = first_id

    def add(parent: int, depth: int, operation: str, caller: str, process: str, step: str,
            start: float, end: float, queued: float = 0.0) -> int:
        nonlocal next_id
        rows.append(dict(span_id=next_id, parent_id=parent, depth=depth, pod=pod,
                         operation=operation, step=step, process=process, caller=caller,
                         transport="grpc", start=start, end=end, queued=queued, outcome="ok",
                         source="sync", runtime=runtime, node="node-0", replication=0))
        next_id += 1
        return next_id - 1

    hops = CHAINS[runtime]
    total = hops[0][3] / 1000 + 0.002  # the first hop starts 1 ms in and returns 1 ms early
    op = add(-1, 0, "run_podsandbox", "kubelet", "kubelet", "run_podsandbox", t0, t0 + total)
    open_spans = {"kubelet": (op, 0, t0)}  # process -> (span id, depth, cursor)
    for caller, process, step, ms in hops:
        parent, depth, cursor = open_spans[caller]
        start = cursor + 0.001
        sid = add(parent, depth + 1, "run_podsandbox", caller, process, step, start,
                  start + ms / 1000, queued=0.002 if process == "dockerd" else 0.0)
        open_spans[caller] = (parent, depth, start + ms / 1000)
        open_spans[process] = (sid, depth + 1, start)
    t1 = t0 + total + 0.001
    status = add(-1, 0, "podsandbox_status", "kubelet", "kubelet", "podsandbox_status", t1,
                 t1 + 0.004)
    add(status, 1, "podsandbox_status", "kubelet", hops[0][1], "PodSandboxStatus", t1, t1 + 0.003)
    return rows


@pytest.fixture()
def spans() -> pd.DataFrame:
    rows: list[dict] = []
    for runtime in CHAINS:
        for i in range(3):
            rows += _pod_spans(runtime, f"pod-{i}", t0=0.05 * i, first_id=len(rows))
    return pd.DataFrame(rows)


@pytest.fixture()
def pods() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    frames = []
    for runtime, scale in (("dockershim", 2.0), ("containerd", 1.2), ("crio", 1.4),
                           ("cri-dockerd", 2.2)):
        startup = rng.gamma(4.0, scale / 4.0, size=50)
        startup[:2] = np.nan  # two pods never started
        frames.append(pd.DataFrame({
            "pod": [f"pod-{i}" for i in range(50)], "runtime": runtime,
            "outcome": np.where(np.isnan(startup), "failed", "running"),
            "pod_startup": startup,
        }))
    return pd.concat(frames, ignore_index=True)


def _png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", header[16:24])


def _one_pod(spans: pd.DataFrame, runtime: str) -> pd.DataFrame:
    return spans[(spans["runtime"] == runtime) & (spans["pod"] == "pod-0")]


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_every_figure_is_1920_by_1080(tmp_path, spans, pods, theme):
    figures = {
        "cdf": latency_cdf(pods, footnote="seed 1", theme=theme),
        "ops": time_by_operation(spans, footnote="seed 1", theme=theme),
        "hops": time_by_hop(spans, footnote="seed 1", theme=theme),
        "seq": sequence_diagram(_one_pod(spans, "dockershim"), footnote="seed 1", theme=theme),
    }
    for name, fig in figures.items():
        assert isinstance(fig, Figure)
        png, svg = save_figure(fig, tmp_path / name)
        assert _png_size(png) == (1920, 1080), name
        assert svg.read_text(encoding="utf-8").lstrip().startswith("<?xml")


def test_save_figure_is_byte_for_byte_deterministic(tmp_path, spans, pods):
    def render(directory: Path) -> tuple[bytes, ...]:
        out = []
        for name, fig in (("cdf", latency_cdf(pods, footnote="seed 1")),
                          ("seq", sequence_diagram(_one_pod(spans, "dockershim")))):
            png, svg = save_figure(fig, directory / name)
            out += [png.read_bytes(), svg.read_bytes()]
        return tuple(out)

    assert render(tmp_path / "a") == render(tmp_path / "b")


def test_new_figure_and_footnote_keep_the_slide_size(tmp_path):
    with figure_style("dark"):
        fig, ax = new_figure()
        ax.plot([0, 1], [0, 1], color=runtime_color("crio"))
    add_footnote(fig, "scenario default · seed 1 · 3 replications")
    png, _ = save_figure(fig, tmp_path / "custom")
    assert _png_size(png) == (1920, 1080)


def test_runtime_colours_are_fixed_and_distinct():
    assert [runtime_color(r) for r in RUNTIMES] == ["#D55E00", "#0072B2", "#009E73", "#CC79A7"]
    assert len(set(RUNTIME_COLORS.values())) == len(RUNTIME_COLORS) == 4
    assert len(set(PROCESS_COLORS.values())) == len(PROCESS_COLORS)
    # era variants keep their family's colour; a process named like a runtime shares it too;
    # unknown names get a stable fallback
    assert runtime_color("dockershim-1.10") == runtime_color("dockershim")
    assert process_color("containerd") == runtime_color("containerd")
    assert process_color("crun") == process_color("crun")
    assert process_color("crun") not in PROCESS_COLORS.values()


def test_unknown_theme_is_rejected():
    with pytest.raises(ValueError, match="unknown theme 'sepia'"):
        latency_cdf(pd.DataFrame({"runtime": ["crio"], "pod_startup": [1.0]}), theme="sepia")


def test_chrome_trace_is_valid_json_with_one_thread_per_process(tmp_path, spans):
    one_pod = spans[spans["pod"] == "pod-0"]
    path = write_chrome_trace(one_pod, tmp_path / "trace.json")
    trace = json.loads(path.read_text(encoding="utf-8"))
    events = trace["traceEvents"]
    complete = [e for e in events if e["ph"] == "X"]
    assert len(complete) == len(one_pod)
    for e in complete:
        assert isinstance(e["ts"], int) and isinstance(e["dur"], int)
        assert e["ts"] >= 0 and e["dur"] >= 0
        assert isinstance(e["pid"], int) and isinstance(e["tid"], int)
        assert {"pod", "operation", "outcome", "queued_ms"} <= set(e["args"])
    threads = {(e["pid"], e["args"]["name"]) for e in events if e["name"] == "thread_name"}
    for runtime in CHAINS:
        pid = next(e["pid"] for e in events
                   if e["name"] == "process_name" and e["args"]["name"].startswith(runtime))
        processes = set(one_pod.loc[one_pod["runtime"] == runtime, "process"])
        assert {name for p, name in threads if p == pid} == processes
    keys = [(e["pid"], e["tid"], e["ts"]) for e in complete]
    assert keys == sorted(keys)


def test_chrome_trace_moves_overlapping_calls_to_extra_threads(spans):
    trace = to_chrome_trace(spans[spans["runtime"] == "containerd"])
    events = trace["traceEvents"]
    names = {e["tid"]: e["args"]["name"] for e in events if e["name"] == "thread_name"}
    assert "containerd (2)" in names.values()  # three pods' RunPodSandbox overlap
    by_thread: dict[int, list[tuple[int, int]]] = {}
    for e in events:
        if e["ph"] == "X":
            by_thread.setdefault(e["tid"], []).append((e["ts"], e["ts"] + e["dur"]))
    for intervals in by_thread.values():  # on each thread, events nest or follow each other
        open_ends: list[int] = []
        for start, end in intervals:
            while open_ends and open_ends[-1] <= start:
                open_ends.pop()
            assert not open_ends or end <= open_ends[-1]
            open_ends.append(end)


def test_sequence_text_lists_spans_in_time_order(spans):
    one = _one_pod(spans, "dockershim")
    text = sequence_text(one.sample(frac=1.0, random_state=3))
    lines = [line for line in text.splitlines() if " -> " in line]
    assert len(lines) == len(one) - one["depth"].eq(0).sum()
    starts = [float(line.split()[0]) for line in lines]
    assert starts == sorted(starts)
    assert "dockershim -> dockerd" in text and "POST /containers/create" in text


def test_sequence_diagram_refuses_several_pods(spans):
    with pytest.raises(ValueError, match="one pod of one runtime"):
        sequence_diagram(spans[spans["runtime"] == "containerd"])


def test_where_the_time_goes_adds_up(spans):
    """Self time per process sums to the operation-level time: the two bar charts agree."""
    fig_ops, fig_hops = time_by_operation(spans), time_by_hop(spans)
    totals = [[t.get_text() for t in fig.axes[0].texts if t.get_text().endswith(" ms")]
              for fig in (fig_ops, fig_hops)]
    assert totals[0] == totals[1] and len(totals[0]) == len(CHAINS)
