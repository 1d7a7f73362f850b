"""Stream sessions (the scenario's ``streams:`` section): ``kubectl exec``, ``attach``,
``port-forward`` and ``logs -f`` against running pods, from the apiserver to the container.

One session, as the code has it (the hops' costs: chain data and ``config/streams.py``):

1. **kube-apiserver**: the ``pods/exec`` request (authentication, admission, the pod and node
   lookups: ``apiserverRequestCpuMs`` on the apiserver's cores and one ``requestLatency``),
   then a new TLS connection to the kubelet's port (TCP and TLS 1.3: two round trips,
   ``tlsHandshakeCpuMs`` on each side) carrying the request (half a round trip). Streaming
   requests are long-running: they take no in-flight seat (apiserver ``LongRunningFunc``).
2. **kubelet** (``kubelet/streaming.py``): the handler and the runtime's CRI call for the URL
   (for logs: ``ContainerStatus``).
3. **proxy** (1.11+): the kubelet dials the stream server on the node and upgrades the
   connection; the 101 reaches the apiserver (half a round trip) and the client's SPDY streams
   are created through it (one round trip). **redirect** (before 1.11, or the 1.11-1.19 flag):
   the 302 reaches the apiserver, which opens its own connection to the stream server (TCP, and
   TLS if the server has it) and upgrades it; a stream server that listens on localhost only
   cannot be reached from the apiserver and the session fails there. The kubelet is then no part
   of the stream.
4. **stream server** (``runtime/stream_server.py``): the token is consumed and the chain's
   ``connect`` steps run (docker exec create + start, runc exec...). Set-up ends here: the
   command runs and its streams are wired end to end.
5. **data**: ``bytesPerSession`` spread over ``durationSeconds`` in 1 s chunks; each chunk costs
   every hop on the path its CPU per MB (the chain's hops from the container to the stream
   server, the kubelet's proxy when it proxies, the apiserver), all hops working on a chunk at
   once; a chunk the CPU cannot finish in time stretches the session. A hop whose process
   restarts (a ``daemonRestart`` fault) ends the stream there.
6. **close**: the chain's ``close`` steps (inspect the exec, delete the exec process).

Set-up latency is measured at the apiserver, from the request's arrival to step 4's end: the
client's own round trips to the apiserver are not in it.

Randomness: the arrivals and the choice of pod come from one new stream, spawned from the run's
root seed after the existing ones; each session's service times from its own stream spawned
from another; nothing else is drawn, so a scenario without ``streams:`` runs exactly as before.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Optional

import numpy as np
import pandas as pd

from ..chains import DataHop, ListenSpec
from ..config.streams import streaming_mode
from .dist import compile_dist
from .runtime.context import CallContext, HopFailure
from .runtime.stream_server import StreamServer

if TYPE_CHECKING:
    import simpy

    from ..chains.streaming import StreamingSpec
    from ..config import Scenario, StreamsConfig
    from .control.apiserver import ApiServer
    from .node.node import Node
    from .state import ContainerState, PodState

__all__ = ["StreamSessions", "data_path", "SESSION_COLUMNS", "HOP_COLUMNS", "APISERVER", "CHUNK_S", "OPEN"]

APISERVER = "kube-apiserver"
CHUNK_S = 1.0  # model resolution (not a property of any system): one chunk of bytes per second of session
POLL_S = 0.5  # model resolution: how often the arrivals look for a first running target pod
OPEN = "open at the end of the run"

SESSION_COLUMNS = ["session", "kind", "mode", "pod", "container", "start", "setup_seconds", "data_seconds",
                   "close_seconds", "total_seconds", "bytes", "outcome", "failure_hop"]
HOP_COLUMNS = ["session", "hop", "process", "phase", "cpu_seconds", "mb"]


def data_path(spec: "StreamingSpec", cfg: "StreamsConfig", mode: str,
              listen: Optional[ListenSpec]) -> list[tuple[DataHop, bool]]:
    """The hops a session's bytes cross, container side first, each with (hop, whether it runs on
    the apiserver's cores): the chain's hops to the stream server (for logs: the kubelet reading
    the file), TLS at the stream server when it has it, the kubelet (its proxy, or writing the
    log lines) unless it redirected, then the apiserver."""
    hops: list[tuple[DataHop, bool]] = [(h, False) for h in spec.data_hops(cfg.kind)]
    tls = listen is not None and listen.tls
    server = spec.server.process
    if tls and cfg.tlsCpuMsPerMB > 0:
        hops.append((DataHop(process=server, name=f"{server} (TLS)", cpuMsPerMB=cfg.tlsCpuMsPerMB,
                             source="streams.tlsCpuMsPerMB (ASSUMPTION)"), False))
    if cfg.kind == "logsFollow":
        hops.append((DataHop(process="kubelet", name="kubelet (TLS to the apiserver)",
                             cpuMsPerMB=cfg.kubeletProxyCpuMsPerMB,
                             source="streams.kubeletProxyCpuMsPerMB (ASSUMPTION)"), False))
    elif mode == "proxy":
        hops.append((DataHop(process="kubelet", name="kubelet (proxy)",
                             via=f"loopback TCP, {'TLS' if tls else 'plain HTTP'}",
                             cpuMsPerMB=cfg.kubeletProxyCpuMsPerMB + (cfg.tlsCpuMsPerMB if tls else 0.0),
                             source="streams.kubeletProxyCpuMsPerMB (+ tlsCpuMsPerMB from a TLS stream server) "
                             "(ASSUMPTION)"), False))
    api_cost = cfg.apiserverCpuMsPerMB
    via = "TLS, across the network"
    if cfg.kind != "logsFollow" and mode == "redirect":
        via = f"{'TLS' if tls else 'plain HTTP'}, across the network"
        if not tls:
            api_cost = max(0.0, api_cost - cfg.tlsCpuMsPerMB)  # it reads the stream server in clear text
    hops.append((DataHop(process=APISERVER, via=via, cpuMsPerMB=api_cost,
                         source="streams.apiserverCpuMsPerMB (ASSUMPTION)"), True))
    return hops


@dataclass
class _Open:
    """A session in progress: what its row and hop rows will say."""

    start: float
    pod: str
    container: str
    phase: str = "setup"
    setup: float = math.nan
    data: float = math.nan
    close: float = math.nan
    mb: float = 0.0  # moved through every hop so far
    flushed_mb: float = 0.0
    hops: list = field(default_factory=list)  # (DataHop, on the apiserver) once the data flows
    cpu: dict[str, float] = field(default_factory=dict)  # CPU seconds per process since the last flush


class StreamSessions:
    def __init__(self, env: "simpy.Environment", scenario: "Scenario", api: "ApiServer",
                 pods: Callable[[], list["PodState"]], seed: np.random.SeedSequence, no_node_label: str = ""):
        assert scenario.streams is not None
        self.env = env
        self.cfg = cfg = scenario.streams
        self.api = api
        self._pods = pods
        self.mode = streaming_mode(scenario.kubernetesVersion, cfg.redirectContainerStreaming)
        arrivals, sessions = seed.spawn(2)
        self._rng = np.random.default_rng(arrivals)
        self._session_seed = sessions
        self._latency = compile_dist(scenario.apiserver.requestLatency)
        self._rtt = cfg.apiserverToNodeRttMs / 1000.0
        self._servers: dict[int, StreamServer] = {}  # by node object (a reinstalled node is a new one)
        self.rows: list[tuple] = []
        self.hop_rows: list[tuple] = []
        self._open: dict[int, _Open] = {}
        self._labels: dict[int, str] = {}  # session -> runtime label of its node
        self._no_node = no_node_label  # for a session that found no pod (the single node's chain)

    def start(self) -> None:
        self.env.process(self._arrivals())

    # ------------------------------------------------------------------ who and when
    def _targets(self) -> list["PodState"]:
        t = self.cfg.targetTemplate
        return [p for p in self._pods()
                if p.running_observed is not None and p.deletion_requested is None and not p.failed
                and p.node_ref is not None and not p.node_ref.retired and (t is None or p.template == t)]

    def _arrivals(self):
        env, cfg = self.env, self.cfg
        if cfg.startSeconds > 0:
            yield env.timeout(cfg.startSeconds)
        while not self._targets():
            yield env.timeout(POLL_S)
        i = 0
        while cfg.sessions is None or i < cfg.sessions:
            yield env.timeout(float(self._rng.exponential(1.0 / cfg.sessionsPerSecond)))
            targets = self._targets()
            if not targets:
                self.rows.append((i, cfg.kind, self.mode, "", "", env.now, math.nan, math.nan, math.nan, math.nan,
                                  0, "no running target pod", APISERVER))
                self._labels[i] = self._no_node
            else:
                pod = targets[int(self._rng.integers(len(targets)))]
                seed = np.random.SeedSequence(self._session_seed.entropy,
                                              spawn_key=self._session_seed.spawn_key + (i,))
                env.process(self._session(i, pod, np.random.default_rng(seed)))
            i += 1

    def _server(self, node: "Node") -> StreamServer:
        server = self._servers.get(id(node))
        if server is None:
            server = self._servers[id(node)] = StreamServer(self.env, node.chain, node.interpreter, self.cfg,
                                                             redirect=self.mode == "redirect")
        return server

    # ------------------------------------------------------------------ one session
    def _session(self, i: int, pod: "PodState", rng: np.random.Generator):
        env, kind = self.env, self.cfg.kind
        node: "Node" = pod.node_ref
        kube = node.kubelet.streaming
        assert kube is not None
        server = self._server(node) if kind != "logsFollow" else None
        container = self._container(pod)
        st = _Open(env.now, pod.name, container.spec.name if container else "")
        ctx = CallContext(pod, rng, "stream", container=container, cpu=st.cpu)
        self._open[i] = st
        self._labels[i] = node.label
        outcome, hop = "ok", ""
        try:
            yield from self._request(node, ctx)
            token = yield from kube.serve(kind, ctx, server)
            if server is None or token is None:
                yield env.timeout(self._rtt / 2)  # the response's headers reach the apiserver
            elif kube.proxies:
                yield from kube.dial_stream_server(server, ctx)
                server.consume(token)
                yield env.timeout(self._rtt / 2 + self._rtt)  # 101 to the apiserver; streams created
                yield from server.connect(kind, ctx, "kubelet")
            else:
                yield from self._redirected(node, server, ctx, token)
                yield from server.connect(kind, ctx, APISERVER)
            st.setup = env.now - st.start
            self._flush(i, st)
            st.phase = "data"
            t = env.now
            yield from self._data(node, kube, server, st)
            st.data = env.now - t
            self._flush(i, st)
            st.phase = "close"
            t = env.now
            if server is not None:
                yield from server.close(kind, ctx)
            st.close = env.now - t
        except HopFailure as f:
            outcome, hop = f.reason, f.hop
        del self._open[i]
        self._flush(i, st)
        self._record(i, st, outcome, hop)

    def _container(self, pod: "PodState") -> Optional["ContainerState"]:
        if self.cfg.kind == "portForward":
            return None
        regular = pod.regular_containers
        running = [c for c in regular if c.state == "running"]
        return (running or regular)[0] if regular else None

    def _request(self, node: "Node", ctx: CallContext):
        """The apiserver's handling, then its TLS connection to the kubelet carrying the request."""
        env, cfg = self.env, self.cfg
        work = cfg.apiserverRequestCpuMs / 1000.0
        if work > 0:
            yield self.api.cpu.run(work, "apiserver")
            ctx.add_cpu(APISERVER, work)
        yield env.timeout(self._latency(ctx.rng))
        yield from self._dial(node, "kubelet", True, ctx)
        yield env.timeout(self._rtt / 2)

    def _dial(self, node: "Node", peer: str, tls: bool, ctx: CallContext):
        """A new connection from the apiserver to a process on the node: TCP, then TLS 1.3."""
        env, cfg = self.env, self.cfg
        yield env.timeout(self._rtt)
        if tls:
            work = cfg.tlsHandshakeCpuMs / 1000.0
            if work > 0:
                yield env.all_of([self.api.cpu.run(work, "apiserver"), node.cpu.run(work, peer)])
                ctx.add_cpu(APISERVER, work)
                ctx.add_cpu(peer, work)
            yield env.timeout(self._rtt)

    def _redirected(self, node: "Node", server: StreamServer, ctx: CallContext, token: int):
        """The 302 reaches the apiserver, which connects to the stream server itself."""
        env = self.env
        yield env.timeout(self._rtt / 2)
        if not server.listen.routable:
            raise HopFailure(f"{APISERVER} -> {server.process} stream server",
                             "dial tcp 127.0.0.1: connect: connection refused (the stream server "
                             "listens on localhost only)")
        yield from self._dial(node, server.process, server.listen.tls, ctx)
        yield env.timeout(self._rtt / 2)  # the upgrade request reaches the stream server
        server.consume(token)
        yield env.timeout(self._rtt / 2 + self._rtt)  # 101 back; the client's streams created

    # ------------------------------------------------------------------ the bytes
    def path(self, node: "Node", server: Optional[StreamServer], kube) -> list[tuple[DataHop, bool]]:
        """The hops the bytes cross, container side first: (hop, on the apiserver's cores)."""
        assert node.chain.streaming is not None
        return data_path(node.chain.streaming, self.cfg, self.mode, server.listen if server is not None else None)

    def _data(self, node: "Node", kube, server: Optional[StreamServer], st: "_Open"):
        env, cfg = self.env, self.cfg
        st.hops = hops = self.path(node, server, kube)
        mb_total = cfg.bytesPerSession / 1e6
        n = max(1, math.ceil(cfg.durationSeconds / CHUNK_S - 1e-9))
        mb, interval = mb_total / n, cfg.durationSeconds / n
        faults = node.faults
        epochs = {h.process: faults.epoch[h.process] for h, api in hops if not api} if faults is not None else {}
        for _ in range(n):
            t = env.now
            jobs = [(self.api.cpu if api else node.cpu).run(mb * h.cpuMsPerMB / 1000.0,
                                                              "apiserver" if api else h.process)
                    for h, api in hops if mb * h.cpuMsPerMB > 0]
            if jobs:
                yield env.all_of(jobs)
            st.mb += mb
            if interval - (env.now - t) > 0:
                yield env.timeout(interval - (env.now - t))
            if faults is not None:
                for proc, epoch in epochs.items():
                    if faults.epoch[proc] != epoch:
                        raise HopFailure(f"{proc}: stream", f"{proc} restarted: stream closed")

    # ------------------------------------------------------------------ records
    def _flush(self, i: int, st: "_Open") -> None:
        """The CPU the session spent since the last flush, per hop, into the hop rows."""
        for proc, seconds in sorted(st.cpu.items()):
            if seconds > 0:
                self.hop_rows.append((i, proc, proc, st.phase, seconds, 0.0))
        st.cpu.clear()
        moved = st.mb - st.flushed_mb
        if moved > 0:
            for h, _api in st.hops:
                self.hop_rows.append((i, h.label, h.process, "data", moved * h.cpuMsPerMB / 1000.0, moved))
            st.flushed_mb = st.mb

    def _record(self, i: int, st: "_Open", outcome: str, hop: str) -> None:
        total = self.env.now - st.start if outcome != OPEN else math.nan
        self.rows.append((i, self.cfg.kind, self.mode, st.pod, st.container, st.start, st.setup, st.data,
                          st.close, total, int(round(st.mb * 1e6)), outcome, hop))

    def frames(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        """(sessions, per-hop CPU) with each session's runtime label; sessions still open when the
        run stops are recorded as such."""
        for i, st in sorted(self._open.items()):
            self._flush(i, st)
            self._record(i, st, OPEN, "")
        self._open.clear()
        sessions = pd.DataFrame(sorted(self.rows), columns=SESSION_COLUMNS)
        hops = pd.DataFrame(self.hop_rows, columns=HOP_COLUMNS)
        for df in (sessions, hops):
            df.insert(0, "runtime", [self._labels.get(int(s), "") for s in df["session"]])
        return sessions, hops
