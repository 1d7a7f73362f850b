"""What moves in a migration besides the runtime: the CNI settings and Docker-in-Docker pods.

Mechanisms are checked where the code fixes them: the kubelet refuses to sync a pod that needs
a pod network while the runtime reports NetworkReady=false; a NotReady node gets no pods from the
scheduler; libcni looks the plugin up before any exec; WaitForAttachAndMount gives up after
exactly 2 min; a Docker DaemonSet's runners mount its socket only once the daemon answers; an
operator's readiness gate stops the migration at the first node that is not Ready.
"""

from __future__ import annotations

import json

import pytest

from simulator.config import ConfigError, load_scenario
from simulator.experiments.runner import compare
from simulator.model.control.dind import daemon_memory_mb
from simulator.model.kubelet.volume_manager import MOUNT_TIMEOUT_S
from simulator.model.simulation import simulate

RUNNERS = ('[{"name":"app","count":8,"spec":{"containers":[{"name":"app","image":"app"}]}},'
           '{"name":"dind-runner","count":4,"spec":{"dockerSocket":true,'
           '"nodeSelector":{"container-runtime":"docker"},'
           '"containers":[{"name":"runner","image":"ci-runner"}]}}]')


def _migration(**sets) -> tuple:
    """The migration preset made small: 12 pods, 30 s reinstalls, 10 min horizon."""
    overrides = {"cluster.migration.reinstallSeconds": 30, "simulation.horizonSeconds": 600,
                 "workload.pods": 12, "workload.templates": json.loads(RUNNERS)}
    overrides.update(sets)
    scenario = load_scenario("migration-docker-to-containerd", overrides)
    return scenario, simulate(scenario, "pools", seed=3)


def _node_scenario(runtime: str, **sets):
    """One node, pods bound by spec.nodeName (no scheduler), as in the node e2e tests."""
    base = {"workload.pods": 4, "workload.kind": "batch", "scheduler.enabled": False,
            "runtimes": [runtime], "simulation.horizonSeconds": 300, "simulation.steadyStateSeconds": 0}
    base.update(sets)
    return load_scenario("default", base)


# --------------------------------------------------------------------------- CNI settings


@pytest.mark.parametrize("runtime,message", [
    ("containerd", "Network plugin returns error: cni plugin not initialized"),
    ("dockershim", "docker: network plugin is not ready: cni config uninitialized"),
    ("crio", "No CNI configuration file in /etc/cni/net.d/"),
])
def test_without_a_network_config_the_kubelet_never_asks_for_a_sandbox(runtime, message):
    sc = _node_scenario(runtime, **{"cni.install": "missing-config"})
    r = simulate(sc, runtime, seed=1)
    pods = r.pods
    assert (pods.outcome == "pending").all()
    assert pods.failure_hop.str.contains("CNI config").all()
    assert pods.failure_reason.str.startswith(
        "network is not ready: container runtime network not ready: NetworkReady=false "
        "reason:NetworkPluginNotReady message:").all()
    assert pods.failure_reason.str.contains(message, regex=False).all()
    # syncPod returns before the runtime is asked for anything
    assert not (r.spans.operation == "run_podsandbox").any()
    # and retries after the pod worker's error back-off (10 s x jitter up to 1.5, on a 1 s tick)
    errs = r.events[(r.events.event == "SyncError") & (r.events.pod == pods.pod.iloc[0])].time.to_numpy()
    gaps = errs[1:] - errs[:-1]
    assert len(gaps) > 5 and gaps.min() >= 10.0 - 1e-6 and gaps.max() <= 16.0 + 1e-6


def test_host_network_pods_start_while_the_pod_network_is_not_ready():
    sc = _node_scenario("containerd", **{"cni.install": "missing-config",
                                         "workload.templates": [{"name": "h", "spec": {
                                             "hostNetwork": True, "containers": [{"name": "c", "image": "pause"}]}}]})
    r = simulate(sc, "containerd", seed=1)
    assert (r.pods.outcome == "running").all()


def test_a_node_whose_network_is_not_ready_gets_no_pods_from_the_scheduler():
    sc = load_scenario("default", {"cni.install": "missing-config", "workload.pods": 3,
                                   "simulation.horizonSeconds": 60, "runtimes": ["containerd"]})
    r = simulate(sc, "containerd", seed=1)
    assert r.pods.scheduled.isna().all()
    assert r.pods.failure_reason.str.contains("node.kubernetes.io/not-ready", regex=False).all()


@pytest.mark.parametrize("runtime,hop", [("containerd", "cni: CNI ADD loopback"),
                                         ("dockershim", "cni: CNI ADD loopback")])
