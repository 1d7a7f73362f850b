"""More slide-ready figures: load curves, one pod's waterfall, the call chains, resource cost.

Members of the same family as :mod:`simulator.presentation.figures`: each function takes a tidy
DataFrame (or, for the chain diagram, the chains themselves), returns a 1920 × 1080 px
:class:`matplotlib.figure.Figure` drawn in the one kubesim style
(:mod:`simulator.presentation.style`) and never touches pyplot's global state or the model.
Save them with :func:`~simulator.presentation.style.save_figure`.

* :func:`latency_vs_load`: how pod startup (p50 and p99) grows with load, per runtime, with the
  95 % confidence band across replications and the SIG-scalability SLO.
* :func:`waterfall`: one pod's creation as a waterfall of its CRI calls, each bar split into the
  self time of the processes the call crossed.
* :func:`chains_side_by_side`: the processes one RunPodSandbox crosses in each chain, the
  transports between them, where CNI is called from, and how many process boundaries it crosses.
* :func:`resources_by_process`: the CPU cores and resident memory each chain's processes use at
  steady state, with the kubelet's and the runtime's totals.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch, Patch
from matplotlib.ticker import (
    FixedLocator,
    FuncFormatter,
    LogLocator,
    MaxNLocator,
    NullFormatter,
    NullLocator,
)

from ._helpers import Unit, self_seconds
from ._helpers import finish as _finish
from ._helpers import ink_on as _ink_on
from ._helpers import ordered as _ordered
from ._helpers import require as _require
from ._helpers import runtime_ticks as _runtime_ticks
from ._helpers import text_width_px as _text_px
from ._helpers import unit_for as _unit_for
from .style import (
    DPI,
    FIGSIZE_IN,
    PROCESS_ORDER,
    figure_style,
    new_figure,
    process_color,
    runtime_color,
    runtime_sort_key,
)

__all__ = [
    "SLO_POD_STARTUP_S",
    "latency_vs_load",
    "waterfall",
    "chains_side_by_side",
    "chain_edges",
    "resources_by_process",
]

SLO_POD_STARTUP_S = 5.0
"""SIG-scalability pod startup SLO: p99 of pod startup (image pull excluded) at most 5 s."""

_CURVE_COLUMNS = ("runtime", "load", "replications", "p50", "p50_lo", "p50_hi", "p99", "p99_lo",
                  "p99_hi", "running_share")
_SPAN_COLUMNS = ("span_id", "parent_id", "depth", "pod", "operation", "step", "process",
                 "caller", "start", "end", "queued", "source", "runtime")
_RESOURCE_COLUMNS = ("runtime", "time", "process", "group", "metric", "value")
_FIG_W_PX, _FIG_H_PX = FIGSIZE_IN[0] * DPI, FIGSIZE_IN[1] * DPI
_NOTE_PT = 12


# --------------------------------------------------------------------------------------------
# shared helpers (the same conventions as figures.py)


def _line_px(size_pt: float) -> float:
    return size_pt * 1.25 * DPI / 72


def _fit(text: str, width_px: float, size_pt: float, weight: str = "normal") -> str:
    """``text``, cut with an ellipsis if it is wider than ``width_px``."""
    if _text_px(text, size_pt, weight) <= width_px:
        return text
    for n in range(len(text) - 1, 0, -1):
        short = text[:n].rstrip() + "…"
        if _text_px(short, size_pt, weight) <= width_px:
            return short
    return ""


# --------------------------------------------------------------------------------------------
# latency against load


def _replication_note(reps: np.ndarray) -> str:
    reps = reps[np.isfinite(reps)].astype(int)
    if reps.size == 0 or reps.max() < 2:
        return "one replication: no confidence band"
    lo, hi = int(reps.min()), int(reps.max())
    n = f"{hi}" if lo == hi else f"{max(lo, 2)}–{hi}"
    return f"bands: 95 % CI over {n} replications"


def latency_vs_load(
    curve: pd.DataFrame,
    title: str | None = None,
    footnote: str | None = None,
    *,
    theme: str = "light",
    load_label: str = "pods created at once",
) -> Figure:
    """Pod startup p50 (solid, ●) and p99 (dashed, ◆) against load, one colour per runtime.

    ``curve`` is :func:`simulator.experiments.curves.load_curve`'s table: one row per (runtime,
    load) with the mean over replications of each replication's p50 and p99 and the bounds of
    its 95 % confidence interval (``*_lo``/``*_hi``, NaN with one replication: no band is
    drawn then). The load axis is logarithmic when the loads span a factor of 8 or more (a
    doubling series reads evenly), the latency axis when the values span more than 1.5 decades.
    The SIG-scalability SLO (p99 ≤ 5 s) is always drawn. A hollow marker is a point where not
    every pod ran by the end of the run (its percentiles are over the pods that did).
    """
    _require(curve, _CURVE_COLUMNS, "curve")
    if curve.empty:
        raise ValueError("curve holds no rows")
    data = curve.copy()
    data["load"] = data["load"].astype(float)
    runtimes = sorted(data["runtime"].unique(), key=runtime_sort_key)
    loads = np.sort(data["load"].unique())
    cols = ["p50", "p50_lo", "p50_hi", "p99", "p99_lo", "p99_hi"]
    values = data[cols].to_numpy(dtype=float).ravel()
    values = values[np.isfinite(values)]
    unit = _unit_for(float(values.max()) if values.size else 1.0)
    scale = unit.per_second
    positive = values[values > 0]
    log_y = positive.size > 0 and positive.max() / positive.min() > 10 ** 1.5
    log_x = loads.size > 1 and loads.min() > 0 and loads.max() / loads.min() >= 8
    slo = SLO_POD_STARTUP_S * scale
    y_range = float(values.max() - min(values.min(), 0.0)) if values.size else 1.0

    with figure_style(theme) as colors:
        fig, ax = new_figure()
        drawn: list[tuple[str, np.ndarray]] = []
        runtime_handles: list[tuple[Line2D, str]] = []
        partial = False
        for runtime in runtimes:
            rows = data[data["runtime"] == runtime].sort_values("load")
            x = rows["load"].to_numpy(dtype=float)
            color = runtime_color(runtime)
            both = rows[["p50", "p99"]].to_numpy(dtype=float)
            # a curve identical to one already drawn (cri-dockerd runs dockershim's code) is drawn
            # thin on top of it and says so, rather than hiding it
            twin = next((r for r, v in drawn if v.shape == both.shape
                         and np.allclose(v, both, equal_nan=True)), None)
            # nearly the same curve (within 2 % of the latency range): drawn thin on top too
            near = next((r for r, v in drawn if v.shape == both.shape and twin is None
                         and np.nanmax(np.abs(v - both)) < 0.02 * y_range), None)
            drawn.append((runtime, both))
            width = 1.6 if twin or near else 3.0
            full = rows["running_share"].to_numpy(dtype=float) >= 1.0 - 1e-9
            partial |= not full.all()
            for q, dash, marker, alpha in (("p50", "solid", "o", 0.16),
                                           ("p99", (0, (5, 2.5)), "D", 0.10)):
                y = rows[q].to_numpy(dtype=float) * scale
                lo = rows[f"{q}_lo"].to_numpy(dtype=float) * scale
                hi = rows[f"{q}_hi"].to_numpy(dtype=float) * scale
                band = np.isfinite(lo) & np.isfinite(hi)
                if band.any() and not twin:
                    alpha = alpha * (0.6 if near else 1.0)
                    ax.fill_between(x, np.where(band, lo, np.nan), np.where(band, hi, np.nan),
                                    color=color, alpha=alpha, linewidth=0, zorder=1)
                ax.plot(x, y, color=color, linestyle=dash, linewidth=width, zorder=3,
                        solid_capstyle="round")
                size = 9 if marker == "o" else 8
                if twin or near:
                    size -= 3
                ax.plot(x[full], y[full], linestyle="none", marker=marker, markersize=size,
                        color=color, markeredgecolor=colors["background"], markeredgewidth=1.2,
                        zorder=4)
                ax.plot(x[~full], y[~full], linestyle="none", marker=marker, markersize=size,
                        markerfacecolor=colors["background"], markeredgecolor=color,
                        markeredgewidth=2.0, zorder=4)
            runtime_handles.append((Line2D([], [], color=color, linewidth=width),
                                    f"{runtime} (= {twin})" if twin else
                                    f"{runtime} (≈ {near})" if near else runtime))

        slo_line = ax.axhline(slo, color=colors["foreground"], linewidth=1.8,
                              linestyle=(0, (1, 2.5)), zorder=2)
        key = [
            (Line2D([], [], color=colors["muted"], linestyle="solid", marker="o",
                    markersize=9, markeredgecolor=colors["background"]), "p50 (median)"),
            (Line2D([], [], color=colors["muted"], linestyle=(0, (5, 2.5)), marker="D",
                    markersize=8, markeredgecolor=colors["background"]), "p99"),
            (slo_line, f"SLO: p99 ≤ {SLO_POD_STARTUP_S:g} s"),
        ]
        if partial:
            key.append((Line2D([], [], linestyle="none", marker="o", markersize=9,
                               markerfacecolor=colors["background"],
                               markeredgecolor=colors["muted"], markeredgewidth=2.0),
                        "not every pod ran"))
        handles = runtime_handles + key
        ax.legend([h for h, _ in handles], [t for _, t in handles], loc="best",
                  handlelength=2.4, frameon=True, facecolor=colors["background"],
                  edgecolor="none", framealpha=0.9)

        if log_x:
            ax.set_xscale("log")
            ax.xaxis.set_major_locator(FixedLocator(loads.tolist()))
            ax.xaxis.set_minor_locator(NullLocator())
            ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
            pad = (loads.max() / loads.min()) ** 0.04
            ax.set_xlim(loads.min() / pad, loads.max() * pad)
        else:
            span = loads.max() - loads.min() if loads.size > 1 else max(loads.max(), 1.0)
            ax.set_xlim(loads.min() - 0.04 * span, loads.max() + 0.04 * span)
            if loads.size <= 12:
                ax.xaxis.set_major_locator(FixedLocator(loads.tolist()))
                ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        top = max(float(values.max()) * scale if values.size else slo, slo)
        if log_y:
            ax.set_yscale("log")
            bottom = min(float(positive.min()) * scale, slo)
            ax.set_ylim(bottom / 1.4, top * 1.4)
            ax.yaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
            ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
            ax.yaxis.set_minor_formatter(NullFormatter())
        else:
            ax.set_ylim(0, top * 1.06)
        ax.set_xlabel(load_label)
        ax.set_ylabel(f"pod startup latency ({unit.name})")
        ax.set_title(title or "How pod startup grows with load")
        ax.set_title(_replication_note(data["replications"].to_numpy(dtype=float)), loc="right",
                     fontsize=_NOTE_PT + 1, fontweight="normal", color=colors["muted"])
    return _finish(fig, footnote)


# --------------------------------------------------------------------------------------------
# one pod's waterfall


def _self_times(spans: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Each span's self time (duration minus the union of its children) and its queued part."""
    self_s = self_seconds(spans)
    queued = np.clip(spans["queued"].to_numpy(dtype=float), 0.0, None)
    queued = np.where(queued > 1e-9, np.minimum(queued, self_s), 0.0)
    return self_s, queued


