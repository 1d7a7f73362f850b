"""Kubelet mechanisms at exact simulated times (tiny scenarios, facts §1)."""

import numpy as np
import simpy

from simulator.config import load_scenario
from simulator.experiments.runner import compare
from simulator.model.control.ratelimit import TokenBucket
from simulator.model.kubelet import Backoff
from simulator.model.simulation import simulate


def test_token_bucket_burst_then_qps():
    env = simpy.Environment()
    tb = TokenBucket(env, qps=5, burst=10)
    done = []

    def req():
        yield from tb.wait()
        done.append(env.now)

    for _ in range(20):
        env.process(req())
    env.run()
    assert done[:10] == [0.0] * 10
    assert np.allclose(done[10:], [0.2 * k for k in range(1, 11)])


def test_token_bucket_try_accept_fails_without_waiting():
    env = simpy.Environment()
    tb = TokenBucket(env, qps=5, burst=2)
    assert [tb.try_accept() for _ in range(3)] == [True, True, False]
    env.run(until=0.2)
    assert tb.try_accept() and not tb.try_accept()


def test_backoff_doubles_to_cap_and_forgets():
    b = Backoff(10, 300)
    seq = [b.next(("p", "img"), t) for t in range(0, 70, 10)]
    assert seq == [10, 20, 40, 80, 160, 300, 300]
    assert b.in_backoff_since_update(("p", "img"), 65)
    assert b.next(("p", "img"), 60 + 601) == 10  # idle > 2 x max: starts over


def _one_pod(runtime="containerd", extra=()):
    sc = load_scenario("default", ["workload.kind=batch", "workload.pods=1",
                                   "workload.templates=[{name: p, spec: {containers: [{name: c, image: nginx}]}}]",
                                   "simulation.steadyStateSeconds=5", *extra])
    return simulate(sc, runtime, seed=3)


def test_pleg_relists_one_second_after_the_previous_ends():
    r = _one_pod()
    ends = r.relists.time.to_numpy()
    starts = ends - r.relists.duration.to_numpy()
    assert np.allclose(starts[1:] - ends[:-1], 1.0)


def test_running_is_posted_only_after_a_relist_that_started_after_the_first_sync():
    for rt in ("dockershim", "containerd"):
        r = _one_pod(rt)
        pod = r.pods.iloc[0]
        ends = r.relists.time.to_numpy()
        starts = ends - r.relists.duration.to_numpy()
        # the relist that saw the containers: started after they started, ended before Running was observed
        seen = (starts >= pod.containers_started) & (ends <= pod.running_observed)
        assert seen.any(), rt


def test_init_containers_run_one_per_sync_and_need_a_pleg_round_trip_each():
    sc = load_scenario("default", [
        "workload.kind=batch", "workload.pods=1", "kubelet.kubeAPIQPS=50",
        "workload.templates=[{name: p, spec: {initContainers: [{name: i1, image: busybox, runSeconds: 0.5},"
        " {name: i2, image: busybox, runSeconds: 0.5}], containers: [{name: c, image: nginx}]}}]",
        "simulation.steadyStateSeconds=2"])
    r = simulate(sc, "containerd", seed=1)
    s = r.spans[(r.spans.depth == 0) & (r.spans.operation == "start_container") & (r.spans.source == "sync")]
    assert len(s) == 3
    t = s.start.to_numpy()
    # each next container starts only after the previous one ran (0.5 s) and a relist saw it exit
    assert (np.diff(t) > 0.5).all()
    assert r.pods.attempts.iloc[0] == 3  # three syncs that did work: sandbox+i1, i2, c


def test_serialized_pulls_do_not_overlap_and_parallel_ones_do():
    base = ["workload.kind=batch", "workload.pods=3", "kubelet.registryPullQPS=0",
            "images.a={sizeMB: 50, layers: 2}", "images.b={sizeMB: 50, layers: 2}", "images.c={sizeMB: 50, layers: 2}",
            "workload.templates=[{name: a, spec: {containers: [{name: c, image: a}]}},"
            " {name: b, spec: {containers: [{name: c, image: b}]}}, {name: c, spec: {containers: [{name: c, image: c}]}}]"]

    def pulls(serialize):
        r = simulate(load_scenario("default", base + [f"kubelet.serializeImagePulls={serialize}"]), "containerd", 4)
        s = r.spans[(r.spans.depth == 0) & (r.spans.operation == "pull_image")].sort_values("start")
        return s.start.to_numpy(), s.end.to_numpy()

    start, end = pulls("true")
    assert len(start) >= 2 and (start[1:] >= end[:-1] - 1e-9).all()
    start, end = pulls("false")
    assert (start[1:] < end[:-1]).any()


def test_max_pods_admission_fails_the_extra_pods():
    # pods bound straight to the node (spec.nodeName, no scheduler): the kubelet rejects them
    sc = load_scenario("default", ["workload.kind=batch", "workload.pods=8", "kubelet.maxPods=5",
                                   "scheduler.enabled=false", "simulation.steadyStateSeconds=0"])
    pods = compare(sc, runtimes=["containerd"], seed=2).pods
    failed = pods[pods.outcome == "failed"]
    assert len(failed) == 3
    assert set(failed.failure_reason) == {"OutOfpods"}
    assert set(failed.failure_hop) == {"kubelet: admission (canAdmitPod)"}


def test_scheduler_keeps_extra_pods_pending_when_the_node_is_full():
    sc = load_scenario("default", ["workload.kind=batch", "workload.pods=8", "kubelet.maxPods=5",
                                   "simulation.steadyStateSeconds=0", "simulation.horizonSeconds=60"])
    pods = compare(sc, runtimes=["containerd"], seed=2).pods
    pending = pods[pods.outcome == "pending"]
    assert len(pending) == 3 and (pods.outcome == "running").sum() == 5
    assert set(pending.failure_hop) == {"kube-scheduler"}
    assert pending.failure_reason.str.contains("Too many pods").all()


def test_pull_qps_exceeded_fails_fast_then_retries_after_backoff():
    sc = load_scenario("default", [
        "workload.kind=batch", "workload.pods=3", "kubelet.registryPullQPS=0.01", "kubelet.registryBurst=1",
        "kubelet.kubeAPIQPS=50", "images.a={sizeMB: 10}", "images.b={sizeMB: 10}", "images.c={sizeMB: 10}",
        "workload.templates=[{name: a, spec: {containers: [{name: c, image: a}]}},"
        " {name: b, spec: {containers: [{name: c, image: b}]}}, {name: c, spec: {containers: [{name: c, image: c}]}}]",
        "simulation.steadyStateSeconds=0", "simulation.horizonSeconds=1500"])
    r = simulate(sc, "containerd", seed=1)
    errors = r.events[r.events.event == "SyncError"]
    assert errors.detail.str.contains("pull QPS exceeded").any()
    # the 0.01 QPS bucket refills one token per 100 s, so the last image can only start after
    # ~200 s; the image back-off (10 s doubling to 300 s) and the resync decide when exactly
    assert (r.pods.outcome == "running").all()
    assert r.pods.running_observed.max() > 150
    assert r.pods.attempts.max() >= 2
