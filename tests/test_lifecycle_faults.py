"""Pods stuck Terminating (faults: stopError) and node reboots (faults: nodeReboot), at the exact
simulated times the kubelet's code gives (facts §1.2, §1.7, §6)."""

import math

import pytest

from simulator.config import ConfigError, load_scenario
from simulator.experiments.runner import compare
from simulator.model.simulation import simulate

ONE_POD = ["workload.kind=churn", "workload.pods=1", "workload.ratePerSecond=1000", "workload.lifetimeSeconds=30",
           "kubelet.kubeAPIQPS=50", "kubelet.kubeAPIBurst=100",
           "workload.templates=[{name: web, spec: {containers: [{name: c, image: nginx, memoryMB: 100}]}}]",
           "simulation.horizonSeconds=600", "simulation.steadyStateSeconds=0"]


def _run(extra, runtime="containerd", seed=1):
    return simulate(load_scenario("default", ONE_POD + list(extra)), runtime, seed)


def _ev(r, event):
    return r.events[r.events.event == event]


def _ops(r, op):
    s = r.spans
    return s[(s.depth == 0) & (s.operation == op) & (s.source == "sync")].sort_values("start")


# ---------------------------------------------------------------------------- stuck Terminating
def test_a_kill_that_fails_is_retried_after_the_pod_worker_back_off_at_the_next_tick():
    r = _run(["faults=[{kind: stopError, mode: notFound}]"])
    pod = r.pods.iloc[0]
    assert pod.outcome == "terminating"
    assert pod.failure_hop == "containerd: StopContainer"
    assert pod.failure_reason == 'an error occurred when try to find container "pod-00000-c": not found'
    errors, backoffs = _ev(r, "KillPodError"), _ev(r, "KillPodBackOff")
    assert len(errors) > 10 and list(errors.time) == list(backoffs.time)
    delays = backoffs.detail.str.extract(r"retry after ([0-9.]+)s")[0].astype(float).to_numpy()
    # completeWork: backOffPeriod 10 s x wait.Jitter(.., 0.5) (facts §1.2)
    assert ((delays >= 10.0) & (delays <= 15.0)).all()
    starts = _ops(r, "stop_container").start.to_numpy()
    fails = errors.time.to_numpy()
    # from the third attempt on nothing on the node changes, so the retry waits out the back-off:
    # the work queue hands it out at the syncLoop's next 1 s tick, the cache is already newer
    # (a relist every ~1 s), and the lost container's StopContainer starts at once
    for k in range(1, len(fails) - 1):
        expected = math.ceil(fails[k] + delays[k] - 1e-9)
        assert starts[k + 1] == pytest.approx(expected, abs=1e-9), k


def test_the_fixed_kubelet_gets_past_not_found_unless_the_runtime_says_unknown():
    fixed = "faults=[{kind: stopError, mode: notFound, notFoundIsSuccess: true}]"
    r = _run([fixed], "containerd")
    assert r.pods.outcome.iloc[0] == "running" and not math.isnan(r.pods.deleted.iloc[0])
    assert _ev(r, "KillPodError").empty and len(_ev(r, "KillContainerNotFound")) == 1
    # dockershim hands Docker's "No such container" on as gRPC Unknown: the fix cannot see it
    r = _run([fixed], "dockershim")
    pod = r.pods.iloc[0]
    assert pod.outcome == "terminating" and pod.failure_hop == "dockerd: POST /containers/{id}/stop"
    assert "No such container" in pod.failure_reason
    # the release decides by default: 1.24 carries PR #107670
    r = _run(["kubernetesVersion='1.24'", "runtimes=[crio]", "faults=[{kind: stopError, mode: notFound}]"], "crio")
    assert r.pods.outcome.iloc[0] == "running"


