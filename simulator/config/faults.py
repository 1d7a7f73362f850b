"""The ``faults:`` section: what goes wrong, where and when (each fault is attributed to the hop
where it strikes by the model)."""

from __future__ import annotations

from typing import Annotated, Literal, Union

from pydantic import Field, model_validator

from ..schema import MIN_RATE, NonNeg, PosSeconds, Seconds, StrictModel
from .costs import assumption

__all__ = [
    "Fault",
    "DaemonRestartFault",
    "ShimCrashFault",
    "StepErrorFault",
    "SlowStepFault",
    "RegistryFault",
    "CniIpLeakFault",
    "StopErrorFault",
    "NodeRebootFault",
]


class _When(StrictModel):
    """When a time-triggered fault strikes: at given times, periodically, or at a Poisson rate."""

    at: list[Seconds] = Field(default_factory=list)
    every: PosSeconds | None = None
    start: Seconds = 0.0
    # at least one per 30 days (schema.MIN_RATE): a slower fault never strikes within a run
    ratePerHour: Annotated[float, Field(ge=3600 * MIN_RATE)] | None = None
    until: PosSeconds | None = None
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
    downSeconds: Seconds = assumption(
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
    extraSeconds: PosSeconds


class RegistryFault(_Probabilistic):
    """Registry trouble during pulls: errors (5xx, 429 toomanyrequests) and slow transfers."""

    kind: Literal["registry"]
    reason: str = "500 Internal Server Error"
    # divides the per-stream and NIC bandwidth while the fault applies (1 = no slow-down)
    slowdown: Annotated[float, Field(ge=1)] = 1.0


class CniIpLeakFault(_Probabilistic):
    """CNI DEL never releases the pod's IP (kubernetes/kubernetes#34278, #86944; facts §6)."""

    kind: Literal["cniIpLeak"]


class StopErrorFault(StrictModel):
    """An error in a pod's stop path that the kubelet cannot get past, so the pod stays
    Terminating (facts §6 "Pods stuck Terminating"; model/node/stop_faults.py). Whether a pod is
    hit is drawn once per pod (``probability``), at its first termination; every retry of that
    pod then meets the same error until ``until`` (the cause fixed), if given.

    * ``notFound``: StopContainer answers "not found" (the runtime lost the container while the
      kubelet's cache still lists it: kubernetes/kubernetes#106734, #107483). Before PR #107670
      the kubelet treats it as a failure and retries forever; from it (1.24) a gRPC NotFound is
      success, but only a runtime that sends that code is helped: dockershim passes Docker's
      "No such container" on as Unknown (cri-dockerd from v0.3.2).
    * ``cniDelFailing``: the CNI plugin's DEL in StopPodSandbox keeps failing (its daemon
      unreachable: projectcalico/calico#7272, containerd/containerd#6565; a delegate's config:
      k8snetworkplumbingwg/multus-cni#669, containerd/containerd#9064); the pod keeps its IP.
    * ``shimUnresponsive``: the pod's shim (conmon) stops answering, so StopContainer hangs until
      the kubelet's deadline (runtimeRequestTimeout + grace period, facts §1.7); the containers,
      the shim and the IP stay (containerd/containerd#10755, #8847).
    """

    kind: Literal["stopError"]
    mode: Literal["notFound", "cniDelFailing", "shimUnresponsive"]
    probability: Annotated[float, Field(ge=0, le=1)] = 1.0
    # only pods of this template (None: every pod)
    template: str | None = None
    # the error text; None: the runtime's own wording for the mode (stop_faults.py)
    reason: str | None = None
    # from this time on the cause is gone (the CNI daemon back, the shim killed): the next
    # retry of each stuck pod succeeds; None: never
    until: PosSeconds | None = None
    # notFound only: does the kubelet treat a CRI NotFound as success (PR #107670)? None: as
    # its release does (config/versions.py 'criNotFoundIsSuccess'); and does the runtime answer
    # with the NotFound code? None: as the chain does (containerd and CRI-O yes; dockershim and
    # cri-dockerd 0.2 no)
    notFoundIsSuccess: bool | None = None
    runtimeReportsNotFound: bool | None = None
    nodes: list[str] | Literal["all"] = "all"

    @model_validator(mode="after")
    def _not_found_fields(self) -> "StopErrorFault":
        if self.mode != "notFound" and (self.notFoundIsSuccess is not None
                                        or self.runtimeReportsNotFound is not None):
            raise ValueError(f"notFoundIsSuccess and runtimeReportsNotFound apply to mode 'notFound' only, "
                             f"not to mode {self.mode!r}")
        return self


class NodeRebootFault(_When):
    """The node reboots (model/node/reboot.py): every container and shim dies, calls in flight
    fail, the runtime and the kubelet start again and the kubelet recreates every sandbox as its
    chain does (Docker and containerd keep the dead sandboxes, the kubelet kills and recreates
    them; CRI-O wipes its containers after a reboot). ``clean: false`` is a power loss or
    crash: image layers unpacked shortly before it may be left with their data missing while
    the runtime's metadata calls them complete (node.unsyncedLayerLossProbability; containerd
    #5854, #10457, PR #9401; moby #44909), and CRI-O, finding no clean-shutdown file, wipes its
    whole image store (cri-o pkg/config CrioCleanShutdownFile)."""

    kind: Literal["nodeReboot"]
    clean: bool = True
    bootSeconds: Seconds = assumption(
        40.0, "from the reboot to systemd starting the runtime and the kubelet on a cloud VM: the "
        "hypervisor's reset and firmware (~10-20 s), kernel and initramfs (~5 s), systemd to "
        "multi-user (~10-15 s); no published figure for Kubernetes nodes")
    kubeletStartSeconds: Seconds = assumption(
        2.0, "the kubelet's own start (flags and config, certificates, cAdvisor and the container "
        "manager) before its syncLoop runs, in parallel with the runtime's start")
    # None: the chain's start time (model/node/reboot.py RUNTIME_START, each an ASSUMPTION)
    runtimeStartSeconds: Seconds | None = None
    # remediation of images left corrupted: removed (crictl rmi, with the containers that hold
    # their snapshots) this long after the reboot, so the kubelet pulls them again; None: never
    removeImageAfterSeconds: Seconds | None = None
    # how a container on a corrupted image fails: at StartContainer (its binary reads as zero
    # bytes: "exec format error", the container exits with StartError) or right after starting
    # (a zero-byte library: the process exits at once)
    symptom: Literal["startError", "crash"] = "startError"


Fault = Annotated[
    Union[DaemonRestartFault, ShimCrashFault, StepErrorFault, SlowStepFault, RegistryFault, CniIpLeakFault,
          StopErrorFault, NodeRebootFault],
    Field(discriminator="kind"),
]
