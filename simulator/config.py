"""Scenario configuration: one validated object per run.

A scenario says which node, which kubelet settings, which CNI plugin, which workload. It is a
pydantic model so that every key is typed, every unknown key is refused and every value is
checked before time zero (STYLE.md §4). Keys are camelCase as in Kubernetes objects; the
``kubelet:`` section uses the real ``KubeletConfiguration`` field names and Go duration strings
(``runtimeRequestTimeout: 2m``) so that values can be pasted from a real kubelet config.

Every default names its source beside it: a row of ``shared/domain/calibration.md`` ("cal. row
N"), a section of ``shared/domain/kubelet-facts.md`` ("facts §N"), an upstream file, or, where no
published number exists, the word ASSUMPTION with the reasoning. ``kubesim explain`` and the docs
show these sources to users.
"""

from __future__ import annotations

import copy
import json
import math
import re
from pathlib import Path
from typing import Annotated, Any, Literal, Union

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic.functional_validators import BeforeValidator

__all__ = [
    "ConfigError",
    "Dist",
    "Scenario",
    "KubeletConfig",
    "NodeConfig",
    "ImageSpec",
    "ContainerSpec",
    "PodSpec",
    "WorkloadConfig",
    "parse_duration",
    "format_duration",
    "load_scenario",
    "apply_overrides",
    "format_validation_error",
    "RUNTIMES",
]

RUNTIMES = ("dockershim", "containerd", "crio", "cri-dockerd")


class ConfigError(ValueError):
    """A scenario, override or chain that cannot be used; the message is one readable paragraph."""


# --------------------------------------------------------------------------- durations
_DUR_RE = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")
_DUR_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_duration(value: Any) -> float:
    """Parse a Go duration string (``2m``, ``1m30s``, ``500ms``) or a number of seconds."""
    if isinstance(value, bool):
        raise ValueError(f"expected a Go duration such as '2m' or '500ms', got {value!r}")
    if isinstance(value, (int, float)):
        seconds = float(value)
    elif isinstance(value, str):
        text = value.strip()
        if text in ("0", "0s"):
            return 0.0
        pos, seconds = 0, 0.0
        for m in _DUR_RE.finditer(text):
            if m.start() != pos:
                break
            seconds += float(m.group(1)) * _DUR_UNITS[m.group(2)]
            pos = m.end()
        if pos != len(text) or not text:
            raise ValueError(
                f"expected a Go duration such as '2m', '1m30s' or '500ms', got {value!r}"
            )
    else:
        raise ValueError(f"expected a Go duration such as '2m' or '500ms', got {value!r}")
    if not math.isfinite(seconds) or seconds < 0:
        raise ValueError(f"a duration must be finite and not negative, got {value!r}")
    return seconds


def format_duration(seconds: float) -> str:
    """Format seconds back as a Go duration string (the form saved with results)."""
    if seconds == 0:
        return "0s"
    if seconds % 3600 == 0:
        return f"{int(seconds // 3600)}h"
    if seconds % 60 == 0:
        return f"{int(seconds // 60)}m"
    if seconds >= 1 and float(seconds).is_integer():
        return f"{int(seconds)}s"
    return f"{round(seconds * 1000, 6):g}ms"


Duration = Annotated[float, BeforeValidator(parse_duration)]
NonNeg = Annotated[float, Field(ge=0)]
Pos = Annotated[float, Field(gt=0)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, validate_default=True)


# --------------------------------------------------------------------------- distributions
class ConstantDist(_Model):
    """Always the same value."""

    dist: Literal["constant"] = "constant"
    ms: NonNeg


class ExponentialDist(_Model):
    """Exponential with the given mean (memoryless; used for queueing validation)."""

    dist: Literal["exponential"] = "exponential"
    meanMs: Pos


class LognormalDist(_Model):
    """Log-normal given by its median and 90th percentile, the two quantiles that kubelet
    metrics (summaries and histograms) report; p90 must be at least the median."""

    dist: Literal["lognormal"] = "lognormal"
    medianMs: Pos
    p90Ms: Pos

    @model_validator(mode="after")
    def _p90_above_median(self) -> "LognormalDist":
        if self.p90Ms < self.medianMs:
            raise ValueError(
                f"p90Ms ({self.p90Ms}) must be at least medianMs ({self.medianMs})"
            )
        return self


