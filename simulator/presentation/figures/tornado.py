"""Which guesses the answer rests on: a tornado of Morris μ* per ASSUMPTION default.

What it teaches: which of the model's unmeasured defaults (the values marked ASSUMPTION in the
scenario schema and in the chains) move a chosen output, and by how much, so an architect
knows which guesses to measure before trusting the answer, and which do not matter.

What it draws: a sensitivity table (:func:`simulator.experiments.sensitivity.morris`: one row per
runtime and parameter with ``mu_star`` and ``mu_star_conf``), as horizontal bars of μ* for the
parameters with the largest μ* on any runtime, the largest at the top, one bar per runtime in
its colour, with the bootstrap 95 % interval as a whisker. μ* is the mean absolute change of
the output when the factor swings across its whole range (×0.5 to ×2 of the default). The
catalogue's screening is small (see :func:`from_data`).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from matplotlib.artist import Artist
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from ..style import figure_style, new_figure, runtime_color, runtime_sort_key
from ._draw import FIG_W_PX, finish, fit_text, require, shrink_to_fit, text_width_px

if TYPE_CHECKING:
    from .data import FigureData

__all__ = ["from_data", "short_name", "tornado", "wrap_label"]

_WORDS = {1: "One", 2: "Two", 3: "Three"}
_METRICS = {"pod_startup_seconds": "pod startup", "pod_startup_total_seconds": "pod startup (with pulls)",
            "batch_seconds": "the batch's time", "cpu_cores": "CPU", "memory_mb": "memory"}


def short_name(parameter: str) -> str:
    """A parameter's name for a title: the field (``watchDelay``) or the step."""
    if ": " in parameter:
        return parameter.split(": ", 1)[1]
    return parameter.rsplit(".", 1)[-1]


def wrap_label(text: str, width_px: float, size: float, lines: int = 2) -> str:
    """``text`` on at most ``lines`` lines of ``width_px``, broken after spaces, dots and
    slashes (dotted paths have no spaces); the last line cut with an ellipsis if need be."""
    tokens = [t for t in re.split(r"(?<=[ ./])", text) if t]
    out: list[str] = []
    for tok in tokens:
        if out and text_width_px((out[-1] + tok).rstrip(), size) <= width_px:
            out[-1] += tok
        else:
            out.append(tok)
    if len(out) > lines:
        out = out[:lines - 1] + ["".join(out[lines - 1:])]
    out = [line.strip() for line in out]
    out[-1] = fit_text(out[-1], width_px, size) or out[-1][:6] + "…"
    return "\n".join(out)


def _metric(output: str) -> str:
    head, _, tail = output.partition(".")
    name = _METRICS.get(head, head)
    if head.startswith("pod_startup") and tail:
        return f"{tail} {name}"
    return f"{tail} {name}" if tail else name


def _title(peak: pd.Series, output: str) -> str:
    """The takeaway: how many guesses carry the output (μ* at least a third of the largest),
    and which; ``peak`` is each parameter's largest μ*, in decreasing order."""
    metric = _metric(output)
    if peak.empty or float(peak.iloc[0]) <= 0:
        return f"No guess moves {metric} over this range"
    top = float(peak.iloc[0])
    drivers = [p for p in peak.index if float(peak[p]) >= top / 3]
    if len(drivers) <= 3:
        names = [short_name(p) for p in drivers]
        listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
        verb = "drives" if len(names) == 1 else "drive"
        word = _WORDS[len(names)]
        return f"{word} guess{'es' if len(names) > 1 else ''} {verb} {metric}: {listed}"
    return (f"No one guess dominates {metric}: {len(drivers)} reach a third of the largest "
            f"({short_name(drivers[0])})")


def _scale(unit: str, peak: float) -> tuple[str, float]:
    """The axis unit and the multiplier from the output's unit."""
    if unit == "s" and peak < 2.0:
        return "ms", 1000.0
    if unit == "cores" and peak < 0.5:
        return "millicores", 1000.0
    return unit, 1.0


