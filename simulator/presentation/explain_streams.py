"""The streaming section of ``kubesim explain RUNTIME``: how ``kubectl exec`` (and attach,
port-forward, logs -f) reaches this chain's containers, from the chain's ``streaming:`` data and
the scenario's release (redirect or proxy, ``config/versions.py`` ``containerStreaming``).

For each kind the chain serves: the CRI call that returns the URL, the stream server's steps
when the stream connects and when the command exits (narrated like the CRI operations), the
hops the bytes cross with their CPU per MB, and, for the scenario's release, who connects to the
stream server and whether its listener is exposed.
"""

from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING, Callable

from ..chains import KIND_OPERATIONS, STREAM_OPERATIONS, resolve_chain
from ..config import ConfigError, StreamsConfig
from ..config.streams import streaming_mode
from ..model.streams import data_path
from ..schema import parse_kubernetes_version

if TYPE_CHECKING:
    from ..chains import Chain, Step
    from ..config import Scenario

__all__ = ["streaming_section"]

_KINDS = {"exec": "kubectl exec", "attach": "kubectl attach", "portForward": "kubectl port-forward",
          "logsFollow": "kubectl logs -f"}

Narrate = Callable[["list[Step]", str, str, "Scenario"], "list[str]"]


def _mode_text(version: str, mode: str, flag: bool | None) -> str:
    rule = {"redirect": "before 1.11 the kubelet only redirects",
            "proxy-default": "1.11-1.19: the kubelet proxies unless --redirect-container-streaming is set",
            "proxy": "from 1.20 the kubelet always proxies, KEP-1558"}
    from ..config.versions import profile

    why = rule[profile(version)["containerStreaming"]]
    if mode == "redirect":
        return (f"Kubernetes {version} ({why}{', and the scenario sets it' if flag else ''}): the kubelet answers "
                "the apiserver's request with a 302 to the stream server's URL; the apiserver opens its own "
                "connection to the stream server and the kubelet is no part of the stream.")
    return (f"Kubernetes {version} ({why}): the kubelet connects to the stream server on the node itself and "
            "copies every byte between it and its TLS connection to the apiserver (kubernetes PR #64006).")


def streaming_section(chain: "Chain", scenario: "Scenario", narrate: Narrate, width: int = 100) -> list[str]:
    """The lines of the streaming section (none for a chain without ``streaming:``)."""
    spec = chain.streaming
    if spec is None:
        return []
    w = textwrap.TextWrapper(width=width, subsequent_indent="  ")
    cfg = scenario.streams or StreamsConfig(sessionsPerSecond=1.0)
    version = scenario.kubernetesVersion
    mode = streaming_mode(version, cfg.redirectContainerStreaming)
    listen = spec.server.effective(mode == "redirect", cfg.streamServerAddress, cfg.streamServerTLS)
    lines = ["", "Streaming: kubectl exec, attach, port-forward and logs -f (chains/streaming.py):", ""]
    lines += w.wrap("Path of a session: kubectl -> kube-apiserver (pods/exec) -> a new TLS connection to the "
                    "kubelet's port 10250 -> the kubelet's handler asks the runtime over CRI for a URL (the stream "
                    "server caches the request under a single-use token) -> whoever connects to that URL makes "
                    "the stream server run the command.")
    lines += w.wrap(_mode_text(version, mode, cfg.redirectContainerStreaming))
    server_spec = chain.processes.get(spec.server.process)
    if server_spec is not None and server_spec.osProcess == "kubelet":
        lines += w.wrap(f"({spec.server.process}'s stream server runs inside the kubelet's process: "
                        + ("the kubelet's proxy reaches it over loopback TCP all the same)" if mode == "proxy" else
                           "redirected, its streams are served on the kubelet's own port, but not through "
                           "the kubelet's proxy)"))
    era = chain.kubernetes
    if era is not None and chain.family and not era.contains(parse_kubernetes_version(version)):
        try:
            other = resolve_chain(chain.family, parse_kubernetes_version(version))[0].name
        except ConfigError:
            other = ""
        if other and other != chain.name:
            lines += w.wrap(f"(This chain stands for Kubernetes {era.text()}; on {version} '{chain.family}' runs "
                            f"{other}: kubesim explain {other}.)")
    lines += w.wrap(f"Stream server: {spec.server.process}, listening on {listen.address()}. Source: {listen.source}")
    if listen.routable:
        lines += w.wrap("  FINDING: the listener is routable and checks nothing but the URL token: "
                        + (spec.server.localhostSetting or "keep it on localhost") + ".")
    elif mode == "redirect":
        lines += w.wrap("  FINDING: a redirect to a localhost-only listener cannot work: every session fails.")
    for kind, title in _KINDS.items():
        if not spec.supports(kind):
            continue
        lines += ["", f"{title} ({kind}):"]
        desc = spec.logsFollow.description if kind == "logsFollow" and spec.logsFollow else \
            (getattr(spec, kind).description if getattr(spec, kind) is not None else "")
        if desc:
            lines += ["  " + x for x in textwrap.wrap(desc, width - 2)]
        if kind == "logsFollow":
            lines += w.wrap("  Set-up: the kubelet's getContainerLogs asks the runtime for the log path "
                            "(ContainerStatus), then follows the file; never redirected.")
        else:
            ks = spec.kind(kind)
            assert ks is not None
            phases = (("the CRI call that returns the URL", ks.request, "kubelet"),
                      ("when the stream connects, until the command runs", ks.connect,
                       "kubelet" if mode == "proxy" else "kube-apiserver"),
                      ("when the command exits", ks.close, spec.server.process))
            for op, (phase, steps, caller) in zip(KIND_OPERATIONS[kind], phases):
                if steps:
                    lines.append(f"  {STREAM_OPERATIONS[op]}: {phase}")
                    lines += narrate(steps, caller, "    ", scenario)
        one = cfg.model_copy(update={"kind": kind})
        hops = data_path(spec, one, mode, None if kind == "logsFollow" else listen)
        total_node = sum(h.cpuMsPerMB for h, api in hops if not api)
        path = " -> ".join(f"{h.label} ({h.cpuMsPerMB:g} ms/MB)" for h, _api in hops)
        lines += w.wrap(f"  Bytes, container side first: {path}. On the node: {total_node:g} ms of CPU per MB.")
        for h, _api in hops[: len(spec.data_hops(kind))]:
            lines += textwrap.wrap(f"{h.label}: {h.source}", width, initial_indent="      source: ",
                                   subsequent_indent="        ")
    lines.append("")
    lines += w.wrap("The path outside the runtime (the apiserver's CPU per MB and per request, the round trip to "
                    "the node, TLS handshakes, the kubelet's proxy) is the scenario's streams: section, every "
                    "value an ASSUMPTION with its reasoning (config/streams.py).")
    return lines
