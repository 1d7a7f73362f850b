"""The locks a hop holds (dockerd's per-container lock, dockershim's per-pod network lock,
containerd's bbolt writer...): FIFO, ``capacity`` holders at a time.

A ``HopLock`` grants exactly as ``simpy.Resource`` does (first come, first served; a waiter is
granted when the release is processed, or earlier when a newcomer finds a free slot), but costs
SimPy events only where they order something:

* a free lock is granted on the spot when nothing else is due at this instant
  (``env.peek() > env.now``) and the caller was resumed by an event only it waits for
  (clock.resumed_alone): the request event would be the next one processed, so the request
  comes back already processed, and a process that yields a processed event goes on at once
  (SimPy's ``Process._resume``). Otherwise the grant is an event at the current instant, as
  ``Resource.request`` makes it;
* a release with nobody waiting costs nothing (``Resource.release`` schedules a release event
  even then); a release with waiters schedules one event that grants them, where
  ``Resource.release``'s event would.

Usage (the interpreter's hops)::

    req = lock.request()
    yield req
    ...
    lock.release(req)  # releases it, or leaves the queue if it was still waiting
"""

from __future__ import annotations

from collections import deque

import simpy

from ..clock import OwnEvent, process_now, resumed_alone

__all__ = ["HopLock", "LockRequest"]


class LockRequest(OwnEvent):
    """One caller's claim on a ``HopLock``; ``granted`` once the lock is the caller's."""

    granted = False


class HopLock:
    def __init__(self, env: simpy.Environment, capacity: int = 1):
        self.env = env
        self.capacity = capacity
        self.holders = 0
        self.waiting: deque[LockRequest] = deque()

    def request(self) -> LockRequest:
        env = self.env
        req = LockRequest(env)
        if self.holders < self.capacity and not self.waiting:
            self.holders += 1
            req.granted = True
            if env.peek() > env.now and resumed_alone(env):
                process_now(req)  # nothing else is due first: the caller goes on at once
            else:
                req.succeed()  # resumed after what is due at this instant, as by a Resource
            return req
        self.waiting.append(req)
        self._grant_waiting()
        return req

    def release(self, req: LockRequest) -> None:
        if not req.granted:
            self.waiting.remove(req)  # gave up waiting (a failure while queued)
            return
        self.holders -= 1
        if self.waiting:
            grant = self.env.event()
            grant.callbacks.append(self._grant_waiting)
            grant.succeed()

    def _grant_waiting(self, _event: object = None) -> None:
        waiting = self.waiting
        while waiting and self.holders < self.capacity:
            req = waiting.popleft()
            self.holders += 1
            req.granted = True
            req.succeed()