Dist = Annotated[
    Union[ConstantDist, ExponentialDist, LognormalDist], Field(discriminator="dist")
]


# --------------------------------------------------------------------------- kubelet
class KubeletConfig(_Model):
    """The ``KubeletConfiguration`` fields the model uses, with their Kubernetes 1.23 defaults."""

    # facts §0 / §1.10; cal. row 45: 5/10 through 1.26, 50/100 from 1.27 (PR #116121).
    kubeAPIQPS: Pos = 5
    kubeAPIBurst: Annotated[int, Field(ge=0)] = 10
    # facts §0; KL-1.23 config/v1beta1/types.go SerializeImagePulls "Default: true".
    serializeImagePulls: bool = True
    # facts §0: added in 1.27; None = no limit when serializeImagePulls is false.
    maxParallelImagePulls: Annotated[int, Field(ge=1)] | None = None
    # facts §0, §1.5 (throttleImagePulling, TryAccept): 5/10; 0 = unlimited.
    registryPullQPS: NonNeg = 5
    registryBurst: Annotated[int, Field(ge=0)] = 10
    # facts §0, §1.7: 2m; RunPodSandbox gets 2x.
    runtimeRequestTimeout: Duration = 120.0
    # facts §0: 110.
    maxPods: Annotated[int, Field(ge=1)] = 110
    # facts §0, §1.2: 1m, jittered by up to +50%.
    syncFrequency: Duration = 60.0
    # facts §0 / §1.10: separate event client, 5/10 (events do not block pod start).
    eventRecordQPS: NonNeg = 5
    eventBurst: Annotated[int, Field(ge=0)] = 10

    @model_validator(mode="after")
    def _parallel_pulls(self) -> "KubeletConfig":
        if self.serializeImagePulls and self.maxParallelImagePulls not in (None, 1):
            raise ValueError(
                "maxParallelImagePulls > 1 needs serializeImagePulls: false "
                "(the kubelet refuses this combination; KM pkg/kubelet/apis/config/validation)"
            )
        return self


# --------------------------------------------------------------------------- node, CNI, API
class NodeConfig(_Model):
    """The node's size and its links."""

    name: str = "node-1"
    # DESIGN.md default modern node; n1-standard-1 (1 vCPU) in the density preset.
    cpuCores: Annotated[float, Field(gt=0, le=1024)] = 4
    memoryGiB: Annotated[float, Field(gt=0)] = 16
    # ASSUMPTION: a 1 Gbit/s cloud NIC shared by all pulls (~118 MB/s of payload); no
    # published per-node registry bandwidth for these experiments exists.
    registryBandwidthMBps: Pos = 100.0
    # ASSUMPTION: one layer download is one HTTPS stream from the registry's blob store, which
    # alone rarely fills the NIC; ~30 MB/s per stream is typical of cloud registries.
    registryConnectionMBps: Pos = 30.0
    # ASSUMPTION: writing unpacked layers to a cloud persistent SSD (~200 MB/s sustained),
    # shared by concurrent unpacks; cal. row 54 reports SSD vs HDD start times but no MB/s.
    diskWriteMBps: Pos = 200.0
    # CPU to gunzip + untar one MB, on one core. ASSUMPTION: ~10 ms/MB (gzip inflates at
    # roughly 100 MB/s per core).
    unpackCpuMsPerMB: NonNeg = 10.0


