"""kube-scheduler: one pod at a time; filter (not cordoned: NodeUnschedulable; Ready: the
not-ready taint and TaintToleration; node selector; pods below maxPods), score for spreading
over the sample ``percentageOfNodesToScore`` asks for, bind through its own rate-limited client
without blocking the next cycle; unschedulable pods retry with back-off
(pkg/scheduler/schedule_one.go, pkg/scheduler/internal/queue). The filter and the choice run
over the nodes' state kept as arrays (node_table.py).
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import simpy

from ...config import SchedulerConfig
from ..clock import call_later
from ..dist import compile_dist
from .apiserver import ApiServer
from .node_table import NodeTable
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
                 rng: np.random.Generator, table: NodeTable, bind: Callable,
                 score_per_node_s: float = 0.0):
        self.env = env
        self.cfg = cfg
        self.api = api
        self.rng = rng
        self.table = table  # the nodes' filter state as arrays (node_table.py)
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

    def _select(self, pod) -> tuple:
        """Filter the active nodes from where the last cycle stopped, until
        ``feasible_nodes_to_find`` fit or all were checked; pick the fewest pods (the first
        checked on a tie). Returns (node or None, nodes checked, why none fits)."""
        t = self.table
        order = t.order
        n = len(order)
        start = self._next_start % n if n else 0
        idx = np.concatenate((order[start:], order[:start])) if start else order
        cordoned, ready, pods = t.cordoned[idx], t.ready[idx], t.pods[idx]
        room = pods < t.max_pods[idx]
        selector = pod.spec.nodeSelector
        match = t.matches(selector)[idx] if selector else None
        ok = ready & ~cordoned & room
        if match is not None:
            ok &= match
        fit = np.flatnonzero(ok)
        want = feasible_nodes_to_find(n)
        if len(fit) >= want > 0:
            fit = fit[:want]
            checked = int(fit[-1]) + 1
        else:
            checked = n
        self._next_start = (self._next_start + checked) % max(n, 1)
        if len(fit):
            return t.nodes[int(idx[fit[int(np.argmin(pods[fit]))]])], checked, ""
        up = ready & ~cordoned
        reasons = {"cordoned": int(cordoned.sum()), "notready": int((~ready & ~cordoned).sum()),
                   "selector": int((up & ~match).sum()) if match is not None else 0}
        reasons["pods"] = int((up & ~room).sum()) if match is None else int((up & match & ~room).sum())
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

    def _run(self):
        while True:
            pod = yield self.queue.get()
            if pod.deletion_requested is not None:
                continue
            node, checked, why = self._select(pod)
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
