"""The kubelet's syncLoop (pkg/kubelet/kubelet.go ``syncLoop``, ``HandlePodAdditions``,
``HandlePodRemoves``) and the runtime state it consults (pkg/kubelet/runtime.go), facts §1.1.

* **Admission**: one syncLoop goroutine admits new pods one at a time; ``maxPods`` is checked
  there (``canAdmitPod``) and a pod over it fails with the kubelet's reason. An admitted pod
  gets its volumes set up and a pod worker.
* **Runtime health**: ``runtimeState.runtimeErrors()`` includes PLEG's health check. While it
  reports an error the node is NotReady and the syncLoop dispatches nothing, sleeping 100 ms
  doubling to 5 s between checks; held-back work is dispatched once PLEG is healthy again.
* **A restart** (``restart.py``): while the kubelet is down it admits nothing and the node is
  NotReady; the new kubelet lists the pods bound to it (every pod the watch delivered and not
  yet deleted), admits them again in that order, and the syncLoop's checks start over (PLEG
  "has yet to be successful" until its first relist).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

import simpy

from ..attribution import KUBELET, charge, charge_restart, run_cpu
from ..runtime.locks import HopLock

if TYPE_CHECKING:
    from ...config import KubeletConfig
    from ..node.node import Node
    from ..state import PodState
    from .pleg import GenericPLEG
    from .pod_workers import PodWorkers
    from .termination import Termination
    from .volume_manager import VolumeManager

__all__ = ["RuntimeState", "SyncLoop"]

# facts §1.1: while runtimeErrors() is non-nil the syncLoop sleeps 100 ms doubling to 5 s
# (kubelet.go syncLoop: base 100 ms, max 5 s, factor 2).
SYNCLOOP_BACKOFF_INITIAL_S = 0.1
SYNCLOOP_BACKOFF_MAX_S = 5.0


class RuntimeState:
    """Whether the syncLoop may dispatch work: healthy until PLEG's health check fails."""

    def __init__(self, env: simpy.Environment, node: "Node"):
        self.env = env
        self.node = node
        self.healthy = True
        self._deferred: list[Callable[[], None]] = []
        self._health_checks: list[Callable[[], bool]] = []
        self._checking: simpy.Process | None = None  # the syncLoop's back-off while unhealthy

    def add_health_check(self, check: Callable[[], bool]) -> None:
        """runtimeState.addHealthCheck("PLEG", pleg.Healthy), and the runtime's status."""
        self._health_checks.append(check)

    def _health_check(self) -> bool:
        return all(check() for check in self._health_checks)

    def dispatch(self, fn: Callable[[], None]) -> None:
        """Work the syncLoop hands out; held back while the runtime is unhealthy (facts §1.1)."""
        if self.healthy:
            fn()
        else:
            self._deferred.append(fn)

    def pleg_unhealthy(self, relist_start: float) -> None:
        """PLEG's last successful relist started 3 min ago: the node goes NotReady."""
        if not self.healthy:
            return
        self.healthy = False
        age = self.env.now - relist_start
        self.node.recorder.event(self.env.now, "", "NodeNotReady",
                                 f"PLEG is not healthy: pleg was last seen active {age:.0f}s ago; threshold is 3m0s")
        self.node.on_health(False)
        self._checking = self.env.process(self._syncloop_backoff())

    def down(self, reason: str) -> None:
        """The kubelet died (a reboot): NotReady, and the work it held back is gone."""
        if self._checking is not None and self._checking.is_alive:
            self._checking.interrupt("kubelet stopped")
        self._checking = None
        self._deferred.clear()
        if self.healthy:
            self.healthy = False
            self.node.recorder.event(self.env.now, "", "NodeNotReady", reason)
            self.node.on_health(False)

    def start(self) -> None:
        """A new kubelet's syncLoop: it dispatches once its health checks pass."""
        self._checking = self.env.process(self._syncloop_backoff())

    def _syncloop_backoff(self):
        delay = SYNCLOOP_BACKOFF_INITIAL_S
        try:
            while True:
                yield self.env.timeout(delay)
                if self._health_check():
                    break
                delay = min(delay * 2, SYNCLOOP_BACKOFF_MAX_S)
        except simpy.Interrupt:
            return
        self._checking = None
        self.healthy = True
        self.node.recorder.event(self.env.now, "", "NodeReady", "PLEG healthy again")
        self.node.on_health(True)
        deferred, self._deferred = self._deferred, []
        for fn in deferred:
            fn()