class CniConfig(_Model):
    """The CNI plugin. Where it runs (kubelet or runtime daemon) is a property of the chain."""

    plugin: str = "bridge"
    # cal. rows 32-33: bridge/kubenet execution < 20 ms (2017) and < 100 ms with DAD disabled
    # (plugins PR #688). Median 40 ms, p90 90 ms sits inside that published range.
    add: Dist = Field(default_factory=lambda: {"dist": "lognormal", "medianMs": 40, "p90Ms": 90})
    # the loopback ADD dockershim makes before the pod network (facts §2.2 step 6).
    # ASSUMPTION: the loopback plugin only sets lo up: a few ms of fork/exec.
    loopbackAdd: Dist = Field(default_factory=lambda: {"dist": "lognormal", "medianMs": 4, "p90Ms": 8})
    # CNI DEL at StopPodSandbox: delete the veth, release the IP. ASSUMPTION: 20 ms median for
    # bridge + host-local; the one published DEL (realdata 1.21 tear_down_pod, aws-vpc-cni, n=1)
    # took ~75 ms.
    delete: Dist = Field(default_factory=lambda: {"dist": "lognormal", "medianMs": 20, "p90Ms": 60})
    # Fraction of CNI ADD that is CPU on the node (fork/exec, netlink). ASSUMPTION.
    cpuShare: Annotated[float, Field(ge=0, le=1)] = 0.5
    # IPs in the node's pod CIDR (host-local range); a /24 gives 254 (issue 3 uses it).
    ipRangeSize: Annotated[int, Field(ge=1)] = 254


class ApiServerConfig(_Model):
    """The apiserver as the kubelet and observers see it."""

    # ASSUMPTION: median 5 ms for a GET or PATCH of a pod on a healthy control plane; the only
    # published bound is the SLO 'mutating API calls p99 <= 1 s' (kubernetes/community
    # sig-scalability/slos/api_call_latency.md).
    requestLatency: Dist = Field(default_factory=lambda: {"dist": "lognormal", "medianMs": 5, "p90Ms": 15})
    # ASSUMPTION: watch event delivery (etcd -> apiserver watch cache -> client), tens of ms.
    watchDelay: Dist = Field(default_factory=lambda: {"dist": "lognormal", "medianMs": 20, "p90Ms": 60})
    # Watch fan-out: the watch cache dispatches each pod event, one at a time, to its
    # watchers: the pod's kubelet (indexed by spec.nodeName) plus the unfiltered ones
    # (scheduler, controller-manager, a test's observer). ASSUMPTION: 50 us per watcher.
    unfilteredWatchers: Annotated[int, Field(ge=0)] = 3
    dispatchPerWatcherMs: NonNeg = 0.05


class SchedulerConfig(_Model):
    """kube-scheduler: one pod at a time, binding through its own rate-limited client."""

    # false for node e2e tests: pods are created with spec.nodeName already set.
    enabled: bool = True
    # ASSUMPTION: scheduling-cycle time per pod for a small cluster (filter + score), a few ms.
    cycle: Dist = Field(default_factory=lambda: {"dist": "lognormal", "medianMs": 3, "p90Ms": 8})
    # kube-scheduler clientConnection qps/burst 50/100 (k8s pkg/scheduler/apis/config/v1beta2/
    # defaults.go SetDefaults_KubeSchedulerConfiguration).
    clientQPS: NonNeg = 50
    clientBurst: Annotated[int, Field(ge=0)] = 100
    # Unschedulable pods retry with podInitialBackoffSeconds 1 doubling to
    # podMaxBackoffSeconds 10 (KubeSchedulerConfiguration defaults).
    initialBackoffSeconds: Pos = 1.0
    maxBackoffSeconds: Pos = 10.0


# --------------------------------------------------------------------------- images and pods
class ImageSpec(_Model):
    """A container image: its compressed size, its layers and whether the node has it already."""

    sizeMB: NonNeg
    layers: Annotated[int, Field(ge=1, le=128)] = 1
    prePulled: bool = False


class ContainerSpec(_Model):
    name: str
    image: str
    # For init containers: how long the process runs before exiting 0. Regular containers keep
    # running (a pause/sleep process).
    runSeconds: NonNeg = 0.0
    # A regular container that exits with an error this long after each start (restartPolicy
    # Always: the kubelet restarts it behind CrashLoopBackOff, facts §1.6); None = never.
    crashAfterSeconds: NonNeg | None = None
    # How many times it crashes before it stays up; None = every time.
    crashTimes: Annotated[int, Field(ge=1)] | None = None
    # Time the process takes to exit after SIGTERM. ASSUMPTION: 0.5 s for a well-behaved app.
    terminationSeconds: NonNeg = 0.5


