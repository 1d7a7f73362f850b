"""Pod termination (pkg/kubelet/kubelet.go ``syncTerminatingPod``, ``syncTerminatedPod``).

A pod whose deletion the watch delivered is killed (``kuberuntime.RuntimeManager.kill_pod``:
containers stopped with their grace period, then the sandbox and its network); then its final
status (GET + PATCH) and the DELETE with grace period 0 go through the kubelet's API client,
and the pod leaves the node. A kill that fails is retried after the pod-worker error back-off.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable, Optional

import simpy

from ..clock import call_later
from ..runtime.context import HopFailure
from .pod_workers import SYNC_ERROR_BACKOFF_S

if TYPE_CHECKING:
    from ..control.apiserver import ApiServer
    from ..control.ratelimit import TokenBucket
    from ..node.node import Node
    from ..state import PodState
    from .kuberuntime import RuntimeManager
    from .pleg import GenericPLEG
    from .pod_cache import PodCache

__all__ = ["Termination"]


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

    def terminate(self, pod: "PodState"):
        """syncTerminatingPod + syncTerminatedPod: kill, post the final status, DELETE."""
        try:
            yield from self.runtime.kill_pod(pod)
        except HopFailure as f:
            pod.last_sync_error = (f.hop, f.reason)
            self.node.recorder.event(self.env.now, pod.name, "KillPodError", f.reason, hop=f.hop)
            call_later(self.env, SYNC_ERROR_BACKOFF_S, self._retry, pod)
            return
        pod.terminated = True
        yield from self.api.request(self.client)  # GET
        yield from self.api.request(self.client)  # PATCH final status
        yield from self.api.request(self.client)  # DELETE (grace period 0)
        self.finish_deleted(pod)

    def _retry(self, pod: "PodState") -> None:
        self.env.process(self.terminate(pod))

    def finish_deleted(self, pod: "PodState") -> None:
        pod.terminated = True
        pod.deleted = self.env.now
        if pod in self.pods:
            self.pods.remove(pod)
            self.pleg.forget(pod)
            self.cache.remove(pod)
        self.node.recorder.event(self.env.now, pod.name, "Deleted")
        if self.on_deleted is not None:
            self.on_deleted(pod)
