"""Where pod creation breaks as load grows: failures and stalls by hop, as a heatmap and a table.

What it teaches: which hop of which chain fails pods, leaves them pending, throws retried errors
or stalls the node (PLEG), and from which load on: on one vCPU, dockershim's CreateContainer
calls hit the 2-minute CRI deadline and PLEG stalls the node while containerd does not.

What it draws: a failure ramp, :func:`simulator.experiments.failures.failure_ramp`'s table (one
row per runtime, load, hop, kind and replication; kind ``failed``, ``pending``, ``errors``,
``stall`` or ``ok``), averaged over replications by :class:`~._failure_ramp.Ramp`.
:func:`failure_heatmap` draws one panel per runtime, hops × loads; :func:`failure_table` is the
same as a pivot for a terminal or a report (``kubesim failures``). The catalogue's ramp is the
``load-ramp`` preset, 100 to 800 pods, dockershim and containerd.
"""

from __future__ import annotations

import math
import re
import textwrap
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import matplotlib.colors as mcolors
import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.cm import ScalarMappable
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle
from matplotlib.ticker import NullLocator

from ..style import add_footnote, figure_style, new_figure, runtime_color
from ._draw import ink_on, largest_size, line_height_px, text_width_px, title_size
from ._failure_ramp import FAILURE_KINDS, Ramp
from ._failure_ramp import takeaway as _takeaway
from ._failure_ramp import tick_text as _tick_text

if TYPE_CHECKING:
    from .data import FigureData

__all__ = ["FAILURE_KINDS", "failure_heatmap", "failure_table", "from_data"]

_LINE_SPACING = 1.22  # a cell's lines, packed a little tighter than elsewhere
_CELL_INK_THRESHOLD = 0.22  # ink on a cell: a slightly lower switch point than the bar charts'


def failure_table(df: pd.DataFrame) -> pd.DataFrame:
    """The failure ramp as a compact pivot for a terminal or a report.

    Index (runtime, hop), the runtimes in the house order and each runtime's hops worst first;
    one column per load (increasing); each value the cell's marker, averaged over replications:
    ``F 12`` pods failed for good at that hop, ``P 101`` pods pending at the end whose last
    error was at that hop, ``E 285`` retried sync errors, ``S 114s`` seconds of node NotReady;
    several kinds in one cell are joined most severe first (``F 2, E 40``); ``-`` when nothing
    happened. A runtime without any problem gets one row, hop ``(no failures)``.
    """
    ramp = Ramp(df)
    rows, index = [], []
    for runtime in ramp.runtimes:
        hops = [h for h in ramp.hops if ((ramp.cells["runtime"] == runtime)
                                          & (ramp.cells["hop"] == h)).any()]
        if not hops:
            index.append((runtime, "(no failures)"))
            rows.append(["-"] * len(ramp.loads))
            continue
        for hop in hops:
            index.append((runtime, hop))
            rows.append([", ".join(t for _, t, _ in ramp.texts(runtime, load, hop)) or "-"
                         for load in ramp.loads])
    columns = pd.Index([int(v) if float(v).is_integer() else v for v in ramp.loads], name="load")
    return pd.DataFrame(rows, index=pd.MultiIndex.from_tuples(index, names=["runtime", "hop"]),
                        columns=columns)


# --------------------------------------------------------------------------------------------
# failure ramp: the heatmap


def _hop_label(hop: str, width: int = 24) -> str:
    """``kubelet -> dockershim: CreateContainer`` → ``kubelet → dockershim`` over
    ``CreateContainer``; other long names wrapped at ``width`` characters, three lines at most."""
    text = hop.replace(" -> ", " → ").replace("->", "→")
    parts = [p.strip() for p in text.split(": ", 1)] if ": " in text else [text]
    lines: list[str] = []
    for part in parts:
        lines += textwrap.wrap(part, width, break_on_hyphens=False) or [part]
    if len(lines) > 3:
        lines = lines[:2] + [textwrap.shorten(" ".join(lines[2:]), width, placeholder="…")]
    return "\n".join(lines)


_STALL_FILL = "#8C8C8C"  # NotReady seconds are not a count: a neutral grey, on both themes
_SCALE_LABEL = "F, P, E: count ÷ pods"


