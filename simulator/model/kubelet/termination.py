"""Pod termination (pkg/kubelet/kubelet.go ``syncTerminatingPod``, ``syncTerminatedPod``).

A pod whose deletion the watch delivered is killed (``kuberuntime.RuntimeManager.kill_pod``:
containers stopped with their grace period, then the sandbox and its network); then its final
status (GET + PATCH) and the DELETE with grace period 0 go through the kubelet's API client,
and the pod leaves the node.

A kill that fails returns its error to the pod worker, which requeues the pod after the error
back-off (10 s x jitter 0.5, pod_workers.go ``completeWork``) and, on the next pass, waits for a
newer PLEG relist (``GetNewerThan``) before calling ``syncTerminatingPod`` again. An error that
never goes away (facts §6: "No such container", a CNI DEL that keeps failing, a shim that no
longer answers) repeats every 10-15 s for as long as it lasts: the pod stays Terminating, counts
against ``maxPods`` and holds what was not released (its IP, its containers and shim).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable, Optional

import simpy

from ...config.versions import profile
from ..runtime.context import HopFailure
from .sync_result import SyncError

if TYPE_CHECKING:
    from ...config import Scenario
    from ..control.apiserver import ApiServer
    from ..control.ratelimit import TokenBucket
    from ..node.node import Node
    from ..state import PodState
    from .kuberuntime import RuntimeManager
    from .pleg import GenericPLEG
    from .pod_cache import PodCache

__all__ = ["Termination", "kill_not_found_is_success"]


def kill_not_found_is_success(scenario: "Scenario") -> bool:
    """Whether the kubelet's kill path treats a CRI NotFound as success: as its release does
    (PR #107670, config/versions.py ``criNotFoundIsSuccess``), unless a ``stopError`` fault
    sets ``notFoundIsSuccess`` (the fixed or the unfixed kubelet, to compare)."""
    for f in scenario.faults:
        if f.kind == "stopError" and f.notFoundIsSuccess is not None:
            return f.notFoundIsSuccess
    return bool(profile(scenario.kubernetesVersion)["criNotFoundIsSuccess"])


class Termination:
    def __init__(self, env: simpy.Environment, node: "Node", api: "ApiServer", client: "TokenBucket",
                 runtime: "RuntimeManager", pods: list["PodState"], pleg: "GenericPLEG",
                 cache: "PodCache", on_deleted: Optional[Callable[["PodState"], None]]):
        self.env = env
        self.node = node
        self.api = api
        self.client = client
        self.runtime = runtime
        self.pods = pods
        self.pleg = pleg
        self.cache = cache
        self.on_deleted = on_deleted
        self.forgotten: Optional[Callable[["PodState"], None]] = None  # the syncLoop's pod list

    def terminate(self, pod: "PodState"):
        """syncTerminatingPod + syncTerminatedPod: kill, post the final status, DELETE.
        Returns None, or the kill's error for the pod worker to retry after its back-off."""
        if pod.terminating_since is None:
            pod.terminating_since = self.env.now
        try:
            yield from self.runtime.kill_pod(pod)
        except HopFailure as f:
            pod.last_sync_error = (f.hop, f.reason)
            pod.kill_failures += 1
            self.node.recorder.event(self.env.now, pod.name, "KillPodError", f.reason, hop=f.hop)
            return SyncError(f.hop, f.reason)
        pod.terminated = True
        yield from self.api.request(self.client)  # GET
        yield from self.api.request(self.client)  # PATCH final status
        yield from self.api.request(self.client)  # DELETE (grace period 0)
        self.finish_deleted(pod)
        return None

    def retry_scheduled(self, pod: "PodState", delay: float) -> None:
        """The pod worker requeued a failed kill (completeWork: the error back-off)."""
        self.node.recorder.event(self.env.now, pod.name, "KillPodBackOff", f"retry after {delay:.6f}s",
                                 hop=pod.last_sync_error[0] if pod.last_sync_error else "")

    def finish_deleted(self, pod: "PodState") -> None:
        pod.terminated = True
        pod.deleted = self.env.now
        if pod in self.pods:
            self.pods.remove(pod)
            self.pleg.forget(pod)
            self.cache.remove(pod)
        if self.forgotten is not None:
            self.forgotten(pod)
        self.node.recorder.event(self.env.now, pod.name, "Deleted")
        if self.on_deleted is not None:
            self.on_deleted(pod)
