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


def feasible_nodes_to_find(n: int) -> int:
    """kube-scheduler numFeasibleNodesToFind with the adaptive percentageOfNodesToScore:
    all nodes below 100, else max(5 %, 50 % - n/125 %) of them, at least 100."""
    if n < 100:
        return n
    pct = max(5.0, 50.0 - n / 125.0)
    return max(100, int(n * pct / 100))


class Scheduler:
    """kube-scheduler: pops pods one at a time, filters nodes (ready, not cordoned, labels match
    spec.nodeSelector, pods below maxPods), scores for spreading (fewest pods), binds through its
    own rate-limited client without blocking the next cycle; unschedulable pods retry with
    back-off."""

    def __init__(self, env: simpy.Environment, cfg: SchedulerConfig, api: ApiServer,
                 rng: np.random.Generator, nodes: Callable[[], list], bind: Callable,
                 score_per_node_s: float = 0.0):
        self.env = env
        self.cfg = cfg
        self.api = api
        self.rng = rng
        self.nodes = nodes
        self.bind = bind
        self.score_per_node_s = score_per_node_s
        self._cycle = compile_dist(cfg.cycle)
        self.client = TokenBucket(env, cfg.clientQPS, cfg.clientBurst)
        self.queue: simpy.Store = simpy.Store(env)
        self._next_start = 0
        self._attempts: dict[str, int] = {}
        env.process(self._run())

    def submit(self, pod) -> None:
        self.queue.put(pod)

    def _select(self, pod, nodes: list):
        n = len(nodes)
        want = feasible_nodes_to_find(n)
        found, checked = [], 0
        reasons = {"selector": 0, "pods": 0, "notready": 0}
        for k in range(n):
            node = nodes[(self._next_start + k) % n]
            checked += 1
            if not node.ready or node.cordoned:
                reasons["notready"] += 1
            elif any(node.labels.get(key) != v for key, v in pod.spec.nodeSelector.items()):
                reasons["selector"] += 1
            elif len(node.kubelet.pods) + node.bound >= node.scenario.kubelet.maxPods:
                reasons["pods"] += 1
            else:
                found.append((len(node.kubelet.pods) + node.bound, k, node))
                if len(found) >= want:
                    break
        self._next_start = (self._next_start + checked) % max(n, 1)
        if not found:
            parts = []
            if reasons["selector"]:
                parts.append(f"{reasons['selector']} node(s) didn't match Pod's node affinity/selector")
            if reasons["pods"]:
                parts.append(f"{reasons['pods']} Too many pods")
            if reasons["notready"]:
                parts.append(f"{reasons['notready']} node(s) were unschedulable or not ready")
            return None, checked, f"0/{n} nodes are available: " + ", ".join(parts)
        return min(found, key=lambda f: (f[0], f[1]))[2], checked, ""

    def _run(self):
        while True:
            pod = yield self.queue.get()
            if pod.deletion_requested is not None:
                continue
            nodes = self.nodes()
            node, checked, why = self._select(pod, nodes)
            yield self.env.timeout(self._cycle(self.rng) + checked * self.score_per_node_s)
            if node is None:
                k = self._attempts.get(pod.name, 0)
                self._attempts[pod.name] = k + 1
                pod.unschedulable = why
                delay = min(self.cfg.initialBackoffSeconds * 2**k, self.cfg.maxBackoffSeconds)
                self.env.timeout(delay).callbacks.append(lambda _e, p=pod: self.submit(p))
                continue
            pod.unschedulable = ""
            node.bound += 1
            self.env.process(self._bind(pod, node))

    def _bind(self, pod, node):
        yield from self.api.request(self.client)  # POST pods/binding
        pod.scheduled = self.env.now
        self.bind(pod, node)
