"""Node reboots (``faults: nodeReboot``), clean and unclean, as each chain lives through them.

At the reboot every process on the node dies: the containers, their shims (conmon), the runtime
daemons and the kubelet. CRI calls in flight fail (every process's epoch moves on), pulls in
flight are lost, and the kubelet is gone with its goroutines and memory (``Kubelet.shutdown``);
the node is NotReady. It is back after ``bootSeconds``; the runtime then needs its start time
(``RUNTIME_START``, per chain, each an ASSUMPTION; or the fault's ``runtimeStartSeconds``) while
the kubelet starts in parallel (``kubeletStartSeconds``), so the new kubelet's syncLoop runs at
reboot + boot + max(runtime start, kubelet start) (``Kubelet.boot``): it lists its pods from
the apiserver, admits them again and syncs each as new. What the runtime kept decides the rest:

* Docker (dockershim, cri-dockerd) and containerd keep every container and sandbox, dead: the
  first relist finds each pod's sandbox NOTREADY, and SyncPod kills it (StopPodSandbox: the CNI
  DEL releases the IP, which host-local kept on disk) and creates a new one ("SandboxChanged",
  facts §1.4), then the containers: the chain's own restart costs.
* CRI-O wipes its containers and sandboxes when it starts after a reboot (its version file lives
  on a tmpfs: cri-o server/server.go ``wipeIfAppropriate`` -> ``removePodSandbox``, which tears
  the pod network down), so the kubelet finds no sandbox and simply creates one.

An unclean reboot (power loss, kernel crash) may also lose image data: each layer unpacked less
than ``node.layerWritebackSeconds`` before it is lost with probability
``node.unsyncedLayerLossProbability``: its files exist with zero bytes while the snapshot is
committed (containerd #5854, #10457, commit 23278c81 of PR #9401 "the files in committed snapshot
can be loss after unexpected power failure"; moby #44909). The runtime still lists the image, so
the kubelet never pulls it again (EnsureImageExists with IfNotPresent); a container on it fails
at its first runc exec ("exec format error"; containerd then reports it exited with StartError,
pkg/cri/server/container_start.go, so CrashLoopBackOff follows) or right after starting
(``symptom: crash``), until the image is removed (``removeImageAfterSeconds``: with the
containers whose snapshots hold its layers, else a re-pull reuses the broken snapshots,
containerd #5854) and pulled again. CRI-O instead finds no clean-shutdown file and removes its
whole storage directory (cri-o pkg/config ``CrioCleanShutdownFile``, internal/lib
``HandleUncleanShutdown``): nothing is corrupted, but every image, the pause image included, is
pulled again.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Callable, Iterator, Optional

from ..clock import call_later
from ..runtime.context import HopFailure

if TYPE_CHECKING:
    import numpy as np

    from ...chains import Chain, Step
    from ...config.faults import NodeRebootFault
    from ..interfaces import Faults
    from ..runtime.context import CallContext
    from ..state import ContainerState, PodState
    from .node import Node

__all__ = ["NodeReboots", "RUNTIME_START", "runtime_start_seconds", "reboot_notes"]

# Seconds from the node being up to the runtime answering CRI calls: (fixed, per container or
# sandbox the runtime restores or wipes, reasoning). All ASSUMPTIONs: no published start times.
RUNTIME_START: dict[str, tuple[float, float, str]] = {
    "containerd": (1.5, 0.002, "ASSUMPTION: containerd loads its plugins and the CRI plugin restores every "
                               "sandbox and container record from bbolt (~ms each); no shim to reconnect to"),
    "dockershim": (3.0, 0.02, "ASSUMPTION: dockerd starts its containerd, then restore() loads every "
                              "container's config from disk and cleans up the dead ones (mounts, network "
                              "endpoints): tens of ms each"),
    "cri-dockerd": (3.5, 0.02, "ASSUMPTION: as dockershim, plus cri-dockerd's own start"),
    "crio": (1.0, 0.05, "ASSUMPTION: CRI-O starts and wipes every sandbox after a reboot "
                        "(removePodSandbox: containers, shm, the CNI DEL, namespaces: tens of ms each)"),
}
# CRI-O after an unclean shutdown also removes its storage directory (os.RemoveAll of the graph root).
CRIO_STORAGE_WIPE_S = 2.0  # ASSUMPTION: a few seconds to delete a small node's image store
# A container on a corrupted image with ``symptom: crash`` exits this long after it started.
CRASH_AFTER_S = 0.1  # ASSUMPTION: the dynamic loader fails on a zero-byte library at once

EXEC_ERROR = ("{step} failed: unable to start container process: exec format error (image {image}: layer "
              "{layer} lost its data in an unclean reboot)")


def runtime_start_seconds(chain: "Chain", records: int, unclean: bool) -> float:
    base, per, _why = RUNTIME_START.get(chain.family or chain.name, RUNTIME_START["containerd"])
    wipe = CRIO_STORAGE_WIPE_S if unclean and (chain.family or chain.name) == "crio" else 0.0
    return base + per * records + wipe


def _first_runc(steps) -> Optional["Step"]:
    for s in steps:
        if s.process == "runc":
            return s
        found = _first_runc(s.calls)
        if found is not None:
            return found
    return None


class NodeReboots:
    def __init__(self, node: "Node", host: "Faults", reboots: list["NodeRebootFault"], rng: "np.random.Generator",
                 horizon: float, fault_times: Callable[..., Iterator[float]]):
        self.node = node
        self.env = node.env
        self.host = host  # NodeFaults: down_until, epoch, fired
        self.rng = rng
        self.chain = node.chain
        self.wipes = (self.chain.family or self.chain.name) == "crio"
        self.corrupted: dict[str, set[int]] = {}  # image -> layers whose data was lost
        self.symptom = "startError"
        self.rebooting = False
        self._exec_step = _first_runc(self.chain.operations["start_container"].steps)
        for f in reboots:
            self.env.process(self._run(f, horizon, fault_times))

    # ------------------------------------------------------------------ the reboot
    def _run(self, f: "NodeRebootFault", horizon: float, fault_times: Callable[..., Iterator[float]]):
        for t in fault_times(f, self.rng, horizon):
            if t > self.env.now:
                yield self.env.timeout(t - self.env.now)
            if self.rebooting:
                continue  # already down
            yield from self._reboot(f)

    def _reboot(self, f: "NodeRebootFault"):
        env, node, host, chain = self.env, self.node, self.host, self.chain
        t0 = env.now
        self.rebooting = True
        kind = "clean" if f.clean else "unclean"
        pods = list(node.kubelet.pods)
        records = node.count("containers")
        node.kubelet.shutdown(f"node rebooting ({kind})")
        killed = sum(node.kill_pod_containers(pod, f"node rebooted ({kind})") for pod in pods)
        for pod in pods:
            pod.inflight_sandbox = None
            pod.has_shim = False
        for name, spec in chain.processes.items():
            if spec.instances == "spawned":
                node.instances[name] = 0
            host.down_until[name] = math.inf
            host.epoch[name] += 1
        node.images.abort_pulls()
        stops = getattr(host, "stops", None)
        if stops is not None:
            stops.node_rebooted()
        lost = 0 if f.clean or self.wipes else self._lose_layers(t0)
        self.symptom = f.symptom
        detail = f"{kind} reboot: {killed} containers and sandboxes died" + (
            f", {lost} image layers lost their data" if lost else "")
        host.fired.append((t0, "nodeReboot", detail))
        node.recorder.event(t0, "", "NodeReboot", detail)
        yield env.timeout(f.bootSeconds)
        start = f.runtimeStartSeconds if f.runtimeStartSeconds is not None else runtime_start_seconds(
            chain, records, not f.clean)
        yield env.timeout(start)
        if self.wipes:
            self._crio_wipe(pods, unclean=not f.clean)
        for name in chain.processes:
            host.down_until.pop(name, None)
        node.recorder.event(env.now, "", "RuntimeStarted", f"{chain.daemon or chain.name} up after {start:.3f}s")
        if f.kubeletStartSeconds > start:
            yield env.timeout(f.kubeletStartSeconds - start)
        node.kubelet.boot()
        node.recorder.event(env.now, "", "KubeletStarted", f"{env.now - t0:.3f}s after the reboot")
        self.rebooting = False
        if self.corrupted and f.removeImageAfterSeconds is not None:
            call_later(env, max(0.0, t0 + f.removeImageAfterSeconds - env.now), self._remove_corrupted)

    def _lose_layers(self, t0: float) -> int:
        cfg = self.node.node_cfg
        p, window = cfg.unsyncedLayerLossProbability, cfg.layerWritebackSeconds
        if p <= 0:
            return 0
        lost = 0
        for image in sorted(self.node.images.unpacked_at):
            for layer, t in enumerate(self.node.images.unpacked_at[image]):
                if t0 - t < window and self.rng.random() < p:
                    self.corrupted.setdefault(image, set()).add(layer)
                    lost += 1
                    self.node.recorder.event(t0, "", "LayerLost",
                                             f"{image} layer {layer + 1}, unpacked {t0 - t:.3f}s before the reboot")
        return lost

    def _crio_wipe(self, pods: list["PodState"], unclean: bool) -> None:
        """CRI-O's start after a reboot: every sandbox removed (with its network), and after an
        unclean shutdown the whole image store."""
        node = self.node
        for pod in pods:
            if pod.sandbox_state == "none" and all(c.state == "none" for c in pod.containers.values()):
                continue
            node.cni_del(pod)
            pod.new_sandbox_generation()
            pod.old_instances.clear()
            pod.recreations += 1
            node.recorder.event(self.env.now, pod.name, "SandboxWiped", "crio wipe after the reboot")
        if unclean:
            node.images.wipe()
            node.recorder.event(self.env.now, "", "ImageStoreWiped",
                                "no clean-shutdown file: CRI-O removed its storage directory")
        node.kubelet.poke()

    def _remove_corrupted(self) -> None:
        for image in sorted(self.corrupted):
            self.node.images.remove(image)
            layers = ", ".join(str(i + 1) for i in sorted(self.corrupted[image]))
            self.node.recorder.event(self.env.now, "", "ImageRemoved",
                                     f"{image} (layers {layers} corrupted) removed with its containers; "
                                     "the kubelet pulls it again")
        self.corrupted.clear()

    # ------------------------------------------------------------------ per visit
    def check(self, step: "Step", ctx: "CallContext", hop: str) -> None:
        """A container on a corrupted image: its exec fails, or it crashes right after."""
        if step is not self._exec_step or ctx.container is None or ctx.image not in self.corrupted:
            return
        pod, c, image = ctx.pod, ctx.container, ctx.image
        assert pod is not None and image is not None
        layer = min(self.corrupted[image]) + 1
        reason = EXEC_ERROR.format(step=step.name, layer=layer, image=image)
        pod.fault_cause = (hop, reason)
        if self.symptom == "crash":
            call_later(self.env, CRASH_AFTER_S, self._crash, pod, c, reason)
            return
        # the runtime records the container exited with StartError (exit code 128)
        c.state = "exited"
        c.finished_at = self.env.now
        raise HopFailure(hop, reason)

    def _crash(self, pod: "PodState", c: "ContainerState", reason: str) -> None:
        if c.state == "created":  # the start has not returned yet
            call_later(self.env, CRASH_AFTER_S, self._crash, pod, c, reason)
            return
        if c.state != "running":
            return
        c.state = "exited"
        c.finished_at = self.env.now
        c.crashes += 1
        if pod.disrupted_at is None:
            pod.disrupted_at = self.env.now
        self.node.kubelet.poke()
        self.node.recorder.event(self.env.now, pod.name, "ContainerCrashed", f"{c.spec.name} exited with code 127: "
                                 + reason)


def reboot_notes(chain: "Chain") -> list[str]:
    """What a reboot means for this chain, for ``kubesim explain``."""
    family = chain.family or chain.name
    base, per, why = RUNTIME_START.get(family, RUNTIME_START["containerd"])
    lines = [f"After a reboot the runtime answers {base:g} s + {per * 1000:g} ms per container record after "
             f"the node is up ({why})."]
    if family == "crio":
        lines.append("CRI-O wipes its containers and sandboxes after a reboot (version file on a tmpfs), so the "
                     "kubelet creates fresh sandboxes; after an unclean shutdown it removes its whole image store "
                     "(no clean-shutdown file): every image is pulled again, none is left corrupted.")
    else:
        lines.append("The dead sandboxes survive the reboot: the kubelet kills each (CNI DEL releases its IP) and "
                     "creates a new one. After an unclean reboot, layers unpacked in the last "
                     "node.layerWritebackSeconds may have lost their data while the runtime lists the image as "
                     "present: containers on it fail until the image is removed and pulled again.")
    return lines
