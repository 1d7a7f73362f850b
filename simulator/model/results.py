"""A run's results as flat tables (DESIGN.md's DataFrame columns), built once the run ends.

``RunResult`` holds one run's tables; the builders turn the nodes' recorders and the pods'
states into them: one row per pod with its outcome and, for a pod that did not end running,
the hop and reason; spans, resources and events per node; pods still Terminating and what
each holds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import chain

import numpy as np
import pandas as pd

from .attribution import CONTROL_PLANE
from .node.node import Node
from .node.stop_faults import held_by
from .state import Outcome, PodState

__all__ = ["RunResult", "POD_COLUMNS", "TERMINATING_COLUMNS", "BLAME_COLUMNS", "pods_frame", "node_frame",
           "terminating_frame", "blame_frame"]

POD_COLUMNS = [
    "pod", "node", "runtime", "template", "created", "scheduled", "kubelet_seen",
    "sandbox_ready", "containers_started", "running_observed", "image_pull_seconds",
    "attempts", "outcome", "failure_hop", "failure_reason", "create_to_schedule",
    "schedule_to_run", "run_to_watch", "pod_startup", "pod_startup_total",
    "restarts", "recreations", "deleted", "revision", "syncs",
]


@dataclass
class RunResult:
    runtime: str
    seed: int
    replication: int
    pods: pd.DataFrame
    spans: pd.DataFrame
    resources: pd.DataFrame
    events: pd.DataFrame
    settle_time: float
    end_time: float
    relists: pd.DataFrame = field(default_factory=pd.DataFrame)
    faults: pd.DataFrame = field(default_factory=pd.DataFrame)
    # runtime label -> the chain that ran it: {"name", "title", "era", "note"}
    chains: dict[str, dict[str, str]] = field(default_factory=dict)
    # stream sessions (scenario streams:): one row per session, and CPU per hop and phase
    streams: pd.DataFrame = field(default_factory=pd.DataFrame)
    stream_hops: pd.DataFrame = field(default_factory=pd.DataFrame)
    # pods still Terminating at the end, and what each holds (TERMINATING_COLUMNS)
    terminating: pd.DataFrame = field(default_factory=pd.DataFrame)
    # one row per chatty container instance (model/logs); empty when no container writes logs
    logs: pd.DataFrame = field(default_factory=pd.DataFrame)
    # what each running pod's start-up waited on: one row per (pod, cause) (BLAME_COLUMNS)
    blame: pd.DataFrame = field(default_factory=pd.DataFrame)


TERMINATING_COLUMNS = ["runtime", "node", "pod", "since", "kill_failures", "ip", "sandbox", "containers",
                       "shims", "memory_mb", "max_pods", "ip_range"]


def terminating_frame(nodes: list[Node]) -> pd.DataFrame:
    """The pods whose deletion the kubelet began and never completed, and what each holds."""
    rows = []
    for n in nodes:
        for p in n.kubelet.pods:
            if p.deletion_requested is not None and p.deleted is None and p.terminating_since is not None:
                h = held_by(p, n)
                rows.append((n.label, n.name, p.name, p.terminating_since, p.kill_failures, h["ip"], h["sandbox"],
                             h["containers"], h["shims"], h["memory_mb"], n.pod_capacity,
                             n.scenario.cni.ipRangeSize))
    return pd.DataFrame(rows, columns=TERMINATING_COLUMNS)


def node_frame(nodes: list[Node], attr: str, columns: list[str], sort: list[str] | None = None) -> pd.DataFrame:
    """One table of every node's records (``Recorder.<attr>``), node after node, with the
    node's runtime and name in front: built once, column by column."""
    tables = [(n, t) for n in nodes if len(t := getattr(n.recorder, attr))]
    if not tables:
        return pd.DataFrame(columns=["runtime", "node"] + columns)
    data: dict = {"runtime": [n.label for n, t in tables for _ in range(len(t))],
                  "node": [n.name for n, t in tables for _ in range(len(t))]}
    for i, c in enumerate(columns):
        parts = [t.column(i) for _n, t in tables]
        data[c] = np.concatenate(parts) if isinstance(parts[0], np.ndarray) else list(chain.from_iterable(parts))
    df = pd.DataFrame(data)
    if sort:
        df = df.sort_values(sort, kind="stable").reset_index(drop=True)
    return df


