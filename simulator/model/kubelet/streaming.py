"""The kubelet's streaming endpoints (pkg/kubelet/server/server.go ``getExec``, ``getAttach``,
``getPortForward``, ``getContainerLogs``) and how the kubelet carries a stream: a redirect to
the runtime's stream server, or its own proxy (KEP-1558; kubernetes PR #64006).

A request from the apiserver arrives on the kubelet's port (10250, TLS). The handler
authenticates it, finds the pod (404 "pod does not exist" once the kubelet no longer has it)
and asks the runtime over CRI for the stream's URL (``Exec``, ``Attach``, ``PortForward``,
through the CRI client and its deadline). Then, by release (``config/versions.py``
``containerStreaming``, ``streams.redirectContainerStreaming``):

* **redirect** (before 1.11; 1.11-1.19 with ``--redirect-container-streaming``): the kubelet
  answers 302 with the URL and leaves the stream: the apiserver connects to the stream server
  itself (K1.10 server.go ``getExec``: ``http.Redirect``);
* **proxy** (the default from 1.11, the only way from 1.20): the kubelet connects to the URL on
  the node (``proxy.NewUpgradeAwareHandler``) and copies every byte between the stream server
  and the apiserver (K1.23 server.go ``getExec``).

``kubectl logs -f`` is never redirected: the handler asks the runtime for the container's log
path (``ContainerStatus``) and streams the file itself (kuberuntime ``GetContainerLogs``,
logs.go ``ReadLogs``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Optional

from ...chains import STREAM_OPERATIONS
from ..runtime.context import CallContext, HopFailure

if TYPE_CHECKING:
    import simpy

    from ...config import StreamsConfig
    from ..node.node import Node
    from ..runtime.stream_server import StreamServer
    from .cri_client import CRIClient

__all__ = ["KubeletStreaming", "HANDLERS"]

# the kubelet server's handler per session kind (server.go)
HANDLERS = {"exec": "getExec", "attach": "getAttach", "portForward": "getPortForward",
            "logsFollow": "getContainerLogs"}


class KubeletStreaming:
    def __init__(self, env: "simpy.Environment", node: "Node", cri: "CRIClient", cfg: "StreamsConfig",
                 mode: str):
        self.env = env
        self.node = node
        self.cri = cri
        self.cfg = cfg
        self.mode = mode  # "proxy" | "redirect"

    @property
    def proxies(self) -> bool:
        return self.mode == "proxy"

    def hop(self, kind: str) -> str:
        return f"kubelet: {HANDLERS[kind]}"

    def serve(self, kind: str, ctx: CallContext, server: Optional["StreamServer"]):
        """The handler: authenticate, find the pod, ask the runtime. Returns the URL's token
        (None for logs). Raises HopFailure naming the hop that refused."""
        node, cfg = self.node, self.cfg
        work = cfg.kubeletHandlerCpuMs / 1000.0
        if work > 0:
            yield node.cpu.run(work, "kubelet")
            ctx.add_cpu("kubelet", work)
        pod = ctx.pod
        if pod is None or pod not in node.kubelet.pods:
            raise HopFailure(self.hop(kind), "pod does not exist (404)")
        if kind == "logsFollow":
            yield from self.cri.call("container_status", ctx)
            return None
        assert server is not None
        op = server.request_operation(kind)
        assert op is not None
        yield from self.cri.call(op, ctx)
        running = (pod.sandbox_state == "ready" if kind == "portForward"
                   else ctx.container is not None and ctx.container.state == "running")
        if not running:
            raise HopFailure(f"{server.process}: {STREAM_OPERATIONS[op]}", "container not running")
        return server.insert()

    def dial_stream_server(self, server: "StreamServer", ctx: CallContext):
        """The proxy connects to the stream server on the node: loopback TCP (no measurable round
        trip), and a TLS handshake when the stream server speaks TLS."""
        if server.listen.tls and self.cfg.tlsHandshakeCpuMs > 0:
            work = self.cfg.tlsHandshakeCpuMs / 1000.0
            yield self.env.all_of([self.node.cpu.run(work, "kubelet"), self.node.cpu.run(work, server.process)])
            ctx.add_cpu("kubelet", work)
            ctx.add_cpu(server.process, work)
