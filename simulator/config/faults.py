"""The ``faults:`` section: what goes wrong, where and when (each fault is attributed to the hop
where it strikes by the model)."""

from __future__ import annotations

from typing import Annotated, Literal, Union

from pydantic import Field, model_validator

from ..schema import NonNeg, Pos, StrictModel
from .costs import assumption

__all__ = [
    "Fault",
    "DaemonRestartFault",
    "ShimCrashFault",
    "StepErrorFault",
    "SlowStepFault",
    "RegistryFault",
    "CniIpLeakFault",
]


class _When(StrictModel):
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


class _Probabilistic(StrictModel):
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
    downSeconds: NonNeg = assumption(
        10.0, "10 s from stop to serving again (systemd restart + daemon init); no published "
        "restart-time measurement in calibration.md")
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