def pods_frame(pods: list[PodState], horizon_end: float, no_node_runtime: str) -> pd.DataFrame:
    """One row per pod; a pod never bound to a node is listed under ``no_node_runtime`` (the
    single node's chain, or 'unscheduled' in a cluster)."""
    rows = []
    nan = float("nan")

    def t(x):
        return nan if x is None else x

    for p in pods:
        running = p.running_observed is not None and p.running_observed <= horizon_end
        hop, reason = p.failure_hop, p.failure_reason
        if p.failed:
            outcome = Outcome.FAILED
        elif p.deletion_requested is not None and p.deleted is None and p.terminating_since is not None:
            # the kubelet began the deletion and never finished it (stuck Terminating)
            outcome = Outcome.TERMINATING
            hop, reason = p.fault_cause or p.last_sync_error or ("kubelet", "still terminating at the horizon")
        elif running and (p.deleted is not None or p.disrupted_at is None):
            outcome = Outcome.RUNNING
        else:
            outcome = Outcome.PENDING
            if p.deleted is not None and p.last_sync_error:
                hop, reason = p.last_sync_error
                reason = f"{reason} (then deleted before it ran)"
            elif p.deleted is not None:
                hop, reason = "workload", "deleted before it ran"
            elif running:
                hop, reason = p.fault_cause or ("kubelet", "not running again at the horizon after a disruption")
            elif p.fault_cause:  # an injected cause (a corrupted image) behind its last error
                hop, reason = p.fault_cause
            elif p.last_sync_error:
                hop, reason = p.last_sync_error
            elif p.unschedulable:
                hop, reason = "kube-scheduler", p.unschedulable
            else:
                hop, reason = "", "still being created at the horizon"
        rows.append((p.name, p.node, p.runtime or no_node_runtime, p.template, t(p.created), t(p.scheduled),
                     t(p.kubelet_seen), t(p.sandbox_ready), t(p.containers_started),
                     t(p.running_observed) if running else nan, p.image_pull_seconds,
                     p.attempts, outcome, hop, reason, 0, 0, 0, 0, 0,
                     sum(c.restarts for c in p.containers.values()), p.recreations,
                     t(p.deleted), p.revision, p.syncs))
    df = pd.DataFrame(rows, columns=POD_COLUMNS)
    df["create_to_schedule"] = df["scheduled"] - df["created"]
    df["schedule_to_run"] = df["containers_started"] - df["scheduled"]
    df["run_to_watch"] = df["running_observed"] - df["containers_started"]
    df["pod_startup_total"] = df["running_observed"] - df["created"]
    # SIG-scalability SLO: creation -> running observed via watch, image pull excluded (cal. row 10)
    df["pod_startup"] = df["pod_startup_total"] - df["image_pull_seconds"]
    return df


BLAME_COLUMNS = ["pod", "runtime", "cause", "seconds"]


def blame_frame(pods: list[PodState], horizon_end: float) -> pd.DataFrame:
    """The start-up ledger (model/attribution.py) of every pod seen Running by the horizon, and
    the control plane's part before the kubelet saw the pod (created -> delivered)."""
    rows = []
    for p in pods:
        if p.running_observed is None or p.running_observed > horizon_end or p.created is None:
            continue
        if p.kubelet_seen is not None:
            rows.append((p.name, p.runtime, CONTROL_PLANE, p.kubelet_seen - p.created))
        rows.extend((p.name, p.runtime, cause, seconds) for cause, seconds in sorted(p.blame.items()))
    return pd.DataFrame(rows, columns=BLAME_COLUMNS)
