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
# ASSUMPTION: ~1 ms of kubelet CPU per summary plus ~50 us per container (copying and
# aggregating each container's stats into the summary, computing the eviction signals).
SUMMARY_CPU_BASE_S = 0.001
SUMMARY_CPU_PER_CONTAINER_S = 50e-6
# ASSUMPTION: a fork + exec of a small coreutils binary costs ~2 ms of CPU (kernel fork/exec,
# dynamic loading); 1.20-1.21 ran two (du, find) per pod per summary.
FORK_EXEC_CPU_S = 0.002
# ASSUMPTION: the in-process walk of one small etc-hosts directory, ~20 us.
ETC_HOSTS_WALK_CPU_S = 20e-6


class EvictionManager:
    def __init__(self, env: simpy.Environment, node: "Node", cri: "CRIClient", rng: "np.random.Generator",
                 cri_stats: bool, etc_hosts_fork: bool = False):
        self.env = env
        self.node = node
        self.cri = cri
        self.rng = rng
        self.cri_stats = cri_stats
        self.etc_hosts_cpu = 2 * FORK_EXEC_CPU_S if etc_hosts_fork else ETC_HOSTS_WALK_CPU_S

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
            yield node.cpu.run(SUMMARY_CPU_BASE_S + SUMMARY_CPU_PER_CONTAINER_S * n_containers
                               + self.etc_hosts_cpu * n_pods, "kubelet")
