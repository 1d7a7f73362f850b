"""The helpers every figure module shares, each defined once.

* data checks and shapes: :func:`require`, :func:`one_pod`, :func:`ordered`,
  :func:`pods_per_runtime`, :func:`self_seconds`;
* durations: :class:`Unit`, :func:`unit_for`, :func:`duration`;
* text measured without a renderer (defined in ``_text``, re-exported): :func:`text_width_px`,
  :func:`line_height_px`, :func:`text_size_px`, :func:`fit_text`, :func:`truncate`, :func:`wrap`,
  :func:`largest_size`, :func:`shrink_to_fit`;
* ink on a fill: :func:`ink_on`;
* figure furniture: :func:`finish` (the footnote), :func:`slide_title`, :func:`runtime_ticks`,
  :func:`legend_below_axes`, :func:`legend_below_figure`, :func:`stacked_bars`.

The style itself (sizes, colours, themes, saving) is :mod:`simulator.presentation.style`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from weakref import WeakKeyDictionary

import matplotlib.colors as mcolors
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.layout_engine import ConstrainedLayoutEngine
from matplotlib.patches import Patch
from matplotlib.text import Text

from ..style import DPI, FIGSIZE_IN, KEY_ABOVE_FOOTNOTE, add_footnote, footnote_height
from ..style import runtime_color
from ._text import (fit_text, fitted_title, largest_size, line_height_px, shrink_to_fit,
                    text_size_px, text_width_px, title_size, truncate, wrap)

__all__ = [
    "SLO_POD_STARTUP_S", "SPAN_COLUMNS", "FIG_W_PX", "FIG_H_PX",
    "require", "one_pod", "ordered", "pods_per_runtime", "self_seconds",
    "Unit", "unit_for", "duration",
    "text_width_px", "line_height_px", "text_size_px", "fit_text", "truncate", "wrap",
    "largest_size", "shrink_to_fit", "ink_on",
    "finish", "set_caption", "caption_of", "extremes", "percent", "title_size", "axes_title", "slide_title", "runtime_ticks", "legend_below_axes", "legend_below_figure",
    "stacked_bars",
]

SLO_POD_STARTUP_S = 5.0
"""SIG-scalability pod startup SLO: p99 of (creation → running, observed via watch, image pull
excluded) at most 5 s (kubernetes/community sig-scalability/slos/pod_startup_latency.md)."""

SPAN_COLUMNS = ("span_id", "parent_id", "depth", "pod", "operation", "step", "process",
                "caller", "start", "end", "queued", "outcome", "source", "runtime")
"""The columns of the model's ``spans`` a span figure needs (docs/DESIGN.md, "Outputs")."""

FIG_W_PX, FIG_H_PX = FIGSIZE_IN[0] * DPI, FIGSIZE_IN[1] * DPI


# --------------------------------------------------------------------------------------------
# data checks and shapes


def require(df: pd.DataFrame, columns: Iterable[str], what: str) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise KeyError(f"{what} lacks columns {missing}; it has {list(df.columns)}")


def one_pod(spans: pd.DataFrame, columns: Iterable[str] = SPAN_COLUMNS, *,
            names_as_text: bool = False) -> pd.DataFrame:
    """The spans of ONE pod of ONE runtime in time order (start, depth, span id), re-indexed.

    Raises if a column is missing, if there is no span, or if the spans hold several runtimes
    or pods (compared as text with ``names_as_text``).
    """
    require(spans, columns, "spans")
    if spans.empty:
        raise ValueError("no spans to draw")
    for column in ("runtime", "pod"):
        names = spans[column].astype(str) if names_as_text else spans[column]
        values = sorted(names.unique())
        if len(values) != 1:
            raise ValueError(f"spans must be of one pod of one runtime; got {column} {values}")
    return spans.sort_values(["start", "depth", "span_id"], kind="stable").reset_index(drop=True)


def ordered(names: Iterable[str], canonical: Sequence[str]) -> list[str]:
    """``names`` in canonical order, names not in ``canonical`` after them, alphabetically."""
    present = set(names)
    return [n for n in canonical if n in present] + sorted(present - set(canonical))


def pods_per_runtime(spans: pd.DataFrame) -> pd.Series:
    """Number of distinct pods per runtime (pods are distinct per replication and node)."""
    keys = [c for c in ("runtime", "replication", "node", "pod") if c in spans.columns]
    named = spans.loc[spans["pod"] != "", keys].drop_duplicates()
    return named.groupby("runtime").size()


