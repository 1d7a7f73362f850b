"""Fluid (processor-sharing) resources: node CPU cores and the node's registry link.

A job brings an amount of work (CPU-seconds, or MB). While ``n`` jobs are active each progresses
at ``min(per_job_cap, capacity / n)``: egalitarian processor sharing, the usual fluid model of a
time-shared CPU (Linux CFS gives runnable threads equal shares) and of TCP flows sharing a link.
A 1-vCPU node therefore slows every concurrent step down, a 16-core node barely notices.

Implementation: since every active job gets the same rate, one "virtual work" clock ``V`` (the
service each active job has received since time zero) describes them all; a job arriving at
``V0`` with ``w`` of work finishes when ``V`` reaches ``V0 + w``. Finish tags sit in a heap, so a
change of the active set costs O(log n) plus one pass over the (few) tags for accounting, and
one SimPy timeout is pending at a time.
"""

from __future__ import annotations

import heapq
from collections import Counter

import simpy

from .clock import call_later

__all__ = ["FluidShare"]

_EPS = 1e-12


class FluidShare:
    def __init__(self, env: simpy.Environment, capacity: float, per_job_cap: float = float("inf"),
                 name: str = "cpu"):
        self.env = env
        self.capacity = float(capacity)
        self.per_job_cap = float(per_job_cap)
        self.name = name
        self._V = 0.0  # service each active job has received since time zero
        self._heap: list[tuple[float, int, simpy.Event, str]] = []  # (finish tag, seq, event, tag)
        self._per_tag: Counter = Counter()  # active jobs per tag
        self._seq = 0
        self._last = env.now
        self._timer_version = 0
        self.work_done: dict[str, float] = {}  # tag -> work completed (CPU-s or MB)

    # ------------------------------------------------------------------ public
    @property
    def active(self) -> int:
        return len(self._heap)

    def rate(self) -> float:
        n = len(self._heap)
        return 0.0 if n == 0 else min(self.per_job_cap, self.capacity / n)

    def busy(self) -> float:
        """Capacity in use right now (cores busy, MB/s flowing)."""
        return self.rate() * len(self._heap)

    def run(self, work: float, tag: str = "") -> simpy.Event:
        """An event that fires when ``work`` has been served."""
        ev = self.env.event()
        if work <= _EPS:
            self.work_done[tag] = self.work_done.get(tag, 0.0) + max(work, 0.0)
            ev.succeed()
            return ev
        self._advance()
        heapq.heappush(self._heap, (self._V + work, self._seq, ev, tag))
        self._seq += 1
        self._per_tag[tag] += 1
        self._reschedule()
        return ev

    def totals(self) -> dict[str, float]:
        """Work served so far per tag, including the part of jobs still running."""
        self._advance()
        return dict(self.work_done)

    # ------------------------------------------------------------------ internals
    def _advance(self) -> None:
        now = self.env.now
        dt = now - self._last
        self._last = now
        if dt <= 0 or not self._heap:
            return
        dv = self.rate() * dt
        self._V += dv
        wd = self.work_done
        for tag, count in self._per_tag.items():
            if count:
                wd[tag] = wd.get(tag, 0.0) + dv * count

    def _reschedule(self) -> None:
        heap = self._heap
        limit = self._V + _EPS * 10
        while heap and heap[0][0] <= limit:
            _finish, _seq, ev, tag = heapq.heappop(heap)
            self._per_tag[tag] -= 1
            ev.succeed()
        if not heap:
            return
        delay = max(heap[0][0] - self._V, 0.0) / self.rate()
        self._timer_version += 1
        version = self._timer_version
        call_later(self.env, delay, self._on_timer, version)

    def _on_timer(self, version: int) -> None:
        if version != self._timer_version:
            return  # superseded by a later change of the active set
        self._advance()
        if self._heap and self._heap[0][0] - self._V < 1e-9:
            self._V = max(self._V, self._heap[0][0])  # float residue: the job that was due is done
        self._reschedule()
