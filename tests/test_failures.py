"""Failure semantics at exact simulated times, and faults attributed to their hop (facts §1.6-1.8, §6)."""

import numpy as np
import pytest

from simulator.config import load_scenario
from simulator.model.simulation import simulate

ONE_POD = ["workload.kind=batch", "workload.pods=1", "kubelet.kubeAPIQPS=50", "kubelet.kubeAPIBurst=100",
           "workload.templates=[{name: web, spec: {containers: [{name: c, image: nginx}]}}]"]


def _run(extra, runtime="containerd", seed=1):
    return simulate(load_scenario("default", ONE_POD + list(extra)), runtime, seed)


def _ev(r, event):
    return r.events[r.events.event == event]


def test_run_podsandbox_deadline_is_4m_and_the_retry_meets_a_reserved_name():
    r = _run(["faults=[{kind: slowStep, step: RunPodSandbox, process: containerd, extraSeconds: 300}]",
              "simulation.horizonSeconds=600", "simulation.steadyStateSeconds=0"])
    op = r.spans[(r.spans.depth == 0) & (r.spans.operation == "run_podsandbox")].sort_values("start")
    first = op.iloc[0]
    deadline = _ev(r, "DeadlineExceeded")
    assert len(deadline) >= 1
    assert deadline.time.iloc[0] == pytest.approx(first.start + 240.0, abs=1e-9)  # 2 x runtimeRequestTimeout
    errors = _ev(r, "SyncError")
    reserved = errors[errors.detail.str.contains("name is reserved")]
    assert len(reserved) >= 1
    # the retry came 10-15 s after the failed sync (pod-worker back-off, facts §1.2), handed out
    # at the syncLoop's next 1 s tick (the work queue, pod_workers.go / kubelet.go syncTicker)
    gap = reserved.time.iloc[0] - deadline.time.iloc[0]
    assert 10.0 <= gap <= 15.0 + 1.0 + 0.1
    # the runtime finished the first request on its own; the pod then ran without a second sandbox
    assert r.pods.outcome.iloc[0] == "running"
    assert (op.outcome == "ok").sum() == 1


def test_crash_loop_back_off_doubles_from_10s():
    r = _run(["workload.templates.0.spec.containers.0.crashAfterSeconds=1",
              "simulation.horizonSeconds=900", "simulation.steadyStateSeconds=0", "workload.kind=churn",
              "workload.ratePerSecond=1000", "workload.lifetimeSeconds=890"])
    crashes = _ev(r, "ContainerCrashed").time.to_numpy()
    starts = r.spans[(r.spans.depth == 0) & (r.spans.operation == "start_container")
                     & (r.spans.source == "sync")].start.to_numpy()
    assert len(crashes) >= 4
    # restart k (k >= 2) waits at least the back-off after the crash before it:
    # first restart immediate, then 10, 20, 40 ... s (flowcontrol.Backoff, facts §1.6)
    waits = [starts[k + 1] - crashes[k] for k in range(len(crashes)) if k + 1 < len(starts)]
    expected = [0.0] + [min(10.0 * 2 ** (k - 1), 300.0) for k in range(1, len(waits))]
    for w, e in zip(waits, expected):
        assert w >= e - 1e-9
        # ... and no later than the next resync after it (syncFrequency 1m x up to 1.5) + a relist
        assert w <= e + 90.0 + 2.0
    errors = _ev(r, "SyncError")
    assert (errors.detail == "CrashLoopBackOff").any()


def test_image_pull_back_off_after_registry_errors():
    r = _run(["images.nginx.prePulled=false", "faults=[{kind: registry, reason: '503 Service Unavailable'}]",
              "simulation.horizonSeconds=400", "simulation.steadyStateSeconds=0"])
    errors = _ev(r, "SyncError")
    pulls = errors[errors.detail.str.startswith("ErrImagePull")]
    assert set(pulls.hop) == {"registry"}
    assert pulls.detail.str.contains("503").all()
    t = pulls.time.to_numpy()
    gaps = np.diff(t)
    for k, g in enumerate(gaps):
        assert g >= min(10.0 * 2 ** k, 300.0) - 1e-9
    assert r.pods.outcome.iloc[0] == "pending"
    assert r.pods.failure_hop.iloc[0] in ("registry", "kubelet: image manager")


