"""The chain schema: steps, locks, processes, memory, the operations the kubelet calls.

Validated with pydantic (``Chain.model_validate``); ``simulator.chains.loading`` reads the files,
merges ``base:`` chains and applies ``stepOverrides:``. Knows nothing of the model that runs it.
"""

from __future__ import annotations

from typing import Annotated, Literal, Optional

from pydantic import Field, model_validator

from ..schema import Dist, Ms, StrictModel, parse_kubernetes_version
from .streaming import STREAM_OPERATIONS, StreamingSpec
from .logs import LogsSpec

__all__ = ["Chain", "Step", "Operation", "ProcessSpec", "LockSpec", "PerItem", "FailureSpec", "RssSpec",
           "ImagePullSpec", "KubernetesRange", "CniConfigSpec", "CniSetting", "REQUIRED_OPERATIONS",
           "OPTIONAL_OPERATIONS", "OPERATIONS", "TRANSPORTS", "CONDITIONS", "iter_steps", "ALL_OPERATIONS"]

# kubelet_runtime_operations_duration_seconds{operation_type} names (facts §1.11) -> CRI method.
REQUIRED_OPERATIONS = {
    "run_podsandbox": "RunPodSandbox",
    "podsandbox_status": "PodSandboxStatus",
    "image_status": "ImageStatus",
    "pull_image": "PullImage",
    "create_container": "CreateContainer",
    "start_container": "StartContainer",
    "list_podsandbox": "ListPodSandbox",
    "list_containers": "ListContainers",
    "container_status": "ContainerStatus",
    "stop_container": "StopContainer",
    "stop_podsandbox": "StopPodSandbox",
    "remove_container": "RemoveContainer",
    "remove_podsandbox": "RemovePodSandbox",
}

# Calls the kubelet makes in the background (runtime status every 5 s, version with the node
# status, the image list, stats for the eviction manager). A chain may leave them out: they then
# cost the runtime nothing.
OPTIONAL_OPERATIONS = {
    "status": "Status",
    "version": "Version",
    "list_images": "ListImages",
    "image_fs_info": "ImageFsInfo",
    "list_container_stats": "ListContainerStats",
    # the kubelet's CRI log rotation, after renaming a container's log file (container_log_manager.go)
    "reopen_container_log": "ReopenContainerLog",
}
# every operation the kubelet can issue -> its CRI method name
OPERATIONS = {**REQUIRED_OPERATIONS, **OPTIONAL_OPERATIONS}
# ... and the operations of stream sessions (the chain's ``streaming:`` section, chains/streaming.py)
ALL_OPERATIONS = {**OPERATIONS, **STREAM_OPERATIONS}

TRANSPORTS = {
    "in-process": "a function call inside the same process",
    "grpc": "gRPC on a unix socket",
    "ttrpc": "ttrpc (containerd's lightweight gRPC) on a unix socket",
    "http": "HTTP (REST) on a unix socket",
    "exec": "fork/exec of a short-lived binary",
    "spdy": "an HTTP connection to the CRI stream server's URL, upgraded to SPDY streams",
}

# Conditions a step may be guarded by (``when:``).
CONDITIONS = {
    "podNetwork": "the pod does not use hostNetwork, so a CNI ADD is needed",
    "hostNetwork": "the pod uses the host's network namespace",
    "newShim": "no shim serves this task yet: a new long-lived shim process is started",
    "reuseShim": "a shim for this pod already runs (shim v2 groups a pod's containers)",
    "sandboxImageMissing": "the pause image is not on the node yet",
    "unfiltered": "a list call with no filter (PLEG's relist), not one filtered to a pod",
}

Items = Literal["containers", "sandboxes", "layers"]


class LockSpec(StrictModel):
    name: str
    scope: Literal["container", "pod", "node"]
    capacity: Annotated[int, Field(ge=1)] = 1
    source: str = Field(min_length=3)


class PerItem(StrictModel):
    """Extra cost per item: per container or sandbox a list call returns (its cost grows with
    what it lists), or per layer of the image a step works on (an overlay mount stacks one
    lower directory per layer)."""

    items: Items
    ms: Ms


class FailureSpec(StrictModel):
    reason: str
    probability: Annotated[float, Field(ge=0, le=1)]
    source: str = Field(min_length=3)


