"""Running independent jobs serially or on local worker processes, and scenarios at loads.

Every run's randomness depends only on its (scenario, runtime, seed, replication), so a job list
gives the same results however it is executed; ``map_jobs`` keeps the order of ``jobs``. Its
optional ``progress`` callback is called once per finished job (the CLI's progress bar), in the
order of ``jobs``; it sees no result and cannot change one.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable, Optional, TypeVar

from ..config import Scenario, apply_overrides, scenario_from_dict
from .sweep_lock import fork_context, process_pool, stop_pool

__all__ = ["map_jobs", "at_loads", "fork_context", "local_cluster"]

J = TypeVar("J")
R = TypeVar("R")


def map_jobs(fn: Callable[[J], R], jobs: list[J], workers: int = 1,
             progress: Optional[Callable[[], object]] = None) -> list[R]:
    results: list[R] = []
    if workers > 1 and len(jobs) > 1:
        pool = process_pool(workers)  # workers die with the driver and leave Ctrl-C to it
        interrupted = True
        try:
            for result in pool.map(fn, jobs):
                results.append(result)
                if progress is not None:
                    progress()
            interrupted = False
            return results
        finally:
            stop_pool(pool, interrupted)
    for j in jobs:
        results.append(fn(j))
        if progress is not None:
            progress()
    return results


def local_cluster(workers: int) -> Any:
    """A local Dask cluster of ``workers`` single-threaded worker processes, set up for runs of
    a few seconds: workers forked on Linux (see :func:`fork_context`; unless Dask's
    ``distributed.worker.multiprocessing-method`` was changed from its default 'spawn'), no
    dashboard (a web server in the driver, which also clashes when port 8787 is taken), no
    statistical profiler (a thread in every worker sampling the running task's stack every
    10 ms, which slows the task it samples), and the event-loop watchdog and system monitor of
    the scheduler, nannies and workers woken every 500 ms and 5 s instead of every 20 ms and
    500 ms (together about half the CPU an idle cluster uses; measured with
    benchmarks/bench_sweep.py). Needs Dask distributed (an optional dependency)."""
    import dask
    from dask.distributed import LocalCluster

    config: dict[str, Any] = {"distributed.worker.profile.enabled": False,
                              "distributed.admin.tick.interval": "500ms",
                              "distributed.admin.system-monitor.interval": "5s"}
    if fork_context() is not None and dask.config.get("distributed.worker.multiprocessing-method") == "spawn":
        config["distributed.worker.multiprocessing-method"] = "fork"
    with dask.config.set(config):
        return LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                            dashboard_address=None)


def at_loads(scenario: Scenario, load_key: str, loads: Iterable[float]) -> list[tuple[float, Scenario]]:
    """The scenario with ``load_key`` set to each load (validated, so a bad key fails first)."""
    base = scenario.model_dump(mode="json")
    out = []
    for load in loads:
        value = int(load) if float(load).is_integer() else float(load)
        out.append((value, scenario_from_dict(apply_overrides(base, {load_key: value}),
                                              f"load {load_key}={value}")))
    return out
