"""The kubelet's CRI client (pkg/kubelet/cri/remote/remote_runtime.go, remote_image.go).

Every call carries a deadline (facts §1.7): ``runtimeRequestTimeout`` (2 min) on unary calls,
twice that for ``RunPodSandbox``, none for ``PullImage``. When it expires the kubelet gets
"context deadline exceeded" while the runtime goes on with the request, so the runtime side
runs as a process of its own and applies its effect when *it* finishes; a retry can therefore
meet the still-running request ("name is reserved", facts §6).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable, Optional, Union

import simpy

from ...chains import ALL_OPERATIONS
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
            yield runtime | env.timeout(limit)
            if not runtime.triggered:
                self.recorder.event(env.now, ctx.pod.name if ctx.pod else "", "DeadlineExceeded",
                                    f"{ALL_OPERATIONS[op]} after {limit:g}s")
                raise HopFailure(f"kubelet -> {self.server}: {ALL_OPERATIONS[op]}",
                                 "context deadline exceeded")
            result = runtime.value
        if result is not None:
            raise result

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
