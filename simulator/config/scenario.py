"""The scenario: everything one run needs besides the runtime and the seed.

A scenario says which node, which kubelet settings, which CNI plugin, which workload, which
faults and, for a cluster, which node pools. It is one pydantic model so that every key is
typed, every unknown key is refused and every value is checked before time zero. Keys are
camelCase as in Kubernetes objects.

This schema knows nothing of the chains: whether ``runtimes`` and the faults' steps and
processes name things a chain has is checked where the two meet, in
``simulator.config.loading``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, ValidationError, field_validator, model_validator

from ..errors import format_validation_error
from ..schema import (
    Ms,
    OPT_IN,
    PosSeconds,
    Seconds,
    StrictModel,
    drop_unused_options,
    format_duration,
    parse_kubernetes_version,
)
from .costs import KubeletCosts, assumption
from .faults import Fault
from .kubelet import KubeletConfig
from .logging import LoggingConfig, logging_problems
from .node import ApiServerConfig, CniConfig, NodeConfig, SchedulerConfig
from .streams import StreamsConfig, check_streams
from .versions import profile
from .workload import ImageSpec, WorkloadConfig

__all__ = ["Scenario", "SimulationConfig", "NodePool", "MigrationConfig", "DindConfig", "ClusterConfig",
           "Experiment"]


class SimulationConfig(StrictModel):
    # Simulated seconds after which pods not yet running are counted pending.
    horizonSeconds: PosSeconds = 900.0
    # After the last pod settles, keep simulating this long to measure steady-state CPU
    # (the node e2e resource tests measure over a window of running pods).
    steadyStateSeconds: Seconds = 60.0
    # Period of the resources time series (issue 11: at least 1 ms; MAX_SAMPLES below).
    sampleSeconds: Annotated[PosSeconds, Field(ge=0.001)] = 1.0
    # Record one span per hop visit (operations are always recorded).
    recordSpans: bool = True
    # Resource time series are sampled on at most this many nodes per pool (large clusters).
    probeNodesPerPool: Annotated[int, Field(ge=0)] = 2
    # How the kubelet's periodic background work runs on the nodes that are not sampled
    # (docs/model/background-work.md): ``simulated`` (event by event, as on sampled nodes) or
    # ``closed-form`` (an approximation for large clusters: the periodic resync of a pod that
    # runs undisturbed and the status manager's 10 s batch over statuses already sent are not
    # simulated; their CPU is charged at its mean rate, without competing with pod start-up).
    backgroundWork: Literal["simulated", "closed-form"] = Field(default="simulated", json_schema_extra=OPT_IN)

    @model_validator(mode="after")
    def _samples(self) -> "SimulationConfig":
        n = (self.horizonSeconds + self.steadyStateSeconds) / self.sampleSeconds
        if n > MAX_SAMPLES:
            raise ValueError(f"simulation.sampleSeconds = {self.sampleSeconds:g} over horizonSeconds + "
                             f"steadyStateSeconds = {self.horizonSeconds + self.steadyStateSeconds:g} s "
                             f"would take {n:,.0f} samples per node; the limit is {MAX_SAMPLES:,}: "
                             f"raise sampleSeconds to at least "
                             f"{(self.horizonSeconds + self.steadyStateSeconds) / MAX_SAMPLES:.3g}")
        return self


# ASSUMPTION: each sample is ~20-30 records per probed node (CPU, memory, queues per process);
# 200,000 samples (55 h at 1 s) keep a run's time series to a few hundred MB. The presets take
# at most a few thousand.
MAX_SAMPLES = 200_000


class NodePool(StrictModel):
    """``nodes`` identical nodes running one chain, with labels pods can select."""

    name: str
    nodes: Annotated[int, Field(ge=1, le=20_000)] = 1
    runtime: str
    labels: dict[str, str] = Field(default_factory=dict)
    # overrides of the scenario's node section for this pool (cpuCores, memoryGiB...)
    node: dict[str, Any] = Field(default_factory=dict)


class DindConfig(StrictModel):
    """How pods that mount the Docker socket (``dockerSocket: true``) run once their nodes have
    no dockerd (docs/model/migration.md, "Docker-in-Docker"):

    * ``pin``: as they are: the template's nodeSelector keeps them on Docker nodes;
    * ``daemonset``: a Docker daemon runs as a DaemonSet pod on every node without Docker and
      the pods mount its socket (a hostPath under /var/run/dind), so the nodeSelector keys the
      migration relabels (``migration.labels``) are dropped from their templates;
    * ``sidecar``: each pod gets its own ``docker:dind`` container (privileged) and talks to
      it over a shared emptyDir; the same keys are dropped.
    """

    strategy: Literal["pin", "daemonset", "sidecar"] = "pin"
    # the image the Docker daemon pod or sidecar runs; must be in ``images``
    image: str = "docker-dind"
    # dockerd's start-up inside the container before its socket answers: the entrypoint
    # generates TLS certificates (DOCKER_TLS_CERTDIR), then dockerd starts its own containerd
    # and restores its state.
    daemonStartSeconds: Seconds = assumption(
        3.0, "3 s from the docker:dind container starting to its socket answering: the "
        "entrypoint's TLS certificate generation (openssl, a 4096-bit key) plus dockerd and "
        "its containerd initialising on an empty /var/lib/docker; no published timing")
    # CPU the daemon's start-up burns (certificate generation, daemon init), in core-seconds
    daemonStartCpuSeconds: Seconds = assumption(
        1.0, "about a third of the start-up is CPU-bound (key generation, Go init)")


class MigrationConfig(StrictModel):
    """Move pools to another runtime one node at a time: cordon, drain (pods deleted and
    recreated by their controller elsewhere), reinstall, rejoin with the new runtime."""

    pools: list[str] = Field(min_length=1)
    toRuntime: str
    startSeconds: Seconds = 60.0
    reinstallSeconds: Seconds = assumption(300.0, "5 min to reinstall a node's runtime and rejoin "
                                          "(a new image or a package change, then a reboot)")
    # labels the reinstalled node gets (replacing the pool's)
    labels: dict[str, str] = Field(default_factory=dict)
    # The CNI settings on the reinstalled node (docs/model/migration.md): ``carried`` (the new
    # runtime's CNI section points at the same conf and bin dirs the kubelet's --cni-conf-dir /
    # --cni-bin-dir did), ``missing-config`` (its conf dir holds no network config: NetworkReady
    # false, node NotReady) or ``missing-binaries`` (config found, plugins not in its bin dir:
    # every CNI ADD fails, pods stay ContainerCreating).
    cniConfig: Literal["carried", "missing-config", "missing-binaries"] = "carried"
    # A careful plan waits for each reinstalled node to be Ready before draining the next and
    # stops the migration when one is not Ready within this many seconds; None = no such gate.
    readyTimeoutSeconds: PosSeconds | None = None
    dind: DindConfig = Field(default_factory=DindConfig)
    # The log-collection DaemonSets (``logging.agents``) on the reinstalled nodes: ``unchanged``
    # (still tailing the path and parsing the format they were set up for, e.g. Docker's
    # /var/lib/docker/containers/*/*.log as JSON: blind on containerd, its lines lost) or
    # ``reconfigured`` (tailing the kubelet's /var/log/containers/*.log links, which every
    # runtime's logs have, with a parser for both formats: fluent-bit's docker and cri parsers,
    # fluentd's multi-format) (docs/model/migration.md).
    logAgents: Literal["unchanged", "reconfigured"] = "unchanged"


class ClusterConfig(StrictModel):
    pools: list[NodePool] = Field(min_length=1)
    migration: MigrationConfig | None = None
    # kube-scheduler percentageOfNodesToScore adaptive default: 50 % - nodes/125 %, at least
    # 5 % (pkg/scheduler/schedule_one.go numFeasibleNodesToFind); scoring cost per node below.
    scorePerNodeMs: Ms = assumption(0.02, "~20 us of filter + score work per node considered")

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


class Experiment(StrictModel):
    """For a preset named after a published experiment: what the experiment ran, so that the
    preset's ``kubernetesVersion`` and chains can be checked against it."""

    source: str
    published: str  # when (year or date)
    kubernetesMin: str  # the Kubernetes releases the experiment ran on
    kubernetesMax: str


