"""Images, pods and the workload that creates them (the ``images:`` and ``workload:`` sections)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from ..schema import OPT_IN, NonNeg, PosSeconds, Qps, Rate, Seconds, StrictModel
from .costs import assumption
from .logging import ContainerLogs

__all__ = ["ImageSpec", "ContainerSpec", "PodSpec", "PodTemplate", "WorkloadConfig"]


class ImageSpec(StrictModel):
    """A container image: its compressed size, its layers and whether the node has it already."""

    # ASSUMPTION: at most 1 TB; the largest images in use (ML frameworks with models) are tens of GB
    sizeMB: Annotated[float, Field(ge=0, le=1_000_000)]
    layers: Annotated[int, Field(ge=1, le=128)] = 1
    prePulled: bool = False


class ContainerSpec(StrictModel):
    name: str
    image: str
    # For init containers: how long the process runs before exiting 0. Regular containers keep
    # running (a pause/sleep process).
    runSeconds: Seconds = 0.0
    # A regular container that exits with an error this long after each start (restartPolicy
    # Always: the kubelet restarts it behind CrashLoopBackOff, facts §1.6); None = never.
    crashAfterSeconds: Seconds | None = None
    # How many times it crashes before it stays up; None = every time.
    crashTimes: Annotated[int, Field(ge=1)] | None = None
    # Time the process takes to exit after SIGTERM.
    terminationSeconds: Seconds = assumption(0.5, "0.5 s from SIGTERM to exit for a well-behaved app")
    # The container's resident memory, counted only for what a pod that never finishes
    # terminating keeps on its node (stopError faults); 0: not counted.
    memoryMB: NonNeg = Field(default=0.0, json_schema_extra=OPT_IN)
    # what it writes to stdout (config/logging.py); None: nothing
    logs: ContainerLogs | None = Field(default=None, json_schema_extra=OPT_IN)


class PodSpec(StrictModel):
    containers: list[ContainerSpec] = Field(min_length=1)
    initContainers: list[ContainerSpec] = Field(default_factory=list)
    hostNetwork: bool = False
    # v1.PodSpec automountServiceAccountToken (default true): the pod gets its service
    # account's token as a volume, which the kubelet fetches before the pod starts: from
    # Kubernetes 1.21 a projected token (one TokenRequest per pod), before it the token Secret
    # (config/versions.py). Pods of the node e2e tests have none (no service-account
    # controller runs there). ``serviceAccountToken`` is accepted as an older name.
    automountServiceAccountToken: bool = Field(default=True, alias="serviceAccountToken")
    # Node labels the pod needs (spec.nodeSelector), e.g. {container-runtime: docker} for
    # Docker-in-Docker workloads that mount /var/run/docker.sock.
    nodeSelector: dict[str, str] = Field(default_factory=dict)
    # The pod mounts the Docker Engine socket (a hostPath volume /var/run/docker.sock of type
    # Socket), as Docker-in-Docker CI runners do. Only a node running dockerd has that socket;
    # elsewhere the volume never mounts and the pod stays ContainerCreating, unless the
    # cluster's migration plan runs the pods another way (``cluster.migration.dind``).
    dockerSocket: bool = Field(default=False, json_schema_extra=OPT_IN)
    # v1.PodSpec default terminationGracePeriodSeconds: 30.
    terminationGracePeriodSeconds: Seconds = 30.0

    @model_validator(mode="after")
    def _unique_names(self) -> "PodSpec":
        names = [c.name for c in self.initContainers + self.containers]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"container names must be unique within a pod; repeated: {dup}")
        return self


class PodTemplate(StrictModel):
    name: str = "pod"
    # pods draw their template at random with these weights ...
    # (at most 1e9, ASSUMPTION: so that the weights' sum stays finite and exact enough to draw from)
    weight: Annotated[float, Field(gt=0, le=1e9)] = 1.0
    # ... unless every template gives an exact count: then the workload creates exactly that
    # many of each, interleaved in template order (deterministic scenarios)
    count: Annotated[int, Field(ge=0)] | None = None
    spec: PodSpec


class WorkloadConfig(StrictModel):
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
    intervalSeconds: Seconds = 0.0
    ratePerSecond: Rate | None = None
    lifetimeSeconds: PosSeconds | None = None
    # kube-controller-manager --kube-api-qps 20 / --kube-api-burst 30 (its defaults,
    # cmd/kube-controller-manager/app/options: KubeCloudSharedOptions ClientConnection).
    controllerQPS: Qps = 20.0
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
            total = sum(c or 0 for c in counts)
            if total != self.pods:
                raise ValueError(f"the templates' counts add up to {total}, "
                                 f"but workload.pods is {self.pods}")
        return self
