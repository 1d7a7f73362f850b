"""The log files of one container instance: the file being written and the rotated ones.

Lines are fluid (fractions of a line are kept) and every line of an instance has the same size
in the file (its bytes plus the format's overhead, ``LogsSpec.overheadBytesPerLine``), so a file
is a number of lines. Two rotation owners (``LogsSpec.rotation``):

* **Docker** (moby ``loggerutils/logfile.go`` ``checkCapacityAndRotate``): checked before
  every write, so the file is rotated the moment it reaches ``max-size``: ``.1`` ... ``.N-1``
  keep the older files and the oldest is removed; with ``max-file`` 1 the file is reopened with
  ``O_TRUNC`` and its lines are gone.
* **the kubelet** (``container_log_manager.go`` ``rotateLog``): when its 10 s pass finds the
  file at or over ``containerLogMaxSize``, it removes all but the newest ``MaxFiles - 2``
  rotated files, gzips the uncompressed ones, renames the file and asks the runtime to reopen
  it; lines written until the reopen completes land in the renamed file.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["LogFiles", "Rotated"]


@dataclass
class Rotated:
    lines: float
    compressed: bool = False


@dataclass
class LogFiles:
    file_bytes_per_line: float
    current: float = 0.0  # lines in the file being written
    rotated: list[Rotated] = field(default_factory=list)  # newest first
    removed: float = 0.0  # lines rotation removed from the node (excess files, truncation)
    rotations: int = 0
    largest: float = 0.0  # lines in the largest file at its rotation
    last: float = 0.0  # lines in the file rotated last

    @property
    def current_bytes(self) -> float:
        return self.current * self.file_bytes_per_line

    def retained_bytes(self) -> float:
        """Uncompressed bytes of every file kept (compressed files counted as their content)."""
        return (self.current + sum(r.lines for r in self.rotated)) * self.file_bytes_per_line

    def add(self, lines: float) -> None:
        self.current += lines

    def lines_to_limit(self, limit_bytes: float) -> float:
        """Lines that still fit before the file reaches ``limit_bytes``."""
        return max(limit_bytes - self.current_bytes, 0.0) / self.file_bytes_per_line

    def _rotated_out(self) -> None:
        self.rotations += 1
        self.last = self.current
        self.largest = max(self.largest, self.current)

    def docker_rotate(self, max_file: int) -> None:
        """Docker's rotation at max-size (``rotate``; max-file < 2: truncate)."""
        self._rotated_out()
        if max_file < 2:
            self.removed += self.current
        else:
            self.rotated.insert(0, Rotated(self.current))
            while len(self.rotated) > max_file - 1:
                self.removed += self.rotated.pop().lines
        self.current = 0.0

    def kubelet_prepare(self, max_files: int) -> float:
        """``removeExcessLogs`` and the compression pass before the rename: returns the lines the
        kubelet gzips now."""
        keep = max(max_files - 2, 0)
        while len(self.rotated) > keep:
            self.removed += self.rotated.pop().lines
        gz = 0.0
        for r in self.rotated:
            if not r.compressed:
                gz += r.lines
                r.compressed = True
        return gz

    def kubelet_reopened(self) -> None:
        """The runtime reopened the path: the renamed file (with every line written until now)
        is the newest rotated file, uncompressed ("so that fluentd can finish reading")."""
        self._rotated_out()
        self.rotated.insert(0, Rotated(self.current))
        self.current = 0.0
