"""The kubelet's periodic housekeeping that pod start-up competes with.

* **Container GC** (pkg/kubelet/kuberuntime/kuberuntime_gc.go, run every ``ContainerGCPeriod``
  = 1 min from kubelet.go): dead containers and sandboxes are removed through the chain
  (``RemoveContainer``, ``RemovePodSandbox``); a removal that fails is retried on the next pass.
* **cAdvisor** (pkg/kubelet/cadvisor): re-reads every container's cgroup statistics each
  housekeeping interval, the kubelet's steady-state CPU once pods run.
* **Pod cleanups** (kubelet.go ``syncLoop``: the 2 s ``housekeepingTicker`` ->
  ``HandlePodCleanups``, kubelet_pods.go): until 1.26 a direct ``GetPods(false)``
  (``ListPodSandbox`` + ``ListContainers`` of the running ones, through the chain) and one
  through the runtime cache, which lists again when its entry is older than its 2 s TTL; from
  1.27 one forced refresh (PR #113145). Then a pass over every pod the kubelet knows.
* The container GC also lists, every minute, whether or not anything is dead: two
  ``ListContainers`` and a ``ListPodSandbox`` (kuberuntime_gc.go ``evictContainers``,
  ``evictSandboxes``; docs/model/background-loops.md).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Optional

import simpy

from ..runtime.context import CallContext, HopFailure

if TYPE_CHECKING:
    import numpy as np

    from ..node.node import Node
    from ..state import ContainerState, PodState
    from .cri_client import CRIClient

__all__ = ["ContainerGC", "CAdvisor", "PodCleanups", "ContainerLogManager", "Garbage"]

# Kubelet container GC period: 1 min (pkg/kubelet/kubelet.go ContainerGCPeriod).
CONTAINER_GC_PERIOD_S = 60.0
# cAdvisor inside the kubelet re-reads every container's cgroup stats each housekeeping
# interval: 10 s (pkg/kubelet/cadvisor/cadvisor_linux.go defaultHousekeepingInterval); its CPU
# per container is kubeletCosts.cadvisorPerContainerMs.
CADVISOR_HOUSEKEEPING_S = 10.0

# kubelet.go: housekeepingPeriod = 2 s; the runtime cache's TTL is 2 s too (runtimeCacheRefreshPeriod).
HOUSEKEEPING_PERIOD_S = 2.0
RUNTIME_CACHE_TTL_S = 2.0
# container_log_manager.go: monitoring period 10 s (containerLogMonitorInterval from 1.30).
LOG_ROTATION_PERIOD_S = 10.0

# (operation, pod, container or None for the sandbox, id)
Garbage = tuple[str, "PodState", Optional["ContainerState"], str]


class ContainerGC:
    def __init__(self, env: simpy.Environment, node: "Node", cri: "CRIClient", rng: "np.random.Generator"):
        self.env = env
        self.node = node
        self.cri = cri
        self.rng = rng
        self.garbage: list[Garbage] = []
        self._wake = env.event()
        self.lists = False  # list on every pass (sampled nodes); else wake only for garbage

    def start(self) -> None:
        self.env.process(self._run())

    def add(self, item: Garbage) -> None:
        """A dead container or sandbox for the next pass."""
        self.garbage.append(item)
        if not self._wake.triggered:
            self._wake.succeed()

    def _run(self):
        """Container GC every minute: remove dead containers and sandboxes (kubelet.go
        ContainerGCPeriod; kuberuntime_gc.go)."""
        env = self.env
        while not self.node.retired:
            if not self.garbage and not self.lists:
                self._wake = env.event()
                yield self._wake
            # the GC runs on its 1-minute tick
            yield env.timeout(CONTAINER_GC_PERIOD_S - env.now % CONTAINER_GC_PERIOD_S)
            if self.lists:  # every pass lists, dead or not
                ctx = CallContext(None, self.rng, "gc", unfiltered=True)
                try:
                    for op in ("list_containers", "list_containers", "list_podsandbox"):
                        yield from self.cri.call(op, ctx)
                except HopFailure:
                    pass
            items, self.garbage = self.garbage, []
            for op, pod, c, _id in items:
                ctx = CallContext(pod, self.rng, "gc", container=c)
                try:
                    yield from self.cri.call(op, ctx)
                    if c is not None and c in pod.old_instances:
                        pod.old_instances.remove(c)
                except HopFailure:
                    self.add((op, pod, c, _id))


class CAdvisor:
    def __init__(self, env: simpy.Environment, node: "Node", rng: "np.random.Generator"):
        self.env = env
        self.node = node
        self.rng = rng

    def start(self) -> None:
        self.env.process(self._run())

    def _run(self):
        """Periodic per-container stats collection: steady-state kubelet CPU once pods run."""
        env, node = self.env, self.node
        # Stagger the first pass like cAdvisor's per-container goroutines do.
        yield env.timeout(self.rng.uniform(0, CADVISOR_HOUSEKEEPING_S))
        while not node.retired:
            n = node.count("containers")
            if n:
                yield node.cpu.run(node.scenario.kubeletCosts.cadvisorPerContainerMs / 1000.0 * n, "kubelet")
            yield env.timeout(CADVISOR_HOUSEKEEPING_S)


class PodCleanups:
    def __init__(self, env: simpy.Environment, node: "Node", cri: "CRIClient", rng: "np.random.Generator",
                 mode: str = "direct+cached"):
        self.env = env
        self.node = node
        self.cri = cri
        self.rng = rng
        self.mode = mode  # "direct+cached" (<= 1.26) or "one" (1.27+)
        self._cache_time = -RUNTIME_CACHE_TTL_S  # when the runtime cache last listed

    def start(self) -> None:
        self.env.process(self._run())

    def _list(self):
        ctx = CallContext(None, self.rng, "housekeeping")
        yield from self.cri.call("list_podsandbox", ctx)
        yield from self.cri.call("list_containers", ctx)

    def _run(self):
        """HandlePodCleanups every 2 s: the runtime's running pods, then every known pod."""
        env, node = self.env, self.node
        while not node.retired:
            yield env.timeout(HOUSEKEEPING_PERIOD_S)
            try:
                if self.mode == "one":
                    yield from self._list()
                else:
                    yield from self._list()  # GetPods(false), direct
                    if env.now - self._cache_time > RUNTIME_CACHE_TTL_S:  # runtimeCache.GetPods
                        yield from self._list()
                        self._cache_time = env.now
            except HopFailure:
                continue
            n = len(node.kubelet.pods)
            if n:
                yield node.cpu.run(node.scenario.kubeletCosts.cleanupPerPodMs / 1000.0 * n, "kubelet")


