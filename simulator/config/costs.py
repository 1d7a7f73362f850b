"""The ``kubeletCosts:`` section: CPU the kubelet spends on its own work, per action.

No published measurement splits the kubelet's CPU by activity, so every value here is an
ASSUMPTION with its reasoning in the field's description (``kubesim explain`` and ``kubesim
sensitivity`` read them from there). They matter on small nodes and for the steady-state CPU
figures; ``kubesim sensitivity`` ranks them by their effect on a chosen output.
"""

from __future__ import annotations

from pydantic import Field

from ..schema import Ms, StrictModel

__all__ = ["KubeletCosts", "assumption"]


def assumption(default: float, why: str) -> float:
    """A field default marked as an assumption, with its reasoning as the description."""
    return Field(default=default, description=f"ASSUMPTION: {why}")


class KubeletCosts(StrictModel):
    """Kubelet CPU per action, in milliseconds of one core."""

    admitMs: Ms = assumption(0.2, "admission handlers for one pod: sub-millisecond Go work")
    syncMs: Ms = assumption(0.5, "one syncPod's status generation and computePodActions: sub-millisecond Go work")
    podSetupMs: Ms = assumption(
        4.0, "the pod's QoS cgroup (pcm.EnsureExists) and data dirs on its first sync: a few ms of "
        "cgroupfs writes and mkdirs, half CPU, half waiting")
    relistBaseMs: Ms = assumption(0.1, "PLEG computing events from the two lists: fixed part")
    relistPerContainerMs: Ms = assumption(0.005, "PLEG per listed container (map lookups, state compare)")
    cadvisorPerContainerMs: Ms = assumption(
        1.0, "cAdvisor's 10 s housekeeping per container: a dozen cgroupfs reads and parses")
    cleanupPerPodMs: Ms = assumption(
        0.02, "HandlePodCleanups per pod every 2 s: desired vs running pods, orphaned volumes, cgroups, probes")
    statusBatchPerPodMs: Ms = assumption(
        0.02, "the status manager's 10 s syncBatch per pod: needsUpdate and needsReconcile (map lookups, "
        "a semantic DeepEqual)")
    volumeLoopPerPodMs: Ms = assumption(
        0.003, "each 100 ms pass of the volume populator and of the reconciler, per pod: map walks and "
        "volume-spec compares for a pod with one or two volumes")
    nodeStatusMs: Ms = assumption(
        2.0, "one node-status pass every 10 s: every setter (machine info, sorted image list, volumes, "
        "conditions) and the patch")
    summaryBaseMs: Ms = assumption(1.0, "one stats summary (eviction manager, 10 s): fixed part")
    summaryPerContainerMs: Ms = assumption(
        0.05, "one stats summary per container: copying and aggregating its stats, eviction signals")
    forkExecMs: Ms = assumption(
        2.0, "a fork + exec of a small coreutils binary (kernel fork/exec, dynamic loading); 1.20-1.21 "
        "ran du and find per pod per summary")
    etcHostsWalkMs: Ms = assumption(0.02, "the in-process walk of one small etc-hosts directory")
