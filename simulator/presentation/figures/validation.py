"""Predicted against measured: the validation catalogue at a glance.

What it teaches: how far each of the model's predictions is from what a published experiment
measured, relative to the tolerance the source's own precision allows; which ones miss.

What it draws: ``kubesim validate``'s results table (one row per case): predicted / measured
on a logarithmic axis (1 = exact), one row per case, the tolerance as a band around 1, filled
dots for cases within it and open ones for misses; validation and calibration cases apart.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FixedLocator, NullLocator

from ..style import OKABE_ITO, figure_style, new_figure
from ._draw import finish, require

if TYPE_CHECKING:
    from .data import FigureData

__all__ = ["validation_figure", "from_data", "VALIDATION_COLUMNS"]

VALIDATION_COLUMNS = ("case", "kind", "measured", "predicted", "ratio_pred_meas", "tol_low",
                      "tol_high", "passed")


def validation_figure(results: pd.DataFrame, footnote: str | None = None, *,
                      theme: str = "light", title: str | None = None) -> Figure:
    require(results, VALIDATION_COLUMNS, "validation results")
    df = results.sort_values(["kind", "ratio_pred_meas"], ascending=[False, True]).reset_index(drop=True)
    n_val = int((df.kind == "validation").sum())
    ok_val = int(df[df.kind == "validation"].passed.sum())
    lo, hi = 0.25, 4.0  # a factor of four either way; beyond it the dot sits at the edge
    with figure_style(theme) as colors:
        fig, ax = new_figure()
        fig.suptitle(title or f"{ok_val} of {n_val} validation cases fall within their tolerance",
                     x=0.01, ha="left", fontweight="bold")
        for i, r in df.iterrows():
            y = len(df) - 1 - i
            band_lo = min(max(r.tol_low, lo), hi)
            band_hi = min(r.tol_high, hi) if math.isfinite(r.tol_high) else hi
            ax.plot([band_lo, band_hi], [y, y], color=colors["grid"], linewidth=10,
                    solid_capstyle="butt", zorder=1)
            color = OKABE_ITO["blue"] if r.passed else OKABE_ITO["vermillion"]
            x = min(max(r.ratio_pred_meas, lo), hi) if math.isfinite(r.ratio_pred_meas) else lo
            off = x != r.ratio_pred_meas
            ax.plot([x], [y], marker=("<" if x == lo else ">") if off else "o", markersize=12, zorder=3,
                    linestyle="none", markerfacecolor=color if r.passed else colors["background"],
                    markeredgecolor=color, markeredgewidth=2.5)
            if off:
                ax.annotate(f"{r.ratio_pred_meas:.2g}×", (x, y), xytext=(14 if x == lo else -14, 0),
                            textcoords="offset points", va="center", ha="left" if x == lo else "right",
                            fontsize=12, color=color)
        ax.axvline(1.0, color=colors["foreground"], linewidth=1.2, zorder=2)
        ax.set_xscale("log")
        ax.set_xlim(lo / 1.08, hi * 1.08)
        ticks = [0.25, 0.5, 1, 2, 4]
        ax.xaxis.set_major_locator(FixedLocator(ticks))
        ax.xaxis.set_minor_locator(NullLocator())
        ax.set_xticklabels([f"{t:g}×" for t in ticks])
        ax.set_yticks(range(len(df)))
        labels = [f"{r.case}{'  (calibration)' if r.kind == 'calibration' else ''}" for r in df.itertuples()]
        ax.set_yticklabels(list(reversed(labels)), fontsize=12)
        ax.set_ylim(-0.7, len(df) - 0.3)
        ax.set_xlabel("predicted ÷ measured  (grey: tolerance · open: outside it)")
        ax.grid(axis="y", visible=False)
    return finish(fig, footnote)


def from_data(data: "FigureData") -> Figure:
    """The catalogue's version: the single-node cases, one replication each."""
    return validation_figure(data.validation(), footnote=f"kubesim validate · single-node cases, "
                             f"1 replication each · seed {data.seed}", theme=data.theme)
