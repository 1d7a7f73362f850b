"""Pod workers (pkg/kubelet/pod_workers.go), facts §1.2.

One worker per pod. ``UpdatePod`` delivers an update, or coalesces it with one already pending
while the worker is busy. Before each sync the worker blocks in the pod cache's
``GetNewerThan(uid, lastSyncTime)`` (``pod_cache.py``). A deleted pod is terminated instead of
synced. After a sync the worker requeues itself: 10 s x jitter after an error, ``syncFrequency``
x jitter otherwise (``wait.Jitter(d, 0.5)``); CrashLoopBackOff and ImagePullBackOff are not
errors (facts §1.3), so such a pod waits for its next periodic resync.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Generator, Optional

import simpy

from ..clock import call_later

if TYPE_CHECKING:
    import numpy as np

    from ...config import KubeletConfig
    from ..state import PodState
    from .pod_cache import PodCache
    from .sync_result import SyncError

__all__ = ["PodWorkers", "SYNC_ERROR_BACKOFF_S"]

# facts §0 / §1.2: pod-worker retry after a sync error, 10 s x jitter 0.5 (pod_workers.go
# completeWork: workerBackOffPeriod 10 s, workerResyncIntervalJitterFactor 0.5).
SYNC_ERROR_BACKOFF_S = 10.0
WORKER_JITTER = 0.5

SyncFn = Callable[["PodState", bool], Generator[Any, Any, Optional["SyncError"]]]
TerminateFn = Callable[["PodState"], Generator[Any, Any, None]]


class PodWorkers:
    def __init__(self, env: simpy.Environment, cfg: "KubeletConfig", cache: "PodCache",
                 rng: "np.random.Generator", dispatch: Callable[[Callable[[], None]], None],
                 sync_pod: SyncFn, terminate: TerminateFn):
        self.env = env
        self.cfg = cfg
        self.cache = cache
        self.rng = rng  # the kubelet's own stream (jitter)
        self._dispatch = dispatch  # the syncLoop's gate (held back while NotReady)
        self._sync_pod = sync_pod  # kubelet.go syncPod
        self._terminate = terminate  # syncTerminatingPod + syncTerminatedPod

    def add_pod(self, pod: "PodState") -> None:
        """Start the pod's worker goroutine (managePodLoop)."""
        self.env.process(self._worker(pod))

    def update_pod(self, pod: "PodState") -> None:
        """podWorkers.UpdatePod: deliver or coalesce an update (facts §1.2)."""
        if pod.failed or pod.terminated:
            return

        def deliver() -> None:
            pod.pending_update = True
            if pod.wake is not None and not pod.wake.triggered:
                pod.wake.succeed()

        self._dispatch(deliver)

    def _worker(self, pod: "PodState"):
        env = self.env
        last_sync: Optional[float] = None
        while not (pod.failed or pod.terminated):
            if not pod.pending_update:
                pod.wake = env.event()
                yield pod.wake
            pod.pending_update = False
            yield from self.cache.get_newer_than(last_sync)  # facts §1.2
            if pod.deletion_requested is not None:
                yield from self._terminate(pod)
                return
            error = yield from self._sync_pod(pod, last_sync is None)
            last_sync = env.now
            if pod.failed or pod.terminated:
                return
            if error is not None and error.returned:
                delay = SYNC_ERROR_BACKOFF_S
            else:
                delay = self.cfg.syncFrequency
            delay *= 1 + WORKER_JITTER * self.rng.random()  # wait.Jitter(d, 0.5)
            call_later(env, delay, self.update_pod, pod)
