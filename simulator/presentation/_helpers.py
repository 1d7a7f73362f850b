"""Small helpers every figure module shares: column checks, ordering, duration units, ink
colour on a fill, and text measurement without a renderer (for fitting labels)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import matplotlib.colors as mcolors
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.font_manager import FontProperties
from matplotlib.textpath import TextToPath

from .style import DPI, add_footnote, runtime_color

__all__ = ["finish", "require", "self_seconds", "runtime_ticks", "ordered", "Unit", "unit_for", "duration", "ink_on", "text_width_px", "text_size_px"]

_TEXT_PATH = TextToPath()


def require(df: pd.DataFrame, columns: Iterable[str], what: str) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise KeyError(f"{what} lacks columns {missing}; it has {list(df.columns)}")


def ordered(names: Iterable[str], canonical: Sequence[str]) -> list[str]:
    """``names`` in canonical order, names not in ``canonical`` after them, alphabetically."""
    present = set(names)
    return [n for n in canonical if n in present] + sorted(present - set(canonical))


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


def unit_for(max_seconds: float) -> Unit:
    """Milliseconds below two seconds (CRI calls), seconds above (pod startup)."""
    return Unit("ms", 1000.0) if max_seconds < 2.0 else Unit("s", 1.0)


def duration(seconds: float) -> str:
    """A duration in the unit that reads best for it: ``38.5 ms``, ``1.2 s``."""
    return unit_for(seconds).format(seconds)


def ink_on(color, threshold: float = 0.28) -> str:
    """Black or white, whichever reads better on ``color`` (WCAG relative luminance above or
    below ``threshold``)."""
    r, g, b = (c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
               for c in mcolors.to_rgb(color))
    return "#111111" if 0.2126 * r + 0.7152 * g + 0.0722 * b > threshold else "#FFFFFF"


def finish(fig, footnote: str | None):
    """Add the footnote (scenario, seed, replications) if there is one; return the figure."""
    if footnote:
        add_footnote(fig, footnote)
    return fig


@lru_cache(maxsize=8192)
def text_width_px(text: str, size_pt: float, weight: str = "normal") -> float:
    """Width of a one-line text in pixels at the figures' DPI, measured without a renderer."""
    prop = FontProperties(family="DejaVu Sans", size=size_pt, weight=weight)
    width, _, _ = _TEXT_PATH.get_text_width_height_descent(text, prop, ismath=False)
    return width * DPI / 72


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


def text_size_px(text: str, size_pt: float, weight: str = "normal") -> tuple[float, float]:
    """Width and line height (ascent + descent + pad) of a one-line text in pixels."""
    return text_width_px(text, size_pt, weight), size_pt * 1.25 * DPI / 72