class ContainerLogManager:
    """CRI container log rotation (pkg/kubelet/logs/container_log_manager.go ``rotateLogs``),
    for runtimes behind a remote CRI endpoint (not the in-tree dockershim), from 1.11: every
    10 s a ``ListContainers`` and a ``ContainerStatus`` for each running container, one at a
    time (``containerLogMaxWorkers`` 1), to find each log file and check its size; a file at or
    over ``containerLogMaxSize`` is rotated (``model/logs``: rename, ``ReopenContainerLog``)."""

    def __init__(self, env: simpy.Environment, node: "Node", cri: "CRIClient", rng: "np.random.Generator"):
        self.env = env
        self.node = node
        self.cri = cri
        self.rng = rng

    def start(self) -> None:
        self.env.process(self._run())

    def _run(self):
        env, node = self.env, self.node
        while not node.retired:
            yield env.timeout(LOG_ROTATION_PERIOD_S)
            try:
                yield from self.cri.call("list_containers", CallContext(None, self.rng, "logs"))
                for pod in list(node.kubelet.pods):
                    for c in list(pod.containers.values()):
                        if c.state == "running":
                            yield from self.cri.call("container_status",
                                                     CallContext(pod, self.rng, "logs", container=c))
                            if node.logs is not None:  # Stat, and rotate at containerLogMaxSize
                                yield from node.logs.kubelet_rotate(pod, c, self.cri, self.rng)
            except HopFailure:
                continue
