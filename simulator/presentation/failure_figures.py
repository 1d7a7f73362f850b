"""Failure figures: where pod creation breaks as load grows, and what a runtime migration does.

Two slide-ready figures (1920 × 1080 px, the one kubesim style of
:mod:`simulator.presentation.style`) and a terminal table, drawn from the tidy DataFrames the
experiments produce. Like the rest of the presentation layer this module imports matplotlib,
pandas and numpy only, never SimPy or the model.

* :func:`failure_heatmap` and :func:`failure_table`: the failure ramp
  (``simulator.experiments.failures.failure_ramp``), one panel (or block of rows) per runtime,
  one row per hop, one column per load: which hop fails pods, leaves them pending, throws
  retried errors or stalls the node, and from which load on.
* :func:`migration_timeline`: a cluster whose node pools are moved from one runtime to another,
  node by node: each node's runtime over time, the reinstall gaps, the pods on each node, and
  the pods left Pending cluster-wide (the Docker-in-Docker runners whose nodeSelector needs a
  Docker node, once the last one is gone).
"""

from __future__ import annotations

import math
import re
import textwrap
from collections.abc import Iterable, Sequence

import matplotlib.colors as mcolors
import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.cm import ScalarMappable
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle
from matplotlib.ticker import FixedLocator, FuncFormatter, MaxNLocator, NullLocator
from matplotlib.transforms import blended_transform_factory

from . import style as _style
from ._helpers import ink_on
from ._helpers import text_width_px as _text_width_px
from .style import DPI, OKABE_ITO, add_footnote, figure_style, new_figure, runtime_color

__all__ = [
    "FAILURE_KINDS",
    "failure_heatmap",
    "failure_table",
    "migration_timeline",
]

FAILURE_KINDS = ("failed", "pending", "stall", "errors")
"""The problem kinds of a failure ramp, most severe first (``ok`` rows only complete the ramp)."""

_KIND_LETTER = {"failed": "F", "pending": "P", "stall": "S", "errors": "E"}
_BREAKING_KINDS = ("failed", "pending", "stall")
_RAMP_COLUMNS = ("runtime", "load", "hop", "kind", "count", "per_pod", "replication")
_POD_COLUMNS = ("pod", "node", "runtime", "template", "created", "running_observed", "deleted",
                "outcome", "failure_hop", "failure_reason")
_EVENT_COLUMNS = ("runtime", "node", "time", "pod", "event", "detail")
_SCHEDULER_HOP = "kube-scheduler"
_INK_DARK, _INK_LIGHT = "#111111", "#FFFFFF"


# --------------------------------------------------------------------------------------------
# shared helpers


def _require(df: pd.DataFrame, columns: Iterable[str], what: str) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise KeyError(f"{what} lacks columns {missing}; it has {list(df.columns)}")


def _runtime_key(runtime: str) -> tuple:
    """The house runtime order (style.runtime_sort_key), or alphabetical if it is missing."""
    key = getattr(_style, "runtime_sort_key", None)
    return key(runtime) if key is not None else (0, runtime)


def _natural_key(name: str) -> tuple:
    """``apps-2`` before ``apps-10``."""
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"(\d+)", str(name)))


def _ink_on(color) -> str:
    """Ink for text on a heatmap cell (a slightly lower switch point than the bar charts')."""
    return ink_on(color, threshold=0.22)


def _line_height_px(size_pt: float) -> float:
    return size_pt * 1.22 * DPI / 72


def _number(value: float) -> str:
    """A count in at most four characters: 3, 2.5, 285, 1.2k, 12k."""
    if value >= 9999.5:
        return f"{value / 1000:.0f}k"
    if value >= 999.5:
        return f"{value / 1000:.1f}k".replace(".0k", "k")
    if value >= 9.95 or float(value).is_integer():
        return f"{value:.0f}"
    return f"{value:.1f}"


def _seconds(value: float) -> str:
    """Stall seconds: 114s, 17min, 2.5h."""
    if value >= 5940:
        return f"{value / 3600:.1f}h".replace(".0h", "h")
    if value >= 599.5:
        return f"{value / 60:.0f}min"
    return f"{value:.0f}s" if value >= 9.95 else f"{value:.1f}s"


def _marker(kind: str, count: float) -> str:
    """``F 12``, ``P 101``, ``E 285``, ``S 114s``."""
    return f"{_KIND_LETTER[kind]} {_seconds(count) if kind == 'stall' else _number(count)}"


