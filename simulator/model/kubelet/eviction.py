"""The eviction manager's monitoring pass and the stats it reads (pkg/kubelet/eviction/
eviction_manager.go ``synchronize``, pkg/kubelet/stats/), docs/model/background-loops.md.

Every ``evictionMonitoringPeriod`` (10 s, sliding) the eviction manager asks the summary
provider for node and pod stats. Where they come from depends on the runtime (``chain.criStats``,
kubelet ``UsingLegacyCadvisorStats``, version-profiles.md rows 19-21):

* the cAdvisor ("legacy") provider, for the in-tree dockershim and for CRI-O: container stats
  from the kubelet's own cAdvisor, image filesystem stats from the runtime's ``ListImages``;
* the CRI provider, for containerd (and cri-dockerd): ``ListContainers``, ``ListPodSandbox``,
  ``ListContainerStats`` (the runtime reads every container's cgroup stats) and ``ImageFsInfo``.

Either way the kubelet assembles a summary per pod and container, and in 1.20-1.21 it measured
each pod's ``etc-hosts`` file by forking ``nice du`` and ``find`` (host_stats_provider.go; an
in-process walk from 1.22): CPU that grows with what runs on the node.
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


class EvictionManager:
    def __init__(self, env: simpy.Environment, node: "Node", cri: "CRIClient", rng: "np.random.Generator",
                 cri_stats: bool, etc_hosts_fork: bool = False):
        self.env = env
        self.node = node
        self.cri = cri
        self.rng = rng
        self.cri_stats = cri_stats
        costs = node.scenario.kubeletCosts  # ms
        self.base_s = costs.summaryBaseMs / 1000.0
        self.per_container_s = costs.summaryPerContainerMs / 1000.0
        self.etc_hosts_s = (2 * costs.forkExecMs if etc_hosts_fork else costs.etcHostsWalkMs) / 1000.0

    def start(self) -> None:
        self.env.process(self._run())

    def _run(self):
        env, node = self.env, self.node
        ops = (("list_containers", "list_podsandbox", "list_container_stats", "image_fs_info")
               if self.cri_stats else ("list_images",))
        while not node.retired:
            yield env.timeout(EVICTION_MONITORING_PERIOD_S)
            ctx = CallContext(None, self.rng, "stats", unfiltered=True)
            try:
                for op in ops:
                    yield from self.cri.call(op, ctx)
            except HopFailure:
                continue
            n_containers = node.count("containers")
            n_pods = len(node.kubelet.pods)
            yield node.cpu.run(self.base_s + self.per_container_s * n_containers
                               + self.etc_hosts_s * n_pods, "kubelet")