def self_seconds(spans: pd.DataFrame) -> np.ndarray:
    """Each span's self time: its duration minus the union of its children's intervals
    (children found by parent_id within one run: runtime, node, replication)."""
    run_keys = [c for c in ("runtime", "node", "replication") if c in spans.columns]
    frame = spans.reset_index(drop=True)
    out = np.empty(len(frame))
    groups = frame.groupby(run_keys, sort=False) if run_keys else [(None, frame)]
    for _, run in groups:
        children: dict[int, list[tuple[float, float]]] = {}
        for parent, start, end in zip(run["parent_id"], run["start"], run["end"]):
            children.setdefault(int(parent), []).append((float(start), float(end)))
        for idx, sid, start, end in zip(run.index, run["span_id"], run["start"], run["end"]):
            busy, cursor = 0.0, float(start)
            for c_start, c_end in sorted(children.get(int(sid), ())):
                c_start, c_end = max(c_start, cursor), min(c_end, float(end))
                if c_end > c_start:
                    busy += c_end - c_start
                    cursor = c_end
            out[idx] = max(float(end) - float(start) - busy, 0.0)
    return out


# --------------------------------------------------------------------------------------------
# durations


@dataclass(frozen=True)
class Unit:
    """A display unit for durations: seconds are multiplied by ``per_second``."""

    name: str
    per_second: float

    def value(self, seconds: float) -> str:
        v = seconds * self.per_second
        if abs(v) >= 100:
            return f"{v:.0f}"
        if abs(v) >= 10:
            return f"{v:.1f}".removesuffix(".0")
        if abs(v) >= 1:
            return f"{v:.1f}"
        return f"{v:.2g}"

    def format(self, seconds: float) -> str:
        return f"{self.value(seconds)} {self.name}"


def unit_for(max_seconds: float, ms_below: float = 2.0) -> Unit:
    """Milliseconds below ``ms_below`` seconds (CRI calls), seconds above (pod startup)."""
    return Unit("ms", 1000.0) if max_seconds < ms_below else Unit("s", 1.0)


def duration(seconds: float, ms_below: float = 2.0) -> str:
    """A duration in the unit that reads best for it: ``38.5 ms``, ``1.2 s`` (milliseconds
    below ``ms_below`` seconds)."""
    return unit_for(seconds, ms_below).format(seconds)


# --------------------------------------------------------------------------------------------
# colour


def ink_on(color, threshold: float = 0.28) -> str:
    """Black or white, whichever reads better on ``color`` (WCAG relative luminance above or
    below ``threshold``)."""
    r, g, b = (c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
               for c in mcolors.to_rgb(color))
    return "#111111" if 0.2126 * r + 0.7152 * g + 0.0722 * b > threshold else "#FFFFFF"


# --------------------------------------------------------------------------------------------
# figure furniture


def finish(fig, footnote: str | None):
    """Add the footnote (scenario, seed, replications) if there is one; return the figure."""
    if footnote:
        add_footnote(fig, footnote)
    return fig


_CAPTIONS: WeakKeyDictionary[Figure, str] = WeakKeyDictionary()


def set_caption(fig: Figure, caption: str) -> None:
    """The caption ``fig``'s data gives it (index.html, the deck), in place of the catalogue's."""
    _CAPTIONS[fig] = caption


def caption_of(fig: Figure) -> str | None:
    """The caption :func:`set_caption` gave ``fig``, if any."""
    return _CAPTIONS.get(fig)


def extremes(values: Mapping[str, float]) -> str:
    """The highest and the lowest of per-runtime durations, for a title: ``"1.2 s on
    dockershim, 0.4 s on crio"``, or ``"≈ 1.2 s on every chain"`` when they are within 2 %."""
    hi = max(values, key=lambda k: values[k])
    lo = min(values, key=lambda k: values[k])
    if values[hi] <= 1.02 * values[lo]:
        return f"≈ {duration(float(np.mean(list(values.values()))))} on every chain"
    return f"{duration(values[hi])} on {hi}, {duration(values[lo])} on {lo}"


def percent(share: float) -> str:
    """``0.834`` → ``"83 %"`` (the figures' style: a space before the sign)."""
    return f"{100 * share:.0f} %"


