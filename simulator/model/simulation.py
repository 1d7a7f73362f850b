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

import gc
from contextlib import contextmanager
from pathlib import Path
from typing import Optional

import numpy as np
import pandas as pd
import simpy

from ..chains import Chain, iter_steps, resolve_chain
from ..config import NodeConfig, NodePool, Scenario, check_fault_targets
from ..schema import parse_kubernetes_version
from .control.apiserver import ApiServer
from .control.dind import DindDaemons, dind_templates, plan_templates
from .control.migration import Migration
from .control.node_table import NodeTable
from .control.scheduler import Scheduler
from .kubelet import Kubelet
from .node.faults import NodeFaults
from .node.node import Node
from .records import EVENT_COLUMNS, RESOURCE_COLUMNS, SPAN_COLUMNS, Recorder
from .results import POD_COLUMNS, RunResult, blame_frame, node_frame, pods_frame, terminating_frame
from .state import PodState
from .streams import StreamSessions
from .workload import Workload, arrival_times

__all__ = ["RunResult", "simulate", "arrival_times", "POD_COLUMNS", "POOLS"]

POOLS = "pools"
# allocations between two young-generation collections during a run (CPython's default 700);
# ASSUMPTION: chosen by measurement (issue 10), it changes no result
GC_GEN0_THRESHOLD = 35_000

class _Sim:
    def __init__(self, scenario: Scenario, runtime: str | Chain | None, seed: int, replication: int):
        runners = dind_templates(scenario)
        scenario = plan_templates(scenario)  # Docker-in-Docker runners as the migration plans them
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
        self.migration: Optional[Migration] = None
        self.dind: Optional[DindDaemons] = None
        if scenario.cluster is not None and scenario.cluster.migration is not None:
            self.dind = DindDaemons(env, scenario, runners, self.create_on_node)
        self._pending_joins: list[Node] = []
        self._running = False
        self.table = NodeTable()  # the active nodes as the scheduler filters them
        for pool in self._pools(runtime):
            cfg = NodeConfig.model_validate({**scenario.node.model_dump(), **pool.node})
            for k in range(pool.nodes):
                name = cfg.name if scenario.cluster is None else f"{pool.name}-{k + 1}"
                self._add_node(name, pool.name, pool.runtime, cfg, pool.labels, runtime)
        if scenario.faults and runtime is not None and runtime != POOLS:
            self._check_faults(scenario)
        self.all_settled = env.event()
        self.migrating = self.dind is not None
        self.workload = Workload(env, scenario, np.random.default_rng(s_work), s_pods, self.api,
                                 self.create, self.delete, trace_base=Path.cwd())
        # kubectl exec/attach/port-forward/logs -f sessions: their own seed, after the others
        self.streams = (StreamSessions(env, scenario, self.api, lambda: self.workload.pods, root.spawn(1)[0],
                                       self.nodes[0].label if scenario.cluster is None else "unscheduled")
                        if scenario.streams is not None else None)
        multi = len(self.nodes) > 1
        self.scheduler: Optional[Scheduler] = None
        if scenario.scheduler.enabled or multi:
            score = scenario.cluster.scorePerNodeMs / 1000.0 if scenario.cluster else 0.0
            self.scheduler = Scheduler(env, scenario.scheduler, self.api, self.rng_control,
                                       self.table, self.bind, score)

    # ------------------------------------------------------------------ build
    def _check_faults(self, scenario: Scenario) -> None:
        """The faults against the chains that run (the scenario was checked against its own
        ``runtimes``): a fault naming a step or process none of them has would never fire."""
        chains = [n.chain for n in self.nodes]
        migration = scenario.cluster.migration if scenario.cluster is not None else None
        if migration is not None:
            chains.append(resolve_chain(migration.toRuntime, parse_kubernetes_version(scenario.kubernetesVersion))[0])
        steps = {st.name for c in chains for op in c.all_operations().values() for st in iter_steps(op)}
        processes = {p for c in chains for p in c.processes}
        check_fault_targets(scenario.faults, steps, processes, sorted({n.label for n in self.nodes}),
                            f"scenario {scenario.name!r} on {self.label}")

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
                  labels: dict, chain_override, cni_install: str | None = None,
                  log_agents: list | None = None) -> Node:
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
                    name=name, pool=pool, node_cfg=cfg, labels=labels, label=label,
                    cni_install=cni_install, log_agents=log_agents)
        probed = sum(1 for n in self.nodes if n.pool == pool and n.probed)
        node.probed = probed < sc.simulation.probeNodesPerPool or sc.cluster is None
        node.kubelet = Kubelet(node, self.api, np.random.default_rng(seed), on_deleted=self.on_deleted)
        if sc.faults:
            node.faults = NodeFaults(node, sc.faults, np.random.default_rng(fseed), sc.simulation.horizonSeconds)
        if node.probed:
            env.process(node.probe(sc.simulation.sampleSeconds))
        self.nodes.append(node)
        node.attach_table(self.table)
        if self.dind is not None:
            if self._running:
                self.dind.node_joined(node)
            else:  # the first nodes: their DaemonSet pods once the run starts
                self._pending_joins.append(node)
        return node

    def _add_node_for_migration(self, name, pool, runtime, cfg, labels, cni_install, log_agents) -> Node:
        return self._add_node(name, pool, runtime, cfg, labels, None, cni_install, log_agents)

    # ------------------------------------------------------------------ pod flow
    def create_on_node(self, spec, template: str, node: Node) -> PodState:
        """A DaemonSet pod: created for one node and bound to it (the DaemonSet controller's
        node affinity leaves the scheduler one choice; its POST is not rate-limited here)."""
        pod = self.workload.pod_from(template, spec)
        pod.created = pod.scheduled = self.env.now
        self.bind(pod, node)
        return pod

    def create(self, pod: PodState) -> None:
        pod.created = self.env.now
        if self.dind is not None:
            self.dind.pod_created(pod)
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
    def _retire(self, node: Node) -> None:
        """The node leaves for its reinstall; its DaemonSet pods go with it."""
        node.retired = True
        self.nodes.remove(node)
        node.leave_table()
        self.retired.append(node)
        for p in self.workload.pods:
            if p.node_ref is node and p.daemonset and p.deleted is None:
                p.deleted = self.env.now
                self.on_settled(p)

    def _migrate(self):
        assert self.migration is not None
        yield from self.migration.run()
        self.migrating = False
        self._check_settled()

    # ------------------------------------------------------------------ run
    def run(self) -> tuple[float, float]:
        """Run; return (time at which outcomes are judged, start of the steady-state window).

        Normally the run stops once every pod has settled plus ``steadyStateSeconds``. With
        timed faults (daemon restarts, shim crashes, reboots) it runs to the horizon, so that every
        fault fires and the recovery after it is seen; the steady-state window is then the
        last ``steadyStateSeconds`` before the horizon."""
        env, sim = self.env, self.scenario.simulation
        self.workload.start()
        self._running = True
        if self.streams is not None:
            self.streams.start()
        if self.dind is not None:
            for node in self._pending_joins:
                self.dind.node_joined(node)
            self.migration = Migration(env, self.scenario, self.nodes, self.workload.pods, self.delete,
                                       self.workload.replace, self._retire, self._add_node_for_migration)
            env.process(self._migrate())
        if any(f.kind in ("daemonRestart", "shimCrash", "nodeReboot") for f in self.scenario.faults):
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


