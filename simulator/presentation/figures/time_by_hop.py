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
    OKABE_ITO,
    PROCESS_ORDER,
    figure_style,
    new_figure,
    process_color,
    runtime_sort_key,
)
from ._draw import (
    SPAN_COLUMNS,
    axes_title,
    duration,
    finish,
    legend_below_figure,
    ordered,
    percent,
    pods_per_runtime,
    require,
    self_seconds,
    set_caption,
    stacked_bars,
    unit_for,
)

if TYPE_CHECKING:
    from .data import FigureData

__all__ = ["ROLES", "role_groups", "takeaway", "time_by_hop", "from_data"]


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


# The processes by role, one clearly distinct colour per role (Okabe-Ito; any two at least 30
# apart in CIELAB, tests/test_figure_takeaways.py), so that the legend has a handful of entries
# a room can tell apart instead of one near-identical shade per process.
ROLES: tuple[tuple[tuple[str, ...], str], ...] = (
    (("kubelet",), "#999999"),
    (("dockershim", "cri-dockerd"), OKABE_ITO["reddish_purple"]),
    (("dockerd",), OKABE_ITO["orange"]),
    (("containerd", "crio"), OKABE_ITO["blue"]),
    (("containerd-shim", "conmon"), OKABE_ITO["vermillion"]),
    (("runc",), OKABE_ITO["yellow"]),
    (("cni", "nsenter", "pinns"), OKABE_ITO["bluish_green"]),
)
"""(processes, colour) of each role, from the kubelet to the far end of a chain."""


def role_groups(processes: Sequence[str]) -> list[tuple[str, list[str], str]]:
    """(legend label, processes, colour) of the roles ``processes`` fill, in chain order; a
    process no role lists is a group of its own, in its fallback colour."""
    groups = []
    for members, color in ROLES:
        present = [p for p in members if p in processes]
        if present:
            groups.append((", ".join(present), present, color))
    known = {p for members, _ in ROLES for p in members}
    groups += [(p, [p], process_color(p)) for p in processes if p not in known]
    return groups


def takeaway(per_process: pd.DataFrame, runc_calls: pd.Series | None = None) -> tuple[str, str]:
    """(title, caption) stated from ``per_process`` (mean self seconds per pod; index process,
    columns runtimes): where the most time goes, and how much runc costs on each chain
    (``runc_calls``: runc invocations per pod, by runtime, when known)."""
    totals = per_process.sum()
    slow, fast = str(totals.idxmax()), str(totals.idxmin())
    top = str(per_process[slow].idxmax())
    share = per_process[slow].max() / totals[slow]
    title = (f"{slow}: {duration(totals[slow])} per pod, {top} alone {percent(share)}; "
             f"{fast}: {duration(totals[fast])}")
    parts = [f"Mean self time per pod in each process. On {slow} most of it is spent in {top} "
             f"({duration(per_process[slow].max())} of {duration(totals[slow])})"]
    if "runc" in per_process.index:
        runc = per_process.loc["runc"]
        runc = runc[runc > 0]
        if len(runc) > 1 and runc.max() <= 1.15 * runc.min():
            parts.append(f"runc costs about the same on every chain ({duration(runc.mean())})")
        elif len(runc) > 1:
            lo, hi = str(runc.idxmin()), str(runc.idxmax())
            calls = ("" if runc_calls is None else
                     f" ({runc_calls.get(lo, 0):g} against {runc_calls.get(hi, 0):g} runc calls per pod)")
            parts.append(f"runc is not the same cost everywhere: {duration(runc.min())} per pod on {lo}, "
                         f"{duration(runc.max())} on {hi}{calls}")
    return title, "; ".join(parts) + "."


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
    without double counting. Processes are coloured by role (:data:`ROLES`: the CRI shims, the
    runtime daemons, the shims and conmon, CNI and its helpers each share one hue). The hatched
    part of a segment is time queued for a lock, a CPU or a slot. ``sources`` picks the spans:
    the pod worker's SyncPod by default; add ``"puller"`` to include image pulls. The title
    (unless given) and the caption state the takeaway computed from the data.
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
    groups = role_groups(processes)
    segments: list[tuple[pd.Series, str, str | None]] = []
    for _, members, color in groups:
        for process in members:  # one segment per process, coloured by its role
            rows = per_pod.xs(process, level="process")
            segments.append((rows["work_s"], color, None))
            if (rows["queued_s"] > 0).any():
                segments.append((rows["queued_s"], color, "///"))
    per_process = per_pod.sum(axis=1).unstack("runtime").reindex(columns=runtimes).fillna(0.0)
    runc = chosen[chosen["process"] == "runc"]
    runc_calls = (runc.groupby("runtime").size() / n_pods).round(1) if not runc.empty else None
    auto_title, caption = takeaway(per_process, runc_calls)
    with figure_style(theme) as colors:
        fig, ax = new_figure()
        stacked_bars(ax, segments, runtimes, colors, unit)
        ax.set_xlabel(f"mean self time per pod in the process ({unit.name})")
        axes_title(ax, title or auto_title)
        handles = [Patch(facecolor=color, label=label) for label, _, color in groups]
        if any(hatch for _, _, hatch in segments):
            handles.append(Patch(facecolor=colors["muted"], hatch="///",
                                 edgecolor=colors["background"],
                                 label="queued (lock, CPU, slot)"))
        legend_below_figure(fig, handles)  # as many columns as the figure's width holds
    set_caption(fig, caption)
    return finish(fig, footnote)


def from_data(data: FigureData) -> Figure:
    """The catalogue's bars: every SyncPod span of the comparison."""
    return time_by_hop(data.spans, footnote=data.note, theme=data.theme)
