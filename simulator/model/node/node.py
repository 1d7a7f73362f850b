"""A node: its cores, links, locks, processes and memory, wired to one chain and one kubelet.

``Node`` owns the resources every component shares (STYLE.md §2): the processor-shared CPU
cores that every step's CPU work competes for, the registry link and the unpack disk, the
locks named by the chain (created on first use, keyed by process, lock name and scope), the
image store, the count of long-lived spawned processes (shims, conmon) and the resident memory
that follows from them. A periodic probe records CPU, memory and queue lengths.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Callable, Optional

import simpy

from ...chains import Chain, LockSpec
from ...config import NodeConfig, Scenario
from ..fluid import FluidShare
from ..records import Recorder
from ..runtime.context import HopFailure
from ..runtime.images import ImageStore
from ..runtime.interpreter import Interpreter
from ..runtime.locks import HopLock
from ..state import ContainerState, PodState
from .sched_row import SchedulerRow

if TYPE_CHECKING:
    from ..interfaces import Faults, NodeKubelet
    from ..logs import LogPipeline
    from ..runtime.context import CallContext

__all__ = ["Node"]


class Node(SchedulerRow):
    def __init__(self, env: simpy.Environment, scenario: Scenario, chain: Chain,
                 recorder: Recorder, on_settled: Callable[[PodState], None],
                 name: str | None = None, pool: str = "", node_cfg: NodeConfig | None = None,
                 labels: dict[str, str] | None = None, label: str | None = None,
                 cni_install: str | None = None, log_agents: list | None = None):
        self.env = env
        self.scenario = scenario
        self.chain = chain
        self.label = label or chain.name  # the runtime name the outputs carry
        self.name = name or scenario.node.name
        self.pool = pool
        self.labels = dict(labels or {})
        SchedulerRow.__init__(self)
        # What the CNI caller finds in its configured directories (config/node.py CniConfig):
        # no network config -> the runtime's Status says NetworkReady=false with the chain's
        # message, the kubelet reports the node NotReady (kubelet.go updateRuntimeUp ->
        # runtimeState.setNetworkState) and refuses to sync pods that need a pod network.
        self.cni_install = cni_install or scenario.cni.install
        # the log agents on this node when not the scenario's (a migration reconfigured them)
        self.log_agents = log_agents
        cni = chain.cni_settings()
        self.network_error: str | None = (
            "container runtime network not ready: NetworkReady=false "
            f"reason:NetworkPluginNotReady message:{cni.notReadyMessage}"
            if self.cni_install == "missing-config" else None)
        self.network_hop = f"{chain.cniCaller}: CNI config ({cni.confDir.setting})"
        # /var/run/docker.sock for pods that mount it: there from the start where dockerd runs;
        # elsewhere a Docker DaemonSet may provide one (model/control/dind.py), else never
        self.docker_socket: simpy.Event | None = None
        if chain.has_docker_socket:
            self.docker_socket = env.event()
            self.docker_socket.succeed()
        # Docker daemons running inside pods (Docker-in-Docker, model/control/dind.py): their
        # processes' memory per daemon, counted in the pods' cgroup
        self.dind_rss: dict = {}
        self.retired = False
        self.inflight = 0  # CRI operations in flight (drives load-dependent faults)
        self.ips_allocated = 0
        self.ips_leaked = 0
        self.faults: Optional["Faults"] = None  # NodeFaults, attached by the simulation
        self.probed = True
        self._counted_at = -1.0
        self._counts = (0, 0)
        self.recorder = recorder
        self.on_settled = on_settled
        cfg = node_cfg or scenario.node
        self.node_cfg = cfg
        self.cpu = FluidShare(env, cfg.cpuCores, per_job_cap=1.0, name="cpu")
        self.link = FluidShare(env, cfg.registryBandwidthMBps,
                               per_job_cap=cfg.registryConnectionMBps, name="registry-link")
        self.disk = FluidShare(env, cfg.diskWriteMBps, name="disk")
        self.images = ImageStore(self, chain)
        self.locks: dict[tuple, HopLock] = {}
        self.instances: Counter = Counter()
        self.interpreter = Interpreter(self, chain)
        self.groups: dict[str, str] = {name: spec.group for name, spec in chain.processes.items()}
        self.kubelet: "NodeKubelet"  # attached by the simulation once built
        self.logs: Optional["LogPipeline"] = None  # container logs, when some container writes them

    # ------------------------------------------------------------------ used by the interpreter
    def lock(self, process: str, spec: LockSpec, ctx: "CallContext") -> HopLock:
        if spec.scope == "container":
            key = ctx.lock_key_container
        elif spec.scope == "pod":
            key = ctx.pod.name if ctx.pod is not None else ""
        else:
            key = ""
        k = (process, spec.name, key)
        res = self.locks.get(k)
        if res is None:
            res = self.locks[k] = HopLock(self.env, capacity=spec.capacity)
        return res

    def invalidate_counts(self) -> None:
        """Something on the node changed: the next ``count`` recounts."""
        self._counted_at = -1.0

    def count(self, items: str) -> int:
        """Sandboxes, or containers (sandboxes included), the runtime lists right now."""
        now = self.env.now
        if self._counted_at != now:  # counted once per instant until something changes
            pods = self.kubelet.pods  # a PodList: the counts are kept as states change
            self._counts = (pods.sandboxes, pods.containers + pods.sandboxes)
            self._counted_at = now
        return self._counts[0] if items == "sandboxes" else self._counts[1]

    def spawn(self, process: str, pod: PodState | None) -> None:
        self.instances[process] += 1
        if pod is not None and process == self.chain.shimProcess:
            pod.has_shim = True

    def reap(self, process: str, pod: PodState | None) -> None:
        if self.instances[process] > 0:
            self.instances[process] -= 1
        if pod is not None and process == self.chain.shimProcess:
            pod.has_shim = False

    # ------------------------------------------------------------------ pod network (IPAM)
    def cni_find_plugin(self, plugin: str, hop: str) -> None:
        """libcni looks the plugin binary up in the bin dir before it execs it
        (containernetworking/cni pkg/invoke/find.go FindInPath)."""
        if self.cni_install == "missing-binaries":
            cni = self.chain.cni_settings()
            raise HopFailure(hop, f'failed to find plugin "{plugin}" in path [{cni.binDir.default}]')

    def cni_add(self, pod: PodState | None, hop: str) -> None:
        """host-local IPAM: one address per pod from the node's range (facts §6)."""
        if pod is None or pod.has_ip:
            return
        if self.ips_allocated + self.ips_leaked >= self.scenario.cni.ipRangeSize:
            raise HopFailure(hop, "failed to allocate for range 0: no IP addresses available in range set")
        self.ips_allocated += 1
        pod.has_ip = True

    def cni_del(self, pod: PodState | None) -> None:
        if pod is None or not pod.has_ip:
            return
        pod.has_ip = False
        self.ips_allocated -= 1
        if self.faults is not None and self.faults.leak_ip():
            self.ips_leaked += 1
            self.recorder.event(self.env.now, pod.name, "IPLeaked", "CNI DEL did not release the address")

    # ------------------------------------------------------------------ containers dying under us
    def kill_container(self, pod: PodState, c: ContainerState, reason: str) -> bool:
        if c.state not in ("running", "created"):
            return False
        c.state = "exited"
        c.finished_at = self.env.now
        self.kubelet.poke()
        if self.chain.shimPer == "container":
            self.reap(self.chain.shimProcess, None)
        if pod.disrupted_at is None:
            pod.disrupted_at = self.env.now
        self.recorder.event(self.env.now, pod.name, "ContainerKilled", f"{c.spec.name}: {reason}")
        return True

    def kill_pod_containers(self, pod: PodState, reason: str, sandbox_only: bool = False) -> int:
        """The pod's processes die (daemon shutdown, shim crash): the runtime now reports the
        sandbox NOTREADY and the containers exited; the IP stays allocated until CNI DEL."""
        killed = 0
        if not sandbox_only:
            for c in pod.containers.values():
                killed += self.kill_container(pod, c, reason)
        if pod.sandbox_state == "ready":
            pod.sandbox_state = "notready"
            self.kubelet.poke()
            if pod.disrupted_at is None:
                pod.disrupted_at = self.env.now
            killed += 1
            if self.chain.shimPer == "container" or pod.has_shim:
                self.reap(self.chain.shimProcess, pod)
        return killed

    def on_health(self, healthy: bool) -> None:
        self.runtime_healthy = healthy

    # ------------------------------------------------------------------ pod outcomes
    def fail_pod(self, pod: PodState, hop: str, reason: str) -> None:
        pod.failed = True
        pod.failure_hop = hop
        pod.failure_reason = reason
        self.recorder.event(self.env.now, pod.name, "Failed", reason, hop=hop)
        self.on_settled(pod)

    def observed_running(self, pod: PodState) -> None:
        if pod.running_observed is None and not pod.failed:
            pod.running_observed = self.env.now
            self.recorder.event(self.env.now, pod.name, "RunningObserved")
            self.on_settled(pod)

    # ------------------------------------------------------------------ memory
    def memory_mb(self) -> dict[str, tuple[float, float, float]]:
        """Per process: (anonymous MB, RSS as ``ps`` sums it over the instances, PSS MB).

        Anonymous memory is private to each instance; the binary's file-backed pages
        (``rssMB.shared``) appear in every instance's RSS but are resident once, so the
        proportional set size (PSS) summed over the instances counts them once."""
        pods = self.kubelet.pods
        n_pods = pods.sandboxes
        n_containers = pods.live  # created or running
        out = {}
        for name, spec in self.chain.processes.items():
            r = spec.rssMB
            if spec.instances == "daemon":
                n = 1
            elif spec.instances == "spawned":
                n = self.instances[name]
            else:
                n = 0
            anon = r.base + r.perPod * n_pods + r.perContainer * n_containers + r.perInstance * n
            out[name] = (anon, anon + r.shared * n, anon + (r.shared if n else 0.0))
        if self.dind_rss:
            # one dockerd + containerd per running Docker-in-Docker container; their binaries'
            # pages come from one image layer, resident once on the node
            daemons = sum(1 for p in pods if p.docker_daemon is not None
                          and (c := p.containers.get(p.docker_daemon)) is not None and c.state == "running")
            for name, r in self.dind_rss.items():
                anon = r.base * daemons
                out[name] = (anon, anon + r.shared * daemons, anon + (r.shared if daemons else 0.0))
        return out

    # ------------------------------------------------------------------ probe
    def probe(self, period: float):
        """Every ``period`` s: CPU cores used per process over the period, RSS, queue lengths."""
        env, rec = self.env, self.recorder
        last = self.cpu.totals()
        idle = {name: spec.idleCpuCores for name, spec in self.chain.processes.items()
                if spec.idleCpuCores > 0}
        while not self.retired:
            for proc, cores in idle.items():  # idle instances' background CPU over the period
                n = self.instances[proc] if self.chain.processes[proc].instances == "spawned" else 1
                if n:
                    self.cpu.run(cores * n * period, proc)
            yield env.timeout(period)
            now = env.now
            totals = self.cpu.totals()
            for proc, group in self.groups.items():
                used = totals.get(proc, 0.0) - last.get(proc, 0.0)
                rec.resource(now, proc, group, "cpu_cores", used / period)
            last = totals
            for proc, (anon, rss, pss) in self.memory_mb().items():
                group = self.groups[proc]
                rec.resource(now, proc, group, "rss_mb", rss)
                rec.resource(now, proc, group, "pss_mb", pss)
                rec.resource(now, proc, group, "anon_mb", anon)
            k = self.kubelet
            rec.resource(now, "cpu", "node", "queue", self.cpu.active)
            for name, length in k.queue_lengths():
                rec.resource(now, name, "kubelet", "queue", length)
            rec.resource(now, "pod-ips", "node", "allocated", self.ips_allocated + self.ips_leaked)
            rec.resource(now, "pods", "node", "not_running", sum(
                1 for p in k.pods if p.running_observed is not None and p.disrupted_at is not None))
