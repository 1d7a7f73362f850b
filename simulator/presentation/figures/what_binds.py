"""What binds: the share of pod start-up each cause takes, one stacked bar per runtime.

What it teaches: why a chain is as fast as it is. A pod's start-up (created -> Running
observed, pulls included) is split by the model's ledger (docs/model/attribution.md) into the
time it waited for the kubelet's API client, the CPU queue, each lock, PLEG, image pulls,
volumes, the control plane, the runtime's own work and the kubelet's own work; two chains
that wait on the same constraint start pods in the same time whatever they do.

What it draws: the summary's ``binds`` entry of each runtime (``experiments/binds.py``):
shares of the mean start-up, summed over the runtime's running pods. The title names the
largest share of each runtime, from the data.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from ...experiments.binds import cause_label
from ..style import figure_style, new_figure, runtime_sort_key
from ._draw import FIG_W_PX, finish, ink_on, runtime_ticks, text_size_px, wrap

if TYPE_CHECKING:
    from .data import FigureData

__all__ = ["what_binds", "from_data", "cause_color", "takeaway"]

# Paul Tol's "bright" and "muted" qualitative schemes (colour-blind safe); the API client, the
# usual culprit, in red.
_CAUSE_COLORS = {
    "api_client": "#CC3311",
    "cpu_queue": "#EE7733",
    "pleg": "#0077BB",
    "image_pull": "#33BBEE",
    "volumes": "#009988",
    "control_plane": "#BBBBBB",
    "runtime": "#117733",
    "kubelet": "#DDCC77",
    "init_run": "#882255",
    "retry": "#999933",
    "restart": "#44AA99",
}
_LOCK_COLORS = ("#AA3377", "#CC6677", "#661100")
OTHER = "other"
UNATTRIBUTED = "unattributed"
_SMALL = 0.01  # causes under 1 % on every runtime: one "other" segment
_ORDER = ("api_client", "cpu_queue", "lock:", "pleg", "image_pull", "volumes", "control_plane",
          "runtime", "kubelet", "init_run", "retry", "restart", OTHER, UNATTRIBUTED)


def cause_color(cause: str, locks: Sequence[str] = ()) -> str:
    """A cause's fixed colour; locks take purples in the order ``locks`` lists them."""
    if cause.startswith("lock:"):
        i = list(locks).index(cause) if cause in locks else 0
        return _LOCK_COLORS[i % len(_LOCK_COLORS)]
    return _CAUSE_COLORS.get(cause, "#8C8C8C" if cause == OTHER else "#5D6D7E")


def _order(causes: set[str]) -> list[str]:
    def key(c: str) -> tuple[int, str]:
        head = "lock:" if c.startswith("lock:") else c
        return (_ORDER.index(head) if head in _ORDER else len(_ORDER), c)

    return sorted(causes, key=key)


def takeaway(shares: Mapping[str, Mapping[str, float]]) -> str:
    """The title: what binds each runtime (the same words for runtimes that agree)."""
    tops: dict[str, list[str]] = {}
    for rt, s in shares.items():
        if s:
            top = max(s, key=lambda c: (s[c], c))
            tops.setdefault(top, []).append(f"{rt} ({100 * s[top]:.0f}\u00a0%)")  # "27 %" is not split
    if not tops:
        return "No pod ran: nothing binds"

    def listed(items: list[str]) -> str:
        return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]

    parts = [f"the {cause_label(c)} binds {listed(v)}" for c, v in tops.items()]
    text = "; ".join(parts)
    return text[0].upper() + text[1:]


def _merge_small(shares: Mapping[str, float], keep: set[str]) -> dict[str, float]:
    """The causes of ``keep``, the others summed into ``other``."""
    out = {c: v for c, v in shares.items() if c in keep}
    rest = sum(v for c, v in shares.items() if c not in keep)
    if rest > 0:
        out[OTHER] = rest
    missing = 1.0 - sum(shares.values())
    if missing >= _SMALL:  # time no cause claimed (a kubelet restart's downtime...): shown, hatched
        out[UNATTRIBUTED] = missing
    return out


