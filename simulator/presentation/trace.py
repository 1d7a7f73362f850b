"""Spans as a Chrome trace (opens in https://ui.perfetto.dev or chrome://tracing).

The trace-event format (Google, "Trace Event Format", the JSON document behind chrome://tracing)
is a list of events. Each span becomes one *complete* event (``"ph": "X"``) with a start ``ts``
and a duration ``dur`` in integer microseconds of simulated time. Events are grouped into
*processes* (``pid``) and *threads* (``tid``), named by metadata events (``"ph": "M"``):

* one trace process per simulated node and runtime (and replication, when there are several), so
  two chains can be compared track by track;
* one thread per simulated OS process (kubelet, dockerd, containerd-shim, runc...), ordered from
  the kubelet to the far end of the chain.

A viewer stacks the events of one thread as a flame chart, which requires them to nest: an event
must end before, or lie entirely within, any event that started earlier on its thread. One pod's
calls always nest, but a daemon serving several pods at once has overlapping calls; those go on
extra threads named ``dockerd (2)``, ``dockerd (3)``... next to the first one, so nothing is
hidden and nothing is mis-nested.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .style import PROCESS_ORDER, runtime_sort_key

__all__ = ["to_chrome_trace", "write_chrome_trace"]

_REQUIRED = ("span_id", "parent_id", "pod", "operation", "step", "process", "caller", "start",
             "end", "queued", "outcome", "runtime", "node")


def _rank(name: str, order: tuple[str, ...]) -> tuple[int, str]:
    return (order.index(name) if name in order else len(order), name)


def _nest_into_threads(ts: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Assign each event (sorted by start, longest first) the first thread it nests on."""
    stacks: list[list[int]] = []  # per thread: end times of the open events
    thread = np.empty(len(ts), dtype=int)
    for i, (start, stop) in enumerate(zip(ts, end)):
        for k, stack in enumerate(stacks):
            while stack and stack[-1] <= start:
                stack.pop()
            if not stack or stop <= stack[-1]:
                stack.append(stop)
                thread[i] = k
                break
        else:
            stacks.append([stop])
            thread[i] = len(stacks) - 1
    return thread


def to_chrome_trace(spans: pd.DataFrame) -> dict[str, Any]:
    """The spans as a Chrome trace-event document (``{"traceEvents": [...], ...}``).

    ``ts`` and ``dur`` are integer microseconds of simulated time; ``args`` carry the pod, the
    operation, the caller, the transport, the outcome and the time queued (``queued_ms``).
    """
    missing = [c for c in _REQUIRED if c not in spans.columns]
    if missing:
        raise KeyError(f"spans lack columns {missing}; they have {list(spans.columns)}")
    frame = spans.copy()
    several_reps = "replication" in frame.columns and frame["replication"].nunique() > 1
    track_keys = ["runtime", "node"] + (["replication"] if several_reps else [])
    # Round the end, not the duration, so that a child never ends after its parent.
    frame["ts_us"] = np.rint(frame["start"].to_numpy(float) * 1e6).astype(np.int64)
    frame["end_us"] = np.maximum(
        np.rint(frame["end"].to_numpy(float) * 1e6).astype(np.int64), frame["ts_us"])

    tracks = sorted(frame[track_keys].drop_duplicates().itertuples(index=False, name=None),
                    key=lambda k: (runtime_sort_key(str(k[0])), *map(str, k[1:])))
    meta: list[dict[str, Any]] = []
    complete: list[dict[str, Any]] = []
    for pid, key in enumerate(tracks, start=1):
        track_name = " · ".join([str(key[0]), str(key[1])]
                                + ([f"replication {key[2]}"] if several_reps else []))
        meta += [
            {"ph": "M", "pid": pid, "tid": 0, "name": "process_name",
             "args": {"name": track_name}},
            {"ph": "M", "pid": pid, "tid": 0, "name": "process_sort_index",
             "args": {"sort_index": pid}},
        ]
        in_track = frame[(frame[track_keys] == pd.Series(key, index=track_keys)).all(axis=1)]
        tid = 0
        for process in sorted(in_track["process"].unique(), key=lambda p: _rank(p, PROCESS_ORDER)):
            rows = in_track[in_track["process"] == process].sort_values(
                ["ts_us", "end_us", "span_id"], ascending=[True, False, True], kind="stable")
            threads = _nest_into_threads(rows["ts_us"].to_numpy(), rows["end_us"].to_numpy())
            for k in range(int(threads.max()) + 1):
                tid += 1
                name = process if k == 0 else f"{process} ({k + 1})"
                meta += [
                    {"ph": "M", "pid": pid, "tid": tid, "name": "thread_name",
                     "args": {"name": name}},
                    {"ph": "M", "pid": pid, "tid": tid, "name": "thread_sort_index",
                     "args": {"sort_index": tid}},
                ]
                for row in rows[threads == k].itertuples(index=False):
                    complete.append({
                        "ph": "X", "pid": pid, "tid": tid, "name": str(row.step),
                        "cat": str(row.operation), "ts": int(row.ts_us),
                        "dur": int(row.end_us - row.ts_us),
                        "args": {
                            "pod": str(row.pod), "operation": str(row.operation),
                            "caller": str(row.caller),
                            "transport": str(getattr(row, "transport", "")),
                            "outcome": str(row.outcome),
                            "queued_ms": round(float(row.queued) * 1000, 3),
                            "span_id": int(row.span_id), "parent_id": int(row.parent_id),
                        },
                    })
    complete.sort(key=lambda e: (e["pid"], e["tid"], e["ts"], -e["dur"], e["args"]["span_id"]))
    return {"traceEvents": meta + complete, "displayTimeUnit": "ms",
            "otherData": {"generator": "kubesim", "clock": "simulated time"}}


def write_chrome_trace(spans: pd.DataFrame, path: str | Path) -> Path:
    """Write :func:`to_chrome_trace` of ``spans`` to ``path`` (JSON); return the path."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(to_chrome_trace(spans), separators=(",", ":"), ensure_ascii=False),
                   encoding="utf-8")
    return out