def tornado(table: pd.DataFrame, output: str, unit: str, footnote: str | None = None, *,
            theme: str = "light", title: str | None = None, top: int = 15,
            range_text: str = "×0.5 → ×2") -> Figure:
    """μ* of the ``top`` parameters with the largest μ* on any runtime, largest at the top,
    one bar per runtime (``table``: runtime, parameter, mu_star, mu_star_conf)."""
    require(table, ("runtime", "parameter", "mu_star", "mu_star_conf"), "sensitivity table")
    if table.empty:
        raise ValueError("the sensitivity table is empty: no parameter was screened")
    runtimes = sorted(table["runtime"].unique(), key=runtime_sort_key)
    peak = table.groupby("parameter", sort=False)["mu_star"].max().sort_values(ascending=False, kind="stable")
    order = list(peak.index[:top])
    shown_unit, mult = _scale(unit, float(peak.iloc[0]))
    n_rt, n = len(runtimes), len(order)
    height = 0.8 / n_rt
    with figure_style(theme) as colors:
        fig, ax = new_figure()
        # two lines per label while the rows have room for them, else one (cut with an ellipsis)
        label_size = 15 if n <= 10 else 13
        labels = [wrap_label(p, 0.36 * FIG_W_PX, label_size, lines=2 if n <= 10 else 1) for p in order]
        for k, rt in enumerate(runtimes):
            mine = table[table["runtime"] == rt].set_index("parameter")
            y = np.arange(n) - 0.4 + height * (k + 0.5)
            vals = mine["mu_star"].reindex(order).to_numpy() * mult
            conf = mine["mu_star_conf"].reindex(order).to_numpy() * mult
            ax.barh(y, np.nan_to_num(vals), height=height * 0.92, color=runtime_color(rt), label=rt)
            lo = np.clip(np.nan_to_num(vals - conf), 0, None)
            ax.hlines(y, lo, np.nan_to_num(vals + conf), color=colors["muted"], linewidth=1.6)
        ax.set_yticks(np.arange(n), labels, fontsize=label_size, linespacing=1.0)
        ax.set_ylim(n - 0.5, -0.5)
        ax.tick_params(axis="y", length=0)
        ax.grid(axis="y", visible=False)
        ax.set_xlim(0, None)
        xlabel = (f"Morris μ* ({shown_unit}): mean |change of {_metric(output)}| as a factor "
                  f"swings {range_text}")
        ax.set_xlabel(xlabel, fontsize=shrink_to_fit(xlabel, 0.6 * FIG_W_PX, 16), loc="right")
        handles: list[Artist] = [Patch(facecolor=runtime_color(rt), label=rt) for rt in runtimes]
        handles.append(Line2D([], [], color=colors["muted"], linewidth=1.6,
                              label="95 % bootstrap interval"))
        ax.legend(handles=handles, loc="lower right", handlelength=1.2)
        text = title or _title(peak, output)
        fig.suptitle(text, x=0.01, ha="left",
                     fontsize=shrink_to_fit(text, 0.97 * FIG_W_PX, 24, "bold"))
    return finish(fig, footnote)


def from_data(data: FigureData) -> Figure:
    """The catalogue's tornado: a small screening (3 trajectories) of p50 on the preset with 20
    pods, dockershim and containerd, so that ``kubesim figures`` stays quick."""
    from ...experiments.sensitivity import morris

    scenario = data.scenario(["workload.pods=20"])
    res = data.memo("sensitivity-tornado", lambda: morris(
        scenario, ["dockershim", "containerd"], output="pod_startup_seconds.p50", trajectories=3,
        seed=data.seed))
    note = (f"kubesim sensitivity · scenario '{scenario.name}', 20 pods · seed {data.seed} · Morris, "
            f"{res.trajectories} trajectories, {res.runs} runs (small: the command runs more) · "
            "factors log-uniform ×0.5 to ×2")
    return tornado(res.table, res.output, res.unit, footnote=note, theme=data.theme)
