"""The kubelet's periodic housekeeping that pod start-up competes with.

* **Container GC** (pkg/kubelet/kuberuntime/kuberuntime_gc.go, run every ``ContainerGCPeriod``
  = 1 min from kubelet.go): dead containers and sandboxes are removed through the chain
  (``RemoveContainer``, ``RemovePodSandbox``); a removal that fails is retried on the next pass.
* **cAdvisor** (pkg/kubelet/cadvisor): re-reads every container's cgroup statistics each
  housekeeping interval, the kubelet's steady-state CPU once pods run.
* **Pod cleanups** (kubelet.go ``syncLoop``: the 2 s ``housekeepingTicker`` ->
  ``HandlePodCleanups``): the running pods from the runtime cache, which is older than its 2 s
  TTL by then, so a ``ListPodSandbox`` + ``ListContainers`` of the running ones through the
  chain (kuberuntime ``GetPods(false)``), then a pass over every pod the kubelet knows.
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

__all__ = ["ContainerGC", "CAdvisor", "PodCleanups", "Garbage"]

# Kubelet container GC period: 1 min (pkg/kubelet/kubelet.go ContainerGCPeriod).
CONTAINER_GC_PERIOD_S = 60.0
# cAdvisor inside the kubelet re-reads every container's cgroup stats each housekeeping
# interval: 10 s (pkg/kubelet/cadvisor/cadvisor_linux.go defaultHousekeepingInterval).
# ASSUMPTION: ~1 ms of CPU per container per pass (a dozen cgroupfs reads and parsing).
CADVISOR_HOUSEKEEPING_S = 10.0
CADVISOR_CPU_PER_CONTAINER_S = 0.001

# kubelet.go: housekeepingPeriod = 2 s; the runtime cache's TTL is 2 s too (runtimeCacheRefreshPeriod).
HOUSEKEEPING_PERIOD_S = 2.0
# ASSUMPTION: ~20 us of kubelet CPU per pod per cleanup pass (comparing desired and running
# pods, orphaned volumes and cgroups, probe workers).
CLEANUP_CPU_PER_POD_S = 20e-6

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
            if not self.garbage:
                self._wake = env.event()
                yield self._wake
            # the GC runs on its 1-minute tick
            yield env.timeout(CONTAINER_GC_PERIOD_S - env.now % CONTAINER_GC_PERIOD_S)
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
                yield node.cpu.run(CADVISOR_CPU_PER_CONTAINER_S * n, "kubelet")
            yield env.timeout(CADVISOR_HOUSEKEEPING_S)


class PodCleanups:
    def __init__(self, env: simpy.Environment, node: "Node", cri: "CRIClient", rng: "np.random.Generator"):
        self.env = env
        self.node = node
        self.cri = cri
        self.rng = rng

    def start(self) -> None:
        self.env.process(self._run())

    def _run(self):
        """HandlePodCleanups every 2 s: the runtime's running pods, then every known pod."""
        env, node = self.env, self.node
        while not node.retired:
            yield env.timeout(HOUSEKEEPING_PERIOD_S)
            ctx = CallContext(None, self.rng, "housekeeping")
            try:
                yield from self.cri.call("list_podsandbox", ctx)
                yield from self.cri.call("list_containers", ctx)
            except HopFailure:
                continue
            n = len(node.kubelet.pods)
            if n:
                yield node.cpu.run(CLEANUP_CPU_PER_POD_S * n, "kubelet")