def test_an_unresponsive_shim_waits_for_the_stop_deadline_and_keeps_everything():
    r = _run(["faults=[{kind: stopError, mode: shimUnresponsive}]"], "containerd")
    first = _ops(r, "stop_container").iloc[0]
    deadlines = _ev(r, "DeadlineExceeded")
    # StopContainer: runtimeRequestTimeout (2 min) + the 30 s grace period from the kubelet's
    # call, which precedes the runtime's side by the container's 0.5 s exit wait (facts §1.7)
    assert deadlines.time.iloc[0] == pytest.approx(first.start - 0.5 + 150.0, abs=1e-9)
    assert deadlines.detail.iloc[0] == "StopContainer after 150s"
    # then StopPodSandbox, which stops the pod's containers through the same shim: 2 min more
    assert deadlines.detail.iloc[1] == "StopPodSandbox after 120s"
    assert deadlines.time.iloc[1] == pytest.approx(deadlines.time.iloc[0] + 120.0, abs=1e-9)
    assert _ev(r, "KillPodError").time.iloc[0] == pytest.approx(deadlines.time.iloc[1], abs=1e-9)
    pod = r.pods.iloc[0]
    assert pod.outcome == "terminating" and pod.failure_hop == "containerd-shim: task.Kill + Wait + Delete"
    held = r.terminating.iloc[0]
    assert (held.ip, held.containers, held.shims) == (1, 1, 1)
    assert held.memory_mb == pytest.approx(100 + 4.5 + 0.15)
    # CRI-O tears the network down before it stops containers: the IP is released
    held = _run(["faults=[{kind: stopError, mode: shimUnresponsive}]"], "crio").terminating.iloc[0]
    assert (held.ip, held.containers, held.shims) == (0, 1, 1)


def test_a_failing_cni_del_keeps_the_ip_until_the_plugin_is_back():
    r = _run(["faults=[{kind: stopError, mode: cniDelFailing}]"], "dockershim")
    pod = r.pods.iloc[0]
    assert pod.outcome == "terminating" and pod.failure_hop == "cni: CNI DEL pod network"
    assert pod.failure_reason.startswith('networkPlugin cni failed to teardown pod "pod-00000" network: ')
    assert r.terminating.iloc[0].ip == 1
    r = _run(["faults=[{kind: stopError, mode: cniDelFailing, until: 200}]"], "containerd")
    pod = r.pods.iloc[0]
    assert pod.outcome == "running"
    last_error = _ev(r, "KillPodError").time.max()
    assert last_error < 200 < pod.deleted <= last_error + 15.0 + 1.0 + 1.0


def test_the_summary_times_the_recovery_of_pods_whose_cause_was_fixed():
    sc = load_scenario("default", ONE_POD + ["faults=[{kind: stopError, mode: cniDelFailing, until: 200}]"])
    comp = compare(sc, runtimes=["crio"], seed=1)
    st = comp.summary()["runtimes"]["crio"]["stuck_terminating"]
    first = comp.events[comp.events.event == "KillPodError"].time.min()
    assert st["pods"] == 0 and st["recovered_pods"] == 1
    assert st["recovery_seconds"]["max"] == pytest.approx(comp.pods.deleted.iloc[0] - first)


def test_stuck_pods_count_against_max_pods_and_the_summary_says_what_they_hold():
    sc = load_scenario("default", ["workload.kind=churn", "workload.pods=12", "workload.ratePerSecond=0.5",
                                   "workload.lifetimeSeconds=20", "kubelet.maxPods=5",
                                   "faults=[{kind: stopError, mode: cniDelFailing}]",
                                   "simulation.horizonSeconds=300", "simulation.steadyStateSeconds=0"])
    doc = compare(sc, runtimes=["containerd"], seed=3).summary()["runtimes"]["containerd"]
    assert doc["running"] + doc["failed"] + doc["pending"] + doc["terminating"] == doc["pods"] == 12
    stuck = doc["stuck_terminating"]
    assert doc["terminating"] == stuck["pods"] == stuck["holding"]["pod_slots"] == 5
    assert stuck["holding"]["ips"] == 5 and stuck["churn_capacity_lost"] == pytest.approx(1.0)
    assert stuck["by_hop"] == {"cni: CNI DEL pod network": 5}
    assert stuck["creations_per_hour_lost"] == pytest.approx(5 * 3600 / 20)
    # the pods after them find no slot: the scheduler counts the Terminating pods against the
    # node's maxPods until they are deleted, and never binds the new ones
    assert doc["pending"] == 7 and doc["pending_by_hop"] == {"workload": 7}
    assert 10.0 <= stuck["retry_interval_seconds"]["p50"] <= 17.0


# ---------------------------------------------------------------------------- reboots
REBOOT = ["workload.kind=batch", "workload.pods=5", "kubelet.kubeAPIQPS=50", "kubelet.kubeAPIBurst=100",
          "workload.templates=[{name: web, spec: {containers: [{name: c, image: nginx}]}}]",
          "simulation.horizonSeconds=400", "simulation.steadyStateSeconds=0"]