class _Ramp:
    """A failure ramp averaged over replications: one cell per (runtime, load, hop)."""

    def __init__(self, df: pd.DataFrame) -> None:
        _require(df, _RAMP_COLUMNS, "failure ramp")
        if df.empty:
            raise ValueError("the failure ramp is empty")
        df = df.copy()
        df["hop"] = df["hop"].fillna("(unknown)").astype(str).replace("", "(unknown)")
        df["kind"] = df["kind"].astype(str)
        df["load"] = df["load"].astype(float)
        self.runtimes: list[str] = sorted(df["runtime"].astype(str).unique(), key=_runtime_key)
        self.loads: list[float] = sorted(df["load"].unique())
        # replications per (runtime, load): a hop that did not show up in a replication counts 0
        reps = df.groupby(["runtime", "load"])["replication"].nunique().rename("reps")
        problems = df[df["kind"].isin(FAILURE_KINDS)]
        sums = problems.groupby(["runtime", "load", "hop", "kind"])[["count", "per_pod"]].sum()
        cells = sums.join(reps, on=["runtime", "load"])
        cells[["count", "per_pod"]] = cells[["count", "per_pod"]].div(cells["reps"], axis=0)
        cells = cells[cells["count"] > 0].drop(columns="reps").reset_index()
        cells["rank"] = cells["kind"].map(FAILURE_KINDS.index)
        self.cells = cells
        self.hops = self._hop_order()
        pods = df.groupby(["runtime", "load"])["pods"].max() if "pods" in df.columns else None
        self.load_is_pods = bool(pods is not None and len(pods)
                                 and np.allclose(pods.index.get_level_values("load"), pods.values))

    def _hop_order(self) -> list[str]:
        """Worst hops first: the most severe kind, then the lowest load it appears at, then
        the most events per pod."""
        c = self.cells
        if c.empty:
            return []
        load_index = {load: i for i, load in enumerate(self.loads)}
        keys = []
        for hop, g in c.groupby("hop"):
            worst = int(g["rank"].min())
            of_worst = g[g["rank"] == worst]
            keys.append((worst, min(load_index[v] for v in of_worst["load"]),
                         -float(of_worst["per_pod"].sum()), hop))
        return [k[-1] for k in sorted(keys)]

    def cell(self, runtime: str, load: float, hop: str) -> pd.DataFrame:
        c = self.cells
        return c[(c["runtime"] == runtime) & (c["load"] == load) & (c["hop"] == hop)].sort_values(
            "rank")

    def texts(self, runtime: str, load: float, hop: str) -> list[tuple[str, str, float]]:
        """(kind, marker, per_pod) of a cell, most severe first; empty when nothing happened."""
        return [(r.kind, _marker(r.kind, r.count), float(r.per_pod))
                for r in self.cell(runtime, load, hop).itertuples(index=False)]

    def breaking_load(self, runtime: str) -> float | None:
        """The first load at which the runtime fails or leaves pods pending or stalls a node."""
        c = self.cells
        bad = c[(c["runtime"] == runtime) & c["kind"].isin(_BREAKING_KINDS)]
        return float(bad["load"].min()) if len(bad) else None

    def has_problems(self, runtime: str) -> bool:
        return bool((self.cells["runtime"] == runtime).any())


def failure_table(df: pd.DataFrame) -> pd.DataFrame:
    """The failure ramp as a compact pivot for a terminal or a report.

    Index (runtime, hop), the runtimes in the house order and each runtime's hops worst first;
    one column per load (increasing); each value the cell's marker, averaged over replications:
    ``F 12`` pods failed for good at that hop, ``P 101`` pods pending at the end whose last
    error was at that hop, ``E 285`` retried sync errors, ``S 114s`` seconds of node NotReady;
    several kinds in one cell are joined most severe first (``F 2, E 40``); ``-`` when nothing
    happened. A runtime without any problem gets one row, hop ``(no failures)``.
    """
    ramp = _Ramp(df)
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
            widths = [_text_width_px(t, size * f, "bold" if b else "normal") for t, f, b in lines]
            height = sum(_line_height_px(size * f) for _, f, _ in lines)
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


def _largest(text: str, width_px: float, sizes: Sequence[float], weight: str = "normal"
             ) -> float | None:
    """The largest size of ``sizes`` at which every line of ``text`` fits ``width_px``."""
    for size in sizes:
        if all(_text_width_px(line, size, weight) <= width_px for line in text.split("\n")):
            return size
    return None