class Step(StrictModel):
    name: str
    process: str
    transport: Literal["in-process", "grpc", "ttrpc", "http", "exec", "spdy"] = "in-process"
    kind: Literal["work", "cniAdd", "cniLoopback", "cniDel", "pull"] = "work"
    service: Optional[Dist] = None
    cpuShare: Annotated[float, Field(ge=0, le=1)] = 0.5
    # the share of the service time that is CPU in the *calling* process: for a REST call, the
    # client library decoding the JSON reply (the docker client inside dockershim)
    callerCpuShare: Annotated[float, Field(ge=0, le=1)] = 0.0
    perItem: Optional[PerItem] = None
    when: Optional[
        Literal["podNetwork", "hostNetwork", "newShim", "reuseShim", "sandboxImageMissing", "unfiltered"]
    ] = None
    lock: Optional[LockSpec] = None
    spawns: bool = False
    # the step ends the long-lived process serving this task (a shim or conmon exits)
    reaps: bool = False
    calls: list["Step"] = Field(default_factory=list)
    failures: list[FailureSpec] = Field(default_factory=list)
    source: str = Field(min_length=3)
    note: str = ""

    @model_validator(mode="after")
    def _has_work(self) -> "Step":
        if self.kind == "work" and self.service is None and not self.calls:
            raise ValueError(f"step {self.name!r} has neither a service time nor calls")
        return self


class Operation(StrictModel):
    description: str = ""
    steps: list[Step] = Field(min_length=1)


class RssSpec(StrictModel):
    """Resident memory of a process, split as the kernel accounts it.

    ``base``, ``perPod``, ``perContainer`` and ``perInstance`` are *private* (anonymous)
    memory: heap, stacks, Go runtime; each instance of a spawned process has its own.
    ``shared`` is the file-backed part of each instance's RSS (the binary's text and read-only
    data): every instance of the binary maps the same page-cache pages, so ``ps`` shows them
    in each instance's RSS while a cgroup (and the node) holds them once. A cgroup's ``rss``
    (memory.stat, what the node e2e resource tests report as RSS) counts only anonymous pages;
    its working set (cAdvisor: usage minus inactive file pages) adds the file pages once.
    """

    base: Annotated[float, Field(ge=0)] = 0.0
    perPod: Annotated[float, Field(ge=0)] = 0.0
    perContainer: Annotated[float, Field(ge=0)] = 0.0
    perInstance: Annotated[float, Field(ge=0)] = 0.0
    shared: Annotated[float, Field(ge=0)] = 0.0


class ProcessSpec(StrictModel):
    """An OS-level process of the chain and how it is accounted.

    ``group`` is what the JSON summary reports it under (``kubelet`` or ``runtime``; the node
    e2e resource tests measured the kubelet's and the runtime's cgroups). ``osProcess`` names the
    process whose CPU it burns (dockershim runs inside the kubelet; CNI plugins are forked by
    whichever process calls them). ``instances`` says how many copies live: one daemon, one per
    spawning step (shims, conmon), or none between calls (runc, nsenter, CNI plugins).
    """

    group: Literal["kubelet", "runtime"]
    osProcess: Optional[str] = None
    instances: Literal["daemon", "spawned", "transient"] = "daemon"
    rssMB: RssSpec = Field(default_factory=RssSpec)
    # CPU each live instance burns while idle (a Go runtime's sysmon polling and periodic GC),
    # in cores; counted on nodes whose resources are sampled
    idleCpuCores: Annotated[float, Field(ge=0)] = 0.0
    description: str = ""
    source: str = Field(min_length=3)


class ImagePullSpec(StrictModel):
    downloadScope: Literal["node", "pull"]
    maxConcurrentDownloads: Annotated[int, Field(ge=1)]
    # Registry requests a pull makes, one after another, before the first layer's bytes flow
    # (API ping / auth challenge, token, manifest list, manifest, config blob), and per layer
    # (the blob GET and the redirect to blob storage); each costs one round trip
    # (``node.registryRttMs``).
    requestsBeforeLayers: Annotated[int, Field(ge=0)] = 0
    requestsPerLayer: Annotated[int, Field(ge=0)] = 0
    source: str = Field(min_length=3)


class CniSetting(StrictModel):
    """One CNI setting of the component that reads it: where it is set and its default."""

    setting: str  # the flag or config key
    default: str


class CniConfigSpec(StrictModel):
    """Where the chain's CNI configuration lives, read by ``cniCaller``: the kubelet's flags for
    dockershim, cri-dockerd's flags, containerd's CRI plugin section, CRI-O's network table.
    A migration that does not carry these settings over leaves the new runtime without a
    network (``cni.install`` on the node)."""

    confDir: CniSetting
    binDir: CniSetting
    # the NetworkReady=false message the runtime's CRI Status returns with no network config
    notReadyMessage: str
    source: str = Field(min_length=3)


class KubernetesRange(StrictModel):
    """The Kubernetes releases whose era a chain's structure and costs represent."""

    min: str
    max: Optional[str] = None  # None: up to the newest

    def contains(self, version: tuple[int, int]) -> bool:
        lo = parse_kubernetes_version(self.min)
        hi = parse_kubernetes_version(self.max) if self.max else (1, 10**6)
        return lo <= version <= hi

    def text(self) -> str:
        return f"{self.min}-{self.max}" if self.max else f"{self.min}+"


