"""The structures that replace rescans: the scheduler's node arrays against the plain Python
filter they replaced, and the pods' incremental runtime counts against a recount.

Both are driven through random states (fixed seeds): a filter that picks another node, checks
a different number of nodes or words the reason differently, or a count that drifts after a
restart, a new sandbox or a kubelet restart, fails here.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from simulator.config import load_scenario
from simulator.model.control.node_table import NodeTable
from simulator.model.control.scheduler import Scheduler, feasible_nodes_to_find
from simulator.model.state import PodList, PodState


def select_python(nodes: list, selector: dict, start: int) -> tuple:
    """The scheduler's filter and choice as a loop over the nodes (the code the arrays
    replaced): returns (node or None, checked, reason, next start)."""
    n = len(nodes)
    want = feasible_nodes_to_find(n)
    found, checked = [], 0
    reasons = {"selector": 0, "pods": 0, "notready": 0, "cordoned": 0}
    for k in range(n):
        node = nodes[(start + k) % n]
        checked += 1
        if node.cordoned:
            reasons["cordoned"] += 1
        elif not node.ready:
            reasons["notready"] += 1
        elif any(node.labels.get(key) != v for key, v in selector.items()):
            reasons["selector"] += 1
        elif node.pods + node.bound >= node.max_pods:
            reasons["pods"] += 1
        else:
            found.append((node.pods + node.bound, k, node))
            if len(found) >= want:
                break
    next_start = (start + checked) % max(n, 1)
    if not found:
        parts = []
        if reasons["selector"]:
            parts.append(f"{reasons['selector']} node(s) didn't match Pod's node affinity/selector")
        if reasons["pods"]:
            parts.append(f"{reasons['pods']} Too many pods")
        if reasons["notready"]:
            parts.append(f"{reasons['notready']} node(s) had taint {{node.kubernetes.io/not-ready: }}, "
                         "that the pod didn't tolerate")
        if reasons["cordoned"]:
            parts.append(f"{reasons['cordoned']} node(s) were unschedulable")
        return None, checked, f"0/{n} nodes are available: " + ", ".join(parts), next_start
    return min(found, key=lambda f: (f[0], f[1]))[2], checked, "", next_start


def _scheduler(table: NodeTable, start: int) -> Scheduler:
    s = object.__new__(Scheduler)  # only the filter: no queue, no clock
    s.table = table
    s._next_start = start
    return s


def _random_cluster(rng: np.random.Generator, n_nodes: int) -> tuple[list, NodeTable]:
    table = NodeTable(capacity=4)  # grows while nodes join
    nodes = []
    p_cordon, p_notready, p_full = rng.uniform(0, 0.6, size=3)
    for i in range(n_nodes + int(rng.integers(0, 5))):
        max_pods = int(rng.integers(1, 6))
        node = SimpleNamespace(name=f"n{i}", labels={"pool": str(rng.choice(["a", "b"]))} if rng.random() < 0.8 else {},
                               cordoned=bool(rng.random() < p_cordon), ready=bool(rng.random() > p_notready),
                               pods=int(rng.integers(0, max_pods + 1)) if rng.random() < p_full else int(rng.integers(0, 3)),
                               bound=int(rng.integers(0, 2)), max_pods=max_pods)
        node.slot = table.add(node, max_pods)
        table.update(node.slot, node.cordoned, node.ready, node.pods + node.bound)
        nodes.append(node)
    # some nodes retire (the migration's reinstall): they leave the order, their slots stay
    for node in list(nodes[n_nodes:]):
        table.retire(node.slot)
        nodes.remove(node)
    return nodes, table


@pytest.mark.parametrize("n_nodes", [0, 1, 7, 99, 100, 250, 1500])
def test_array_filter_picks_what_the_python_filter_picks(n_nodes):
    rng = np.random.default_rng(n_nodes + 11)
    outcomes = set()
    for _ in range(40):
        nodes, table = _random_cluster(rng, n_nodes)
        selector = [{}, {"pool": "a"}, {"pool": "c"}][int(rng.integers(0, 3))]
        start = int(rng.integers(0, 3 * n_nodes + 1))
        want = select_python(nodes, selector, start)
        sched = _scheduler(table, start)
        pod = SimpleNamespace(spec=SimpleNamespace(nodeSelector=selector))
        got = sched._select(pod)
        assert (got[0], got[1], got[2], sched._next_start) == want
        outcomes.add(want[0] is None)
        # state changes after the table was built are seen by the next cycle
        for node in nodes[: max(1, len(nodes) // 3)]:
            node.cordoned = not node.cordoned
            node.bound += 1
            table.update(node.slot, node.cordoned, node.ready, node.pods + node.bound)
        want = select_python(nodes, selector, sched._next_start)
        got = sched._select(pod)
        assert (got[0], got[1], got[2], sched._next_start) == want
    if n_nodes:
        assert outcomes == {True, False}  # both a choice and 'no node fits' were compared


def _pods(n: int) -> list[PodState]:
    sc = load_scenario("default", {"workload.templates": [
        {"name": "t", "spec": {"initContainers": [{"name": "init", "image": "pause"}],
                               "containers": [{"name": "a", "image": "pause"}, {"name": "b", "image": "pause"}]}}]})
    spec = sc.workload.templates[0].spec
    return [PodState(index=i, name=f"pod-{i}", template="t", spec=spec, rng=np.random.default_rng(i))
            for i in range(n)]


def _recount(pods: list[PodState]) -> tuple[int, int, int]:
    return (sum(1 for p in pods if p.sandbox_state != "none"),
            sum(1 for p in pods for c in p.containers.values() if c.state != "none"),
            sum(1 for p in pods for c in p.containers.values() if c.state in ("created", "running")))


def test_pod_list_counts_and_snapshots_follow_every_change_without_a_rescan():
    rng = np.random.default_rng(5)
    pods = _pods(12)
    changes = []
    listed = PodList(on_change=lambda: changes.append(len(listed)))
    states = ["none", "created", "running", "exited"]
    for step in range(3000):
        pod = pods[int(rng.integers(0, len(pods)))]
        action = int(rng.integers(0, 8))
        if action == 0 and pod not in listed:
            listed.append(pod)
        elif action == 1 and pod in listed:
            listed.remove(pod)
        elif action == 2:
            pod.sandbox_state = str(rng.choice(["none", "ready", "notready"]))
        elif action in (3, 4):
            c = list(pod.containers.values())[int(rng.integers(0, len(pod.containers)))]
            c.state = str(rng.choice(states))
        elif action == 5:
            old = pod.containers["a"]
            pod.replace_container("a")
            old.state = "running"  # an old instance no longer counts, whatever it does
        elif action == 6 and rng.random() < 0.3:
            pod.new_sandbox_generation()
        elif action == 7 and rng.random() < 0.02:
            del listed[:]  # a kubelet restart forgets its pods
        elif action == 7 and pod.old_instances:
            pod.old_instances.remove(pod.old_instances[0])  # container GC
        assert (listed.sandboxes, listed.containers, listed.live) == _recount(list(listed)), step
        for p in pods:  # what a relist sees, kept between changes
            assert p.runtime_snapshot() == ((p.sandbox_state, len(p.old_instances))
                                            + tuple(c.state for c in p.containers.values())), step
    assert changes and len(set(changes)) > 3
    assert max(listed.containers, *(p.n_containers for p in pods)) > 0


def test_a_pod_is_listed_by_one_kubelet_at_a_time():
    pod = _pods(1)[0]
    a, b = PodList(), PodList()
    a.append(pod)
    with pytest.raises(ValueError, match="already listed"):
        b.append(pod)
    with pytest.raises(TypeError):
        a.extend([pod])
