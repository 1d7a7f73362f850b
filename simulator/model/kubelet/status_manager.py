"""The status manager (pkg/kubelet/status/status_manager.go), facts §1.10.

``set_pod_status`` is ``generateAPIPodStatus`` + ``statusManager.SetPodStatus``: a new status
version when the pod's status changed. Phase Running once init containers are done and every
regular container has been started (a restarting container keeps the pod Running, as in the
API; one that has never started, failing its StartContainer over and over, keeps it Pending
here, whereas upstream's getPhase would already say Running). One goroutine sends statuses, each as a GET + PATCH through the kubelet's API client token
bucket (``kubeAPIQPS``/``kubeAPIBurst``); an observer sees Running one watch delay later.

The goroutine serves two sources (``Start``: a ``select`` over the status channel and a 10 s
ticker, ``syncPeriod``), and how it coalesces versions depends on the release
(``config/versions.py`` ``statusCoalescing``):

* ``every-version``: each ``SetPodStatus`` queues (uid, status version) on a channel of 1000;
  ``syncPod`` sends that version unless a newer one was already sent (``needsUpdate``); every
  10 s ``syncBatch`` sends the *latest* status of every pod whose sent version is older, so
  queued versions it superseded are skipped when their turn comes;
* ``drain-on-batch``: the same, but on each tick the channel is emptied before ``syncBatch``
  (the batch sends the latest of everything, so the queued requests are stale);
* ``latest``: the channel only signals; each signal (and each tick) runs ``syncBatch`` over the
  pods with a pending update, sending each pod's latest status once.

``syncBatch`` also walks every pod the manager knows (``needsUpdate``, ``needsReconcile``): CPU
that grows with the pods on the node.

While the manager knows no pod and its channel is empty, a tick's batch does nothing at all: the
goroutine then sleeps until a status arrives and resumes on the same 10 s grid (exact: the
ticks skipped would have had no effect). With ``simulation.backgroundWork: closed-form`` on a
node whose resources are not sampled (``closed_form``), it also sleeps while every known pod's
latest status has been sent, and the batches it skips are charged to the kubelet's CPU (their
walk over the pods) without competing with other work (docs/model/background-work.md).
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING, Callable, Optional

import simpy

from ..attribution import API_CLIENT, CONTROL_PLANE, KUBELET, charge_status, close
from ..clock import call_later

if TYPE_CHECKING:
    from ..control.apiserver import ApiServer
    from ..control.ratelimit import TokenBucket
    from ..fluid import FluidShare
    from ..state import PodState
    from .pod_cache import PodStatus

__all__ = ["StatusManager", "STATUS_SYNC_PERIOD_S"]

# status_manager.go syncPeriod = 10 * time.Second (1.10 through current).
STATUS_SYNC_PERIOD_S = 10.0


class StatusManager:
    def __init__(self, env: simpy.Environment, api: "ApiServer", client: "TokenBucket",
                 on_running_observed: Callable[["PodState"], None], cpu: "FluidShare",
                 coalescing: str = "every-version", batch_per_pod_ms: float = 0.02,
                 closed_form: bool = False):
        self.env = env
        self.api = api
        self.client = client  # the kubelet's API client (shared with the volume manager...)
        self._on_running_observed = on_running_observed
        self._cpu = cpu
        self.coalescing = coalescing
        self.batch_per_pod_s = batch_per_pod_ms / 1000.0  # kubeletCosts.statusBatchPerPodMs
        self._channel: deque[tuple["PodState", int, str]] = deque()
        self._wake: Optional[simpy.Event] = None
        self._pods: dict[str, "PodState"] = {}  # podStatuses: every pod with a status
        self._t0 = env.now
        # the start-up ledger: what the goroutine is doing since when (the kubelet's own loop,
        # waiting for the API client, the apiserver answering), the seconds spent on each, and
        # those seconds when each pod's status first became Running
        self._doing, self._since = KUBELET, env.now
        self._spent: dict[str, float] = {}
        self._at_running: dict[str, dict[str, float]] = {}
        self.closed_form = closed_form
        self._asleep: Optional[tuple[float, int]] = None  # (first tick slept through, pods walked)

    def start(self) -> None:
        self.env.process(self._run())

    def queue_length(self) -> int:
        return len(self._channel)

    def set_pod_status(self, pod: "PodState", cached: Optional["PodStatus"]) -> None:
        """generateAPIPodStatus + statusManager.SetPodStatus: a new version when it changed."""
        states = cached[1] if cached else {}
        running = (
            bool(cached and cached[0] == "ready")
            and all(states.get(c.spec.name) == "exited" for c in pod.init_containers)
            and all(states.get(c.spec.name) == "running"
                    or (states.get(c.spec.name) == "exited" and c.restarts + c.crashes > 0
                        and c.spec.name in pod.started_once)
                    for c in pod.regular_containers)
        )
        content = ("Running" if running else "Pending",
                   bool(cached and cached[0] == "ready"),
                   tuple(sorted(states.items())))
        if content != pod.status_content:
            if running and pod.running_status_at is None:
                close(pod, self.env.now)
                self._at_running[pod.name] = self._spent_now()
            pod.status_content = content
            pod.status_version += 1
            self._pods[pod.name] = pod
            self._channel.append((pod, pod.status_version, content[0]))
            if self._wake is not None and not self._wake.triggered:
                self._wake.succeed()

    # ------------------------------------------------------------------ the goroutine
    def _next_tick(self) -> float:
        k = int((self.env.now - self._t0) // STATUS_SYNC_PERIOD_S) + 1
        return self._t0 + k * STATUS_SYNC_PERIOD_S

    def _run(self):
        env = self.env
        tick = self._next_tick()
        while True:
            if env.now >= tick:
                # a time.Ticker keeps one pending tick: the batch runs once, then the next
                # tick on the 10 s grid
                if self.coalescing == "drain-on-batch":
                    self._channel.clear()
                yield from self._sync_batch()
                tick = self._next_tick()
                continue
            if self._channel:
                pod, version, phase = self._channel.popleft()
                if self.coalescing == "latest":
                    self._channel.clear()  # one signal stands for every pending update
                    yield from self._sync_batch()
                else:
                    yield from self._sync_pod(pod, version, phase)
                continue
            self._wake = env.event()
            walk = self._idle_walk()
            if walk is None:
                yield self._wake | env.timeout(tick - env.now)
                self._wake = None
                continue
            # no batch before the next status would do anything but walk ``walk`` pods: sleep
            # until a status arrives (the wait has the same shape as with the tick's timer,
            # so what happens at the wake happens in the same order)
            self._asleep = (tick, walk)
            yield self._wake | env.event()
            self._wake = None
            self.settle()
            self._asleep = None
            tick = max(tick, self._tick_at_or_after(env.now))

    def settle(self) -> None:
        """Charge the batches slept through so far (closed form) to the kubelet's CPU."""
        if self._asleep is None:
            return
        due, walk = self._asleep
        now_tick = self._tick_at_or_after(self.env.now)
        skipped = round((now_tick - due) / STATUS_SYNC_PERIOD_S)
        if walk and skipped > 0:
            work = self.batch_per_pod_s * walk * skipped
            self._cpu.work_done["kubelet"] = self._cpu.work_done.get("kubelet", 0.0) + work
        self._asleep = (max(due, now_tick), walk)

    def _tick_at_or_after(self, t: float) -> float:
        k = -int(-(t - self._t0) // STATUS_SYNC_PERIOD_S)  # ceil
        return self._t0 + k * STATUS_SYNC_PERIOD_S

    def _idle_walk(self) -> Optional[int]:
        """With the channel empty: how many pods each batch until the next status would walk
        and do nothing else with, or None when a batch may send something (or the closed form
        is off and pods are known)."""
        if not self.closed_form:
            return None if any(not p.terminated for p in self._pods.values()) else 0
        known = [p for p in self._pods.values() if not p.terminated]
        if any(p.sent_version < p.status_version for p in known):
            return None
        return len(known)

    def _sync_batch(self):
        """syncBatch: walk every known pod; send the latest status of those that need it."""
        pods = [p for p in self._pods.values() if not p.terminated]
        self._pods = {p.name: p for p in pods}
        if pods:
            yield self._cpu.run(self.batch_per_pod_s * len(pods), "kubelet")
        for pod in pods:
            if pod.sent_version < pod.status_version and not pod.terminated:
                yield from self._sync_pod(pod, pod.status_version, pod.status_content[0])

    def _sync_pod(self, pod: "PodState", version: int, phase: str):
        """syncPod: GET + PATCH, unless this version was superseded by one already sent."""
        if pod.sent_version >= version or pod.terminated:
            return
        for _request in ("GET pod", "PATCH pod status"):
            self._switch(API_CLIENT)
            yield from self.api.request(self.client, on_token=lambda: self._switch(CONTROL_PLANE))
        self._switch(KUBELET)
        pod.sent_version = max(pod.sent_version, version)
        if phase == "Running" and pod.running_observed is None and not pod.failed:
            delay = self.api.watch_delay()
            self._charge_status(pod, delay)
            call_later(self.env, delay, self._on_running_observed, pod)

    # ------------------------------------------------------------------ the start-up ledger
    def _switch(self, doing: str) -> None:
        now = self.env.now
        self._spent[self._doing] = self._spent.get(self._doing, 0.0) + now - self._since
        self._doing, self._since = doing, now

    def _spent_now(self) -> dict[str, float]:
        spent = dict(self._spent)
        spent[self._doing] = spent.get(self._doing, 0.0) + self.env.now - self._since
        return spent

    def _charge_status(self, pod: "PodState", watch_delay: float) -> None:
        """The pod's Running status is sent: from when it was set, the goroutine's seconds by
        what it was doing are the pod's, then the watch delivers it."""
        before = self._at_running.pop(pod.name, None)
        if before is not None:
            for cause, spent in self._spent_now().items():
                charge_status(pod, cause, spent - before.get(cause, 0.0))
        charge_status(pod, CONTROL_PLANE, watch_delay)