class PodSpec(_Model):
    containers: list[ContainerSpec] = Field(min_length=1)
    initContainers: list[ContainerSpec] = Field(default_factory=list)
    hostNetwork: bool = False
    # A projected service-account token: one TokenRequest through the kubelet's API client
    # before the volume is mounted (facts §1.10, 'Other per-pod API traffic').
    serviceAccountToken: bool = True
    # Node labels the pod needs (spec.nodeSelector), e.g. {container-runtime: docker} for
    # Docker-in-Docker workloads that mount /var/run/docker.sock.
    nodeSelector: dict[str, str] = Field(default_factory=dict)
    # v1.PodSpec default terminationGracePeriodSeconds: 30.
    terminationGracePeriodSeconds: NonNeg = 30.0

    @model_validator(mode="after")
    def _unique_names(self) -> "PodSpec":
        names = [c.name for c in self.initContainers + self.containers]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"container names must be unique within a pod; repeated: {dup}")
        return self


class PodTemplate(_Model):
    name: str = "pod"
    # pods draw their template at random with these weights ...
    weight: Pos = 1.0
    # ... unless every template gives an exact count: then the workload creates exactly that
    # many of each, interleaved in template order (deterministic scenarios)
    count: Annotated[int, Field(ge=0)] | None = None
    spec: PodSpec


class WorkloadConfig(_Model):
    """How pods arrive and leave.

    * ``batch``: all ``pods`` at once; ``interval``: one every ``intervalSeconds`` (the node e2e
      density test's rate control); ``poisson``: Poisson arrivals at ``ratePerSecond``.
    * ``deployment``: a ReplicaSet controller creating ``pods`` replicas in slow-start batches
      (1, 2, 4, ...) through the controller-manager's rate-limited client; with
      ``rolloutFrom: N`` it is a rolling update replacing N running pods ``maxSurge`` at a time.
    * ``churn``: Poisson creations at ``ratePerSecond``, each pod deleted ``lifetimeSeconds``
      after its creation (steady create/delete).
    * ``trace``: replay of a CSV file with columns ``time`` (s), ``template`` and optionally
      ``lifetime`` (s) and ``image`` (replaces the first container's image).
    """

    kind: Literal["batch", "interval", "poisson", "deployment", "churn", "trace"] = "batch"
    pods: Annotated[int, Field(ge=1, le=1_000_000)] = 30
    intervalSeconds: NonNeg = 0.0
    ratePerSecond: Annotated[float, Field(gt=0)] | None = None
    lifetimeSeconds: Annotated[float, Field(gt=0)] | None = None
    # kube-controller-manager --kube-api-qps 20 / --kube-api-burst 30 (its defaults,
    # cmd/kube-controller-manager/app/options: KubeCloudSharedOptions ClientConnection).
    controllerQPS: Pos = 20.0
    controllerBurst: Annotated[int, Field(ge=1)] = 30
    # Rolling update: replace this many existing pods; Deployment default maxSurge 25 %.
    rolloutFrom: Annotated[int, Field(ge=0)] = 0
    maxSurgePercent: Annotated[float, Field(gt=0, le=100)] = 25.0
    traceFile: str | None = None
    templates: list[PodTemplate] = Field(min_length=1)

    @model_validator(mode="after")
    def _kind_fields(self) -> "WorkloadConfig":
        if self.kind in ("poisson", "churn") and self.ratePerSecond is None:
            raise ValueError(f"workload.kind '{self.kind}' needs workload.ratePerSecond > 0")
        if self.kind == "churn" and self.lifetimeSeconds is None:
            raise ValueError("workload.kind 'churn' needs workload.lifetimeSeconds > 0")
        if self.kind == "interval" and self.intervalSeconds <= 0:
            raise ValueError("workload.kind 'interval' needs workload.intervalSeconds > 0")
        if self.kind == "trace" and not self.traceFile:
            raise ValueError("workload.kind 'trace' needs workload.traceFile (a CSV file)")
        counts = [t.count for t in self.templates]
        if any(c is not None for c in counts):
            if any(c is None for c in counts):
                raise ValueError("either every template gives a count or none does")
            if sum(counts) != self.pods:
                raise ValueError(f"the templates' counts add up to {sum(counts)}, "
                                 f"but workload.pods is {self.pods}")
        return self


