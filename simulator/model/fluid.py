"""Fluid (processor-sharing) resources: node CPU cores and the node's registry link.

A job brings an amount of work (CPU-seconds, or MB). While ``n`` jobs are active each progresses
at ``min(per_job_cap, capacity / n)``: egalitarian processor sharing, the usual fluid model of a
time-shared CPU (Linux CFS gives runnable threads equal shares) and of TCP flows sharing a link.
A 1-vCPU node therefore slows every concurrent step down, a 16-core node barely notices.

Implementation: since every active job gets the same rate, one "virtual work" clock ``V`` (the
service each active job has received since time zero) describes them all; a job arriving at
``V0`` with ``w`` of work finishes when ``V`` reaches ``V0 + w``. Finish tags sit in a heap, so a
change of the active set costs O(log n) plus one pass over the (few) tags for accounting.

The next finish is one ``Alarm`` (clock.py): every change of the active set re-arms it, which
queues a SimPy event only when the next finish moves earlier than every wake-up already queued;
when it moves later, the queued wake-up fires early and re-queues itself (lazy invalidation).
The alarm fires at the place in SimPy's event order a fresh timeout would, so re-arming changes
no result.

A job may also say what follows its work: ``run(work, then=s)`` fires ``s`` seconds after the
work is served, so a hop's CPU share and the rest of its service time (I/O, kernel, sleeps) cost
one event instead of a completion plus a timeout. The event's value is the time the work was
served.
"""

from __future__ import annotations

import heapq
from collections import Counter

import simpy
from simpy.events import NORMAL

from .clock import Alarm, OwnEvent, process_now

__all__ = ["FluidShare"]

_EPS = 1e-12


class _Job(OwnEvent):
    """A job's completion: fires ``after`` seconds once its work is served, valued at that time."""

    def served(self, after: float) -> None:
        self._ok = True
        self._value = self.env.now
        self.env.schedule(self, NORMAL, after)

    def served_here(self) -> None:
        """Served now, and processed at once: only when SimPy would process it next anyway."""
        process_now(self, self.env.now)


class FluidShare:
    def __init__(self, env: simpy.Environment, capacity: float, per_job_cap: float = float("inf"),
                 name: str = "cpu"):
        self.env = env
        self.capacity = float(capacity)
        self.per_job_cap = float(per_job_cap)
        self.name = name
        self._V = 0.0  # service each active job has received since time zero
        # (finish tag, seq, event, tag, seconds the event fires after the work is served)
        self._heap: list[tuple[float, int, _Job, str, float]] = []
        self._per_tag: Counter = Counter()  # active jobs per tag
        self._seq = 0
        self._last = env.now
        self._rate = 0.0  # each active job's rate, kept with the active set
        self._alarm = Alarm(env, self._on_timer)
        self.work_done: dict[str, float] = {}  # tag -> work completed (CPU-s or MB)

    # ------------------------------------------------------------------ public
    @property
    def active(self) -> int:
        return len(self._heap)

    def rate(self) -> float:
        return self._rate

    def _set_rate(self) -> None:
        n = len(self._heap)
        self._rate = 0.0 if n == 0 else min(self.per_job_cap, self.capacity / n)

    def busy(self) -> float:
        """Capacity in use right now (cores busy, MB/s flowing)."""
        return self.rate() * len(self._heap)

    def run(self, work: float, tag: str = "", then: float = 0.0) -> simpy.Event:
        """An event that fires ``then`` seconds after ``work`` has been served; its value is the
        time the work was served."""
        ev = _Job(self.env)
        if work <= _EPS:
            self.work_done[tag] = self.work_done.get(tag, 0.0) + max(work, 0.0)
            ev.served(then)
            return ev
        self._advance()
        heapq.heappush(self._heap, (self._V + work, self._seq, ev, tag, then))
        self._set_rate()
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
        dv = self._rate * dt
        self._V += dv
        wd = self.work_done
        for tag, count in self._per_tag.items():
            if count:
                wd[tag] = wd.get(tag, 0.0) + dv * count

    def _reschedule(self, on_alarm: bool = False) -> None:
        """Complete the jobs that are due and re-arm the alarm for the next finish.

        On the alarm, a single job that completes with nothing to follow (``then == 0``) is
        processed at once if nothing else is due at this instant: its completion event would be
        the next one SimPy processes, so it needs no place in the queue."""
        heap = self._heap
        limit = self._V + _EPS * 10
        held: _Job | None = None
        completed = 0
        while heap and heap[0][0] <= limit:
            _finish, _seq, ev, tag, then = heapq.heappop(heap)
            self._per_tag[tag] -= 1
            completed += 1
            if held is not None:
                held.served(0.0)
                held = None
            if on_alarm and completed == 1 and then == 0.0:
                held = ev
            else:
                ev.served(then)
        if completed:
            self._set_rate()
        env = self.env
        now = env.now
        delay = max(heap[0][0] - self._V, 0.0) / self._rate if heap else float("inf")
        if held is not None and not (env.peek() > now and now + delay > now):
            held.served(0.0)  # something else is due at this instant: the job waits its turn
            held = None
        if heap:
            self._alarm.set(delay)  # after the job's event, as its timeout came after it
        else:
            self._alarm.cancel()
        if held is not None:
            held.served_here()

    def _on_timer(self) -> None:
        self._advance()
        if self._heap and self._heap[0][0] - self._V < 1e-9:
            self._V = max(self._V, self._heap[0][0])  # float residue: the job that was due is done
        self._reschedule(on_alarm=True)
