"""The kubelet's pod cache (pkg/kubelet/container/cache.go): the runtime status of each pod as
PLEG last inspected it, and the time of the relist that did.

``get_newer_than(last_sync)`` is ``podCache.GetNewerThan(uid, lastSyncTime)``: a pod worker
blocks in it before every sync (facts §1.2) until the cache holds a status from a relist that
*started* after ``last_sync``. The first sync (``lastSyncTime`` is the zero time in
``managePodLoop``) needs only one completed relist (facts §8.2).

PLEG fills the cache. On quiet nodes of large clusters PLEG sleeps through relists that would
find nothing (see ``pleg.py``); a worker waiting meanwhile is served by the first relist on the
schedule PLEG would have kept, which the cache asks of its ``Relister``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Optional, Protocol

import simpy

if TYPE_CHECKING:
    from ..state import PodState

__all__ = ["PodCache", "Relister", "PodStatus"]

# What the cache holds of a pod: (sandbox state, {container name: state}).
PodStatus = tuple[str, dict[str, str]]


class Relister(Protocol):
    """What the cache needs of PLEG."""

    waiters: int  # pod workers blocked in GetNewerThan

    @property
    def asleep(self) -> bool:
        """PLEG is sleeping through idle relists."""

    def virtual_relist_after(self, t: float) -> tuple[float, float]:
        """(start, end) of the first relist on PLEG's schedule that starts after ``t``."""

    def poke(self) -> None:
        """Wake PLEG: a worker needs a relist."""


class PodCache:
    def __init__(self, env: simpy.Environment):
        self.env = env
        self.statuses: dict[str, PodStatus] = {}
        # start of the relist that last updated the cache (None before the first one)
        self.timestamp: Optional[float] = None
        self._updated = env.event()
        self.relister: Relister  # attached by the kubelet's wiring

    def get(self, pod: "PodState") -> Optional[PodStatus]:
        return self.statuses.get(pod.name)

    def set(self, pod: "PodState", status: PodStatus) -> None:
        self.statuses[pod.name] = status

    def remove(self, pod: "PodState") -> None:
        self.statuses.pop(pod.name, None)

    def reset(self) -> None:
        """A new kubelet: an empty cache that no relist has stamped yet."""
        self.statuses.clear()
        self.timestamp = None
        self._updated = self.env.event()

    def updated(self, relist_start: float) -> None:
        """A relist that started at ``relist_start`` has updated the cache (UpdateTime)."""
        self.timestamp = relist_start
        done, self._updated = self._updated, self.env.event()
        done.succeed()

    def advance(self, relist_start: float) -> None:
        """Relists PLEG skipped while idle count as having run (they would have found nothing)."""
        self.timestamp = max(self.timestamp or 0.0, relist_start)

    def get_newer_than(self, last_sync: Optional[float]):
        """Block until the cache is newer than ``last_sync`` (None: the first sync)."""
        env = self.env
        while self.timestamp is None or (last_sync is not None and self.timestamp <= last_sync):
            if self.relister.asleep and last_sync is not None:
                # PLEG sleeps through relists that would find nothing: this worker waits for
                # the first one on the schedule that starts after its last sync
                vstart, vend = self.relister.virtual_relist_after(last_sync)
                if vend > env.now:
                    yield env.timeout(vend - env.now)
                if self.relister.asleep:
                    self.advance(vstart)
                continue
            self.relister.waiters += 1
            self.relister.poke()
            yield self._updated
            self.relister.waiters -= 1
