"""The event-saving mechanisms against the plain SimPy constructs they replace.

Each one (clock.Alarm, runtime.locks.HopLock, fluid.FluidShare's ``then``) must let a model
see exactly the order of events the plain construct gives: the same trace, event for event,
including ties at one instant. The workloads are random with many ties (times on a coarse grid,
zero-length holds), so an ordering difference shows up as a different trace.
"""

from __future__ import annotations

import numpy as np
import simpy

from simulator.model.clock import Alarm, call_later
from simulator.model.fluid import FluidShare
from simulator.model.kubelet.cri_client import CRIClient
from simulator.model.runtime.context import HopFailure
from simulator.model.runtime.locks import HopLock


def _alarm_trace(use_alarm: bool, seed: int) -> list[tuple]:
    """A timer re-set at random moments (later, earlier, at this instant) next to other
    processes' timeouts at the same instants: who runs when, in which order."""
    env = simpy.Environment()
    rng = np.random.default_rng(seed)
    trace: list[tuple] = []
    version = [0]

    def fired(v: int) -> None:
        if v == version[0]:
            trace.append((env.now, "alarm"))

    alarm = Alarm(env, lambda: trace.append((env.now, "alarm")))

    def set_timer(delay: float) -> None:
        if use_alarm:
            alarm.set(delay)
        else:  # the reference: one timeout per change, the stale ones ignored
            version[0] += 1
            call_later(env, delay, fired, version[0])

    def worker(k: int):
        for _ in range(40):
            yield env.timeout(int(rng.integers(0, 4)) * 0.5)
            trace.append((env.now, "worker", k))
            r = rng.random()
            if r < 0.8:
                set_timer(int(rng.integers(0, 5)) * 0.5)
            elif use_alarm:
                alarm.cancel()
            else:
                version[0] += 1

    for k in range(5):
        env.process(worker(k))
    env.run()
    return trace


def test_alarm_fires_where_a_fresh_timeout_would():
    for seed in range(20):
        reference = _alarm_trace(False, seed)
        assert any(x[1] == "alarm" for x in reference)
        assert _alarm_trace(True, seed) == reference


def _lock_trace(use_hop_lock: bool, seed: int, capacity: int) -> list[tuple]:
    env = simpy.Environment()
    rng = np.random.default_rng(seed)
    trace: list[tuple] = []
    lock = HopLock(env, capacity) if use_hop_lock else simpy.Resource(env, capacity)
    go = env.event()  # one event all users wait for: they resume one after the other
    env.timeout(0.5).callbacks.append(lambda _e: go.succeed())

    def user(k: int):
        yield go
        for i in range(30):
            if i:  # the first request comes right after ``go``: the waiters after this one
                yield env.timeout(int(rng.integers(0, 3)) * 0.25)  # must resume first
            trace.append((env.now, k, i, "wants"))
            req = lock.request()
            yield req
            trace.append((env.now, k, i, "holds"))
            hold = int(rng.integers(0, 3)) * 0.25
            if hold > 0:
                yield env.timeout(hold)
            lock.release(req)
            trace.append((env.now, k, i, "released"))

    for k in range(6):
        env.process(user(k))
    env.run()
    return trace


def test_hop_lock_grants_in_the_order_of_simpy_resource():
    for seed in range(10):
        for capacity in (1, 2):
            reference = _lock_trace(False, seed, capacity)
            assert _lock_trace(True, seed, capacity) == reference


def test_hop_lock_withdraws_a_waiting_request():
    env = simpy.Environment()
    lock = HopLock(env)
    first, second = lock.request(), lock.request()
    assert first.granted and not second.granted
    lock.release(second)  # gave up while queued
    assert not lock.waiting
    lock.release(first)
    assert lock.holders == 0