def _reboot(extra, runtime):
    return simulate(load_scenario("default", REBOOT + list(extra)), runtime, 1)


@pytest.mark.parametrize("runtime", ["dockershim", "containerd", "crio"])
def test_a_clean_reboot_is_not_ready_until_the_kubelet_is_back_and_recreates_every_sandbox(runtime):
    r = _reboot(["faults=[{kind: nodeReboot, at: [100]}]"], runtime)
    assert _ev(r, "NodeNotReady").time.tolist() == [100.0]
    assert (_ev(r, "ContainerKilled").time == 100.0).all() and len(_ev(r, "ContainerKilled")) == 5
    runtime_up = _ev(r, "RuntimeStarted").time.iloc[0]
    kubelet_up = _ev(r, "KubeletStarted").time.iloc[0]
    records = 10  # five sandboxes and five containers
    start = {"dockershim": 3.0 + 0.02 * records, "containerd": 1.5 + 0.002 * records,
             "crio": 1.0 + 0.05 * records}[runtime]
    assert runtime_up == pytest.approx(100 + 40 + start, abs=1e-9)  # bootSeconds 40
    assert kubelet_up == pytest.approx(100 + 40 + max(2.0, start), abs=1e-9)  # kubeletStartSeconds 2
    # the new syncLoop's first check (100 ms) finds the first relist and the runtime's status done
    assert _ev(r, "NodeReady").time.tolist() == [pytest.approx(kubelet_up + 0.1, abs=1e-9)]
    assert (r.pods.outcome == "running").all() and (r.pods.recreations == 1).all()
    assert len(_ev(r, "PodRecovered")) == 5 and (_ev(r, "PodRecovered").time > kubelet_up).all()
    if runtime == "crio":  # CRI-O wiped them: nothing to kill
        assert len(_ev(r, "SandboxWiped")) == 5 and _ev(r, "SandboxChanged").empty
    else:
        assert len(_ev(r, "SandboxChanged")) == 5 and _ev(r, "SandboxWiped").empty
    # no CRI call of the pod workers ran while the node was down, and the new kubelet's workers
    # start only once its syncLoop dispatches (NodeReady: the work held back is handed out)
    sync = r.spans[(r.spans.depth == 0) & (r.spans.source == "sync")]
    assert not ((sync.start > 100) & (sync.start < kubelet_up)).any()
    assert sync[sync.start > 100].start.min() >= kubelet_up + 0.1 - 1e-9


def test_a_reboot_in_the_middle_of_creations_fails_the_calls_in_flight_and_loses_no_pod():
    sc = load_scenario("default", ["workload.kind=interval", "workload.intervalSeconds=0.2", "workload.pods=40",
                                   "faults=[{kind: nodeReboot, at: [3]}]", "simulation.horizonSeconds=300"])
    for runtime in ("dockershim", "containerd", "crio"):
        r = simulate(sc, runtime, 2)
        assert (r.pods.outcome == "running").all(), runtime
        assert (r.spans[r.spans.depth == 0].outcome.str.contains("restarted|down").any()), runtime


UNCLEAN = ["images.nginx.prePulled=false", "node.unsyncedLayerLossProbability=1.0"]


def test_an_unclean_reboot_loses_the_layers_unpacked_in_the_writeback_window():
    r = _reboot(UNCLEAN + ["faults=[{kind: nodeReboot, at: [20], clean: false}]"], "containerd")
    lost = _ev(r, "LayerLost")
    assert len(lost) == 6 and (lost.time == 20.0).all()  # nginx: 6 layers, all within 35 s
    pods = r.pods
    assert (pods.outcome == "pending").all()
    assert (pods.failure_hop == "runc: runc create").all()
    assert pods.failure_reason.str.contains("exec format error").all()
    # the runtime says the image is present: it is never pulled again
    pulls = _ops(r, "pull_image") if not _ops(r, "pull_image").empty else r.spans[r.spans.operation == "pull_image"]
    assert (pulls[pulls.depth == 0].start < 20).all()
    # StartError leaves the container exited: CrashLoopBackOff, 10 s doubling (facts §1.6)
    errs = _ev(r, "SyncError")
    one = errs[(errs.pod == "pod-00000") & errs.detail.str.contains("exec format error")].time.to_numpy()
    for k in range(2, len(one)):
        assert one[k] - one[k - 1] >= 10.0 * 2 ** (k - 2) - 1e-9
    # layers unpacked longer ago than node.layerWritebackSeconds were written back: nothing lost
    r = _reboot(UNCLEAN + ["faults=[{kind: nodeReboot, at: [80], clean: false}]"], "containerd")
    assert _ev(r, "LayerLost").empty and (r.pods.outcome == "running").all()