def axes_title(ax: Axes, text: str, **kw: Any) -> Text:
    """A takeaway title over ``ax``, fitted to the figure's width from the axes' left (at most
    20 % of the width in: the layout engine may move the axes right of where it is now)."""
    left = max(ax.get_position().x0, 0.2) * FIG_W_PX
    text, size = fitted_title(text, FIG_W_PX - left - 40)
    return ax.set_title(text, fontsize=size, **kw)


def slide_title(fig: Figure, text: str, colors: Mapping[str, str]) -> Text:
    """A bold title at the top left of a figure drawn without a layout engine."""
    text, size = fitted_title(text, FIG_W_PX - 40)
    return fig.text(0.012, 0.975, text, ha="left", va="top", fontsize=size,
                    fontweight="bold", color=colors["foreground"])


def runtime_ticks(ax: Axes, runtimes: Sequence[str], labels: bool = True) -> None:
    """Runtimes top to bottom on the y axis, each label bold in its runtime's colour."""
    y = np.arange(len(runtimes))
    ax.set_yticks(y, runtimes if labels else [""] * len(runtimes))
    if labels:
        for tick, runtime in zip(ax.get_yticklabels(), runtimes):
            tick.set_color(runtime_color(runtime))
            tick.set_fontweight("bold")
    ax.set_ylim(len(runtimes) - 0.5, -0.5)
    ax.grid(axis="y", visible=False)
    ax.tick_params(axis="y", length=0)


def _reading_order(handles: list[Patch], ncols: int) -> list[Patch]:
    """``handles`` reordered so that a legend of ``ncols`` columns reads left to right, then
    down (matplotlib fills a legend's columns first)."""
    rows = -(-len(handles) // ncols)
    grid = [handles[r * ncols:(r + 1) * ncols] for r in range(rows)]
    return [row[c] for c in range(ncols) for row in grid if c < len(row)]


def legend_below_axes(ax: Axes, handles: list[Patch], ncols: int) -> None:
    """A legend under the x label, read left to right then down."""
    ncols = min(ncols, len(handles))
    ax.legend(handles=_reading_order(handles, ncols), loc="upper center",
              bbox_to_anchor=(0.5, -0.16), ncols=ncols, handlelength=1.2, columnspacing=1.4)


def legend_below_figure(fig: Figure, handles: list[Patch], title: str | None = None) -> None:
    """A figure legend under the axes, read left to right then down, with as many columns as
    fit the figure's width."""
    size = 15.0  # legend.fontsize
    em = size * DPI / 72
    widths = [text_width_px(h.get_label(), size) + 2.0 * em for h in handles]  # handle + pad
    ncols = len(handles)
    while ncols > 1:
        rows = -(-len(handles) // ncols)
        col_w = [max(widths[r * ncols + c] for r in range(rows) if r * ncols + c < len(widths))
                 for c in range(ncols)]
        if sum(col_w) + 1.4 * em * (ncols - 1) < 0.96 * FIG_W_PX:
            break
        ncols -= 1
    # at the bottom, above the room of a one-line footnote (add_footnote lifts it over a taller
    # one), and the axes above it: an "outside" legend would ignore the footnote and sit on it
    foot = footnote_height(fig)
    key = fig.legend(handles=_reading_order(handles, ncols), loc="lower center",
                     bbox_to_anchor=(0.5, foot), bbox_transform=fig.transFigure, ncols=ncols,
                     handlelength=1.2, columnspacing=1.4, title=title, title_fontsize=13)
    key.set_in_layout(False)
    key_h = (key.get_window_extent().height + 8) / fig.bbox.height
    setattr(key, KEY_ABOVE_FOOTNOTE, key_h)
    engine = fig.get_layout_engine()
    if isinstance(engine, ConstrainedLayoutEngine):
        engine.set(rect=(0.0, foot + key_h, 1.0, 1.0 - foot - key_h))


def stacked_bars(
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
            if w > 0 and w * px_per_unit > text_size_px(text, 13)[0] + 14:
                ax.text(l + w / 2, yi, text, ha="center", va="center", fontsize=13,
                        color=ink_on(color),
                        bbox=None if hatch is None else dict(
                            boxstyle="round,pad=0.15", facecolor=color, edgecolor="none"))
        left = left + width
    for yi, total in enumerate(left):
        ax.text(total + x_max * 0.01, yi, unit.format(total / unit.per_second), ha="left",
                va="center", fontsize=16, fontweight="bold", color=colors["foreground"])
    runtime_ticks(ax, runtimes)
