"""Pod workers (pkg/kubelet/pod_workers.go), facts §1.2.

One worker per pod. ``UpdatePod`` delivers an update, or coalesces it with one already pending
while the worker is busy. Before each sync the worker blocks in the pod cache's
``GetNewerThan(uid, lastSyncTime)`` (``pod_cache.py``). A deleted pod is terminated instead of
synced. After a sync the worker requeues the pod in the kubelet's work queue: 10 s x jitter after an
error, ``syncFrequency`` x jitter otherwise (``wait.Jitter(d, 0.5)``, pod_workers.go
``completeWork``); CrashLoopBackOff and ImagePullBackOff are not errors (facts §1.3), so such a
pod waits for its next periodic resync.

The work queue (pkg/kubelet/util/queue/work_queue.go) holds **one due time per pod**:
``Enqueue`` overwrites it, so every sync, whatever started it, replaces the pending resync; the
syncLoop's 1 s ticker (kubelet.go ``syncLoop``: ``syncTicker``) takes the pods that are due
(``getPodsToSync`` -> ``GetWork``) and dispatches them. A running pod therefore resyncs about
once per ``syncFrequency`` x 1.25 on average, rounded up to the next tick.

A deleted pod is terminated instead of synced (``termination.py``); a kill that fails is
requeued after the same error back-off and tried again on the next pass, for as long as it
fails (1.22+ ``podWorkerLoop``: the worker stays in the terminating phase).

When the kubelet process dies (a node reboot, ``restart.py``) every worker goroutine dies with it,
wherever it is (``stop_all`` interrupts them); the restarted kubelet starts new ones.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Callable, Generator, Optional

import simpy

from ..attribution import KUBELET, RETRY, charge_wait
from ..clock import call_later

if TYPE_CHECKING:
    import numpy as np

    from ...config import KubeletConfig
    from ..state import PodState
    from .background import ClosedFormResyncs
    from .pod_cache import PodCache
    from .sync_result import SyncError

__all__ = ["PodWorkers", "PodWorkQueue", "SYNC_ERROR_BACKOFF_S", "SYNC_TICK_S", "WORKER_JITTER"]

# facts §0 / §1.2: pod-worker retry after a sync error, 10 s x jitter 0.5 (pod_workers.go
# completeWork: workerBackOffPeriod 10 s, workerResyncIntervalJitterFactor 0.5).
SYNC_ERROR_BACKOFF_S = 10.0
WORKER_JITTER = 0.5
# kubelet.go syncLoop: syncTicker := time.NewTicker(time.Second) drives getPodsToSync.
SYNC_TICK_S = 1.0

SyncFn = Callable[["PodState", bool], Generator[Any, Any, Optional["SyncError"]]]
TerminateFn = Callable[["PodState"], Generator[Any, Any, Optional["SyncError"]]]


class PodWorkQueue:
    """queue.WorkQueue: one due time per pod, overwritten by each ``enqueue``; the pods due are
    handed to ``on_due`` at the next tick of the syncLoop's 1 s ticker (started at ``t0``).

    One SimPy timer is pending per pod at most: a later due time moves the pod's deadline and
    the timer, when it fires, re-arms for it; an earlier one (an error back-off shorter than
    a pending resync) adds a timer and the superseded one is ignored when it fires."""

    def __init__(self, env: simpy.Environment, on_due: Callable[["PodState"], None]):
        self.env = env
        self.t0 = env.now
        self._on_due = on_due
        self._due: dict[str, float] = {}  # pod name -> due time
        self._armed: dict[str, float] = {}  # pod name -> tick its pending timer fires at

    def _tick_at_or_after(self, t: float) -> float:
        k = math.ceil((t - self.t0) / SYNC_TICK_S - 1e-9)
        return self.t0 + max(k, 0) * SYNC_TICK_S

    def enqueue(self, pod: "PodState", delay: float) -> None:
        due = self.env.now + delay
        self._due[pod.name] = due
        tick = self._tick_at_or_after(due)
        armed = self._armed.get(pod.name)
        if armed is None or tick < armed:
            self._arm(pod, tick)

    def _arm(self, pod: "PodState", tick: float) -> None:
        self._armed[pod.name] = tick
        call_later(self.env, tick - self.env.now, self._fire, pod, tick)

    def _fire(self, pod: "PodState", tick: float) -> None:
        if self._armed.get(pod.name) != tick:
            return  # superseded by an earlier timer
        del self._armed[pod.name]
        due = self._due.get(pod.name)
        if due is None:
            return
        if due > self.env.now + 1e-9:  # the due time moved later: wait for it
            self._arm(pod, self._tick_at_or_after(due))
            return
        del self._due[pod.name]
        self._on_due(pod)

    def forget(self, pod: "PodState") -> None:
        self._due.pop(pod.name, None)

    def clear(self) -> None:
        """The kubelet died: its work queue with it (pending timers find nothing)."""
        self._due.clear()
        self._armed.clear()


class PodWorkers:
    def __init__(self, env: simpy.Environment, cfg: "KubeletConfig", cache: "PodCache",
                 rng: "np.random.Generator", dispatch: Callable[[Callable[[], None]], None],
                 sync_pod: SyncFn, terminate: TerminateFn,
                 on_kill_retry: Optional[Callable[["PodState", float], None]] = None,
                 resting: Optional["ClosedFormResyncs"] = None):
        self.env = env
        self.cfg = cfg
        self.cache = cache
        self.rng = rng  # the kubelet's own stream (jitter)
        self._dispatch = dispatch  # the syncLoop's gate (held back while NotReady)
        self._sync_pod = sync_pod  # kubelet.go syncPod
        self._terminate = terminate  # syncTerminatingPod + syncTerminatedPod
        self._on_kill_retry = on_kill_retry
        # simulation.backgroundWork closed-form on an unsampled node: pods that run undisturbed
        # get no periodic resync, charged in closed form instead (background.py)
        self.resting = resting
        self.queue = PodWorkQueue(env, self.update_pod)
        self._procs: dict[str, simpy.Process] = {}
        self._woken_by: dict[str, str] = {}  # pod -> who delivered its pending update
        self._failed: set[str] = set()  # pods whose last sync returned an error

    def add_pod(self, pod: "PodState") -> None:
        """Start the pod's worker goroutine (managePodLoop)."""
        self._procs[pod.name] = self.env.process(self._goroutine(pod))

    def stop_all(self) -> None:
        """The kubelet process died: every worker goroutine ends where it is."""
        for proc in self._procs.values():
            if proc.is_alive:
                proc.interrupt("kubelet stopped")
        self._procs.clear()
        self.queue.clear()
        if self.resting is not None:
            self.resting.clear()

    def _goroutine(self, pod: "PodState"):
        try:
            yield from self._worker(pod)
        except simpy.Interrupt:
            return

    def update_pod(self, pod: "PodState", reason: str = KUBELET) -> None:
        """podWorkers.UpdatePod: deliver or coalesce an update (facts §1.2). ``reason``: who
        sent it (PLEG, or the kubelet's own loops), for the start-up ledger."""
        if pod.failed or pod.terminated:
            return

        def deliver() -> None:
            if not pod.pending_update:
                self._woken_by[pod.name] = reason
            pod.pending_update = True
            if pod.wake is not None and not pod.wake.triggered:
                pod.wake.succeed()

        self._dispatch(deliver)

    def _worker(self, pod: "PodState"):
        env = self.env
        last_sync: Optional[float] = None
        while not (pod.failed or pod.terminated):
            t_wait = env.now
            if not pod.pending_update:
                pod.wake = env.event()
                yield pod.wake
            if self.resting is not None:
                self.resting.wake(pod)
            pod.pending_update = False
            t_woken = env.now
            yield from self.cache.get_newer_than(last_sync)  # facts §1.2
            woken_by = self._woken_by.pop(pod.name, KUBELET)
            if woken_by == KUBELET and pod.name in self._failed:  # the next try after a failed sync
                woken_by = RETRY
            charge_wait(pod, woken_by, t_wait, t_woken, env.now)
            if pod.deletion_requested is not None:
                self.queue.forget(pod)
                error = yield from self._terminate(pod)
                last_sync = env.now
                if error is None or pod.terminated:
                    return
                # syncTerminatingPod failed: the error back-off, then again (completeWork)
                delay = SYNC_ERROR_BACKOFF_S * (1 + WORKER_JITTER * self.rng.random())
                self.queue.enqueue(pod, delay)
                if self._on_kill_retry is not None:
                    self._on_kill_retry(pod, delay)
                continue
            error = yield from self._sync_pod(pod, last_sync is None)
            last_sync = env.now
            if error is not None:
                self._failed.add(pod.name)
            else:
                self._failed.discard(pod.name)
            if pod.failed or pod.terminated:
                return
            if error is None and self.resting is not None and self.resting.may_rest(pod, self.cache.get(pod)):
                self.queue.forget(pod)  # the last Enqueue wins: no resync is pending now
                self.resting.rest(pod)
                continue
            if error is not None and error.returned:
                delay = SYNC_ERROR_BACKOFF_S
            else:
                delay = self.cfg.syncFrequency
            delay *= 1 + WORKER_JITTER * self.rng.random()  # wait.Jitter(d, 0.5)
            self.queue.enqueue(pod, delay)
