"""Flat records of a run, turned into tidy DataFrames at the end (STYLE.md §6-7).

Rows are appended as tuples (cheap) and moved, a few at a time, into one array per column
(``Table``): a number takes 8 bytes instead of a tuple slot and a boxed float, and the
DataFrames are built once from the columns of all nodes (results.py). Step-level spans can be
switched off for sweeps (``simulation.recordSpans: false``), operation-level spans are always
kept because the summary's ``per_operation_mean_seconds`` is computed from them.
"""

from __future__ import annotations

from array import array
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from .runtime.context import CallContext

__all__ = ["Recorder", "Table", "SPAN_COLUMNS", "RESOURCE_COLUMNS", "EVENT_COLUMNS"]

SPAN_COLUMNS = [
    "span_id", "parent_id", "depth", "pod", "operation", "step", "process", "caller",
    "transport", "start", "end", "queued", "outcome", "source",
]
RESOURCE_COLUMNS = ["time", "process", "group", "metric", "value"]
EVENT_COLUMNS = ["time", "pod", "event", "hop", "detail"]
# each column's kind: "q" integers, "d" floats (array typecodes), "o" anything else (a list)
SPAN_KINDS = "qqqoooooodddoo"
RESOURCE_KINDS = "doood"
EVENT_KINDS = "doooo"
_DTYPES = {"q": np.int64, "d": np.float64}


class Table:
    """Rows appended one at a time, kept as one array (numbers) or list per column. The last
    few rows wait as tuples until ``_BATCH`` of them are moved into the columns together."""

    _BATCH = 128  # rows waiting per table: small, a 5,000-node cluster has 3 tables per node

    __slots__ = ("kinds", "_cols", "_rows", "_n")

    def __init__(self, kinds: str):
        self.kinds = kinds
        self._cols: list[Any] = [array(k) if k != "o" else [] for k in kinds]
        self._rows: list[tuple] = []
        self._n = 0

    def append(self, row: tuple) -> None:
        rows = self._rows
        rows.append(row)
        self._n += 1
        if len(rows) >= self._BATCH:
            self._flush()

    def _flush(self) -> None:
        if self._rows:
            for col, values in zip(self._cols, zip(*self._rows)):
                col.extend(values)
            self._rows.clear()

    def __len__(self) -> int:
        return self._n

    def column(self, i: int) -> Any:
        """Column ``i``: a numpy array (numbers) or a list."""
        self._flush()
        col = self._cols[i]
        return np.frombuffer(col, dtype=_DTYPES[self.kinds[i]]) if self.kinds[i] != "o" else col

    def frame(self, columns: list[str]) -> pd.DataFrame:
        if not self._n:
            return pd.DataFrame(columns=columns)
        return pd.DataFrame({c: self.column(i) for i, c in enumerate(columns)})


class Recorder:
    def __init__(self, record_steps: bool = True):
        self.record_steps = record_steps
        self._next = 0
        self.spans = Table(SPAN_KINDS)
        self.resources = Table(RESOURCE_KINDS)
        self.events = Table(EVENT_KINDS)  # (time, pod, event, hop, detail): a readable event log
        self._open: dict[int, tuple] = {}  # spans begun and not yet ended

    def next_id(self) -> int:
        self._next += 1
        return self._next

    def begin(self, span_id: int, parent: int, depth: int, ctx: "CallContext", step: str,
              process: str, caller: str, transport: str, start: float,
              operation_level: bool = False) -> None:
        """A span starts; if the run stops before it ends, ``close_open`` records it."""
        if not (operation_level or self.record_steps):
            return
        pod = ctx.pod.name if ctx.pod is not None else ""
        self._open[span_id] = (span_id, parent, depth, pod, ctx.operation, step, process, caller,
                               transport, start, ctx.source)

    def close_open(self, end_time: float) -> None:
        """Record the spans still open when the run stops, closed at its end, so that every
        recorded span has its parent (outcome 'open at the end of the run')."""
        for sid, (span_id, parent, depth, pod, op, step, process, caller, transport, start, source) \
                in sorted(self._open.items()):
            self.spans.append((span_id, parent, depth, pod, op, step, process, caller, transport,
                               start, end_time, 0.0, "open at the end of the run", source))
        self._open.clear()

    def span(self, span_id: int, parent: int, depth: int, ctx: "CallContext", step: str,
             process: str, caller: str, transport: str, start: float, end: float,
             queued: float, outcome: str, operation_level: bool = False) -> None:
        if not (operation_level or self.record_steps):
            return
        self._open.pop(span_id, None)
        pod = ctx.pod.name if ctx.pod is not None else ""
        self.spans.append((span_id, parent, depth, pod, ctx.operation, step, process, caller,
                           transport, start, end, queued, outcome, ctx.source))

    def resource(self, time: float, process: str, group: str, metric: str, value: float) -> None:
        self.resources.append((time, process, group, metric, value))

    def event(self, time: float, pod: str, event: str, detail: str = "", hop: str = "") -> None:
        self.events.append((time, pod, event, hop, detail))

    def spans_frame(self) -> pd.DataFrame:
        df = self.spans.frame(SPAN_COLUMNS)
        return df.sort_values(["start", "depth", "span_id"], kind="stable").reset_index(drop=True)

    def resources_frame(self) -> pd.DataFrame:
        return self.resources.frame(RESOURCE_COLUMNS)

    def events_frame(self) -> pd.DataFrame:
        return self.events.frame(EVENT_COLUMNS)
