"""The Pod Lifecycle Event Generator (pkg/kubelet/pleg/generic.go), facts §1.8.

``relist`` = ``ListPodSandbox`` + ``ListContainers`` through the chain; for each pod whose
runtime state changed since the last relist, ``GetPodStatus`` serially through the chain
(kuberuntime_manager.go: ListPodSandbox, PodSandboxStatus, ListContainers, ContainerStatus per
container), so a relist costs what the chain's list and status calls cost; then the pods whose
inspection failed in the previous relist are inspected again. The cache's timestamp is the
relist's *start*; the next relist starts 1 s after this one *ends* (``wait.Until``), so a slow
runtime stretches the period. A failed ``GetPods`` does not update the relist time.

Health (``Healthy()``): when the last relist whose GetPods succeeded started more than 3 min
ago, PLEG reports unhealthy; the kubelet then marks the node NotReady and its syncLoop stops
dispatching (``sync_loop.RuntimeState``).

Idle skipping (large clusters): on nodes whose resources are not sampled, PLEG stops relisting
while nothing on the node can change and nobody waits for a relist, charges the CPU of the
relists it skips, and resumes on the schedule it would have kept (``_sleep_while_idle``); a
change seen at time T is first seen by the relist starting after T, as without skipping.

A kubelet restart (``restart.py``) stops the relist loop (``halt``) and starts a new PLEG that
knows nothing (``reset``): its first relist sees every pod as new and inspects it, and it is
unhealthy ("pleg has yet to be successful") until that relist succeeds.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Callable, Optional

import simpy

from ..clock import Alarm
from ..runtime.context import CallContext, HopFailure
from .pod_cache import PodCache

if TYPE_CHECKING:
    import numpy as np

    from ..node.node import Node
    from ..state import PodState
    from .cri_client import CRIClient

__all__ = ["GenericPLEG", "PLEG_RELIST_PERIOD_S", "PLEG_RELIST_THRESHOLD_S"]

# facts §0 / §1.8: generic PLEG relist period 1 s, sliding (wait.Until); health threshold 3 min
# (pkg/kubelet/kubelet.go genericPlegRelistPeriod, pleg/generic.go RelistThreshold).
PLEG_RELIST_PERIOD_S = 1.0
PLEG_RELIST_THRESHOLD_S = 180.0


class GenericPLEG:
    def __init__(self, env: simpy.Environment, node: "Node", cri: "CRIClient", cache: PodCache,
                 pods: list["PodState"], rng: "np.random.Generator",
                 on_pod_changed: Callable[["PodState"], None],
                 on_unhealthy: Callable[[float], None]):
        self.env = env
        self.node = node
        self.cri = cri
        self.cache = cache
        self.pods = pods  # admitted pods (the kubelet's list, shared)
        self.rng = rng
        self._on_pod_changed = on_pod_changed  # pod workers' UpdatePod
        self._on_unhealthy = on_unhealthy  # the runtime state's health check failed
        self._seen: dict[str, tuple] = {}  # what the last relist saw of each pod
        self._reinspect: list["PodState"] = []
        self.relist_durations: list[tuple[float, float]] = []
        self.relist_time: Optional[float] = None  # start of the last relist whose GetPods succeeded
        self.idle_skip = not node.probed
        self._poke: Optional[simpy.Event] = None
        self._idle: Optional[tuple[float, float]] = None  # (relist start, duration) while asleep
        self.waiters = 0
        self._proc: Optional[simpy.Process] = None
        # The health check 3 min after each successful relist: one alarm, not a timer per relist
        # (issue 10). Only the latest relist's check can find relist_time unchanged (every
        # successful relist moves it), so the earlier checks, which would find nothing, are
        # dropped; the latest fires where its timer would (clock.Alarm).
        self._health = Alarm(env, lambda: self._check_health(self._health_start))
        self._health_start = 0.0

    def start(self) -> None:
        self._proc = self.env.process(self._goroutine())

    def _goroutine(self):
        try:
            yield from self._run()
        except simpy.Interrupt:
            return

    def halt(self) -> None:
        """The kubelet process died: the relist loop ends where it is."""
        if self._proc is not None and self._proc.is_alive:
            self._proc.interrupt("kubelet stopped")
        self._proc = None

    def reset(self) -> None:
        """A new kubelet's PLEG: no relist yet, nothing seen, nobody waiting; then start it."""
        self._seen.clear()
        self._reinspect = []
        self.relist_time = None
        self._poke = None
        self._idle = None
        self.waiters = 0
        self.start()

    # ------------------------------------------------------------------ seen by others
    def healthy(self) -> bool:
        """generic.go Healthy(): the last successful relist started less than 3 min ago."""
        return self.relist_time is not None and self.env.now - self.relist_time < PLEG_RELIST_THRESHOLD_S

    def track(self, pod: "PodState") -> None:
        """A newly admitted pod: what the runtime has of it now is not news."""
        self._seen[pod.name] = pod.runtime_snapshot()

    def forget(self, pod: "PodState") -> None:
        self._seen.pop(pod.name, None)

    def poke(self) -> None:
        """Something on the node changed (or a worker waits for a relist): PLEG stays awake."""
        self.node.invalidate_counts()
        if self._poke is not None and not self._poke.triggered:
            self._poke.succeed()

    @property
    def asleep(self) -> bool:
        return self._idle is not None

    def virtual_relist_after(self, t: float) -> tuple[float, float]:
        assert self._idle is not None
        idle_start, duration = self._idle
        period = PLEG_RELIST_PERIOD_S + duration
        vstart = idle_start + (math.floor((t - idle_start) / period) + 1) * period
        return vstart, vstart + duration

    # ------------------------------------------------------------------ relist
    def _check_health(self, relist_start: float) -> None:
        """3 min after a relist started: unhealthy if no later relist succeeded meanwhile."""
        if self.relist_time != relist_start or self._poke is not None or self.node.retired:
            return
        self._on_unhealthy(relist_start)

    def _run(self):
        env, node = self.env, self.node
        while not node.retired:
            start = env.now
            cpu_before = node.cpu.totals() if self.idle_skip else {}
            ctx = CallContext(None, self.rng, "pleg", unfiltered=True)
            try:
                yield from self.cri.call("list_podsandbox", ctx)
                yield from self.cri.call("list_containers", ctx)
            except HopFailure as f:
                # a failed GetPods does not update the relist time (facts §1.8)
                node.recorder.event(env.now, "", "RelistFailed", f.reason, hop=f.hop)
                yield env.timeout(PLEG_RELIST_PERIOD_S)
                continue
            self.relist_time = start
            self._health_start = start
            self._health.set(start + PLEG_RELIST_THRESHOLD_S - env.now)
            costs = node.scenario.kubeletCosts  # ms
            yield node.cpu.run((costs.relistBaseMs + costs.relistPerContainerMs * node.count("containers")) / 1000.0,
                               "kubelet")
            changed = []
            for pod in self.pods:
                snap = pod.runtime_snapshot()
                if snap != self._seen.get(pod.name):
                    self._seen[pod.name] = snap
                    changed.append(pod)
            # updateCache (GetPodStatus) serially for every pod with events, then again for the
            # pods whose inspection failed in the previous relist (facts §1.8, generic.go relist)
            needs_reinspection: list["PodState"] = []
            notify = []
            for pod in changed:
                try:
                    yield from self._get_pod_status(pod)
                    notify.append(pod)
                    if pod in self._reinspect:
                        self._reinspect.remove(pod)
                except HopFailure:
                    needs_reinspection.append(pod)
            for pod in self._reinspect:
                if pod.terminated:
                    continue
                try:
                    yield from self._get_pod_status(pod)
                except HopFailure:
                    needs_reinspection.append(pod)
            self._reinspect = needs_reinspection
            self.cache.updated(start)
            self.relist_durations.append((env.now, env.now - start))
            for pod in notify:
                self._on_pod_changed(pod)
            if self.idle_skip and not changed and not self._reinspect and self.waiters == 0:
                yield from self._sleep_while_idle(start, cpu_before)
                continue
            yield env.timeout(PLEG_RELIST_PERIOD_S)

    def _sleep_while_idle(self, start: float, cpu_before: dict[str, float]):
        """Nothing can change on the node until something pokes it, so the relists PLEG would
        run meanwhile would find nothing: skip them, charge their CPU, and resume on the same
        schedule (relist k starts at start + k x (1 s + this relist's duration)). A change seen
        at time T is first seen by the relist starting after T, as without skipping."""
        env, node = self.env, self.node
        duration = env.now - start
        cpu_after = node.cpu.totals()
        per_relist = {k: v - cpu_before.get(k, 0.0) for k, v in cpu_after.items()
                      if v - cpu_before.get(k, 0.0) > 0}
        self._poke = env.event()
        self._idle = (start, duration)
        yield self._poke
        self._poke = None
        self._idle = None
        period = PLEG_RELIST_PERIOD_S + duration
        skipped = math.floor((env.now - start) / period)
        for tag, work in per_relist.items():
            node.cpu.work_done[tag] = node.cpu.work_done.get(tag, 0.0) + skipped * work
        last_virtual = start + skipped * period
        self.relist_time = max(self.relist_time or 0.0, last_virtual)
        self.cache.advance(last_virtual)
        yield env.timeout(last_virtual + period - env.now)

    def _get_pod_status(self, pod: "PodState"):
        """kuberuntime_manager.go GetPodStatus (facts §1.8)."""
        ctx = CallContext(pod, self.rng, "pleg")
        yield from self.cri.call("list_podsandbox", ctx)
        if pod.sandbox_state != "none":
            yield from self.cri.call("podsandbox_status", ctx)
        yield from self.cri.call("list_containers", ctx)
        for c in list(pod.containers.values()) + list(pod.old_instances):
            if c.state != "none":
                yield from self.cri.call("container_status", CallContext(pod, self.rng, "pleg", container=c))
        self.cache.set(pod, (pod.sandbox_state, {n: c.state for n, c in pod.containers.items()}))
