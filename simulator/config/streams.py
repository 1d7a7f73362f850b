"""The ``streams:`` section: ``kubectl exec``, ``attach``, ``port-forward`` and ``logs -f``
sessions against the pods of the scenario, and how the kubelet carries them.

Off unless a scenario has the section. Sessions arrive as a Poisson process at
``sessionsPerSecond`` once a target pod runs (``targetTemplate``: only that template's pods);
each picks a running pod at random, keeps its stream open ``durationSeconds`` and moves
``bytesPerSession`` bytes through it (both directions together; 1 MB = 10^6 bytes).

How the stream reaches the runtime depends on the release (``config/versions.py`` row
``containerStreaming``; KEP-1558, kubernetes PR #64006): before 1.11 the kubelet answered the
apiserver with a redirect to the runtime's stream server, which the apiserver then connected
to itself; from 1.11 the kubelet proxies the stream by default and ``--redirect-container-
streaming`` (``redirectContainerStreaming`` here) brought the redirect back until 1.19; from
1.20 the flag can no longer be enabled. ``streamServerAddress`` and ``streamServerTLS`` stand
for the runtime's own settings (containerd ``stream_server_address`` / ``enable_tls_streaming``,
CRI-O ``stream_address`` / ``stream_enable_tls``, cri-dockerd ``--streaming-bind-addr``);
unset, the chain's default for its era applies.

The network and CPU costs of the path outside the runtime (the apiserver, its connection to the
kubelet, the kubelet's proxy) are ASSUMPTION defaults with their reasoning; the runtime's own
hops are chain data (``chains/streaming.py``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal, Optional

from pydantic import Field

from ..errors import ConfigError
from ..schema import Ms, NonNeg, Rate, Seconds, StrictModel
from .costs import assumption
from .versions import profile

if TYPE_CHECKING:
    from ..chains import Chain

__all__ = ["StreamsConfig", "streaming_mode", "check_streams", "check_streams_against_chain"]


class StreamsConfig(StrictModel):
    """Streaming sessions (``kubectl exec`` and friends) against the scenario's pods."""

    kind: Literal["exec", "attach", "portForward", "logsFollow"] = "exec"
    sessionsPerSecond: Rate
    # stop after this many sessions (None: until the run ends)
    sessions: Annotated[int, Field(ge=1)] | None = None
    # how long each stream stays open (the command runs, the forwarded connection lives)
    durationSeconds: Seconds = 1.0
    # bytes through each stream, both directions together
    bytesPerSession: Annotated[int, Field(ge=0)] = 4096
    # only pods of this template are targets (None: any running pod)
    targetTemplate: Optional[str] = None
    # no session before this time (they also wait for a running target pod)
    startSeconds: Seconds = 0.0
    # the kubelet's --redirect-container-streaming (1.11-1.19); None: the release's default
    redirectContainerStreaming: Optional[bool] = None
    # the runtime's stream server settings; None: the chain's default for its era
    streamServerAddress: Optional[Literal["localhost", "all-interfaces"]] = None
    streamServerTLS: Optional[bool] = None

    # ---- the path outside the runtime (ASSUMPTION defaults)
    apiserverToNodeRttMs: Ms = assumption(
        1.0, "a round trip between the control plane and a node of the same region (0.2-2 ms in one "
        "cloud zone or region); the client's own round trip to the apiserver is not part of set-up")
    apiserverRequestCpuMs: Ms = assumption(
        1.0, "the apiserver's CPU for a pods/exec request before it dials the kubelet: authentication, "
        "authorization, admission, the pod and node lookups; as a pod-sized request (apiserver.requestCpuMs)")
    tlsHandshakeCpuMs: Ms = assumption(
        1.5, "one TLS 1.3 handshake with client certificates costs each side ~1-2 ms of CPU (an ECDHE "
        "key exchange, a signature and a certificate-chain verification)")
    kubeletHandlerCpuMs: Ms = assumption(
        0.3, "the kubelet server's work per streaming request before the CRI call: authentication of the "
        "client certificate, a cached authorization decision, the pod lookup")
    kubeletProxyCpuMsPerMB: NonNeg = assumption(
        1.5, "the kubelet's proxy copies each MB from the stream server's connection (plain HTTP on "
        "localhost) into its TLS connection to the apiserver: two copies plus AES-GCM encryption "
        "(~1 GB/s per core with AES-NI)")
    apiserverCpuMsPerMB: NonNeg = assumption(
        2.5, "the apiserver decrypts each MB from the node and re-encrypts it towards the client, "
        "copying it through its proxy handler: about twice the kubelet proxy's work")
    tlsCpuMsPerMB: NonNeg = assumption(
        0.5, "what a TLS stream adds to each end per MB (AES-GCM at ~2 GB/s per core with AES-NI): paid "
        "by the stream server and its peer when the stream server speaks TLS")


def streaming_mode(version: str, redirect: Optional[bool]) -> str:
    """'redirect' or 'proxy': how the kubelet of ``version`` carries streams."""
    rule = profile(version)["containerStreaming"]
    if rule == "redirect":
        return "redirect"
    if rule == "proxy-default":
        return "redirect" if redirect else "proxy"
    return "proxy"


def check_streams(streams: StreamsConfig, version: str, templates: list[str]) -> None:
    """Refuse what the release or the workload cannot have (raised as ValueError)."""
    rule = profile(version)["containerStreaming"]
    if streams.redirectContainerStreaming is False and rule == "redirect":
        raise ValueError(f"streams.redirectContainerStreaming = false needs Kubernetes 1.11 or later "
                         f"(kubernetes PR #64006): before it the kubelet only redirects; kubernetesVersion "
                         f"is {version}")
    if streams.redirectContainerStreaming and rule == "proxy":
        raise ValueError(f"streams.redirectContainerStreaming = true cannot be enabled from Kubernetes 1.20 "
                         f"(KEP-1558: the flag is ignored with an error, removed in 1.24); kubernetesVersion "
                         f"is {version}; use 1.11-1.19, or leave it unset")
    if streams.targetTemplate is not None and streams.targetTemplate not in templates:
        raise ValueError(f"streams.targetTemplate {streams.targetTemplate!r} is not a template of the "
                         f"workload; templates: {templates}")
    if streams.kind == "logsFollow" and (streams.streamServerAddress is not None
                                         or streams.streamServerTLS is not None):
        raise ValueError("streams.kind 'logsFollow' does not use the runtime's stream server (the kubelet "
                         "reads the log file): leave streamServerAddress and streamServerTLS unset")


def check_streams_against_chain(streams: StreamsConfig, chain: "Chain", runtime: str, where: str) -> None:
    """The chain must serve the session kind; an in-process stream server (dockershim, whose
    address the kubelet sets) takes no address or TLS override."""
    spec = chain.streaming
    if spec is None or not spec.supports(streams.kind):
        raise ConfigError(f"{where}: streams.kind {streams.kind!r} is not served by runtime {runtime!r} "
                          f"(chain {chain.name} has no streaming.{streams.kind} section; see "
                          "simulator/chains/streaming.py)")
    server = chain.processes[spec.server.process]
    in_kubelet = (server.osProcess or spec.server.process) == "kubelet"
    if in_kubelet and (streams.streamServerAddress is not None or streams.streamServerTLS is not None):
        raise ConfigError(f"{where}: streams.streamServerAddress/streamServerTLS: the stream server of "
                          f"runtime {runtime!r} runs inside the kubelet, which sets its address (localhost "
                          "when it proxies, its own port with its TLS when it redirects: "
                          "pkg/kubelet/kubelet.go getStreamingConfig); leave them unset")
