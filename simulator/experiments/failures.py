"""Failure points: where, when and why pod creation fails or stalls as load grows.

``failure_ramp`` runs a scenario at increasing loads (by default the number of pods,
``workload.pods``) on each chain and tallies, per hop:

* ``failed``: pods that failed for good, by the hop that failed them;
* ``pending``: pods not running at the horizon, by the hop of their last error (or the
  scheduler's reason);
* ``errors``: transient sync errors (a CRI deadline, "name is reserved", "pull QPS exceeded"...),
  by hop, which the kubelet retried;
* ``stall``: seconds the node spent NotReady because PLEG was unhealthy (hop ``PLEG``).

The result is one tidy table (runtime, load, hop, kind, count, per_pod); the presentation layer
draws it as a heatmap.
"""

from __future__ import annotations

from typing import Callable, Iterable, Optional

import pandas as pd

from ..config import Scenario
from ..model.simulation import simulate
from .defaults import DEFAULT_REPLICATIONS
from .executors import at_loads, map_jobs
from .runner import not_ready_episodes

__all__ = ["failure_ramp", "DEFAULT_LOADS", "FAILURE_COLUMNS"]

DEFAULT_LOADS = (100, 200, 400, 800)
FAILURE_COLUMNS = ["runtime", "load", "hop", "kind", "count", "per_pod", "pods", "replication"]


def _tally(args: tuple) -> list[tuple]:
    scenario, runtime, load, seed, replication = args
    r = simulate(scenario, runtime, seed, replication)
    pods = r.pods
    n = max(len(pods), 1)
    rows: list[tuple] = []

    def add(kind: str, counts: pd.Series) -> None:
        for hop, c in counts.items():
            rows.append((runtime, load, str(hop) or "(unknown)", kind, float(c), float(c) / n, len(pods), replication))

    add("failed", pods[pods.outcome == "failed"].failure_hop.value_counts())
    add("pending", pods[pods.outcome == "pending"].failure_hop.replace("", "(still being created)").value_counts())
    ev = r.events
    add("errors", ev[ev.event == "SyncError"].hop.value_counts())
    stall = float(sum(not_ready_episodes(ev, r.end_time)))
    if stall > 0:
        rows.append((runtime, load, "PLEG (node NotReady)", "stall", stall, stall / n, len(pods), replication))
    # a row per (runtime, load) even when nothing went wrong, so the ramp is complete
    rows.append((runtime, load, "(none)", "ok", float((pods.outcome == "running").sum()),
                 float((pods.outcome == "running").mean()) if len(pods) else 0.0, len(pods), replication))
    return rows


def failure_ramp(scenario: Scenario, runtimes: Iterable[str], loads: Iterable[float] = DEFAULT_LOADS,
                 load_key: str = "workload.pods", seed: int = 1, replications: int = DEFAULT_REPLICATIONS,
                 workers: int = 1, progress: Optional[Callable[[], object]] = None) -> pd.DataFrame:
    """The tally of every load x runtime x replication run; ``progress()`` after each."""
    jobs = [(sc, rt, value, seed, rep) for value, sc in at_loads(scenario, load_key, loads)
            for rt in runtimes for rep in range(replications)]
    parts = map_jobs(_tally, jobs, workers, progress)
    df = pd.DataFrame([row for part in parts for row in part], columns=FAILURE_COLUMNS)
    return df.sort_values(["runtime", "load", "kind", "hop"], kind="stable").reset_index(drop=True)