class Scenario(StrictModel):
    """Everything one run needs besides the runtime and the seed."""

    name: str = "custom"
    description: str = ""
    # The release whose kubelet behaviour (and defaults) the model follows (config/versions.py).
    kubernetesVersion: str = "1.23"
    experiment: Experiment | None = None
    kubelet: KubeletConfig = Field(default_factory=KubeletConfig)
    # CPU the kubelet spends per action (every value an ASSUMPTION, config/costs.py)
    kubeletCosts: KubeletCosts = Field(default_factory=KubeletCosts)
    node: NodeConfig = Field(default_factory=NodeConfig)
    cni: CniConfig = Field(default_factory=CniConfig)
    apiserver: ApiServerConfig = Field(default_factory=ApiServerConfig)
    scheduler: SchedulerConfig = Field(default_factory=SchedulerConfig)
    images: dict[str, ImageSpec] = Field(
        default_factory=lambda: {
            # pause:3.6 ~ 0.3 MB (cal. §3.9: pause:3.5 is 299 kB); nodes have it cached.
            "pause": ImageSpec(sizeMB=0.3, layers=1, prePulled=True),
        }
    )
    # The sandbox (pause) image, as in dockershim's/containerd's defaults (facts §2.1, §4.1).
    sandboxImage: str = "pause"
    workload: WorkloadConfig
    faults: list[Fault] = Field(default_factory=list)
    # kubectl exec/attach/port-forward/logs -f sessions (config/streams.py); absent = none
    streams: StreamsConfig | None = None
    # Several nodes in pools, each with its own chain; absent = one node (``node:``) running
    # the runtime being compared.
    cluster: ClusterConfig | None = None
    simulation: SimulationConfig = Field(default_factory=SimulationConfig)
    # Container logs: Docker's log-opts, kubectl logs readers, log agents (config/logging.py)
    logging: LoggingConfig | None = Field(default=None, json_schema_extra=OPT_IN)
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
    def _dind_image(self) -> "Scenario":
        mig = self.cluster.migration if self.cluster is not None else None
        if mig is not None and mig.dind.strategy != "pin" and mig.dind.image not in self.images:
            raise ValueError(
                f"cluster.migration.dind.strategy {mig.dind.strategy!r} runs the image "
                f"{mig.dind.image!r} (cluster.migration.dind.image), which is not in images "
                f"(known: {sorted(self.images)}); declare it, e.g. "
                f"images: {{{mig.dind.image}: {{sizeMB: 100, layers: 9}}}}")
        return self

    @model_validator(mode="after")
    def _fault_templates(self) -> "Scenario":
        known = [t.name for t in self.workload.templates]
        for i, f in enumerate(self.faults):
            template = getattr(f, "template", None)
            if template is not None and template not in known:
                raise ValueError(f"faults[{i}].template {template!r} is not a template of the workload "
                                 f"(templates: {known}); the fault would never strike")
        return self

    @model_validator(mode="after")
    def _logging(self) -> "Scenario":
        problems = logging_problems(self)
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @model_validator(mode="after")
    def _cluster_runtimes(self) -> "Scenario":
        if "pools" in self.runtimes and self.cluster is None:
            raise ValueError("runtimes: 'pools' (each pool keeps its own chain) needs a cluster: section")
        if self.cluster is not None:
            for pool in self.cluster.pools:
                try:
                    NodeConfig.model_validate({**self.node.model_dump(), **pool.node})
                except ValidationError as e:
                    raise ValueError(f"cluster pool {pool.name!r} node overrides: "
                                     f"{format_validation_error(e, 'node', model=NodeConfig, sep=' ')}") from None
        return self

    @field_validator("kubernetesVersion", mode="before")
    @classmethod
    def _version(cls, v: Any) -> str:
        major, minor = parse_kubernetes_version(v)
        return f"{major}.{minor}"

    @model_validator(mode="after")
    def _version_defaults(self) -> "Scenario":
        """Fill in the kubelet defaults of this release; refuse settings it does not have."""
        p = profile(self.kubernetesVersion)
        k = self.kubelet
        if k.kubeAPIQPS is None:
            k.kubeAPIQPS = float(p["kubeAPIQPS"])
        if k.kubeAPIBurst is None:
            k.kubeAPIBurst = int(p["kubeAPIBurst"])
        if k.maxParallelImagePulls is not None and not p["parallelPullLimit"]:
            raise ValueError(f"kubelet.maxParallelImagePulls exists from Kubernetes 1.27 "
                             f"(KEP-3673); kubernetesVersion is {self.kubernetesVersion}")
        if self.apiserver.priorityAndFairness is None:
            self.apiserver.priorityAndFairness = bool(p["priorityAndFairness"])
        if self.streams is not None:
            check_streams(self.streams, self.kubernetesVersion, [t.name for t in self.workload.templates])
        return self

    @field_validator("runtimes")
    @classmethod
    def _some_runtime(cls, v: list[str]) -> list[str]:
        # the names themselves are checked against the chains where scenario and chains meet
        # (``simulator.config.loading.check_against_chains``)
        if not v:
            raise ValueError("at least one runtime is needed")
        twice = sorted({r for r in v if v.count(r) > 1})
        if twice:
            raise ValueError(f"{', '.join(map(repr, twice))} is listed more than once; each runtime may "
                             "appear once (a repeated runtime would run, and count, its pods twice)")
        return v

    def resolved(self) -> dict:
        """The full scenario, defaults included, as saved with every result (an opt-in
        feature's fields only when the scenario uses them: ``schema.OPT_IN``)."""
        data = drop_unused_options(self, self.model_dump(mode="json"))
        if data.get("streams") is None:
            data.pop("streams", None)  # an optional section a scenario does not have
        k = data["kubelet"]
        for key in ("runtimeRequestTimeout", "syncFrequency"):
            k[key] = format_duration(k[key])
        return data
