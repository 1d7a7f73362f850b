"""One migration run as :func:`~.migration.migration_timeline` draws it.

:func:`migration_run` reads a run's ``pods`` and ``events`` into what the timeline draws: each
node's periods (serving, cordoned, reinstalling) and runtime, the pods on each node and
cluster-wide over time (Running, Pending, Pending with no node that fits, Failed), the pods the
scheduler left Pending and why, and when the last node of each runtime the migration removes
left service.
"""

from __future__ import annotations

import math
import re
import textwrap
from typing import NamedTuple

import numpy as np
import pandas as pd

from ..style import runtime_sort_key
from ._draw import require

__all__ = ["MigrationRun", "migration_run", "step_count"]

_POD_COLUMNS = ("pod", "node", "runtime", "template", "created", "running_observed", "deleted",
                "outcome", "failure_hop", "failure_reason")
_EVENT_COLUMNS = ("runtime", "node", "time", "pod", "event", "detail")
_SCHEDULER_HOP = "kube-scheduler"


class MigrationRun(NamedTuple):
    """What the timeline draws of one run (times in seconds)."""

    ev: pd.DataFrame  # the events, times as floats, nodes as strings
    t0: float
    t_end: float  # a little after the last event
    nodes: list[str]  # in natural order: apps-2 before apps-10
    periods: dict[str, list[tuple[float, float, str, str]]]  # node -> (start, end, state, runtime)
    seen_runtimes: list[str]
    leaving: list[str]  # runtimes no node runs at the end
    arriving: list[str]  # runtimes no node ran at the start
    per_node: dict[str, tuple[np.ndarray, np.ndarray]]  # node -> its pods' (running, deleted)
    max_on_node: float
    grid: np.ndarray  # the times at which a count below changes
    running: np.ndarray  # pods Running cluster-wide, at each time of the grid
    pending: np.ndarray
    unschedulable: np.ndarray  # pods Pending because the scheduler found no node
    failed_curve: np.ndarray | None
    stuck: pd.DataFrame  # the pods left Pending by the scheduler
    stuck_head: str  # "N pods left Pending (...)"
    stuck_reason: str  # the scheduler's reason, wrapped
    last_gone: list[tuple[float, str]]  # (time, runtime): its last node left service


def _natural_key(name: str) -> tuple:
    """``apps-2`` before ``apps-10``."""
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"(\d+)", str(name)))


def step_count(starts: np.ndarray, ends: np.ndarray, at: np.ndarray) -> np.ndarray:
    """How many intervals [start, end) contain each time of ``at``."""
    s, e = np.sort(starts), np.sort(ends)
    return (np.searchsorted(s, at, side="right") - np.searchsorted(e, at, side="right")).astype(
        float)


def _node_periods(node: str, events: pd.DataFrame, first_runtime: str, t0: float,
                  t_end: float) -> list[tuple[float, float, str, str]]:
    """(start, end, state, runtime) of a node: state ``serving``, ``cordoned`` or
    ``reinstalling``, from its Cordoned, NodeRemoved and NodeJoined events."""
    life = events[(events["node"] == node)
                  & events["event"].isin(["Cordoned", "Uncordoned", "NodeRemoved", "NodeJoined"])]
    periods = []
    state, runtime, since = "serving", first_runtime, t0
    for row in life.sort_values("time", kind="stable").itertuples(index=False):
        new_state = {"Cordoned": "cordoned", "Uncordoned": "serving",
                     "NodeRemoved": "reinstalling", "NodeJoined": "serving"}[row.event]
        if row.time > since:
            periods.append((since, float(row.time), state, runtime))
        if row.event == "NodeJoined":
            joined = str(row.runtime) if isinstance(row.runtime, str) and row.runtime else ""
            found = re.search(r"with (\S+)", str(row.detail or ""))
            runtime = joined or (found.group(1) if found else runtime)
        state, since = new_state, float(row.time)
    if t_end > since:
        periods.append((since, t_end, state, runtime))
    return periods


