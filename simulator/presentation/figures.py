"""Slide-ready figures from kubesim's tidy DataFrames.

Each function takes the ``pods`` or ``spans`` DataFrame the model produces (columns in
DESIGN.md, "Outputs") and returns a :class:`matplotlib.figure.Figure` of 1920 × 1080 px
drawn in the one kubesim style (:mod:`simulator.presentation.style`). Nothing here runs the model
or touches pyplot's global state, so the functions work headless (``MPLBACKEND=Agg``), in
notebooks, and in worker processes alike. Save them with
:func:`~simulator.presentation.style.save_figure`.

The figures answer the questions kubesim exists for:

* :func:`latency_cdf`: how long until a pod runs, per runtime, against the SIG-scalability SLO
  (99th percentile of pod startup, image pull excluded, at most 5 s).
* :func:`time_by_operation` and :func:`time_by_hop`: where that time goes, by CRI operation and
  by the process that does the work (its *self time*: time in a span not spent waiting on a
  callee).
* :func:`sequence_diagram` and :func:`sequence_text`: one pod's call chain as a UML-style
  sequence diagram, so the extra hops of a chain (dockershim → dockerd → containerd → shim →
  runc, versus containerd → shim → runc) are visible at a glance.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter, PercentFormatter

from ._helpers import Unit, runtime_ticks, self_seconds
from ._helpers import duration as _duration
from ._helpers import finish as _finish
from ._helpers import ink_on as _ink_on
from ._helpers import ordered as _ordered
from ._helpers import require as _require
from ._helpers import text_size_px as _text_size_px
from ._helpers import unit_for as _unit_for
from .style import (
    DPI,
    FIGSIZE_IN,
    OPERATION_ORDER,
    PROCESS_ORDER,
    figure_style,
    new_figure,
    operation_color,
    process_color,
    runtime_color,
    runtime_sort_key,
)

__all__ = [
    "SLO_POD_STARTUP_S",
    "latency_cdf",
    "time_by_operation",
    "time_by_hop",
    "sequence_diagram",
    "sequence_text",
    "default_lanes",
]

SLO_POD_STARTUP_S = 5.0
"""SIG-scalability pod startup SLO: p99 of (creation → running, observed via watch, image pull
excluded) at most 5 s (kubernetes/community sig-scalability/slos/pod_startup_latency.md)."""

_SPAN_COLUMNS = ("span_id", "parent_id", "depth", "pod", "operation", "step", "process",
                 "caller", "start", "end", "queued", "outcome", "source", "runtime")
_COLUMN_LABELS = {
    "pod_startup": "pod startup latency, image pull excluded",
    "pod_startup_total": "pod startup latency, image pull included",
    "create_to_schedule": "creation → scheduled",
    "schedule_to_run": "scheduled → containers started",
    "run_to_watch": "containers started → observed via watch",
    "image_pull_seconds": "image pull time",
}
_LABEL_FONT_PT = 10.5


# --------------------------------------------------------------------------------------------
# shared helpers


def _truncate(text: str, max_chars: int) -> str:
    return text if len(text) <= max_chars else text[: max_chars - 1].rstrip() + "…"


def _truncate_to_px(text: str, width_px: float, size_pt: float) -> str:
    """The longest ``_truncate`` of ``text`` no wider than ``width_px``."""
    for n in range(len(text), 0, -1):
        short = _truncate(text, n)
        if _text_size_px(short, size_pt)[0] <= width_px:
            return short
    return ""


# --------------------------------------------------------------------------------------------
# latency CDF


def latency_cdf(
    pods: pd.DataFrame,
    column: str = "pod_startup",
    title: str | None = None,
    footnote: str | None = None,
    *,
    theme: str = "light",
    log_x: bool = False,
) -> Figure:
    """Empirical CDF of a pod latency column, one line per runtime.

    The curve at x is the share of the pods that reached the milestone within x seconds; pods
    that never did (failed or pending, NaN) are left out of the curve and counted in the table.
    Markers show p50 (●) and p99 (◆), whose values the legend table lists. For ``pod_startup``
    the SIG-scalability SLO (p99 ≤ 5 s) is drawn when it falls within twice the slowest pod's
    latency, so that it never squeezes the data into a corner.
    """
    _require(pods, ("runtime", column), "pods")
    label = _COLUMN_LABELS.get(column, column.replace("_", " "))
    slo = SLO_POD_STARTUP_S if column == "pod_startup" else None
    rows = []  # (runtime, sorted values, number of pods)
    for runtime in sorted(pods["runtime"].unique(), key=runtime_sort_key):
        values = pods.loc[pods["runtime"] == runtime, column].to_numpy(dtype=float)
        rows.append((runtime, np.sort(values[~np.isnan(values)]), len(values)))
    reached = [v for _, v, _ in rows if len(v)]
    x_max = max((float(v[-1]) for v in reached), default=0.0)
    unit = _unit_for(max((float(np.percentile(v, 99)) for v in reached), default=0.0))
    blank = Line2D([], [], linestyle="none")
    with figure_style(theme) as colors:
        fig, ax = new_figure()
        # legend: two aligned columns, the runtime's line | its p50, p99 and pods not started
        names: list[tuple[Line2D, str]] = []
        stats: list[tuple[Line2D, str]] = []
        uses: dict[str, int] = {}  # era variants share their family's colour: vary the dash
        drawn: list[tuple[str, np.ndarray]] = []
        for runtime, values, n in rows:
            color = runtime_color(runtime)
            # a curve identical to one already drawn (cri-dockerd runs dockershim's code) is
            # dashed on top of it and says so, rather than hiding it
            twin = next((r for r, v in drawn if len(v) == len(values) and np.array_equal(v, values)), None)
            k = uses.get(color, 0) + (1 if twin else 0)
            dash = ("solid", (0, (5, 2)), (0, (1, 1.5)), "dashdot")[k % 4]
            uses[color] = uses.get(color, 0) + 1
            drawn.append((runtime, values))
            names.append((Line2D([], [], color=color, linestyle=dash),
                          f"{runtime} (= {twin})" if twin else runtime))
            lost = f"   ✗ {n - len(values)}" if n > len(values) else ""
            if not len(values):
                stats.append((blank, "no pod started"))
                continue
            share = np.arange(1, len(values) + 1) / len(values)
            ax.plot(np.r_[values[0], values], np.r_[0.0, share], drawstyle="steps-post",
                    color=color, linestyle=dash, solid_capstyle="butt")
            p50, p99 = np.percentile(values, [50, 99])
            for x, marker in ((p50, "o"), (p99, "D")):
                # on the step curve, whose height at x is the share of pods at or below x
                ax.plot([x], [np.searchsorted(values, x, side="right") / len(values)],
                        marker=marker, color=color, markeredgecolor=colors["background"],
                        markeredgewidth=1.5, markersize=12 if marker == "o" else 10,
                        linestyle="none")
            stats.append((blank, f"● {unit.format(p50)}   ◆ {unit.format(p99)}{lost}"))

        if slo is not None and 0 < x_max and slo <= 2 * x_max:
            slo_line = ax.axvline(slo, color=colors["foreground"], linewidth=2.5,
                                  linestyle=(0, (6, 4)), zorder=1)
            names.append((slo_line, "SIG-scalability SLO"))
            stats.append((blank, f"◆ ≤ {slo:g} s"))
            x_max = max(x_max, slo)
        entries = names + stats
        symbols = "● p50   ◆ p99" + ("   ✗ pods not started" if any(
            n > len(v) for _, v, n in rows) else "")
        ax.legend([h for h, _ in entries], [t for _, t in entries], ncols=2, loc="best",
                  title=symbols, alignment="left", handlelength=1.6, handletextpad=0.6,
                  columnspacing=0.2, frameon=True, facecolor=colors["background"],
                  edgecolor="none", framealpha=0.85)

        if log_x:
            ax.set_xscale("log")
            ax.xaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
            ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
            ax.xaxis.set_minor_formatter(NullFormatter())
        else:
            ax.set_xlim(0, x_max * 1.04 if x_max > 0 else 1.0)
        ax.set_ylim(0, 1.02)
        ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        ax.set_xlabel(f"{label} (s)")
        ax.set_ylabel("share of pods started within x")
        ax.set_title(title or "How long until a pod runs")
    return _finish(fig, footnote)


# --------------------------------------------------------------------------------------------
# where the time goes


def _pods_per_runtime(spans: pd.DataFrame) -> pd.Series:
    """Number of distinct pods per runtime (pods are distinct per replication and node)."""
    keys = [c for c in ("runtime", "replication", "node", "pod") if c in spans.columns]
    named = spans.loc[spans["pod"] != "", keys].drop_duplicates()
    return named.groupby("runtime").size()


def _stacked_bars(
    ax: Axes,
    segments: Sequence[tuple[pd.Series, str, str | None]],
    runtimes: Sequence[str],
    colors: Mapping[str, str],
    unit: Unit,
) -> None:
    """Horizontal stacked bars, one per runtime (top to bottom), segments left to right.

    ``segments`` holds (seconds per runtime, colour, hatch). A segment is labelled with its
    value when the label fits inside it; each bar ends with its total.
    """
    y = np.arange(len(runtimes))
    left = np.zeros(len(runtimes))
    totals = sum((s.reindex(runtimes).fillna(0).to_numpy() for s, _, _ in segments),
                 np.zeros(len(runtimes)))
    x_max = float(totals.max()) * unit.per_second if len(totals) else 1.0
    ax.set_xlim(0, x_max * 1.13 if x_max > 0 else 1.0)
    # The layout engine runs at draw time; until then assume the axes gets 80 % of the width.
    px_per_unit = 0.8 * FIGSIZE_IN[0] * DPI / ax.get_xlim()[1]
    for series, color, hatch in segments:
        width = series.reindex(runtimes).fillna(0).to_numpy() * unit.per_second
        ax.barh(y, width, left=left, height=0.62, color=color, hatch=hatch,
                edgecolor=colors["background"], linewidth=1.5)
        for yi, (l, w) in enumerate(zip(left, width)):
            text = f"{w:.0f}" if w >= 10 else f"{w:.2g}"
            if w > 0 and w * px_per_unit > _text_size_px(text, 13)[0] + 14:
                ax.text(l + w / 2, yi, text, ha="center", va="center", fontsize=13,
                        color=_ink_on(color),
                        bbox=None if hatch is None else dict(
                            boxstyle="round,pad=0.15", facecolor=color, edgecolor="none"))
        left = left + width
    for yi, total in enumerate(left):
        ax.text(total + x_max * 0.01, yi, unit.format(total / unit.per_second), ha="left",
                va="center", fontsize=16, fontweight="bold", color=colors["foreground"])
    runtime_ticks(ax, runtimes)


def _legend_below(ax: Axes, handles: list[Patch], ncols: int) -> None:
    """A legend under the x label, read left to right then down (matplotlib fills columns)."""
    ncols = min(ncols, len(handles))
    rows = -(-len(handles) // ncols)
    grid = [handles[r * ncols:(r + 1) * ncols] for r in range(rows)]
    column_major = [row[c] for c in range(ncols) for row in grid if c < len(row)]
    ax.legend(handles=column_major, loc="upper center", bbox_to_anchor=(0.5, -0.16),
              ncols=ncols, handlelength=1.2, columnspacing=1.4)


def time_by_operation(
    spans: pd.DataFrame,
    footnote: str | None = None,
    *,
    theme: str = "light",
    title: str | None = None,
) -> Figure:
    """Where the time goes, by CRI operation: mean time per pod in each operation, per runtime.

    Uses the operation-level spans of the pod worker's SyncPod (``depth == 0`` and
    ``source == "sync"``): the time the kubelet waited for each CRI call, summed over a pod's
    calls and averaged over the runtime's pods.
    """
    _require(spans, _SPAN_COLUMNS, "spans")
    ops = spans[(spans["depth"] == 0) & (spans["source"] == "sync") & (spans["pod"] != "")]
    if ops.empty:
        raise ValueError("spans hold no operation-level SyncPod spans (depth 0, source 'sync')")
    n_pods = _pods_per_runtime(ops)
    per_pod = (ops.assign(seconds=ops["end"] - ops["start"])
               .groupby(["operation", "runtime"])["seconds"].sum()
               .div(n_pods, level="runtime"))
    runtimes = sorted(ops["runtime"].unique(), key=runtime_sort_key)
    operations = _ordered(ops["operation"].unique(), OPERATION_ORDER)
    unit = _unit_for(float(per_pod.groupby("runtime").sum().max()))
    with figure_style(theme) as colors:
        fig, ax = new_figure()
        _stacked_bars(
            ax,
            [(per_pod.xs(op, level="operation"), operation_color(op), None)
             for op in operations],
            runtimes, colors, unit)
        ax.set_xlabel(f"mean time per pod in the operation ({unit.name})")
        ax.set_title(title or "Where the time goes: the CRI calls of a pod's SyncPod")
        _legend_below(ax, [Patch(facecolor=operation_color(op), label=op) for op in operations],
                      ncols=4)
    return _finish(fig, footnote)


def _self_and_queued(spans: pd.DataFrame) -> pd.DataFrame:
    """Each span's self time, split into ``work_s`` and ``queued_s``.

    Self time is the span's duration minus the union of its children's intervals (clipped to
    the span). The part of it spent queued (for a lock, a CPU or a slot) is ``queued_s``.
    Span ids are unique within one run, so parents are looked up per (runtime, node, replication).
    """
    frame = spans.reset_index(drop=True)
    self_s = self_seconds(frame)
    queued = np.minimum(frame["queued"].to_numpy(dtype=float), self_s)
    return frame.assign(queued_s=queued, work_s=self_s - queued)


def time_by_hop(
    spans: pd.DataFrame,
    footnote: str | None = None,
    *,
    theme: str = "light",
    title: str | None = None,
    sources: Sequence[str] = ("sync",),
) -> Figure:
    """Where the time goes, by process: mean self time per pod in each hop, per runtime.

    A span's self time is the part of it not spent waiting on a callee, so summing self time by
    process splits a pod's CRI time between the kubelet, the daemons, the shims, runc and CNI
    without double counting. The hatched part of a segment is time queued for a lock, a CPU or
    a slot. ``sources`` picks the spans: the pod worker's SyncPod by default; add ``"puller"``
    to include image pulls.
    """
    _require(spans, _SPAN_COLUMNS, "spans")
    chosen = spans[spans["source"].isin(list(sources)) & (spans["pod"] != "")]
    if chosen.empty:
        raise ValueError(f"spans hold no span from sources {list(sources)}")
    timed = _self_and_queued(chosen)
    n_pods = _pods_per_runtime(chosen)
    sums = timed.groupby(["process", "runtime"])[["work_s", "queued_s"]].sum()
    per_pod = sums.div(n_pods, axis=0, level="runtime")
    runtimes = sorted(chosen["runtime"].unique(), key=runtime_sort_key)
    processes = _ordered(chosen["process"].unique(), PROCESS_ORDER)
    unit = _unit_for(float(per_pod.sum(axis=1).groupby("runtime").sum().max()))
    segments: list[tuple[pd.Series, str, str | None]] = []
    for process in processes:
        rows = per_pod.xs(process, level="process")
        segments.append((rows["work_s"], process_color(process), None))
        if (rows["queued_s"] > 0).any():
            segments.append((rows["queued_s"], process_color(process), "///"))
    with figure_style(theme) as colors:
        fig, ax = new_figure()
        _stacked_bars(ax, segments, runtimes, colors, unit)
        ax.set_xlabel(f"mean self time per pod in the process ({unit.name})")
        ax.set_title(title or "Where the time goes: hop by hop")
        handles = [Patch(facecolor=process_color(p), label=p) for p in processes]
        if any(hatch for _, _, hatch in segments):
            handles.append(Patch(facecolor=colors["muted"], hatch="///",
                                 edgecolor=colors["background"],
                                 label="queued (lock, CPU, slot)"))
        _legend_below(ax, handles, ncols=5)
    return _finish(fig, footnote)


# --------------------------------------------------------------------------------------------
# one pod's sequence diagram


def default_lanes(spans: pd.DataFrame) -> list[str]:
    """The processes of ``spans`` (callers and callees) from the kubelet to the far end."""
    return _ordered(pd.concat([spans["caller"], spans["process"]]).unique(), PROCESS_ORDER)


def _one_pod(spans: pd.DataFrame) -> pd.DataFrame:
    _require(spans, _SPAN_COLUMNS, "spans")
    if spans.empty:
        raise ValueError("no spans to draw")
    for column in ("runtime", "pod"):
        values = sorted(spans[column].unique())
        if len(values) != 1:
            raise ValueError(f"spans must be of one pod of one runtime; got {column} {values}")
    return spans.sort_values(["start", "depth", "span_id"], kind="stable").reset_index(drop=True)


def _lanes_for(spans: pd.DataFrame, lanes: Sequence[str] | None) -> list[str]:
    """The requested lanes, then any process the spans visit that the caller did not list."""
    wanted = list(lanes) if lanes is not None else []
    return wanted + [p for p in default_lanes(spans) if p not in wanted]


def _bisect(f: Callable[[float], float], target: float, lo: float, hi: float) -> float:
    """The largest x in [lo, hi] with f(x) <= target, for an increasing f."""
    for _ in range(100):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if f(mid) <= target else (lo, mid)
    return lo


@dataclass(frozen=True)
class _TimeWarp:
    """A monotonic map from time (s) to vertical position (0 at the top, 1 at the bottom).

    Between consecutive span boundaries the map is linear, and to scale wherever the interval is
    long enough; an interval shorter than ``min_gap`` of the height is stretched to ``min_gap``
    so that every call keeps a visible length, and each ``(start, end)`` of ``tall`` is
    stretched to at least ``tall_height`` (room for an operation's name). An interval in which
    no span is open and which is longer than a quarter of the whole (the kubelet waiting for
    PLEG between two syncs) is cut to ``break_gap`` and drawn as a marked break. ``margin``
    leaves room above the first call for its label and below the last return.
    """

    knots_t: np.ndarray
    knots_y: np.ndarray
    breaks: tuple[tuple[float, float], ...]  # (t_from, t_to) of each cut idle interval

    @classmethod
    def build(cls, spans: pd.DataFrame, tall: Iterable[tuple[float, float]] = (),
              tall_height: float = 0.0, min_gap: float = 0.009, break_gap: float = 0.05,
              margin: tuple[float, float] = (0.04, 0.04)) -> "_TimeWarp":
        times = np.unique(np.round(np.r_[spans["start"], spans["end"]].astype(float), 9))
        if len(times) == 1:
            return cls(np.r_[times[0], times[0] + 1.0], np.array([margin[0], 1.0 - margin[1]]),
                       ())
        gaps = np.diff(times)
        mids = (times[:-1] + times[1:]) / 2
        starts, ends = spans["start"].to_numpy(float), spans["end"].to_numpy(float)
        idle = np.array([not np.any((starts < m) & (ends > m)) for m in mids])
        cut = idle & (gaps > 0.25 * (times[-1] - times[0]))
        free = 1.0 - break_gap * cut.sum()
        # The floor under each interval: min_gap, or an operation's share of tall_height.
        # Stretching may take at most 60 % of the height; if it would take more, min_gap gives
        # way first, then the operations' room.
        tall_floor = np.zeros(len(gaps))
        for t_from, t_to in tall:
            inside = (mids > t_from) & (mids < t_to) & ~cut
            if inside.any():
                tall_floor[inside] = np.maximum(tall_floor[inside], tall_height / inside.sum())
        budget = 0.6 * free
        base = np.where(cut, 0.0, min_gap)

        def stretched(k: float) -> float:
            return float(np.maximum(k * base, tall_floor).sum())

        k = 1.0 if stretched(1.0) <= budget else _bisect(stretched, budget, 0.0, 1.0)
        floor = np.maximum(k * base, tall_floor)
        floor *= min(1.0, budget / max(floor.sum(), 1e-12))
        # the scale (height per second) at which the uncut intervals fill the free height
        kept = ~cut
        scale = _bisect(lambda x: float(np.maximum(x * gaps[kept], floor[kept]).sum()), free,
                        0.0, free / max(gaps[kept].min(initial=np.inf), 1e-12))
        heights = np.where(cut, break_gap, np.maximum(scale * gaps, floor))
        y = np.r_[0.0, np.cumsum(heights)]
        y = margin[0] + y / y[-1] * (1.0 - margin[0] - margin[1])
        breaks = tuple((float(a), float(b)) for a, b, c in zip(times[:-1], times[1:], cut) if c)
        return cls(times, y, breaks)

    def __call__(self, t: float | np.ndarray) -> np.ndarray:
        return np.interp(t, self.knots_t, self.knots_y)


class _Placer:
    """Greedy label placement: a label is drawn only where it overlaps nothing already there.

    Boxes are (x0, y0, x1, y1) in axes-local pixels; a free box also lies inside the axes.
    """

    def __init__(self, width_px: float, height_px: float) -> None:
        self.width_px, self.height_px = width_px, height_px
        self._boxes = np.empty((0, 4))

    def add(self, box: tuple[float, float, float, float]) -> None:
        self._boxes = np.vstack([self._boxes, box])

    def free(self, box: tuple[float, float, float, float]) -> bool:
        x0, y0, x1, y1 = box
        if x0 < 0 or y0 < 0 or x1 > self.width_px or y1 > self.height_px:
            return False
        b = self._boxes
        return not np.any((x1 > b[:, 0]) & (x0 < b[:, 2]) & (y1 > b[:, 1]) & (y0 < b[:, 3]))

    def first_free(self, boxes: Iterable[tuple[float, float, float, float]]
                   ) -> tuple[float, float, float, float] | None:
        return next((box for box in boxes if self.free(box)), None)


def sequence_diagram(
    spans: pd.DataFrame,
    lanes: Sequence[str] | None = None,
    title: str | None = None,
    footnote: str | None = None,
    *,
    theme: str = "light",
) -> Figure:
    """One pod's CRI calls as a sequence diagram: processes across, time running down.

    ``spans`` are the spans of ONE pod of ONE runtime; ``lanes`` orders the process columns
    (processes it omits are appended; default :func:`default_lanes`). Each span with a parent in
    another process is a call arrow from its caller's lane to its process's lane, an activation
    bar while it runs and a dashed return arrow when it ends; a call within one process is a
    nested bar. The light bands are the kubelet's CRI operations.

    The time axis is to scale, except that intervals too short to see are stretched to a
    minimum height and long idle waits are cut (marked ≈); the ticks give the true times.
    Labels (step names, durations) are drawn only where they overlap nothing.
    """
    spans = _one_pod(spans)
    with figure_style(theme) as colors:
        fig = Figure(figsize=FIGSIZE_IN, dpi=DPI)
        diagram = _SequenceDiagram(fig, spans, _lanes_for(spans, lanes), colors)
        diagram.draw(title, with_footnote=bool(footnote))
    return _finish(fig, footnote)


class _Arrow(NamedTuple):
    """A drawn call: its span, the x of the caller's and callee's bar edges, and the y of the
    call and of the return."""

    span: Any
    x_caller: float
    x_callee: float
    y_call: float
    y_return: float


class _SequenceDiagram:
    """Draws :func:`sequence_diagram` on a fixed axes, where data → pixels is known up front.

    The layout is fixed (no layout engine) because placing labels without overlaps needs pixel
    positions while drawing. Pixels here are axes-local, x to the right, y DOWN like time.
    """

    RECT = (0.08, 0.07, 0.91, 0.785)  # left, bottom, width, height; bottom strip: footnote
    BAR_PX = 20.0  # width of an activation bar
    HEAD = (14.0, 6.0)  # an arrow head's length and half-width in pixels (kept clear of labels)
    LABEL_GAP_PX = 6.0  # between an arrow and its label
    OPERATION_FONT_PT = 13
    MIN_LABEL_CHARS = 12  # a step name cut shorter than this says nothing; leave it out

    def __init__(self, fig: Figure, spans: pd.DataFrame, lanes: list[str],
                 colors: Mapping[str, str]) -> None:
        self.fig, self.spans, self.lanes, self.colors = fig, spans, lanes, colors
        self.lane_x = {name: float(i) for i, name in enumerate(lanes)}
        left, bottom, width, height = self.RECT
        self.w_px, self.h_px = width * FIGSIZE_IN[0] * DPI, height * FIGSIZE_IN[1] * DPI
        operations = spans[spans["depth"] == 0]
        self.warp = _TimeWarp.build(
            spans, tall=zip(operations["start"], operations["end"]),
            tall_height=(_text_size_px("x", self.OPERATION_FONT_PT)[1] + 4) / self.h_px)
        self.t0 = float(spans["start"].min())
        self.total = float(spans["end"].max()) - self.t0
        # milliseconds read best for CRI calls; seconds only for a long (image pull) timeline
        self.unit = Unit("ms", 1000.0) if self.total < 10 else Unit("s", 1.0)
        # The operation names sit left of the kubelet's bar: the strip left of the first lane
        # plus half a lane must hold the longest one.
        n = len(lanes)
        name_px = max(_text_size_px(op, self.OPERATION_FONT_PT, "bold")[0]
                      for op in spans.loc[spans["depth"] == 0, "operation"].tolist() + [""])
        need_px = name_px + 12 + self.BAR_PX / 2 + 8
        column_px = max(0.0, (need_px - self.w_px / (2 * n)) / (1 - 1 / (2 * n)))
        self.px_per_x = (self.w_px - column_px) / n
        self.x_min, self.x_max = -0.5 - column_px / self.px_per_x, n - 0.5
        self.bar_w = self.BAR_PX / self.px_per_x
        levels = _nesting_levels(spans)
        self.offset = {sid: levels[sid] * self.bar_w * 0.55 for sid in spans["span_id"]}
        self.process_of = dict(zip(spans["span_id"], spans["process"]))
        self.calls = spans[(spans["parent_id"] >= 0) & (spans["caller"] != spans["process"])]
        self.placer = _Placer(self.w_px, self.h_px)
        self.ax = fig.add_axes((left, bottom, width, height))

    # geometry -------------------------------------------------------------------------------

    def px(self, x: float, y: float) -> tuple[float, float]:
        return (x - self.x_min) * self.px_per_x, y * self.h_px

    def y(self, t: float) -> float:
        return float(self.warp(t))

    def bar_x(self, span_id: int) -> float:
        return self.lane_x[self.process_of[span_id]] + self.offset[span_id]

    def text_px(self, x_px: float, y_px: float, text: str, size: float, color: str,
                italic: bool = False) -> None:
        """Text whose top-left corner is at axes-local pixels, on a background patch."""
        self.ax.text(self.x_min + x_px / self.px_per_x, y_px / self.h_px, text, ha="left",
                     va="top", fontsize=size, color=color, zorder=6,
                     fontstyle="italic" if italic else "normal",
                     bbox=dict(boxstyle="square,pad=0.08", facecolor=self.colors["background"],
                               edgecolor="none", alpha=0.85))

    # drawing --------------------------------------------------------------------------------

    def draw(self, title: str | None, with_footnote: bool) -> None:
        ax, c = self.ax, self.colors
        ax.set_xlim(self.x_min, self.x_max)
        ax.set_ylim(1.0, 0.0)
        ax.grid(False)
        for side in ("top", "right", "bottom"):
            ax.spines[side].set_visible(False)
        ax.tick_params(axis="x", bottom=False, labelbottom=False)
        self.draw_operation_bands()
        self.draw_lanes()
        self.draw_breaks()
        self.draw_bars()
        arrows = self.draw_arrows()
        self.label_arrows(arrows)
        self.label_bars()
        self.time_ticks()
        ax.set_ylabel(f"time ({self.unit.name})", labelpad=2)
        runtime, pod = self.spans["runtime"].iloc[0], self.spans["pod"].iloc[0]
        n_processes = len(set(self.spans["process"]) | set(self.spans["caller"]))
        title = title or f"{runtime}: {len(self.calls)} calls across {n_processes} processes"
        self.fig.text(0.012, 0.975, title, ha="left", va="top", fontsize=22,
                      fontweight="bold", color=c["foreground"])
        subtitle = f"pod {pod} · {_duration(self.total)}"
        fig_w_px = FIGSIZE_IN[0] * DPI
        x_px = 0.012 * fig_w_px + _text_size_px(title, 22, "bold")[0] + 24
        if x_px + _text_size_px(subtitle, 15)[0] < 0.99 * fig_w_px:
            self.fig.text(x_px / fig_w_px, 0.968, subtitle, ha="left", va="top", fontsize=15,
                          color=c["muted"])
        note = "time to scale; calls too short to see are stretched" + (
            ", idle waits cut (≈)" if self.warp.breaks else "") + (
            "; hatched: queued for a lock, a CPU or a slot" if (self.spans["queued"] > 0).any()
            else "")
        self.fig.text(0.99, 0.04 if with_footnote else 0.012, note, ha="right", va="bottom",
                      fontsize=11, color=c["muted"])

    def draw_operation_bands(self) -> None:
        """Alternating light bands behind each operation-level span, named in the left column."""
        c = self.colors
        operations = self.spans[self.spans["depth"] == 0]
        for i, op in enumerate(operations.itertuples(index=False)):
            y0, y1 = self.y(op.start), self.y(op.end)
            if i % 2 == 0:
                self.ax.axhspan(y0, y1, color=c["band"], zorder=0, linewidth=0)
            self.ax.plot([self.x_min, self.x_max], [y0, y0], color=c["grid"], linewidth=1.0,
                         zorder=0)
            w, h = _text_size_px(op.operation, self.OPERATION_FONT_PT, "bold")
            box = (6.0, self.px(0, y0)[1] + 2, 6.0 + w, self.px(0, y0)[1] + 2 + h)
            if self.placer.free(box):
                self.placer.add(box)
                self.ax.text(self.x_min + 6 / self.px_per_x, y0 + 2 / self.h_px, op.operation,
                             ha="left", va="top", fontsize=self.OPERATION_FONT_PT,
                             fontweight="bold", color=c["foreground"], zorder=2)

    def draw_lanes(self) -> None:
        """Dashed lifelines under a header box in each process's colour.

        Header names shrink from 15 pt to 13 pt to fit their lane; a name still too wide is
        broken after its last hyphen (``containerd-`` / ``shim``), and only then shrunk further.
        """
        c = self.colors
        room = self.px_per_x - 24

        def fits(text: str, size: float) -> bool:
            return all(_text_size_px(line, size, "bold")[0] <= room for line in text.split("\n"))

        def wrapped(name: str) -> str:
            head, dash, tail = name.rpartition("-")
            return f"{head}-\n{tail}" if dash and not fits(name, 13) else name

        size = next((sz for sz in (15, 14.5, 14, 13.5, 13)
                     if all(fits(n, sz) for n in self.lanes)), 13)
        names = {name: wrapped(name) for name in self.lanes}
        while size > 10 and not all(fits(n, size) for n in names.values()):
            size -= 0.5
        for name, x in self.lane_x.items():
            self.ax.plot([x, x], [0, 1], color=c["muted"], linewidth=1.2,
                         linestyle=(0, (2, 4)), zorder=1)
            self.ax.text(x, -0.012, names[name], ha="center", va="bottom", fontsize=size,
                         fontweight="bold", linespacing=1.0, color=_ink_on(process_color(name)),
                         clip_on=False, zorder=5,
                         bbox=dict(boxstyle="round,pad=0.35", facecolor=process_color(name),
                                   edgecolor=c["foreground"], linewidth=1.2))

    def draw_breaks(self) -> None:
        """Cut idle waits: a blank band, ≈ on the axis, and the wait's true length."""
        c = self.colors
        for t_from, t_to in self.warp.breaks:
            y0, y1 = self.y(t_from), self.y(t_to)
            self.ax.axhspan(y0, y1, color=c["background"], zorder=2, linewidth=0)
            for y in (y0, y1):
                self.ax.plot([self.x_min, self.x_max], [y, y], color=c["muted"], linewidth=1.0,
                             linestyle=(0, (1, 3)), zorder=2)
            self.ax.text(-0.4, (y0 + y1) / 2,
                         f"≈ {_duration(t_to - t_from)} without a CRI call for this pod",
                         ha="left", va="center", fontsize=13, fontstyle="italic",
                         color=c["muted"], zorder=2)
            self.ax.text(self.x_min, (y0 + y1) / 2, "≈", ha="center", va="center", fontsize=22,
                         color=c["muted"], clip_on=False, zorder=6,
                         bbox=dict(boxstyle="square,pad=0", facecolor=c["background"],
                                   edgecolor="none"))
            self.placer.add((0.0, self.px(0, y0)[1], self.w_px, self.px(0, y1)[1]))

    def draw_bars(self) -> None:
        """An activation bar per span, hatched while the span waited (queued for a lock, a CPU
        or a slot); each bar is an obstacle for labels."""
        half = self.bar_w / 2
        for span in self.spans.itertuples(index=False):
            x = self.bar_x(span.span_id)
            y0, y1 = self.y(span.start), self.y(span.end)
            color = process_color(span.process)
            self.ax.add_patch(Rectangle((x - half, y0), self.bar_w, max(y1 - y0, 0.002),
                                        facecolor=color, edgecolor=self.colors["foreground"],
                                        linewidth=0.8, zorder=3))
            if span.queued > 0:
                y_wait = self.y(min(span.start + span.queued, span.end))
                self.ax.add_patch(Rectangle((x - half, y0), self.bar_w, y_wait - y0,
                                            facecolor=color, hatch="////", linewidth=0,
                                            zorder=3))
            self.placer.add((*self.px(x - half, y0), *self.px(x + half, y1)))

    def draw_arrows(self) -> list[_Arrow]:
        """Call arrows (solid) and return arrows (dashed; bold when the call failed)."""
        c = self.colors
        arrows = []
        for span in self.calls.itertuples(index=False):
            parent_x = (self.bar_x(span.parent_id) if self.process_of.get(span.parent_id)
                        == span.caller else self.lane_x[span.caller])
            child_x = self.bar_x(span.span_id)
            direction = 1.0 if child_x >= parent_x else -1.0
            arrow = _Arrow(span, parent_x + direction * self.bar_w / 2,
                           child_x - direction * self.bar_w / 2,
                           self.y(span.start), self.y(span.end))
            failed = span.outcome != "ok"
            self.ax.annotate("", xy=(arrow.x_callee, arrow.y_call),
                             xytext=(arrow.x_caller, arrow.y_call), zorder=4,
                             arrowprops=dict(arrowstyle="-|>,head_length=0.4,head_width=0.16",
                                             color=c["foreground"], linewidth=1.6,
                                             shrinkA=0, shrinkB=0))
            self.ax.annotate("", xy=(arrow.x_caller, arrow.y_return),
                             xytext=(arrow.x_callee, arrow.y_return), zorder=4,
                             arrowprops=dict(arrowstyle="->,head_length=0.35,head_width=0.14",
                                             color=c["foreground"] if failed else c["muted"],
                                             linewidth=2.4 if failed else 1.1,
                                             linestyle=(0, (3, 2)), shrinkA=0, shrinkB=0))
            # the shafts, and the heads (at the callee for a call, at the caller for a return)
            for y, head_x in ((arrow.y_call, arrow.x_callee), (arrow.y_return, arrow.x_caller)):
                (x0, y0) = self.px(min(arrow.x_caller, arrow.x_callee), y)
                (x1, _) = self.px(max(arrow.x_caller, arrow.x_callee), y)
                self.placer.add((x0, y0 - 1.5, x1, y0 + 1.5))
                hx = self.px(head_x, y)[0]
                tail = -1.0 if hx > (x0 + x1) / 2 else 1.0  # the head points away from here
                length, half = self.HEAD
                self.placer.add((min(hx, hx + tail * length), y0 - half,
                                 max(hx, hx + tail * length), y0 + half))
            arrows.append(arrow)
        return arrows

    def label_arrows(self, arrows: list[_Arrow]) -> None:
        """Name each call with its step, and each failed call's error, where there is room.

        Errors go first (on their return arrow), then the kubelet's CRI calls, then the longest
        hops.
        """
        ranked = sorted(arrows, key=lambda a: (a.span.depth > 1, a.span.start - a.span.end))
        requests = [(a, a.y_return, f"✗ {a.span.outcome}") for a in arrows
                    if a.span.outcome != "ok"]
        requests += [(a, a.y_call, str(a.span.step)) for a in ranked]
        for arrow, y, text in requests:
            self.label_arrow(arrow, y, text)

    def label_arrow(self, arrow: _Arrow, y: float, text: str) -> None:
        """Put ``text`` on the arrow at height ``y``: above it, else below, near its middle.

        A label wider than its arrow may run on past the callee by half a lane (never back over
        the caller, whose bar is busy for the whole call). Failing that, the text is shortened
        to the arrow's length, or left out.
        """
        size = _LABEL_FONT_PT
        (pa, py), (pb, _) = self.px(arrow.x_caller, y), self.px(arrow.x_callee, y)
        lo, hi = min(pa, pb) + 6, max(pa, pb) - 6
        short = _truncate_to_px(text, hi - lo, size)
        for candidate in dict.fromkeys([_truncate(text, 28)] + (
                [short] if len(short) >= self.MIN_LABEL_CHARS else [])):
            w, h = _text_size_px(candidate, size)
            spill = self.px_per_x / 2
            first, last = (lo, hi - w + spill) if pb > pa else (lo - spill, hi - w)
            xs = np.arange(first, last + 1e-9, 6.0)
            xs = xs[np.argsort(np.abs(xs - (lo + hi - w) / 2), kind="stable")]
            gap = self.LABEL_GAP_PX
            box = self.placer.first_free(
                (x0, y0, x0 + w, y0 + h) for y0 in (py - h - gap, py + gap) for x0 in xs)
            if box is not None:
                self.placer.add(box)
                self.text_px(box[0], box[1], candidate, size, self.colors["foreground"])
                return

    def label_bars(self) -> None:
        """Beside a bar: the step of an in-process call, or the duration of a tall bar."""
        size = _LABEL_FONT_PT - 1
        for span in self.spans.itertuples(index=False):
            if span.depth == 0:
                continue
            x_px = self.px(self.bar_x(span.span_id) + self.bar_w / 2, 0)[0] + 4
            top, bottom = self.px(0, self.y(span.start))[1], self.px(0, self.y(span.end))[1]
            duration = _duration(span.end - span.start)
            in_process = span.caller == span.process
            text = f"{_truncate(span.step, 24)} · {duration}" if in_process else duration
            w, h = _text_size_px(text, size)
            if not in_process and bottom - top < 1.6 * h:
                continue
            y_px = top if in_process else (top + bottom - h) / 2
            box = (x_px, y_px, x_px + w, y_px + h)
            if self.placer.free(box):
                self.placer.add(box)
                self.text_px(x_px, y_px, text, size, self.colors["muted"], italic=in_process)

    def time_ticks(self) -> None:
        """Ticks at the start of each operation and at the end, at least 34 px apart.

        Where two are closer, or would read the same, the later one wins, so that the last
        tick always gives the whole duration.
        """
        per_s = self.unit.per_second
        ops = self.spans.loc[self.spans["depth"] == 0, "start"]
        ticks: list[tuple[float, str]] = []  # (y, label)
        for t in sorted(set(ops) | {float(self.spans["end"].max())}):
            y = self.y(t)
            label = f"{(t - self.t0) * per_s:.0f}" if per_s > 1 else f"{t - self.t0:.2f}"
            if ticks and ((y - ticks[-1][0]) * self.h_px < 34 or label == ticks[-1][1]):
                ticks.pop()
            ticks.append((y, label))
        self.ax.set_yticks([y for y, _ in ticks], [label for _, label in ticks])
        self.ax.tick_params(axis="y", labelsize=14)


def _nesting_levels(spans: pd.DataFrame) -> dict[int, int]:
    """How many spans of the same process enclose each span (UML nested activations)."""
    levels: dict[int, int] = {}
    open_ends: dict[str, list[float]] = {}
    ordered = spans.sort_values(["start", "end", "depth"], ascending=[True, False, True],
                                kind="stable")
    for span in ordered.itertuples(index=False):
        stack = open_ends.setdefault(span.process, [])
        while stack and stack[-1] <= span.start:
            stack.pop()
        levels[span.span_id] = len(stack)
        stack.append(span.end)
    return levels


# --------------------------------------------------------------------------------------------
# terminal version


def sequence_text(spans: pd.DataFrame, lanes: Sequence[str] | None = None) -> str:
    """One pod's calls as text for a terminal: one line per span, in time order.

    A call's line reads: its start (ms since the pod's first call), its duration (ms), a lane
    track with one character per lane (``o`` the caller, ``>`` or ``<`` the callee, ``-`` the
    lanes it skips), ``caller -> process`` and the step, indented by depth. An operation-level
    span is a rule naming the operation. ``lanes`` orders the track as in
    :func:`sequence_diagram`; the header names them.
    """
    spans = _one_pod(spans)
    lanes = _lanes_for(spans, lanes)
    index = {name: i for i, name in enumerate(lanes)}
    t0 = float(spans["start"].min())
    pair_width = max(len(f"{c} -> {p}") for c, p in zip(spans["caller"], spans["process"]))
    lines = [
        f"{spans['runtime'].iloc[0]}, pod {spans['pod'].iloc[0]}: {len(spans)} spans",
        "lanes: " + "  ".join(f"{i + 1}={name}" for i, name in enumerate(lanes)),
        f"{'start ms':>10} {'took ms':>10}  {'lanes':<{len(lanes)}}  call",
    ]
    for span in spans.itertuples(index=False):
        times = f"{(span.start - t0) * 1000:10.1f} {(span.end - span.start) * 1000:10.1f}"
        outcome = "" if span.outcome == "ok" else f"  ✗ {span.outcome}"
        if span.depth == 0:
            lines.append(f"{times}  ── {span.operation} ──{outcome}")
            continue
        track = ["·"] * len(lanes)
        a, b = index[span.caller], index[span.process]
        for i in range(min(a, b) + 1, max(a, b)):
            track[i] = "-"
        track[a] = "o"
        track[b] = "o" if a == b else (">" if b > a else "<")
        lines.append(f"{times}  {''.join(track)}  "
                     f"{f'{span.caller} -> {span.process}':<{pair_width}}  "
                     f"{'  ' * (int(span.depth) - 1)}{span.step}{outcome}")
    return "\n".join(lines) + "\n"
