"""The runtime's CRI stream server on one node (pkg/kubelet/server/streaming, which dockershim,
the containerd CRI plugin, CRI-O and cri-dockerd each run): where it listens, its cache of URL
tokens, and the chain's connect and close steps it runs for a session.

A CRI ``Exec``/``Attach``/``PortForward`` call leaves the request in the server's cache under a
single-use token and returns its URL (request_cache.go ``Insert``): at most ``maxInFlight``
(1000) tokens may wait to be used, each for ``tokenTTLSeconds`` (1 min); over the limit the call
fails with "too many in-flight streaming requests" (``ErrorTooManyInFlight``, HTTP 429). The
connection to the URL consumes the token (``Consume``; an expired or unknown one is refused with
404) and the server runs the request: the chain's ``connect`` steps, then, when the command
exits, its ``close`` steps. Failures name the stream server as the hop.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING, Optional

from ...chains import KIND_OPERATIONS, DataHop, ListenSpec
from .context import CallContext, HopFailure

if TYPE_CHECKING:
    from ...chains import Chain
    from ...config import StreamsConfig
    from .interpreter import Interpreter

__all__ = ["StreamServer"]


class StreamServer:
    def __init__(self, env, chain: "Chain", interpreter: "Interpreter", cfg: "StreamsConfig", redirect: bool):
        assert chain.streaming is not None
        self.env = env
        self.spec = chain.streaming
        self.interp = interpreter
        self.process = self.spec.server.process
        # where it listens for this kubelet (proxying or redirecting) and the scenario's settings
        self.listen: ListenSpec = self.spec.server.effective(redirect, cfg.streamServerAddress, cfg.streamServerTLS)
        self._tokens: deque[tuple[int, float]] = deque()  # (token, expires at), oldest first
        self._live: dict[int, float] = {}
        self._next = 0
        self.refused = 0

    @property
    def hop(self) -> str:
        return f"{self.process}: stream server"

    # ------------------------------------------------------------------ request_cache.go
    def _gc(self) -> None:
        """Drop the oldest tokens that expired or were used (they are in expiry order)."""
        now = self.env.now
        while self._tokens:
            token, expires = self._tokens[0]
            if token in self._live and expires >= now:
                return
            self._tokens.popleft()
            self._live.pop(token, None)

    def insert(self) -> int:
        """A token for a request the CRI call just cached; refused when the cache is full."""
        self._gc()
        if len(self._live) >= self.spec.server.maxInFlight:
            self.refused += 1
            raise HopFailure(self.hop, "too many in-flight streaming requests (429)")
        self._next += 1
        expires = self.env.now + self.spec.server.tokenTTLSeconds
        self._tokens.append((self._next, expires))
        self._live[self._next] = expires
        return self._next

    def consume(self, token: int) -> None:
        expires = self._live.pop(token, None)
        if expires is None or expires < self.env.now:
            raise HopFailure(self.hop, "streaming request token not found or expired (404)")

    @property
    def in_flight(self) -> int:
        return len(self._live)

    # ------------------------------------------------------------------ the session's steps
    def connect(self, kind: str, ctx: CallContext, caller: str):
        """The chain's connect steps: from the stream's arrival until the command runs."""
        op = KIND_OPERATIONS[kind][1]
        if op in self.interp.ops:
            yield from self.interp.operation(op, ctx, caller)

    def close(self, kind: str, ctx: CallContext):
        """The chain's close steps, which the stream server runs once the command has exited."""
        op = KIND_OPERATIONS[kind][2]
        if op in self.interp.ops:
            yield from self.interp.operation(op, ctx, self.process)

    def data_hops(self, kind: str) -> list[DataHop]:
        return self.spec.data_hops(kind)

    def request_operation(self, kind: str) -> Optional[str]:
        return KIND_OPERATIONS[kind][0] if kind in KIND_OPERATIONS else None