def _heat_cmap() -> mcolors.Colormap:
    """Yellow → orange → red (a luminance ramp, colour-blind safe), without the near-white end
    so that a light cell never looks like an empty one."""
    base = colormaps["YlOrRd"]
    return mcolors.ListedColormap(base(np.linspace(0.14, 1.0, 256)), name="kubesim-failures")


def _norm(values: np.ndarray) -> mcolors.LogNorm:
    """A log scale over whole decades, at least two, around the per-pod values."""
    positive = values[values > 0]
    if not len(positive):
        return mcolors.LogNorm(vmin=0.01, vmax=1.0)
    lo = 10.0 ** math.floor(math.log10(float(positive.min())) + 1e-9)
    hi = 10.0 ** math.ceil(math.log10(float(positive.max())) - 1e-9)
    if hi / lo < 100:
        lo = min(lo, hi / 100)
    return mcolors.LogNorm(vmin=lo, vmax=hi)


_Line = tuple[str, float, bool]  # text, size relative to the cell's font size, bold


def _cell_layouts(texts: Sequence[tuple[str, str, float]]) -> list[list[_Line]]:
    """Ways to write a cell, most informative first: the marker and the other kinds below it,
    the marker on two lines (letter, number) for a narrow cell, the marker alone, the letter."""
    kind, marker, _ = texts[0]
    letter, number = marker.split(" ", 1)
    if kind == "stall" and re.fullmatch(r"[\d.]+s", number):
        number = number[:-1]  # under the S, whose key says seconds: a narrow cell's room
    others = [("+ " + t, 0.8, False) for _, t, _ in texts[1:]]
    full, split = [(marker, 1.0, True)], [(letter, 1.0, True), (number, 1.0, True)]
    layouts = [full + others, split + others] if others else []
    return layouts + [full, split, [(letter, 1.0, True)]]


def _fit_cell(texts: Sequence[tuple[str, str, float]], width_px: float, height_px: float,
              largest: int = 22, smallest: int = 13) -> tuple[list[_Line], float] | None:
    """The first layout of :func:`_cell_layouts` that fits the cell at a size between
    ``smallest`` and ``largest`` (points), at the largest size that fits; None if none does."""
    for lines in _cell_layouts(texts):
        for size in range(largest, smallest - 1, -1):
            widths = [text_width_px(t, size * f, "bold" if b else "normal") for t, f, b in lines]
            height = sum(line_height_px(size * f, _LINE_SPACING) for _, f, _ in lines)
            if max(widths) <= width_px - max(10.0, 0.12 * width_px) and height <= height_px - 8:
                return lines, float(size)
    return None


def _shows_number(lines: Sequence[_Line]) -> bool:
    return len(lines) > 1 or " " in lines[0][0]


def _cell_text(texts: Sequence[tuple[str, str, float]], width_px: float, height_px: float,
               size: int) -> tuple[list[_Line], float]:
    """A cell's lines at the figure's cell font ``size``: the most informative layout that
    fits; if only the letter would, a layout with the number at down to 11 pt; else the
    letter at whatever size fits (9 pt at least)."""
    fit = _fit_cell(texts, width_px, height_px, size, size)
    if fit is not None and _shows_number(fit[0]):
        return fit
    smaller = _fit_cell(texts[:1], width_px, height_px, size - 1, 11)
    if smaller is not None and _shows_number(smaller[0]):
        return smaller
    return fit or _fit_cell(texts[:1], width_px, height_px, size, 1) or (
        [(texts[0][1].split(" ")[0], 1.0, True)], 9.0)



