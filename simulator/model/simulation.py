"""One simulation run: build -> run -> collect (STYLE.md §3).

``simulate(scenario, runtime, seed)`` wires the control plane (apiserver, optional scheduler),
one node with the chain's runtime and a kubelet, and the workload; runs until every pod has
settled (observed running, or failed) or the horizon passes, then a steady-state window more;
and returns flat tables.

Randomness (DESIGN.md): one ``SeedSequence`` per run, spawned into independent streams for the
workload, the control plane, the kubelet's loops, and one stream per pod; nothing else draws
random numbers. The same seed therefore gives the same arrivals, templates and per-pod service
draws on every chain and every node size (common random numbers).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import simpy

from ..config import Scenario, WorkloadConfig
from .chain import Chain, load_chain
from .control import ApiServer, Scheduler
from .node import Node
from .records import Recorder
from .state import Outcome, PodState

__all__ = ["RunResult", "simulate", "arrival_times", "POD_COLUMNS"]

POD_COLUMNS = [
    "pod", "node", "runtime", "template", "created", "scheduled", "kubelet_seen",
    "sandbox_ready", "containers_started", "running_observed", "image_pull_seconds",
    "attempts", "outcome", "failure_hop", "failure_reason", "create_to_schedule",
    "schedule_to_run", "run_to_watch", "pod_startup", "pod_startup_total",
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


def arrival_times(w: WorkloadConfig, rng: np.random.Generator) -> np.ndarray:
    if w.kind == "batch":
        return np.zeros(w.pods)
    if w.kind == "interval":
        return np.arange(w.pods) * w.intervalSeconds
    gaps = rng.exponential(1.0 / w.ratePerSecond, size=w.pods)
    return np.cumsum(gaps)


def _build_pods(scenario: Scenario, rng: np.random.Generator,
                pod_seeds: list[np.random.SeedSequence]) -> list[PodState]:
    w = scenario.workload
    weights = np.array([t.weight for t in w.templates], dtype=float)
    choice = rng.choice(len(w.templates), size=w.pods, p=weights / weights.sum())
    return [
        PodState(index=i, name=f"pod-{i:05d}", template=w.templates[k].name,
                 spec=w.templates[k].spec, rng=np.random.default_rng(pod_seeds[i]))
        for i, k in enumerate(choice)
    ]


def simulate(scenario: Scenario, runtime: str | Chain, seed: int, replication: int = 0) -> RunResult:
    chain = runtime if isinstance(runtime, Chain) else load_chain(runtime)
    root = np.random.SeedSequence([int(seed), int(replication)])
    s_work, s_control, s_kubelet, s_pods = root.spawn(4)
    rng_work = np.random.default_rng(s_work)
    rng_control = np.random.default_rng(s_control)
    rng_kubelet = np.random.default_rng(s_kubelet)

    env = simpy.Environment()
    rec = Recorder(record_steps=scenario.simulation.recordSpans)
    times = arrival_times(scenario.workload, rng_work)
    pods = _build_pods(scenario, rng_work, s_pods.spawn(scenario.workload.pods))
    all_settled = env.event()
    settled = [0]

    def on_settled(_pod: PodState) -> None:
        settled[0] += 1
        if settled[0] == len(pods) and not all_settled.triggered:
            all_settled.succeed()

    node = Node(env, scenario, chain, rec, on_settled)
    api = ApiServer(env, scenario.apiserver, rng_control)
    node.attach_kubelet(api, rng_kubelet)

    def deliver(pod: PodState) -> None:  # apiserver watch -> kubelet (facts §1.1)
        env.timeout(api.watch_delay()).callbacks.append(lambda _e, p=pod: node.kubelet.pod_seen(p))

    scheduler = (Scheduler(env, scenario.scheduler, api, rng_control, deliver)
                 if scenario.scheduler.enabled else None)

    def arrivals():
        for pod, t in zip(pods, times):
            if t > env.now:
                yield env.timeout(t - env.now)
            pod.created = env.now
            if scheduler is not None:
                scheduler.submit(pod)
            else:  # spec.nodeName set at creation (node e2e tests)
                pod.scheduled = env.now
                deliver(pod)

    env.process(arrivals())
    env.process(node.probe(scenario.simulation.sampleSeconds))
    sim = scenario.simulation
    env.run(until=env.any_of([all_settled, env.timeout(sim.horizonSeconds)]))
    settle_time = env.now
    if sim.steadyStateSeconds > 0:
        env.run(until=settle_time + sim.steadyStateSeconds)
    return RunResult(
        runtime=chain.name, seed=int(seed), replication=int(replication),
        pods=_pods_frame(pods, node.name, chain.name, settle_time),
        spans=rec.spans_frame(), resources=rec.resources_frame(), events=rec.events_frame(),
        settle_time=settle_time, end_time=env.now,
        relists=pd.DataFrame(node.kubelet.relist_durations, columns=["time", "duration"]),
    )


def _pods_frame(pods: list[PodState], node: str, runtime: str, horizon_end: float) -> pd.DataFrame:
    rows = []
    nan = float("nan")
    for p in pods:
        def t(x):
            return nan if x is None else x
        running = p.running_observed is not None and p.running_observed <= horizon_end
        if p.failed:
            outcome = Outcome.FAILED
        elif running:
            outcome = Outcome.RUNNING
        else:
            outcome = Outcome.PENDING
        hop, reason = p.failure_hop, p.failure_reason
        if outcome == Outcome.PENDING and p.last_sync_error:
            reason = f"pending at horizon; last sync error: {p.last_sync_error}"
        rows.append((p.name, node, runtime, p.template, t(p.created), t(p.scheduled),
                     t(p.kubelet_seen), t(p.sandbox_ready), t(p.containers_started),
                     t(p.running_observed) if running else nan, p.image_pull_seconds,
                     p.attempts, outcome, hop, reason))
    df = pd.DataFrame(rows, columns=POD_COLUMNS[:15])
    df["create_to_schedule"] = df["scheduled"] - df["created"]
    df["schedule_to_run"] = df["containers_started"] - df["scheduled"]
    df["run_to_watch"] = df["running_observed"] - df["containers_started"]
    df["pod_startup_total"] = df["running_observed"] - df["created"]
    # SIG-scalability SLO: creation -> running observed via watch, image pull excluded (cal. row 10)
    df["pod_startup"] = df["pod_startup_total"] - df["image_pull_seconds"]
    return df[POD_COLUMNS]