def _roots(spans: pd.DataFrame) -> np.ndarray:
    """The operation-level (depth 0) ancestor of each span."""
    parent = dict(zip(spans["span_id"].astype(int), spans["parent_id"].astype(int)))
    out = []
    for sid in spans["span_id"].astype(int):
        seen = 0
        while parent.get(sid, -1) in parent and seen < 1000:
            sid, seen = parent[sid], seen + 1
        out.append(sid)
    return np.array(out, dtype=np.int64)


def waterfall(
    spans: pd.DataFrame,
    title: str | None = None,
    footnote: str | None = None,
    *,
    theme: str = "light",
) -> Figure:
    """One pod's creation as a waterfall: one row per CRI call, to scale in time.

    ``spans`` are the spans of ONE pod of ONE runtime (``source`` ``sync`` and ``puller``).
    Each row is an operation-level span (depth 0), placed at its start and as long as it took;
    the bar is split into the *self time* of each process the call crossed (a span's duration
    minus its children's), in chain order from the kubelet to the far end (not in time order),
    with the time queued for a lock, a CPU or a slot hatched. After each bar: its total and the
    process that took the largest share. Waits with no CRI call for the pod are marked.
    """
    _require(spans, _SPAN_COLUMNS, "spans")
    if spans.empty:
        raise ValueError("no spans to draw")
    for column in ("runtime", "pod"):
        values = sorted(spans[column].astype(str).unique())
        if len(values) != 1:
            raise ValueError(f"spans must be of one pod of one runtime; got {column} {values}")
    spans = spans.sort_values(["start", "depth", "span_id"], kind="stable").reset_index(drop=True)
    self_s, queued = _self_times(spans)
    spans = spans.assign(work_s=self_s - queued, queued_s=queued, root=_roots(spans))
    rows = spans[spans["span_id"].isin(spans["root"])].reset_index(drop=True)
    runtime, pod = str(spans["runtime"].iloc[0]), str(spans["pod"].iloc[0])
    t0 = float(rows["start"].min())
    total = float(rows["end"].max()) - t0
    unit = _unit_for(total)
    per = unit.per_second
    processes = _ordered(spans["process"].unique(), PROCESS_ORDER)
    sums = spans.groupby(["root", "process"])[["work_s", "queued_s"]].sum()
    roots_with_parts = set(sums.index.get_level_values("root"))

    # per row: (process, seconds, hatched) segments, scaled so that they fill the bar exactly
    # (concurrent children could make self times add up to more than the duration)
    bars: list[tuple[float, float, list[tuple[str, float, bool]], str]] = []
    for row in rows.itertuples(index=False):
        start, end = float(row.start) - t0, float(row.end) - t0
        segs: list[tuple[str, float, bool]] = []
        top = ""
        if int(row.span_id) in roots_with_parts:
            parts = sums.xs(int(row.span_id), level="root")
            for p in processes:
                if p in parts.index:
                    w, q = float(parts.loc[p, "work_s"]), float(parts.loc[p, "queued_s"])
                    segs += [(p, w, False)] * (w > 0) + [(p, q, True)] * (q > 0)
            by_p = parts["work_s"] + parts["queued_s"]
            if by_p.sum() > 0:
                top = f"{by_p.idxmax()} {float(by_p.max()) / float(by_p.sum()):.0%}"
                top = top.replace("%", " %")
        s = sum(v for _, v, _ in segs)
        k = (end - start) / s if s > 0 else 0.0
        bars.append((start, end, [(p, v * k, h) for p, v, h in segs], top))

    labels = [str(step) + (" (image puller)" if src == "puller" else "")
              for step, src in zip(rows["step"], rows["source"])]
    with figure_style(theme) as colors:
        fig, ax = new_figure()
        n = len(rows)
        bar_h = 0.62
        ax.set_yticks(np.arange(n), labels)
        ax.set_ylim(n - 0.5, -0.5 - 0.3)
        ax.grid(axis="y", visible=False)
        ax.tick_params(axis="y", length=0)
        xlabel = f"time since the pod's first CRI call ({unit.name})"
        ax.set_xlabel(xlabel)
        ax.set_title(title or f"{runtime}: where one pod's time goes")
        # a queued share too thin to see (< 2 px at a rough 80 % axes width) is not announced
        visible = 2.0 * total / (0.8 * _FIG_W_PX) if total > 0 else 0.0
        hatched = any(h and v >= visible for _, _, segs, _ in bars for _, v, h in segs)
        handles = [Patch(facecolor=process_color(p), label=p) for p in processes]
        if hatched:
            handles.append(Patch(facecolor=colors["muted"], hatch="///",
                                 edgecolor=colors["background"], label="queued (lock, CPU, slot)"))
        _legend_below(fig, handles)
        ax.set_xlim(0, total * per if total > 0 else 1.0)
        # the geometry is known only after layout: lay out once, then fit labels in pixels
        fig.draw_without_rendering()
        width_px = ax.get_window_extent().width
        pad_px = 10.0
        totals = [(_duration(end - start), top) for start, end, _, top in bars]
        need = 0.0
        for (start, end, _, _), (text, top) in zip(bars, totals):
            label_px = _text_px(text, 15, "bold") + (_text_px("  " + top, 13) if top else 0.0)
            need = max(need, end * per / (1 - min((label_px + pad_px + 8) / width_px, 0.8)))
        x_max = max(need, total * per * 1.02, 1e-9)
        x_min = -0.008 * x_max
        ax.set_xlim(x_min, x_max)
        px_per = width_px / (x_max - x_min)
        min_w = 3.0 / px_per  # a call too short to see still gets a visible sliver
        for i, ((start, end, segs, top), (text, _)) in enumerate(zip(bars, totals)):
            left = start * per
            if (end - start) * per < min_w:
                sliver = process_color(top.rsplit(" ", 2)[0]) if top else colors["muted"]
                ax.barh(i, min_w, left=left, height=bar_h, color=sliver, zorder=2)
            for p, v, h in segs:
                w = v * per
                color = process_color(p)
                # a segment too thin for a border is drawn without one, or the border hides it
                ax.barh(i, w, left=left, height=bar_h, color=color, hatch="///" if h else None,
                        edgecolor=colors["background"],
                        linewidth=0.8 if w * px_per > 4 else 0.0, zorder=3)
                for candidate in (f"{p} {_duration(v)}", _duration(v)):
                    if not h and w * px_per > _text_px(candidate, 13) + 24:
                        ax.text(left + w / 2, i, candidate, ha="center", va="center",
                                fontsize=13, color=_ink_on(color), zorder=4)
                        break
                left += w
            x_end = max(end * per, start * per + min_w)
            ax.annotate(text, (x_end, i), xytext=(pad_px * 72 / DPI, 0),
                        textcoords="offset points", ha="left", va="center", fontsize=15,
                        fontweight="bold", color=colors["foreground"], zorder=5)
            if top:
                ax.annotate("  " + top, (x_end, i),
                            xytext=((pad_px + _text_px(text, 15, "bold")) * 72 / DPI, -1),
                            textcoords="offset points", ha="left", va="center", fontsize=13,
                            color=colors["muted"], zorder=5)
        # what the pod took, and how to read a bar: top right, where a waterfall leaves room
        # (bottom left if the first rows reach that far)
        note = (f"{pod}: {_duration(total)} from its first CRI call to its last\n"
                "bars: self time per process, not in time order")
        note_px = max(_text_px(line, 13) for line in note.split("\n"))
        pitch_px = ax.get_window_extent().height / (n + 0.3)
        covered = int(np.ceil((2 * _line_px(13) * 1.1 + 12) / pitch_px))  # rows under the note
        first_px = max(((end * per - x_min) * px_per + pad_px + _text_px(text, 15, "bold")
                        + (_text_px("  " + top, 13) if top else 0.0))
                       for (_, end, _, top), (text, _) in list(zip(bars, totals))[:covered])
        last_px = min((start * per - x_min) * px_per for start, _, _, _ in bars[n - covered:])
        if first_px + note_px + 30 < width_px:
            ax.text(0.995, 0.995, note, transform=ax.transAxes, ha="right", va="top",
                    fontsize=13, color=colors["muted"], linespacing=1.35, zorder=6)
        elif note_px + 40 < last_px:
            ax.text(0.015, 0.025, note, transform=ax.transAxes, ha="left", va="bottom",
                    fontsize=13, color=colors["muted"], linespacing=1.35, zorder=6)
        else:  # no corner is free: under the legend's title instead
            legend = fig.legends[0]
            legend.set_title(note.replace("\n", " · "))
        # waits between calls, when long enough to matter
        ends = np.array([e for _, e, _, _ in bars]) * per
        starts = np.array([s for s, _, _, _ in bars]) * per
        for i in range(1, n):
            before = float(ends[:i].max())
            gap = float(starts[i]) - before
            if gap * px_per > 60 and gap > 0.05 * total * per:
                ax.plot([before, starts[i]], [i - 0.5, i - 0.5], color=colors["muted"],
                        linewidth=1.4, linestyle=(0, (1, 2.5)), zorder=2)
                # the long label only where the dotted line still shows on both sides of it
                for text, room in ((f"{_duration(gap / per)}, no CRI call", 90.0),
                                   (_duration(gap / per), 12.0)):
                    if _text_px(text, 12) + room < gap * px_per:
                        ax.text((before + starts[i]) / 2, i - 0.5, text, ha="center",
                                va="center", fontsize=12, fontstyle="italic",
                                color=colors["muted"], zorder=4,
                                bbox=dict(boxstyle="square,pad=0.15",
                                          facecolor=colors["background"], edgecolor="none"))
                        break
    return _finish(fig, footnote)