@contextmanager
def _collector_eased():
    """Python's cyclic garbage collector during a run: what exists when the run starts
    (scenario, chains, modules) is frozen out of its scans, and it looks 50 times less often
    (a 3,000-10,000-pod run spent 10-17 % of its CPU in it, issue 10); a run makes little
    cyclic garbage, so memory stays put. The collector's settings come back afterwards, also
    when the run fails."""
    thresholds = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(max(thresholds[0], GC_GEN0_THRESHOLD), *thresholds[1:])
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()


def simulate(scenario: Scenario, runtime: str | Chain | None, seed: int, replication: int = 0) -> RunResult:
    with _collector_eased():
        return _simulate(scenario, runtime, seed, replication)


def _simulate(scenario: Scenario, runtime: str | Chain | None, seed: int, replication: int) -> RunResult:
    sim = _Sim(scenario, runtime, seed, replication)
    judged_at, settle_time = sim.run()
    nodes = sim.retired + sim.nodes
    for n in nodes:
        n.recorder.close_open(sim.env.now)
    streams, stream_hops = sim.streams.frames() if sim.streams is not None else (pd.DataFrame(), pd.DataFrame())
    return RunResult(
        runtime=sim.label, seed=int(seed), replication=int(replication),
        pods=pods_frame(sim.workload.pods, judged_at,
                         sim.nodes[0].label if scenario.cluster is None else "unscheduled"),
        spans=node_frame(nodes, "spans", SPAN_COLUMNS, sort=["start", "depth", "span_id"]),
        resources=node_frame(nodes, "resources", RESOURCE_COLUMNS),
        events=node_frame(nodes, "events", EVENT_COLUMNS, sort=["time"]),
        settle_time=settle_time, end_time=sim.env.now,
        relists=pd.concat([pd.DataFrame([(n.label, n.name, t, d) for t, d in n.kubelet.relist_durations],
                                        columns=["runtime", "node", "time", "duration"]) for n in nodes],
                          ignore_index=True),
        faults=pd.DataFrame([(t, n.name, n.label, k, d) for n in nodes if n.faults is not None
                             for t, k, d in n.faults.fired],
                            columns=["time", "node", "runtime", "kind", "detail"]),
        chains=dict(sim.chains), streams=streams, stream_hops=stream_hops,
        terminating=terminating_frame(nodes),
        logs=pd.DataFrame([row for n in nodes if n.logs is not None for row in n.logs.rows(sim.env.now)]),
        blame=blame_frame(sim.workload.pods, judged_at),
    )
