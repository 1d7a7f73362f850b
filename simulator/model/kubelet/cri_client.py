"""The kubelet's CRI client (pkg/kubelet/cri/remote/remote_runtime.go, remote_image.go).

Every call carries a deadline (facts §1.7): ``runtimeRequestTimeout`` (2 min) on unary calls,
twice that for ``RunPodSandbox``, none for ``PullImage``. When it expires the kubelet gets
"context deadline exceeded" while the runtime goes on with the request, so the runtime side
runs as a process of its own and applies its effect when *it* finishes; a retry can therefore
meet the still-running request ("name is reserved", facts §6).

Mechanism (cost per call): the kubelet waits on one reply event, triggered by whichever comes
first, the runtime's return or the deadline. The deadlines of all calls in flight sit in one
heap per kubelet with a single ``Alarm`` (clock.py) for the earliest: a call that returns in
time leaves its entry behind, dropped when it reaches the top, instead of a timeout per call.
Each deadline keeps the place in SimPy's event order a timeout set at the call would take, and
the reply fires where ``runtime | timeout`` would, so the kubelet sees the same order of events.
When the runtime returns and nothing else is due at that instant, the kubelet resumes at once
(the reply would be the next event processed).
"""

from __future__ import annotations

from heapq import heappop, heappush
from typing import TYPE_CHECKING, Callable, Generator, Optional, Union

import simpy
from simpy.events import URGENT, Initialize, Timeout

from ...chains import ALL_OPERATIONS
from ..clock import Alarm, OwnEvent, process_now, resumed_alone
from ..runtime.context import CallContext, HopFailure

if TYPE_CHECKING:
    from ...config import KubeletConfig
    from ..records import Recorder
    from ..runtime.interpreter import Interpreter

__all__ = ["CRIClient"]


class CRIClient:
    def __init__(self, env: simpy.Environment, interpreter: "Interpreter", recorder: "Recorder",
                 cfg: "KubeletConfig", server: str, on_effect: Callable[[], None]):
        self.env = env
        self.interp = interpreter
        self.recorder = recorder
        self.cfg = cfg
        self.server = server  # the process the kubelet's gRPC calls reach (dockershim, containerd...)
        self._on_effect = on_effect  # something on the node changed: PLEG stays awake
        # deadlines of the calls in flight: (place in the event order, the call's reply)
        self._deadlines: list[tuple[tuple[float, int], _Reply]] = []
        self._alarm = Alarm(env, self._deadline_passed)

    def deadline(self, op: str) -> Optional[float]:
        """facts §1.7: runtimeRequestTimeout on unary calls, 2x for RunPodSandbox, none for pulls."""
        if op == "pull_image":
            return None
        if op == "run_podsandbox":
            return 2 * self.cfg.runtimeRequestTimeout
        return self.cfg.runtimeRequestTimeout

    def call(self, op: str, ctx: CallContext, on_done: Callable[[], None] | None = None,
             deadline: Union[float, None, str] = "default", finished: simpy.Event | None = None,
             exit_wait: float = 0.0):
        """One CRI call from the kubelet. The runtime side runs as its own process and applies
        its effect (``on_done``) when IT finishes; the kubelet stops waiting at the deadline."""
        env = self.env
        if op not in self.interp.ops:
            return  # a background call the chain does not model costs the runtime nothing
        gen = self._runtime_side(op, ctx, on_done, finished, exit_wait)
        limit = self.deadline(op) if deadline == "default" else deadline
        if limit is None:
            result = yield _RuntimeSide(env, gen, inline=_may_start_inline(env))
        else:
            assert not isinstance(limit, str)
            reply = _Reply(env)
            inline = _may_start_inline(env)
            if not inline:
                runtime = _RuntimeSide(env, gen, inline=False)  # its start takes the first place
            place = self._alarm.place(limit)
            heappush(self._deadlines, (place, reply))
            if self._deadlines[0][1] is reply:
                self._alarm.set_at(place)
            if inline:
                runtime = _RuntimeSide(env, gen, inline=True)
            runtime.callbacks.append(reply.runtime_returned)
            yield reply
            if not runtime.triggered:
                self.recorder.event(env.now, ctx.pod.name if ctx.pod else "", "DeadlineExceeded",
                                    f"{ALL_OPERATIONS[op]} after {limit:g}s")
                raise HopFailure(f"kubelet -> {self.server}: {ALL_OPERATIONS[op]}",
                                 "context deadline exceeded")
            result = runtime.value
        if result is not None:
            raise result

    def _deadline_passed(self) -> None:
        _place, reply = heappop(self._deadlines)
        if not reply.triggered:
            reply.succeed()
        heap = self._deadlines
        while heap and heap[0][1].triggered:  # calls that have returned
            heappop(heap)
        if heap:
            self._alarm.set_at(heap[0][0])

    def _runtime_side(self, op: str, ctx: CallContext, on_done: Callable[[], None] | None,
                      finished: simpy.Event | None, exit_wait: float):
        try:
            if exit_wait > 0:
                yield self.env.timeout(exit_wait)
            yield from self.interp.operation(op, ctx)
        except HopFailure as f:
            return f
        finally:
            if finished is not None:
                finished.succeed()
        if on_done is not None:
            on_done()
            self._on_effect()
        return None


