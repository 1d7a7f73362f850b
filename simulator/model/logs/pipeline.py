"""A node's container logs: one stream per chatty container, the kubelet's rotation, the
readers (``kubectl logs``, ``kubectl logs -f``) and the log agents.

What the chain's ``logs:`` section says (``simulator/chains/logs.py``) decides the mechanics:
the hops and their CPU, the format's bytes per line, the pipes a stalled writer backs up into,
whether Docker's non-blocking mode exists, who rotates and who reads. The scenario decides the
settings: Docker's ``log-opts`` (``logging.dockerLogOpts``), the kubelet's
``containerLogMaxSize``/``containerLogMaxFiles``, the readers and agents (``logging``), and the
release (``kubernetesVersion``): whether the kubelet rotates at all (CRI log rotation from 1.11,
remote runtimes only) and whether a follower survives it (1.29).

Nothing here runs unless a container of the scenario has ``logs:``; the kubelet builds the
pipeline (``Kubelet``), the runtime manager starts a stream when such a container starts, and the
container log manager (``kubelet/housekeeping.py``) calls :meth:`LogPipeline.kubelet_rotate`
after each ``ContainerStatus`` of its 10 s pass.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Optional

from ...config.logging import LoggingConfig, quantity_bytes
from ...config.versions import profile
from ..runtime.context import CallContext, HopFailure
from .stream import MB, LogStream

if TYPE_CHECKING:
    import numpy as np

    from ..state import ContainerState, PodState

__all__ = ["LogPipeline", "GZIP_CPU_MS_PER_MB", "scenario_has_logs"]

# The kubelet gzips rotated files with Go's compress/gzip at the default level
# (container_log_manager.go compressLog). ASSUMPTION: 25 ms of CPU per MB of log text (~40 MB/s
# per core, the order of zlib's default level on text); no measurement of the kubelet's.
GZIP_CPU_MS_PER_MB = 25.0


def scenario_has_logs(scenario: Any) -> bool:
    """Whether some container of the scenario writes logs."""
    return any(c.logs is not None for t in scenario.workload.templates
               for c in t.spec.initContainers + t.spec.containers)


class LogPipeline:
    def __init__(self, node: Any):
        self.node = node
        self.env = node.env
        self.cpu, self.disk = node.cpu, node.disk
        spec = node.chain.logs
        assert spec is not None
        self.spec = spec
        sc = node.scenario
        cfg = sc.logging or LoggingConfig()
        opts = cfg.dockerLogOpts
        docker = spec.rotation.owner == "docker"
        self.docker_limit: Optional[float] = opts.max_size_bytes() if docker else None
        self.docker_max_file = opts.maxFile
        self.nonblocking = opts.mode == "non-blocking" and "non-blocking" in spec.modes
        self.ring_bytes = opts.buffer_bytes()
        release = profile(sc.kubernetesVersion)
        self.max_size = quantity_bytes(sc.kubelet.containerLogMaxSize)
        self.max_files = sc.kubelet.containerLogMaxFiles
        self.follow = bool(cfg.kubectlLogs and cfg.kubectlLogs.follow)
        self.follow_across = bool(release["logFollowAcrossRotation"])
        self.read_every = cfg.kubectlLogs.everySeconds if cfg.kubectlLogs else None
        # (name, whether it can read this node's logs, why not) of the agents on this node
        agents = node.log_agents if node.log_agents is not None else cfg.agents
        self.agent_specs = [(a.name, *self._readable(a.path, a.parser)) for a in agents
                            if not a.pools or node.pool in a.pools]
        self.agents = [(name, ok) for name, ok, _ in self.agent_specs]
        self.streams: list[LogStream] = []
        self._by_container: dict[int, LogStream] = {}

    def _readable(self, path: str, parser: str) -> tuple[bool, str]:
        spec = self.spec
        if not spec.has_path(path):
            return False, (f"no file matches {path} on {self.node.chain.name}: its logs are at "
                           f"{spec.file}")
        if parser not in ("auto", spec.format):
            return False, f"its {parser} parser cannot read {spec.format} lines"
        return True, ""

    def start(self) -> None:
        rec = self.node.recorder
        for name, ok, why in self.agent_specs:
            if not ok:
                rec.event(self.env.now, "", "LogAgentBlind", f"{name}: {why}", hop=name)
        if self.read_every:
            self.env.process(self._reads())

    # ------------------------------------------------------------------ streams
    def container_started(self, pod: "PodState", c: "ContainerState") -> None:
        if c.spec.logs is None:
            return
        stream = LogStream(self, pod, c, c.spec.logs)
        self.streams.append(stream)
        self._by_container[id(c)] = stream
        self.env.process(stream.run())

    def rotated(self, stream: LogStream, t: float, owner: str) -> None:
        mb = stream.files.last * stream.files.file_bytes_per_line / MB
        self.node.recorder.event(t, stream.pod.name, "LogRotated",
                                 f"{stream.c.spec.name}: by {owner} at {mb:.3f} MB")
        if owner == "kubelet" and stream.following and stream.stuck_at is None and not self.follow_across:
            stream.stuck_at = t
            self.node.recorder.event(t, stream.pod.name, "LogFollowerStuck",
                                     f"{stream.c.spec.name}: kubectl logs -f stays on the rotated file")

    # ------------------------------------------------------------------ the kubelet's rotation
    def kubelet_rotate(self, pod: "PodState", c: "ContainerState", cri: Any, rng: "np.random.Generator"):
        """After ``ContainerStatus``: ``Stat`` the file; at or over containerLogMaxSize rotate it
        (container_log_manager.go processContainer, rotateLog)."""
        stream = self._by_container.get(id(c))
        if stream is None or self.max_size < 0:
            return
        env = self.env
        stream.sync(env.now)
        if stream.files.current_bytes < self.max_size:
            return
        kubelet_files = self.spec.rotation.owner == "kubelet"
        if kubelet_files:
            gz = stream.files.kubelet_prepare(self.max_files) * stream.files.file_bytes_per_line / MB
            if gz > 0:
                yield stream.run_cpu(gz * GZIP_CPU_MS_PER_MB / 1000.0, "kubelet")
        try:
            yield from cri.call("reopen_container_log", CallContext(pod, rng, "logs", container=c))
        except HopFailure as f:  # the kubelet renames the file back and tries again next pass
            stream.rotate_failures[f.hop] += 1
            self.node.recorder.event(env.now, pod.name, "LogRotateFailed", f.reason, hop=f.hop)
            return
        if kubelet_files:
            stream.sync(env.now)
            stream.files.kubelet_reopened()
            self.rotated(stream, env.now, "kubelet")

    # ------------------------------------------------------------------ readers
    def _reads(self):
        """``kubectl logs`` of every running chatty container every ``everySeconds``: the kubelet
        reads the file being written (and the rotated ones where the chain's reader does)."""
        env, reader = self.env, self.spec.reader
        assert self.read_every is not None
        while not self.node.retired:
            yield env.timeout(self.read_every)
            for s in self.streams:
                if not s.running():
                    continue
                s.sync(env.now)
                lines = s.files.current + (sum(r.lines for r in s.files.rotated) if reader.rotatedFiles else 0.0)
                s.reads += 1
                s.read_lines += lines
                s.run_cpu(lines * (reader.cpuUsPerLine * 1e-6 + s.line / MB * reader.cpuMsPerMB * 1e-3),
                          reader.process)

    # ------------------------------------------------------------------ results
    def rows(self, now: float) -> list[dict]:
        """One row per chatty container instance (``RunResult.logs``)."""
        out = []
        node = self.node
        for s in self.streams:
            s.sync(now)
            f = s.files
            row = {
                "runtime": node.label, "node": node.name, "pool": node.pool, "pod": s.pod.name,
                "container": s.c.spec.name, "instance": s.c.cid, "start": s.start,
                "end": s.end if s.end is not None else float("nan"),
                "lines_per_second": s.lines_per_s, "bytes_per_line": s.line,
                "mode": "non-blocking" if s.nonblocking else "blocking",
                "lines_produced": s.produced, "lines_written": s.written, "dropped_lines": s.dropped,
                "blocked_seconds": s.blocked, "mb_written": s.written * f.file_bytes_per_line / MB,
                "rotation_owner": self.spec.rotation.owner, "rotations": f.rotations,
                "largest_file_mb": f.largest * f.file_bytes_per_line / MB,
                "removed_lines": f.removed, "retained_mb": f.retained_bytes() / MB,
                "lines_in_current_file": f.current,
                "rotate_failures": sum(s.rotate_failures.values()),
                "rotate_failure_hop": ", ".join(sorted(s.rotate_failures)),
                "follow_lines": s.follow_lines, "follow_lost_lines": s.follow_lost,
                "follow_behind_lines": s.follow_behind(),
                "follow_stuck_at": s.stuck_at if s.stuck_at is not None else float("nan"),
                "reads": s.reads, "read_lines": s.read_lines,
            }
            for name, _ok in self.agents:
                row[f"agent.{name}.collected"] = s.collected[name]
                row[f"agent.{name}.lost"] = s.missed[name]
            for proc, sec in sorted(s.cpu.items()):
                row[f"cpu_s.{proc}"] = sec
            out.append(row)
        return out