class SimulationConfig(_Model):
    # Simulated seconds after which pods not yet running are counted pending.
    horizonSeconds: Pos = 900.0
    # After the last pod settles, keep simulating this long to measure steady-state CPU
    # (the node e2e resource tests measure over a window of running pods).
    steadyStateSeconds: NonNeg = 60.0
    # Period of the resources time series.
    sampleSeconds: Pos = 1.0
    # Record one span per hop visit (operations are always recorded).
    recordSpans: bool = True
    # Resource time series are sampled on at most this many nodes per pool (large clusters).
    probeNodesPerPool: Annotated[int, Field(ge=0)] = 2


# --------------------------------------------------------------------------- faults
class _When(_Model):
    """When a time-triggered fault strikes: at given times, periodically, or at a Poisson rate."""

    at: list[NonNeg] = Field(default_factory=list)
    every: Pos | None = None
    start: NonNeg = 0.0
    ratePerHour: Pos | None = None
    until: Pos | None = None
    # node names or pool names the fault applies to; "all" = every node
    nodes: list[str] | Literal["all"] = "all"

    @model_validator(mode="after")
    def _some_time(self) -> "_When":
        if not self.at and self.every is None and self.ratePerHour is None:
            raise ValueError("a time-triggered fault needs at least one of at, every, ratePerHour")
        return self


class _Probabilistic(_Model):
    """A per-visit fault: probability p0 + loadSlope x (CRI operations in flight on the node)."""

    probability: Annotated[float, Field(ge=0, le=1)] = 1.0
    loadSlope: NonNeg = 0.0
    nodes: list[str] | Literal["all"] = "all"


class DaemonRestartFault(_When):
    """The runtime daemon stops and restarts (``downSeconds`` unreachable). dockerd without
    ``liveRestore`` kills every running container on the way (facts §3.5, §6: restore() ->
    shutdownContainer); with it, and for containerd and CRI-O, containers keep running under
    their shims / conmon (facts §6)."""

    kind: Literal["daemonRestart"]
    daemon: Literal["runtime", "dockerd", "containerd", "crio"] = "runtime"
    # ASSUMPTION: 10 s from stop to serving again (systemd restart + daemon init); no
    # published restart-time measurement in calibration.md.
    downSeconds: NonNeg = 10.0
    liveRestore: bool = False


class ShimCrashFault(_When):
    """One shim (or conmon) process dies: the containers it serves die with it (facts §3.3)."""

    kind: Literal["shimCrash"]


class StepErrorFault(_Probabilistic):
    """A chain step returns an error (matched by process, step name and/or operation)."""

    kind: Literal["stepError"]
    process: str | None = None
    step: str | None = None
    operation: str | None = None
    reason: str = "injected error"


class SlowStepFault(_Probabilistic):
    """A chain step takes ``extraSeconds`` longer while holding its locks, e.g. a container
    start stuck on an NFS volume holding dockerd's per-container lock (kubernetes/kubernetes
    #94829, facts §6)."""

    kind: Literal["slowStep"]
    step: str
    process: str | None = None
    template: str | None = None
    # only while working on this container (by name); the sandbox's steps never match then
    container: str | None = None
    extraSeconds: Pos


class RegistryFault(_Probabilistic):
    """Registry trouble during pulls: errors (5xx, 429 toomanyrequests) and slow transfers."""

    kind: Literal["registry"]
    reason: str = "500 Internal Server Error"
    # divides the per-stream and NIC bandwidth while the fault applies (1 = no slow-down)
    slowdown: Annotated[float, Field(ge=1)] = 1.0


class CniIpLeakFault(_Probabilistic):
    """CNI DEL never releases the pod's IP (kubernetes/kubernetes#34278, #86944; facts §6)."""

    kind: Literal["cniIpLeak"]


