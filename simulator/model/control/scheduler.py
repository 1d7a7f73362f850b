"""kube-scheduler: one pod at a time; filter (not cordoned: NodeUnschedulable; Ready: the
not-ready taint and TaintToleration; node selector; pods below maxPods), score for spreading
over the sample ``percentageOfNodesToScore`` asks for, bind through its own rate-limited client
without blocking the next cycle; unschedulable pods retry with back-off
(pkg/scheduler/schedule_one.go, pkg/scheduler/internal/queue).
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import simpy

from ...config import SchedulerConfig
from ..clock import call_later
from ..dist import compile_dist
from .apiserver import ApiServer
from .ratelimit import TokenBucket

__all__ = ["Scheduler", "feasible_nodes_to_find"]


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
        reasons = {"selector": 0, "pods": 0, "notready": 0, "cordoned": 0}
        for k in range(n):
            node = nodes[(self._next_start + k) % n]
            checked += 1
            if node.cordoned:
                reasons["cordoned"] += 1
            elif not node.ready:
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
                # the node lifecycle controller's NoSchedule taint on a NotReady node
                # (TaintNodesByCondition), checked by the TaintToleration filter
                parts.append(f"{reasons['notready']} node(s) had taint {{node.kubernetes.io/not-ready: }}, "
                             "that the pod didn't tolerate")
            if reasons["cordoned"]:
                parts.append(f"{reasons['cordoned']} node(s) were unschedulable")
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
                # capped exponent, no overflow (kube-scheduler pkg/scheduler/internal/queue calculateBackoffDuration)
                delay = min(self.cfg.initialBackoffSeconds * 2.0 ** min(k, 1000), self.cfg.maxBackoffSeconds)
                call_later(self.env, delay, self.submit, pod)
                continue
            pod.unschedulable = ""
            node.bound += 1
            self.env.process(self._bind(pod, node))

    def _bind(self, pod, node):
        yield from self.api.request(self.client)  # POST pods/binding
        pod.scheduled = self.env.now
        self.bind(pod, node)
