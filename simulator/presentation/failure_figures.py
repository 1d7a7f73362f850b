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
from functools import lru_cache

import matplotlib.colors as mcolors
import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle
from matplotlib.textpath import TextToPath
from matplotlib.ticker import FixedLocator, FuncFormatter, MaxNLocator, NullLocator

from . import style as _style
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
_KIND_MEANING = {
    "failed": "pods failed for good",
    "pending": "pods not running at the end (hop of their last error)",
    "stall": "seconds the node was NotReady (PLEG)",
    "errors": "sync errors, retried",
}
_BREAKING_KINDS = ("failed", "pending", "stall")
_RAMP_COLUMNS = ("runtime", "load", "hop", "kind", "count", "per_pod", "replication")
_POD_COLUMNS = ("pod", "node", "runtime", "template", "created", "running_observed", "deleted",
                "outcome", "failure_hop", "failure_reason")
_EVENT_COLUMNS = ("runtime", "node", "time", "pod", "event", "detail")
_SCHEDULER_HOP = "kube-scheduler"
_TEXT_PATH = TextToPath()
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


@lru_cache(maxsize=4096)
def _text_width_px(text: str, size_pt: float, weight: str = "normal") -> float:
    """Width of a one-line text in pixels at the figure's DPI, measured without a renderer."""
    prop = FontProperties(family="DejaVu Sans", size=size_pt, weight=weight)
    width, _, _ = _TEXT_PATH.get_text_width_height_descent(text, prop, ismath=False)
    return width * DPI / 72


def _line_height_px(size_pt: float) -> float:
    return size_pt * 1.22 * DPI / 72


def _ink_on(color) -> str:
    """Black or white, whichever reads better on ``color`` (WCAG relative luminance)."""
    r, g, b = (c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
               for c in mcolors.to_rgb(color))
    return _INK_DARK if 0.2126 * r + 0.7152 * g + 0.0722 * b > 0.22 else _INK_LIGHT


def _finish(fig: Figure, footnote: str | None) -> Figure:
    if footnote:
        add_footnote(fig, footnote)
    return fig


def _load_text(load: float) -> str:
    return f"{load:g}" if not float(load).is_integer() else f"{int(load):,}".replace(",", " ")


# --------------------------------------------------------------------------------------------
# failure ramp: the cells


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
    """``kubelet -> dockershim: CreateContainer`` → ``kubelet → dockershim`` / ``CreateContainer``."""
    text = hop.replace(" -> ", " → ").replace("->", "→")
    parts = [p.strip() for p in text.split(": ", 1)] if ": " in text else [text]
    lines: list[str] = []
    for part in parts:
        lines += textwrap.wrap(part, width, break_on_hyphens=False) or [part]
    if len(lines) > 3:
        lines = lines[:2] + [textwrap.shorten(" ".join(lines[2:]), width, placeholder="…")]
    return "\n".join(lines)


def _heat_cmap(background: str) -> mcolors.Colormap:
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