def test_without_the_plugin_binaries_every_cni_add_fails_before_any_exec(runtime, hop):
    sc = load_scenario("default", {"cni.install": "missing-binaries", "workload.pods": 3,
                                   "simulation.horizonSeconds": 120, "runtimes": [runtime]})
    r = simulate(sc, runtime, seed=1)
    assert r.pods.scheduled.notna().all()  # the node is Ready: the scheduler places pods
    assert (r.pods.outcome == "pending").all()
    assert set(r.pods.failure_reason) == {'failed to find plugin "loopback" in path [/opt/cni/bin]'}
    assert r.pods.failure_hop.str.endswith(hop).all()
    # the failing lookup takes no time: the step span ends where it starts
    cni = r.spans[r.spans.step.str.startswith("CNI ADD loopback")]
    assert len(cni) and ((cni.end - cni.start).abs() < 1e-12).all()


def test_migration_without_the_cni_config_leaves_every_migrated_node_not_ready():
    sc, r = _migration(**{"cluster.migration.cniConfig": "missing-config"})
    joined = set(r.events[r.events.event == "NodeJoined"].node)
    not_ready = r.events[r.events.event == "NodeNetworkNotReady"]
    assert set(not_ready.node) == joined and len(joined) == 6
    # nothing was ever bound to a node after it rejoined with containerd
    assert not (r.pods.runtime == "containerd").any()
    left = r.pods[r.pods.deleted.isna()]
    assert (left.outcome == "pending").all()
    assert left.failure_reason.str.contains("node.kubernetes.io/not-ready", regex=False).all()


def test_carrying_the_cni_config_over_is_the_fix():
    sc, r = _migration()
    left = r.pods[r.pods.deleted.isna()]
    apps = left[left.template == "app"]
    assert (apps.outcome == "running").all() and (apps.runtime == "containerd").all()


def test_the_readiness_gate_stops_the_migration_at_the_first_node_not_ready():
    sc, r = _migration(**{"cluster.migration.cniConfig": "missing-config",
                          "cluster.migration.readyTimeoutSeconds": 90})
    ev = r.events
    joined = ev[ev.event == "NodeJoined"]
    halted = ev[ev.event == "MigrationHalted"]
    assert len(joined) == 1 and len(halted) == 1
    assert halted.time.iloc[0] == pytest.approx(joined.time.iloc[0] + 90)
    assert (ev.event == "Cordoned").sum() == 1  # no second node was drained
    # the workload keeps running on the nodes still on Docker
    left = r.pods[r.pods.deleted.isna()]
    assert (left.outcome == "running").all() and (left.runtime == "dockershim").all()


# --------------------------------------------------------------------------- Docker-in-Docker


def test_a_docker_socket_pod_on_a_node_without_dockerd_times_out_its_mount_every_two_minutes():
    sc = _node_scenario("containerd", **{"workload.templates": [{"name": "dind", "spec": {
        "dockerSocket": True, "containers": [{"name": "c", "image": "pause"}]}}]})
    r = simulate(sc, "containerd", seed=1)
    assert (r.pods.outcome == "pending").all()
    assert r.pods.failure_hop.eq("kubelet: volume manager (WaitForAttachAndMount)").all()
    assert r.pods.failure_reason.str.contains("hostPath type check failed: /var/run/docker.sock",
                                              regex=False).all()
    pod = r.pods.iloc[0]
    errs = r.events[(r.events.event == "SyncError") & (r.events.pod == pod.pod)].time.to_numpy()
    # the first sync waits exactly the timeout from its start (after the sync's own CPU and
    # set-up, a few ms after the kubelet saw the pod)
    assert MOUNT_TIMEOUT_S <= errs[0] - pod.kubelet_seen <= MOUNT_TIMEOUT_S + 1.0
    assert not (r.spans.operation == "run_podsandbox").any()


def test_pinned_runners_are_pending_once_no_docker_node_is_left():
    sc, r = _migration()
    runners = r.pods[(r.pods.template == "dind-runner") & r.pods.deleted.isna()]
    assert len(runners) == 4 and (runners.outcome == "pending").all()
    assert runners.failure_reason.str.contains("didn't match Pod's node affinity/selector").all()


