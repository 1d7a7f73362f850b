"""Statistics across replications: percentiles and confidence intervals (docs/STYLE.md §8).

Within one run, pod latencies are not independent (pods share the node), so uncertainty is
taken across independent replications (different seeds): each replication gives one value of a
statistic (its p50, its p99, its batch time); the interval is the Student-t 95 % interval of the
mean of those values. With one replication no interval is claimed. Every statistic kubesim
summarises is a duration, a count, a share, CPU or memory, none of which can be negative: when
every replication's value is 0 or more, the interval is cut at 0 (intersecting it with the
values the mean can take keeps its coverage; with 2 or 3 replications the t quantile, 12.7 or
4.3, otherwise reaches below 0 and a report would print a negative start-up time).
"""

from __future__ import annotations

import math
from typing import Iterable, Sequence

import numpy as np

__all__ = ["percentiles", "t_interval", "QUANTILES"]

QUANTILES = {"p50": 0.50, "p90": 0.90, "p99": 0.99}


def percentiles(values: Iterable[float]) -> dict[str, float | None]:
    arr = np.asarray([v for v in values if v is not None and not math.isnan(v)], dtype=float)
    if arr.size == 0:
        return {k: None for k in (*QUANTILES, "max")}
    out: dict[str, float | None] = {k: float(np.quantile(arr, q)) for k, q in QUANTILES.items()}
    out["max"] = float(arr.max())
    return out


def t_interval(values: Sequence[float], confidence: float = 0.95) -> tuple[float, float] | None:
    """Student-t interval for the mean of independent replication values; None if < 2."""
    arr = np.asarray([v for v in values if v is not None and not math.isnan(v)], dtype=float)
    if arr.size < 2:
        return None
    # imported here: scipy.stats takes about as long to import as the rest of kubesim, and every
    # sweep worker and CLI start would pay it while only replicated summaries need it
    from scipy import stats as _st

    mean = float(arr.mean())
    half = float(_st.t.ppf(0.5 + confidence / 2, arr.size - 1) * arr.std(ddof=1) / math.sqrt(arr.size))
    low = mean - half
    if low < 0 and arr.min() >= 0:
        low = 0.0  # a non-negative quantity (module docstring)
    return (low, mean + half)
