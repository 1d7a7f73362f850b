"""Pod startup against load: p50 and p99 per runtime, with 95 % confidence bands and the SLO.

What it teaches: how pod startup grows as more pods are created at once, and on which chain it
grows fastest; whether the p99 stays under the SIG-scalability SLO (5 s) and from which load on
it does not.

What it draws: a load curve, :func:`simulator.experiments.curves.load_curve`'s table (one row
per runtime and load: the mean over replications of each replication's p50 and p99, and the
bounds of their 95 % confidence intervals). The catalogue's curve is the preset run as a batch
on a 2-core node with the 1.27+ API client limits (kubeAPIQPS 50, burst 100), 10 to 80 pods,
three replications, for dockershim, containerd and CRI-O.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import (
    FixedLocator,
    FuncFormatter,
    LogLocator,
    NullFormatter,
    NullLocator,
)

from ..style import figure_style, new_figure, runtime_color, runtime_sort_key
from ._draw import (
    SLO_POD_STARTUP_S,
    axes_title,
    duration,
    finish,
    require,
    set_caption,
    unit_for,
)

if TYPE_CHECKING:
    from .data import FigureData

__all__ = ["latency_vs_load", "takeaway", "from_data"]

_CURVE_COLUMNS = ("runtime", "load", "replications", "p50", "p50_lo", "p50_hi", "p99", "p99_lo",
                  "p99_hi", "running_share")
_NOTE_PT = 12


def _replication_note(reps: np.ndarray) -> str:
    reps = reps[np.isfinite(reps)].astype(int)
    if reps.size == 0 or reps.max() < 2:
        return "one replication: no confidence band"
    lo, hi = int(reps.min()), int(reps.max())
    n = f"{hi}" if lo == hi else f"{max(lo, 2)}–{hi}"
    return f"bands: 95 % CI over {n} replications"


def latency_vs_load(
    curve: pd.DataFrame,
    title: str | None = None,
    footnote: str | None = None,
    *,
    theme: str = "light",
    load_label: str = "pods created at once",
) -> Figure:
    """Pod startup p50 (solid, ●) and p99 (dashed, ◆) against load, one colour per runtime.

    ``curve`` is :func:`simulator.experiments.curves.load_curve`'s table: one row per (runtime,
    load) with the mean over replications of each replication's p50 and p99 and the bounds of
    its 95 % confidence interval (``*_lo``/``*_hi``, NaN with one replication: no band is
    drawn then). The load axis is logarithmic when the loads span a factor of 8 or more (a
    doubling series reads evenly), the latency axis when the values span more than 1.5 decades.
    The SIG-scalability SLO (p99 ≤ 5 s) is always drawn. A hollow marker is a point where not
    every pod ran by the end of the run (its percentiles are over the pods that did).
    """
    require(curve, _CURVE_COLUMNS, "curve")
    if curve.empty:
        raise ValueError("curve holds no rows")
    data = curve.copy()
    data["load"] = data["load"].astype(float)
    runtimes = sorted(data["runtime"].unique(), key=runtime_sort_key)
    loads = np.sort(data["load"].unique())
    cols = ["p50", "p50_lo", "p50_hi", "p99", "p99_lo", "p99_hi"]
    values = data[cols].to_numpy(dtype=float).ravel()
    values = values[np.isfinite(values)]
    unit = unit_for(float(values.max()) if values.size else 1.0)
    scale = unit.per_second
    positive = values[values > 0]
    log_y = positive.size > 0 and positive.max() / positive.min() > 10 ** 1.5
    log_x = loads.size > 1 and loads.min() > 0 and loads.max() / loads.min() >= 8
    slo = SLO_POD_STARTUP_S * scale
    y_range = float(values.max() - min(values.min(), 0.0)) if values.size else 1.0

    with figure_style(theme) as colors:
        fig, ax = new_figure()
        drawn: list[tuple[str, np.ndarray]] = []
        runtime_handles: list[tuple[Line2D, str]] = []
        partial = False
        for runtime in runtimes:
            rows = data[data["runtime"] == runtime].sort_values("load")
            x = rows["load"].to_numpy(dtype=float)
            color = runtime_color(runtime)
            both = rows[["p50", "p99"]].to_numpy(dtype=float)
            # a curve identical to one already drawn (cri-dockerd runs dockershim's code) is drawn
            # thin on top of it and says so, rather than hiding it
            twin = next((r for r, v in drawn if v.shape == both.shape
                         and np.allclose(v, both, equal_nan=True)), None)
            # nearly the same curve (within 2 % of the latency range): drawn thin on top too
            near = next((r for r, v in drawn if v.shape == both.shape and twin is None
                         and np.nanmax(np.abs(v - both)) < 0.02 * y_range), None)
            drawn.append((runtime, both))
            width = 1.6 if twin or near else 3.0
            full = rows["running_share"].to_numpy(dtype=float) >= 1.0 - 1e-9
            partial |= not full.all()
            for q, dash, marker, alpha in (("p50", "solid", "o", 0.16),
                                           ("p99", (0, (5, 2.5)), "D", 0.10)):
                y = rows[q].to_numpy(dtype=float) * scale
                lo = rows[f"{q}_lo"].to_numpy(dtype=float) * scale
                hi = rows[f"{q}_hi"].to_numpy(dtype=float) * scale
                band = np.isfinite(lo) & np.isfinite(hi)
                if band.any() and not twin:
                    alpha = alpha * (0.6 if near else 1.0)
                    ax.fill_between(x, np.where(band, lo, np.nan), np.where(band, hi, np.nan),
                                    color=color, alpha=alpha, linewidth=0, zorder=1)
                ax.plot(x, y, color=color, linestyle=dash, linewidth=width, zorder=3,
                        solid_capstyle="round")
                size = 9 if marker == "o" else 8
                if twin or near:
                    size -= 3
                ax.plot(x[full], y[full], linestyle="none", marker=marker, markersize=size,
                        color=color, markeredgecolor=colors["background"], markeredgewidth=1.2,
                        zorder=4)
                ax.plot(x[~full], y[~full], linestyle="none", marker=marker, markersize=size,
                        markerfacecolor=colors["background"], markeredgecolor=color,
                        markeredgewidth=2.0, zorder=4)
            runtime_handles.append((Line2D([], [], color=color, linewidth=width),
                                    f"{runtime} (= {twin})" if twin else
                                    f"{runtime} (≈ {near})" if near else runtime))

        slo_line = ax.axhline(slo, color=colors["foreground"], linewidth=1.8,
                              linestyle=(0, (1, 2.5)), zorder=2)
        key = [
            (Line2D([], [], color=colors["muted"], linestyle="solid", marker="o",
                    markersize=9, markeredgecolor=colors["background"]), "p50 (median)"),
            (Line2D([], [], color=colors["muted"], linestyle=(0, (5, 2.5)), marker="D",
                    markersize=8, markeredgecolor=colors["background"]), "p99"),
            (slo_line, f"SLO: p99 ≤ {SLO_POD_STARTUP_S:g} s"),
        ]
        if partial:
            key.append((Line2D([], [], linestyle="none", marker="o", markersize=9,
                               markerfacecolor=colors["background"],
                               markeredgecolor=colors["muted"], markeredgewidth=2.0),
                        "not every pod ran"))
        handles = runtime_handles + key
        # the replications note heads the legend (the title line holds the takeaway)
        legend = ax.legend([h for h, _ in handles], [t for _, t in handles], loc="best",
                           handlelength=2.4, frameon=True, facecolor=colors["background"],
                           edgecolor="none", framealpha=0.9, alignment="left",
                           title=_replication_note(data["replications"].to_numpy(dtype=float)),
                           title_fontsize=_NOTE_PT + 1)
        legend.get_title().set_color(colors["muted"])

        if log_x:
            ax.set_xscale("log")
            ax.xaxis.set_major_locator(FixedLocator(loads.tolist()))
            ax.xaxis.set_minor_locator(NullLocator())
            ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
            pad = (loads.max() / loads.min()) ** 0.04
            ax.set_xlim(loads.min() / pad, loads.max() * pad)
        else:
            span = loads.max() - loads.min() if loads.size > 1 else max(loads.max(), 1.0)
            ax.set_xlim(loads.min() - 0.04 * span, loads.max() + 0.04 * span)
            if loads.size <= 12:
                ax.xaxis.set_major_locator(FixedLocator(loads.tolist()))
                ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        top = max(float(values.max()) * scale if values.size else slo, slo)
        if log_y:
            ax.set_yscale("log")
            bottom = min(float(positive.min()) * scale, slo)
            ax.set_ylim(bottom / 1.4, top * 1.4)
            ax.yaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
            ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
            ax.yaxis.set_minor_formatter(NullFormatter())
        else:
            ax.set_ylim(0, top * 1.06)
        # a logarithmic axis says so: 10, 20, 40, 80 evenly spaced is a doubling series
        ax.set_xlabel(load_label + (" (log scale)" if log_x else ""))
        ax.set_ylabel(f"pod startup latency ({unit.name}{', log scale' if log_y else ''})")
        auto_title, caption = takeaway(data, load_label)
        axes_title(ax, title or auto_title)
    set_caption(fig, caption)
    return finish(fig, footnote)


def takeaway(curve: pd.DataFrame, load_label: str = "pods created at once") -> tuple[str, str]:
    """(title, caption) stated from a load curve: whose p99 grows most between the smallest and
    the largest load, and up to which load each runtime's p99 meets the SLO."""
    what = "pods" if "pod" in load_label else "load"
    lo, hi = float(curve["load"].min()), float(curve["load"].max())

    def p99_at(rt: str, load: float) -> float:
        rows = curve[(curve["runtime"] == rt) & (curve["load"] == load)]
        return float(rows["p99"].iloc[0]) if len(rows) else float("nan")

    runtimes = sorted(curve["runtime"].unique(), key=runtime_sort_key)
    end = {rt: p99_at(rt, hi) for rt in runtimes}
    growth = {rt: end[rt] / p99_at(rt, lo) for rt in runtimes if p99_at(rt, lo) > 0}
    worst = max(end, key=lambda r: end[r])
    best = min(end, key=lambda r: end[r])
    n = f"{hi:g} {what}" if what == "pods" else f"load {hi:g}"
    if worst == best:
        title = f"At {n}, pod startup p99 is {duration(end[worst])}"
    else:
        title = f"At {n}, p99 pod startup: {duration(end[worst])} on {worst}, {duration(end[best])} on {best}"
    fastest = max(growth, key=lambda r: growth[r]) if growth else None
    parts = [f"p50 and p99 of pod startup against {load_label}"]
    if fastest is not None and hi > lo:
        parts.append(f"{fastest}'s p99 grows most, {growth[fastest]:.1f}× from {lo:g} to {hi:g}")
    meets = []
    for rt in runtimes:  # the loads, from the smallest, at which the p99 meets the SLO
        rows = curve[curve["runtime"] == rt].sort_values("load")
        ok = [float(r.load) for r in rows.itertuples() if r.p99 <= SLO_POD_STARTUP_S]
        run = 0
        while run < len(ok) and ok[run] == float(rows["load"].iloc[run]):
            run += 1
        meets.append(f"{rt} {'up to ' + format(ok[run - 1], 'g') if run else 'never'}")
    parts.append(f"p99 within the {SLO_POD_STARTUP_S:g} s SLO: " + ", ".join(meets))
    return title, "; ".join(parts) + "."


def from_data(data: FigureData) -> Figure:
    """The catalogue's curve: the preset as a batch on 2 cores, API client out of the way."""
    from ...experiments.curves import load_curve

    batch = data.scenario(["workload.kind=batch", "simulation.steadyStateSeconds=0",
                           "node.cpuCores=2", "kubelet.kubeAPIQPS=50", "kubelet.kubeAPIBurst=100"])
    curve = data.memo("latency-vs-load", lambda: load_curve(
        batch, ["dockershim", "containerd", "crio"], [10, 20, 40, 80], replications=3, seed=data.seed))
    return latency_vs_load(curve, footnote=f"kubesim · scenario '{data.preset}' as a batch on "
                           f"2 cores, kubeAPIQPS 50 · seed {data.seed} · 3 replications",
                           theme=data.theme)