def test_a_docker_daemonset_serves_runners_only_once_its_daemon_answers():
    sc, r = _migration(**{"cluster.migration.dind.strategy": "daemonset"})
    pods, ev = r.pods, r.events
    daemons = pods[pods.template == "docker-daemonset"]
    joined = ev[ev.event == "NodeJoined"]
    assert sorted(daemons.node) == sorted(joined.node)  # one per node without Docker
    ready = ev[(ev.event == "DockerReady")].merge(daemons[["pod", "node"]], on=["pod", "node"])
    ready_at = ready.groupby("node").time.min()
    runners = pods[(pods.template == "dind-runner") & (pods.runtime == "containerd")]
    assert len(runners) and (runners.outcome == "running").all()
    for p in runners.itertuples():
        assert p.node in ready_at.index
        assert p.containers_started > ready_at[p.node]  # the socket mount waited for the daemon
    # a daemon's start: its container started, then daemonStartSeconds
    start = sc.cluster.migration.dind.daemonStartSeconds
    for p in daemons.merge(ready, on=["pod", "node"]).itertuples():
        assert p.time >= p.containers_started + start - 1e-9


def test_sidecar_runners_each_pay_for_a_daemon():
    sc, r = _migration(**{"cluster.migration.dind.strategy": "sidecar"})
    runners = r.pods[(r.pods.template == "dind-runner") & r.pods.deleted.isna()]
    assert (runners.outcome == "running").all()
    ready = r.events[r.events.event == "DockerReady"].groupby("pod").time.min()
    assert set(runners.pod) <= set(ready.index)
    assert (ready[runners.pod].to_numpy() - runners.containers_started.to_numpy()
            >= sc.cluster.migration.dind.daemonStartSeconds - 1.0).all()


def test_the_summary_reports_the_plan_and_what_it_costs():
    overrides = {"cluster.migration.reinstallSeconds": 30, "simulation.horizonSeconds": 600,
                 "workload.pods": 12, "workload.templates": json.loads(RUNNERS),
                 "cluster.migration.dind.strategy": "sidecar"}
    sc = load_scenario("migration-docker-to-containerd", overrides)
    doc = compare(sc, seed=3).summary()["migration"]["pools"]
    assert doc["plan"]["dind"] == "sidecar" and doc["nodes_migrated"] == 6 and doc["halted"] == []
    dind = doc["dind"]
    assert dind["running"] == 4 and dind["pending"] == 0
    anon, shared = daemon_memory_mb()
    assert anon > 0 and shared > 0
    # per node with daemons: n x anonymous + the binaries once; 4 runners on <= 4 nodes
    assert anon + shared <= dind["dind_memory_pss_mb_per_node"] <= 4 * anon + shared
    assert dind["docker_ready_seconds"]["p50"] >= sc.cluster.migration.dind.daemonStartSeconds
    assert dind["breaks"] and "privileged" in " ".join(dind["breaks"])


def test_daemonset_and_sidecar_plans_need_their_image():
    with pytest.raises(ConfigError) as e:
        load_scenario("migration-docker-to-containerd", {"cluster.migration.dind.strategy": "sidecar",
                                                         "cluster.migration.dind.image": "nope"})
    assert "cluster.migration.dind.image" in str(e.value) and "'nope'" in str(e.value)
    with pytest.raises(ConfigError) as e:
        load_scenario("migration-docker-to-containerd", {"cluster.migration.cniConfig": "lost"})
    assert "cniConfig" in str(e.value) and "missing-config" in str(e.value)


# --------------------------------------------------------------------------- log agents


def test_a_log_agent_set_up_for_docker_loses_every_line_of_the_migrated_nodes_and_the_fix_finds_them():
    logs = {"cluster.migration.reinstallSeconds": 30, "simulation.horizonSeconds": 600, "workload.pods": 12,
            "workload.templates": json.loads(RUNNERS.replace('"image":"app"}', '"image":"app","logs":{"linesPerSecond":50}}'))}
    sc = load_scenario("migration-docker-to-containerd", logs)
    before = compare(sc, seed=3).summary()["migration"]["pools"]["log_agents"]["fluentd-docker"]
    assert set(before) == {"apps", "ci"}
    for pool in before.values():
        assert pool["lost_lines"] > 0 and "no file matches /var/lib/docker/containers/*/*.log on containerd" in pool["reason"]
    sc = load_scenario("migration-docker-to-containerd", {**logs, "cluster.migration.logAgents": "reconfigured"})
    after = compare(sc, seed=3).summary()["migration"]["pools"]["log_agents"]["fluentd-docker"]
    assert all(p["lost_lines"] == 0 and p["reason"] == "" for p in after.values())
    # the same lines exist either way (the agent only reads them): collected + lost is unchanged
    total = sum(p["collected_lines"] + p["lost_lines"] for p in before.values())
    assert sum(p["collected_lines"] for p in after.values()) == pytest.approx(total, rel=1e-9)
