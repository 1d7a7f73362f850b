"""The apiserver as its clients see it.

A request first passes its client's own rate limiter (client-go token bucket), then takes one
of the apiserver's in-flight seats (``--max-requests-inflight`` + ``--max-mutating-requests-
inflight``), runs its CPU work on the apiserver's cores, processor-shared with every other
request in flight, so latency grows with load, and waits out the rest (network, etcd). Over
the seat limit, with API priority and fairness (on by default from 1.20) the request waits in a
queue for a seat; before it, the apiserver answers 429 and client-go retries after the
``Retry-After`` second, through its rate limiter again.

Watch delivery: each pod event is dispatched, one watcher at a time, to the pod's kubelet
(indexed by ``spec.nodeName``) and to the unfiltered watchers (scheduler, controllers, a test's
observer), then travels to the client. Values in ``ApiServerConfig`` (DESIGN.md "Control
plane").
"""

from __future__ import annotations

from typing import Callable, Optional

import numpy as np
import simpy

from ...config import ApiServerConfig
from ..dist import compile_dist
from ..fluid import FluidShare
from ..runtime.locks import HopLock
from .ratelimit import TokenBucket

__all__ = ["ApiServer", "RETRY_AFTER_S"]

# The max-inflight filter answers 429 with "Retry-After: 1" (k8s.io/apiserver pkg/server/
# filters/maxinflight.go tooManyRequests); client-go sleeps that long before retrying
# (rest/request.go, checkWait).
RETRY_AFTER_S = 1.0


class ApiServer:
    def __init__(self, env: simpy.Environment, cfg: ApiServerConfig, rng: np.random.Generator,
                 fair_queuing: bool = True):
        self.env = env
        self.rng = rng
        self._latency = compile_dist(cfg.requestLatency)
        self._watch = compile_dist(cfg.watchDelay)
        self._dispatch_s = cfg.dispatchPerWatcherMs / 1000.0 * (cfg.unfilteredWatchers + 1)
        self._dispatch_free = 0.0
        self._cpu_s = cfg.requestCpuMs / 1000.0
        self.cpu = FluidShare(env, cfg.cpuCores, per_job_cap=1.0, name="apiserver-cpu")
        # FIFO seats granted as a simpy.Resource grants them, without events for a free seat
        # or a release nobody waits for (runtime/locks.py)
        self._seats = HopLock(env, capacity=cfg.maxInflight)
        self._fair = fair_queuing
        self.requests = 0
        self.rejected = 0  # 429 answers (before priority and fairness)

    @property
    def inflight(self) -> int:
        return self._seats.holders

    def request(self, client: TokenBucket, on_token: Optional[Callable[[], None]] = None):
        """One API request through a client's rate limiter (GET, PATCH, POST...); ``on_token``
        is called when the client's limiter let it through (the start-up ledger)."""
        yield from client.wait()
        if on_token is not None:
            on_token()
        if not self._fair:
            while self._seats.holders >= self._seats.capacity:
                self.rejected += 1
                yield self.env.timeout(RETRY_AFTER_S)
                yield from client.wait()
        self.requests += 1
        seat = self._seats.request()
        try:
            yield seat
            if self._cpu_s > 0:
                yield self.cpu.run(self._cpu_s, "apiserver")
            yield self.env.timeout(self._latency(self.rng))
        finally:
            self._seats.release(seat)

    def watch_delay(self) -> float:
        """Delivery delay of one pod event: a FIFO dispatch to its watchers, then transit."""
        now = self.env.now
        start = max(now, self._dispatch_free)
        self._dispatch_free = start + self._dispatch_s
        return self._dispatch_free - now + self._watch(self.rng)