def test_removing_the_corrupted_image_lets_the_kubelet_pull_it_again():
    r = _reboot(UNCLEAN + ["faults=[{kind: nodeReboot, at: [20], clean: false, removeImageAfterSeconds: 120}]",
                           "simulation.horizonSeconds=800"], "dockershim")
    assert _ev(r, "ImageRemoved").time.tolist() == [140.0]
    assert (r.pods.outcome == "running").all()
    pulls = r.spans[(r.spans.depth == 0) & (r.spans.operation == "pull_image")]
    assert (pulls.start > 140).any()
    rec = _ev(r, "PodRecovered")
    assert len(rec) == 5 and (rec.time > 140).all()
    doc = compare(load_scenario("default", REBOOT + UNCLEAN + [
        "faults=[{kind: nodeReboot, at: [20], clean: false, removeImageAfterSeconds: 120}]",
        "simulation.horizonSeconds=800"]), runtimes=["dockershim"], seed=1).summary()["runtimes"]["dockershim"]
    rb = doc["reboots"][0]
    assert (rb["clean"], rb["layers_lost"], rb["images_corrupted"], rb["image_removed_seconds"]) == (
        False, 6, ["nginx"], 120.0)
    assert rb["pods_recovered"] == 5 and rb["pods_failing"] == 0
    assert rb["all_recovered_seconds"] == pytest.approx(rec.time.max() - 20.0)


def test_cri_o_wipes_its_image_store_after_an_unclean_reboot_instead():
    r = _reboot(UNCLEAN + ["faults=[{kind: nodeReboot, at: [20], clean: false}]"], "crio")
    assert _ev(r, "LayerLost").empty and len(_ev(r, "ImageStoreWiped")) == 1
    assert (r.pods.outcome == "running").all()
    pulls = r.spans[(r.spans.depth == 0) & (r.spans.operation == "pull_image")]
    assert (pulls.start > 20).any()


# ---------------------------------------------------------------------------- input and docs
@pytest.mark.parametrize("fault, words", [
    ("{kind: stopError, mode: cniDelFailing, notFoundIsSuccess: true}", ["notFoundIsSuccess", "notFound"]),
    ("{kind: stopError, mode: hung}", ["mode", "hung", "shimUnresponsive"]),
    ("{kind: nodeReboot, clean: false}", ["at", "every", "ratePerHour"]),
    ("{kind: nodeReboot, at: [10], symptom: slow}", ["symptom", "startError"]),
    ("{kind: stopError, mode: notFound, template: nosuch}", ["template", "nosuch", "web"]),
])
def test_bad_fault_settings_are_refused_in_one_paragraph(fault, words):
    with pytest.raises(ConfigError) as e:
        load_scenario("default", [f"faults=[{fault}]"])
    msg = str(e.value)
    assert "\n" not in msg.strip() and "faults" in msg
    for w in words:
        assert w in msg


def test_layer_loss_probability_is_a_probability():
    with pytest.raises(ConfigError) as e:
        load_scenario("default", ["node.unsyncedLayerLossProbability=1.5"])
    assert "unsyncedLayerLossProbability" in str(e.value)


def test_presets_name_their_sources():
    for name, issues in (("stuck-terminating", ["#106734", "#107670", "#7272", "multus"]),
                         ("unclean-reboot-image-loss", ["#5854", "#9401", "#44909"])):
        sc = load_scenario(name)
        for i in issues:
            assert i in sc.description, (name, i)


def test_a_reboot_clears_a_lost_container_but_not_a_broken_cni_plugin():
    # kubernetes/kubernetes#106734: "Restart kubelet could resolve the problem"
    r = _run(["faults=[{kind: stopError, mode: notFound}, {kind: nodeReboot, at: [200]}]"], "containerd")
    pod = r.pods.iloc[0]
    assert pod.outcome == "running" and pod.deleted > _ev(r, "KubeletStarted").time.iloc[0]
    r = _run(["faults=[{kind: stopError, mode: cniDelFailing}, {kind: nodeReboot, at: [200]}]"], "containerd")
    assert r.pods.outcome.iloc[0] == "terminating"
    assert (_ev(r, "KillPodError").time > _ev(r, "KubeletStarted").time.iloc[0]).any()
