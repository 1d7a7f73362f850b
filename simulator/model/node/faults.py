"""Faults on one node, each attributed to the hop where it happens (facts §6).

Two kinds:

* **Per-visit** faults, checked by the interpreter at every matching step: a step error, a slow
  step (extra time spent *holding the step's locks*, which is how one container start stuck on
  an NFS mount blocks dockerd's inspects and, through them, PLEG: kubernetes/kubernetes#94829),
  registry errors and slow transfers, and CNI DELs that leak the pod's IP. Their probability is
  ``probability + loadSlope x (CRI operations in flight on the node)``, capped at 1, so a fault
  can grow with load.
* **Timed** faults, at given times, periodically or at a Poisson rate: a runtime daemon restart
  (unreachable for ``downSeconds``; calls to it fail with "connection refused", calls in flight
  fail when it goes down; dockerd without live-restore kills every container on the way,
  containerd and CRI-O leave them running under their shims and conmon) and a shim crash (the
  containers that shim serves die: one container with per-container shims, the whole pod with
  containerd's per-pod shim).
* Errors in a pod's stop path (``stopError``: ``stop_faults.py``) and node reboots, clean or
  unclean (``nodeReboot``: ``reboot.py``), each with a random stream of its own drawn from this
  node's, so that they leave the other faults' draws alone.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Iterator, Optional

import numpy as np

from ..runtime.context import HopFailure
from .reboot import NodeReboots
from .stop_faults import StopPathFaults

if TYPE_CHECKING:
    from ...chains import Step
    from ...config import RegistryFault
    from ..runtime.context import CallContext
    from .node import Node

__all__ = ["NodeFaults", "fault_times"]


def fault_times(f, rng: np.random.Generator, horizon: float) -> Iterator[float]:
    """Times at which a timed fault strikes, in order, up to ``until`` or the horizon."""
    end = min(f.until, horizon) if f.until is not None else horizon
    times = [t for t in f.at if t <= end]
    if f.every is not None:
        t = f.start
        while t <= end:
            times.append(t)
            t += f.every
    if f.ratePerHour is not None:
        t = f.start + rng.exponential(3600.0 / f.ratePerHour)
        while t <= end:
            times.append(t)
            t += rng.exponential(3600.0 / f.ratePerHour)
    yield from sorted(times)


def _applies(f, node: "Node") -> bool:
    return f.nodes == "all" or node.name in f.nodes or node.pool in f.nodes


class NodeFaults:
    def __init__(self, node: "Node", faults: list, rng: np.random.Generator, horizon: float):
        self.node = node
        self.env = node.env
        self.rng = rng
        mine = [f for f in faults if _applies(f, node)]
        self.step_errors = [f for f in mine if f.kind == "stepError"]
        self.slow_steps = [f for f in mine if f.kind == "slowStep"]
        self.registry_faults = [f for f in mine if f.kind == "registry"]
        self.ip_leaks = [f for f in mine if f.kind == "cniIpLeak"]
        self.down_until: dict[str, float] = {}
        self.epoch: Counter = Counter()
        self.any_per_visit = bool(self.step_errors or self.slow_steps)
        self.fired: list[tuple[float, str, str]] = []  # (time, kind, detail)
        for f in mine:
            if f.kind in ("daemonRestart", "shimCrash"):
                self.env.process(self._timed(f, horizon))
        stops = [f for f in mine if f.kind == "stopError"]
        reboots = [f for f in mine if f.kind == "nodeReboot"]
        self.stops: Optional[StopPathFaults] = None
        self.reboots: Optional[NodeReboots] = None
        if stops:
            self.stops = StopPathFaults(node, stops, np.random.default_rng(int(rng.integers(2**63))))
        if reboots:
            self.reboots = NodeReboots(node, self, reboots, np.random.default_rng(int(rng.integers(2**63))),
                                       horizon, fault_times)

    # ------------------------------------------------------------------ per-visit
    def _p(self, f) -> float:
        return min(1.0, f.probability + f.loadSlope * self.node.inflight)

    def before_step(self, step: "Step", ctx: "CallContext", hop: str) -> float:
        """Raise if the step's process is down; return extra seconds a slow-step fault adds."""
        until = self.down_until.get(step.process)
        if until is not None and until > self.env.now:
            raise HopFailure(hop, f"{step.process} is down: connection refused")
        extra = self.stops.extra(step, ctx, hop) if self.stops is not None else 0.0
        for f in self.slow_steps:
            if f.step == step.name and (f.process is None or f.process == step.process) and (
                    f.template is None or (ctx.pod is not None and ctx.pod.template == f.template)) and (
                    f.container is None or (ctx.container is not None and ctx.container.spec.name == f.container)):
                if self.rng.random() < self._p(f):
                    extra += f.extraSeconds
                    self.node.recorder.event(self.env.now, ctx.pod.name if ctx.pod else "", "SlowStep",
                                             f"{hop}: +{f.extraSeconds:g}s")
        return extra

    def after_step(self, step: "Step", ctx: "CallContext", hop: str, epoch_at_start: int) -> None:
        if self.epoch[step.process] != epoch_at_start:
            raise HopFailure(hop, f"{step.process} restarted: connection reset")
        for f in self.step_errors:
            if (f.process is None or f.process == step.process) and (f.step is None or f.step == step.name) \
                    and (f.operation is None or f.operation == ctx.operation):
                if self.rng.random() < self._p(f):
                    raise HopFailure(hop, f.reason)
        if self.stops is not None:
            self.stops.check(step, ctx, hop)
        if self.reboots is not None:
            self.reboots.check(step, ctx, hop)

    def registry(self) -> tuple[float, Optional["RegistryFault"]]:
        """(slow-down factor, a failing fault or None) for one pull."""
        slowdown = 1.0
        for f in self.registry_faults:
            if self.rng.random() < self._p(f):
                if f.slowdown > 1:
                    slowdown = max(slowdown, f.slowdown)
                else:
                    return slowdown, f
        return slowdown, None

    def leak_ip(self) -> bool:
        return any(self.rng.random() < self._p(f) for f in self.ip_leaks)

    # ------------------------------------------------------------------ timed
    def _timed(self, f, horizon: float):
        for t in fault_times(f, self.rng, horizon):
            if t > self.env.now:
                yield self.env.timeout(t - self.env.now)
            if f.kind == "daemonRestart":
                self._restart_daemon(f)
            else:
                self._crash_shim()

    def _restart_daemon(self, f) -> None:
        node, chain = self.node, self.node.chain
        daemon = chain.daemon if f.daemon == "runtime" else f.daemon
        if daemon not in chain.processes:
            return  # e.g. a dockerd restart on a containerd node
        now = self.env.now
        self.down_until[daemon] = now + f.downSeconds
        self.epoch[daemon] += 1
        node.kubelet.poke()
        killed = 0
        if daemon == "dockerd" and not f.liveRestore:
            # restore() -> shutdownContainer for every live container (facts §3.5, §6)
            for pod in node.kubelet.pods:
                killed += node.kill_pod_containers(pod, "dockerd restarted without live-restore")
        detail = f"{daemon} down {f.downSeconds:g}s" + (
            f", live-restore {'on' if f.liveRestore else 'off'}" if daemon == "dockerd" else "")
        if killed:
            detail += f", {killed} containers killed"
        self.fired.append((now, "daemonRestart", detail))
        node.recorder.event(now, "", "DaemonRestart", detail)

    def _crash_shim(self) -> None:
        node = self.node
        pods = [p for p in node.kubelet.pods if p.sandbox_state == "ready"]
        if not pods:
            return
        pod = pods[int(self.rng.integers(len(pods)))]
        shim = node.chain.shimProcess
        if node.chain.shimPer == "pod":
            victims = "the pod's sandbox and every container"
            node.kill_pod_containers(pod, f"{shim} crashed")
        else:
            running = [c for c in pod.regular_containers if c.state == "running"]
            if running and self.rng.random() < len(running) / (len(running) + 1):
                c = running[int(self.rng.integers(len(running)))]
                victims = f"container {c.spec.name}"
                node.kill_container(pod, c, f"{shim} crashed")
            else:
                victims = "the sandbox"
                node.kill_pod_containers(pod, f"{shim} crashed", sandbox_only=True)
        detail = f"{shim} of {pod.name} crashed: {victims} died"
        self.fired.append((self.env.now, "shimCrash", detail))
        node.recorder.event(self.env.now, pod.name, "ShimCrash", detail)