def failure_heatmap(
    df: pd.DataFrame,
    title: str | None = None,
    footnote: str | None = None,
    *,
    theme: str = "light",
) -> Figure:
    """Where pod creation breaks as load grows: one panel per runtime, hops × loads.

    ``df`` is a failure ramp (columns runtime, load, hop, kind, count, per_pod, pods,
    replication; kind ``failed``, ``pending``, ``errors``, ``stall`` or ``ok``). Rows are the
    hops with any problem in any runtime, the worst on top (failed > pending > stall > errors,
    then the lowest load it starts at); columns are the loads. A cell's colour is its most
    severe kind's count per pod of that load, averaged over replications, on a log scale (empty
    when nothing happened); its text is that kind's marker (``F 12``, ``P 101``, ``S 114s``,
    ``E 285``) and, room permitting, the other kinds below it. Cells with failed or pending pods
    are outlined. A dashed line and a bold column label mark the first load at which a runtime
    fails, leaves pods pending or stalls its node, and the panel's subtitle says "breaks at N";
    a runtime without any problem says "no failures up to N" instead. The colour scale is
    count ÷ pods at that load for F, P and E; a cell whose main kind is S (seconds the node was
    NotReady, not a count) is grey and hatched, off the scale. The title states which runtime
    breaks first and at which load (computed from ``df``).
    """
    ramp = Ramp(df)
    runtimes, loads = ramp.runtimes, ramp.loads
    hops = ramp.hops or ["(none)"]
    n_rt, n_load, n_hop = len(runtimes), len(loads), len(hops)
    values = np.zeros((n_rt, n_hop, n_load))  # count ÷ pods of the cell's main kind
    stalled = np.zeros((n_rt, n_hop, n_load), dtype=bool)  # main kind S: seconds, off the scale
    for i, runtime in enumerate(runtimes):
        for j, hop in enumerate(hops):
            for k, load in enumerate(loads):
                texts = ramp.texts(runtime, load, hop)
                stalled[i, j, k] = bool(texts) and texts[0][0] == "stall"
                values[i, j, k] = texts[0][2] if texts and not stalled[i, j, k] else 0.0
    norm = _norm(values)
    max_load = _tick_text(loads[-1])
    up_to = f"up to {max_load} pods" if ramp.load_is_pods else f"up to load {max_load}"

    with figure_style(theme) as colors:
        cmap = _heat_cmap()
        fig, axes = new_figure(1, n_rt, sharey=True)
        engine: Any = fig.get_layout_engine()
        engine.set(wspace=0.03, w_pad=0.04)
        axes = list(np.atleast_1d(axes))
        for i, (ax, runtime) in enumerate(zip(axes, runtimes)):
            ax.set_facecolor(colors["background"])
            ax.grid(False)
            for side in ("left", "bottom", "top", "right"):
                ax.spines[side].set_visible(False)
            # the empty grid: thin lines between all cells
            for x in range(n_load + 1):
                ax.plot([x, x], [0, n_hop], color=colors["grid"], linewidth=1.0, zorder=0)
            for y in range(n_hop + 1):
                ax.plot([0, n_load], [y, y], color=colors["grid"], linewidth=1.0, zorder=0)
            for j in range(n_hop):
                for k in range(n_load):
                    if values[i, j, k] > 0:
                        ax.add_patch(Rectangle((k + 0.025, j + 0.03), 0.95, 0.94, linewidth=0,
                                               facecolor=cmap(norm(values[i, j, k])), zorder=1))
                    elif stalled[i, j, k]:  # seconds, not a count: grey, hatched, off the scale
                        ax.add_patch(Rectangle((k + 0.025, j + 0.03), 0.95, 0.94, linewidth=0,
                                               facecolor=_STALL_FILL, hatch="//",
                                               edgecolor=colors["background"], zorder=1))
            ax.set_xlim(0, n_load)
            ax.set_ylim(n_hop, 0)
            ax.set_xticks(np.arange(n_load) + 0.5, [_tick_text(v) for v in loads])
            ax.tick_params(axis="both", length=0)
            ax.set_title(runtime, color=runtime_color(runtime), loc="left", pad=30)
            ax.set_xlabel("pods created" if ramp.load_is_pods else "load", fontsize=16)
        axes[0].set_yticks(np.arange(n_hop) + 0.5,
                           [_hop_label(h) for h in hops] if ramp.hops else [""])
        for tick in axes[0].get_yticklabels():
            tick.set_fontsize(15 if n_hop <= 5 else 14 if n_hop <= 8 else 12)
            tick.set_linespacing(1.05)
        if not ramp.hops:
            axes[0].tick_params(axis="y", labelleft=False)
        cax = fig.add_axes((0.7, 0.95, 0.25, 0.02))  # placed beside the title below
        cax.set_in_layout(False)
        cbar = fig.colorbar(ScalarMappable(norm=norm, cmap=cmap), cax=cax,
                            orientation="horizontal")
        cbar.outline.set_visible(False)
        cbar.ax.tick_params(labelsize=14, length=4, pad=3)
        assert norm.vmin is not None and norm.vmax is not None
        decades = 10.0 ** np.arange(round(math.log10(norm.vmin)),
                                    round(math.log10(norm.vmax)) + 1)
        cbar.set_ticks(decades.tolist(), labels=[f"{v:g}" for v in decades])
        cbar.ax.xaxis.set_minor_locator(NullLocator())
        cbar.ax.set_ylabel(_SCALE_LABEL, fontsize=14, rotation=0, ha="right",
                           va="center", labelpad=10, color=colors["foreground"])
        blank = Line2D([], [], linestyle="none")
        legend = [(blank, "F  pods failed for good"),
                  (Patch(facecolor=_STALL_FILL, hatch="//", edgecolor=colors["background"]),
                   "S  seconds node NotReady (grey)"),
                  (blank, "P  pods never running (hop of last error)"),
                  (blank, "E  sync errors, retried"),
                  (Patch(fill=False, edgecolor=colors["foreground"], linewidth=2.6),
                   "pods lost (F or P)"),
                  (Line2D([], [], color=colors["foreground"], linewidth=2.6,
                          linestyle=(0, (3, 2))), "first load with F, P or S")]
        if footnote:  # first: the footnote shrinks the layout, the legend then sits above it
            add_footnote(fig, footnote)
        # the key at the bottom left, above the footnote, and the panels above the key (an
        # "outside" legend would ignore the footnote's room and sit on it)
        bottom = engine.get()["rect"][1]
        key = fig.legend([h for h, _ in legend], [t for _, t in legend], loc="lower left",
                         bbox_to_anchor=(0.004, bottom), bbox_transform=fig.transFigure, ncols=3,
                         handlelength=1.3, handletextpad=0.5, columnspacing=2.2, fontsize=14)
        key.set_in_layout(False)
        key_h = (key.get_window_extent().height + 6) / fig.bbox.height
        engine.set(rect=(0.0, bottom + key_h, 1.0, 1.0 - bottom - key_h))
        text = title or _takeaway(ramp, runtimes, up_to)
        # the colour scale takes the right of the title line: the title gets the rest
        room = fig.bbox.width - 480 - text_width_px(_SCALE_LABEL, 14) - 24
        heading = fig.suptitle(text, x=0.01, ha="left", fontsize=title_size(text, room))

        # load labels sized to the columns, then the cell texts sized to the cells, once the
        # layout has placed the panels
        fig.draw_without_rendering()
        cell_w = axes[0].get_window_extent().width / n_load
        for short, rotation in ((False, 0), (True, 0), (False, 90)):
            labels = [_tick_text(v, short) for v in loads]
            tick_size = largest_size(max(labels, key=len), cell_w - 10, (16, 15, 14, 13, 12))
            if tick_size or rotation:
                break
        for ax in axes:
            ax.set_xticks(np.arange(n_load) + 0.5, labels)
            ax.tick_params(axis="x", labelsize=tick_size or 12, labelrotation=rotation)
        fig.draw_without_rendering()
        # the colour scale at the right of the title line: label, bar, ticks under the bar
        band = heading.get_window_extent()
        fig_w, fig_h = fig.bbox.width, fig.bbox.height
        label_w = text_width_px(_SCALE_LABEL, 14) + 24
        x0 = min(max(band.x1 + 40 + label_w, fig_w - 440), fig_w - 200)
        mid = min(band.y0 + 0.5 * band.height, fig_h - 44)  # its label stays inside the page
        cax.set_position((x0 / fig_w, mid / fig_h,
                          (fig_w - 36 - x0) / fig_w, 16 / fig_h))
        # every decade labelled if the labels fit, else every other one (from the top)
        step = 1 if (fig_w - 36 - x0) / max(len(decades) - 1, 1) >= 90 else 2
        cbar.set_ticks(decades.tolist(), labels=[f"{v:g}" if (len(decades) - 1 - i) % step == 0 else ""
                                        for i, v in enumerate(decades)])
        # the cell texts at one size, the largest at which every cell is readable
        box = axes[0].get_window_extent()
        cell_w, cell_h = box.width / n_load, box.height / n_hop
        cells = [(i, j, k, ramp.texts(runtimes[i], loads[k], hops[j]))
                 for i in range(n_rt) for j in range(n_hop) for k in range(n_load)]
        cells = [c for c in cells if c[3]]
        # one font size for all cells: the largest at which every cell shows its number
        fits = [_fit_cell(t, cell_w, cell_h) for *_, t in cells]
        with_number = [f[1] for f in fits if f is not None and _shows_number(f[0])]
        size = int(min(with_number, default=22))
        for i, j, k, texts in cells:
            ax = axes[i]
            kind, _, per_pod = texts[0]
            fill = _STALL_FILL if kind == "stall" else cmap(norm(per_pod))
            ink = ink_on(fill, threshold=_CELL_INK_THRESHOLD)
            if kind in ("failed", "pending"):
                ax.add_patch(Rectangle((k + 0.05, j + 0.05), 0.9, 0.9, fill=False,
                                       edgecolor=colors["foreground"], linewidth=2.6, zorder=3))
            lines, fitted = _cell_text(texts, cell_w, cell_h, size)
            heights = [line_height_px(fitted * f, _LINE_SPACING) / cell_h for _, f, _ in lines]
            y = j + 0.5 - sum(heights) / 2
            for (text, f, bold), h in zip(lines, heights):
                ax.text(k + 0.5, y + h / 2, text, ha="center", va="center_baseline",
                        fontsize=fitted * f, fontweight="bold" if bold else "normal",
                        color=ink, zorder=4)
                y += h
        for ax, runtime in zip(axes, runtimes):
            _panel_note(ax, ramp, runtime, loads, n_hop, box.width, up_to, colors)
    return fig


