"""The apiserver as its clients see it: request latency behind each client's own rate limiter,
and watch delivery (a FIFO dispatch to the watchers, then transit). Values in
``ApiServerConfig`` (DESIGN.md "Control plane").
"""

from __future__ import annotations

import numpy as np
import simpy

from ...config import ApiServerConfig
from ..dist import compile_dist
from .ratelimit import TokenBucket

__all__ = ["ApiServer"]


class ApiServer:
    def __init__(self, env: simpy.Environment, cfg: ApiServerConfig, rng: np.random.Generator):
        self.env = env
        self.rng = rng
        self._latency = compile_dist(cfg.requestLatency)
        self._watch = compile_dist(cfg.watchDelay)
        self._dispatch_s = cfg.dispatchPerWatcherMs / 1000.0 * (cfg.unfilteredWatchers + 1)
        self._dispatch_free = 0.0
        self.requests = 0

    def request(self, client: TokenBucket):
        """One API request through a client's rate limiter (GET, PATCH, POST...)."""
        yield from client.wait()
        self.requests += 1
        yield self.env.timeout(self._latency(self.rng))

    def watch_delay(self) -> float:
        """Delivery delay of one pod event: a FIFO dispatch to its watchers, then transit."""
        now = self.env.now
        start = max(now, self._dispatch_free)
        self._dispatch_free = start + self._dispatch_s
        return self._dispatch_free - now + self._watch(self.rng)
