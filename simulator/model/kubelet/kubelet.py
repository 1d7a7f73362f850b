"""The kubelet: its components built and wired in one place (pkg/kubelet/kubelet.go
``NewMainKubelet``), and ``syncPod``, the glue a pod worker calls.

Each component owns its SimPy processes and lives in a module named after the upstream package
it models:

============================  ======================================================================
``sync_loop``                 syncLoop: admission one pod at a time, runtime health gating dispatch
``pod_workers``               one worker per pod, coalesced updates, periodic resyncs
``pod_cache``                 the pod cache PLEG fills and workers wait on (GetNewerThan)
``pleg``                      the generic PLEG: relist every 1 s, GetPodStatus, health
``kuberuntime``               SyncPod's CRI sequence, sandbox retries, container restarts, killPod
``cri_client``                the CRI client: deadlines, the runtime side running on after them
``image_manager``             EnsureImageExists, the pull throttle and back-off, serial/parallel puller
``volume_manager``            volume set-up (TokenRequest) and WaitForAttachAndMount
``status_manager``            status versions sent as GET + PATCH through the API client
``housekeeping``              container GC and cAdvisor
``termination``               syncTerminatingPod / syncTerminatedPod
``backoff``, ``sync_result``  client-go's per-key back-off; how a sync reports an error
============================  ======================================================================

``shutdown`` and ``boot`` are the kubelet process dying and a new one starting (a node reboot,
``model/node/reboot.py``). What dies: every pod worker wherever it is (a sync, a kill, a wait for
the cache), admissions in progress, the PLEG relist loop, the work the syncLoop held back; the
node is NotReady. What the new kubelet knows: nothing in memory (an empty pod cache and PLEG, so
its first relist inspects every pod; no CrashLoopBackOff or image pull back-off entries, which
client-go keeps in memory), the pods bound to the node, admitted again oldest first
(HandlePodAdditions sorts them by creation time) with their volumes mounted again (a projected
token lives on a tmpfs: a new TokenRequest) and a first sync each. The kubelet's periodic loops
that keep no per-pod state (node status and lease, runtime status, cAdvisor, housekeeping,
eviction, the container GC, the image list, the status manager) run on across the restart in the
model: their calls fail while the runtime is down, and they keep their phase (a real restart
re-phases them and re-posts every pod's status).

Components talk through small interfaces: the pod cache, the status manager's
``set_pod_status``, the CRI client's ``call``, callbacks handed over here (``update_pod``,
``poke``, ``dispatch``), never through the Kubelet object itself.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable, Optional

from ...config.streams import streaming_mode
from ...config.logging import quantity_bytes
from ...config.versions import profile
from ..attribution import KUBELET, PLEG, charge, run_cpu
from ..control.ratelimit import TokenBucket
from ..logs import LogPipeline, scenario_has_logs
from .cri_client import CRIClient
from .eviction import EvictionManager
from .housekeeping import CAdvisor, ContainerGC, ContainerLogManager, PodCleanups
from .image_manager import ImageManager
from .kuberuntime import RuntimeManager
from .node_status import NodeStatusUpdater, RuntimeStatusPoller
from .pleg import GenericPLEG
from .pod_cache import PodCache
from .pod_workers import SYNC_TICK_S, WORKER_JITTER, PodWorkers
from .status_manager import StatusManager
from .streaming import KubeletStreaming
from .sync_loop import RuntimeState, SyncLoop
from .sync_result import SyncError
from .background import closed_form, closed_form_resyncs
from .backoff import BACKOFF_INITIAL_S, BACKOFF_MAX_S, Backoff
from .termination import Termination, kill_not_found_is_success
from .volume_manager import VolumeManager

if TYPE_CHECKING:
    import numpy as np

    from ..control.apiserver import ApiServer
    from ..node.node import Node
    from ..state import PodState

__all__ = ["Kubelet"]


class Kubelet:
    def __init__(self, node: "Node", api: "ApiServer", rng: "np.random.Generator",
                 on_deleted: Optional[Callable[["PodState"], None]] = None):
        env = node.env
        cfg = node.scenario.kubelet
        self.node = node
        self.env = env
        self.pods = node.new_pod_list()  # admitted and not yet deleted, in admission order
        # the kubelet's API client: kubeAPIQPS / kubeAPIBurst (facts §1.10)
        # (the scenario filled in the release's defaults: config/versions.py)
        assert cfg.kubeAPIQPS is not None and cfg.kubeAPIBurst is not None
        self.client = TokenBucket(env, cfg.kubeAPIQPS, cfg.kubeAPIBurst)
        server = next(s.process for s in node.chain.operations["run_podsandbox"].steps
                      if s.transport == "grpc")
        self.cache = PodCache(env)
        self.cri = CRIClient(env, node.interpreter, node.recorder, cfg, server, self.poke)
        self.images = ImageManager(env, cfg, self.cri, node.images)
        self.gc = ContainerGC(env, node, self.cri, rng)
        self.runtime = RuntimeManager(env, node, cfg, self.cri, self.images, self.gc, self.poke,
                                      not_found_is_success=kill_not_found_is_success(node.scenario))
        release = profile(node.scenario.kubernetesVersion)
        self.status = StatusManager(env, api, self.client, node.observed_running, node.cpu,
                                    coalescing=release["statusCoalescing"],
                                    batch_per_pod_ms=node.scenario.kubeletCosts.statusBatchPerPodMs,
                                    closed_form=closed_form(node))
        self.volumes = VolumeManager(env, api, self.client, rng,
                                     token_volume=release["serviceAccountVolume"],
                                     secret_strategy=release["secretStrategy"],
                                     docker_socket=lambda: node.docker_socket)
        self.state = RuntimeState(env, node)
        self.runtime_status = RuntimeStatusPoller(env, node, self.cri, rng)
        self.pleg = GenericPLEG(env, node, self.cri, self.cache, self.pods, rng,
                                on_pod_changed=lambda pod: self.workers.update_pod(pod, PLEG),
                                on_unhealthy=self.state.pleg_unhealthy)
        self.cache.relister = self.pleg
        self.state.add_health_check(self.pleg.healthy)
        self.state.add_health_check(self.runtime_status.runtime_up)
        self.termination = Termination(env, node, api, self.client, self.runtime, self.pods,
                                       self.pleg, self.cache, on_deleted)
        self.workers = PodWorkers(env, cfg, self.cache, rng, self.state.dispatch,
                                  self.sync_pod, self.termination.terminate,
                                  on_kill_retry=self.termination.retry_scheduled,
                                  resting=closed_form_resyncs(node, release, SYNC_TICK_S, WORKER_JITTER))
        self.sync_loop = SyncLoop(env, node, cfg, self.pods, self.state, self.pleg, self.workers,
                                  self.volumes, self.termination, self.poke)
        streams = node.scenario.streams  # exec/attach/port-forward/logs endpoints (streaming.py)
        self.streaming = (KubeletStreaming(env, node, self.cri, streams, streaming_mode(
            node.scenario.kubernetesVersion, streams.redirectContainerStreaming)) if streams else None)
        if node.chain.logs is not None and scenario_has_logs(node.scenario):
            node.logs = LogPipeline(node)  # container logs (model/logs), off otherwise
            node.logs.start()
        # CRI log rotation: remote runtimes, from 1.11, unless containerLogMaxSize is negative
        log_manager = (release["logRotation"] and node.chain.family != "dockershim"
                       and quantity_bytes(cfg.containerLogMaxSize) >= 0)
        # start the long-running loops (the order fixes SimPy's tie-breaking at time zero)
        self.images.start()
        self.pleg.start()
        self.status.start()
        if node.probed:
            # The background work that grows with the pods on the node: it competes with pod
            # start-up for the node's CPU and the runtime's locks, and it is the steady-state
            # CPU the resource figures report. On nodes whose resources are not sampled (large
            # clusters) it is left out for speed: a few per cent of a core each.
            CAdvisor(env, node, rng).start()
            self.runtime_status.start()
            NodeStatusUpdater(env, node, self.cri, rng, api, self.client,
                              heartbeat=(TokenBucket(env, 0, 1) if release["heartbeatClient"] else None),
                              report_every_s=release["nodeStatusReportSeconds"],
                              lease=release["nodeLease"]).start()
            EvictionManager(env, node, self.cri, rng, cri_stats=node.chain.criStats,
                            etc_hosts_fork=release["etcHostsUsageFork"]).start()
            PodCleanups(env, node, self.cri, rng, mode=release["housekeepingLists"]).start()
            if log_manager:
                ContainerLogManager(env, node, self.cri, rng).start()
            self.volumes.start_loops(self.pods, node.cpu, lambda: node.retired,
                                     node.scenario.kubeletCosts.volumeLoopPerPodMs)
            self.images.start_list_loop(rng)
            self.gc.lists = True
        elif log_manager and node.logs is not None:  # chatty containers need their rotation
            ContainerLogManager(env, node, self.cri, rng).start()
        self.gc.start()

    # ------------------------------------------------------------------ seen from outside
    def pod_seen(self, pod: "PodState") -> None:
        """The apiserver watch delivered a pod bound to this node."""
        self.sync_loop.pod_seen(pod)

    def pod_deleted(self, pod: "PodState") -> None:
        """The watch delivered the pod's deletion."""
        self.sync_loop.pod_deleted(pod)

    def poke(self) -> None:
        """Something on the node changed: PLEG stays awake (and counts are refreshed)."""
        self.pleg.poke()

    def shutdown(self, reason: str) -> None:
        """The kubelet process dies (a reboot): its goroutines end where they are."""
        self.sync_loop.stop()
        self.workers.stop_all()
        self.pleg.halt()
        self.state.down(reason)

    def boot(self) -> None:
        """A new kubelet process: empty memory, its pods listed and admitted again."""
        self.cache.reset()
        self.pleg.reset()
        self.runtime_status.restart()
        self.runtime.crash_backoff = Backoff(BACKOFF_INITIAL_S, BACKOFF_MAX_S)
        self.images.backoff = Backoff(BACKOFF_INITIAL_S, BACKOFF_MAX_S)
        del self.pods[:]
        self.state.start()
        self.sync_loop.readmit()

    def settle_background(self) -> None:
        """Charge the background work skipped in closed form so far (the node's CPU totals then
        include it; only sampled nodes report them, where nothing is skipped)."""
        if self.workers.resting is not None:
            self.workers.resting.settle()
        self.status.settle()

    @property
    def relist_durations(self) -> list[tuple[float, float]]:
        return self.pleg.relist_durations

    def queue_lengths(self) -> list[tuple[str, int]]:
        return [("image-puller", self.images.queue_length()),
                ("status-manager", self.status.queue_length()),
                ("kube-api-client", self.client.waiting)]

    # ------------------------------------------------------------------ syncPod
    def sync_pod(self, pod: "PodState", first: bool):
        """kubelet.go syncPod: status from the PLEG cache; refuse a pod that needs a pod network
        while the runtime's network is not ready; on the first sync the pod's cgroup, data dirs
        and WaitForAttachAndMount; then the runtime's SyncPod (facts §1.3)."""
        env, node = self.env, self.node
        pod.syncs += 1
        costs = node.scenario.kubeletCosts  # ms
        yield from run_cpu(node.cpu, pod, costs.syncMs / 1000.0, "kubelet")
        cached = self.cache.get(pod)
        self.status.set_pod_status(pod, cached)
        try:
            if node.network_error is not None and not pod.spec.hostNetwork:
                # kubelet.go syncPod: runtimeState.networkErrors() -> NetworkNotReady event,
                # "network is not ready: ..." returned before any runtime call
                raise SyncError(node.network_hop, f"network is not ready: {node.network_error}")
            if not pod.setup_done:
                yield from run_cpu(node.cpu, pod, costs.podSetupMs / 2000.0, "kubelet")
                yield env.timeout(costs.podSetupMs / 2000.0)
                charge(pod, KUBELET, costs.podSetupMs / 2000.0)
                yield from self.volumes.wait_for_attach_and_mount(pod)
                pod.setup_done = True
            else:
                self.volumes.remount(pod)
        except SyncError as e:
            pod.last_sync_error = (e.hop, e.reason)
            node.recorder.event(env.now, pod.name, "SyncError", e.reason, hop=e.hop)
            return e
        error: Optional[SyncError] = yield from self.runtime.sync_pod(pod, cached)
        return error
