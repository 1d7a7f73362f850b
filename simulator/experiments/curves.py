"""Latency against load, with uncertainty from replications.

``load_curve`` runs a scenario at each load (a dotted key, by default ``workload.pods``) on each
chain, ``replications`` times with independent seeds, and returns one row per (runtime, load)
with the mean across replications of each replication's p50 and p99 of pod startup and the
Student-t 95 % interval of that mean (``stats.t_interval``). With one replication the interval
columns are NaN: no uncertainty is claimed from a single run.
"""

from __future__ import annotations

from typing import Iterable

import numpy as np
import pandas as pd

from ..config import Scenario
from ..model.simulation import simulate
from .executors import at_loads, map_jobs
from .stats import t_interval

__all__ = ["load_curve", "CURVE_COLUMNS"]

CURVE_COLUMNS = ["runtime", "load", "replications", "p50", "p50_lo", "p50_hi", "p99", "p99_lo", "p99_hi",
                 "running_share"]


def _one(args: tuple) -> tuple:
    scenario, runtime, load, seed, rep, column = args
    pods = simulate(scenario, runtime, seed, rep).pods
    ok = pods[pods.outcome == "running"][column].dropna().to_numpy()
    p50, p99 = (np.quantile(ok, [0.5, 0.99]) if ok.size else (np.nan, np.nan))
    return runtime, load, rep, float(p50), float(p99), float((pods.outcome == "running").mean())


def load_curve(scenario: Scenario, runtimes: Iterable[str], loads: Iterable[float],
               load_key: str = "workload.pods", replications: int = 5, seed: int = 1,
               column: str = "pod_startup", workers: int = 1) -> pd.DataFrame:
    jobs = [(sc, rt, value, seed, rep, column) for value, sc in at_loads(scenario, load_key, loads)
            for rt in runtimes for rep in range(replications)]
    rows = map_jobs(_one, jobs, workers)
    raw = pd.DataFrame(rows, columns=["runtime", "load", "replication", "p50", "p99", "running_share"])
    out = []
    for (rt, load), g in raw.groupby(["runtime", "load"], sort=False):
        rec = [rt, load, len(g)]
        for q in ("p50", "p99"):
            iv = t_interval(g[q].tolist())
            rec += [float(g[q].mean()), *(iv if iv else (np.nan, np.nan))]
        rec.append(float(g.running_share.mean()))
        out.append(rec)
    return pd.DataFrame(out, columns=CURVE_COLUMNS)
