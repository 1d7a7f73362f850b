"""The ``logs`` part of a runtime's JSON summary (only when some container writes logs).

Read from the runs' ``logs`` tables (one row per chatty container instance, ``model/logs``) and
the events the pipeline records (rotations, failed rotations, agents that cannot read a node's
logs), averaged over replications where a count is per run:

* ``lines_produced`` (what the containers wrote; less than asked when they were blocked),
  ``lines_written`` (what reached the files), ``mb_written``;
* ``blocked_seconds`` (container-seconds spent in a write(2) on a full log pipe) and
  ``blocked_share`` (of the chatty containers' running time); ``dropped_lines`` and
  ``dropped_share`` (Docker's non-blocking ring buffer);
* ``rotations`` by owner, ``largest_file_mb`` (a file's size when rotated: the kubelet checks
  every 10 s, Docker at every write), ``rotated_away_lines`` (removed from the node by
  max-file / containerLogMaxFiles, or truncated with max-file 1), ``retained_mb`` at the end (the files kept, gzipped ones counted at their uncompressed size),
  ``rotation_failures_by_hop``;
* ``rotation_lost_lines``: lines a ``kubectl logs -f`` follower missed because a rotation left it
  on the renamed file; ``kubectl_logs`` (followers' lines, periodic reads);
* ``agents``: per agent and node pool, the lines it collected and lost, and why;
* ``cpu_core_seconds_by_process`` and ``runtime_cpu_cores`` / ``kubelet_cpu_cores`` (the log
  work's CPU over the time chatty containers ran: from the first one's start to the run's end).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Optional

import pandas as pd

from ..chains import load_chain

__all__ = ["summarize_logs"]


@lru_cache(maxsize=32)
def _groups(chain: str) -> dict[str, str]:
    return {p: s.group for p, s in load_chain(chain).processes.items()}


def _per_run(total: float, runs: int) -> float:
    return float(total) / max(runs, 1)


def summarize_logs(runs: list[Any], runtime: Optional[str]) -> Optional[dict]:
    """The ``logs`` document of ``runtime`` across ``runs``, or None when no container of
    these runs wrote logs."""
    frames: list[pd.DataFrame] = []
    for r in runs:
        df = r.logs
        if df is None or df.empty:
            continue
        mine = df if runtime is None else df[df.runtime == runtime]
        if len(mine):
            frames.append(mine.assign(_run=len(frames), _end=r.end_time,
                                      _chain=(r.chains.get(runtime or r.runtime) or {}).get("name", "")))
    if not frames:
        return None
    df = pd.concat(frames, ignore_index=True)
    n = len(frames)
    running = (df["end"].fillna(df["_end"]) - df["start"]).clip(lower=0).sum()
    produced, written = df.lines_produced.sum(), df.lines_written.sum()
    cpu_cols = [c for c in df.columns if c.startswith("cpu_s.")]
    cpu = {c.removeprefix("cpu_s."): _per_run(df[c].fillna(0).sum(), n) for c in cpu_cols}
    groups: dict[str, str] = {}
    for chain in df["_chain"].unique():
        if chain:
            groups.update(_groups(chain))
    window = sum(float(g["_end"].iloc[0] - g["start"].min()) for _, g in df.groupby("_run")) / n
    by_group = {g: sum(v for p, v in cpu.items() if groups.get(p, "runtime") == g) for g in ("runtime", "kubelet")}
    fails = df[df.rotate_failures > 0].groupby("rotate_failure_hop").rotate_failures.sum()
    doc: dict[str, Any] = {
        "containers": _per_run(len(df), n),
        "lines_per_second_per_container": float(df.lines_per_second.mean()),
        "lines_produced": _per_run(produced, n),
        "lines_written": _per_run(written, n),
        "mb_written": _per_run(df.mb_written.sum(), n),
        "blocked_seconds": _per_run(df.blocked_seconds.sum(), n),
        "blocked_share": float(df.blocked_seconds.sum() / running) if running else 0.0,
        "dropped_lines": _per_run(df.dropped_lines.sum(), n),
        "dropped_share": float(df.dropped_lines.sum() / produced) if produced else 0.0,
        "rotations": {str(k): _per_run(v, n) for k, v in df.groupby("rotation_owner").rotations.sum().items()},
        "largest_file_mb": float(df.largest_file_mb.max()),
        "rotated_away_lines": _per_run(df.removed_lines.sum(), n),
        "retained_mb": _per_run(df.retained_mb.sum(), n),
        "rotation_failures_by_hop": {str(k): _per_run(v, n) for k, v in fails.items()},
        "rotation_lost_lines": _per_run(df.follow_lost_lines.sum(), n),
        "kubectl_logs": {
            "follow_lines": _per_run(df.follow_lines.sum(), n),
            "follow_lost_lines": _per_run(df.follow_lost_lines.sum(), n),
            "follow_behind_lines": _per_run(df.follow_behind_lines.sum(), n),
            "reads": _per_run(df.reads.sum(), n),
            "lines_per_read": float(df.read_lines.sum() / df.reads.sum()) if df.reads.sum() else 0.0,
        },
        "agents": _agents(df, runs, runtime, n),
        "cpu_core_seconds_by_process": cpu,
        "cpu_cores_by_process": {p: v / window if window > 0 else 0.0 for p, v in cpu.items()},
        "runtime_cpu_cores": by_group["runtime"] / window if window > 0 else 0.0,
        "kubelet_cpu_cores": by_group["kubelet"] / window if window > 0 else 0.0,
    }
    return doc


def _agents(df: pd.DataFrame, runs: list[Any], runtime: Optional[str], n: int) -> dict:
    """Per agent, per node pool: lines collected and lost, and the reason for the loss (from the
    ``LogAgentBlind`` events)."""
    out: dict[str, dict] = {}
    reasons: dict[tuple[str, str], str] = {}
    for r in runs:
        ev = r.events
        if ev.empty or "event" not in ev.columns:
            continue
        blind = ev[ev.event == "LogAgentBlind"]
        if runtime is not None:
            blind = blind[blind.runtime == runtime]
        pools = r.logs.set_index("node")["pool"].to_dict() if not r.logs.empty else {}
        for node, hop, detail in zip(blind.node, blind.hop, blind.detail):
            reasons[(hop, pools.get(node, ""))] = detail.split(": ", 1)[-1]
    for col in [c for c in df.columns if c.startswith("agent.") and c.endswith(".collected")]:
        name = col[len("agent."):-len(".collected")]
        lost_col = f"agent.{name}.lost"
        per_pool = {}
        for pool, g in df.groupby("pool"):
            collected, lost = g[col].fillna(0).sum(), g[lost_col].fillna(0).sum()
            if collected == 0 and lost == 0 and g[col].isna().all():
                continue  # the agent does not run on this pool
            per_pool[str(pool) or "node"] = {"collected_lines": _per_run(collected, n),
                                             "lost_lines": _per_run(lost, n),
                                             "reason": reasons.get((name, pool), "") if lost else ""}
        out[name] = per_pool
    return out

