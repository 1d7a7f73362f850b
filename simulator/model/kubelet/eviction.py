"""The eviction manager's monitoring pass and the stats it reads (pkg/kubelet/eviction/
eviction_manager.go ``synchronize``, pkg/kubelet/stats/).

Every ``evictionMonitoringPeriod`` (10 s) the eviction manager asks the summary provider for
node and pod stats. Where they come from depends on the runtime (``chain.criStats``,
kubelet ``UsingLegacyCadvisorStats``): for Docker and CRI-O the kubelet's own cAdvisor (the
cgroup stats ``housekeeping.CAdvisor`` keeps), for containerd the CRI stats provider, which
asks the runtime: ``ListPodSandbox``, ``ListContainers``, ``ListContainerStats`` (the runtime
asks every container's shim for its cgroup metrics) and ``ImageFsInfo``. Either way the kubelet
assembles a summary per pod and container: CPU that grows with what runs on the node.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import simpy

from ..runtime.context import CallContext, HopFailure

if TYPE_CHECKING:
    import numpy as np

    from ..node.node import Node
    from .cri_client import CRIClient

__all__ = ["EvictionManager", "EVICTION_MONITORING_PERIOD_S"]

# eviction_manager.go Start: evictionMonitoringPeriod = 10 s (kubelet.go), all releases.
EVICTION_MONITORING_PERIOD_S = 10.0
# ASSUMPTION: ~1 ms of kubelet CPU per summary plus ~50 us per container (copying and
# aggregating each container's stats into the summary, computing the eviction signals).
SUMMARY_CPU_BASE_S = 0.001
SUMMARY_CPU_PER_CONTAINER_S = 50e-6


class EvictionManager:
    def __init__(self, env: simpy.Environment, node: "Node", cri: "CRIClient", rng: "np.random.Generator",
                 cri_stats: bool):
        self.env = env
        self.node = node
        self.cri = cri
        self.rng = rng
        self.cri_stats = cri_stats

    def start(self) -> None:
        self.env.process(self._run())

    def _run(self):
        env, node = self.env, self.node
        while not node.retired:
            yield env.timeout(EVICTION_MONITORING_PERIOD_S)
            if self.cri_stats:
                ctx = CallContext(None, self.rng, "stats", unfiltered=True)
                try:
                    for op in ("list_podsandbox", "list_containers", "list_container_stats", "image_fs_info"):
                        yield from self.cri.call(op, ctx)
                except HopFailure:
                    continue
            n = node.count("containers")
            yield node.cpu.run(SUMMARY_CPU_BASE_S + SUMMARY_CPU_PER_CONTAINER_S * n, "kubelet")
