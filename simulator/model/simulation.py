"""One simulation run: build -> run -> collect (STYLE.md §3).

``simulate(scenario, runtime, seed)`` wires the control plane (apiserver, optional scheduler),
the nodes (one, or node pools each with its own chain), their kubelets and faults, and the
workload; runs until every pod has settled (observed running, failed, or deleted) or the
horizon passes, then a steady-state window more; and returns flat tables.

``runtime`` names the chain every node runs; for a scenario with a ``cluster:`` section,
``runtime="pools"`` (or None) keeps each pool's own chain, as a mixed or migrating cluster
needs, and any other name puts every pool on that chain. A runtime's name is resolved to the
chain of the scenario's Kubernetes release (``chains.resolve_chain``: ``dockershim`` on 1.10
runs Docker 18.03's chain); the outputs keep the name asked for in their ``runtime`` column and
say which chain ran (``RunResult.chains``).

Randomness (DESIGN.md): one ``SeedSequence`` per run, spawned into independent streams for the
workload, the control plane, each kubelet's loops, each node's faults, and one stream per pod;
nothing else draws random numbers. The same seed therefore gives the same arrivals, templates
and per-pod service draws on every chain and every node size (common random numbers).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import numpy as np
import pandas as pd
import simpy

from ..chains import Chain, resolve_chain
from ..config import NodeConfig, NodePool, Scenario
from ..schema import parse_kubernetes_version
from .control.apiserver import ApiServer
from .control.scheduler import Scheduler
from .kubelet import Kubelet
from .node.faults import NodeFaults
from .node.node import Node
from .records import EVENT_COLUMNS, RESOURCE_COLUMNS, SPAN_COLUMNS, Recorder
from .state import Outcome, PodState
from .workload import Workload, arrival_times

__all__ = ["RunResult", "simulate", "arrival_times", "POD_COLUMNS", "POOLS"]

POOLS = "pools"

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
    # one row per chatty container instance (model/logs); empty when no container writes logs
    logs: pd.DataFrame = field(default_factory=pd.DataFrame)


class _Sim:
    def __init__(self, scenario: Scenario, runtime: str | Chain | None, seed: int, replication: int):
        self.scenario = scenario
        root = np.random.SeedSequence([int(seed), int(replication)])
        s_work, s_control, s_kubelets, s_pods, s_faults = root.spawn(5)
        self.env = env = simpy.Environment()
        self.rng_control = np.random.default_rng(s_control)
        self._kubelet_seeds = s_kubelets
        self._fault_seeds = s_faults
        self.api = ApiServer(env, scenario.apiserver, self.rng_control,
                             fair_queuing=bool(scenario.apiserver.priorityAndFairness))
        self.nodes: list[Node] = []
        self.retired: list[Node] = []
        self.chains: dict[str, dict[str, str]] = {}
        self._node_count = 0
        self.label = runtime.name if isinstance(runtime, Chain) else (runtime or POOLS)
        for pool in self._pools(runtime):
            cfg = NodeConfig.model_validate({**scenario.node.model_dump(), **pool.node})
            for k in range(pool.nodes):
                name = cfg.name if scenario.cluster is None else f"{pool.name}-{k + 1}"
                self._add_node(name, pool.name, pool.runtime, cfg, pool.labels, runtime)
        self.all_settled = env.event()
        self.migrating = scenario.cluster is not None and scenario.cluster.migration is not None
        self.workload = Workload(env, scenario, np.random.default_rng(s_work), s_pods, self.api,
                                 self.create, self.delete, trace_base=Path.cwd())
        multi = len(self.nodes) > 1
        self.scheduler: Optional[Scheduler] = None
        if scenario.scheduler.enabled or multi:
            score = scenario.cluster.scorePerNodeMs / 1000.0 if scenario.cluster else 0.0
            self.scheduler = Scheduler(env, scenario.scheduler, self.api, self.rng_control,
                                       self.active_nodes, self.bind, score)

    # ------------------------------------------------------------------ build
    def _pools(self, runtime) -> list[NodePool]:
        sc = self.scenario
        if sc.cluster is None:
            if runtime is None or runtime == POOLS:
                runtime = sc.runtimes[0]
            return [NodePool(name="", nodes=1, runtime=runtime if isinstance(runtime, str) else "custom")]
        if runtime is None or runtime == POOLS:
            return list(sc.cluster.pools)
        return [p.model_copy(update={"runtime": runtime if isinstance(runtime, str) else "custom"})
                for p in sc.cluster.pools]

    def _add_node(self, name: str, pool: str, runtime: str, cfg: NodeConfig,
                  labels: dict, chain_override) -> Node:
        env, sc = self.env, self.scenario
        if isinstance(chain_override, Chain):
            chain, label, note = chain_override, chain_override.name, ""
        else:
            chain, note = resolve_chain(runtime, parse_kubernetes_version(sc.kubernetesVersion))
            label = runtime
        self.chains.setdefault(label, {"name": chain.name, "title": chain.title, "era": chain.era,
                                       "note": note})
        i = self._node_count
        self._node_count += 1
        seed = np.random.SeedSequence(self._kubelet_seeds.entropy, spawn_key=self._kubelet_seeds.spawn_key + (i,))
        fseed = np.random.SeedSequence(self._fault_seeds.entropy, spawn_key=self._fault_seeds.spawn_key + (i,))
        node = Node(env, sc, chain, Recorder(record_steps=sc.simulation.recordSpans), self.on_settled,
                    name=name, pool=pool, node_cfg=cfg, labels=labels, label=label)
        probed = sum(1 for n in self.nodes if n.pool == pool and n.probed)
        node.probed = probed < sc.simulation.probeNodesPerPool or sc.cluster is None
        node.kubelet = Kubelet(node, self.api, np.random.default_rng(seed), on_deleted=self.on_deleted)
        if sc.faults:
            node.faults = NodeFaults(node, sc.faults, np.random.default_rng(fseed), sc.simulation.horizonSeconds)
        if node.probed:
            env.process(node.probe(sc.simulation.sampleSeconds))
        self.nodes.append(node)
        return node

    def active_nodes(self) -> list[Node]:
        return self.nodes

    # ------------------------------------------------------------------ pod flow
    def create(self, pod: PodState) -> None:
        pod.created = self.env.now
        if self.scheduler is not None:
            self.scheduler.submit(pod)
        else:  # spec.nodeName set at creation (node e2e tests)
            pod.scheduled = self.env.now
            self.bind(pod, self.nodes[0])

    def bind(self, pod: PodState, node: Node) -> None:
        """The binding is written; the node's kubelet sees it one watch delivery later."""
        pod.node = node.name
        pod.runtime = node.label
        if self.scheduler is None:
            node.bound += 1

        def seen(_e) -> None:
            node.bound -= 1
            if pod.deletion_requested is not None and not pod.admitted:
                pod.deleted = self.env.now
                self.on_settled(pod)
                return
            node.kubelet.pod_seen(pod)

        self.env.timeout(self.api.watch_delay()).callbacks.append(seen)
        pod.node_ref = node

    def delete(self, pod: PodState) -> None:
        """DELETE pods/<name> (graceful): the kubelet sees deletionTimestamp via the watch."""
        if pod.deletion_requested is not None or pod.deleted is not None:
            return
        pod.deletion_requested = self.env.now
        node = pod.node_ref
        if node is None or pod.failed:
            pod.deleted = self.env.now
            self.on_settled(pod)
            return
        self.env.timeout(self.api.watch_delay()).callbacks.append(
            lambda _e: node.kubelet.pod_deleted(pod))

    def on_deleted(self, pod: PodState) -> None:
        self.workload.notify()
        self.on_settled(pod)

    def on_settled(self, _pod: PodState) -> None:
        self.workload.notify()
        self._check_settled()

    def _check_settled(self) -> None:
        if self.all_settled.triggered or not self.workload.done_creating or self.migrating:
            return
        if all(p.settled and (p.lifetime is None or p.deleted is not None or p.failed)
               for p in self.workload.pods):
            self.all_settled.succeed()

    # ------------------------------------------------------------------ migration
    def _migrate(self):
        cluster = self.scenario.cluster
        assert cluster is not None and cluster.migration is not None
        mig = cluster.migration
        env = self.env
        if mig.startSeconds > env.now:
            yield env.timeout(mig.startSeconds - env.now)
        for pool_name in mig.pools:
            pool = next(p for p in cluster.pools if p.name == pool_name)
            for node in [n for n in self.nodes if n.pool == pool_name]:
                node.cordoned = True
                node.recorder.event(env.now, "", "Cordoned", f"{node.name} cordoned and drained")
                victims = [p for p in self.workload.pods
                           if p.node_ref is node and p.deletion_requested is None and not p.failed]
                for p in victims:
                    p.evicted = True
                    self.delete(p)
                    self.workload.replace(p)
                while node.kubelet.pods or node.bound:
                    yield env.timeout(1.0)
                node.retired = True
                self.nodes.remove(node)
                self.retired.append(node)
                node.recorder.event(env.now, "", "NodeRemoved", f"{node.name} reinstalling with {mig.toRuntime}")
                yield env.timeout(mig.reinstallSeconds)
                cfg = NodeConfig.model_validate({**self.scenario.node.model_dump(), **pool.node})
                new = self._add_node(node.name, pool.name, mig.toRuntime, cfg,
                                     {**pool.labels, **mig.labels}, None)
                new.recorder.event(env.now, "", "NodeJoined", f"{new.name} back with {mig.toRuntime}")
        self.migrating = False
        self._check_settled()

    # ------------------------------------------------------------------ run
    def run(self) -> tuple[float, float]:
        """Run; return (time at which outcomes are judged, start of the steady-state window).

        Normally the run stops once every pod has settled plus ``steadyStateSeconds``. With
        timed faults (daemon restarts, shim crashes) it runs to the horizon, so that every
        fault fires and the recovery after it is seen; the steady-state window is then the
        last ``steadyStateSeconds`` before the horizon."""
        env, sim = self.env, self.scenario.simulation
        self.workload.start()
        if self.scenario.cluster is not None and self.scenario.cluster.migration is not None:
            env.process(self._migrate())
        if any(f.kind in ("daemonRestart", "shimCrash") for f in self.scenario.faults):
            env.run(until=sim.horizonSeconds)
            return env.now, max(0.0, env.now - sim.steadyStateSeconds)
        env.process(self._settle_watch())
        env.run(until=env.any_of([self.all_settled, env.timeout(sim.horizonSeconds)]))
        settle_time = env.now
        if sim.steadyStateSeconds > 0:
            env.run(until=settle_time + sim.steadyStateSeconds)
        return settle_time, settle_time

    def _settle_watch(self):
        """Workloads that finish creating without a pod settling afterwards still settle."""
        while not self.workload.done_creating:
            yield self.env.timeout(1.0)
        self._check_settled()


