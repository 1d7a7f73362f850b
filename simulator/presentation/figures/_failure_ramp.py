"""A failure ramp averaged over replications: what the failures figure and table read.

:class:`Ramp` turns :func:`simulator.experiments.failures.failure_ramp`'s table (one row per
runtime, load, hop, kind and replication) into one cell per (runtime, load, hop), each with its
problems most severe first and a short marker (``F 12``, ``P 101``, ``E 285``, ``S 114s``), the
hops ordered worst first, and each runtime's breaking load.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ..style import runtime_sort_key
from ._draw import require

__all__ = ["FAILURE_KINDS", "Ramp", "takeaway", "tick_text"]

FAILURE_KINDS = ("failed", "pending", "stall", "errors")
"""The problem kinds of a failure ramp, most severe first (``ok`` rows only complete the ramp)."""

_KIND_LETTER = {"failed": "F", "pending": "P", "stall": "S", "errors": "E"}
_BREAKING_KINDS = ("failed", "pending", "stall")
_RAMP_COLUMNS = ("runtime", "load", "hop", "kind", "count", "per_pod", "replication")


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


class Ramp:
    """A failure ramp averaged over replications: one cell per (runtime, load, hop)."""

    def __init__(self, df: pd.DataFrame) -> None:
        require(df, _RAMP_COLUMNS, "failure ramp")
        if df.empty:
            raise ValueError("the failure ramp is empty")
        df = df.copy()
        df["hop"] = df["hop"].fillna("(unknown)").astype(str).replace("", "(unknown)")
        df["kind"] = df["kind"].astype(str)
        df["load"] = df["load"].astype(float)
        self.runtimes: list[str] = sorted(df["runtime"].astype(str).unique(), key=runtime_sort_key)
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


def tick_text(load: float, short: bool = False) -> str:
    """A load as a column label: 800, 1600, 2.5; ``short``: 1.6k, 12k."""
    if float(load).is_integer():
        v = int(load)
        if v >= 1000 and (short or v >= 100000):
            return f"{v / 1000:.1f}k".replace(".0k", "k") if v < 10000 else f"{v / 1000:.0f}k"
        return str(v)
    return f"{load:g}"


def takeaway(ramp: Ramp, runtimes: Sequence[str], up_to: str) -> str:
    """The title: which runtime breaks first and at which load, and which never does."""
    unit = " pods" if ramp.load_is_pods else ""
    breaks = {rt: ramp.breaking_load(rt) for rt in runtimes}
    broken = sorted((load, rt) for rt, load in breaks.items() if load is not None)
    fine = [rt for rt, load in breaks.items() if load is None]
    if not broken:
        return f"No runtime loses pods or stalls its node {up_to}"
    first = broken[0][0]
    names = " and ".join(rt for load, rt in broken if load == first)
    text = f"{names} breaks first, at {tick_text(first)}{unit}"
    if fine:
        text += f"; {' and '.join(fine)} {'holds' if len(fine) == 1 else 'hold'} {up_to}"
    return text