def migration_run(pods: pd.DataFrame, events: pd.DataFrame) -> MigrationRun:
    """The run of ``pods`` and ``events`` (its first replication, if they hold several)."""
    require(pods, _POD_COLUMNS, "pods")
    require(events, _EVENT_COLUMNS, "events")
    # one run: the first replication of a comparison's frames
    if "replication" in pods.columns and pods["replication"].nunique() > 1:
        first = pods["replication"].min()
        pods = pods[pods["replication"] == first]
        if "replication" in events.columns:
            events = events[events["replication"] == first]
    ev = events.copy()
    ev["time"] = ev["time"].astype(float)
    ev["node"] = ev["node"].where(ev["node"].notna(), "").astype(str)
    p = pods.copy()
    for column in ("created", "running_observed", "deleted"):
        p[column] = pd.to_numeric(p[column], errors="coerce").astype(float)
    p["node"] = p["node"].where(p["node"].notna(), "").astype(str)
    p["failure_hop"] = p["failure_hop"].where(p["failure_hop"].notna(), "").astype(str)

    times = np.r_[ev["time"].to_numpy(float),
                  p[["created", "running_observed", "deleted"]].to_numpy(float).ravel()]
    times = times[np.isfinite(times)]
    if not len(times):
        raise ValueError("pods and events hold no time to draw")
    t0 = min(0.0, float(times.min()))
    t_last = float(times.max())
    t_end = t_last + max(0.07 * (t_last - t0), 1.0)

    nodes = sorted({n for n in p["node"] if n and n != "unscheduled"}
                   | {n for n in ev["node"] if n}, key=_natural_key)
    if not nodes:
        raise ValueError("neither pods nor events name a node")

    def first_runtime(node: str) -> str:
        before = ev[(ev["node"] == node) & ~ev["event"].isin(["NodeJoined"])]
        joined = ev[(ev["node"] == node) & (ev["event"] == "NodeJoined")]
        cutoff = float(joined["time"].min()) if len(joined) else math.inf
        before = before[before["time"] < cutoff].sort_values("time", kind="stable")
        if len(before):
            return str(before["runtime"].iloc[0])
        on = p[(p["node"] == node) & (p["created"] < cutoff)].sort_values("created")
        return str(on["runtime"].iloc[0]) if len(on) else "unknown"

    periods = {n: _node_periods(n, ev, first_runtime(n), t0, t_end) for n in nodes}
    seen_runtimes = sorted({rt for ps in periods.values() for _, _, st, rt in ps
                            if st != "reinstalling"}, key=runtime_sort_key)
    final = {next((rt for _, _, st, rt in reversed(ps) if st != "reinstalling"), None)
             for ps in periods.values()}
    initial = {ps[0][3] for ps in periods.values() if ps}
    leaving = [rt for rt in seen_runtimes if rt in initial and rt not in final]
    arriving = [rt for rt in seen_runtimes if rt not in initial]

    # pods on each node and cluster-wide
    ran = p[np.isfinite(p["running_observed"])]
    run_end = ran["deleted"].fillna(math.inf).to_numpy(float)
    fail_time = (ev[ev["event"] == "Failed"].groupby("pod")["time"].min()
                 if "Failed" in set(ev["event"]) else pd.Series(dtype=float))
    failed = p[p["outcome"] == "failed"]
    # a failed pod is pending until it fails (its Failed event; its creation if none is known)
    failed_at = p["pod"].map(fail_time).where(p["outcome"] != "failed",
                                              p["pod"].map(fail_time).fillna(p["created"]))
    pend_end = np.fmin(p["running_observed"].fillna(math.inf), p["deleted"].fillna(math.inf))
    pend_end = np.fmin(pend_end, failed_at.fillna(math.inf)).to_numpy(float)
    stuck = p[(p["outcome"] == "pending") & (p["failure_hop"] == _SCHEDULER_HOP)]
    grid = np.unique(np.r_[t0, t_end, ran["running_observed"], run_end[np.isfinite(run_end)],
                           p["created"].dropna(), pend_end[np.isfinite(pend_end)],
                           fail_time.to_numpy(float)])
    grid = grid[(grid >= t0) & (grid <= t_end)]
    running = step_count(ran["running_observed"].to_numpy(float), run_end, grid)
    created = p["created"].fillna(math.inf).to_numpy(float)
    pending = step_count(created, pend_end, grid)
    unschedulable = step_count(stuck["created"].to_numpy(float),
                                np.full(len(stuck), math.inf), grid)
    failed_curve = None
    if len(failed):
        starts = failed_at[failed.index].to_numpy(float)
        failed_curve = step_count(starts, failed["deleted"].fillna(math.inf).to_numpy(float),
                                   grid)
    per_node = {}
    for node in nodes:
        on = ran[ran["node"] == node]
        per_node[node] = (on["running_observed"].to_numpy(float),
                          on["deleted"].fillna(math.inf).to_numpy(float))
    max_on_node = max([1.0] + [float(step_count(s, e, grid).max()) for s, e in per_node.values()
                              if len(s)])

    stuck_head, stuck_reason = "", ""
    if len(stuck):
        templates = stuck["template"].astype(str).value_counts()
        what = ", ".join(f"{c} × {t}" for t, c in templates.items())
        reasons = stuck["failure_reason"].dropna().astype(str)
        reason = re.sub(r"^\d+/\d+ nodes are available:\s*", "",
                        reasons.mode().iloc[0]) if len(reasons) else ""
        stuck_head = f"{len(stuck)} pods left Pending ({what})"
        stuck_reason = ("\n".join(textwrap.wrap(f"kube-scheduler: {reason}", 48)[:3])
                        if reason else "")
    # when the last node of a runtime the migration removes left service
    last_gone = []
    for runtime in leaving:
        ends_of = [b for ps in periods.values() for _, b, st, rt in ps
                   if rt == runtime and st == "serving"]
        if ends_of:
            last_gone.append((max(ends_of), runtime))

    return MigrationRun(ev, t0, t_end, nodes, periods, seen_runtimes, leaving, arriving, per_node,
                        max_on_node, grid, running, pending, unschedulable, failed_curve, stuck,
                        stuck_head, stuck_reason, last_gone)
