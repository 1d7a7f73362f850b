"""A node: its cores, links, locks, processes and memory, wired to one chain and one kubelet.

``Node`` owns the resources every component shares (STYLE.md §2): the processor-shared CPU
cores that every step's CPU work competes for, the registry link and the unpack disk, the
locks named by the chain (created on first use, keyed by process, lock name and scope), the
image store, the count of long-lived spawned processes (shims, conmon) and the resident memory
that follows from them. A periodic probe records CPU, memory and queue lengths.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Callable

import numpy as np
import simpy

from ..config import Scenario
from .chain import Chain, LockSpec
from .fluid import FluidShare
from .images import ImageStore
from .interpreter import Interpreter
from .records import Recorder
from .state import PodState

if TYPE_CHECKING:
    from .control import ApiServer
    from .interpreter import CallContext
    from .kubelet import Kubelet

__all__ = ["Node"]


class Node:
    def __init__(self, env: simpy.Environment, scenario: Scenario, chain: Chain,
                 recorder: Recorder, on_settled: Callable[[PodState], None]):
        self.env = env
        self.scenario = scenario
        self.chain = chain
        self.name = scenario.node.name
        self.recorder = recorder
        self.on_settled = on_settled
        cfg = scenario.node
        self.cpu = FluidShare(env, cfg.cpuCores, per_job_cap=1.0, name="cpu")
        self.link = FluidShare(env, cfg.registryBandwidthMBps,
                               per_job_cap=cfg.registryConnectionMBps, name="registry-link")
        self.disk = FluidShare(env, cfg.diskWriteMBps, name="disk")
        self.images = ImageStore(self, chain)
        self.locks: dict[tuple, simpy.Resource] = {}
        self.instances: Counter = Counter()
        self.interpreter = Interpreter(self, chain)
        self.groups = {name: spec.group for name, spec in chain.processes.items()}
        self.kubelet: "Kubelet"

    def attach_kubelet(self, api: "ApiServer", rng: np.random.Generator) -> None:
        from .kubelet import Kubelet

        self.kubelet = Kubelet(self, api, rng)

    # ------------------------------------------------------------------ used by the interpreter
    def lock(self, process: str, spec: LockSpec, ctx: "CallContext") -> simpy.Resource:
        if spec.scope == "container":
            key = ctx.lock_key_container
        elif spec.scope == "pod":
            key = ctx.pod.name if ctx.pod is not None else ""
        else:
            key = ""
        k = (process, spec.name, key)
        res = self.locks.get(k)
        if res is None:
            res = self.locks[k] = simpy.Resource(self.env, capacity=spec.capacity)
        return res

    def count(self, items: str) -> int:
        pods = self.kubelet.pods
        sandboxes = sum(1 for p in pods if p.sandbox_state != "none")
        if items == "sandboxes":
            return sandboxes
        containers = sum(1 for p in pods for c in p.containers.values() if c.state != "none")
        return containers + sandboxes

    def spawn(self, process: str, pod: PodState | None) -> None:
        self.instances[process] += 1
        if pod is not None and process == self.chain.shimProcess:
            pod.has_shim = True

    # ------------------------------------------------------------------ pod outcomes
    def fail_pod(self, pod: PodState, hop: str, reason: str) -> None:
        pod.failed = True
        pod.failure_hop = hop
        pod.failure_reason = reason
        self.recorder.event(self.env.now, pod.name, "Failed", f"{hop}: {reason}")
        self.on_settled(pod)

    def observed_running(self, pod: PodState) -> None:
        if pod.running_observed is None and not pod.failed:
            pod.running_observed = self.env.now
            self.recorder.event(self.env.now, pod.name, "RunningObserved")
            self.on_settled(pod)

    # ------------------------------------------------------------------ memory
    def rss_mb(self) -> dict[str, float]:
        pods = self.kubelet.pods
        n_pods = sum(1 for p in pods if p.sandbox_state != "none")
        n_containers = sum(1 for p in pods for c in p.containers.values()
                           if c.state in ("created", "running"))
        out = {}
        for name, spec in self.chain.processes.items():
            r = spec.rssMB
            out[name] = (r.base + r.perPod * n_pods + r.perContainer * n_containers
                         + r.perInstance * self.instances[name])
        return out

    # ------------------------------------------------------------------ probe
    def probe(self, period: float):
        """Every ``period`` s: CPU cores used per process over the period, RSS, queue lengths."""
        env, rec = self.env, self.recorder
        last = self.cpu.totals()
        while True:
            yield env.timeout(period)
            now = env.now
            totals = self.cpu.totals()
            for proc, group in self.groups.items():
                used = totals.get(proc, 0.0) - last.get(proc, 0.0)
                rec.resource(now, proc, group, "cpu_cores", used / period)
            last = totals
            for proc, mb in self.rss_mb().items():
                rec.resource(now, proc, self.groups[proc], "rss_mb", mb)
            k = self.kubelet
            rec.resource(now, "cpu", "node", "queue", self.cpu.active)
            rec.resource(now, "image-puller", "kubelet", "queue",
                         len(k.pull_queue.items) if k.pull_queue is not None else 0)
            rec.resource(now, "status-manager", "kubelet", "queue", len(k.status_queue.items))
            rec.resource(now, "kube-api-client", "kubelet", "queue", k.client.waiting)
