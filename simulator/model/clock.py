"""Timers: calling a function later in simulated time, without a process of its own.

``call_later(env, delay, fn, *args)`` runs ``fn(*args)`` when ``delay`` seconds have passed: one
SimPy timeout with a callback, the cheapest way to model a one-off timer (a resync, a watch
delivery, a container's exit). The arguments are bound when the timer is set, not when it fires.

``Alarm`` is a timer that is set again and again (the next finish on a processor-shared CPU, the
earliest CRI deadline of a kubelet) and keeps at most a few wake-ups in SimPy's queue instead of
one dead timeout per change:

* ``Alarm.set(delay)`` takes the place in SimPy's event order that ``env.timeout(delay)`` created
  now would take: the pair (``now + delay``, a fresh event id, drawn from the environment's
  counter exactly as ``Environment.schedule`` draws it). The alarm fires at that place, so a
  model that re-arms an ``Alarm`` sees every event in the same order as with one timeout per
  change, and gets the same results.
* If a wake-up is already queued at or before the new place, nothing is queued: when it fires
  early it queues itself again at the current place (lazy invalidation). Only a place EARLIER
  than every queued wake-up needs a new one. Moving the place later (an active set that grew, a
  deadline that belongs to a call that has already returned) costs nothing.

The wake-ups are pushed straight into SimPy's queue with the reserved event id
(``Environment._queue``, ``Environment._eid``: SimPy 4's scheduler, the same tuple
``Environment.schedule`` pushes).
"""

from __future__ import annotations

from heapq import heappop, heappush
from typing import Any, Callable, Optional

import simpy
from simpy.events import NORMAL, Initialize, Timeout

__all__ = ["call_later", "Alarm", "OwnEvent", "process_now", "resumed_alone"]


def call_later(env: simpy.Environment, delay: float, fn: Callable[..., Any], *args: Any) -> None:
    env.timeout(delay).callbacks.append(lambda _event: fn(*args))


class OwnEvent(simpy.Event):
    """An event one process yields as soon as it is made, and whose callbacks end with that
    process's resumption (a CPU job, a lock grant)."""


def resumed_alone(env: simpy.Environment) -> bool:
    """The active process was resumed by an event only it waits for (its start, a timeout, an
    ``OwnEvent``): when that event is processed nothing else runs before the process's next
    event. Timeouts qualify because this model always yields them where it makes them."""
    proc = env.active_process
    return proc is not None and isinstance(proc.target, (Initialize, Timeout, OwnEvent))


def process_now(event: simpy.Event, value: Any = None) -> None:
    """Trigger ``event`` and run its callbacks right away, as ``Environment.step`` would when it
    pops it. Only for an event SimPy would process next anyway: nothing else due at this
    instant (``env.peek() > env.now``) and nothing left to do in the current callback."""
    event._ok = True
    event._value = value
    callbacks, event.callbacks = event.callbacks, None  # type: ignore[assignment]
    for callback in callbacks:
        callback(event)


class _WakeUp(simpy.Event):
    """An already-triggered event that only calls its alarm back."""

    def __init__(self, env: simpy.Environment, callback: Callable[[simpy.Event], None]):
        self.env = env
        self.callbacks = [callback]
        self._ok = True
        self._value = None


class Alarm:
    """Calls ``fn()`` at the place of the last ``set``; see the module docstring."""

    def __init__(self, env: simpy.Environment, fn: Callable[[], None]):
        self.env = env
        self._fn = fn
        self._due: Optional[tuple[float, int]] = None  # (time, event id) the alarm fires at
        self._queued: list[tuple[float, int]] = []  # places of the wake-ups in SimPy's queue
        # for benchmarks/: places reserved (event ids drawn) and wake-ups actually queued, so
        # that events queued = ids drawn - places + wake-ups
        self.places = 0
        self.wakeups = 0

    def place(self, delay: float) -> tuple[float, int]:
        """The place ``env.timeout(delay)`` created now would take in SimPy's event order."""
        env = self.env
        self.places += 1
        return (env.now + delay, next(env._eid))

    def set(self, delay: float) -> None:
        env = self.env
        self.places += 1
        self.set_at((env.now + delay, next(env._eid)))  # place(delay), inlined: a hot path

    def set_at(self, place: tuple[float, int]) -> None:
        """Fire at ``place`` (from ``place()``; not earlier than the event being processed)."""
        self._due = place
        if not self._queued or self._queued[0] > place:
            self._queue(place)

    def cancel(self) -> None:
        self._due = None

    def _queue(self, place: tuple[float, int]) -> None:
        self.wakeups += 1
        heappush(self._queued, place)
        heappush(self.env._queue, (place[0], NORMAL, place[1], _WakeUp(self.env, self._wake)))

    def _wake(self, _event: simpy.Event) -> None:
        place = heappop(self._queued)  # SimPy pops in (time, priority, id) order: the earliest
        due = self._due
        if due is None:
            return
        if place == due or (place[0] == due[0] and self._next_is_after(due)):
            self._due = None
            self._fn()
        elif not self._queued or self._queued[0] > due:
            self._queue(due)  # early: the place moved later since this wake-up was queued

    def _next_is_after(self, due: tuple[float, int]) -> bool:
        """Nothing in SimPy's queue comes before ``due``: firing now is firing there."""
        queue = self.env._queue
        return not queue or queue[0][:3] > (due[0], NORMAL, due[1])
