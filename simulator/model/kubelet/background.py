"""Periodic resyncs charged in closed form: ``simulation.backgroundWork: closed-form``, an
approximation for large clusters (docs/model/background-work.md).

A pod that runs undisturbed is synced again every ``syncFrequency`` x U[1, 1.5) (pod_workers.go
``completeWork``), rounded up to the syncLoop's 1 s tick: ~30 million resyncs for 150,000 pods
over the 8 h of the cluster-density test, each of which finds nothing to do. On a node whose
resources are not sampled, ``closed-form`` does not simulate them: once a sync leaves a pod
running with nothing left to do (its sandbox ready, its init containers done, every regular
container running, as PLEG last saw it and as it is), the pod *rests*: no resync is queued, and
the resyncs it would have had are charged to the kubelet's CPU (``syncMs`` each, as many as a
renewal process with the resync's period has on average in that time) when it wakes. Any change to the pod (a container dying, PLEG seeing it, a
deletion) is delivered by ``UpdatePod`` as before and ends the rest.

What is lost (the reason this is an approximation and not the default):

* the resyncs' CPU does not compete with pod start-up on the node (0.5 ms per pod every
  ~75 s: ~0.02 % of a core for 30 pods);
* each resync's jitter draw from the kubelet's random stream is not made, so later draws on
  that node (latencies of later pods' CRI calls) are different samples of the same
  distributions: per-pod results differ, distributions do not;
* ``syncs`` in the pods table counts only the syncs that were simulated.

Resyncs that do more than CPU are never skipped: a pod in CrashLoopBackOff or image pull
back-off, one whose sync failed (error back-off), one being deleted, and every pod on a release
whose resync remounts the token Secret through the API client (the TTL cache, before 1.12:
``VolumeManager.remount``). The wiring (``kubelet.py``) leaves out the latter case.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Optional

if TYPE_CHECKING:
    import simpy

    from ...config.versions import Profile
    from ..fluid import FluidShare
    from ..node.node import Node
    from ..state import PodState
    from .pod_cache import PodStatus

__all__ = ["ClosedFormResyncs", "closed_form", "closed_form_resyncs"]


def closed_form(node: "Node") -> bool:
    """``simulation.backgroundWork: closed-form`` applies to this node (its resources are not
    sampled)."""
    return not node.probed and node.scenario.simulation.backgroundWork == "closed-form"


def closed_form_resyncs(node: "Node", release: "Profile", tick_s: float,
                        jitter: float) -> Optional["ClosedFormResyncs"]:
    """The node's resting pods, when its resyncs are charged in closed form: not on a release
    whose resync remounts the token Secret through the API client (``VolumeManager.remount``).
    ``tick_s``, ``jitter``: the syncLoop's tick and the resync's jitter factor (pod_workers.py)."""
    if not closed_form(node) or (release["serviceAccountVolume"] == "secret"
                                 and release["secretStrategy"] == "Cache"):
        return None
    cfg = node.scenario.kubelet
    # wait.Jitter(syncFrequency, 0.5) has mean 1.25 x syncFrequency; the due pod waits for the
    # next 1 s sync tick, half a tick on average (pod_workers.py)
    mean = cfg.syncFrequency * (1 + jitter / 2) + tick_s / 2
    # variance: the jitter's uniform over syncFrequency x 0.5, the tick's over 1 s
    var = (cfg.syncFrequency * jitter) ** 2 / 12 + tick_s ** 2 / 12
    return ClosedFormResyncs(node.env, node.cpu, node.scenario.kubeletCosts.syncMs, mean, var)


class ClosedFormResyncs:
    """The pods of one node that rest between the syncs something asked for.

    A rest that began at the end of a sync and has lasted ``T`` stands for the resyncs a renewal
    process with mean period ``mean`` and variance ``var`` has in ``T``: asymptotically
    ``T/mean - 1/2 + var/(2 mean^2)`` (the renewal theorem's second-order term; the first resync
    comes a whole period after the sync, not half of one), never fewer than zero."""

    def __init__(self, env: "simpy.Environment", cpu: "FluidShare", sync_ms: float,
                 mean_period_s: float, var_period_s2: float):
        self.env = env
        self.cpu = cpu
        self.sync_s = sync_ms / 1000.0
        self.mean_period_s = mean_period_s
        self._offset = -0.5 + var_period_s2 / (2 * mean_period_s ** 2)
        self._since: dict[str, tuple[float, float]] = {}  # resting pod -> (rest began, resyncs charged)

    @staticmethod
    def may_rest(pod: "PodState", cached: Optional["PodStatus"]) -> bool:
        """A resync now would find nothing to do: the pod runs, as PLEG last saw it."""
        if (cached is None or cached[0] != "ready" or pod.sandbox_state != "ready"
                or pod.deletion_requested is not None or pod.disrupted_at is not None
                or pod.failed or pod.terminated):
            return False
        states = cached[1]
        return (all(states.get(c.spec.name) == "exited" == c.state for c in pod.init_containers)
                and all(states.get(c.spec.name) == "running" == c.state for c in pod.regular_containers))

    def rest(self, pod: "PodState") -> None:
        self._since[pod.name] = (self.env.now, 0.0)

    def wake(self, pod: "PodState") -> None:
        """The pod's worker has an update: charge the resyncs it would have had meanwhile."""
        rest = self._since.pop(pod.name, None)
        if rest is not None:
            self._charge(*rest)

    def clear(self) -> None:
        """The kubelet died: every rest ends now."""
        for rest in self._since.values():
            self._charge(*rest)
        self._since.clear()

    def settle(self) -> None:
        """Charge the open rests up to now (they go on)."""
        for name, (since, charged) in self._since.items():
            self._since[name] = (since, charged + self._charge(since, charged))

    @property
    def resting(self) -> int:
        return len(self._since)

    def _charge(self, since: float, charged: float) -> float:
        """Charge the resyncs of the rest begun at ``since`` not charged yet; return how many."""
        resyncs = max(0.0, (self.env.now - since) / self.mean_period_s + self._offset) - charged
        if resyncs > 0:
            self.cpu.work_done["kubelet"] = self.cpu.work_done.get("kubelet", 0.0) + self.sync_s * resyncs
        return max(resyncs, 0.0)
