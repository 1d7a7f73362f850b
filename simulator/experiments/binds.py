"""What binds: the share of pod start-up each cause takes, per chain (docs/model/attribution.md).

Each running pod's start-up (created -> Running observed, image pulls included) is split by the
model's ledger (``model/attribution.py``) into seconds by cause. A chain's shares are the
causes' seconds summed over its running pods, divided by the sum of their start-ups: the shares
of the mean start-up. ``attributed`` is the sum of the shares (1 when every second of every pod
was claimed by some cause); the cause with the largest share is what binds, named in a sentence
with the setting that governs it ("containerd: 64 % waiting for the kubelet's API client
(kubeAPIQPS 5, kubeAPIBurst 10)").
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Optional

import pandas as pd

from ..model.attribution import (
    API_CLIENT,
    CONTROL_PLANE,
    CPU_QUEUE,
    IMAGE_PULL,
    INIT_RUN,
    KUBELET,
    PLEG,
    RESTART,
    RETRY,
    RUNTIME,
    VOLUMES,
)

if TYPE_CHECKING:
    from ..config import Scenario
    from ..model.simulation import RunResult

__all__ = ["summarize_binds", "describe_cause", "cause_label", "constraint_of"]

# Causes whose share is not named in a sentence's "then ...", below this share.
_RUNNER_UP_MIN = 0.15

_LABELS = {
    API_CLIENT: "kubelet API client",
    CPU_QUEUE: "CPU queue",
    PLEG: "PLEG relist",
    IMAGE_PULL: "image pulls",
    VOLUMES: "volume mounts",
    CONTROL_PLANE: "scheduler / apiserver",
    RUNTIME: "runtime's own work",
    KUBELET: "kubelet's own work",
    INIT_RUN: "init containers running",
    RETRY: "retries after failed syncs",
    RESTART: "kubelet restart",
}


def cause_label(cause: str) -> str:
    """A short name for a cause (legends, tables)."""
    if cause.startswith("lock:"):
        process, _, name = cause[5:].partition(" ")
        return f"{process} {name} lock"
    return _LABELS.get(cause, cause)


def _cores(n: float) -> str:
    return f"{n:g} core" + ("" if n == 1 else "s")


def constraint_of(cause: str, scenario: "Scenario", runtime: str = "") -> str:
    """The setting (or part of the model) that governs a cause, as the scenario has it."""
    k = scenario.kubelet
    if cause == API_CLIENT:
        return f"kubeAPIQPS {k.kubeAPIQPS:g}, kubeAPIBurst {k.kubeAPIBurst}"
    if cause == CPU_QUEUE:
        return f"node.cpuCores {scenario.node.cpuCores:g}"
    if cause.startswith("lock:"):
        return f"{cause_label(cause)} in the {runtime or 'chain'}"
    if cause == PLEG:
        return "PLEG's 1 s relist period"
    if cause == IMAGE_PULL:
        return f"serializeImagePulls {str(k.serializeImagePulls).lower()}, the registry link"
    if cause == VOLUMES:
        return "the volume manager's loops"
    if cause == CONTROL_PLANE:
        return "the scheduler and apiserver"
    if cause == RUNTIME:
        return f"the {runtime or 'chain'}'s service times"
    if cause == KUBELET:
        return "the kubelet's own loops"
    if cause == INIT_RUN:
        return "the workload's init containers"
    if cause == RETRY:
        return "the failures' back-off (see failures and sync errors by hop)"
    if cause == RESTART:
        return "the kubelet's restart (the node's reboot)"
    return cause


def describe_cause(cause: str, scenario: "Scenario", runtime: str = "") -> str:
    """What a pod was doing while it spent time on ``cause``, with the governing setting."""
    k = scenario.kubelet
    if cause == API_CLIENT:
        return f"waiting for the kubelet's API client (kubeAPIQPS {k.kubeAPIQPS:g}, kubeAPIBurst {k.kubeAPIBurst})"
    if cause == CPU_QUEUE:
        return f"queued for the node's CPU ({_cores(scenario.node.cpuCores)})"
    if cause.startswith("lock:"):
        process, _, name = cause[5:].partition(" ")
        return f"waiting for {process}'s {name} lock"
    if cause == PLEG:
        return "waiting for PLEG's relist to notice a change (1 s period)"
    if cause == IMAGE_PULL:
        return f"pulling images (serializeImagePulls {str(k.serializeImagePulls).lower()})"
    if cause == VOLUMES:
        return "waiting for volumes to mount (WaitForAttachAndMount)"
    if cause == CONTROL_PLANE:
        return "in the scheduler and apiserver (scheduling, requests, watch delivery)"
    if cause == RUNTIME:
        return f"in the runtime's own work ({runtime or 'the chain'}'s service times)"
    if cause == KUBELET:
        return "in the kubelet's own work (admission, syncs, resyncs, back-offs)"
    if cause == INIT_RUN:
        return "running the pods' init containers"
    if cause == RETRY:
        return "waiting to retry after failed syncs (the pod worker's back-off and resyncs)"
    if cause == RESTART:
        return "lost to the kubelet's restart (its downtime and the waits it cut short)"
    return cause


def summarize_binds(runs: list["RunResult"], scenario: "Scenario", runtime: Optional[str]) -> dict:
    """The ``binds`` entry of a chain's summary: shares of the mean start-up by cause."""
    rt = runtime or ""
    pods, blame = [], []
    for r in runs:
        p = r.pods[(r.pods.outcome == "running")]
        if runtime is not None:
            p = p[p.runtime == runtime]
        pods.append(p[["pod", "pod_startup_total"]].assign(replication=r.replication))
        if not r.blame.empty:
            blame.append(r.blame.assign(replication=r.replication))
    running = pd.concat(pods, ignore_index=True) if pods else pd.DataFrame()
    if running.empty:
        return {"pods": 0, "mean_startup_seconds": None, "shares": {}, "mean_seconds": {},
                "attributed": None, "unattributed": None, "top": None, "constraint": None,
                "sentence": f"{rt}: no pod ran, nothing binds"}
    total = float(running.pod_startup_total.sum())
    n = len(running)
    b = pd.concat(blame, ignore_index=True) if blame else pd.DataFrame(columns=["pod", "cause", "seconds",
                                                                                   "replication"])
    b = b.merge(running[["replication", "pod"]], on=["replication", "pod"])
    sums = b.groupby("cause").seconds.sum()
    order = sorted(sums.index, key=lambda c: (-float(sums[c]), c))
    shares = {c: float(sums[c]) / total for c in order if sums[c] / total > 1e-6}
    attributed = sum(shares.values())
    top = next(iter(shares), None)
    sentence = f"{rt}: nothing attributed"
    if top is not None:
        sentence = f"{rt}: {100 * shares[top]:.0f} % {describe_cause(top, scenario, rt)}"
        second = list(shares)[1] if len(shares) > 1 else None
        if second is not None and shares[second] >= _RUNNER_UP_MIN:
            sentence += f"; then {100 * shares[second]:.0f} % {describe_cause(second, scenario, rt)}"
    return {
        "pods": n,
        "mean_startup_seconds": total / n,
        "shares": shares,
        "mean_seconds": {c: float(sums[c]) / n for c in shares},
        "attributed": attributed,
        "unattributed": 0.0 if abs(1.0 - attributed) < 1e-9 else 1.0 - attributed,
        "top": top,
        "constraint": constraint_of(top, scenario, rt) if top is not None else None,
        "sentence": sentence,
    }