def _fluid_trace(combined: bool, seed: int) -> list[tuple]:
    """CPU work then a wait, as one job with ``then`` or as a job and a timeout."""
    env = simpy.Environment()
    rng = np.random.default_rng(seed)
    cpu = FluidShare(env, 2.0, per_job_cap=1.0)
    trace: list[tuple] = []

    def hop(k: int):
        for i in range(20):
            yield env.timeout(float(rng.exponential(0.05)))
            work, rest = float(rng.exponential(0.02)), float(rng.choice([0.0, rng.exponential(0.01)]))
            t = env.now
            if combined:
                served = yield cpu.run(work, "p", then=rest)
            else:
                yield cpu.run(work, "p")
                served = env.now
                if rest > 0:
                    yield env.timeout(rest)
            trace.append((k, i, t, served, env.now))

    for k in range(8):
        env.process(hop(k))
    env.run()
    trace.append(("total", cpu.totals()["p"]))
    return trace


def test_fluid_then_completes_work_and_wait_in_one_event():
    for seed in range(5):
        assert _fluid_trace(True, seed) == _fluid_trace(False, seed)


class _ReferenceShare:
    """Processor sharing as it was before the Alarm: a fresh timeout on every change of the
    active set (the stale ones ignored), a completion event per job."""

    def __init__(self, env: simpy.Environment, capacity: float, per_job_cap: float):
        self.env, self.capacity, self.cap = env, capacity, per_job_cap
        self.V, self.last, self.heap, self.seq, self.version = 0.0, 0.0, [], 0, 0

    def rate(self) -> float:
        return min(self.cap, self.capacity / len(self.heap)) if self.heap else 0.0

    def run(self, work: float) -> simpy.Event:
        import heapq
        ev = self.env.event()
        dt, self.last = self.env.now - self.last, self.env.now
        if dt > 0 and self.heap:
            self.V += self.rate() * dt
        heapq.heappush(self.heap, (self.V + work, self.seq, ev))
        self.seq += 1
        self._reschedule()
        return ev

    def _reschedule(self) -> None:
        import heapq
        while self.heap and self.heap[0][0] <= self.V + 1e-11:
            heapq.heappop(self.heap)[2].succeed()
        if self.heap:
            self.version += 1
            call_later(self.env, max(self.heap[0][0] - self.V, 0.0) / self.rate(), self._timer, self.version)

    def _timer(self, version: int) -> None:
        if version != self.version:
            return
        dt, self.last = self.env.now - self.last, self.env.now
        if dt > 0 and self.heap:
            self.V += self.rate() * dt
        if self.heap and self.heap[0][0] - self.V < 1e-9:
            self.V = max(self.V, self.heap[0][0])
        self._reschedule()


def _share_trace(reference: bool, seed: int) -> list[tuple]:
    env = simpy.Environment()
    rng = np.random.default_rng(seed)
    share = _ReferenceShare(env, 4.0, 1.0) if reference else FluidShare(env, 4.0, per_job_cap=1.0)
    trace: list[tuple] = []

    def client(k: int):
        for i in range(25):
            yield env.timeout(int(rng.integers(0, 3)) * 0.0625)  # all on a grid: many ties
            yield share.run(int(rng.integers(1, 4)) * 0.0625)
            trace.append((env.now, k, i))

    for k in range(6):
        env.process(client(k))
    env.run()
    return trace


def test_processor_sharing_completes_in_the_order_of_a_timeout_per_change():
    for seed in range(10):
        assert _share_trace(False, seed) == _share_trace(True, seed)


class _ProcessPerCall:
    """The reference CRI client: the runtime side of every call is a plain SimPy process and the
    kubelet waits on ``runtime | timeout(limit)`` (what kubelet/cri_client.py replaced)."""

    def __init__(self, env: simpy.Environment, interp: object):
        self.env, self.interp = env, interp

    def call(self, op: str, ctx: object, on_done=None, deadline=None):
        env = self.env
        runtime = env.process(self._runtime_side(op, ctx, on_done))
        if deadline is None:
            result = yield runtime
        else:
            yield runtime | env.timeout(deadline)
            if not runtime.triggered:
                raise HopFailure("kubelet -> runtime", "context deadline exceeded")
            result = runtime.value
        if result is not None:
            raise result

    def _runtime_side(self, op, ctx, on_done):
        try:
            yield from self.interp.operation(op, ctx)
        except HopFailure as f:
            return f
        if on_done is not None:
            on_done()
        return None


