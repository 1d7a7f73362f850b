"""Where the time goes, hop by hop: mean self time per pod in each process, per runtime.

What it teaches: which process of the chain does the work of a pod's creation (the kubelet, the
daemons, the shims, runc, CNI), without double counting, and how much of it is spent queued for
a lock, a CPU or a slot.

What it draws: the model's ``spans`` DataFrame (by default the pod worker's SyncPod spans,
``source == "sync"``). A span's *self time* is its duration minus the time it waited on its
callees; summed by process and averaged over the runtime's pods, it is one stacked bar per
runtime, the queued part of each segment hatched.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from ..style import (
    PROCESS_ORDER,
    figure_style,
    new_figure,
    process_color,
    runtime_sort_key,
)
from ._draw import (
    SPAN_COLUMNS,
    finish,
    legend_below_axes,
    ordered,
    pods_per_runtime,
    require,
    self_seconds,
    stacked_bars,
    unit_for,
)

if TYPE_CHECKING:
    from .data import FigureData

__all__ = ["time_by_hop", "from_data"]


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
    require(spans, SPAN_COLUMNS, "spans")
    chosen = spans[spans["source"].isin(list(sources)) & (spans["pod"] != "")]
    if chosen.empty:
        raise ValueError(f"spans hold no span from sources {list(sources)}")
    timed = _self_and_queued(chosen)
    n_pods = pods_per_runtime(chosen)
    sums = timed.groupby(["process", "runtime"])[["work_s", "queued_s"]].sum()
    per_pod = sums.div(n_pods, axis=0, level="runtime")
    runtimes = sorted(chosen["runtime"].unique(), key=runtime_sort_key)
    processes = ordered(chosen["process"].unique(), PROCESS_ORDER)
    unit = unit_for(float(per_pod.sum(axis=1).groupby("runtime").sum().max()))
    segments: list[tuple[pd.Series, str, str | None]] = []
    for process in processes:
        rows = per_pod.xs(process, level="process")
        segments.append((rows["work_s"], process_color(process), None))
        if (rows["queued_s"] > 0).any():
            segments.append((rows["queued_s"], process_color(process), "///"))
    with figure_style(theme) as colors:
        fig, ax = new_figure()
        stacked_bars(ax, segments, runtimes, colors, unit)
        ax.set_xlabel(f"mean self time per pod in the process ({unit.name})")
        ax.set_title(title or "Where the time goes: hop by hop")
        handles = [Patch(facecolor=process_color(p), label=p) for p in processes]
        if any(hatch for _, _, hatch in segments):
            handles.append(Patch(facecolor=colors["muted"], hatch="///",
                                 edgecolor=colors["background"],
                                 label="queued (lock, CPU, slot)"))
        legend_below_axes(ax, handles, ncols=5)
    return finish(fig, footnote)


def from_data(data: FigureData) -> Figure:
    """The catalogue's bars: every SyncPod span of the comparison."""
    return time_by_hop(data.spans, footnote=data.note, theme=data.theme)
