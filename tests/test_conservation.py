"""Nothing lost: every pod ends running, failed or pending; every span closed, nested in its
operation, and every pod's milestones in order."""

import numpy as np
import pytest

from simulator.config import load_scenario
from simulator.experiments.runner import compare

RUNTIMES = ["dockershim", "containerd", "crio", "cri-dockerd"]


@pytest.fixture(scope="module")
def comp():
    sc = load_scenario("default", ["workload.pods=30", "simulation.steadyStateSeconds=5"])
    return compare(sc, runtimes=RUNTIMES, seed=11)


def test_every_pod_accounted_for(comp):
    pods = comp.pods
    assert len(pods) == 30 * len(RUNTIMES)
    assert set(pods.outcome) <= {"running", "failed", "pending"}
    for rt in RUNTIMES:
        doc = comp.summary()["runtimes"][rt]
        assert doc["running"] + doc["failed"] + doc["pending"] == doc["pods"] == 30
    failed = pods[pods.outcome == "failed"]
    assert (failed.failure_hop != "").all() and (failed.failure_reason != "").all()


def test_pending_at_horizon_is_counted():
    sc = load_scenario("default", ["workload.kind=batch", "workload.pods=20", "simulation.horizonSeconds=5",
                                   "simulation.steadyStateSeconds=0"])
    pods = compare(sc, runtimes=["dockershim"], seed=1).pods
    assert (pods.outcome == "pending").sum() > 0
    assert len(pods) == 20
    assert pods[pods.outcome == "pending"].running_observed.isna().all()


def test_spans_closed_nested_and_monotone(comp):
    s = comp.spans
    assert np.isfinite(s.start).all() and np.isfinite(s.end).all()
    assert (s.end >= s.start).all()
    assert (s.queued >= -1e-9).all()
    assert (s.queued <= s.end - s.start + 1e-9).all()
    for (rt, rep), grp in s.groupby(["runtime", "replication"]):
        by_id = grp.set_index("span_id")
        children = grp[grp.parent_id >= 0]
        parents = by_id.loc[children.parent_id]
        assert (children.start.values >= parents.start.values - 1e-12).all()
        assert (children.end.values <= parents.end.values + 1e-12).all()
        assert (children.depth.values == parents.depth.values + 1).all()
        assert (children.operation.values == parents.operation.values).all()
        roots = grp[grp.parent_id < 0]
        assert (roots.depth == 0).all()


def test_pod_milestones_in_order(comp):
    p = comp.pods[comp.pods.outcome == "running"]
    order = ["created", "scheduled", "kubelet_seen", "sandbox_ready", "containers_started", "running_observed"]
    for a, b in zip(order, order[1:]):
        assert (p[a] <= p[b]).all(), f"{a} after {b}"
    assert (p.pod_startup_total >= p.pod_startup).all()


def test_poisson_and_interval_arrivals():
    import numpy as np

    from simulator.model.simulation import arrival_times

    sc = load_scenario("default", ["workload.kind=poisson", "workload.ratePerSecond=2", "workload.pods=2000"])
    t = arrival_times(sc.workload, np.random.default_rng(1))
    assert (np.diff(t) >= 0).all()
    # 2000 exponential gaps of mean 0.5 s: the sample mean is within 4 standard errors
    assert abs(np.diff(t).mean() - 0.5) < 4 * 0.5 / np.sqrt(2000)
    sc = load_scenario("default", ["workload.kind=interval", "workload.intervalSeconds=0.3", "workload.pods=5"])
    assert np.allclose(arrival_times(sc.workload, np.random.default_rng(1)), [0, 0.3, 0.6, 0.9, 1.2])
    comp = compare(load_scenario("default", ["workload.kind=poisson", "workload.ratePerSecond=1",
                                              "workload.pods=15", "simulation.steadyStateSeconds=0"]),
                   runtimes=["crio"], seed=2)
    assert (comp.pods.outcome == "running").all()


def test_idle_pleg_skipping_matches_full_simulation():
    """Large clusters skip PLEG relists on quiet nodes (kubelet._sleep_while_idle). On a small
    cluster, skipping everywhere must give nearly the same pod startup as simulating every
    relist: the only difference is that idle relists are taken to last as long as the last
    real one (a few ms), so the medians agree to within 2 %."""
    base = ["cluster={pools: [{name: p, nodes: 6, runtime: containerd}]}", "workload.pods=60",
            "workload.kind=interval", "workload.intervalSeconds=0.5", "simulation.steadyStateSeconds=0"]
    full = compare(load_scenario("default", base + ["simulation.probeNodesPerPool=6"]),
                   runtimes=["containerd"], seed=3).pods
    skip = compare(load_scenario("default", base + ["simulation.probeNodesPerPool=0"]),
                   runtimes=["containerd"], seed=3).pods
    assert (full.outcome == "running").all() and (skip.outcome == "running").all()
    a, b = full.pod_startup.median(), skip.pod_startup.median()
    assert abs(a - b) <= 0.02 * a, (a, b)
