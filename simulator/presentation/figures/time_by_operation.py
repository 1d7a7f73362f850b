"""Where the time goes, by CRI operation: mean time per pod in each CRI call, per runtime.

What it teaches: which of the kubelet's CRI calls (RunPodSandbox, CreateContainer,
StartContainer, ...) a pod's creation waits on, and how much longer each takes on one chain than
on another.

What it draws: the model's ``spans`` DataFrame, only the operation-level spans of the pod
worker's SyncPod (``depth == 0``, ``source == "sync"``): the time the kubelet waited for each CRI
call, summed over a pod's calls and averaged over the runtime's pods, as one stacked bar per
runtime.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from ..style import (
    OPERATION_ORDER,
    figure_style,
    new_figure,
    operation_color,
    runtime_sort_key,
)
from ._chain_graph import cri_name
from ._draw import (
    SPAN_COLUMNS,
    axes_title,
    extremes,
    finish,
    legend_below_axes,
    ordered,
    pods_per_runtime,
    require,
    stacked_bars,
    unit_for,
)

if TYPE_CHECKING:
    from .data import FigureData

__all__ = ["time_by_operation", "from_data"]


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
    require(spans, SPAN_COLUMNS, "spans")
    ops = spans[(spans["depth"] == 0) & (spans["source"] == "sync") & (spans["pod"] != "")]
    if ops.empty:
        raise ValueError("spans hold no operation-level SyncPod spans (depth 0, source 'sync')")
    n_pods = pods_per_runtime(ops)
    per_pod = (ops.assign(seconds=ops["end"] - ops["start"])
               .groupby(["operation", "runtime"])["seconds"].sum()
               .div(n_pods, level="runtime"))
    runtimes = sorted(ops["runtime"].unique(), key=runtime_sort_key)
    operations = ordered(ops["operation"].unique(), OPERATION_ORDER)
    unit = unit_for(float(per_pod.groupby("runtime").sum().max()))
    with figure_style(theme) as colors:
        fig, ax = new_figure()
        stacked_bars(
            ax,
            [(per_pod.xs(op, level="operation"), operation_color(op), None)
             for op in operations],
            runtimes, colors, unit)
        ax.set_xlabel(f"mean time per pod in the operation ({unit.name})")
        longest = str(per_pod.groupby("operation").mean().idxmax())
        by_rt = {str(rt): float(v) for rt, v in per_pod.xs(longest, level="operation").items()}
        axes_title(ax, title or f"{cri_name(longest)}, the longest CRI call on average: "
                               f"{extremes(by_rt)} per pod")
        legend_below_axes(ax, [Patch(facecolor=operation_color(op), label=cri_name(op))
                               for op in operations], ncols=4)
    return finish(fig, footnote)


def from_data(data: FigureData) -> Figure:
    """The catalogue's bars: every span of the comparison."""
    return time_by_operation(data.spans, footnote=data.note, theme=data.theme)
