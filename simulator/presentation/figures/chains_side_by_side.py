"""The call chains side by side: the processes one pod-sandbox creation crosses, chain by chain.

What it teaches: what each chain IS, before any timing: which processes a RunPodSandbox goes
through, over which transports (gRPC, HTTP, ttrpc, fork/exec), where CNI is called from, which
processes live inside another (dockershim in the kubelet), and how many process boundaries the
call crosses on each chain.

What it draws: the chain data alone (the chains' YAML, through :mod:`simulator.chains`), no
simulation: the steps of RunPodSandbox for a pod on the pod network whose pause image is present
and which gets its first shim, one column per chain. Deriving the graph and placing its boxes is
:mod:`._chain_graph`; this module draws them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

from ..style import DPI, FIGSIZE_IN, figure_style, process_color, runtime_color
from ._chain_graph import (
    Box,
    ChainGeometry,
    ChainGraph,
    chain_edges,
    chain_graph,
    cri_name,
    depth_rows,
    layout_boxes,
)
from ._draw import (
    FIG_H_PX,
    FIG_W_PX,
    finish,
    fit_text,
    ink_on,
    shrink_to_fit,
    slide_title,
    text_width_px,
    wrap,
)

if TYPE_CHECKING:
    from .data import FigureData

__all__ = ["chains_side_by_side", "chain_edges", "takeaway", "from_data"]

_TRANSPORT_LABEL = {"grpc": "gRPC", "http": "HTTP", "ttrpc": "ttrpc", "exec": "fork/exec",
                    "in-process": "call"}


def chains_side_by_side(
    chains: Sequence[Any],
    title: str | None = None,
    footnote: str | None = None,
    *,
    theme: str = "light",
    operation: str = "run_podsandbox",
) -> Figure:
    """The processes one pod-sandbox creation crosses, one column per call chain.

    Derived from the chain data alone (no timing): the steps of ``operation`` (RunPodSandbox)
    are walked depth first for a pod on the pod network whose pause image is present and which
    gets its first shim; each (caller process → callee process) pair is an arrow, labelled with
    the transports it uses and how many calls go over it. A process that lives inside another
    OS process (dockershim in the kubelet) is a box inside that process's box and the arrow to
    it is dashed: no process boundary is crossed. A dashed box is a short-lived process forked
    per call (runc, CNI plugins); a stacked box is one instance per container or per pod (shims,
    conmon). CNI sits beside the process that runs it. Under each column: how many calls cross a
    process boundary, between how many OS processes, and the chain's processes the operation
    never reaches (with the CRI call that first does).
    """
    if not chains:
        raise ValueError("no chains to draw")
    graphs = [chain_graph(c, operation) for c in chains]
    n = len(graphs)
    margin, gutter = 10.0, 22.0
    col_w = (FIG_W_PX - 2 * margin) / n - gutter
    levels = max(max(depth_rows(g).values()) for g in graphs) + 1
    top_y, bottom_y = 262.0, 800.0
    pitch = min((bottom_y - top_y) / max(levels - 1, 1), 150.0)
    geo = ChainGeometry(col_w=col_w, spine_dx=min(142.0, col_w * 0.31),
                         row_y=tuple(top_y + i * pitch for i in range(levels + 1)),
                         box_h=min(56.0, pitch * 0.55))
    op_name = cri_name(operation)
    with figure_style(theme) as colors:
        fig = Figure(figsize=FIGSIZE_IN, dpi=DPI)
        ax = fig.add_axes((0.0, 0.0, 1.0, 1.0))
        ax.set_xlim(0, FIG_W_PX)
        ax.set_ylim(FIG_H_PX, 0)
        ax.set_axis_off()
        slide_title(fig, title or takeaway(graphs, op_name), colors)
        for i, graph in enumerate(graphs):
            x0 = margin + gutter / 2 + i * (col_w + gutter)
            if i:
                ax.plot([x0 - gutter / 2] * 2, [92, 990], color=colors["grid"], linewidth=1.2)
            _draw_chain(ax, graph, x0, geo, colors)
        note = (f"×N: calls over the arrow in one {op_name} of a pod on the pod network (pause "
                "image present, first shim) · dashed arrow: inside one OS process")
        size = 11.0
        room = FIG_W_PX - 24 - (text_width_px(footnote.split("\n")[-1], 11) + 40
                                if footnote else 0)
        y = FIG_H_PX - 12
        if text_width_px(note, size) > room:  # above the footnote
            y -= 28 * (footnote.count("\n") + 1) if footnote else 0
            room = FIG_W_PX - 24
        lines = wrap(note, room, size)
        ax.text(FIG_W_PX - 12, y, "\n".join(lines), ha="right", va="bottom", fontsize=size,
                color=colors["muted"], linespacing=1.3)
    return finish(fig, footnote)


def takeaway(graphs: Sequence[ChainGraph], op_name: str) -> str:
    """The title: the most and the fewest OS-process crossings of one call (:func:`hop_count`,
    the numbers ``kubesim explain`` prints), and on which chains."""
    most = max(g.crossings for g in graphs)
    least = min(g.crossings for g in graphs)

    def names(n: int) -> str:
        return " and ".join(str(g.chain.name) for g in graphs if g.crossings == n)

    if most == least:
        return f"One {op_name} crosses {most} process boundaries on every chain"
    return (f"One {op_name} crosses {most} process boundaries on {names(most)}, "
            f"{least} on {names(least)}")


def _draw_chain(ax: Axes, graph: ChainGraph, x0: float, geo: ChainGeometry,
                c: Mapping[str, str]) -> None:
    chain = graph.chain
    color = runtime_color(chain.name)
    col_w = geo.col_w
    ax.text(x0, 92, chain.name, ha="left", va="top", fontsize=20, fontweight="bold",
            color=color)
    ax.text(x0, 138, "\n".join(wrap(str(chain.title), col_w, 11.5)[:2]), ha="left", va="top",
            fontsize=11.5, color=c["muted"], linespacing=1.15)
    boxes = layout_boxes(graph, x0, geo)

    def spec(p: str) -> Any:
        return chain.processes.get(p)

    def os_of(p: str) -> str:
        s = spec(p)
        return (s.osProcess or p) if s is not None else p

    # an OS process hosting others: one outer box around the host and its guests, wide enough
    # for the labels of the calls inside it
    outer: dict[str, tuple[float, float, float, float]] = {}
    for host in dict.fromkeys(os_of(p) for p in boxes):
        members = [p for p in boxes if os_of(p) == host]
        if len(members) < 2:
            continue
        pad, tag = 10.0, 34.0
        label = f"{host} process"
        left = min(boxes[p].left for p in members) - pad
        right = max(boxes[p].right for p in members) + pad
        for (a, b), transports in graph.edges.items():
            if a in members and b in members and abs(boxes[a].cx - boxes[b].cx) < 1:
                right = max(right, boxes[a].cx + 12 + text_width_px(_arrow_label(transports),
                                                               geo.label_pt) + 10)
        right = max(right, left + text_width_px(label, 12) + 24)
        top = min(boxes[p].top for p in members) - tag
        bottom = max(boxes[p].bottom for p in members) + pad
        outer[host] = (left, top, right, bottom)
        ax.add_patch(FancyBboxPatch((left, top), right - left, bottom - top,
                                    boxstyle="round,pad=0,rounding_size=10",
                                    facecolor=c["band"], edgecolor=c["foreground"],
                                    linewidth=1.4, zorder=1))
        ax.text(left + 10, top + 6, fit_text(label, right - left - 16, 12), ha="left",
                va="top", fontsize=12, fontstyle="italic", color=c["foreground"], zorder=2)

    for (a, b), transports in graph.edges.items():
        if a in boxes and b in boxes:
            # a call leaving an enclosing box is labelled below that box's edge
            host = os_of(a)
            exit_y = outer[host][3] if host in outer and os_of(b) != host else None
            _draw_arrow(ax, boxes[a], boxes[b], transports, os_of(a) == os_of(b), x0, geo, c,
                        exit_y)

    side_rows = {round(b.cy) for b in boxes.values() if b.side}
    for p, box in boxes.items():
        s = spec(p)
        instances = getattr(s, "instances", "daemon")
        fill = process_color(p)
        if instances == "spawned":  # a deck of boxes: one per container or per pod
            for k in (2, 1):
                ax.add_patch(FancyBboxPatch((box.left + 6 * k, box.top - 6 * k), box.w, box.h,
                                            boxstyle="round,pad=0,rounding_size=8",
                                            facecolor=fill, edgecolor=c["foreground"],
                                            linewidth=1.0, zorder=3))
        transient = instances == "transient"
        ax.add_patch(FancyBboxPatch((box.left, box.top), box.w, box.h,
                                    boxstyle="round,pad=0,rounding_size=8", facecolor=fill,
                                    edgecolor=c["foreground"], linewidth=1.8 if transient else 1.3,
                                    linestyle=(0, (3, 2)) if transient else "solid", zorder=4))
        size = shrink_to_fit(p, box.w - 14, geo.name_pt, "bold")
        ax.text(box.cx, box.cy, fit_text(p, box.w - 12, size, "bold"), ha="center", va="center",
                fontsize=size, fontweight="bold", color=ink_on(fill), zorder=5)
        # what kind of process it is, beside a spine box (where no side box stands)
        note = _process_note(graph, p, s)
        if note and not box.side and round(box.cy) not in side_rows:
            x = box.right + (24 if instances == "spawned" else 12)
            lines = wrap(note, x0 + col_w - x, geo.note_pt)[:2]
            ax.text(x, box.cy, "\n".join(lines), ha="left", va="center", fontsize=geo.note_pt,
                    fontstyle="italic", color=c["muted"], linespacing=1.15, zorder=5)

    # the counts, and what the operation never reaches
    base = 880.0
    if graph.later:
        text = " · ".join(f"{', '.join(ps)}: first in {op}" for op, ps in graph.later.items())
        lines = wrap(text, col_w, 11.5)[:2]
        ax.text(x0, base - 8, "\n".join(lines), ha="left", va="bottom", fontsize=11.5,
                fontstyle="italic", color=c["muted"], linespacing=1.2)
    number = f"{graph.crossings}"
    ax.text(x0, base + 62, number, ha="left", va="baseline", fontsize=36, fontweight="bold",
            color=color)
    nx = x0 + text_width_px(number, 36, "bold") + 14
    for text, dy, size, weight, ink in (
            ("boundary crossings", 28, 14.0, "bold", c["foreground"]),
            (f"between {len(graph.os_processes)} OS processes", 60, 12.5, "normal", c["muted"])):
        size = shrink_to_fit(text, x0 + col_w - nx, size, weight)
        ax.text(nx, base + dy, fit_text(text, x0 + col_w - nx, size, weight), ha="left",
                va="baseline", fontsize=size, fontweight=weight, color=ink)


def _process_note(graph: ChainGraph, p: str, spec: Any) -> str:
    if spec is None or (spec.osProcess and spec.osProcess != p):
        return ""
    if spec.instances == "spawned":
        per = graph.chain.shimPer if p == graph.chain.shimProcess else "container"
        return f"one per {per}"
    if spec.instances == "transient":
        return "forked per call"
    return ""


def _arrow_label(transports: Mapping[str, int]) -> str:
    return " + ".join(f"{_TRANSPORT_LABEL.get(t, t)} ×{k}" for t, k in transports.items())


def _draw_arrow(ax: Axes, a: Box, b: Box, transports: Mapping[str, int], same_process: bool,
                x0: float, geo: ChainGeometry, c: Mapping[str, str],
                exit_y: float | None = None) -> None:
    style: dict[str, Any] = dict(
        arrowstyle="-|>,head_length=0.5,head_width=0.25", color=c["foreground"],
        linewidth=1.5 if same_process else 2.2, shrinkA=0, shrinkB=0,
        linestyle=(0, (3, 2)) if same_process else "solid", zorder=2, mutation_scale=20)
    names = [_TRANSPORT_LABEL.get(t, t) for t in transports]
    counts = [f"×{k}" for k in transports.values()]
    right_edge = x0 + geo.col_w
    if abs(a.cx - b.cx) < 1:  # down the spine, the label right of the shaft
        y0, y1 = (a.bottom, b.top) if b.cy > a.cy else (a.top, b.bottom)
        ax.add_patch(FancyArrowPatch((a.cx, y0), (b.cx, y1), **style))
        label = _arrow_label(transports)
        x = a.cx + 12
        size = shrink_to_fit(label, right_edge - x, geo.label_pt)
        y_label = ((exit_y if exit_y is not None else y0) + y1) / 2
        ax.text(x, y_label, fit_text(label, right_edge - x, size), ha="left", va="center",
                fontsize=size, color=c["foreground"], zorder=6)
    elif abs(a.cy - b.cy) < 1:  # beside: the label over the callee, right-aligned with it
        x_from, x_to = (a.right, b.left) if b.cx > a.cx else (a.left, b.right)
        ax.add_patch(FancyArrowPatch((x_from, a.cy), (x_to, b.cy), **style))
        label = _arrow_label(transports)
        room = right_edge - (a.cx + 12 + 130)  # clear of the spine's label above this row
        size = shrink_to_fit(label, room, geo.label_pt)
        ax.text(b.right, b.top - 6, fit_text(label, room, size), ha="right", va="bottom",
                fontsize=size, color=c["foreground"], zorder=6)
    else:  # anywhere else: across from the caller's side, then down onto the callee
        start = (a.right, a.cy) if b.cx > a.cx else (a.left, a.cy)
        ax.add_patch(FancyArrowPatch(start, (b.cx, b.top),
                                     connectionstyle="angle,angleA=0,angleB=90,rad=8", **style))
        label = " + ".join(f"{t} {k}" for t, k in zip(names, counts))
        ax.text((start[0] + b.cx) / 2, a.cy - 5, label, ha="center", va="bottom",
                fontsize=geo.label_pt - 1, color=c["foreground"], zorder=6)


def from_data(data: FigureData) -> Figure:
    """The catalogue's diagram: the chains of the comparison's runtimes."""
    from ...chains import load_chain

    return chains_side_by_side([load_chain(r) for r in data.runtimes],
                               footnote="kubesim · chain data", theme=data.theme)
