"""The streaming part of a chain (a chain file's ``streaming:`` section): ``kubectl exec``,
``attach``, ``port-forward`` and ``logs -f`` as the runtime serves them.

For exec, attach and port-forward the kubelet asks the runtime over CRI for a URL (``Exec``,
``Attach``, ``PortForward``): the runtime's stream server caches the request under a single-use
token and answers ``<stream server>/exec/<token>`` (pkg/kubelet/server/streaming/server.go
``GetExec``, request_cache.go). Whoever connects to that URL (the kubelet's proxy from 1.11,
the apiserver itself before: KEP-1558) makes the stream server run the request. Each kind is
four pieces of chain data:

* ``request``: the steps of the CRI call that returns the URL;
* ``connect``: the stream server's steps once the stream is up, until the command runs
  (dockershim: docker exec create + start; containerd: task.Exec through the shim; runc exec);
* ``close``: the steps after the command exits (inspect the exec, delete the exec process);
* ``data``: the processes the session's bytes cross between the container and the stream
  server, container side first, each with the CPU it spends per MB it copies.

``logsFollow`` (``kubectl logs -f``) needs no stream server: the kubelet reads the container's
log file itself (after a ContainerStatus for its path) and writes it to the apiserver, so it has
only ``data``: what reading and parsing one MB of the chain's log format costs.

``server`` says where the stream server listens (localhost, every interface, or, for the
in-process dockershim when the kubelet redirects, the kubelet's own port), whether it speaks TLS,
and how many URL tokens it keeps before refusing more.

The step type is a parameter (``StreamKindSpec[Step]``) so that this module does not import the
chain schema that embeds it (``simulator.chains.schema``).
"""

from __future__ import annotations

from typing import Annotated, Generic, Literal, Optional, TypeVar

from pydantic import Field

from ..schema import NonNeg, PosSeconds, StrictModel

__all__ = ["STREAM_KINDS", "STREAM_OPERATIONS", "KIND_OPERATIONS", "StreamKind", "ListenSpec",
           "StreamServerSpec", "DataHop", "StreamKindSpec", "LogsFollowSpec", "StreamingSpec"]

StepT = TypeVar("StepT")

StreamKind = Literal["exec", "attach", "portForward", "logsFollow"]
STREAM_KINDS: tuple[str, ...] = ("exec", "attach", "portForward", "logsFollow")

# kind -> (the CRI call, the stream server's connect, its close): operation names
KIND_OPERATIONS: dict[str, tuple[str, str, str]] = {
    "exec": ("exec", "exec_connect", "exec_close"),
    "attach": ("attach", "attach_connect", "attach_close"),
    "portForward": ("port_forward", "port_forward_connect", "port_forward_close"),
}
# operation -> its name in the spans (the CRI method for the URL requests)
STREAM_OPERATIONS: dict[str, str] = {
    "exec": "Exec", "exec_connect": "exec stream: connected", "exec_close": "exec stream: command exited",
    "attach": "Attach", "attach_connect": "attach stream: connected", "attach_close": "attach stream: detached",
    "port_forward": "PortForward", "port_forward_connect": "port-forward stream: connected",
    "port_forward_close": "port-forward stream: closed",
}

Listen = Literal["localhost", "all-interfaces", "kubelet-port"]


class ListenSpec(StrictModel):
    """Where a stream server listens and whether it speaks TLS."""

    listen: Listen = "localhost"
    port: str = "0"  # "0": a random port chosen at start
    tls: bool = False
    source: str = Field(min_length=3)

    @property
    def routable(self) -> bool:
        """Reachable from other hosts (the apiserver's, an attacker's)."""
        return self.listen != "localhost"

    def address(self) -> str:
        host = {"localhost": "127.0.0.1", "all-interfaces": "0.0.0.0", "kubelet-port": "<node IP>"}[self.listen]
        port = "<random port>" if self.port == "0" else self.port
        where = "the kubelet's port 10250, path /cri/" if self.listen == "kubelet-port" else f"{host}:{port}"
        return where + (" (TLS)" if self.tls else " (plain HTTP)")


