"""Log pipeline CPU and blocking against log rate, per runtime.

What it teaches: what a chatty container's stdout costs on each chain, and what happens when the
node cannot pay it. Every line is copied and written by the runtime (dockerd's copier and
json-file driver, containerd's CRI logger, conmon), read again by the kubelet for ``kubectl logs
-f``, and rotated (Docker at every write, the kubelet every 10 s with a gzip); on a small node
that work competes with everything else, and Docker's writers block (mode blocking) or drop
lines (mode non-blocking) while the kubelet's rotation falls behind.

What it draws: :func:`simulator.experiments.log_sweep.log_rate_sweep`'s table (one row per series and
rate: runtime and kubelet CPU for logs, blocked and dropped shares, largest file at rotation).
Four panels against the lines per second each container writes: the runtime's CPU for logs,
the kubelet's, the share of time the containers were blocked (solid) and of lines dropped
(dashed), and the largest log file at its rotation. The catalogue's sweep is the
``chatty-logs`` preset (12 containers on one vCPU, a ``kubectl logs -f`` on each) with a
30 s steady state, one replication per point.
"""

from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import FuncFormatter, MaxNLocator

from ..style import figure_style, new_figure, runtime_color, runtime_sort_key
from ._draw import finish, legend_below_figure, require

if TYPE_CHECKING:
    from .data import FigureData

__all__ = ["log_pipeline", "from_data", "CATALOGUE_RATES"]

CATALOGUE_RATES = [1000.0, 5000.0, 10000.0, 15000.0, 20000.0]
_COLUMNS = ("series", "runtime", "mode", "lines_per_second", "runtime_cpu_cores",
            "kubelet_cpu_cores", "blocked_share", "dropped_share", "largest_file_mb")


def _style(row_mode: str) -> dict:
    if row_mode == "non-blocking":
        return {"linestyle": "--", "marker": "o", "markerfacecolor": "none"}
    return {"linestyle": "-", "marker": "o"}


def _kilo(ax: Axes) -> None:
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v / 1000:g}k"))
    ax.xaxis.set_major_locator(MaxNLocator(6, steps=[1, 2, 2.5, 5, 10]))


def takeaway(curve: pd.DataFrame) -> str:
    """The title, from the curve's highest rate: which series costs the runtime the most CPU
    for logs and which the least, and the runtimes whose writers block or drop lines."""
    top = curve[curve["lines_per_second"] == curve["lines_per_second"].max()]
    cpu = top.groupby("series")["runtime_cpu_cores"].mean()
    rate = float(top["lines_per_second"].iloc[0])
    each = f"{rate / 1000:g}k" if rate >= 1000 else f"{rate:g}"
    text = (f"At {each} lines/s a container, logs cost the runtime {cpu.max():.2f} cores on "
            f"{cpu.idxmax()}, {cpu.min():.2f} on {cpu.idxmin()}")
    lossy = curve.loc[(curve["blocked_share"] > 0) | (curve["dropped_share"] > 0), "runtime"]
    if len(lossy):
        names = sorted(set(lossy), key=runtime_sort_key)
        text += f"; {' and '.join(names)} block{'s' if len(names) == 1 else ''} or drop lines"
    return text


def log_pipeline(
    curve: pd.DataFrame,
    title: str | None = None,
    footnote: str | None = None,
    *,
    theme: str = "light",
) -> Figure:
    """Runtime and kubelet CPU for logs, blocked and dropped shares and the largest log file,
    against the lines per second each chatty container writes; one colour per runtime, Docker's
    non-blocking mode dashed with hollow markers."""
    require(curve, _COLUMNS, "curve")
    if curve.empty:
        raise ValueError("curve holds no rows")
    data = curve.sort_values(["series", "lines_per_second"])
    series = list(dict.fromkeys(curve["series"]))  # in the sweep's order
    with figure_style(theme) as colors:
        fig, axes = new_figure(2, 2, sharex=True)
        (cpu_rt, cpu_kl), (loss, files) = axes
        for label in series:
            g = data[data["series"] == label]
            color, style = runtime_color(str(g["runtime"].iloc[0])), _style(str(g["mode"].iloc[0]))
            x = g["lines_per_second"].to_numpy(dtype=float)
            cpu_rt.plot(x, g["runtime_cpu_cores"], color=color, **style)
            cpu_kl.plot(x, g["kubelet_cpu_cores"], color=color, **style)
            rotated = g["largest_file_mb"].to_numpy(dtype=float)
            files.plot(x, np.where(rotated > 0, rotated, np.nan), color=color, **style)  # 0: none yet
            blocked = 100 * g["blocked_share"].to_numpy(dtype=float)
            dropped = 100 * g["dropped_share"].to_numpy(dtype=float)
            if blocked.max() > 0:
                loss.plot(x, blocked, color=color, **_style("blocking"))
            if dropped.max() > 0:
                loss.plot(x, dropped, color=color, **_style("non-blocking"))
            if blocked.max() == 0 and dropped.max() == 0 and str(g["mode"].iloc[0]) == "blocking":
                loss.plot(x, np.zeros_like(x), color=color, alpha=0.5, linewidth=2, marker="o")
        for ax, text in ((cpu_rt, "runtime CPU for logs (cores)"),
                         (cpu_kl, "kubelet CPU for logs (cores)"),
                         (loss, "% time blocked (solid), % lines dropped (dashed)"),
                         (files, "largest file at its rotation (MB, log scale)")):
            ax.set_title(text, loc="left", fontsize=14)
        files.set_yscale("log")
        files.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        for ax in (cpu_rt, cpu_kl, loss):
            ax.set_ylim(bottom=0)
        for ax in (loss, files):
            _kilo(ax)
            ax.set_xlabel("lines/s written by each container", fontsize=14)
        handles = []
        for label in series:
            g = data[data["series"] == label]
            handles.append(Line2D([], [], color=runtime_color(str(g["runtime"].iloc[0])), linewidth=3,
                                  label=label, **_style(str(g["mode"].iloc[0]))))
        legend_below_figure(fig, cast(Any, handles))  # lines, so that a handle shows its style
        text = "\n".join(textwrap.wrap(title or takeaway(data), 64))
        fig.suptitle(text, x=0.01, ha="left",
                     fontsize=18, fontweight="bold", color=colors["foreground"])
    return finish(fig, footnote)


def from_data(data: FigureData) -> Figure:
    """The catalogue's sweep: the ``chatty-logs`` preset at eight log rates."""
    from ...experiments.log_sweep import log_rate_sweep
    scenario = data.scenario(["simulation.steadyStateSeconds=30"], name="chatty-logs")
    curve = data.memo("log-pipeline", lambda: log_rate_sweep(scenario, CATALOGUE_RATES, seed=data.seed))
    note = (f"kubesim · preset 'chatty-logs' (12 containers, 1 vCPU, kubectl logs -f on each, 1.23) · "
            f"30 s steady state · seed {data.seed} · 1 replication")
    return log_pipeline(curve, footnote=note, theme=data.theme)
