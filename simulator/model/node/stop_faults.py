"""Errors in a pod's stop path that the kubelet cannot get past (``faults: stopError``), facts §6
"Pods stuck Terminating".

Whether a pod is hit is drawn once per pod and fault, from the fault's own stream in pod-index
order (the same pods on every chain: common random numbers), when its termination first reaches
the runtime; every later attempt for that pod meets the same error until the fault's ``until``.
Each mode strikes where the runtime's code has it:

* ``notFound``: the runtime no longer has the container (removed behind the kubelet's back, the
  race of kubernetes/kubernetes#106734 and #107483) and StopContainer says so at the daemon's
  hop. The runtime answers with the gRPC NotFound code or not (``REPORTS_NOT_FOUND``); the
  kubelet treats NotFound as success only from PR #107670 (config/versions.py). Nothing of the
  container is left (its shim or conmon is gone too).
* ``cniDelFailing``: the CNI plugin's DEL fails in StopPodSandbox (its daemon unreachable:
  projectcalico/calico#7272, containerd #6565; a delegate's config: multus-cni#669, containerd
  #9064). The interpreter stops at the failing hop, so the pod keeps its IP (host-local never
  released it) and, on containerd, its shim; the runtime's own text wraps the plugin's error.
* ``shimUnresponsive``: the pod's shim (conmon on CRI-O) stops answering: every call into it
  hangs, holding the locks its callers hold (dockerd's container lock: kill.go
  killWithSignal locks the container while it signals through containerd), until the
  kubelet's deadline (runtimeRequestTimeout + grace period for StopContainer, facts §1.7). On
  containerd StopPodSandbox hangs as well, since it first stops the pod's containers through
  the same shim (CD-v1.6.0 sandbox_stop.go stopPodSandbox) and so never tears the network
  down; with a shim per container (Docker) the pause container's own shim still answers, and
  CRI-O tears the network down before it stops containers (CRIO-v1.24 sandbox_stop_linux.go),
  so there the IP is released.

``held_by`` says what a pod still Terminating at the end of a run holds.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..runtime.context import HopFailure

if TYPE_CHECKING:
    import numpy as np

    from ...chains import Chain, Step
    from ..runtime.context import CallContext
    from ..state import PodState
    from .node import Node

__all__ = ["StopPathFaults", "REPORTS_NOT_FOUND", "held_by", "stop_path_notes"]

# How long a call into an unresponsive shim waits when the fault never clears: past any horizon.
HANG_S = 1e9

# Does the runtime answer StopContainer for a container it does not have with the gRPC NotFound
# code (the only thing the kubelet's crierror.IsNotFound looks at)?
REPORTS_NOT_FOUND: dict[str, tuple[bool, str]] = {
    "containerd": (True, "CD-v1.6.0 pkg/cri/server/container_stop.go (containerStore.Get: "
                         "errdefs.ErrNotFound), instrumented_service.go (errdefs.ToGRPC)"),
    "crio": (True, "CRIO-v1.24 server/container_stop.go: status.Errorf(codes.NotFound, "
                   "\"could not find container ...\")"),
    "dockershim": (False, "K1.23 pkg/kubelet/dockershim/docker_container.go StopContainer returns "
                          "Docker's \"No such container\" as is: gRPC Unknown"),
    "cri-dockerd": (False, "cri-dockerd 0.2 passes Docker's error on like dockershim; NotFound "
                           "from v0.3.2 (Mirantis/cri-dockerd commit 2975a73b, 2023-04-18)"),
}

_NOT_FOUND_TEXT = {
    "containerd": 'an error occurred when try to find container "{cid}": not found',
    "crio": 'could not find container "{cid}"',
    "dockershim": "Error response from daemon: No such container: {cid}",
}
_CNI_DEL_PREFIX = {
    "containerd": 'failed to destroy network for sandbox "{sid}": ',
    "crio": "failed to destroy network for pod sandbox {pod}({sid}): ",
    "dockershim": 'networkPlugin cni failed to teardown pod "{pod}" network: ',
}
# the plugin's error of projectcalico/calico#7272 (its daemon unreachable)
DEFAULT_CNI_DEL_ERROR = ("could not remove grpc wire: rpc error: code = Unavailable desc = connection "
                         "error: connect: connection refused")


class StopPathFaults:
    def __init__(self, node: "Node", faults: list, rng: "np.random.Generator"):
        self.node = node
        self.env = node.env
        self.faults = faults
        self.rng = rng
        chain = node.chain
        self.chain = chain
        self.family = chain.family or chain.name
        self._text_family = {"cri-dockerd": "dockershim"}.get(self.family, self.family)
        self._draws: list[list[float]] = [[] for _ in faults]
        self._hit: dict[str, list[int]] = {}  # pod name -> indices of the faults that hit it
        stop = chain.operations["stop_podsandbox"].steps
        self._sandbox_entry = stop[0] if stop else None
        self._reported: set[str] = set()  # container ids already lost

    # ------------------------------------------------------------------ which pods
    def _u(self, i: int, index: int) -> float:
        draws = self._draws[i]
        while len(draws) <= index:
            draws.append(float(self.rng.random()))
        return draws[index]

    def _active(self, ctx: "CallContext") -> list:
        pod = ctx.pod
        if pod is None or pod.deletion_requested is None:
            return []
        hit = self._hit.get(pod.name)
        if hit is None:
            hit = [i for i, f in enumerate(self.faults)
                   if (f.template is None or f.template == pod.template) and self._u(i, pod.index) < f.probability]
            self._hit[pod.name] = hit
        now = self.env.now
        return [self.faults[i] for i in hit if self.faults[i].until is None or now < self.faults[i].until]

    def node_rebooted(self) -> None:
        """Every process died: a hung shim and the kubelet's stale view of a lost container go
        with them (the new kubelet lists what the runtime has); a broken CNI plugin stays."""
        for name, hit in self._hit.items():
            self._hit[name] = [i for i in hit if self.faults[i].mode == "cniDelFailing"]

    # ------------------------------------------------------------------ per visit
    def extra(self, step: "Step", ctx: "CallContext", hop: str) -> float:
        """Seconds a call into an unresponsive shim hangs (while holding its callers' locks)."""
        for f in self._active(ctx):
            if f.mode != "shimUnresponsive":
                continue
            hangs = (ctx.operation == "stop_container" and step.process == self.chain.shimProcess) or (
                ctx.operation == "stop_podsandbox" and self.chain.shimPer == "pod" and step is self._sandbox_entry)
            if hangs:
                pod = ctx.pod
                assert pod is not None
                if step.process == self.chain.shimProcess or not pod.fault_cause:
                    pod.fault_cause = (hop, f"{self.chain.shimProcess} not answering: the call waits for the "
                                            "kubelet's deadline (runtimeRequestTimeout, + grace for StopContainer)")
                self.node.recorder.event(self.env.now, pod.name, "ShimUnresponsive", "hangs", hop=hop)
                return (f.until - self.env.now) if f.until is not None else HANG_S
        return 0.0

    def check(self, step: "Step", ctx: "CallContext", hop: str) -> None:
        """After a step: raise the error the runtime answers with."""
        for f in self._active(ctx):
            if f.mode == "notFound" and ctx.operation == "stop_container" and step.process == self.chain.daemon:
                self._not_found(f, ctx, hop)
            elif f.mode == "cniDelFailing" and ctx.operation == "stop_podsandbox" and step.kind == "cniDel":
                pod = ctx.pod
                assert pod is not None
                plugin = f.reason or DEFAULT_CNI_DEL_ERROR
                reason = _CNI_DEL_PREFIX.get(self._text_family, "").format(pod=pod.name, sid=pod.sandbox_id) + plugin
                pod.fault_cause = (hop, reason)
                raise HopFailure(hop, reason)

    def _not_found(self, f, ctx: "CallContext", hop: str) -> None:
        c, pod = ctx.container, ctx.pod
        if c is None or pod is None:
            return
        reports, _src = REPORTS_NOT_FOUND.get(self.family, (True, ""))
        if f.runtimeReportsNotFound is not None:
            reports = f.runtimeReportsNotFound
        reason = f.reason or _NOT_FOUND_TEXT.get(self._text_family, "not found").format(cid=c.cid)
        if c.cid not in self._reported:
            # the runtime lost the container: its process and its shim (conmon) are gone too
            self._reported.add(c.cid)
            c.lost = True
            if self.chain.shimPer == "container":
                self.node.reap(self.chain.shimProcess, None)
            self.node.recorder.event(self.env.now, pod.name, "ContainerLost", c.spec.name, hop=hop)
        pod.fault_cause = (hop, reason)
        raise HopFailure(hop, reason, code="NotFound" if reports else "Unknown")


# ---------------------------------------------------------------------- what a stuck pod holds
def held_by(pod: "PodState", node: "Node") -> dict:
    """What a pod that never finished terminating still holds on its node: its slot against
    maxPods, its IP, its live containers and their shims (conmon), and their memory: each shim
    instance's private RSS, the daemons' per-container memory, and the containers' own
    ``memoryMB`` (workload)."""
    chain = node.chain
    alive = [c for c in pod.containers.values() if c.state in ("created", "running") and not c.lost]
    sandbox_shim = any(s.spawns for s in _iter(chain.operations["run_podsandbox"].steps))
    if chain.shimPer == "pod":
        shims = 1 if pod.has_shim else 0
    else:
        shims = len(alive) + (1 if sandbox_shim and pod.sandbox_state == "ready" else 0)
    shim_spec = chain.processes[chain.shimProcess].rssMB
    per_container = sum(p.rssMB.perContainer for p in chain.processes.values() if p.instances == "daemon")
    memory = shims * shim_spec.perInstance + len(alive) * per_container + sum(c.spec.memoryMB for c in alive)
    return {"ip": int(pod.has_ip), "sandbox": pod.sandbox_state, "containers": len(alive), "shims": shims,
            "memory_mb": memory}


def _iter(steps):
    for s in steps:
        yield s
        yield from _iter(s.calls)


# ---------------------------------------------------------------------- kubesim explain
def stop_path_notes(chain: "Chain") -> list[str]:
    """How this chain's stop path fails, for ``kubesim explain``."""
    family = chain.family or chain.name
    reports, src = REPORTS_NOT_FOUND.get(family, (True, "as containerd"))
    lines = [
        "The kubelet's kill (killPodWithSyncResult) stops every container, then the sandbox even if a "
        "container failed, and then fails; the pod worker retries after 10-15 s (pod_workers.go "
        "completeWork) for as long as the error lasts, and the pod stays Terminating (faults: stopError).",
        f"A container the runtime no longer has: {'gRPC NotFound' if reports else 'gRPC Unknown'} ({src}); "
        + ("a kubelet with PR #107670 (1.24+) treats it as stopped and the pod goes." if reports else
           "a kubelet with PR #107670 (1.24+) treats only NotFound as stopped, so on this chain the fix "
           "cannot help: the pod stays Terminating."),
    ]
    if chain.shimPer == "pod":
        lines.append(f"An unresponsive {chain.shimProcess} (one per pod) hangs StopContainer and StopPodSandbox "
                     "(which first stops the pod's containers through it, CD-v1.6.0 sandbox_stop.go): "
                     "containers, shim and IP stay.")
    elif family == "crio":
        lines.append(f"An unresponsive {chain.shimProcess} hangs StopContainer; StopPodSandbox tears the network "
                     "down first (CRIO-v1.24 sandbox_stop_linux.go), so the IP is released while the containers "
                     "and their conmon stay.")
    else:
        lines.append(f"An unresponsive {chain.shimProcess} hangs StopContainer while dockerd holds the container's "
                     "lock (moby daemon/kill.go killWithSignal), so every inspect of it waits too: PLEG's "
                     "re-inspection of the pod then lasts the 2-minute CRI deadline in every relist, syncs crawl "
                     "and PLEG can go unhealthy; the pause container's own shim still answers, so the IP is "
                     "released.")
    lines.append(f"A failing CNI DEL ({chain.cniCaller} calls the plugin) fails StopPodSandbox at the cni hop: the "
                 "IP stays allocated in host-local until a DEL succeeds"
                 + (" (dockershim also stops the pause container before returning the error, docker_sandbox.go; "
                    "the model stops at the failing hop, so the pause container's shim stays too)."
                    if family in ("dockershim", "cri-dockerd") else "."))
    return lines