def _tick_text(load: float, short: bool = False) -> str:
    """A load as a column label: 800, 1600, 2.5; ``short``: 1.6k, 12k."""
    if float(load).is_integer():
        v = int(load)
        if v >= 1000 and (short or v >= 100000):
            return f"{v / 1000:.1f}k".replace(".0k", "k") if v < 10000 else f"{v / 1000:.0f}k"
        return str(v)
    return f"{load:g}"


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
    count ÷ pods at that load (for S, NotReady seconds ÷ pods).
    """
    ramp = _Ramp(df)
    runtimes, loads = ramp.runtimes, ramp.loads
    hops = ramp.hops or ["(none)"]
    n_rt, n_load, n_hop = len(runtimes), len(loads), len(hops)
    values = np.zeros((n_rt, n_hop, n_load))
    for i, runtime in enumerate(runtimes):
        for j, hop in enumerate(hops):
            for k, load in enumerate(loads):
                texts = ramp.texts(runtime, load, hop)
                values[i, j, k] = texts[0][2] if texts else 0.0
    norm = _norm(values)
    max_load = _tick_text(loads[-1])
    up_to = f"up to {max_load} pods" if ramp.load_is_pods else f"up to load {max_load}"

    with figure_style(theme) as colors:
        cmap = _heat_cmap()
        fig, axes = new_figure(1, n_rt, sharey=True)
        fig.get_layout_engine().set(wspace=0.03, w_pad=0.04)
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
        decades = 10.0 ** np.arange(round(math.log10(norm.vmin)),
                                    round(math.log10(norm.vmax)) + 1)
        cbar.set_ticks(decades, labels=[f"{v:g}" for v in decades])
        cbar.ax.xaxis.set_minor_locator(NullLocator())
        cbar.ax.set_ylabel("count ÷ pods", fontsize=14, rotation=0, ha="right",
                           va="center", labelpad=10, color=colors["foreground"])
        blank = Line2D([], [], linestyle="none")
        legend = [(blank, "F  pods failed for good"),
                  (blank, "S  seconds node NotReady"),
                  (blank, "P  pods never running (hop of last error)"),
                  (blank, "E  sync errors, retried"),
                  (Patch(fill=False, edgecolor=colors["foreground"], linewidth=2.6),
                   "pods lost (F or P)"),
                  (Line2D([], [], color=colors["foreground"], linewidth=2.6,
                          linestyle=(0, (3, 2))), "first load with F, P or S")]
        fig.legend([h for h, _ in legend], [t for _, t in legend], loc="outside lower left",
                   ncols=3, handlelength=1.3, handletextpad=0.5, columnspacing=2.2, fontsize=14)
        heading = fig.suptitle(title or "Where pod creation breaks as load grows", x=0.01,
                               ha="left")
        if footnote:  # before the layout passes below: the footnote shrinks the layout
            add_footnote(fig, footnote)

        # load labels sized to the columns, then the cell texts sized to the cells, once the
        # layout has placed the panels
        fig.draw_without_rendering()
        cell_w = axes[0].get_window_extent().width / n_load
        for short, rotation in ((False, 0), (True, 0), (False, 90)):
            labels = [_tick_text(v, short) for v in loads]
            tick_size = _largest(max(labels, key=len), cell_w - 10, (16, 15, 14, 13, 12))
            if tick_size or rotation:
                break
        for ax in axes:
            ax.set_xticks(np.arange(n_load) + 0.5, labels)
            ax.tick_params(axis="x", labelsize=tick_size or 12, labelrotation=rotation)
        fig.draw_without_rendering()
        # the colour scale at the right of the title line: label, bar, ticks under the bar
        band = heading.get_window_extent()
        fig_w, fig_h = fig.bbox.width, fig.bbox.height
        label_w = _text_width_px("count ÷ pods", 14) + 24
        x0 = min(max(band.x1 + 40 + label_w, fig_w - 440), fig_w - 200)
        cax.set_position((x0 / fig_w, (band.y0 + 0.5 * band.height) / fig_h,
                          (fig_w - 36 - x0) / fig_w, 16 / fig_h))
        # every decade labelled if the labels fit, else every other one (from the top)
        step = 1 if (fig_w - 36 - x0) / max(len(decades) - 1, 1) >= 90 else 2
        cbar.set_ticks(decades, labels=[f"{v:g}" if (len(decades) - 1 - i) % step == 0 else ""
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
            ink = _ink_on(cmap(norm(per_pod)))
            if kind in ("failed", "pending"):
                ax.add_patch(Rectangle((k + 0.05, j + 0.05), 0.9, 0.9, fill=False,
                                       edgecolor=colors["foreground"], linewidth=2.6, zorder=3))
            lines, fitted = _cell_text(texts, cell_w, cell_h, size)
            heights = [_line_height_px(fitted * f) / cell_h for _, f, _ in lines]
            y = j + 0.5 - sum(heights) / 2
            for (text, f, bold), h in zip(lines, heights):
                ax.text(k + 0.5, y + h / 2, text, ha="center", va="center_baseline",
                        fontsize=fitted * f, fontweight="bold" if bold else "normal",
                        color=ink, zorder=4)
                y += h
        for ax, runtime in zip(axes, runtimes):
            _panel_note(ax, ramp, runtime, loads, n_hop, box.width, up_to, colors)
    return fig


def _panel_note(ax: Axes, ramp: _Ramp, runtime: str, loads: list[float], n_hop: int,
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
        size = _largest(text, panel_w - 16, (20, 19, 18, 17, 16, 15, 14, 13, 12), "bold") or 12
        ax.text(n_load / 2, n_hop / 2, text, ha="center", va="center", fontsize=size,
                fontweight="bold", color=colors["muted"], linespacing=1.4, zorder=5,
                bbox=dict(boxstyle="round,pad=0.5", facecolor=colors["background"],
                          edgecolor="none")).set_in_layout(False)
        return
    for text, weight in candidates:
        size = _largest(text, panel_w, (15, 14, 13, 12), weight)
        if size is not None:
            break
    else:
        text, size = candidates[-1][0], 11
    ax.annotate(text, xy=(0, 0), xycoords="data", xytext=(0, 6), textcoords="offset points",
                ha="left", va="bottom", fontsize=size, fontweight=weight,
                color=colors["foreground"] if breaks is not None else colors["muted"],
                annotation_clip=False).set_in_layout(False)  # never resizes the panel


# --------------------------------------------------------------------------------------------
# migration timeline


def _step_count(starts: np.ndarray, ends: np.ndarray, at: np.ndarray) -> np.ndarray:
    """How many intervals [start, end) contain each time of ``at``."""
    s, e = np.sort(starts), np.sort(ends)
    return (np.searchsorted(s, at, side="right") - np.searchsorted(e, at, side="right")).astype(
        float)


def _node_periods(node: str, events: pd.DataFrame, first_runtime: str, t0: float,
                  t_end: float) -> list[tuple[float, float, str, str]]:
    """(start, end, state, runtime) of a node: state ``serving``, ``cordoned`` or
    ``reinstalling``, from its Cordoned, NodeRemoved and NodeJoined events."""
    life = events[(events["node"] == node)
                  & events["event"].isin(["Cordoned", "Uncordoned", "NodeRemoved", "NodeJoined"])]
    periods = []
    state, runtime, since = "serving", first_runtime, t0
    for row in life.sort_values("time", kind="stable").itertuples(index=False):
        new_state = {"Cordoned": "cordoned", "Uncordoned": "serving",
                     "NodeRemoved": "reinstalling", "NodeJoined": "serving"}[row.event]
        if row.time > since:
            periods.append((since, float(row.time), state, runtime))
        if row.event == "NodeJoined":
            joined = str(row.runtime) if isinstance(row.runtime, str) and row.runtime else ""
            found = re.search(r"with (\S+)", str(row.detail or ""))
            runtime = joined or (found.group(1) if found else runtime)
        state, since = new_state, float(row.time)
    if t_end > since:
        periods.append((since, t_end, state, runtime))
    return periods


def _time_axis(ax: Axes, t0: float, t_end: float) -> str:
    """Minute ticks for runs longer than 15 minutes, seconds otherwise; returns the unit."""
    span = t_end - t0
    if span > 900:
        step = next((m for m in (1, 2, 5, 10, 15, 20, 30, 60, 120, 240)
                     if span / (60 * m) <= 12), 480)
        ticks = np.arange(math.ceil(t0 / (60 * step)) * 60 * step, t_end + 1e-9, 60 * step)
        ax.xaxis.set_major_locator(FixedLocator(ticks))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v / 60:.0f}"))
        return "min"
    ax.xaxis.set_major_locator(MaxNLocator(10, steps=[1, 2, 2.5, 5, 10]))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    return "s"


def migration_timeline(
    pods: pd.DataFrame,
    events: pd.DataFrame,
    title: str | None = None,
    footnote: str | None = None,
    *,
    theme: str = "light",
) -> Figure:
    """A runtime migration, node by node: who ran where, and who was left Pending.

    Top: one lane per node, time on x. The lane is tinted in the node's runtime colour while
    the node serves (the tint changes when the node comes back with the new runtime), hatched
    grey while it is reinstalled (NodeRemoved → NodeJoined), with a ▼ where it was cordoned and
    drained; the solid area in the lane is the number of pods running on the node. Bottom
    (same time axis): pods Running and Pending cluster-wide; pods left Pending because the
    scheduler found no node for them (``failure_hop == "kube-scheduler"``, e.g. Docker-in-Docker
    runners whose nodeSelector needs a Docker node) are hatched and counted at the end. A dashed
    line marks when the last node of a runtime that the migration removes left service.
    Frames holding several replications are drawn for their first one.
    """
    _require(pods, _POD_COLUMNS, "pods")
    _require(events, _EVENT_COLUMNS, "events")
    # one run: the first replication of a comparison's frames
    if "replication" in pods.columns and pods["replication"].nunique() > 1:
        first = pods["replication"].min()
        pods = pods[pods["replication"] == first]
        if "replication" in events.columns:
            events = events[events["replication"] == first]
    ev = events.copy()
    ev["time"] = ev["time"].astype(float)
    ev["node"] = ev["node"].where(ev["node"].notna(), "").astype(str)
    p = pods.copy()
    for column in ("created", "running_observed", "deleted"):
        p[column] = pd.to_numeric(p[column], errors="coerce").astype(float)
    p["node"] = p["node"].where(p["node"].notna(), "").astype(str)
    p["failure_hop"] = p["failure_hop"].where(p["failure_hop"].notna(), "").astype(str)

    times = np.r_[ev["time"].to_numpy(float),
                  p[["created", "running_observed", "deleted"]].to_numpy(float).ravel()]
    times = times[np.isfinite(times)]
    if not len(times):
        raise ValueError("pods and events hold no time to draw")
    t0 = min(0.0, float(times.min()))
    t_last = float(times.max())
    t_end = t_last + max(0.07 * (t_last - t0), 1.0)

    nodes = sorted({n for n in p["node"] if n and n != "unscheduled"}
                   | {n for n in ev["node"] if n}, key=_natural_key)
    if not nodes:
        raise ValueError("neither pods nor events name a node")

    def first_runtime(node: str) -> str:
        before = ev[(ev["node"] == node) & ~ev["event"].isin(["NodeJoined"])]
        joined = ev[(ev["node"] == node) & (ev["event"] == "NodeJoined")]
        cutoff = float(joined["time"].min()) if len(joined) else math.inf
        before = before[before["time"] < cutoff].sort_values("time", kind="stable")
        if len(before):
            return str(before["runtime"].iloc[0])
        on = p[(p["node"] == node) & (p["created"] < cutoff)].sort_values("created")
        return str(on["runtime"].iloc[0]) if len(on) else "unknown"

    periods = {n: _node_periods(n, ev, first_runtime(n), t0, t_end) for n in nodes}
    seen_runtimes = sorted({rt for ps in periods.values() for _, _, st, rt in ps
                            if st != "reinstalling"}, key=_runtime_key)
    final = {next((rt for _, _, st, rt in reversed(ps) if st != "reinstalling"), None)
             for ps in periods.values()}
    initial = {ps[0][3] for ps in periods.values() if ps}
    leaving = [rt for rt in seen_runtimes if rt in initial and rt not in final]
    arriving = [rt for rt in seen_runtimes if rt not in initial]

    # pods on each node and cluster-wide
    ran = p[np.isfinite(p["running_observed"])]
    run_end = ran["deleted"].fillna(math.inf).to_numpy(float)
    fail_time = (ev[ev["event"] == "Failed"].groupby("pod")["time"].min()
                 if "Failed" in set(ev["event"]) else pd.Series(dtype=float))
    failed = p[p["outcome"] == "failed"]
    # a failed pod is pending until it fails (its Failed event; its creation if none is known)
    failed_at = p["pod"].map(fail_time).where(p["outcome"] != "failed",
                                              p["pod"].map(fail_time).fillna(p["created"]))
    pend_end = np.fmin(p["running_observed"].fillna(math.inf), p["deleted"].fillna(math.inf))
    pend_end = np.fmin(pend_end, failed_at.fillna(math.inf)).to_numpy(float)
    stuck = p[(p["outcome"] == "pending") & (p["failure_hop"] == _SCHEDULER_HOP)]
    grid = np.unique(np.r_[t0, t_end, ran["running_observed"], run_end[np.isfinite(run_end)],
                           p["created"].dropna(), pend_end[np.isfinite(pend_end)],
                           fail_time.to_numpy(float)])
    grid = grid[(grid >= t0) & (grid <= t_end)]
    running = _step_count(ran["running_observed"].to_numpy(float), run_end, grid)
    created = p["created"].fillna(math.inf).to_numpy(float)
    pending = _step_count(created, pend_end, grid)
    unschedulable = _step_count(stuck["created"].to_numpy(float),
                                np.full(len(stuck), math.inf), grid)
    failed_curve = None
    if len(failed):
        starts = failed_at[failed.index].to_numpy(float)
        failed_curve = _step_count(starts, failed["deleted"].fillna(math.inf).to_numpy(float),
                                   grid)
    per_node = {}
    for node in nodes:
        on = ran[ran["node"] == node]
        per_node[node] = (on["running_observed"].to_numpy(float),
                          on["deleted"].fillna(math.inf).to_numpy(float))
    max_on_node = max([1.0] + [float(_step_count(s, e, grid).max()) for s, e in per_node.values()
                              if len(s)])

    stuck_head, stuck_reason = "", ""
    if len(stuck):
        templates = stuck["template"].astype(str).value_counts()
        what = ", ".join(f"{c} × {t}" for t, c in templates.items())
        reasons = stuck["failure_reason"].dropna().astype(str)
        reason = re.sub(r"^\d+/\d+ nodes are available:\s*", "",
                        reasons.mode().iloc[0]) if len(reasons) else ""
        stuck_head = f"{len(stuck)} pods left Pending ({what})"
        stuck_reason = ("\n".join(textwrap.wrap(f"kube-scheduler: {reason}", 48)[:3])
                        if reason else "")
    # when the last node of a runtime the migration removes left service
    last_gone = []
    for runtime in leaving:
        ends_of = [b for ps in periods.values() for _, b, st, rt in ps
                   if rt == runtime and st == "serving"]
        if ends_of:
            last_gone.append((max(ends_of), runtime))

    with figure_style(theme) as colors:
        fig, (top, bottom) = new_figure(2, 1, sharex=True,
                                        gridspec_kw={"height_ratios": [1.7, 1.0]})
        grey = colors["muted"]
        n = len(nodes)
        half = 0.4
        reinstall_face = mcolors.to_rgba(grey, 0.14)
        reinstall_hatch = mcolors.to_rgba(grey, 0.65)
        top.grid(axis="y", visible=False)
        top.spines["left"].set_visible(False)
        for i, node in enumerate(nodes):
            starts, ends = per_node[node]
            for a, b, state, runtime in periods[node]:
                color = runtime_color(runtime)
                if state == "reinstalling":
                    top.add_patch(Rectangle((a, i - half), b - a, 2 * half,
                                            facecolor=reinstall_face, hatch="///",
                                            hatchcolor=reinstall_hatch, edgecolor=grey,
                                            linewidth=1.0, zorder=1))
                    continue
                top.add_patch(Rectangle((a, i - half), b - a, 2 * half,
                                        facecolor=mcolors.to_rgba(color, 0.2), edgecolor="none",
                                        hatch="\\\\" if state == "cordoned" else None,
                                        hatchcolor=mcolors.to_rgba(color, 0.6), zorder=1))
                if len(starts):
                    xs = np.unique(np.r_[a, grid[(grid > a) & (grid < b)], b])
                    counts = _step_count(starts, ends, xs)
                    top.fill_between(xs, i + half, i + half - 2 * half * counts / max_on_node,
                                     step="post", facecolor=color, edgecolor="none",
                                     linewidth=0, zorder=2)
            for t in ev[(ev["node"] == node) & (ev["event"] == "Cordoned")]["time"]:
                top.plot([t], [i - half], marker="v", markersize=14, color=colors["foreground"],
                         markeredgecolor=colors["background"], markeredgewidth=1.2,
                         linestyle="none", zorder=5, clip_on=False)
            if len(starts):  # pods on the node at the end, right of the lane
                last = int(_step_count(starts, ends, np.array([t_end]))[0])
                top.text(1.008, i, f"{last} pod{'s' if last != 1 else ''}", ha="left",
                         va="center", fontsize=14, color=colors["foreground"],
                         transform=blended_transform_factory(top.transAxes, top.transData))
        top.set_ylim(n - 0.5, -0.5 - 0.12)
        top.set_yticks(np.arange(n), nodes)
        top.tick_params(axis="y", length=0, labelsize=16 if n <= 10 else 13)
        top.set_xlim(t0, t_end)
        for t, runtime in last_gone:
            for ax in (top, bottom):
                ax.axvline(t, color=colors["foreground"], linewidth=2.2,
                           linestyle=(0, (5, 3)), zorder=6)

        handles: list = [Patch(facecolor=runtime_color(rt), label=rt) for rt in seen_runtimes]
        handles += [Patch(facecolor=reinstall_face, hatch="///", hatchcolor=reinstall_hatch,
                          edgecolor=grey, label="reinstalling"),
                    Line2D([], [], marker="v", markersize=14, color=colors["foreground"],
                           linestyle="none", label="cordoned, drained"),
                    Line2D([], [], linestyle="none",
                           label=f"bar height: pods on the node (lane = {max_on_node:.0f})")]
        legend_w = sum(_text_width_px(h.get_label(), 14) + 75 for h in handles)
        if legend_w > 0.85 * fig.bbox.width:
            handles[-1].set_label(f"bar: pods (lane = {max_on_node:.0f})")
        top.legend(handles=handles, loc="lower left", bbox_to_anchor=(0.0, 1.0),
                   ncols=len(handles), handlelength=1.3, handletextpad=0.5, columnspacing=1.5,
                   fontsize=14, borderaxespad=0.3)
        if title is None:
            title = (f"Migrating node pools from {' and '.join(leaving)} to "
                     f"{' and '.join(arriving)}"
                     if leaving and arriving else "Node pools during a runtime migration")
        top.set_title(title, pad=40)

        # cluster-wide counts
        pending_color = OKABE_ITO["orange"]
        bottom.step(grid, running, where="post", color=colors["foreground"], linewidth=2.6,
                    label="Running")
        bottom.step(grid, pending, where="post", color=pending_color, linewidth=2.6,
                    label="Pending")
        if len(stuck):
            bottom.fill_between(grid, 0, unschedulable, step="post",
                                facecolor=mcolors.to_rgba(pending_color, 0.3), hatch="xx",
                                hatchcolor=pending_color, edgecolor="none", linewidth=0,
                                label="Pending, no node fits (kube-scheduler)")
        if failed_curve is not None:
            bottom.step(grid, failed_curve, where="post", color=grey, linewidth=2.2,
                        linestyle=(0, (2, 1.5)), label="Failed")
        y_max = float(max(running.max(), pending.max(), 1.0))
        bottom.set_ylim(0, y_max * 1.3)
        bottom.yaxis.set_major_locator(MaxNLocator(4, integer=True))
        bottom.set_ylabel("pods in the cluster", fontsize=16)
        bottom.legend(loc="lower left", bbox_to_anchor=(0.0, 1.0), ncols=4, fontsize=14,
                      handlelength=1.6, columnspacing=1.6, borderaxespad=0.3)
        unit = _time_axis(bottom, t0, t_end)
        bottom.set_xlim(t0, t_end)
        bottom.set_xlabel(f"time since start ({unit})")
        if footnote:  # before the layout pass below: the footnote shrinks the layout
            add_footnote(fig, footnote)

        # labels that depend on sizes in pixels, once the layout has placed the axes
        fig.draw_without_rendering()
        px_per_s = top.get_window_extent().width / (t_end - t0)
        for i, node in enumerate(nodes):
            for a, b, state, runtime in periods[node]:
                if state != "reinstalling":
                    continue
                nxt = next((rt for a2, _, st, rt in periods[node]
                            if a2 >= b and st != "reinstalling"), None)
                for text in ([f"reinstall → {nxt}"] if nxt else []) + ["reinstall"]:
                    size = _largest(text, (b - a) * px_per_s - 12, (14, 13, 12))
                    if size:
                        top.text((a + b) / 2, i, text, ha="center", va="center",
                                 fontsize=size, fontstyle="italic", color=colors["foreground"],
                                 zorder=3, bbox=dict(boxstyle="round,pad=0.2",
                                                     facecolor=colors["background"],
                                                     edgecolor="none", alpha=0.85)
                                 ).set_in_layout(False)
                        break
        # the first drain's pods: Pending for a moment, then Running on another node
        cordons = np.sort(ev.loc[ev["event"] == "Cordoned", "time"].to_numpy(float))
        stuck_w = max([_text_width_px(stuck_head, 14, "bold")]
                      + [_text_width_px(line, 13) for line in stuck_reason.split("\n")])
        for t_c in cordons[:1]:
            window = (grid >= t_c) & (grid <= t_c + 0.02 * (t_end - t0))
            peak = float(pending[window].max()) if window.any() else 0.0
            text = "drained pods: Pending,\nthen Running on another node"
            stuck_from = (max((t for t, _ in last_gone), default=t_end) * px_per_s - 14
                          - stuck_w) / px_per_s if stuck_head else t_end
            room = (stuck_from - t_c) * px_per_s - 14 - 30
            size = _largest(text, room, (14, 13))
            if peak > 0 and size:
                bottom.annotate(text, xy=(t_c, peak), xycoords="data", xytext=(14, 16),
                                textcoords="offset points", ha="left", va="bottom",
                                fontsize=size, color=colors["foreground"], zorder=7,
                                arrowprops=dict(arrowstyle="-", color=colors["muted"],
                                                linewidth=1.2, shrinkA=2, shrinkB=2),
                                ).set_in_layout(False)
        above = False
        if stuck_head:
            # left of the moment the last node they could run on left (else of the end), above
            # the pending spikes there and below the Running line, or above that line if there
            # is no room below it; a line points to the hatched area
            anchor = max((t for t, _ in last_gone), default=t_end)
            count = float(unschedulable[-1]) if len(unschedulable) else float(len(stuck))
            height_px = bottom.get_window_extent().height
            y_top = bottom.get_ylim()[1]
            x_text = anchor - 14 / px_per_s
            x_from = x_text - stuck_w / px_per_s
            samples = np.linspace(x_from, x_text, 200)

            def level(curve: np.ndarray, q: float) -> float:
                at = np.clip(np.searchsorted(grid, samples, side="right") - 1, 0, len(grid) - 1)
                return float(np.percentile(curve[at], q))

            reason_h = (stuck_reason.count("\n") + 1) * _line_height_px(13) if stuck_reason else 0
            block_px = reason_h + 4 + _line_height_px(14)
            y_base = max(level(pending, 100), count) + 10 * y_top / height_px
            if y_base + (block_px + 10) * y_top / height_px > level(running, 5):
                above = True
                floor = max(level(running, 100), level(pending, 100))
                if block_px + 40 < height_px:
                    y_top = max(y_top, floor / (1 - (block_px + 40) / height_px))
                    bottom.set_ylim(0, y_top)
                y_base = floor + 12 * y_top / height_px
            units_per_px = y_top / height_px
            box = dict(boxstyle="square,pad=0.1", facecolor=colors["background"],
                       edgecolor="none", alpha=0.85)
            target = (min(anchor + 0.02 * (t_end - t0), t_end), count / 2)
            bottom.annotate(stuck_reason or " ", xy=target, xycoords="data",
                            xytext=(x_text, y_base), textcoords="data", ha="right",
                            va="bottom", fontsize=13, color=colors["foreground"], zorder=7,
                            linespacing=1.0, bbox=box,
                            arrowprops=dict(arrowstyle="-", color=colors["foreground"],
                                            linewidth=1.4, shrinkA=4, shrinkB=0,
                                            relpos=(1.0, 0.0))).set_in_layout(False)
            bottom.text(x_text, y_base + (reason_h + 4) * units_per_px, stuck_head, ha="right",
                        va="bottom", fontsize=14, fontweight="bold", color=colors["foreground"],
                        zorder=7, bbox=box).set_in_layout(False)
        for t, runtime in last_gone:  # right of the line if the Pending note took the left
            bottom.annotate(f"last {runtime} node gone", xy=(t, bottom.get_ylim()[1]),
                            xycoords="data", xytext=(8 if above else -8, -4),
                            textcoords="offset points", ha="left" if above else "right",
                            va="top", fontsize=14, color=colors["foreground"], zorder=7,
                            bbox=dict(boxstyle="round,pad=0.2", facecolor=colors["background"],
                                      edgecolor="none", alpha=0.85)).set_in_layout(False)
    return fig

