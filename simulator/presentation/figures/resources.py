"""What each chain costs on the node: steady-state CPU and memory per process, per runtime.

What it teaches: the resource cost of a chain beyond its latency: how many cores and how much
resident memory the kubelet's and the runtime's processes take at steady state, and which
process it is (a shim per container makes the Docker chains' memory grow with pods; CRI-O's
conmon is tiny).

What it draws: a comparison's ``resources`` DataFrame (long: runtime, node, time, process,
group, metric, value, replication), the ``cpu_cores`` and ``pss_mb`` metrics (proportional set
size: a binary's pages shared by many shims counted once, as the cgroup holds them) averaged over the
last 30 % of each run (or from a given time on), then over nodes and replications: one stacked
bar per runtime in each of two panels, CPU and memory.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

from ..style import (
    PROCESS_ORDER,
    figure_style,
    new_figure,
    process_color,
    runtime_sort_key,
)
from ._draw import (
    FIG_W_PX,
    finish,
    ink_on,
    legend_below_figure,
    ordered,
    require,
    runtime_ticks,
    text_width_px,
    title_size,
)

if TYPE_CHECKING:
    from .data import FigureData

__all__ = ["resources_by_process", "from_data"]

_RESOURCE_COLUMNS = ("runtime", "time", "process", "group", "metric", "value")


def resources_by_process(
    resources: pd.DataFrame,
    title: str | None = None,
    footnote: str | None = None,
    *,
    theme: str = "light",
    since: float | None = None,
) -> Figure:
    """Steady-state CPU cores and resident memory per process, one stacked bar per runtime.

    ``resources`` is a Comparison's ``.resources`` (long: runtime, node, time, process, group,
    metric, value, replication). Steady state is the last 30 % of each run's time range, or
    ``time >= since`` when given; values are averaged over that window, then over nodes and
    replications (so a bar is one node's cost). Segments are processes in their process colour,
    the kubelet's group first; after each bar its total and the kubelet's and the runtime's
    shares (the groups the node e2e resource tests measured as cgroups).
    """
    require(resources, _RESOURCE_COLUMNS, "resources")
    data = resources[resources["metric"].isin(["cpu_cores", "pss_mb"])]
    if data.empty:
        raise ValueError("resources hold no cpu_cores or pss_mb rows")
    keys = [k for k in ("runtime", "node", "replication") if k in data.columns]
    if since is None:
        t_lo = data.groupby(keys)["time"].transform("min")
        t_hi = data.groupby(keys)["time"].transform("max")
        steady = data[data["time"] >= t_hi - 0.3 * (t_hi - t_lo)]
        window = float((data["time"].max() - 0.3 * (data["time"].max() - data["time"].min())))
        window_note = f"mean over the last 30 % of the run (t ≥ {window:.0f} s)"
    else:
        steady = data[data["time"] >= since]
        window_note = f"mean over t ≥ {since:g} s"
        if steady.empty:
            raise ValueError(f"resources hold no sample at or after since={since}")
    per_run = steady.groupby(keys + ["process", "group", "metric"])["value"].mean()
    means = per_run.groupby(["runtime", "process", "group", "metric"]).mean().unstack("metric")
    means = means.reindex(columns=["cpu_cores", "pss_mb"]).fillna(0.0)
    runtimes = sorted(means.index.get_level_values("runtime").unique(), key=runtime_sort_key)
    group_of = {p: g for (_, p, g) in means.index}
    shown = means[(means.abs() > 1e-9).any(axis=1)]
    procs = ordered(shown.index.get_level_values("process").unique(), PROCESS_ORDER)
    groups = ["kubelet", "runtime"] + sorted(set(group_of.values()) - {"kubelet", "runtime"})
    procs = sorted(procs, key=lambda p: (groups.index(group_of.get(p, "runtime")), procs.index(p)))

    cpu_max = float(means["cpu_cores"].groupby("runtime").sum().max())
    if cpu_max < 0.5:  # millicores, as Kubernetes writes small CPU amounts
        cpu = ("cpu_cores", "CPU in use", "millicores", 1000.0,
               lambda v: f"{v:.0f}" if v >= 10 else f"{v:.2g}")
    else:
        cpu = ("cpu_cores", "CPU in use", "cores", 1.0, lambda v: f"{v:.2f}")
    panels = (cpu, ("pss_mb", "resident memory", "MB", 1.0, lambda v: f"{v:.0f}"))
    axis_labels = ("millicores (1000 = one core busy)" if cpu[2] == "millicores" else
                   "cores busy", "MB (PSS: shared pages counted once)")
    tables = []
    for metric, _, _, factor, _ in panels:
        table = means[metric].groupby(["runtime", "process"]).sum().unstack("process")
        tables.append(table.reindex(index=runtimes, columns=procs).fillna(0.0) * factor)
    y = np.arange(len(runtimes))
    with figure_style(theme) as colors:
        fig, axes = new_figure(1, 2, sharey=True)
        mem = tables[1].sum(axis=1)
        auto = (f"At steady state {mem.idxmax()} holds {mem.max():.0f} MB of memory on the node, "
                f"{mem.idxmin()} {mem.min():.0f} MB") if len(mem) > 1 else \
            f"At steady state {mem.index[0]} holds {mem.iloc[0]:.0f} MB of memory on the node"
        text = title or auto
        fig.suptitle(text, x=0.008, ha="left", fontsize=title_size(text, FIG_W_PX - 30),
                     fontweight="bold", color=colors["foreground"])
        handles = [Patch(facecolor=process_color(p), label=p) for p in procs]
        legend_below_figure(fig, handles, title=f"{window_note}, per node · "
                            "segments: the kubelet's processes, then the runtime's")
        runtime_ticks(axes[0], runtimes)
        axes[1].tick_params(axis="y", length=0, labelleft=False)
        axes[1].grid(axis="y", visible=False)
        for k, (ax, (metric, name, unit, _, fmt)) in enumerate(zip(axes, panels)):
            ax.set_xlabel(axis_labels[k])
            ax.set_title(name, fontsize=19)
            total = float(tables[k].sum(axis=1).max())
            ax.set_xlim(0, total if total > 0 else 1.0)
        # lay out once, then size each panel's x range so that the labels after the bars fit
        fig.draw_without_rendering()
        for k, (ax, (metric, name, unit, _, fmt)) in enumerate(zip(axes, panels)):
            table = tables[k]
            totals = table.sum(axis=1).to_numpy()
            width_px = ax.get_window_extent().width
            splits = []
            for runtime in runtimes:
                by_group = {g: float(sum(table.loc[runtime, p] for p in procs
                                         if group_of.get(p) == g)) for g in groups}
                splits.append(" · ".join(f"{g} {fmt(v)}" for g, v in by_group.items()
                                         if v > 0 or g in ("kubelet", "runtime")))
            need = 0.0
            for total, split in zip(totals, splits):
                label_px = max(text_width_px(f"{fmt(total)} {unit}", 16, "bold"),
                               text_width_px(split, 12.5))
                need = max(need, total / (1 - min((label_px + 16) / width_px, 0.8)))
            x_max = need if need > 0 else 1.0
            ax.set_xlim(0, x_max)
            ax.xaxis.set_major_locator(MaxNLocator(nbins=5, steps=[1, 2, 2.5, 5, 10]))
            px_per = width_px / x_max
            left = np.zeros(len(runtimes))
            for p in procs:
                w = table[p].to_numpy()
                ax.barh(y, w, left=left, height=0.6, color=process_color(p),
                        edgecolor=colors["background"], linewidth=1.2, zorder=3)
                for yi, (l, v) in enumerate(zip(left, w)):
                    text = fmt(v)
                    if v > 0 and v * px_per > text_width_px(text, 13) + 14:
                        ax.text(l + v / 2, yi, text, ha="center", va="center", fontsize=13,
                                color=ink_on(process_color(p)), zorder=4)
                left = left + w
            for yi in range(len(runtimes)):
                x_text = left[yi] + 10 / px_per
                ax.text(x_text, yi - 0.04, f"{fmt(left[yi])} {unit}", ha="left", va="bottom",
                        fontsize=16, fontweight="bold", color=colors["foreground"], zorder=5)
                ax.text(x_text, yi + 0.04, splits[yi], ha="left", va="top", fontsize=12.5,
                        color=colors["muted"], zorder=5)
    return finish(fig, footnote)


def from_data(data: FigureData) -> Figure:
    """The catalogue's bars: the comparison's resource samples."""
    return resources_by_process(data.resources, footnote=data.note, theme=data.theme)
