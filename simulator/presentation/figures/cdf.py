"""The latency CDF: how long until a pod runs, per runtime.

What it teaches: the chain changes the whole distribution of pod startup, not only its tail; the
p50 and p99 markers and the SIG-scalability SLO (p99 of pod startup, image pull excluded, at most
5 s) read off directly.

What it draws: the model's ``pods`` DataFrame (one row per pod; a latency column, by default
``pod_startup``), one empirical CDF per runtime. Pods that never reached the milestone (failed or
pending, NaN) are left out of the curve and counted in the legend.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter, PercentFormatter

from ..style import figure_style, new_figure, runtime_color, runtime_sort_key
from ._draw import SLO_POD_STARTUP_S, axes_title, extremes, finish, require, unit_for

if TYPE_CHECKING:
    from .data import FigureData

__all__ = ["latency_cdf", "from_data"]

_COLUMN_LABELS = {
    "pod_startup": "pod startup latency, image pull excluded",
    "pod_startup_total": "pod startup latency, image pull included",
    "create_to_schedule": "creation → scheduled",
    "schedule_to_run": "scheduled → containers started",
    "run_to_watch": "containers started → observed via watch",
    "image_pull_seconds": "image pull time",
}


def latency_cdf(
    pods: pd.DataFrame,
    column: str = "pod_startup",
    title: str | None = None,
    footnote: str | None = None,
    *,
    theme: str = "light",
    log_x: bool = False,
) -> Figure:
    """Empirical CDF of a pod latency column, one line per runtime.

    The curve at x is the share of the pods that reached the milestone within x seconds; pods
    that never did (failed or pending, NaN) are left out of the curve and counted in the table.
    Markers show p50 (●) and p99 (◆), whose values the legend table lists. For ``pod_startup``
    the SIG-scalability SLO (p99 ≤ 5 s) is drawn when it falls within twice the slowest pod's
    latency, so that it never squeezes the data into a corner.
    """
    require(pods, ("runtime", column), "pods")
    label = _COLUMN_LABELS.get(column, column.replace("_", " "))
    slo = SLO_POD_STARTUP_S if column == "pod_startup" else None
    rows = []  # (runtime, sorted values, number of pods)
    for runtime in sorted(pods["runtime"].unique(), key=runtime_sort_key):
        values = pods.loc[pods["runtime"] == runtime, column].to_numpy(dtype=float)
        rows.append((runtime, np.sort(values[~np.isnan(values)]), len(values)))
    reached = [v for _, v, _ in rows if len(v)]
    x_max = max((float(v[-1]) for v in reached), default=0.0)
    unit = unit_for(max((float(np.percentile(v, 99)) for v in reached), default=0.0))
    blank = Line2D([], [], linestyle="none")
    with figure_style(theme) as colors:
        fig, ax = new_figure()
        # legend: two aligned columns, the runtime's line | its p50, p99 and pods not started
        names: list[tuple[Line2D, str]] = []
        stats: list[tuple[Line2D, str]] = []
        uses: dict[str, int] = {}  # era variants share their family's colour: vary the dash
        drawn: list[tuple[str, np.ndarray]] = []
        for runtime, values, n in rows:
            color = runtime_color(runtime)
            # a curve identical to one already drawn (cri-dockerd runs dockershim's code) is
            # dashed on top of it and says so, rather than hiding it
            twin = next((r for r, v in drawn if len(v) == len(values) and np.array_equal(v, values)), None)
            k = uses.get(color, 0) + (1 if twin else 0)
            dash: Any = ("solid", (0, (5, 2)), (0, (1, 1.5)), "dashdot")[k % 4]
            uses[color] = uses.get(color, 0) + 1
            drawn.append((runtime, values))
            names.append((Line2D([], [], color=color, linestyle=dash),
                          f"{runtime} (= {twin})" if twin else runtime))
            lost = f"   ✗ {n - len(values)}" if n > len(values) else ""
            if not len(values):
                stats.append((blank, "no pod started"))
                continue
            share = np.arange(1, len(values) + 1) / len(values)
            ax.plot(np.r_[values[0], values], np.r_[0.0, share], drawstyle="steps-post",
                    color=color, linestyle=dash, solid_capstyle="butt")
            p50, p99 = np.percentile(values, [50, 99])
            for x, marker in ((p50, "o"), (p99, "D")):
                # on the step curve, whose height at x is the share of pods at or below x
                ax.plot([x], [np.searchsorted(values, x, side="right") / len(values)],
                        marker=marker, color=color, markeredgecolor=colors["background"],
                        markeredgewidth=1.5, markersize=12 if marker == "o" else 10,
                        linestyle="none")
            stats.append((blank, f"● {unit.format(p50)}   ◆ {unit.format(p99)}{lost}"))

        if slo is not None and 0 < x_max and slo <= 2 * x_max:
            slo_line = ax.axvline(slo, color=colors["foreground"], linewidth=2.5,
                                  linestyle=(0, (6, 4)), zorder=1)
            names.append((slo_line, "SIG-scalability SLO"))
            stats.append((blank, f"◆ ≤ {slo:g} s"))
            x_max = max(x_max, slo)
        entries = names + stats
        symbols = "● p50   ◆ p99" + ("   ✗ pods not started" if any(
            n > len(v) for _, v, n in rows) else "")
        ax.legend([h for h, _ in entries], [t for _, t in entries], ncols=2, loc="best",
                  title=symbols, alignment="left", handlelength=1.6, handletextpad=0.6,
                  columnspacing=0.2, frameon=True, facecolor=colors["background"],
                  edgecolor="none", framealpha=0.85)

        if log_x:
            ax.set_xscale("log")
            ax.xaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
            ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
            ax.xaxis.set_minor_formatter(NullFormatter())
        else:
            ax.set_xlim(0, x_max * 1.04 if x_max > 0 else 1.0)
        ax.set_ylim(0, 1.02)
        ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        ax.set_xlabel(f"{label} (s{', log scale' if log_x else ''})")
        ax.set_ylabel("share of pods started within x")
        medians = {rt: float(np.percentile(v, 50)) for rt, v, _ in rows if len(v)}
        axes_title(ax, title or (f"Median pod startup: {extremes(medians)}" if medians
                                 else "No pod started"))
    return finish(fig, footnote)


def from_data(data: FigureData) -> Figure:
    """The catalogue's CDF: every pod of the comparison."""
    return latency_cdf(data.pods, footnote=data.note, theme=data.theme)