def what_binds(shares: Mapping[str, Mapping[str, float]], footnote: str | None = None, *,
               theme: str = "light", title: str | None = None) -> Figure:
    """One horizontal bar per runtime, stacked by cause, in per cent of the mean start-up; the
    causes under 1 % on every runtime are drawn together as one grey segment."""
    runtimes = sorted((rt for rt in shares if shares[rt]), key=runtime_sort_key)
    if not runtimes:  # a failure study: say so instead of drawing empty bars
        return _nothing_ran(list(shares), footnote, theme)
    heading = title or takeaway({rt: shares[rt] for rt in runtimes})
    keep = {c for rt in runtimes for c, v in shares[rt].items() if v >= _SMALL}
    shares = {rt: _merge_small(shares[rt], keep) for rt in runtimes}
    causes = _order({c for rt in runtimes for c in shares[rt]})
    locks = [c for c in causes if c.startswith("lock:")]
    with figure_style(theme) as colors:
        fig, ax = new_figure()
        y = np.arange(len(runtimes))
        left = np.zeros(len(runtimes))
        ax.set_xlim(0, 112)
        px_per_pct = 0.55 * fig.get_figwidth() * fig.dpi / 112  # the axes: ~55 % of the width
        for cause in causes:
            width = np.array([100 * shares[rt].get(cause, 0.0) for rt in runtimes])
            color = cause_color(cause, locks)
            hatch = "//" if cause == UNATTRIBUTED else None
            ax.barh(y, width, left=left, height=0.62, color=colors["background"] if hatch else color,
                    hatch=hatch, edgecolor=colors["muted"] if hatch else colors["background"], linewidth=1.5)
            for yi, (l, w) in enumerate(zip(left, width)):
                text = f"{w:.0f} %"
                if w > 0 and w * px_per_pct > text_size_px(text, 13)[0] + 14:
                    ink = colors["foreground"] if hatch else ink_on(color)
                    ax.text(l + w / 2, yi, text, ha="center", va="center", fontsize=13, color=ink,
                            bbox=dict(boxstyle="round,pad=0.15", facecolor=colors["background"],
                                      edgecolor="none") if hatch else None)
            left = left + width
        for yi, total in enumerate(left):
            ax.text(total + 1, yi, f"{total:.0f} %", ha="left", va="center", fontsize=15,
                    fontweight="bold", color=colors["foreground"])
        runtime_ticks(ax, runtimes)
        ax.set_xlabel("share of the mean pod start-up, created -> Running (%)")
        size = 20.0
        # the title may run over the legend's column: the axes start ~13 % from the left
        ax.set_title("\n".join(wrap(heading, 0.84 * FIG_W_PX, size, "bold")[:3]), loc="left",
                     fontsize=size, fontweight="bold", color=colors["foreground"])
        handles = [Patch(facecolor=colors["background"], hatch="//", edgecolor=colors["muted"], label=c)
                   if c == UNATTRIBUTED else
                   Patch(facecolor=cause_color(c, locks), label="other (each < 1 %)" if c == OTHER else cause_label(c))
                   for c in causes]
        # beside the bars, in the order they are stacked (a legend below would meet the footnote)
        fig.legend(handles=handles, loc="outside right center", handlelength=1.2, frameon=False)
    return finish(fig, footnote)


def _nothing_ran(runtimes: list[str], footnote: str | None, theme: str) -> Figure:
    with figure_style(theme) as colors:
        fig, ax = new_figure()
        ax.set_axis_off()
        names = ", ".join(runtimes) or "any chain"
        ax.set_title(f"No pod reached Running on {names}: there is no start-up to attribute",
                     loc="left", fontsize=20, fontweight="bold", color=colors["foreground"])
        ax.text(0.5, 0.5, "see failures by hop and the events table for why pods failed",
                ha="center", va="center", fontsize=16, color=colors["muted"], transform=ax.transAxes)
    return finish(fig, footnote)


def from_data(data: FigureData) -> Figure:
    """The comparison's ``binds`` shares, per runtime."""
    from ...experiments.binds import summarize_binds
    from ...model.simulation import POOLS

    comp = data.comp
    shares = {}
    for rt in data.runtimes:
        runs = comp.runs_of(rt) or comp.runs_of(POOLS)
        shares[rt] = summarize_binds(runs, comp.scenario, rt)["shares"]
    return what_binds(shares, footnote=data.note, theme=data.theme)