class SyncLoop:
    """Pod additions and removals as the apiserver watch delivers them."""

    def __init__(self, env: simpy.Environment, node: "Node", cfg: "KubeletConfig",
                 pods: list["PodState"], state: RuntimeState, pleg: "GenericPLEG",
                 workers: "PodWorkers", volumes: "VolumeManager", termination: "Termination",
                 poke: Callable[[], None]):
        self.env = env
        self.node = node
        self.cfg = cfg
        self.pods = pods
        self.state = state
        self.pleg = pleg
        self.workers = workers
        self.volumes = volumes
        self.termination = termination
        self.poke = poke
        self._admission = HopLock(env, capacity=1)  # the one syncLoop goroutine (FIFO)
        # every pod the watch delivered and not yet deleted: what the apiserver lists for this
        # node when the kubelet starts again
        self.known: dict[str, "PodState"] = {}
        self.running = True  # False while the kubelet process is down (a reboot)
        self._admitting: list[simpy.Process] = []
        termination.forgotten = self._forget

    def _forget(self, pod: "PodState") -> None:
        self.known.pop(pod.name, None)

    def pod_seen(self, pod: "PodState") -> None:
        """The apiserver watch delivered a pod bound to this node (facts §1.1)."""
        self.known[pod.name] = pod
        if not self.running:
            return  # seen when the kubelet lists its pods at start
        pod.kubelet_seen = self.env.now
        self.poke()
        self.state.dispatch(lambda: self._start_admission(pod))

    def _start_admission(self, pod: "PodState") -> None:
        self._track(self.env.process(self._admit(pod)))

    def _track(self, proc: simpy.Process) -> None:
        self._admitting = [p for p in self._admitting if p.is_alive] + [proc]

    def _admit(self, pod: "PodState"):
        try:
            req = self._admission.request()
            try:
                yield req
                if pod.kubelet_seen is not None:  # held back while NotReady, the admission queue
                    charge(pod, KUBELET, self.env.now - pod.kubelet_seen)
                yield from run_cpu(self.node.cpu, pod, self.node.scenario.kubeletCosts.admitMs / 1000.0, "kubelet")
                if pod.deletion_requested is not None:
                    self.termination.finish_deleted(pod)
                    return
                self._add(pod)
            finally:
                self._admission.release(req)
        except simpy.Interrupt:
            return

    def _add(self, pod: "PodState", again: bool = False) -> None:
        """HandlePodAdditions for one pod: canAdmitPod, then its volumes and its worker.
        ``again``: listed by a restarted kubelet; a pod admitted before has a dead sandbox that
        the first relist must inspect."""
        if len(self.pods) >= self.node.pod_capacity:
            # kubelet predicate admission: "Node didn't have enough resource: pods".
            self.known.pop(pod.name, None)
            self.node.fail_pod(pod, "kubelet: admission (canAdmitPod)", "OutOfpods")
            return
        if again and pod.admitted:
            self.pleg.forget(pod)
        else:
            self.pleg.track(pod)
        pod.admitted = True
        pod.setup_done = False  # a new worker: its first sync sets the pod up again
        self.pods.append(pod)
        self.volumes.add_pod(pod)
        self.workers.add_pod(pod)
        self.workers.update_pod(pod)

    def pod_deleted(self, pod: "PodState") -> None:
        """The watch delivered the pod's deletion (deletionTimestamp set)."""
        if pod.deletion_requested is None:
            pod.deletion_requested = self.env.now
        if pod.admitted and self.running:
            self.workers.update_pod(pod)

    # ------------------------------------------------------------------ a restart
    def stop(self) -> None:
        """The kubelet process died: admissions in progress end where they are."""
        self.running = False
        for proc in self._admitting:
            if proc.is_alive:
                proc.interrupt("kubelet stopped")
        self._admitting = []

    def readmit(self) -> None:
        """A new kubelet lists the pods bound to this node (every pod the watch delivered and
        not yet deleted) and admits them, oldest first, before its PLEG's first relist: a pod
        it had admitted is admitted again (and terminated if it is being deleted); one that
        was deleted before it was ever admitted is forgotten."""
        self.running = True
        pods = sorted((p for p in self.known.values() if not p.failed and p.deleted is None),
                      key=lambda p: (p.created if p.created is not None else 0.0, p.index))
        for pod in pods:
            if pod.kubelet_seen is None:
                pod.kubelet_seen = self.env.now
            charge_restart(pod, self.env.now)  # the start-up ledger (model/attribution.py)
            pod.pending_update = False
            pod.wake = None
            pod.inflight_sandbox = None
            if pod.deletion_requested is not None and not pod.admitted:
                self.termination.finish_deleted(pod)
                continue
            self._add(pod, again=True)
        if pods:
            self.node.cpu.run(self.node.scenario.kubeletCosts.admitMs / 1000.0 * len(pods), "kubelet")
        self.poke()