def _may_start_inline(env: simpy.Environment) -> bool:
    """The runtime side may start at once, inside the caller's step: its start (an URGENT event
    at this instant) would be the next event processed, because the caller was resumed by an
    event only it waits for (nothing else runs in this step after it) and no other URGENT event
    is due now (those would go first). NORMAL events due now come after a start anyway."""
    if not resumed_alone(env):
        return False
    queue = env._queue
    return not queue or queue[0][0] > env._now or queue[0][1] > URGENT


class _Started(OwnEvent):
    """Stands for the start event of a runtime side started inline (never scheduled)."""

    def __init__(self, env: simpy.Environment):
        self.env = env
        self.callbacks = []
        self._ok = True
        self._value = None


class _RuntimeSide(simpy.Process):
    """The runtime's side of one CRI call: a SimPy process that costs no event to start or end
    when SimPy would process that event next anyway (issue 10: a CRI call needs no process
    machinery of its own).

    * Started inline (``inline=True``, see ``_may_start_inline``): the generator runs to its
      first yield now, inside the caller's step, instead of at an ``Initialize`` event that would
      be the next one processed. The caller draws its deadline's place first, so the places in
      SimPy's event order keep their relative order.
    * Ended inline: when the generator returns after a resumption by an event only this process
      waits for (a timeout, a CPU job, a lock grant) and nothing else is due at this instant, the
      process's own completion event would be the next one processed: its callbacks (the
      caller's reply) run at once instead. Otherwise it is scheduled as SimPy does.

    The rest is SimPy 4's ``Process._resume``, unchanged (failures, yields of processed events).
    tests/test_kernel.py checks both shortcuts against plain ``env.process`` on tie-heavy runs.
    """

    def __init__(self, env: simpy.Environment, generator: Generator, inline: bool):
        if not inline:
            super().__init__(env, generator)
            return
        self.env = env
        self.callbacks = []
        self._generator = generator
        start = _Started(env)
        self._target = start
        caller = env._active_proc
        self._resume(start)
        env._active_proc = caller  # the caller's step goes on

    def _resume(self, event: simpy.Event) -> None:
        env = self.env
        env._active_proc = self
        alone = isinstance(event, (Initialize, Timeout, OwnEvent)) and not isinstance(event, _Started)
        while True:
            try:
                if event._ok:
                    event = self._generator.send(event._value)
                else:
                    event._defused = True
                    exc = type(event._value)(*event._value.args)
                    exc.__cause__ = event._value
                    event = self._generator.throw(exc)
            except StopIteration as e:
                event = None  # type: ignore[assignment]
                self._ok = True
                self._value = e.args[0] if len(e.args) else None
                if alone and env.peek() > env._now:
                    env._active_proc = None  # as in Environment.step, which would run them
                    process_now(self, self._value)
                    self._target = None  # type: ignore[assignment]
                    return
                env.schedule(self)
                break
            except BaseException as e:
                event = None  # type: ignore[assignment]
                self._ok = False
                e.__traceback__ = e.__traceback__.tb_next  # type: ignore[union-attr]
                self._value = e
                env.schedule(self)
                break
            if event.callbacks is not None:
                event.callbacks.append(self._resume)
                break
        self._target = event
        env._active_proc = None


class _Reply(OwnEvent):
    """What the kubelet waits for on a call with a deadline: the runtime's return or the
    deadline, whichever is first (``runtime | timeout``, without the timeout)."""

    def runtime_returned(self, _runtime: simpy.Event) -> None:
        if self.triggered:
            return  # the deadline passed first
        if self.env.peek() > self.env.now:  # nothing else is due now: the kubelet is next
            process_now(self)
        else:
            self.succeed()