def _cri_trace(reference: bool, seed: int) -> list[tuple]:
    """Kubelet goroutines making CRI calls whose runtime sides take timeouts on a coarse grid,
    CPU jobs on a shared core and a lock, some failing, some outliving their deadline."""
    from types import SimpleNamespace

    env = simpy.Environment()
    rng = np.random.default_rng(seed)
    trace: list[tuple] = []
    cpu = FluidShare(env, 1.0)
    lock = HopLock(env, 1)

    class Interp:
        ops = {"create_container": [], "pull_image": []}

        def operation(self, op, ctx):
            trace.append((env.now, ctx.who, ctx.i, "runtime starts"))
            for _ in range(int(rng.integers(0, 4))):
                r = rng.random()
                if r < 0.4:
                    yield env.timeout(int(rng.integers(0, 3)) * 0.25)
                elif r < 0.7:
                    yield cpu.run(int(rng.integers(1, 3)) * 0.125, then=int(rng.integers(0, 2)) * 0.25)
                else:
                    req = lock.request()
                    yield req
                    yield env.timeout(int(rng.integers(0, 2)) * 0.25)
                    lock.release(req)
                trace.append((env.now, ctx.who, ctx.i, "runtime step"))
            if rng.random() < 0.1:
                raise HopFailure("runtime", "failed")

    interp = Interp()
    if reference:
        client = _ProcessPerCall(env, interp)
    else:
        cfg = SimpleNamespace(runtimeRequestTimeout=1.0)
        recorder = SimpleNamespace(event=lambda *a: None)
        client = CRIClient(env, interp, recorder, cfg, "runtime", lambda: None)  # type: ignore[arg-type]

    def kubelet(k: int):
        for i in range(25):
            if rng.random() < 0.5:
                yield env.timeout(int(rng.integers(0, 3)) * 0.25)
            ctx = SimpleNamespace(who=k, i=i, pod=None)
            op = "pull_image" if rng.random() < 0.2 else "create_container"
            limit = None if op == "pull_image" else int(rng.integers(1, 5)) * 0.25
            trace.append((env.now, k, i, "calls", op))
            done = lambda k=k, i=i: trace.append((env.now, k, i, "effect"))  # noqa: E731
            try:
                if reference:
                    yield from client.call(op, ctx, on_done=done, deadline=limit)
                else:
                    yield from client.call(op, ctx, on_done=done,
                                           deadline=None if limit is None else limit)
                trace.append((env.now, k, i, "returned"))
            except HopFailure as f:
                trace.append((env.now, k, i, f.reason))

    for k in range(4):
        env.process(kubelet(k))
    env.run()
    return trace


def test_cri_calls_without_processes_of_their_own_see_the_same_order():
    """kubelet/cri_client.py's runtime side (no start or end event when SimPy would process it
    next anyway; one deadline alarm per kubelet) against a process per call and a timeout per
    deadline: the same trace on tie-heavy random workloads, deadlines passing included."""
    outcomes: set = set()
    for seed in range(12):
        reference = _cri_trace(True, seed)
        outcomes |= {x[3] for x in reference}
        assert _cri_trace(False, seed) == reference
    assert {"returned", "context deadline exceeded", "failed", "effect"} <= outcomes


def test_template_draw_is_generator_choice():
    """workload.py draws a pod's template with one uniform against the normalised cumulative
    weights; numpy's ``Generator.choice(n, p=...)`` must give the same index from the same
    stream, and leave the stream in the same state."""
    from bisect import bisect_right

    for weights in ([1.0], [0.3, 0.7], [1, 2, 3, 4], [0.1, 0.1, 0.8], [5, 1e-9, 3], [1 / 3] * 3):
        p = np.asarray(weights, float) / np.sum(weights)
        cdf = p.cumsum()
        cdf = (cdf / cdf[-1]).tolist()
        for seed in range(30):
            a, b = np.random.default_rng(seed), np.random.default_rng(seed)
            assert [int(a.choice(len(p), p=p)) for _ in range(40)] == \
                [bisect_right(cdf, b.random()) for _ in range(40)]
            assert a.random() == b.random()