def _panel_note(ax: Axes, ramp: Ramp, runtime: str, loads: list[float], n_hop: int,
                panel_w: float, up_to: str, colors) -> None:
    """Under the runtime's name: the first load at which it breaks (also a dashed line before
    that column and its label in bold), or how far it went without breaking."""
    n_load = len(loads)
    breaks = ramp.breaking_load(runtime)
    if breaks is not None:
        k = loads.index(breaks)
        ax.plot([k, k], [n_hop, 0], color=colors["foreground"], linewidth=2.6,
                linestyle=(0, (3, 2)), zorder=5, clip_on=False)[0].set_in_layout(False)
        ax.get_xticklabels()[k].set_fontweight("bold")
        unit = " pods" if ramp.load_is_pods else ""
        candidates = [(f"breaks at {_tick_text(breaks)}{unit}", "bold"),
                      (f"breaks at {_tick_text(breaks)}", "bold")]
    elif ramp.has_problems(runtime):
        candidates = [(f"no failures {up_to}, errors only", "normal"),
                      (f"no failures {up_to}", "normal"), ("no failures", "normal")]
    else:
        text = f"no failures\n{up_to}"
        size = largest_size(text, panel_w - 16, (20, 19, 18, 17, 16, 15, 14, 13, 12), "bold") or 12
        ax.text(n_load / 2, n_hop / 2, text, ha="center", va="center", fontsize=size,
                fontweight="bold", color=colors["muted"], linespacing=1.4, zorder=5,
                bbox=dict(boxstyle="round,pad=0.5", facecolor=colors["background"],
                          edgecolor="none")).set_in_layout(False)
        return
    for text, weight in candidates:
        fits = largest_size(text, panel_w, (15, 14, 13, 12), weight)
        if fits is not None:
            size = fits
            break
    else:
        text, size = candidates[-1][0], 11
    ax.annotate(text, xy=(0, 0), xycoords="data", xytext=(0, 6), textcoords="offset points",
                ha="left", va="bottom", fontsize=size, fontweight=weight,
                color=colors["foreground"] if breaks is not None else colors["muted"],
                annotation_clip=False).set_in_layout(False)  # never resizes the panel


def from_data(data: FigureData) -> Figure:
    """The catalogue's heatmap: the ``load-ramp`` preset, 100 to 800 pods."""
    from ...experiments.failures import failure_ramp

    ramp = data.memo("failures-by-hop", lambda: failure_ramp(
        data.scenario(name="load-ramp"), ["dockershim", "containerd"], loads=[100, 200, 400, 800],
        seed=data.seed))
    return failure_heatmap(ramp, footnote=f"kubesim · scenario 'load-ramp' · seed {data.seed} · "
                           "load = pods", theme=data.theme)
