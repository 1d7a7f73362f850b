"""A runtime migration, node by node: who ran where, and who was left Pending.

What it teaches: what moving a cluster's node pools from one runtime to another does to its
pods: nodes switch one at a time (cordon, drain, reinstall, rejoin with the new runtime), their
pods come back elsewhere, and pods that need the old runtime (Docker-in-Docker CI runners whose
nodeSelector asks for a Docker node) are left Pending once the last such node is gone.

What it draws: one run's ``pods`` (created, running, deleted, outcome, failure hop and reason)
and ``events`` (Cordoned, NodeRemoved, NodeJoined, Failed, ...) DataFrames. Top: one lane per
node, tinted in its runtime's colour while it serves, hatched while it is reinstalled, filled
with the pods it runs. Bottom: pods Running and Pending cluster-wide. The catalogue's run is the
``migration-docker-to-containerd`` preset with the cluster's own pools. Reading the run is
:mod:`._migration_run`; this module draws it.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import matplotlib.colors as mcolors
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle
from matplotlib.ticker import FixedLocator, FuncFormatter, MaxNLocator
from matplotlib.transforms import blended_transform_factory

from ..style import OKABE_ITO, add_footnote, figure_style, new_figure, runtime_color
from ._draw import axes_title, largest_size, line_height_px, text_width_px
from ._migration_run import migration_run, step_count

if TYPE_CHECKING:
    from .data import FigureData

__all__ = ["migration_timeline", "from_data"]

_LINE_SPACING = 1.22  # the note on unschedulable pods, packed as the heatmap's cells


def _time_axis(ax: Axes, t0: float, t_end: float) -> str:
    """Minute ticks for runs longer than 15 minutes, seconds otherwise; returns the unit."""
    span = t_end - t0
    if span > 900:
        step = next((m for m in (1, 2, 5, 10, 15, 20, 30, 60, 120, 240)
                     if span / (60 * m) <= 12), 480)
        ticks = np.arange(math.ceil(t0 / (60 * step)) * 60 * step, t_end + 1e-9, 60 * step)
        ax.xaxis.set_major_locator(FixedLocator(ticks.tolist()))
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
    (ev, t0, t_end, nodes, periods, seen_runtimes, leaving, arriving, per_node, max_on_node,
     grid, running, pending, unschedulable, failed_curve, stuck, stuck_head, stuck_reason,
     last_gone) = migration_run(pods, events)

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
                    counts = step_count(starts, ends, xs)
                    top.fill_between(xs, i + half, i + half - 2 * half * counts / max_on_node,
                                     step="post", facecolor=color, edgecolor="none",
                                     linewidth=0, zorder=2)
            for t in ev[(ev["node"] == node) & (ev["event"] == "Cordoned")]["time"]:
                top.plot([t], [i - half], marker="v", markersize=14, color=colors["foreground"],
                         markeredgecolor=colors["background"], markeredgewidth=1.2,
                         linestyle="none", zorder=5, clip_on=False)
            if len(starts):  # pods on the node at the end, right of the lane
                last = int(step_count(starts, ends, np.array([t_end]))[0])
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
        legend_w = sum(text_width_px(h.get_label(), 14) + 75 for h in handles)
        if legend_w > 0.85 * fig.bbox.width:
            handles[-1].set_label(f"bar: pods (lane = {max_on_node:.0f})")
        top.legend(handles=handles, loc="lower left", bbox_to_anchor=(0.0, 1.0),
                   ncols=len(handles), handlelength=1.3, handletextpad=0.5, columnspacing=1.5,
                   fontsize=14, borderaxespad=0.3)
        if title is None:
            title = (f"{' and '.join(leaving)} to {' and '.join(arriving)}: "
                     if leaving and arriving else "Runtime migration: ")
            title += (f"{len(stuck)} pods left Pending once the last {leaving[0] if leaving else 'old'} "
                      "node went" if len(stuck) else
                      f"{len(nodes)} nodes switched, no pod left without a node")
        axes_title(top, title, pad=40)

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
                    size = largest_size(text, (b - a) * px_per_s - 12, (14, 13, 12))
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
        stuck_w = max([text_width_px(stuck_head, 14, "bold")]
                      + [text_width_px(line, 13) for line in stuck_reason.split("\n")])
        for t_c in cordons[:1]:
            window = (grid >= t_c) & (grid <= t_c + 0.02 * (t_end - t0))
            peak = float(pending[window].max()) if window.any() else 0.0
            text = "drained pods: Pending,\nthen Running on another node"
            stuck_from = (max((t for t, _ in last_gone), default=t_end) * px_per_s - 14
                          - stuck_w) / px_per_s if stuck_head else t_end
            room = (stuck_from - t_c) * px_per_s - 14 - 30
            size = largest_size(text, room, (14, 13))
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

            reason_h = ((stuck_reason.count("\n") + 1) * line_height_px(13, _LINE_SPACING)
                        if stuck_reason else 0)
            block_px = reason_h + 4 + line_height_px(14, _LINE_SPACING)
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


def from_data(data: FigureData) -> Figure:
    """The catalogue's timeline: the ``migration-docker-to-containerd`` preset, its own pools."""
    name = "migration-docker-to-containerd"
    run = data.simulate(data.scenario(name=name), "pools")
    return migration_timeline(run.pods, run.events, theme=data.theme,
                              footnote=f"kubesim · scenario '{name}' · seed {data.seed}")
