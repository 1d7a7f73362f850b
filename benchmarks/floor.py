"""The team's raw SimPy floor: the cheapest SimPy model of pods walking an H-hop call chain.

It is the yardstick the benchmarks divide the full model by. It has the full model's shape and
none of its mechanisms:

* ``nodes`` nodes, each with ``hops`` stations; a station is a ``simpy.Resource`` of capacity 4
  (a daemon serving a few calls at once);
* ``pods`` pods arrive as a Poisson stream at ``pods / 60`` per second (the whole batch within
  about a minute) and are placed on the nodes in turn;
* each pod is one process that, for each of its node's stations in order, requests the station,
  holds it for an exponential service time of mean 10 ms (rate 100 per second) and releases it.

No locks between hops, no processor sharing, no records, no background loops: what is left is
the cost of SimPy itself per hop visit (a request, a timeout, a release and the process resumes).
The numbers (capacity 4, rate 100/s, arrivals over 60 s) are ASSUMPTION: the team's reference
floor, chosen to be busy enough that requests queue sometimes, not to match any real daemon.
Randomness comes from Python's ``random.Random(seed)``, so a floor run is reproducible.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from typing import Any

import simpy

__all__ = ["FloorResult", "floor_chain", "scheduled_events"]

CAPACITY = 4  # ASSUMPTION (the team's floor): calls a station serves at once
SERVICE_RATE = 100.0  # ASSUMPTION (the team's floor): 1 / mean service time per hop (10 ms)
ARRIVAL_WINDOW = 60.0  # ASSUMPTION (the team's floor): pods arrive at pods / 60 per second


@dataclass(frozen=True)
class FloorResult:
    hop_visits: int
    events: int  # env.schedule calls
    wall_seconds: float
    cpu_seconds: float
    simulated_seconds: float


def scheduled_events(env: Any) -> int:
    """How many times ``env.schedule`` ran in a finished environment, read from SimPy's event-id
    counter (``Environment._eid``, incremented once per schedule call; SimPy 4), so counting
    costs nothing while the run goes. -1 when the environment has no such counter."""
    counter = getattr(env, "_eid", None)
    if counter is None:
        return -1
    return int(next(counter))  # the id the next event would get = events scheduled so far


def floor_chain(pods: int, nodes: int, hops: int, seed: int = 1) -> FloorResult:
    """Run the floor once; ``hop_visits`` is ``pods * hops`` when every pod finished."""
    if pods < 1 or nodes < 1 or hops < 1:
        raise ValueError(f"floor: pods={pods}, nodes={nodes}, hops={hops}; each must be at least 1")
    t0, c0 = time.perf_counter(), time.process_time()
    env = simpy.Environment()
    rng = random.Random(seed)
    stations = [[simpy.Resource(env, capacity=CAPACITY) for _ in range(hops)] for _ in range(nodes)]
    visits = 0

    def pod(chain: list[simpy.Resource]):
        nonlocal visits
        for station in chain:
            with station.request() as req:
                yield req
                yield env.timeout(rng.expovariate(SERVICE_RATE))
            visits += 1

    def arrivals():
        rate = pods / ARRIVAL_WINDOW
        for i in range(pods):
            yield env.timeout(rng.expovariate(rate))
            env.process(pod(stations[i % nodes]))

    env.process(arrivals())
    env.run()
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    return FloorResult(visits, scheduled_events(env), wall, cpu, float(env.now))
