"""What a pod's start-up waited on: a per-pod ledger of seconds by cause (docs/model/attribution.md).

A pod's start-up (created -> Running observed) is one path through the model: the control
plane delivers it, the kubelet admits and syncs it, the runtime creates its sandbox and
containers, PLEG notices, the status manager sends its status through the kubelet's API
client. Each component that makes the pod wait on that path ``charge``\\ s the seconds to one
cause; nothing here adds a SimPy event. The ledger closes when the kubelet first sets the pod's
status to Running (``close``): from then on only the status path is charged (``charge_status``),
so a pod's charges add up to its start-up, less what no component claimed (the experiments
layer reports that remainder as ``unattributed``).

Causes (the keys of ``PodState.blame``):

=================  ==========================================================================
``api_client``     waiting for a token of the kubelet's API client (kubeAPIQPS/kubeAPIBurst)
``cpu_queue``      a CPU-bound step taking longer than its work: the node's cores are shared
``lock:P N``       waiting for lock ``N`` of process ``P`` (a chain step's ``lock``)
``pleg``           waiting for PLEG's relist to notice a change (and the cache to be newer)
``image_pull``     EnsureImageExists' pull: the puller queue and the pull itself
``volumes``        WaitForAttachAndMount, less its TokenRequest's token and apiserver time
``control_plane``  scheduler and apiserver: created -> seen by the kubelet, requests, watches
``runtime``        the chain's own work: each step's service time (CPU and I/O)
``kubelet``        the kubelet's own work and loops: admission, sync CPU, resyncs, back-offs
``init_run``       the pod's init containers running (the workload's own time)
``retry``          after a sync that failed, waiting for the pod worker's next try (back-off,
                   resync): the failure's cost beyond the failed calls themselves
``restart``        the kubelet restarting (a reboot): its downtime and the waits it cut short
=================  ==========================================================================
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Optional

if TYPE_CHECKING:
    from .fluid import FluidShare
    from .state import PodState

__all__ = ["API_CLIENT", "CPU_QUEUE", "PLEG", "IMAGE_PULL", "VOLUMES", "CONTROL_PLANE", "RUNTIME",
           "KUBELET", "INIT_RUN", "RETRY", "RESTART", "CAUSES", "lock_cause", "charge", "charge_status", "close",
           "run_cpu", "overlap", "charge_step", "charge_wait", "charge_restart"]

API_CLIENT = "api_client"
CPU_QUEUE = "cpu_queue"
PLEG = "pleg"
IMAGE_PULL = "image_pull"
VOLUMES = "volumes"
CONTROL_PLANE = "control_plane"
RUNTIME = "runtime"
KUBELET = "kubelet"
INIT_RUN = "init_run"
RETRY = "retry"
RESTART = "restart"
CAUSES = (API_CLIENT, CPU_QUEUE, PLEG, IMAGE_PULL, VOLUMES, CONTROL_PLANE, RUNTIME, KUBELET, INIT_RUN, RETRY,
          RESTART)


def lock_cause(process: str, lock: str) -> str:
    return f"lock:{process} {lock}"


def charge(pod: Optional["PodState"], cause: str, seconds: float) -> None:
    """``seconds`` of the pod's start-up were spent on ``cause`` (ignored once the ledger closed)."""
    if pod is None or seconds <= 0 or pod.running_status_at is not None:
        return
    blame = pod.blame
    blame[cause] = blame.get(cause, 0.0) + seconds


def charge_status(pod: "PodState", cause: str, seconds: float) -> None:
    """The status path: after the kubelet set Running, until an observer sees it."""
    if seconds > 0:
        pod.blame[cause] = pod.blame.get(cause, 0.0) + seconds


def charge_step(pod: Optional["PodState"], process: str, lock: str, lock_wait: float, cpu_queue: float,
                own: float) -> None:
    """One chain step of a CRI call the pod worker waits for: its lock wait, CPU slow-down and
    own work (service time: CPU and I/O)."""
    if pod is None or pod.running_status_at is not None:
        return
    if lock_wait > 0:
        charge(pod, lock_cause(process, lock), lock_wait)
    charge(pod, CPU_QUEUE, cpu_queue)
    charge(pod, RUNTIME, own)


def charge_wait(pod: "PodState", woken_by: str, t_wait: float, t_woken: float, t_ready: float) -> None:
    """A pod worker waited from ``t_wait`` for an update (sent by ``woken_by``) until
    ``t_woken``, then for the pod cache until ``t_ready`` (PLEG). While one of its init
    containers ran, the pod waited for it; the rest of the wait for the update is the sender's
    (PLEG noticing the exit)."""
    if pod.running_status_at is not None:
        return
    ends = [c.finished_at for c in pod.containers.values()
            if c.init and c.finished_at is not None and t_wait < c.finished_at <= t_woken]
    ends += [c.finished_at for c in pod.old_instances
             if c.init and c.finished_at is not None and t_wait < c.finished_at <= t_woken]
    split = max(ends) if ends else t_wait
    charge(pod, INIT_RUN, split - t_wait)
    charge(pod, woken_by, t_woken - split)
    charge(pod, PLEG, t_ready - t_woken)


def charge_restart(pod: "PodState", now: float) -> None:
    """A new kubelet admits the pod again: what its path had not charged since the old kubelet
    saw it (the wait the restart cut short, the downtime) is the restart's."""
    if pod.kubelet_seen is not None:
        charge(pod, RESTART, now - pod.kubelet_seen - sum(pod.blame.values()))


def close(pod: "PodState", now: float) -> None:
    """The kubelet set the pod's status to Running: the start-up path goes on in the status
    manager; later charges of the sync path are not on it."""
    if pod.running_status_at is None:
        pod.running_status_at = now


def run_cpu(cpu: "FluidShare", pod: Optional["PodState"], work: float, tag: str, cause: str = KUBELET):
    """``cpu.run`` on the pod's path: the work to ``cause``, the slow-down to ``cpu_queue``."""
    t = cpu.env.now
    yield cpu.run(work, tag)
    if pod is not None:
        elapsed = cpu.env.now - t
        charge(pod, cause, min(work, elapsed))
        charge(pod, CPU_QUEUE, elapsed - work)


def overlap(a0: float, a1: float, b0: float, b1: float) -> float:
    """Length of the intersection of [a0, a1] and [b0, b1]."""
    return max(0.0, min(a1, b1) - max(a0, b0))