Fault = Annotated[
    Union[DaemonRestartFault, ShimCrashFault, StepErrorFault, SlowStepFault, RegistryFault, CniIpLeakFault],
    Field(discriminator="kind"),
]


# --------------------------------------------------------------------------- cluster
class NodePool(_Model):
    """``nodes`` identical nodes running one chain, with labels pods can select."""

    name: str
    nodes: Annotated[int, Field(ge=1, le=20_000)] = 1
    runtime: str
    labels: dict[str, str] = Field(default_factory=dict)
    # overrides of the scenario's node section for this pool (cpuCores, memoryGiB...)
    node: dict[str, Any] = Field(default_factory=dict)


class MigrationConfig(_Model):
    """Move pools to another runtime one node at a time: cordon, drain (pods deleted and
    recreated by their controller elsewhere), reinstall, rejoin with the new runtime."""

    pools: list[str] = Field(min_length=1)
    toRuntime: str
    startSeconds: NonNeg = 60.0
    # ASSUMPTION: 5 min to reinstall a node's runtime and rejoin (image + reboot).
    reinstallSeconds: NonNeg = 300.0
    # labels the reinstalled node gets (replacing the pool's)
    labels: dict[str, str] = Field(default_factory=dict)


class ClusterConfig(_Model):
    pools: list[NodePool] = Field(min_length=1)
    migration: MigrationConfig | None = None
    # kube-scheduler percentageOfNodesToScore adaptive default: 50 % - nodes/125 %, at least
    # 5 % (pkg/scheduler/schedule_one.go numFeasibleNodesToFind); scoring cost per node below.
    # ASSUMPTION: ~20 us of filter + score work per node considered.
    scorePerNodeMs: NonNeg = 0.02

    @model_validator(mode="after")
    def _unique(self) -> "ClusterConfig":
        names = [p.name for p in self.pools]
        if len(set(names)) != len(names):
            raise ValueError(f"node pool names must be unique, got {names}")
        if self.migration:
            missing = [p for p in self.migration.pools if p not in names]
            if missing:
                raise ValueError(f"migration.pools names unknown pools {missing}; pools: {names}")
        return self


