"""One container instance's stdout on its way to its log file, as a fluid stream.

The container writes ``linesPerSecond`` lines of ``bytesPerLine`` bytes. Between it and the
file stand the chain's log hops (``LogsSpec.hops``: the shim's copy, dockerd's copier and
json-file driver, containerd's CRI logger, conmon), each with a CPU cost per line and per MB
that runs on the node's processor-shared cores under the hop's process, and the file write on
the node's disk. Rather than one event per line, the stream works in windows:

* at the start of a window the writer takes what is buffered (the *chunk*) and processes it:
  one CPU job per process (a process's hops run in one goroutine or thread, so at most one core
  each) and the disk write, concurrently (the hops are a pipeline); the window lasts until they
  are done, and at least ``tick``;
* meanwhile the container keeps writing into the buffer: in **blocking** mode the pipes
  (``LogsSpec.pipeBufferKiB``); once they are full its write(2) blocks (blocked seconds); in
  Docker's **non-blocking** mode the copier keeps reading in a loop of its own (its CPU is spent
  on every line) and the ring buffer (``max-buffer-size``) takes what fits, the rest is dropped.

A ``kubectl logs -f`` follower reads what reaches the file in a loop of its own (the kubelet's
CPU), so a slow reader lags behind without holding the writer up.

``tick`` is half the time the buffer takes to fill at the container's rate (at most 1 s, at
least 5 ms), so an idle writer never loses a line to the discretisation. Lines are counted in
the file from the moment the container writes them (the pipeline's latency, a window at most,
is not added), which dates a Docker rotation exactly: the file reaches ``max-size`` at the
start time plus ``max-size`` / (file bytes per line x lines per second) when nothing blocks.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from typing import TYPE_CHECKING, Any

import simpy

from .files import LogFiles

if TYPE_CHECKING:
    from ...config.logging import ContainerLogs
    from ..state import ContainerState, PodState

__all__ = ["LogStream", "MB"]

MB = 1e6
# the window: half the buffer's fill time, within these bounds (s)
MIN_TICK, MAX_TICK = 0.005, 1.0


class LogStream:
    def __init__(self, pipeline: Any, pod: "PodState", c: "ContainerState", spec: "ContainerLogs"):
        self.p = pipeline
        self.env: simpy.Environment = pipeline.env
        self.pod, self.c = pod, c
        logs = pipeline.spec
        self.line = float(spec.bytesPerLine)
        self.lines_per_s = float(spec.linesPerSecond)
        self.rate = self.lines_per_s * self.line  # bytes per second
        self.files = LogFiles(self.line + logs.overheadBytesPerLine)
        self.nonblocking = pipeline.nonblocking
        self.cap = float(pipeline.ring_bytes if self.nonblocking else logs.pipeBufferKiB * 1024)
        self.tick = max(MIN_TICK, min(MAX_TICK, self.cap / (2 * self.rate)))
        self.start = self.env.now
        self.end: float | None = None
        self.produced = self.written = self.dropped = self.blocked = 0.0
        self._t = self.env.now  # production is accounted up to here
        self._win = 0.0  # bytes taken into the buffer in this window
        self._arrived = 0.0  # bytes the copier has still to read (non-blocking mode)
        self.following = pipeline.follow
        self.stuck_at: float | None = None  # when the follower lost the file
        self.follow_lines = self.follow_lost = self._follow_pending = self._follow_reading = 0.0
        self.reads = 0
        self.read_lines = 0.0
        self.collected: defaultdict[str, float] = defaultdict(float)  # agent -> lines it read
        self.missed: defaultdict[str, float] = defaultdict(float)  # agent -> lines it could not read
        self.cpu: defaultdict[str, float] = defaultdict(float)  # process -> CPU seconds
        self.rotate_failures: Counter[str] = Counter()  # hop -> failed kubelet rotations

    # ------------------------------------------------------------------ the container's side
    def running(self) -> bool:
        return self.c.state == "running"

    def _stop_time(self) -> float:
        if self.running():
            return math.inf
        return self.c.finished_at if self.c.finished_at is not None else self.env.now

    def sync(self, t: float) -> None:
        """Account what the container wrote up to ``t`` (or its exit)."""
        t = min(t, self._stop_time())
        dt = t - self._t
        if dt <= 0:
            return
        t0, r = self._t, self.rate
        room = max(self.cap - self._win, 0.0)
        if self.nonblocking:  # the copier reads everything; the ring takes what fits
            arrived = r * dt
            take = min(arrived, room)
            self.dropped += (arrived - take) / self.line
            self.produced += arrived / self.line
            self._arrived += arrived
        else:  # once the pipes are full the container's write(2) blocks
            take = min(r * dt, room)
            self.blocked += max(dt - take / r, 0.0)
            self.produced += take / self.line
        self._win += take
        self._t = t
        if take > 0:
            self._append(take / self.line, t0, t0 + take / r)

    def _append(self, lines: float, ta: float, tb: float) -> None:
        """Lines written uniformly over [ta, tb] reach the file; Docker rotates at max-size."""
        limit = self.p.docker_limit
        rate = lines / (tb - ta) if tb > ta else math.inf
        while limit is not None and lines > 0:
            fit = self.files.lines_to_limit(limit)
            if lines < fit:
                break
            t_cross = ta + (fit / rate if rate != math.inf else 0.0)
            self._add(fit)
            lines -= fit
            ta = t_cross
            self.files.docker_rotate(self.p.docker_max_file)
            self.p.rotated(self, t_cross, "docker")
        if lines > 0:
            self._add(lines)

    def _add(self, lines: float) -> None:
        self.files.add(lines)
        self.written += lines
        for name, readable in self.p.agents:
            (self.collected if readable else self.missed)[name] += lines
        if self.following:
            if self.stuck_at is None:
                self._follow_pending += lines
            else:
                self.follow_lost += lines

    # ------------------------------------------------------------------ the writer's side
    def _jobs(self, chunk: float) -> list[simpy.Event]:
        """Start the CPU and disk work of one window on ``chunk`` (bytes taken from the buffer):
        every hop in blocking mode, one job per process (dockerd's copier calls the driver: one
        goroutine); in non-blocking mode only the write stage (the copier is another goroutine,
        :meth:`_copier`). Each job at most one core; returns their events."""
        work: defaultdict[str, float] = defaultdict(float)
        for h in self.p.spec.hops:
            if chunk > 0 and not (self.nonblocking and h.stage == "copy"):
                work[h.process] += chunk / self.line * h.cpuUsPerLine * 1e-6 + chunk / MB * h.cpuMsPerMB * 1e-3
        jobs = [self.run_cpu(w, proc) for proc, w in work.items() if w > 0]
        if chunk > 0:
            jobs.append(self.p.disk.run(chunk / self.line * self.files.file_bytes_per_line / MB, "logs"))
        return jobs

    def run_cpu(self, seconds: float, process: str) -> simpy.Event:
        """A CPU job for ``process``, counted in ``cpu`` once it is done."""
        ev = self.p.cpu.run(seconds, process)

        def done(_ev: simpy.Event) -> None:
            self.cpu[process] += seconds

        ev.callbacks.append(done)
        return ev

    def run(self):
        """The writer's windows, from the container's start to its exit (then the last chunk)."""
        env = self.env
        chunk = 0.0
        if self.following:
            env.process(self._follow())
        if self.nonblocking:
            env.process(self._copier())
        while True:
            t0 = env.now
            jobs = self._jobs(chunk)
            if jobs:
                yield env.all_of(jobs)
            rest = self.tick - (env.now - t0)
            if self.running() and rest > 1e-12:
                yield env.timeout(rest)
            self.sync(env.now)
            chunk, self._win = self._win, 0.0
            if not self.running():
                jobs = self._jobs(chunk)
                if jobs:
                    yield env.all_of(jobs)
                self.end = self._stop_time()
                return

    def _copier(self):
        """Non-blocking mode: the shim's copy and dockerd's copier read every byte the container
        writes, the lines the ring then drops too, in a goroutine of their own (ASSUMPTION: they
        keep up, being cheap next to the driver, so the container never blocks in this mode)."""
        env, copy = self.env, [h for h in self.p.spec.hops if h.stage == "copy"]
        while True:
            arrived = min(self._arrived, self.rate)  # at most a second of output per pass
            self._arrived -= arrived
            if arrived > 0:
                work: defaultdict[str, float] = defaultdict(float)
                for h in copy:
                    work[h.process] += arrived / self.line * h.cpuUsPerLine * 1e-6 + arrived / MB * h.cpuMsPerMB * 1e-3
                jobs = [self.run_cpu(w, proc) for proc, w in work.items() if w > 0]
                if jobs:
                    yield env.all_of(jobs)
            elif self.end is not None:
                return
            else:
                yield env.timeout(self.tick)

    def follow_behind(self) -> float:
        """Lines in the file the follower has not read yet (a lagging reader)."""
        return self._follow_pending + self._follow_reading

    def _follow(self):
        """``kubectl logs -f``: the kubelet reads what reaches the file, on its own (a slow
        reader lags; it never holds the writer up), one core at most."""
        env, reader = self.env, self.p.spec.reader
        per_line = reader.cpuUsPerLine * 1e-6 + self.line / MB * reader.cpuMsPerMB * 1e-3
        while True:
            # at most a second of the container's lines per read, so that a lagging reader's
            # work is done (and counted) a piece at a time
            lines = min(self._follow_pending, self.lines_per_s)
            self._follow_pending -= lines
            if lines > 0:
                self._follow_reading = lines
                yield self.run_cpu(lines * per_line, reader.process)
                self._follow_reading = 0.0
                self.follow_lines += lines
            elif self.end is not None or (self.stuck_at is not None and not self.running()):
                return
            else:
                yield env.timeout(self.tick)