class StreamServerSpec(ListenSpec):
    """The runtime's CRI stream server (pkg/kubelet/server/streaming, vendored by each runtime).

    ``whenRedirected``: where it listens when the kubelet redirects rather than proxies, for a
    stream server the kubelet itself configures (the in-process dockershim: its streams are then
    served under /cri/ on the kubelet's port). None: the runtime's own configuration, whatever
    the kubelet does."""

    process: str
    whenRedirected: Optional[ListenSpec] = None
    # how an operator keeps it on localhost (the finding's advice)
    localhostSetting: str = ""
    # request_cache.go: MaxInFlight = 1000 tokens not yet used, CacheTTL = 1 minute
    maxInFlight: Annotated[int, Field(ge=1)] = 1000
    tokenTTLSeconds: PosSeconds = 60.0

    def effective(self, redirect: bool, listen: Optional[str] = None, tls: Optional[bool] = None) -> ListenSpec:
        """Where it listens for a kubelet that redirects (or proxies), with a scenario's
        overrides of the address and TLS applied."""
        base: ListenSpec = self.whenRedirected if (redirect and self.whenRedirected is not None) else self
        data = {"listen": base.listen, "port": base.port, "tls": base.tls, "source": base.source}
        if listen is not None:
            data["listen"] = listen
            data["source"] = f"the scenario's streams.streamServerAddress = {listen} (chain default: {base.source})"
        if tls is not None:
            data["tls"] = tls
            data["source"] = f"the scenario's streams.streamServerTLS = {str(tls).lower()}; " + str(data["source"])
        return ListenSpec.model_validate(data)


class DataHop(StrictModel):
    """One process the bytes of a session cross, and the CPU it spends per MB (10^6 bytes)."""

    process: str  # whose CPU (cgroup) pays
    name: str = ""  # the hop's name when not the process's (socat run through nsenter)
    via: str = ""  # how the bytes reach it from the hop before (a pipe, a FIFO, a unix socket)
    cpuMsPerMB: NonNeg
    source: str = Field(min_length=3)

    @property
    def label(self) -> str:
        return self.name or self.process


class StreamKindSpec(StrictModel, Generic[StepT]):
    description: str = ""
    request: list[StepT] = Field(min_length=1)
    connect: list[StepT] = Field(default_factory=list)
    close: list[StepT] = Field(default_factory=list)
    data: list[DataHop] = Field(min_length=1)


class LogsFollowSpec(StrictModel):
    """``kubectl logs -f``: the kubelet reads the log file (after a ContainerStatus)."""

    description: str = ""
    data: list[DataHop] = Field(min_length=1)


class StreamingSpec(StrictModel, Generic[StepT]):
    server: StreamServerSpec
    exec: Optional[StreamKindSpec[StepT]] = None
    attach: Optional[StreamKindSpec[StepT]] = None
    portForward: Optional[StreamKindSpec[StepT]] = None
    logsFollow: Optional[LogsFollowSpec] = None

    def kind(self, kind: str) -> Optional[StreamKindSpec[StepT]]:
        spec = getattr(self, kind) if kind in KIND_OPERATIONS else None
        return spec

    def supports(self, kind: str) -> bool:
        return getattr(self, kind, None) is not None

    def data_hops(self, kind: str) -> list[DataHop]:
        spec = self.logsFollow if kind == "logsFollow" else self.kind(kind)
        return list(spec.data) if spec is not None else []

    def operations(self) -> dict[str, list[StepT]]:
        """Operation name -> its steps, for every kind and phase the chain has."""
        out: dict[str, list[StepT]] = {}
        for kind, names in KIND_OPERATIONS.items():
            spec = self.kind(kind)
            if spec is None:
                continue
            for name, steps in zip(names, (spec.request, spec.connect, spec.close)):
                if steps:
                    out[name] = list(steps)
        return out

    def processes(self) -> set[str]:
        """Every process named by the data hops and the stream server (steps: by the chain)."""
        out = {self.server.process}
        for kind in STREAM_KINDS:
            out |= {h.process for h in self.data_hops(kind)}
        return out