def _fit_cell_text(lines: Sequence[str], width_px: float, height_px: float,
                   sizes: Sequence[float]) -> tuple[float, int] | None:
    """The largest font size at which the first n lines fit in the cell, and n (the marker
    first, then the other kinds); None if not even the marker fits."""
    for n in range(len(lines), 0, -1):
        for size in sizes:
            main = _text_width_px(lines[0], size, "bold")
            rest = [_text_width_px(line, size * 0.78) for line in lines[1:n]]
            height = _line_height_px(size) + sum(_line_height_px(size * 0.78) for _ in rest)
            if max([main] + rest) <= width_px - 10 and height <= height_px - 6:
                return size, n
    return None


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
    are outlined. A dashed line marks the first load at which a runtime fails, leaves pods
    pending or stalls its node ("breaks here"); a runtime without any problem says so.
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
    load_label = "pods created" if ramp.load_is_pods else "load"
    max_load = _load_text(loads[-1])

    with figure_style(theme) as colors:
        cmap = _heat_cmap(colors["background"])
        fig, axes = new_figure(1, n_rt, sharey=True)
        axes = list(np.atleast_1d(axes))
        mesh = None
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
            masked = np.ma.masked_less_equal(values[i], 0.0)
            mesh = ax.pcolormesh(np.arange(n_load + 1), np.arange(n_hop + 1), masked, cmap=cmap,
                                 norm=norm, edgecolors=colors["background"], linewidth=2.5,
                                 zorder=1)
            ax.set_xlim(0, n_load)
            ax.set_ylim(n_hop, 0)
            ax.set_xticks(np.arange(n_load) + 0.5, [_load_text(v) for v in loads])
            ax.tick_params(axis="both", length=0)
            ax.set_title(runtime, color=runtime_color(runtime), loc="left", pad=34)
            breaks = ramp.breaking_load(runtime)
            if breaks is not None:
                k = loads.index(breaks)
                ax.plot([k, k], [n_hop, -0.02 * n_hop], color=colors["foreground"],
                        linewidth=2.6, linestyle=(0, (5, 3)), zorder=4, clip_on=False
                        )[0].set_in_layout(False)
                right = k == n_load - 1 and k > 0
                note = ax.annotate("breaks here", xy=(k, 0), xycoords="data",
                            xytext=(-6 if right else 6, 4), textcoords="offset points",
                            ha="right" if right else "left", va="bottom", fontsize=14,
                            fontweight="bold", color=colors["foreground"],
                            annotation_clip=False)
                ax.get_xticklabels()[k].set_fontweight("bold")
            elif ramp.has_problems(runtime):
                note = ax.annotate(f"no failures up to {max_load}", xy=(0, 0), xycoords="data",
                            xytext=(0, 4), textcoords="offset points", ha="left", va="bottom",
                            fontsize=14, color=colors["muted"], annotation_clip=False)
            else:
                note = ax.text(n_load / 2, n_hop / 2, f"no failures\nup to load {max_load}",
                        ha="center", va="center", fontsize=19, fontweight="bold",
                        color=colors["muted"], linespacing=1.4, zorder=5)
            note.set_in_layout(False)  # sized to the panel, not the other way round
            ax.set_xlabel(load_label, fontsize=16)
        axes[0].set_yticks(np.arange(n_hop) + 0.5,
                           [_hop_label(h) for h in hops] if ramp.hops else [""])
        for tick in axes[0].get_yticklabels():
            tick.set_fontsize(14 if n_hop <= 6 else 12.5)
            tick.set_linespacing(1.05)
        if not ramp.hops:
            axes[0].tick_params(axis="y", labelleft=False)
        cbar = fig.colorbar(mesh, ax=axes, location="right", shrink=0.9, aspect=28, pad=0.015)
        cbar.outline.set_visible(False)
        cbar.ax.tick_params(labelsize=14, length=4)
        cbar.ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        cbar.set_label("per pod at that load (log)", fontsize=15)
        kinds = [Line2D([], [], linestyle="none")] * len(FAILURE_KINDS)
        fig.legend(kinds, [f"{_KIND_LETTER[k]}  {_KIND_MEANING[k]}" for k in FAILURE_KINDS],
                   loc="outside lower center", ncols=2, handlelength=0, handletextpad=0,
                   columnspacing=2.5, fontsize=14)
        fig.suptitle(title or "Where pod creation breaks as load grows", x=0.01, ha="left")

        # the cell texts, sized to the cells once the layout has placed the panels
        fig.draw_without_rendering()
        for i, (ax, runtime) in enumerate(zip(axes, runtimes)):
            box = ax.get_window_extent()
            cell_w, cell_h = box.width / n_load, box.height / n_hop
            for j, hop in enumerate(hops):
                for k, load in enumerate(loads):
                    texts = ramp.texts(runtime, load, hop)
                    if not texts:
                        continue
                    kind, marker, per_pod = texts[0]
                    fill = cmap(norm(per_pod))
                    ink = _ink_on(fill)
                    if kind in ("failed", "pending"):
                        ax.add_patch(Rectangle((k + 0.04, j + 0.06), 0.92, 0.88, fill=False,
                                               edgecolor=colors["foreground"], linewidth=2.6,
                                               zorder=3))
                    lines = [marker] + ["+ " + t for _, t, _ in texts[1:]]
                    fit = _fit_cell_text(lines, cell_w, cell_h, (17, 16, 15, 14, 13, 12, 11, 10))
                    if fit is None:
                        lines, fit = [_KIND_LETTER[kind]], (10.0, 1)
                    size, n = fit
                    if n == 1:
                        ax.text(k + 0.5, j + 0.5, lines[0], ha="center", va="center",
                                fontsize=size, fontweight="bold", color=ink, zorder=4)
                        continue
                    extra = "\n".join(lines[1:n])
                    main_h = _line_height_px(size) / cell_h
                    rest_h = (n - 1) * _line_height_px(size * 0.78) / cell_h
                    top = j + 0.5 - (main_h + rest_h) / 2
                    ax.text(k + 0.5, top, lines[0], ha="center", va="top", fontsize=size,
                            fontweight="bold", color=ink, zorder=4)
                    ax.text(k + 0.5, top + main_h, extra, ha="center", va="top",
                            fontsize=size * 0.78, color=ink, linespacing=1.0, zorder=4)
    return _finish(fig, footnote)


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
    """
    _require(pods, _POD_COLUMNS, "pods")
    _require(events, _EVENT_COLUMNS, "events")
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

    lifecycle = {"Cordoned", "NodeRemoved", "NodeJoined"}
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
    pend_end = np.fmin(p["running_observed"].fillna(math.inf), p["deleted"].fillna(math.inf))
    pend_end = np.fmin(pend_end, p["pod"].map(fail_time).fillna(math.inf)).to_numpy(float)
    failed = p[p["outcome"] == "failed"]
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
        starts = failed["pod"].map(fail_time).fillna(t_last).to_numpy(float)
        failed_curve = _step_count(starts, failed["deleted"].fillna(math.inf).to_numpy(float),
                                   grid)
    per_node = {}
    for node in nodes:
        on = ran[ran["node"] == node]
        per_node[node] = (on["running_observed"].to_numpy(float),
                          on["deleted"].fillna(math.inf).to_numpy(float))
    max_on_node = max([1.0] + [float(_step_count(s, e, grid).max()) for s, e in per_node.values()
                              if len(s)])

    with figure_style(theme) as colors:
        fig, (top, bottom) = new_figure(2, 1, sharex=True,
                                        gridspec_kw={"height_ratios": [2.1, 1.0]})
        fig.get_layout_engine().set(h_pad=0.06)
        grey = colors["muted"]
        n = len(nodes)
        half = 0.42
        top.grid(False)
        top.spines["left"].set_visible(False)
        for i, node in enumerate(nodes):
            starts, ends = per_node[node]
            for (a, b, state, runtime) in periods[node]:
                color = runtime_color(runtime)
                if state == "reinstalling":
                    top.add_patch(Rectangle((a, i - half), b - a, 2 * half, facecolor=mcolors.to_rgba(grey, 0.16),
                                            hatch="///", hatchcolor=mcolors.to_rgba(grey, 0.7),
                                            edgecolor="none", linewidth=0, zorder=1))
                    top.add_patch(Rectangle((a, i - half), b - a, 2 * half, fill=False,
                                            edgecolor=grey, linewidth=1.0, zorder=1))
                    continue
                top.add_patch(Rectangle((a, i - half), b - a, 2 * half,
                                        facecolor=mcolors.to_rgba(color, 0.22),
                                        edgecolor="none", zorder=1,
                                        hatch="\\\\" if state == "cordoned" else None,
                                        hatchcolor=mcolors.to_rgba(color, 0.6)))
                if len(starts):
                    xs = np.unique(np.r_[a, grid[(grid > a) & (grid < b)], b])
                    counts = _step_count(starts, ends, xs)
                    top.fill_between(xs, i + half, i + half - 2 * half * counts / max_on_node,
                                     step="post", facecolor=color, edgecolor="none",
                                     linewidth=0, zorder=2)
            # runtime names inside the lane's periods where they fit
            width_px = 0.8 * 1920
            for (a, b, state, runtime) in periods[node]:
                label = "reinstalling" if state == "reinstalling" else runtime
                w = (b - a) / (t_end - t0) * width_px
                if w > _text_width_px(label, 13) + 16 and state != "cordoned":
                    top.text(a + (b - a) * 0.5 if state == "reinstalling" else a + 8 * (t_end - t0) / width_px,
                             i - half + 0.06, label,
                             ha="center" if state == "reinstalling" else "left", va="top",
                             fontsize=13, fontstyle="italic" if state == "reinstalling" else "normal",
                             color=grey if state == "reinstalling" else runtime_color(runtime),
                             fontweight="normal" if state == "reinstalling" else "bold", zorder=3)
            # cordon markers
            for t in ev[(ev["node"] == node) & (ev["event"] == "Cordoned")]["time"]:
                top.plot([t], [i - half], marker="v", markersize=13, color=colors["foreground"],
                         markeredgecolor=colors["background"], markeredgewidth=1.2,
                         linestyle="none", zorder=5, clip_on=False)
            # pods on the node at the end
            if len(starts):
                last = int(_step_count(starts, ends, np.array([t_last]))[0])
                top.text(t_last + 0.01 * (t_end - t0), i + half - 0.04,
                         f"{last} pod{'s' if last != 1 else ''}", ha="left", va="bottom",
                         fontsize=13, color=colors["foreground"], zorder=4)
        top.set_ylim(n - 0.5 + 0.05, -0.5 - 0.05)
        top.set_yticks(np.arange(n), nodes)
        top.tick_params(axis="y", length=0, labelsize=15 if n <= 12 else 12)
        top.set_xlim(t0, t_end)
        top.grid(axis="x", visible=True)

        # when the last node of a leaving runtime left service
        last_gone: list[tuple[float, str]] = []
        for runtime in leaving:
            ends_of = [b for ps in periods.values() for a, b, st, rt in ps
                       if rt == runtime and st == "serving"]
            if ends_of:
                last_gone.append((max(ends_of), runtime))
        for t, runtime in last_gone:
            for ax in (top, bottom):
                ax.axvline(t, color=colors["foreground"], linewidth=2.0,
                           linestyle=(0, (5, 3)), zorder=6)

        handles: list = [Patch(facecolor=runtime_color(rt), label=f"{rt}: pods running")
                         for rt in seen_runtimes]
        handles += [Patch(facecolor=mcolors.to_rgba(grey, 0.16), hatch="///",
                          hatchcolor=mcolors.to_rgba(grey, 0.7), edgecolor=grey,
                          label="reinstalling"),
                    Line2D([], [], marker="v", markersize=13, color=colors["foreground"],
                           linestyle="none", label="cordoned & drained")]
        top.legend(handles=handles, loc="lower left", bbox_to_anchor=(0.0, 1.0), ncols=len(handles),
                   handlelength=1.4, columnspacing=1.6, fontsize=14, borderaxespad=0.2)
        if title is None:
            title = (f"Migrating node pools from {', '.join(leaving)} to {', '.join(arriving)}"
                     if leaving and arriving else "Node pools during a runtime migration")
        top.set_title(title, pad=44)
        top.text(1.0, 1.0, f"lane height = {max_on_node:.0f} pods", transform=top.transAxes,
                 ha="right", va="bottom", fontsize=13, color=colors["muted"])

        # cluster-wide counts
        bottom.step(grid, running, where="post", color=colors["foreground"], linewidth=2.6,
                    label="Running")
        pending_color = OKABE_ITO["orange"]
        bottom.step(grid, pending, where="post", color=pending_color, linewidth=2.6,
                    label="Pending")
        if len(stuck):
            bottom.fill_between(grid, 0, unschedulable, step="post", facecolor=mcolors.to_rgba(pending_color, 0.35),
                                hatch="xx", hatchcolor=pending_color, edgecolor="none",
                                linewidth=0, label="Pending: no node fits (kube-scheduler)")
        if failed_curve is not None:
            bottom.step(grid, failed_curve, where="post", color=colors["muted"], linewidth=2.2,
                        linestyle=(0, (2, 1.5)), label="Failed")
        y_max = float(max(running.max(), pending.max(), 1.0))
        bottom.set_ylim(0, y_max * 1.18)
        bottom.yaxis.set_major_locator(MaxNLocator(4, integer=True))
        bottom.set_ylabel("pods")
        bottom.legend(loc="lower left", bbox_to_anchor=(0.0, 1.0), ncols=4, fontsize=14,
                      handlelength=1.6, columnspacing=1.6, borderaxespad=0.2)
        if len(stuck):
            count = len(stuck)
            templates = stuck["template"].astype(str).value_counts()
            what = ", ".join(f"{c} {t}" for t, c in templates.items())
            reason = str(stuck["failure_reason"].dropna().astype(str).mode().iloc[0]) \
                if stuck["failure_reason"].notna().any() else ""
            reason = re.sub(r"^\d+/\d+ nodes are available:\s*", "", reason)
            reason = textwrap.shorten(reason, 60, placeholder="…")
            text = f"{count} left Pending ({what})" + (f"\n{reason}" if reason else "")
            bottom.annotate(text, xy=(t_end, count), xycoords="data",
                            xytext=(-8, 14), textcoords="offset points", ha="right",
                            va="bottom", fontsize=14, fontweight="bold", color=colors["foreground"],
                            bbox=dict(boxstyle="round,pad=0.3", facecolor=colors["background"],
                                      edgecolor="none", alpha=0.85), zorder=7)
        for t, runtime in last_gone:
            bottom.annotate(f"last {runtime} node leaves", xy=(t, y_max * 1.18),
                            xycoords="data", xytext=(-6, -4), textcoords="offset points",
                            ha="right", va="top", fontsize=13, color=colors["foreground"],
                            bbox=dict(boxstyle="round,pad=0.2", facecolor=colors["background"],
                                      edgecolor="none", alpha=0.85), zorder=7)
        unit = _time_axis(bottom, t0, t_end)
        bottom.set_xlim(t0, t_end)
        bottom.set_xlabel(f"time since start ({unit})")
    return _finish(fig, footnote)