class Scenario(_Model):
    """Everything one run needs besides the runtime and the seed."""

    name: str = "custom"
    description: str = ""
    kubernetesVersion: str = "1.23"
    kubelet: KubeletConfig = Field(default_factory=KubeletConfig)
    node: NodeConfig = Field(default_factory=NodeConfig)
    cni: CniConfig = Field(default_factory=CniConfig)
    apiserver: ApiServerConfig = Field(default_factory=ApiServerConfig)
    scheduler: SchedulerConfig = Field(default_factory=SchedulerConfig)
    images: dict[str, ImageSpec] = Field(
        default_factory=lambda: {
            # pause:3.6 ~ 0.3 MB (cal. §3.9: pause:3.5 is 299 kB); nodes have it cached.
            "pause": {"sizeMB": 0.3, "layers": 1, "prePulled": True},
        }
    )
    # The sandbox (pause) image, as in dockershim's/containerd's defaults (facts §2.1, §4.1).
    sandboxImage: str = "pause"
    workload: WorkloadConfig
    faults: list[Fault] = Field(default_factory=list)
    # Several nodes in pools, each with its own chain; absent = one node (``node:``) running
    # the runtime being compared.
    cluster: ClusterConfig | None = None
    simulation: SimulationConfig = Field(default_factory=SimulationConfig)
    # Chain names to compare, or a path to a chain file.
    runtimes: list[str] = Field(default_factory=lambda: ["dockershim", "containerd"])

    @model_validator(mode="after")
    def _images_known(self) -> "Scenario":
        if self.sandboxImage not in self.images:
            raise ValueError(f"sandboxImage {self.sandboxImage!r} is not in images")
        for t in self.workload.templates:
            for c in t.spec.initContainers + t.spec.containers:
                if c.image not in self.images:
                    raise ValueError(
                        f"container {c.name!r} of template {t.name!r} uses image {c.image!r}, "
                        f"which is not in images (known: {sorted(self.images)})"
                    )
        return self

    @model_validator(mode="after")
    def _fault_targets(self) -> "Scenario":
        """A fault naming a step, process or operation no chain of this scenario has would
        silently never fire: refuse it (a step of another chain is fine in a mixed cluster)."""
        from .model.chain import REQUIRED_OPERATIONS, iter_steps, load_chain

        names = set(self.runtimes) - {"pools"}
        if self.cluster is not None:
            names |= {p.runtime for p in self.cluster.pools}
            if self.cluster.migration:
                names.add(self.cluster.migration.toRuntime)
        steps, processes = set(), set()
        for n in names:
            chain = load_chain(n)
            processes |= set(chain.processes)
            for op in chain.operations.values():
                steps |= {st.name for st in iter_steps(op.steps)}
        for i, f in enumerate(self.faults):
            step = getattr(f, "step", None)
            if step is not None and step not in steps:
                close = sorted(x for x in steps if step.lower() in x.lower())[:5]
                raise ValueError(f"faults[{i}].step {step!r} is not a step of {sorted(names)}"
                                 + (f"; did you mean one of {close}?" if close else
                                    "; see `kubesim explain RUNTIME` for step names"))
            proc = getattr(f, "process", None)
            if proc is not None and proc not in processes:
                raise ValueError(f"faults[{i}].process {proc!r} is not a process of {sorted(names)}; "
                                 f"processes: {sorted(processes)}")
            op = getattr(f, "operation", None)
            if op is not None and op not in REQUIRED_OPERATIONS:
                raise ValueError(f"faults[{i}].operation {op!r} is not a CRI operation; "
                                 f"allowed: {sorted(REQUIRED_OPERATIONS)}")
        return self

    @model_validator(mode="after")
    def _cluster_runtimes(self) -> "Scenario":
        if "pools" in self.runtimes and self.cluster is None:
            raise ValueError("runtimes: 'pools' (each pool keeps its own chain) needs a cluster: section")
        if self.cluster is not None:
            from .model.chain import known_chains

            allowed = known_chains()
            rts = [p.runtime for p in self.cluster.pools]
            if self.cluster.migration:
                rts.append(self.cluster.migration.toRuntime)
            for r in rts:
                if r not in allowed and not r.endswith((".yaml", ".yml")):
                    raise ValueError(f"cluster: unknown runtime {r!r}; allowed: {', '.join(allowed)}")
            for pool in self.cluster.pools:
                try:
                    NodeConfig.model_validate({**self.node.model_dump(), **pool.node})
                except ValidationError as e:
                    raise ValueError(f"cluster pool {pool.name!r} node overrides: "
                                     f"{format_validation_error(e, 'node')}") from None
        return self

    @field_validator("runtimes")
    @classmethod
    def _runtimes_known(cls, v: list[str]) -> list[str]:
        from .model.chain import known_chains

        allowed = known_chains()
        for r in v:
            if r not in allowed and r != "pools" and not r.endswith((".yaml", ".yml")):
                raise ValueError(
                    f"unknown runtime {r!r}; allowed: {', '.join(allowed)} or a chain file (.yaml)"
                )
        if not v:
            raise ValueError("at least one runtime is needed")
        return v

    def resolved(self) -> dict:
        """The full scenario, defaults included, as saved with every result."""
        data = self.model_dump(mode="json")
        k = data["kubelet"]
        for key in ("runtimeRequestTimeout", "syncFrequency"):
            k[key] = format_duration(k[key])
        return data


# --------------------------------------------------------------------------- errors
def _loc(loc: tuple) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            # pydantic adds the discriminator tag ('lognormal') and 'function-after' markers.
            if part in ("constant", "exponential", "lognormal") or "[" in str(part):
                continue
            out += ("." if out else "") + str(part)
    return out


