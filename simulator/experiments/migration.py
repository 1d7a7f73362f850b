"""The ``migration`` section of the summary: what a pool-by-pool move to another runtime did.

For each compared label whose runs migrated nodes: the plan (pools, target runtime, the CNI
settings carried over, the Docker-in-Docker strategy), the nodes migrated and whether the
migration stopped at a node that did not turn Ready, the rejoined nodes whose network was not
ready, the pods left Pending or ContainerCreating at the horizon grouped by hop and reason, and
for Docker-in-Docker pods: how many ran, how long until their Docker Engine answered, what the
Docker daemons in pods cost in memory, and what each strategy breaks
(``simulator.model.control.dind.BREAKS``); with container logs, what each log agent collected
and lost per node pool. Pod counts are totals over the replications, like the per-runtime
sections; log lines are per replication, like the ``logs`` section.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from ..config import Scenario
from ..model.control.dind import BREAKS, DAEMONSET_TEMPLATE, daemon_memory_mb, dind_templates
from .logs import summarize_logs
from .stats import percentiles

if TYPE_CHECKING:
    from ..model.simulation import RunResult

__all__ = ["summarize_migration"]


def summarize_migration(runs: list["RunResult"], scenario: Scenario) -> dict | None:
    mig = scenario.cluster.migration if scenario.cluster is not None else None
    if mig is None or not runs:
        return None
    events = pd.concat([r.events.assign(replication=r.replication) for r in runs], ignore_index=True)
    pods = pd.concat([r.pods.assign(replication=r.replication) for r in runs], ignore_index=True)
    halted = events[events.event == "MigrationHalted"]
    not_ready = events[events.event == "NodeNetworkNotReady"]
    stuck = pods[pods.outcome == "pending"]
    by_reason: dict[str, int] = {}
    for hop, reason in zip(stuck.failure_hop, stuck.failure_reason):
        key = f"{hop or '(none)'}: {reason}"
        by_reason[key] = by_reason.get(key, 0) + 1
    doc: dict = {
        "plan": {"pools": list(mig.pools), "toRuntime": mig.toRuntime, "cniConfig": mig.cniConfig,
                 "readyTimeoutSeconds": mig.readyTimeoutSeconds, "dind": mig.dind.strategy,
                 "logAgents": mig.logAgents},
        "nodes_migrated": int((events.event == "NodeJoined").sum()),
        "halted": [str(d) for d in halted.detail],
        "nodes_network_not_ready": int(len(not_ready)),
        "network_not_ready_reasons": sorted({f"{h}: {d}" for h, d in zip(not_ready.hop, not_ready.detail)}),
        "pods_pending_by_reason": dict(sorted(by_reason.items())),
        "dind": _dind(runs, scenario, pods, events),
    }
    logs = summarize_logs(runs, None)  # the log agents over every node, old and new runtime
    if logs is not None:
        # per agent and node pool, lines collected and lost (mean per replication) and why
        doc["log_agents"] = logs["agents"]
    return doc


def _dind(runs: list["RunResult"], scenario: Scenario, pods: pd.DataFrame, events: pd.DataFrame) -> dict:
    mig = scenario.cluster.migration if scenario.cluster is not None else None
    assert mig is not None
    names = dind_templates(scenario)
    mine = pods[pods.template.isin(names)]
    # the current instance of each runner: a drained pod's replacement counts, the drained one not
    current = mine[mine.deleted.isna()]
    ready_at = events[events.event == "DockerReady"].groupby(["replication", "pod"]).time.min()
    waits = []
    for p in current.itertuples(index=False):
        if p.outcome != "running":
            continue
        t = ready_at.get((p.replication, p.pod), p.containers_started) if mig.dind.strategy == "sidecar" \
            else p.containers_started
        waits.append(float(t - p.created))
    # the Docker daemons running in pods at the end, per node that has any: each costs its
    # anonymous memory, the binaries' pages are resident once per node (the chain's figures)
    anon, shared = daemon_memory_mb()
    alive = pods[(pods.outcome == "running") & pods.deleted.isna()]
    if mig.dind.strategy == "daemonset":
        daemons = alive[alive.template == DAEMONSET_TEMPLATE]
    elif mig.dind.strategy == "sidecar":
        daemons = alive[alive.template.isin(names)]
    else:
        daemons = alive.iloc[0:0]
    per_node = daemons.groupby(["replication", "node"]).size()
    memory = [anon * n + shared for n in per_node]
    return {
        "strategy": mig.dind.strategy,
        "templates": sorted(names),
        "pods": int(len(current)),
        "running": int((current.outcome == "running").sum()),
        "pending": int((current.outcome == "pending").sum()),
        "docker_ready_seconds": percentiles(waits),
        "daemon_pods": int((pods.template == DAEMONSET_TEMPLATE).sum()),
        "daemons_at_end": int(len(daemons)),
        "daemon_memory_mb": {"anon": anon, "shared_once_per_node": shared},
        "dind_memory_pss_mb_per_node": (sum(memory) / len(memory)) if memory else None,
        "breaks": list(BREAKS[mig.dind.strategy]),
    }
