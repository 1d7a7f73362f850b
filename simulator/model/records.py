"""Flat records of a run, turned into tidy DataFrames at the end (STYLE.md §6-7).

Spans are appended as tuples (cheap); step-level spans can be switched off for sweeps
(``simulation.recordSpans: false``), operation-level spans are always kept because the summary's
``per_operation_mean_seconds`` is computed from them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    from .runtime.context import CallContext

__all__ = ["Recorder", "SPAN_COLUMNS", "RESOURCE_COLUMNS"]

SPAN_COLUMNS = [
    "span_id", "parent_id", "depth", "pod", "operation", "step", "process", "caller",
    "transport", "start", "end", "queued", "outcome", "source",
]
RESOURCE_COLUMNS = ["time", "process", "group", "metric", "value"]
EVENT_COLUMNS = ["time", "pod", "event", "hop", "detail"]


class Recorder:
    def __init__(self, record_steps: bool = True):
        self.record_steps = record_steps
        self._next = 0
        self.spans: list[tuple] = []
        self.resources: list[tuple] = []
        self.events: list[tuple] = []  # (time, pod, event, hop, detail): a readable event log
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
        df = pd.DataFrame(self.spans, columns=SPAN_COLUMNS)
        return df.sort_values(["start", "depth", "span_id"], kind="stable").reset_index(drop=True)

    def resources_frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.resources, columns=RESOURCE_COLUMNS)

    def events_frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.events, columns=EVENT_COLUMNS)
