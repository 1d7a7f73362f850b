"""The summary's sections for pods stuck Terminating and for node reboots (``faults: stopError``,
``nodeReboot``; model/node/stop_faults.py, reboot.py).

* ``stuck_terminating``: the pods whose deletion the kubelet began and never completed, by the
  hop of their cause; what they still hold at the end (their slots against ``maxPods``, IPs,
  live containers and shims, memory); how often the kubelet retried and how long they have been
  stuck, and how long those that got past it took (their cause fixed: ``until``); and the churn
  capacity lost: the share of the node's pod capacity
  (min(maxPods, cni.ipRangeSize)) they take away, and for a churn workload the pod creations per
  hour that capacity would have sustained (Little's law: slots / lifetime).
* ``reboots``: per reboot, how long the node was NotReady, when the runtime and the kubelet were
  back, the pods on the node (running or being created, not being deleted), those it killed and
  how many ran again, the time to recovery (to each pod's last ``PodRecovered`` before the
  node's next reboot, or its first start), the image layers lost, and the pods still failing at
  the end (or at the next reboot) with the hop that fails them.

Counts add up over replications like the summary's ``running``/``pending``; times and shares are
means or percentiles over replications.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Optional

import pandas as pd

from .stats import percentiles

if TYPE_CHECKING:
    from ..config import Scenario
    from ..model.simulation import RunResult

__all__ = ["stuck_terminating", "reboots"]


def _only(df: pd.DataFrame, runtime: Optional[str]) -> pd.DataFrame:
    if runtime is None or df.empty or "runtime" not in df.columns:
        return df
    return df[df.runtime == runtime]


def stuck_terminating(runs: list["RunResult"], scenario: "Scenario", runtime: Optional[str]) -> Optional[dict]:
    """The ``stuck_terminating`` section, or None when nothing could be stuck."""
    has_fault = any(f.kind == "stopError" for f in scenario.faults)
    pods = pd.concat([_only(r.pods, runtime) for r in runs], ignore_index=True)
    term = pods[pods.outcome == "terminating"]
    if not has_fault and term.empty:
        return None
    held = pd.concat([_only(r.terminating, runtime) for r in runs if not r.terminating.empty]
                     or [pd.DataFrame(columns=["pod", "since", "kill_failures", "ip", "containers", "shims",
                                               "memory_mb", "max_pods", "ip_range", "node"])],
                     ignore_index=True)
    lost, per_hour, stuck_s, gaps, recovered = [], [], [], [], []
    lifetime = scenario.workload.lifetimeSeconds if scenario.workload.kind == "churn" else None
    for r in runs:
        mine = _only(r.terminating, runtime)
        nodes = set(_only(r.pods, runtime).node.dropna()) - {""}
        shares = []
        for node in sorted(nodes):
            h = mine[mine.node == node] if not mine.empty else mine
            if h.empty:
                shares.append(0.0)
                continue
            shares.append(max(len(h) / h.max_pods.iloc[0], h.ip.sum() / h.ip_range.iloc[0]))
        lost.append(sum(shares) / len(shares) if shares else 0.0)
        if lifetime:
            per_hour.append(len(mine) * 3600.0 / lifetime)
        if not mine.empty:
            stuck_s += list(r.end_time - mine.since)
        ev = _only(r.events, runtime)
        errs = ev[ev.event == "KillPodError"]
        deleted = _only(r.pods, runtime).set_index("pod").deleted
        for pod, g in errs.groupby("pod"):
            gaps += list(g.time.diff().dropna())
            if pod in deleted.index and deleted[pod] == deleted[pod]:  # got past it (the cause fixed)
                recovered.append(float(deleted[pod] - g.time.min()))
    doc: dict = {
        "pods": int(len(term)),
        "by_hop": {str(k): int(v) for k, v in term.failure_hop.value_counts().sort_index().items()},
        "holding": {
            "pod_slots": int(len(held)),
            "ips": int(held.ip.sum()) if len(held) else 0,
            "containers": int(held.containers.sum()) if len(held) else 0,
            "shims": int(held.shims.sum()) if len(held) else 0,
            "memory_mb": float(held.memory_mb.sum()) if len(held) else 0.0,
        },
        "kill_attempts_per_pod": float(held.kill_failures.mean()) if len(held) else None,
        "stuck_seconds": percentiles(stuck_s),
        "retry_interval_seconds": percentiles(gaps),
        "churn_capacity_lost": float(sum(lost) / len(lost)) if lost else 0.0,
        # pods whose kill failed and that were deleted after all: from the first failure
        "recovered_pods": len(recovered),
        "recovery_seconds": percentiles(recovered),
    }
    if lifetime:
        doc["creations_per_hour_lost"] = float(sum(per_hour) / len(per_hour))
    return doc


def reboots(runs: list["RunResult"], scenario: "Scenario", runtime: Optional[str]) -> Optional[list[dict]]:
    """The ``reboots`` section: one entry per reboot that happened, or None without reboots."""
    if not any(f.kind == "nodeReboot" for f in scenario.faults):
        return None
    out = []
    for r in runs:
        faults = _only(r.faults, runtime)
        if faults.empty:
            continue
        ev = _only(r.events, runtime)
        pods = _only(r.pods, runtime).set_index("pod")
        mine = faults[faults.kind == "nodeReboot"]
        for f in mine.itertuples(index=False):
            later = mine[(mine.node == f.node) & (mine.time > f.time)].time
            until = float(later.min()) if len(later) else r.end_time
            node_ev = ev[(ev.node == f.node) & (ev.time >= f.time) & (ev.time <= until)]

            def first(event: str) -> Optional[float]:
                t = node_ev[node_ev.event == event].time
                return float(t.min() - f.time) if len(t) else None

            killed = set(node_ev[(node_ev.event == "ContainerKilled") & (node_ev.time == f.time)].pod) - {""}
            # the pods on the node at the reboot, running or still being created; a pod being
            # deleted is not expected back
            gone = set(ev[(ev.node == f.node) & (ev.event == "KillPodError") & (ev.time <= f.time)].pod)
            on_node = pods[(pods.node == f.node) & (pods.created <= f.time) & ~(pods.deleted <= f.time)]
            affected = sorted((set(on_node.index) | killed) - gone)
            rec = node_ev[(node_ev.event == "PodRecovered") & node_ev.pod.isin(affected)].groupby("pod").time.max()
            final = until >= r.end_time  # no later reboot: a pod failing at the end has not recovered
            back: dict[str, float] = {}
            failing = []
            for p in affected:
                row = pods.loc[p]
                if p in rec.index and not (final and row.outcome != "running"):
                    back[p] = float(rec[p])
                elif p not in killed and f.time < row.running_observed <= until:
                    back[p] = float(row.running_observed)  # first ran after the reboot
                elif not row.deleted <= until:  # (a pod deleted before it came back is neither)
                    failing.append(p)
            by_hop = pods.loc[failing].failure_hop.value_counts() if failing else pd.Series(dtype=int)
            lost = node_ev[(node_ev.event == "LayerLost") & (node_ev.time == f.time)]
            removed = node_ev[node_ev.event == "ImageRemoved"].time
            out.append({
                "time": float(f.time), "node": f.node, "replication": r.replication,
                "clean": not f.detail.startswith("unclean"),
                "not_ready_seconds": first("NodeReady"),
                "runtime_up_seconds": first("RuntimeStarted"),
                "kubelet_up_seconds": first("KubeletStarted"),
                "pods_on_node": len(affected),
                "pods_disrupted": len(killed),
                "pods_recovered": len(back),
                "recovery_seconds": percentiles([t - f.time for t in back.values()]),
                "all_recovered_seconds": (max(back.values()) - f.time if back else 0.0) if not failing else None,
                "layers_lost": int(len(lost)),
                "images_corrupted": sorted({d.split(" layer ")[0] for d in lost.detail}),
                "image_removed_seconds": float(removed.min() - f.time) if len(removed) else None,
                "pods_failing": len(failing),
                "failing_by_hop": {str(k): int(v) for k, v in by_hop.sort_index().items()},
            })
    return out
