"""The control plane as a node sees it: rate limiters, the apiserver, the scheduler.

* ``TokenBucket`` is client-go's token-bucket rate limiter (golang.org/x/time/rate): ``wait``
  reserves a token and sleeps until it is due (the kubelet's API client, facts §1.10);
  ``try_accept`` takes one only if available, else fails at once (the image-pull throttle,
  facts §1.5 ``throttleImagePulling``: "pull QPS exceeded").
* ``ApiServer``: request latency and watch delivery (DESIGN.md; values in ``ApiServerConfig``).
* ``Scheduler``: one pod at a time, binding through its own rate-limited client.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import simpy

from ..config import ApiServerConfig, SchedulerConfig
from .dist import compile_dist

__all__ = ["TokenBucket", "ApiServer", "Scheduler"]


class TokenBucket:
    """qps tokens per second, at most ``burst`` stored; starts full (rate.NewLimiter)."""

    def __init__(self, env: simpy.Environment, qps: float, burst: int):
        self.env = env
        self.qps = float(qps)
        self.burst = max(int(burst), 1)
        self.tokens = float(self.burst)
        self.last = env.now
        self.waiting = 0

    @property
    def unlimited(self) -> bool:
        return self.qps <= 0

    def _refill(self) -> None:
        now = self.env.now
        self.tokens = min(self.burst, self.tokens + (now - self.last) * self.qps)
        self.last = now

    def reserve(self) -> float:
        """Take a token (possibly into debt) and return how long to wait for it."""
        if self.unlimited:
            return 0.0
        self._refill()
        self.tokens -= 1.0
        return 0.0 if self.tokens >= 0 else -self.tokens / self.qps

    def wait(self):
        delay = self.reserve()
        if delay > 0:
            self.waiting += 1
            yield self.env.timeout(delay)
            self.waiting -= 1

    def try_accept(self) -> bool:
        if self.unlimited:
            return True
        self._refill()
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False


class ApiServer:
    def __init__(self, env: simpy.Environment, cfg: ApiServerConfig, rng: np.random.Generator):
        self.env = env
        self.rng = rng
        self._latency = compile_dist(cfg.requestLatency)
        self._watch = compile_dist(cfg.watchDelay)
        self.requests = 0

    def request(self, client: TokenBucket):
        """One API request through a client's rate limiter (GET, PATCH, POST...)."""
        yield from client.wait()
        self.requests += 1
        yield self.env.timeout(self._latency(self.rng))

    def watch_delay(self) -> float:
        return self._watch(self.rng)


class Scheduler:
    """kube-scheduler: pops pods one at a time, runs a scheduling cycle, binds via the API."""

    def __init__(self, env: simpy.Environment, cfg: SchedulerConfig, api: ApiServer,
                 rng: np.random.Generator, on_bound: Callable):
        self.env = env
        self.api = api
        self.rng = rng
        self.on_bound = on_bound
        self._cycle = compile_dist(cfg.cycle)
        self.client = TokenBucket(env, cfg.clientQPS, cfg.clientBurst)
        self.queue: simpy.Store = simpy.Store(env)
        env.process(self._run())

    def submit(self, pod) -> None:
        self.queue.put(pod)

    def _run(self):
        while True:
            pod = yield self.queue.get()
            yield self.env.timeout(self._cycle(self.rng))
            yield from self.api.request(self.client)  # POST pods/binding
            pod.scheduled = self.env.now
            self.on_bound(pod)