def test_pleg_unhealthy_exactly_three_minutes_after_the_last_good_relist():
    # kubernetes/kubernetes#94829: a container start stuck on NFS holds dockerd's container lock;
    # PLEG's inspects of that pod wait for it until the 2-minute CRI deadline, twice per relist
    r = simulate(load_scenario("pleg-stall-slow-volume"), "dockershim", 1)
    notready = _ev(r, "NodeNotReady")
    assert len(notready) >= 1
    t = notready.time.iloc[0]
    starts = (r.relists.time - r.relists.duration).to_numpy()
    last_good = starts[starts <= t].max()
    assert t == pytest.approx(last_good + 180.0, abs=1e-6)
    ready = _ev(r, "NodeReady")
    assert len(ready) >= 1 and ready.time.iloc[0] > t
    # while NotReady, no pod's SyncPod started a sandbox
    sync = r.spans[(r.spans.depth == 0) & (r.spans.source == "sync") & (r.spans.operation == "run_podsandbox")]
    assert not ((sync.start > t) & (sync.start < ready.time.iloc[0])).any()
    # on containerd the same slow start does not stall PLEG (statuses from memory, no container lock)
    r2 = simulate(load_scenario("pleg-stall-slow-volume"), "containerd", 1)
    assert _ev(r2, "NodeNotReady").empty


@pytest.mark.parametrize("live_restore", [False, True])
def test_dockerd_restart_kills_running_pods_only_without_live_restore(live_restore):
    faults = f"faults=[{{kind: daemonRestart, at: [100], liveRestore: {str(live_restore).lower()}}}]"
    base = ["workload.kind=batch", "workload.pods=5", faults, "simulation.horizonSeconds=400",
            "simulation.steadyStateSeconds=150"]
    for runtime in ("dockershim", "containerd", "crio"):
        r = simulate(load_scenario("default", base), runtime, 2)
        killed = _ev(r, "ContainerKilled")
        recreated = _ev(r, "SandboxChanged")
        if runtime == "dockershim" and not live_restore:
            assert len(killed) > 0 and len(recreated) == 5
            assert (killed.time == 100).all()
            assert len(_ev(r, "PodRecovered")) == 5
        else:
            assert killed.empty and recreated.empty, runtime
        assert (r.pods.outcome == "running").all()


def test_containerd_restart_never_kills_containers_but_fails_calls_in_flight():
    r = simulate(load_scenario("default", ["workload.kind=interval", "workload.intervalSeconds=0.5",
                                           "workload.pods=40", "faults=[{kind: daemonRestart, at: [5], downSeconds: 5}]",
                                           "simulation.steadyStateSeconds=0"]), "containerd", 3)
    assert _ev(r, "ContainerKilled").empty
    errors = _ev(r, "SyncError")
    assert errors.detail.str.contains("containerd is down|containerd restarted", regex=True).any()
    assert (r.pods.outcome == "running").all()


def test_shim_crash_takes_the_pod_on_containerd_and_one_container_on_docker():
    fault = "faults=[{kind: shimCrash, at: [60]}]"
    base = ["workload.kind=batch", "workload.pods=3", fault, "simulation.horizonSeconds=300",
            "simulation.steadyStateSeconds=100"]
    r = simulate(load_scenario("default", base), "containerd", 4)
    assert len(_ev(r, "SandboxChanged")) == 1  # per-pod shim: the sandbox died with it
    r = simulate(load_scenario("default", base), "dockershim", 4)
    assert len(_ev(r, "ShimCrash")) == 1


def test_step_errors_are_attributed_to_their_hop():
    r = _run(["faults=[{kind: stepError, process: runc, step: runc create, reason: 'container init failed'}]",
              "simulation.horizonSeconds=120", "simulation.steadyStateSeconds=0"])
    errors = _ev(r, "SyncError")
    assert set(errors.hop) == {"runc: runc create"}
    pod = r.pods.iloc[0]
    assert pod.outcome == "pending" and pod.failure_hop == "runc: runc create"
    assert pod.failure_reason == "container init failed"


def test_cni_ip_exhaustion_and_leaks():
    r = simulate(load_scenario("cni-ip-exhaustion"), "containerd", 1)
    pending = r.pods[r.pods.outcome == "pending"]
    assert len(pending) > 0
    assert (pending.failure_hop == "cni: CNI ADD pod network").all()
    assert pending.failure_reason.str.contains("no IP addresses available").all()
    assert (_ev(r, "IPLeaked").shape[0]) > 0
