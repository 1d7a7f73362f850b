"""One pod's call chain as a sequence diagram, and the same as text for a terminal.

What it teaches: how many hops a chain takes to create one pod. Processes are lanes (the kubelet
on the left, the far end on the right), time runs down to scale, and every call is an arrow from
its caller's lane to its process's lane: the extra hops of a chain (dockershim → dockerd →
containerd → shim → runc, versus containerd → shim → runc) are visible at a glance, and so is
where the time of each call goes.

What it draws: the model's ``spans`` of ONE pod of ONE runtime. The catalogue picks the simplest
pod that ran (no image pull, no init container, the fewest containers) and draws its SyncPod and
image pulls, not PLEG's status calls, in the order of its chain's processes
(:func:`~simulator.presentation.figures.data.lanes_for_runtime`); :func:`default_lanes` orders
them otherwise.

The drawing is in three parts: :mod:`._sequence_layout` fixes the geometry up front (time →
height, lanes → x, label placement), :mod:`._sequence_draw` draws each piece on it, and this
module holds the public functions.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import pandas as pd
from matplotlib.figure import Figure

from ..style import DPI, FIGSIZE_IN, PROCESS_ORDER, figure_style
from ._draw import finish, one_pod, ordered
from ._sequence_draw import draw
from ._sequence_layout import SequenceLayout

if TYPE_CHECKING:
    from .data import FigureData

__all__ = ["default_lanes", "sequence_diagram", "sequence_text", "from_data"]


def default_lanes(spans: pd.DataFrame) -> list[str]:
    """The processes of ``spans`` (callers and callees) from the kubelet to the far end."""
    return ordered(pd.concat([spans["caller"], spans["process"]]).unique(), PROCESS_ORDER)


def _lanes_for(spans: pd.DataFrame, lanes: Sequence[str] | None) -> list[str]:
    """The requested lanes, then any process the spans visit that the caller did not list."""
    wanted = list(lanes) if lanes is not None else []
    return wanted + [p for p in default_lanes(spans) if p not in wanted]


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
    spans = one_pod(spans)
    with figure_style(theme) as colors:
        fig = Figure(figsize=FIGSIZE_IN, dpi=DPI)
        draw(SequenceLayout(fig, spans, _lanes_for(spans, lanes), colors), title,
             with_footnote=bool(footnote))
    return finish(fig, footnote)


def sequence_text(spans: pd.DataFrame, lanes: Sequence[str] | None = None) -> str:
    """One pod's calls as text for a terminal: one line per span, in time order.

    A call's line reads: its start (ms since the pod's first call), its duration (ms), a lane
    track with one character per lane (``o`` the caller, ``>`` or ``<`` the callee, ``-`` the
    lanes it skips), ``caller -> process`` and the step, indented by depth. An operation-level
    span is a rule naming the operation. ``lanes`` orders the track as in
    :func:`sequence_diagram`; the header names them.
    """
    spans = one_pod(spans)
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


def from_data(data: FigureData, runtime: str) -> Figure:
    """The catalogue's diagram for ``runtime``: its simplest pod that ran, in its chain's lanes."""
    return sequence_diagram(data.pod_spans(runtime), data.lanes(runtime), footnote=data.note,
                            theme=data.theme)
