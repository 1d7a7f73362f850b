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
from typing import TYPE_CHECKING, Callable, Optional, Union

import simpy

from ...chains import ALL_OPERATIONS
from ..clock import Alarm, process_now
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
        runtime = env.process(self._runtime_side(op, ctx, on_done, finished, exit_wait))
        limit = self.deadline(op) if deadline == "default" else deadline
        if limit is None:
            result = yield runtime
        else:
            assert not isinstance(limit, str)
            reply = _Reply(env)
            runtime.callbacks.append(reply.runtime_returned)
            place = self._alarm.place(limit)
            heappush(self._deadlines, (place, reply))
            if self._deadlines[0][1] is reply:
                self._alarm.set_at(place)
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


class _Reply(simpy.Event):
    """What the kubelet waits for on a call with a deadline: the runtime's return or the
    deadline, whichever is first (``runtime | timeout``, without the timeout)."""

    def runtime_returned(self, _runtime: simpy.Event) -> None:
        if self.triggered:
            return  # the deadline passed first
        if self.env.peek() > self.env.now:  # nothing else is due now: the kubelet is next
            process_now(self)
        else:
            self.succeed()