def _duration(seconds: float) -> str:
    """A duration in the unit that reads best for it: ``38.5 ms``, ``1.2 s``."""
    return (Unit("ms", 1000.0) if seconds < 1.0 else Unit("s", 1.0)).format(seconds)


def _legend_below(fig: Figure, handles: list[Patch], title: str | None = None) -> None:
    """A figure legend under the axes, read left to right then down, with as many columns as
    fit the figure's width (matplotlib fills columns first, so the handles are reordered)."""
    size = 15.0  # legend.fontsize
    em = size * DPI / 72
    widths = [_text_px(h.get_label(), size) + 2.0 * em for h in handles]  # handle + pad
    ncols = len(handles)
    while ncols > 1:
        rows = -(-len(handles) // ncols)
        col_w = [max(widths[r * ncols + c] for r in range(rows) if r * ncols + c < len(widths))
                 for c in range(ncols)]
        if sum(col_w) + 1.4 * em * (ncols - 1) < 0.96 * _FIG_W_PX:
            break
        ncols -= 1
    rows = -(-len(handles) // ncols)
    grid = [handles[r * ncols:(r + 1) * ncols] for r in range(rows)]
    ordered = [row[c] for c in range(ncols) for row in grid if c < len(row)]
    fig.legend(handles=ordered, loc="outside lower center", ncols=ncols, handlelength=1.2,
               columnspacing=1.4, title=title, title_fontsize=13)


# --------------------------------------------------------------------------------------------
# the call chains, side by side

_TRANSPORT_LABEL = {"grpc": "gRPC", "http": "HTTP", "ttrpc": "ttrpc", "exec": "fork/exec",
                    "in-process": "call"}
# conditions under which a RunPodSandbox is counted: a pod on the pod network, pause image
# present, the pod's first shim (its first sandbox)
_DEFAULT_WHEN = (None, "podNetwork", "newShim")
_LATER_OPERATIONS = ("create_container", "start_container", "podsandbox_status",
                     "container_status", "list_podsandbox", "list_containers", "image_status",
                     "pull_image", "stop_container", "stop_podsandbox", "remove_container",
                     "remove_podsandbox")


def _cri_name(operation: str) -> str:
    return "".join(w.capitalize() for w in operation.split("_")).replace("Podsandbox", "PodSandbox")


@dataclass
class _ChainGraph:
    """What :func:`chains_side_by_side` draws of one chain, all derived from the chain data."""

    chain: Any
    nodes: list[str]  # processes in first-visit order, the kubelet first
    parent: dict[str, str]  # the caller that reached a process first
    edges: dict[tuple[str, str], dict[str, int]]  # (caller, callee) -> {transport: calls}
    crossings: int  # calls between different OS processes
    os_processes: list[str]
    later: dict[str, list[str]] = field(default_factory=dict)  # CRI op -> processes first used
    cni: set[str] = field(default_factory=set)  # processes reached by CNI steps


def chain_edges(chain: Any, operation: str = "run_podsandbox",
                when: Sequence[str | None] = _DEFAULT_WHEN) -> list[tuple[str, str, str, int]]:
    """(caller, callee, transport, calls) of an operation, callers ≠ callees, in first-visit
    order; steps guarded by a condition not in ``when`` (and what they call) are left out."""
    counts: dict[tuple[str, str, str], int] = {}

    def walk(steps: Iterable[Any], caller: str) -> None:
        for step in steps:
            if step.when not in when:
                continue
            if step.process != caller:
                key = (caller, step.process, step.transport)
                counts[key] = counts.get(key, 0) + 1
            walk(step.calls, step.process)

    walk(chain.operations[operation].steps, "kubelet")
    return [(a, b, t, n) for (a, b, t), n in counts.items()]


def _chain_graph(chain: Any, operation: str) -> _ChainGraph:
    edges: dict[tuple[str, str], dict[str, int]] = {}
    nodes, parent = ["kubelet"], {}
    for a, b, t, n in chain_edges(chain, operation):
        edges.setdefault((a, b), {})[t] = n
        for p in (a, b):
            if p not in nodes:
                nodes.append(p)
        if b not in parent and b != "kubelet":
            parent[b] = a

    def os_of(p: str) -> str:
        spec = chain.processes.get(p)
        return (spec.osProcess or p) if spec is not None else p

    crossings = sum(n for (a, b), ts in edges.items() for n in ts.values() if os_of(a) != os_of(b))
    os_processes = list(dict.fromkeys(os_of(p) for p in nodes))
    later: dict[str, list[str]] = {}
    missing = [p for p in chain.processes if p not in nodes]
    for op in _LATER_OPERATIONS:
        if op not in chain.operations or not missing:
            continue
        used = {b for a, b, _, _ in chain_edges(chain, op, (*_DEFAULT_WHEN, "reuseShim"))}
        hit = [p for p in missing if p in used]
        if hit:
            later[_cri_name(op)] = hit
            missing = [p for p in missing if p not in hit]
    cni = {s.process for s in _iter_steps(chain.operations[operation].steps)
           if s.kind in ("cniAdd", "cniLoopback", "cniDel")}
    return _ChainGraph(chain, nodes, parent, edges, crossings, os_processes, later, cni)


def _iter_steps(steps: Iterable[Any]) -> Iterable[Any]:
    for step in steps:
        yield step
        yield from _iter_steps(step.calls)


@dataclass
class _Box:
    name: str
    cx: float
    cy: float
    w: float
    h: float
    side: bool = False  # beside its caller rather than on the spine

    @property
    def left(self) -> float:
        return self.cx - self.w / 2

    @property
    def right(self) -> float:
        return self.cx + self.w / 2

    @property
    def top(self) -> float:
        return self.cy - self.h / 2

    @property
    def bottom(self) -> float:
        return self.cy + self.h / 2


@dataclass(frozen=True)
class _ChainGeometry:
    """Pixel geometry shared by every column of :func:`chains_side_by_side`."""

    col_w: float  # usable width of a column
    spine_dx: float  # spine axis, from the column's left edge
    row_y: tuple[float, ...]  # centre of each row
    box_h: float
    name_pt: float = 12.5
    label_pt: float = 12.0
    note_pt: float = 12.0


def _box_width(name: str, pt: float, minimum: float) -> float:
    return max(minimum, _text_px(name, pt, "bold") + 22)


def _layout(graph: _ChainGraph, x0: float, geo: _ChainGeometry) -> dict[str, _Box]:
    """Boxes of a chain: a spine straight down from the kubelet to the deepest process; CNI
    beside its caller, to the right (and any other leaf that does not continue the spine,
    beside its caller or below it when that place is taken)."""
    children: dict[str, list[str]] = {p: [] for p in graph.nodes}
    for child, par in graph.parent.items():
        children[par].append(child)
    for kids in children.values():
        kids.sort(key=graph.nodes.index)

    @lru_cache(maxsize=None)
    def height(p: str) -> int:
        return 1 + max((height(c) for c in children[p]), default=0)

    spine_x = x0 + geo.spine_dx
    last = len(geo.row_y) - 1
    boxes = {"kubelet": _Box("kubelet", spine_x, geo.row_y[0],
                             _box_width("kubelet", geo.name_pt, 150), geo.box_h)}
    side_rows: set[int] = set()
    queue: list[tuple[str, int]] = [("kubelet", 0)]
    while queue:
        p, row = queue.pop(0)
        kids = children[p]
        spine = [k for k in kids if k not in graph.cni]
        down = max(spine, key=lambda k: (height(k), -kids.index(k))) if spine else None
        for k in kids:
            if k == down:
                r = min(row + 1, last)
                boxes[k] = _Box(k, spine_x, geo.row_y[r], _box_width(k, geo.name_pt, 150),
                                geo.box_h)
            else:
                r = row
                while r in side_rows and r < last:
                    r += 1
                side_rows.add(r)
                w = _box_width(k, geo.name_pt, 66)
                boxes[k] = _Box(k, x0 + geo.col_w - w / 2, geo.row_y[r], w, geo.box_h, side=True)
            queue.append((k, r))
    return boxes


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
    graphs = [_chain_graph(c, operation) for c in chains]
    n = len(graphs)
    margin, gutter = 10.0, 22.0
    col_w = (_FIG_W_PX - 2 * margin) / n - gutter
    levels = max(max(_depth_rows(g).values()) for g in graphs) + 1
    top_y, bottom_y = 262.0, 800.0
    pitch = min((bottom_y - top_y) / max(levels - 1, 1), 150.0)
    geo = _ChainGeometry(col_w=col_w, spine_dx=min(142.0, col_w * 0.31),
                         row_y=tuple(top_y + i * pitch for i in range(levels + 1)),
                         box_h=min(56.0, pitch * 0.55))
    op_name = _cri_name(operation)
    with figure_style(theme) as colors:
        fig = Figure(figsize=FIGSIZE_IN, dpi=DPI)
        ax = fig.add_axes((0.0, 0.0, 1.0, 1.0))
        ax.set_xlim(0, _FIG_W_PX)
        ax.set_ylim(_FIG_H_PX, 0)
        ax.set_axis_off()
        fig.text(0.012, 0.975, title or f"What one {op_name} crosses, chain by chain",
                 ha="left", va="top", fontsize=22, fontweight="bold", color=colors["foreground"])
        for i, graph in enumerate(graphs):
            x0 = margin + gutter / 2 + i * (col_w + gutter)
            if i:
                ax.plot([x0 - gutter / 2] * 2, [92, 990], color=colors["grid"], linewidth=1.2)
            _draw_chain(ax, graph, x0, geo, colors)
        note = (f"×N: calls over the arrow in one {op_name} of a pod on the pod network (pause "
                "image present, first shim) · dashed arrow: inside one OS process")
        size = 11.0
        room = _FIG_W_PX - 24 - (_text_px(footnote.split("\n")[-1], 11) + 40 if footnote else 0)
        y = _FIG_H_PX - 12
        if _text_px(note, size) > room:  # above the footnote
            y -= 28 * (footnote.count("\n") + 1) if footnote else 0
            room = _FIG_W_PX - 24
        lines = _wrap(note, room, size)
        ax.text(_FIG_W_PX - 12, y, "\n".join(lines), ha="right", va="bottom", fontsize=size,
                color=colors["muted"], linespacing=1.3)
    return _finish(fig, footnote)


def _wrap(text: str, width_px: float, size_pt: float, weight: str = "normal") -> list[str]:
    """Greedy word wrap to ``width_px`` (a word wider than the line is cut with an ellipsis)."""
    lines: list[str] = []
    for word in text.split(" "):
        trial = f"{lines[-1]} {word}" if lines else word
        if lines and _text_px(trial, size_pt, weight) <= width_px:
            lines[-1] = trial
        else:
            lines.append(_fit(word, width_px, size_pt, weight))
    return lines


def _depth_rows(graph: _ChainGraph) -> dict[str, int]:
    rows = {"kubelet": 0}
    for p in graph.nodes[1:]:
        rows[p] = rows.get(graph.parent.get(p, "kubelet"), 0) + (0 if p in graph.cni else 1)
    return rows


def _draw_chain(ax: Axes, graph: _ChainGraph, x0: float, geo: _ChainGeometry,
                c: Mapping[str, str]) -> None:
    chain = graph.chain
    color = runtime_color(chain.name)
    col_w = geo.col_w
    ax.text(x0, 92, chain.name, ha="left", va="top", fontsize=20, fontweight="bold",
            color=color)
    ax.text(x0, 138, "\n".join(_wrap(str(chain.title), col_w, 11.5)[:2]), ha="left", va="top",
            fontsize=11.5, color=c["muted"], linespacing=1.15)
    boxes = _layout(graph, x0, geo)

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
                right = max(right, boxes[a].cx + 12 + _text_px(_arrow_label(transports),
                                                               geo.label_pt) + 10)
        right = max(right, left + _text_px(label, 12) + 24)
        top = min(boxes[p].top for p in members) - tag
        bottom = max(boxes[p].bottom for p in members) + pad
        outer[host] = (left, top, right, bottom)
        ax.add_patch(FancyBboxPatch((left, top), right - left, bottom - top,
                                    boxstyle="round,pad=0,rounding_size=10",
                                    facecolor=c["band"], edgecolor=c["foreground"],
                                    linewidth=1.4, zorder=1))
        ax.text(left + 10, top + 6, _fit(label, right - left - 16, 12), ha="left",
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
        size = geo.name_pt
        while size > 10 and _text_px(p, size, "bold") > box.w - 14:
            size -= 0.5
        ax.text(box.cx, box.cy, _fit(p, box.w - 12, size, "bold"), ha="center", va="center",
                fontsize=size, fontweight="bold", color=_ink_on(fill), zorder=5)
        # what kind of process it is, beside a spine box (where no side box stands)
        note = _process_note(graph, p, s)
        if note and not box.side and round(box.cy) not in side_rows:
            x = box.right + (24 if instances == "spawned" else 12)
            lines = _wrap(note, x0 + col_w - x, geo.note_pt)[:2]
            ax.text(x, box.cy, "\n".join(lines), ha="left", va="center", fontsize=geo.note_pt,
                    fontstyle="italic", color=c["muted"], linespacing=1.15, zorder=5)

    # the counts, and what the operation never reaches
    base = 880.0
    if graph.later:
        text = " · ".join(f"{', '.join(ps)}: first in {op}" for op, ps in graph.later.items())
        lines = _wrap(text, col_w, 11.5)[:2]
        ax.text(x0, base - 8, "\n".join(lines), ha="left", va="bottom", fontsize=11.5,
                fontstyle="italic", color=c["muted"], linespacing=1.2)
    number = f"{graph.crossings}"
    ax.text(x0, base + 62, number, ha="left", va="baseline", fontsize=36, fontweight="bold",
            color=color)
    nx = x0 + _text_px(number, 36, "bold") + 14
    for text, dy, size, weight, ink in (
            ("boundary crossings", 28, 14.0, "bold", c["foreground"]),
            (f"between {len(graph.os_processes)} OS processes", 60, 12.5, "normal", c["muted"])):
        while size > 10 and _text_px(text, size, weight) > x0 + col_w - nx:
            size -= 0.5
        ax.text(nx, base + dy, _fit(text, x0 + col_w - nx, size, weight), ha="left",
                va="baseline", fontsize=size, fontweight=weight, color=ink)


def _process_note(graph: _ChainGraph, p: str, spec: Any) -> str:
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


def _draw_arrow(ax: Axes, a: _Box, b: _Box, transports: Mapping[str, int], same_process: bool,
                x0: float, geo: _ChainGeometry, c: Mapping[str, str],
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
        size = geo.label_pt
        while size > 10 and _text_px(label, size) > right_edge - x:
            size -= 0.5
        y_label = ((exit_y if exit_y is not None else y0) + y1) / 2
        ax.text(x, y_label, _fit(label, right_edge - x, size), ha="left", va="center",
                fontsize=size, color=c["foreground"], zorder=6)
    elif abs(a.cy - b.cy) < 1:  # beside: the label over the callee, right-aligned with it
        x_from, x_to = (a.right, b.left) if b.cx > a.cx else (a.left, b.right)
        ax.add_patch(FancyArrowPatch((x_from, a.cy), (x_to, b.cy), **style))
        label = _arrow_label(transports)
        size = geo.label_pt
        room = right_edge - (a.cx + 12 + 130)  # clear of the spine's label above this row
        while size > 10 and _text_px(label, size) > room:
            size -= 0.5
        ax.text(b.right, b.top - 6, _fit(label, room, size), ha="right", va="bottom",
                fontsize=size, color=c["foreground"], zorder=6)
    else:  # anywhere else: across from the caller's side, then down onto the callee
        start = (a.right, a.cy) if b.cx > a.cx else (a.left, a.cy)
        ax.add_patch(FancyArrowPatch(start, (b.cx, b.top),
                                     connectionstyle="angle,angleA=0,angleB=90,rad=8", **style))
        label = " + ".join(f"{t} {k}" for t, k in zip(names, counts))
        ax.text((start[0] + b.cx) / 2, a.cy - 5, label, ha="center", va="bottom",
                fontsize=geo.label_pt - 1, color=c["foreground"], zorder=6)


# --------------------------------------------------------------------------------------------
# CPU and memory by process


def resources_by_process(
    resources: pd.DataFrame,
    title: str | None = None,
    footnote: str | None = None,
    *,
    theme: str = "light",
    since: float | None = None,
) -> Figure:
    """Steady-state CPU cores and resident memory per process, one stacked bar per runtime.

    ``resources`` is a Comparison's ``.resources`` (long: runtime, node, time, process, group,
    metric, value, replication). Steady state is the last 30 % of each run's time range, or
    ``time >= since`` when given; values are averaged over that window, then over nodes and
    replications (so a bar is one node's cost). Segments are processes in their process colour,
    the kubelet's group first; after each bar its total and the kubelet's and the runtime's
    shares (the groups the node e2e resource tests measured as cgroups).
    """
    _require(resources, _RESOURCE_COLUMNS, "resources")
    data = resources[resources["metric"].isin(["cpu_cores", "rss_mb"])]
    if data.empty:
        raise ValueError("resources hold no cpu_cores or rss_mb rows")
    keys = [k for k in ("runtime", "node", "replication") if k in data.columns]
    if since is None:
        t_lo = data.groupby(keys)["time"].transform("min")
        t_hi = data.groupby(keys)["time"].transform("max")
        steady = data[data["time"] >= t_hi - 0.3 * (t_hi - t_lo)]
        window = float((data["time"].max() - 0.3 * (data["time"].max() - data["time"].min())))
        window_note = f"mean over the last 30 % of the run (t ≥ {window:.0f} s)"
    else:
        steady = data[data["time"] >= since]
        window_note = f"mean over t ≥ {since:g} s"
        if steady.empty:
            raise ValueError(f"resources hold no sample at or after since={since}")
    per_run = steady.groupby(keys + ["process", "group", "metric"])["value"].mean()
    means = per_run.groupby(["runtime", "process", "group", "metric"]).mean().unstack("metric")
    means = means.reindex(columns=["cpu_cores", "rss_mb"]).fillna(0.0)
    runtimes = sorted(means.index.get_level_values("runtime").unique(), key=runtime_sort_key)
    group_of = {p: g for (_, p, g) in means.index}
    shown = means[(means.abs() > 1e-9).any(axis=1)]
    procs = _ordered(shown.index.get_level_values("process").unique(), PROCESS_ORDER)
    groups = ["kubelet", "runtime"] + sorted(set(group_of.values()) - {"kubelet", "runtime"})
    procs = sorted(procs, key=lambda p: (groups.index(group_of.get(p, "runtime")), procs.index(p)))

    cpu_max = float(means["cpu_cores"].groupby("runtime").sum().max())
    if cpu_max < 0.5:  # millicores, as Kubernetes writes small CPU amounts
        cpu = ("cpu_cores", "CPU in use", "millicores", 1000.0,
               lambda v: f"{v:.0f}" if v >= 10 else f"{v:.2g}")
    else:
        cpu = ("cpu_cores", "CPU in use", "cores", 1.0, lambda v: f"{v:.2f}")
    panels = (cpu, ("rss_mb", "resident memory", "MB", 1.0, lambda v: f"{v:.0f}"))
    axis_labels = ("millicores (1000 = one core busy)" if cpu[2] == "millicores" else
                   "cores busy", "MB (resident set size)")
    tables = []
    for metric, _, _, factor, _ in panels:
        table = means[metric].groupby(["runtime", "process"]).sum().unstack("process")
        tables.append(table.reindex(index=runtimes, columns=procs).fillna(0.0) * factor)
    y = np.arange(len(runtimes))
    with figure_style(theme) as colors:
        fig, axes = new_figure(1, 2, sharey=True)
        fig.suptitle(title or "What each chain costs on the node at steady state", x=0.008,
                     ha="left", fontsize=22, fontweight="bold", color=colors["foreground"])
        handles = [Patch(facecolor=process_color(p), label=p) for p in procs]
        _legend_below(fig, handles, title=f"{window_note}, per node · "
                      "segments: the kubelet's processes, then the runtime's")
        _runtime_ticks(axes[0], runtimes)
        axes[1].tick_params(axis="y", length=0, labelleft=False)
        axes[1].grid(axis="y", visible=False)
        for k, (ax, (metric, name, unit, _, fmt)) in enumerate(zip(axes, panels)):
            ax.set_xlabel(axis_labels[k])
            ax.set_title(name, fontsize=19)
            total = float(tables[k].sum(axis=1).max())
            ax.set_xlim(0, total if total > 0 else 1.0)
        # lay out once, then size each panel's x range so that the labels after the bars fit
        fig.draw_without_rendering()
        for k, (ax, (metric, name, unit, _, fmt)) in enumerate(zip(axes, panels)):
            table = tables[k]
            totals = table.sum(axis=1).to_numpy()
            width_px = ax.get_window_extent().width
            splits = []
            for runtime in runtimes:
                by_group = {g: float(sum(table.loc[runtime, p] for p in procs
                                         if group_of.get(p) == g)) for g in groups}
                splits.append(" · ".join(f"{g} {fmt(v)}" for g, v in by_group.items()
                                         if v > 0 or g in ("kubelet", "runtime")))
            need = 0.0
            for total, split in zip(totals, splits):
                label_px = max(_text_px(f"{fmt(total)} {unit}", 16, "bold"), _text_px(split, 12.5))
                need = max(need, total / (1 - min((label_px + 16) / width_px, 0.8)))
            x_max = need if need > 0 else 1.0
            ax.set_xlim(0, x_max)
            ax.xaxis.set_major_locator(MaxNLocator(nbins=5, steps=[1, 2, 2.5, 5, 10]))
            px_per = width_px / x_max
            left = np.zeros(len(runtimes))
            for p in procs:
                w = table[p].to_numpy()
                ax.barh(y, w, left=left, height=0.6, color=process_color(p),
                        edgecolor=colors["background"], linewidth=1.2, zorder=3)
                for yi, (l, v) in enumerate(zip(left, w)):
                    text = fmt(v)
                    if v > 0 and v * px_per > _text_px(text, 13) + 14:
                        ax.text(l + v / 2, yi, text, ha="center", va="center", fontsize=13,
                                color=_ink_on(process_color(p)), zorder=4)
                left = left + w
            for yi in range(len(runtimes)):
                x_text = left[yi] + 10 / px_per
                ax.text(x_text, yi - 0.04, f"{fmt(left[yi])} {unit}", ha="left", va="bottom",
                        fontsize=16, fontweight="bold", color=colors["foreground"], zorder=5)
                ax.text(x_text, yi + 0.04, splits[yi], ha="left", va="top", fontsize=12.5,
                        color=colors["muted"], zorder=5)
    return _finish(fig, footnote)
