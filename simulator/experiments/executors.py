"""Running independent jobs serially or on local worker processes, and scenarios at loads.

Every run's randomness depends only on its (scenario, runtime, seed, replication), so a job list
gives the same results however it is executed; ``map_jobs`` keeps the order of ``jobs``.
"""

from __future__ import annotations

from typing import Callable, Iterable, TypeVar

from ..config import Scenario, apply_overrides, scenario_from_dict
from .sweep_lock import process_pool, stop_pool

__all__ = ["map_jobs", "at_loads"]

J = TypeVar("J")
R = TypeVar("R")


def map_jobs(fn: Callable[[J], R], jobs: list[J], workers: int = 1) -> list[R]:
    if workers > 1 and len(jobs) > 1:
        pool = process_pool(workers)  # workers die with the driver and leave Ctrl-C to it
        interrupted = True
        try:
            results = list(pool.map(fn, jobs))
            interrupted = False
            return results
        finally:
            stop_pool(pool, interrupted)
    return [fn(j) for j in jobs]


def at_loads(scenario: Scenario, load_key: str, loads: Iterable[float]) -> list[tuple[float, Scenario]]:
    """The scenario with ``load_key`` set to each load (validated, so a bad key fails first)."""
    base = scenario.model_dump(mode="json")
    out = []
    for load in loads:
        value = int(load) if float(load).is_integer() else float(load)
        out.append((value, scenario_from_dict(apply_overrides(base, {load_key: value}),
                                              f"load {load_key}={value}")))
    return out
