"""The geometry of a sequence diagram: time → height, lanes → x, pixels, and label placement.

:class:`SequenceLayout` fixes where everything of :func:`~.sequence.sequence_diagram` goes before
anything is drawn (no layout engine), because placing labels without overlaps needs pixel
positions while drawing; :mod:`._sequence_draw` then draws on it. Here live the pieces that
geometry needs: the :class:`TimeWarp` (time to scale, short calls stretched, idle waits cut),
the :class:`Placer` (greedy, overlap-free label boxes) and the nesting of activation bars.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from ..style import DPI, FIGSIZE_IN
from ._draw import text_size_px, unit_for

__all__ = ["Arrow", "Placer", "SequenceLayout", "TimeWarp", "nesting_levels"]


def _bisect(f: Callable[[float], float], target: float, lo: float, hi: float) -> float:
    """The largest x in [lo, hi] with f(x) <= target, for an increasing f."""
    for _ in range(100):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if f(mid) <= target else (lo, mid)
    return lo


@dataclass(frozen=True)
class TimeWarp:
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
              margin: tuple[float, float] = (0.04, 0.04)) -> "TimeWarp":
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


class Placer:
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



class Arrow(NamedTuple):
    """A drawn call: its span, the x of the caller's and callee's bar edges, and the y of the
    call and of the return."""

    span: Any
    x_caller: float
    x_callee: float
    y_call: float
    y_return: float


def nesting_levels(spans: pd.DataFrame) -> dict[int, int]:
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


class SequenceLayout:
    """Where :func:`~.sequence.sequence_diagram` draws: a fixed axes, data → pixels known up
    front, and the labels placed so far (:attr:`placer`).

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
        self.warp = TimeWarp.build(
            spans, tall=zip(operations["start"], operations["end"]),
            tall_height=(text_size_px("x", self.OPERATION_FONT_PT)[1] + 4) / self.h_px)
        self.t0 = float(spans["start"].min())
        self.total = float(spans["end"].max()) - self.t0
        # milliseconds read best for CRI calls; seconds only for a long (image pull) timeline
        self.unit = unit_for(self.total, ms_below=10)
        # The operation names sit left of the kubelet's bar: the strip left of the first lane
        # plus half a lane must hold the longest one.
        n = len(lanes)
        name_px = max(text_size_px(op, self.OPERATION_FONT_PT, "bold")[0]
                      for op in spans.loc[spans["depth"] == 0, "operation"].tolist() + [""])
        need_px = name_px + 12 + self.BAR_PX / 2 + 8
        column_px = max(0.0, (need_px - self.w_px / (2 * n)) / (1 - 1 / (2 * n)))
        self.px_per_x = (self.w_px - column_px) / n
        self.x_min, self.x_max = -0.5 - column_px / self.px_per_x, n - 0.5
        self.bar_w = self.BAR_PX / self.px_per_x
        levels = nesting_levels(spans)
        self.offset = {sid: levels[sid] * self.bar_w * 0.55 for sid in spans["span_id"]}
        self.process_of = dict(zip(spans["span_id"], spans["process"]))
        self.calls = spans[(spans["parent_id"] >= 0) & (spans["caller"] != spans["process"])]
        self.placer = Placer(self.w_px, self.h_px)
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