class Chain(StrictModel):
    name: str
    title: str
    description: str
    era: str = ""
    # the runtime this chain is a version of (dockershim, containerd, crio, cri-dockerd)
    family: str = ""
    kubernetes: Optional[KubernetesRange] = None
    # picked automatically when a scenario names the family and its Kubernetes version falls
    # in ``kubernetes`` (special-purpose variants, like a regression's chain, are not)
    autoSelect: bool = True
    # the kubelet gets pod and container stats from the runtime over CRI (ListContainerStats,
    # ImageFsInfo) rather than from cAdvisor (kubelet UsingLegacyCadvisorStats: Docker and
    # CRI-O use cAdvisor, containerd the CRI stats provider)
    criStats: bool = False
    base: Optional[str] = None
    cniCaller: str
    # where ``cniCaller`` reads its CNI settings (None in a chain file: the usual directories)
    cniConfig: Optional[CniConfigSpec] = None
    shimProcess: str
    # containerd's runc.v2 shim groups a pod's containers (facts §3.3); Docker's and conmon do not.
    shimPer: Literal["container", "pod"] = "container"
    # What a RunPodSandbox retry meets while the first request still runs in the runtime
    # (facts §4.2 step 1, §5.1 step 1, §2.2 step 2).
    sandboxNameReuse: Literal["fail", "wait", "recreate"] = "fail"
    sandboxNameReuseSource: str = "facts §4.2 step 1"
    # The daemon whose restart kills or keeps containers (dockerd, containerd, crio).
    daemon: str = ""
    processes: dict[str, ProcessSpec]
    imagePull: ImagePullSpec
    operations: dict[str, Operation]
    # kubectl exec / attach / port-forward / logs -f as the runtime serves them (chains/streaming.py)
    streaming: Optional[StreamingSpec[Step]] = None
    # how container output reaches a log file, who rotates it, who serves kubectl logs
    # (chains/logs.py); None: the chain does not model container logs
    logs: Optional[LogsSpec] = None
    notes: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _consistent(self) -> "Chain":
        missing = [op for op in REQUIRED_OPERATIONS if op not in self.operations]
        if missing:
            raise ValueError(f"chain {self.name!r} lacks operations {missing}")
        unknown_ops = [op for op in self.operations if op not in OPERATIONS]
        if unknown_ops:
            raise ValueError(
                f"chain {self.name!r} has operations the kubelet never calls: {unknown_ops}; "
                f"allowed: {sorted(OPERATIONS)}"
            )
        for p in (self.cniCaller, self.shimProcess):
            if p not in self.processes:
                raise ValueError(f"process {p!r} is not declared in processes")
        unknown = sorted(self.logs.processes() - set(self.processes)) if self.logs else []
        if unknown:
            raise ValueError(f"logs: processes {unknown} are not declared in processes")
        for op_name, steps in self.all_operations().items():
            for step in iter_steps(steps):
                if step.process not in self.processes:
                    raise ValueError(
                        f"operation {op_name}: step {step.name!r} runs in undeclared process "
                        f"{step.process!r}; declared: {sorted(self.processes)}"
                    )
        if self.streaming is not None:
            unknown = sorted(self.streaming.processes() - set(self.processes))
            if unknown:
                raise ValueError(f"streaming names undeclared processes {unknown}; declared: {sorted(self.processes)}")
        return self

    @property
    def has_docker_socket(self) -> bool:
        """The node runs dockerd, so /var/run/docker.sock exists (Docker-in-Docker pods)."""
        return "dockerd" in self.processes

    def cni_settings(self) -> CniConfigSpec:
        return self.cniConfig or CniConfigSpec(
            confDir=CniSetting(setting="CNI conf dir", default="/etc/cni/net.d"),
            binDir=CniSetting(setting="CNI bin dir", default="/opt/cni/bin"),
            notReadyMessage="cni config uninitialized",
            source="CNI's conventional directories (containernetworking/cni SPEC.md)")

    def all_operations(self) -> dict[str, list[Step]]:
        """Every operation's steps: the CRI operations and those of stream sessions."""
        out = {name: op.steps for name, op in self.operations.items()}
        if self.streaming is not None:
            out.update(self.streaming.operations())
        return out

    def os_process(self, process: str) -> str:
        spec = self.processes[process]
        return spec.osProcess or process

    def group_of_os_process(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for name, spec in self.processes.items():
            out.setdefault(spec.osProcess or name, spec.group)
        return out

    def hop_processes(self, operation: str) -> list[str]:
        """Processes an operation visits, in first-visit order."""
        seen: list[str] = []
        for s in iter_steps(self.operations[operation].steps):
            if s.process not in seen:
                seen.append(s.process)
        return seen


def iter_steps(steps: list[Step]):
    for s in steps:
        yield s
        yield from iter_steps(s.calls)
