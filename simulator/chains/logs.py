"""The ``logs:`` section of a chain: how a container's stdout reaches a file on the node, who
rotates that file and who reads it back for ``kubectl logs``, as data.

The section is what ``simulator.model.logs`` runs (the copy path's CPU per line and per MB on
each hop, the pipe a stalled writer backs up into, the file format's bytes per line, the
rotation owner) and what ``kubesim explain logs`` tabulates, so the comparison table of the
chains' logging comes out of the same data the model uses. Every number names its source.
"""

from __future__ import annotations

import fnmatch
from typing import Annotated, Literal

from pydantic import Field

from ..schema import NonNeg, Pos, StrictModel

Mode = Literal["blocking", "non-blocking"]


def _blocking_only() -> list[Mode]:
    return ["blocking"]


__all__ = ["LogHop", "LogReader", "LogRotation", "LogsSpec", "LOG_FORMATS", "path_matches"]

LOG_FORMATS = {
    "docker-json": 'one JSON object per line: {"log":"<line>\\n","stream":"stdout","time":"<RFC 3339>"}',
    "cri": "<RFC 3339 time> <stream> <F|P> <line> (the CRI logging format)",
}

# stand-ins for the variable parts of a log path, to match an agent's glob against a chain's paths
_SAMPLE = {"<id>": "0123456789ab", "<pod>": "web-1", "<ns>": "default", "<uid>": "8f0e-11e8",
           "<container>": "app", "<n>": "0"}


class LogHop(StrictModel):
    """One process the container's output passes through on its way to the file.

    ``stage`` ``copy`` moves every byte the container writes (Docker's shim and log copier run
    before the ring buffer of ``mode: non-blocking``, so they also handle the lines the ring
    drops); ``write`` formats and writes what reaches the file."""

    name: str
    process: str
    stage: Literal["copy", "write"] = "write"
    cpuUsPerLine: NonNeg = 0.0
    cpuMsPerMB: NonNeg = 0.0
    source: str = Field(min_length=3)


class LogReader(StrictModel):
    """Who serves ``kubectl logs`` and what one line costs it."""

    process: str
    via: str
    cpuUsPerLine: NonNeg = 0.0
    cpuMsPerMB: NonNeg = 0.0
    # kubectl logs returns the rotated files too (False: only the file being written)
    rotatedFiles: bool = False
    source: str = Field(min_length=3)


class LogRotation(StrictModel):
    """Who rotates the file: Docker itself (``log-opts`` max-size/max-file, checked at every
    write) or the kubelet (``containerLogMaxSize``/``containerLogMaxFiles``, checked every 10 s,
    then ``ReopenContainerLog``)."""

    owner: Literal["docker", "kubelet"]
    source: str = Field(min_length=3)


class LogsSpec(StrictModel):
    format: Literal["docker-json", "cri"]
    # bytes the format adds to each line (the time stamp, stream, tag, JSON wrapping)
    overheadBytesPerLine: Annotated[int, Field(ge=0)]
    formatSource: str = Field(min_length=3)
    # where the writer writes, and the links to it (the kubelet's /var/log/pods and
    # /var/log/containers symlinks): <id>, <pod>, <ns>, <uid>, <container>, <n> stand for the
    # variable parts
    file: str
    links: list[str] = Field(default_factory=list)
    pathSource: str = Field(min_length=3)
    writer: str  # the process that writes the file
    hops: list[LogHop] = Field(min_length=1)
    # what a stalled writer backs the container's output up into before the container's own
    # write(2) blocks (the stdout pipe, a FIFO, the copiers' buffers)
    pipeBufferKiB: Pos
    pipeSource: str = Field(min_length=3)
    modes: list[Mode] = Field(default_factory=_blocking_only)
    modesSource: str = Field(min_length=3)
    rotation: LogRotation
    reader: LogReader
    notes: list[str] = Field(default_factory=list)

    def processes(self) -> set[str]:
        return {self.writer, self.reader.process} | {h.process for h in self.hops}

    def paths(self) -> list[str]:
        return [self.file] + list(self.links)

    def has_path(self, glob: str) -> bool:
        """Whether a log agent reading ``glob`` finds this chain's container logs."""
        return any(path_matches(glob, p) for p in self.paths())


def path_matches(glob: str, path: str) -> bool:
    """``glob`` (an agent's path, e.g. ``/var/log/containers/*.log``) matches a chain path
    whose variable parts are written ``<id>``, ``<pod>``..."""
    sample = path
    for k, v in _SAMPLE.items():
        sample = sample.replace(k, v)
    return fnmatch.fnmatchcase(sample, glob)
