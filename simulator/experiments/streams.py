"""The ``streams`` part of a runtime's JSON summary, and the findings about its stream server.

``stream_summary(runs, scenario, runtime)`` returns ``{"streams": ..., "findings": [...]}`` for a
scenario with a ``streams:`` section (nothing otherwise, so other summaries are unchanged):

* ``sessions``, ``ok``, ``failed``, ``open_at_end``; ``failures_by_hop``;
* ``setup_seconds``: p50/p90/p99/max (and mean) of the set-up latency of the sessions that
  completed, measured at the apiserver (``model/streams.py``);
* ``bytes`` moved, ``throughput_mb_per_s`` per session (its bytes over its data phase);
* ``cpu_ms_per_mb_by_hop``: the CPU each hop on the data path spent per MB it carried (fixed per
  hop: under load the work per byte is the same, it takes longer);
  ``setup_cpu_ms_per_session_by_hop`` and ``close_cpu_ms_per_session_by_hop``: each process's
  CPU to set a session up and to close it (per session that reached the phase);
  ``cpu_seconds_by_hop``: all of it;
* ``path``: the hops the bytes cross, container side first, and whether the kubelet's proxy is
  one of them (``kubelet_proxy_in_path``).

A finding is reported when the scenario's stream server listens on a routable address: CRI stream
servers authenticate nobody (the single-use token in the URL is their only check:
pkg/kubelet/server/streaming request_cache.go), so a routable one is an open door; under the
redirect the apiserver's connection to it (and, without TLS, the token and every byte of the
session) also crosses the network. A redirect to a stream server that listens on localhost only
is reported too: every session fails.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from ..chains import resolve_chain
from ..config import ConfigError
from ..config.streams import streaming_mode
from ..model.streams import APISERVER, OPEN, data_path
from ..schema import parse_kubernetes_version
from .stats import percentiles

if TYPE_CHECKING:
    from ..chains import Chain
    from ..config import Scenario
    from ..model.simulation import RunResult

__all__ = ["stream_summary", "stream_findings"]


def _only(df: pd.DataFrame, runtime: str | None) -> pd.DataFrame:
    if runtime is None or df.empty or "runtime" not in df.columns:
        return df
    return df[df.runtime == runtime]


def _concat(runs: list["RunResult"], attr: str) -> pd.DataFrame:
    frames = []
    for r in runs:
        df = getattr(r, attr)
        if not df.empty:
            frames.append(df.assign(replication=r.replication))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def stream_summary(runs: list["RunResult"], scenario: "Scenario", runtime: str | None) -> dict:
    """``{"streams": ..., "findings": [...]}`` for a scenario with streams; ``{}`` otherwise."""
    cfg = scenario.streams
    chain = _chain_of(runs, runtime, scenario) if cfg is not None and runtime is not None else None
    if cfg is None or chain is None or chain.streaming is None:
        return {}  # no streams, or pods no chain ran ('unscheduled' in a cluster)
    mode = streaming_mode(scenario.kubernetesVersion, cfg.redirectContainerStreaming)
    sessions = _only(_concat(runs, "streams"), runtime)
    hops = _only(_concat(runs, "stream_hops"), runtime)
    ok = sessions[sessions.outcome == "ok"] if len(sessions) else sessions
    failed = sessions[~sessions.outcome.isin(["ok", OPEN])] if len(sessions) else sessions
    assert chain.streaming is not None
    listen = None if cfg.kind == "logsFollow" else chain.streaming.server.effective(
        mode == "redirect", cfg.streamServerAddress, cfg.streamServerTLS)
    path = data_path(chain.streaming, cfg, mode, listen)
    doc: dict = {
        "kind": cfg.kind,
        "mode": mode,
        # the kubelet's proxy (or, for logs, its own reader) carries the bytes; a stream server
        # inside the kubelet's process (dockershim) is the runtime's hop, not the kubelet's
        "kubelet_proxy_in_path": any(h.process == "kubelet" for h, _api in path),
        "path": [h.label for h, _api in path],
        "stream_server": None if listen is None else {
            "process": chain.streaming.server.process, "listens": listen.address(), "routable": listen.routable,
            "tls": listen.tls},
        "sessions": int(len(sessions)),
        "ok": int(len(ok)),
        "failed": int(len(failed)),
        "open_at_end": int((sessions.outcome == OPEN).sum()) if len(sessions) else 0,
        "failures_by_hop": ({str(k): int(v) for k, v in failed.failure_hop.value_counts().sort_index().items()}
                            if len(failed) else {}),
    }
    setup = ok.setup_seconds if len(ok) else pd.Series(dtype=float)
    doc["setup_seconds"] = {**percentiles(setup), "mean": float(setup.mean()) if len(setup) else None}
    doc["session_seconds"] = percentiles(ok.total_seconds if len(ok) else [])
    doc["bytes"] = int(sessions.bytes.sum()) if len(sessions) else 0
    moving = ok[(ok.bytes > 0) & (ok.data_seconds > 0)] if len(ok) else ok
    doc["throughput_mb_per_s"] = percentiles(moving.bytes / 1e6 / moving.data_seconds if len(moving) else [])
    doc.update(_cpu(hops))
    return {"streams": doc, "findings": stream_findings(chain, scenario, mode)}


def _chain_of(runs: list["RunResult"], runtime: str, scenario: "Scenario") -> "Chain | None":
    """The chain that ran ``runtime``: by its name, or by the chain name the run recorded."""
    version = parse_kubernetes_version(scenario.kubernetesVersion)
    names = [runtime] + [r.chains[runtime]["name"] for r in runs if runtime in r.chains]
    for name in names:
        try:
            return resolve_chain(name, version)[0]
        except ConfigError:
            continue
    return None


def _cpu(hops: pd.DataFrame) -> dict:
    """CPU per MB on the data path; per session, per phase (set-up, close), each process's."""
    out: dict = {"cpu_ms_per_mb_by_hop": {}, "setup_cpu_ms_per_session_by_hop": {},
                 "close_cpu_ms_per_session_by_hop": {}, "cpu_seconds_by_hop": {}}
    if hops.empty:
        return out
    data = hops[hops.phase == "data"].groupby("hop")[["cpu_seconds", "mb"]].sum()
    out["cpu_ms_per_mb_by_hop"] = {str(h): float(r.cpu_seconds * 1000.0 / r.mb) for h, r in data.iterrows()
                                   if r.mb > 0}
    for phase in ("setup", "close"):
        part = hops[hops.phase == phase]
        n = int(part.drop_duplicates(["replication", "session"]).shape[0])
        if n:
            out[f"{phase}_cpu_ms_per_session_by_hop"] = {
                str(h): float(v * 1000.0 / n) for h, v in part.groupby("hop").cpu_seconds.sum().items()}
    total = {str(h): float(v) for h, v in hops.groupby("hop").cpu_seconds.sum().items()}
    out["cpu_seconds_by_hop"] = {h: total[h] for h in sorted(total, key=lambda h: (h == APISERVER,
                                                                                    h.startswith("kubelet"), h))}
    return out