def simulate(scenario: Scenario, runtime: str | Chain | None, seed: int, replication: int = 0) -> RunResult:
    sim = _Sim(scenario, runtime, seed, replication)
    judged_at, settle_time = sim.run()
    nodes = sim.retired + sim.nodes
    for n in nodes:
        n.recorder.close_open(sim.env.now)
    return RunResult(
        runtime=sim.label, seed=int(seed), replication=int(replication),
        pods=_pods_frame(sim.workload.pods, judged_at,
                         sim.nodes[0].label if scenario.cluster is None else "unscheduled"),
        spans=_frame(nodes, "spans", SPAN_COLUMNS, sort=["start", "depth", "span_id"]),
        resources=_frame(nodes, "resources", RESOURCE_COLUMNS),
        events=_frame(nodes, "events", EVENT_COLUMNS, sort=["time"]),
        settle_time=settle_time, end_time=sim.env.now,
        relists=pd.concat([pd.DataFrame([(n.label, n.name, t, d) for t, d in n.kubelet.relist_durations],
                                        columns=["runtime", "node", "time", "duration"]) for n in nodes],
                          ignore_index=True),
        faults=pd.DataFrame([(t, n.name, n.label, k, d) for n in nodes if n.faults is not None
                             for t, k, d in n.faults.fired],
                            columns=["time", "node", "runtime", "kind", "detail"]),
        chains=dict(sim.chains),
        logs=pd.DataFrame([row for n in nodes if n.logs is not None for row in n.logs.rows(sim.env.now)]),
    )


def _frame(nodes: list[Node], attr: str, columns: list[str], sort: list[str] | None = None) -> pd.DataFrame:
    frames = []
    for n in nodes:
        rows = getattr(n.recorder, attr)
        if not rows:
            continue
        df = pd.DataFrame(rows, columns=columns)
        df.insert(0, "runtime", n.label)
        df.insert(1, "node", n.name)
        frames.append(df)
    if not frames:
        return pd.DataFrame(columns=["runtime", "node"] + columns)
    df = pd.concat(frames, ignore_index=True)
    if sort:
        df = df.sort_values(sort, kind="stable").reset_index(drop=True)
    return df


def _pods_frame(pods: list[PodState], horizon_end: float, no_node_runtime: str) -> pd.DataFrame:
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
                hop, reason = ("kubelet", "not running again at the horizon after a disruption")
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