def format_validation_error(err: ValidationError, where: str = "scenario") -> str:
    """One paragraph per problem: the field (dotted), the value given and what is allowed."""
    lines = []
    for e in err.errors():
        field = _loc(e["loc"])
        msg = e["msg"].removeprefix("Value error, ")
        if e["type"] == "extra_forbidden":
            parent = field.rsplit(".", 1)[0] if "." in field else "the top level"
            msg = f"unknown key (not a field of {parent}; check the spelling and camelCase)"
        value = e.get("input")
        shown = json.dumps(value, default=str) if not isinstance(value, dict) else "{...}"
        if len(shown) > 80:
            shown = shown[:77] + "..."
        end = "" if msg.endswith((".", "?", "!")) else "."
        if not field:
            lines.append(f"{where}: {msg}{end}")
            continue
        lines.append(f"{where} field '{field}' = {shown}: {msg}{end}")
    return " ".join(lines)


# --------------------------------------------------------------------------- loading
def _set_dotted(data: dict, dotted: str, value: Any) -> None:
    parts = dotted.split(".")
    cur: Any = data
    for i, p in enumerate(parts[:-1]):
        if isinstance(cur, list):
            try:
                cur = cur[int(p)]
                continue
            except (ValueError, IndexError):
                raise ConfigError(f"override '{dotted}': '{p}' is not a valid list index") from None
        if not isinstance(cur, dict):
            raise ConfigError(
                f"override '{dotted}': '{'.'.join(parts[:i])}' is a value, not a section"
            )
        cur = cur.setdefault(p, {})
    last = parts[-1]
    if isinstance(cur, list):
        try:
            cur[int(last)] = value
        except (ValueError, IndexError):
            raise ConfigError(f"override '{dotted}': '{last}' is not a valid list index") from None
    elif isinstance(cur, dict):
        cur[last] = value
    else:
        raise ConfigError(f"override '{dotted}': the parent is a value, not a section")


def parse_override(text: str) -> tuple[str, Any]:
    """``kubelet.kubeAPIQPS=60`` -> ('kubelet.kubeAPIQPS', 60). Values are read as YAML."""
    if "=" not in text:
        raise ConfigError(
            f"override {text!r} must look like key.path=value, e.g. kubelet.kubeAPIQPS=60"
        )
    key, raw = text.split("=", 1)
    key = key.strip()
    if not key or not re.fullmatch(r"[A-Za-z0-9_.\-]+", key):
        raise ConfigError(f"override {text!r}: '{key}' is not a dotted key path")
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError:
        value = raw
    return key, value


def apply_overrides(data: dict, overrides: list[str] | dict[str, Any] | None) -> dict:
    data = copy.deepcopy(data)
    if not overrides:
        return data
    items = overrides.items() if isinstance(overrides, dict) else map(parse_override, overrides)
    for key, value in items:
        _set_dotted(data, key, value)
    return data


def scenario_from_dict(data: dict, where: str = "scenario") -> Scenario:
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: expected a mapping of keys to values, got {type(data).__name__}")
    try:
        return Scenario.model_validate(data)
    except ValidationError as e:
        raise ConfigError(format_validation_error(e, where)) from None


def read_scenario_file(path: str | Path) -> dict:
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"scenario file {str(p)!r} does not exist")
    text = p.read_text(encoding="utf-8")
    try:
        if p.suffix == ".toml":
            import tomllib

            data = tomllib.loads(text)
        elif p.suffix == ".json":
            data = json.loads(text)
        else:
            data = yaml.safe_load(text)
    except Exception as e:  # noqa: BLE001 - any parse error becomes one readable paragraph
        raise ConfigError(f"scenario file {str(p)!r} could not be parsed: {e}".replace("\n", " ")) from None
    if not isinstance(data, dict):
        raise ConfigError(f"scenario file {str(p)!r} must hold a mapping at the top level")
    return data


def load_scenario(source: str | Path | dict, overrides: list[str] | dict | None = None) -> Scenario:
    """A scenario from a preset name, a YAML/TOML/JSON file or a dict, with dotted overrides."""
    from .presets import preset_data

    if isinstance(source, dict):
        data, where = source, "scenario"
    elif isinstance(source, (str, Path)) and Path(source).suffix in (".yaml", ".yml", ".toml", ".json"):
        data, where = read_scenario_file(source), f"scenario {Path(source).name}"
    else:
        data, where = preset_data(str(source)), f"preset {source}"
    return scenario_from_dict(apply_overrides(data, overrides), where)