def stream_findings(chain: "Chain", scenario: "Scenario", mode: str) -> list[dict]:
    """What the scenario's stream server exposes (a routable listener), and a redirect that
    cannot work (to a localhost-only listener)."""
    cfg = scenario.streams
    if cfg is None or cfg.kind == "logsFollow" or chain.streaming is None:
        return []
    server = chain.streaming.server
    listen = server.effective(mode == "redirect", cfg.streamServerAddress, cfg.streamServerTLS)
    hop = f"{server.process} stream server"
    if mode == "redirect" and not listen.routable:
        return [{"id": "redirect-to-localhost", "severity": "error", "hop": hop,
                 "text": (f"The kubelet redirects the apiserver to {server.process}'s stream server, which "
                          f"listens on {listen.address()}: the apiserver cannot reach it and every session "
                          "fails. A redirecting kubelet needs a routable stream server, which is exactly the "
                          "exposure the kubelet's proxy (1.11+) removed."),
                 "source": "KEP-1558 (keps/sig-node/1558-streaming-proxy-redirects); " + listen.source}]
    if not listen.routable:
        return []
    if mode == "redirect":
        how = ("The kubelet redirects, so the apiserver connects to it across the network: "
               + ("the URL token and every byte of each session travel in clear text."
                  if not listen.tls else "over TLS, but the server checks no client certificate."))
    else:
        how = ("The kubelet proxies every session over the node's loopback, so nothing needs this "
               "listener to be routable: it only opens the port.")
    fix = f" Keep it on localhost: {server.localhostSetting}." if server.localhostSetting else ""
    return [{"id": "stream-server-exposed", "severity": "high" if not listen.tls else "medium", "hop": hop,
             "text": (f"{server.process}'s CRI stream server listens on {listen.address()} and authenticates "
                      f"nobody: a single-use URL token (8 characters, valid {server.tokenTTLSeconds:g} s) is its "
                      f"only check. {how}{fix}"),
             "source": listen.source}]
