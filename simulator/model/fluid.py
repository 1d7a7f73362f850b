"""Fluid (processor-sharing) resources: node CPU cores and the node's registry link.

A job brings an amount of work (CPU-seconds, or MB). While ``n`` jobs are active each progresses
at ``min(per_job_cap, capacity / n)``: egalitarian processor sharing, the usual fluid model of a
time-shared CPU (Linux CFS gives runnable threads equal shares) and of TCP flows sharing a link.
A 1-vCPU node therefore slows every concurrent step down, a 16-core node barely notices.

Cost: one SimPy timeout per change of the active set, O(active jobs) work per change.
"""

from __future__ import annotations

import simpy

__all__ = ["FluidShare"]

_EPS = 1e-12


class FluidShare:
    def __init__(self, env: simpy.Environment, capacity: float, per_job_cap: float = float("inf"),
                 name: str = "cpu"):
        self.env = env
        self.capacity = float(capacity)
        self.per_job_cap = float(per_job_cap)
        self.name = name
        self._jobs: dict[int, list] = {}  # id -> [remaining, event, tag]
        self._next_id = 0
        self._last = env.now
        self._timer_version = 0
        self.work_done: dict[str, float] = {}  # tag -> work completed (CPU-s or MB)

    # ------------------------------------------------------------------ public
    @property
    def active(self) -> int:
        return len(self._jobs)

    def rate(self) -> float:
        n = len(self._jobs)
        return 0.0 if n == 0 else min(self.per_job_cap, self.capacity / n)

    def busy(self) -> float:
        """Capacity in use right now (cores busy, MB/s flowing)."""
        return self.rate() * len(self._jobs)

    def run(self, work: float, tag: str = "") -> simpy.Event:
        """An event that fires when ``work`` has been served."""
        ev = self.env.event()
        if work <= _EPS:
            self.work_done[tag] = self.work_done.get(tag, 0.0) + max(work, 0.0)
            ev.succeed()
            return ev
        self._advance()
        self._jobs[self._next_id] = [work, ev, tag]
        self._next_id += 1
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
        if dt <= 0 or not self._jobs:
            return
        r = self.rate()
        done = r * dt
        wd = self.work_done
        for job in self._jobs.values():
            job[0] -= done
            wd[job[2]] = wd.get(job[2], 0.0) + done

    def _reschedule(self) -> None:
        # complete finished jobs
        finished = [k for k, j in self._jobs.items() if j[0] <= _EPS * 10]
        for k in finished:
            job = self._jobs.pop(k)
            self.work_done[job[2]] = self.work_done.get(job[2], 0.0) + job[0]  # tiny residue
            job[1].succeed()
        if not self._jobs:
            return
        r = self.rate()
        smallest = min(j[0] for j in self._jobs.values())
        delay = smallest / r
        self._timer_version += 1
        version = self._timer_version
        t = self.env.timeout(delay)
        t.callbacks.append(lambda _ev, v=version: self._on_timer(v))

    def _on_timer(self, version: int) -> None:
        if version != self._timer_version:
            return  # superseded by a later change of the active set
        self._advance()
        # guard against float residue: the job that was due is finished
        if self._jobs:
            smallest_key = min(self._jobs, key=lambda k: self._jobs[k][0])
            if self._jobs[smallest_key][0] < 1e-9:
                self._jobs[smallest_key][0] = 0.0
        self._reschedule()
