"""Container logs (model/logs, chains' logs: sections, experiments/logs.py): rotation at the size
limit at its exact simulated time, direction of effect, blocking against non-blocking, the
kubelet's rotation and its failure on cri-dockerd, followers across rotations by release, log
agents per pool, bad input, and the comparison table computed from the chain data."""

import json

import numpy as np
import pytest

from simulator.chains import known_chains, load_chain
from simulator.config import ConfigError, load_scenario
from simulator.experiments.runner import compare
from simulator.model.simulation import simulate

# One chatty container on an idle 4-vCPU node: nothing competes with its log path.
ONE = ["workload.kind=batch", "workload.pods=1", "kubelet.kubeAPIQPS=50", "kubelet.kubeAPIBurst=100",
       "simulation.steadyStateSeconds=60",
       ("workload.templates=[{name: chatty, spec: {containers: [{name: app, image: nginx, "
        "logs: {linesPerSecond: 1000, bytesPerLine: 100}}]}}]")]
CHATTY = ["simulation.steadyStateSeconds=30"]


def _one(extra=(), runtime="containerd", seed=1):
    return simulate(load_scenario("default", ONE + list(extra)), runtime, seed)


def _ev(r, event):
    return r.events[r.events.event == event].sort_values("time")


def _chatty(rate, mode="blocking", runtime="dockershim", extra=()):
    sc = load_scenario("chatty-logs", CHATTY + [f"workload.templates.0.spec.containers.0.logs.linesPerSecond={rate}",
                                                f"logging.dockerLogOpts.mode={mode}"] + list(extra))
    return compare(sc, runtimes=[runtime]).summary()["runtimes"][runtime]["logs"]


# --------------------------------------------------------------------------- nothing new when off
def test_containers_that_write_nothing_cost_nothing_new():
    sc = load_scenario("default", ["workload.pods=6", "simulation.steadyStateSeconds=10"])
    resolved = sc.resolved()
    assert "logging" not in resolved and "containerLogMaxSize" not in resolved["kubelet"]
    assert all("logs" not in c for t in resolved["workload"]["templates"] for c in t["spec"]["containers"])
    r = simulate(sc, "containerd", 1)
    assert r.logs.empty
    assert "logs" not in compare(sc, runtimes=["containerd"]).summary()["runtimes"]["containerd"]
    assert not r.spans.operation.eq("reopen_container_log").any()


# --------------------------------------------------------------------------- rotation, exact times
def test_docker_rotates_at_max_size_at_the_exact_time():
    r = _one(["logging={dockerLogOpts: {max-size: 1m, max-file: 3}}"], runtime="dockershim")
    row = r.logs.iloc[0]
    file_bytes = 100 + load_chain("dockershim").logs.overheadBytesPerLine  # 70 B of JSON per line
    rot = _ev(r, "LogRotated")
    # checked before every write: the file reaches max-size (1 MiB) and is rotated then
    first = row.start + 2**20 / (file_bytes * 1000.0)
    assert rot.time.iloc[0] == pytest.approx(first, abs=1e-9)
    assert np.diff(rot.time.to_numpy()) == pytest.approx(2**20 / (file_bytes * 1000.0), abs=1e-9)
    assert row.largest_file_mb == pytest.approx(2**20 / 1e6, rel=1e-12)  # no overshoot
    # max-file 3: two rotated files kept, the rest removed; every line accounted for
    assert row.retained_mb <= 3 * 2**20 / 1e6 + 1e-9
    retained_lines = row.retained_mb * 1e6 / file_bytes
    assert row.lines_written == pytest.approx(retained_lines + row.removed_lines, rel=1e-9)


def test_docker_max_file_1_truncates():
    r = _one(["logging={dockerLogOpts: {max-size: 1m}}"], runtime="dockershim")
    row = r.logs.iloc[0]
    assert row.rotations >= 2
    assert row.retained_mb == pytest.approx(row.lines_in_current_file * 170 / 1e6)
    assert row.removed_lines == pytest.approx(row.lines_written - row.lines_in_current_file)


@pytest.mark.parametrize("runtime", ["containerd", "crio"])
def test_kubelet_rotates_at_its_first_pass_after_the_file_crosses_the_limit(runtime):
    r = _one(["kubelet.containerLogMaxSize=1Mi"], runtime=runtime)
    row = r.logs.iloc[0]
    file_bytes = 100 + load_chain(runtime).logs.overheadBytesPerLine
    crossing = row.start + 2**20 / (file_bytes * 1000.0)
    spans = r.spans[r.spans.depth == 0]
    status = spans[(spans.operation == "container_status") & (spans.source == "logs")
                   & (spans.pod == row.pod)]
    reopen = spans[spans.operation == "reopen_container_log"].sort_values("start")
    rot = _ev(r, "LogRotated")
    # the log manager's first ContainerStatus to end after the crossing finds the file over
    # containerLogMaxSize (Stat) and rotates at once: ReopenContainerLog starts when it ends, and
    # the file is rotated the moment ReopenContainerLog returns
    first_pass = status[status.end >= crossing].end.min()
    assert reopen.start.iloc[0] == pytest.approx(first_pass, abs=1e-12)
    assert rot.time.iloc[0] == pytest.approx(reopen.end.iloc[0], abs=1e-12)
    assert (status[status.end < crossing].end < crossing).all()
    # it grew past the limit meanwhile: every line written until the reopen is in the old file
    at_rotation = (rot.time.iloc[0] - row.start) * 1000.0 * file_bytes
    assert at_rotation > 2**20
    assert at_rotation - 2**20 <= (10.0 + 1.0) * 1000.0 * file_bytes  # one 10 s pass, plus its calls
    assert f"at {at_rotation / 1e6:.3f} MB" in rot.detail.iloc[0]


def test_dockershim_never_runs_the_kubelets_rotation():
    r = _one(["kubelet.containerLogMaxSize=1Mi"], runtime="dockershim")
    assert r.logs.rotations.sum() == 0  # Docker's default log-opts: no max-size
    assert not r.spans.operation.eq("reopen_container_log").any()


def test_cri_dockerd_fails_every_rotation_at_the_reopen_hop():
    r = _one(["kubelet.containerLogMaxSize=1Mi"], runtime="cri-dockerd")
    fails = _ev(r, "LogRotateFailed")
    assert len(fails) >= 3
    assert set(fails.hop) == {"cri-dockerd: ReopenContainerLog"}
    assert set(fails.detail) == {"docker does not support reopening container log files"}
    assert r.logs.rotations.sum() == 0
    assert np.diff(fails.time.to_numpy()).min() >= 10.0  # one attempt per 10 s pass
    doc = compare(load_scenario("default", ONE + ["kubelet.containerLogMaxSize=1Mi"]),
                  runtimes=["cri-dockerd"]).summary()["runtimes"]["cri-dockerd"]["logs"]
    assert doc["rotation_failures_by_hop"] == {"cri-dockerd: ReopenContainerLog": float(len(fails))}


# --------------------------------------------------------------------------- readers across releases
@pytest.mark.parametrize("version,lost", [("1.28", True), ("1.29", False)])
def test_follower_stops_at_the_kubelets_rotation_before_1_29(version, lost):
    r = _one([f"kubernetesVersion='{version}'", "runtimes=[containerd]", "kubelet.containerLogMaxSize=1Mi",
              "logging={kubectlLogs: {follow: true}}"], runtime="containerd")
    row = r.logs.iloc[0]
    assert row.rotations >= 2
    if lost:
        first = _ev(r, "LogRotated").time.iloc[0]
        assert row.follow_stuck_at == pytest.approx(first)
        assert row.follow_lost_lines == pytest.approx((r.end_time - first) * 1000.0, rel=1e-6)
    else:
        assert row.follow_lost_lines == 0
        assert row.follow_lines == pytest.approx(row.lines_written, rel=0.02)  # a window behind at most


def test_a_docker_follower_survives_dockers_rotations():
    r = _one(["logging={dockerLogOpts: {max-size: 1m, max-file: 2}, kubectlLogs: {follow: true}}"],
             runtime="dockershim")
    assert r.logs.rotations.iloc[0] >= 2 and r.logs.follow_lost_lines.iloc[0] == 0


def test_kubectl_logs_returns_only_the_file_being_written():
    r = _one(["kubelet.containerLogMaxSize=1Mi", "logging={kubectlLogs: {everySeconds: 7}}"])
    row = r.logs.iloc[0]
    assert row.reads >= 5
    assert row.read_lines / row.reads < 2 * 2**20 / 140  # never more than about one file's lines


# --------------------------------------------------------------------------- direction and modes
def test_more_log_lines_never_lower_dockerds_cpu():
    """On a 1-vCPU node, from idle to saturated: dockerd's CPU for logs grows, then levels off at
    its share of the node; it never falls. Runs are deterministic (same seed): the only
    variation is the rate, so the comparison needs no statistical slack."""
    for mode in ("blocking", "non-blocking"):
        cores = [_chatty(rate, mode)["cpu_cores_by_process"]["dockerd"] for rate in (2500, 5000, 10000, 20000, 30000)]
        assert all(b >= a for a, b in zip(cores, cores[1:])), (mode, cores)


def test_blocking_stalls_the_writer_and_non_blocking_drops_lines():
    blocking, lossy = _chatty(20000, "blocking"), _chatty(20000, "non-blocking")
    assert blocking["blocked_share"] > 0.1 and blocking["dropped_lines"] == 0
    assert blocking["lines_produced"] == pytest.approx(blocking["lines_written"], rel=1e-9)
    assert lossy["blocked_seconds"] == 0 and lossy["dropped_share"] > 0.1
    assert lossy["lines_produced"] == pytest.approx(lossy["lines_written"] + lossy["dropped_lines"], rel=1e-9)
    # the app kept writing in non-blocking mode: it produced more than the blocked one could
    assert lossy["lines_produced"] > blocking["lines_produced"]
    # below saturation neither mode loses or blocks anything
    for mode in ("blocking", "non-blocking"):
        calm = _chatty(2500, mode)
        assert calm["blocked_seconds"] == 0 and calm["dropped_lines"] == 0


def test_non_blocking_is_a_docker_option_only():
    doc = _chatty(20000, "non-blocking", runtime="containerd")
    assert doc["dropped_lines"] == 0


# --------------------------------------------------------------------------- agents
def test_an_agent_on_dockers_path_collects_nothing_on_containerd_nodes_counted_per_pool():
    sc = load_scenario("default", [
        "kubelet.kubeAPIQPS=50", "kubelet.kubeAPIBurst=100", "simulation.steadyStateSeconds=20",
        "workload.kind=batch", "workload.pods=4",
        ("workload.templates=[{name: chatty, spec: {containers: [{name: app, image: nginx, "
         "logs: {linesPerSecond: 500}}]}}]"),
        "cluster={pools: [{name: docker, nodes: 1, runtime: dockershim}, {name: ctr, nodes: 1, runtime: containerd}]}",
        "runtimes=[pools]",
        ("logging={agents: [{name: old-fluentd, path: '/var/lib/docker/containers/*/*.log', parser: docker-json}, "
         "{name: fluent-bit, path: '/var/log/containers/*.log'}]}")])
    docs = compare(sc, runtimes=["pools"]).summary()["runtimes"]
    docker, ctr = docs["dockershim"]["logs"], docs["containerd"]["logs"]
    assert docker["agents"]["old-fluentd"]["docker"]["lost_lines"] == 0
    assert docker["agents"]["old-fluentd"]["docker"]["collected_lines"] == pytest.approx(docker["lines_written"])
    assert ctr["agents"]["old-fluentd"]["ctr"]["collected_lines"] == 0
    assert ctr["agents"]["old-fluentd"]["ctr"]["lost_lines"] == pytest.approx(ctr["lines_written"])
    assert "no file matches" in ctr["agents"]["old-fluentd"]["ctr"]["reason"]
    for d, pool in ((docker, "docker"), (ctr, "ctr")):  # the kubelet's symlinks, an auto parser
        assert d["agents"]["fluent-bit"][pool]["lost_lines"] == 0


# --------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("override,field", [
    ("workload.templates.0.spec.containers.0.logs={linesPerSecond: 10, bytesPerLine: 20000}", "bytesPerLine"),
    ("workload.templates.0.spec.containers.0.logs={linesPerSecond: 0}", "linesPerSecond"),
    ("kubelet.containerLogMaxFiles=1", "containerLogMaxFiles"),
    ("kubelet.containerLogMaxSize=10 megs", "containerLogMaxSize"),
    ("logging={dockerLogOpts: {max-size: ten}}", "max-size"),
    ("logging={dockerLogOpts: {mode: lossy}}", "mode"),
    ("logging={agents: [{path: /x, pools: [nope]}]}", "logging.agents[0].pools"),
    ("logging={rotate: true}", "rotate"),
])
def test_bad_log_settings_are_refused_in_one_paragraph(override, field):
    with pytest.raises(ConfigError) as e:
        load_scenario("default", [override])
    msg = str(e.value)
    assert field in msg and "\n" not in msg


# --------------------------------------------------------------------------- table from chain data
def test_the_comparison_table_comes_from_the_chain_data():
    from simulator.presentation.logs import cpu_per_thousand_lines, logs_comparison

    names = ["dockershim", "containerd", "crio", "cri-dockerd"]
    text = logs_comparison(names, markdown=True)
    rows = {line.split(" | ")[0].strip("| "): line for line in text.splitlines()[2:]}
    for name in names:
        spec = load_chain(name).logs
        assert f"{spec.format} (+{spec.overheadBytesPerLine} B)" in rows["format (bytes added per line)"]
        assert spec.writer in rows["written by"]
        for proc, ms in cpu_per_thousand_lines(load_chain(name)).items():
            assert f"{proc} {ms:.2f}" in rows["copy path, CPU ms per 1,000 lines of 200 B"]
    assert "docker does not support reopening container log files" in rows["the kubelet's CRI log rotation"]
    assert rows["a log agent tailing"].count("/var/lib/docker/containers/*/*.log finds nothing") == 2


def test_every_chain_has_a_logs_section_with_declared_processes():
    for name in known_chains():
        spec = load_chain(name).logs
        assert spec is not None, name
        assert spec.processes() <= set(load_chain(name).processes)


def test_logs_summary_is_deterministic_and_json_clean():
    sc = load_scenario("default", ONE + ["logging={kubectlLogs: {follow: true}}"])
    a = compare(sc, runtimes=["crio"], seed=3).summary()
    b = compare(sc, runtimes=["crio"], seed=3).summary()
    assert json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)
    assert a["runtimes"]["crio"]["logs"]["lines_written"] > 0


# --------------------------------------------------------------------------- the figure
def test_log_pipeline_figure_is_1920x1080_deterministic_and_registered(tmp_path):
    import hashlib

    import pandas as pd

    from simulator.presentation.figures import registry
    from simulator.presentation.figures.log_pipeline import log_pipeline
    from simulator.presentation.style import save_figure

    rows = []
    for label, rt, mode, k in (("dockershim", "dockershim", "blocking", 1.0),
                               ("dockershim non-blocking", "dockershim", "non-blocking", 1.0),
                               ("containerd", "containerd", "blocking", 0.7), ("crio", "crio", "blocking", 0.15)):
        for rate in (1000.0, 10000.0, 20000.0):
            rows.append({"series": label, "runtime": rt, "mode": mode, "lines_per_second": rate,
                         "runtime_cpu_cores": k * rate / 40000, "kubelet_cpu_cores": rate / 30000,
                         "blocked_share": 0.4 if (rate > 15000 and mode == "blocking" and rt == "dockershim") else 0.0,
                         "dropped_share": 0.3 if (rate > 15000 and mode == "non-blocking") else 0.0,
                         "largest_file_mb": 10.5 if rt == "dockershim" else 10.5 + rate / 200})
    curve = pd.DataFrame(rows)
    entry = next(e for e in registry.FIGURES if e.name == "log-pipeline")
    digests = []
    for i in range(2):
        png, _svg = save_figure(log_pipeline(curve, title=entry.title, footnote="synthetic"), tmp_path / f"f{i}")
        data = png.read_bytes()
        assert int.from_bytes(data[16:20], "big") == 1920 and int.from_bytes(data[20:24], "big") == 1080
        digests.append(hashlib.sha256(data).hexdigest())
    assert digests[0] == digests[1]


def test_sensitivity_varies_the_reopen_step_only_where_logs_are_written():
    from simulator.experiments.sensitivity import parameters

    chain = load_chain("containerd")
    quiet = {p.name for p in parameters(load_scenario("default"), chain)[0]}
    chatty = {p.name for p in parameters(load_scenario("chatty-logs"), chain)[0]}
    assert "containerd: ReopenContainerLog" not in quiet
    assert "containerd: ReopenContainerLog" in chatty
    assert "workload.templates[*].spec.containers[*].logs.bytesPerLine" in chatty - quiet


# --------------------------------------------------------------------------- conservation under faults
@pytest.mark.parametrize("runtime", ["dockershim", "containerd", "crio", "cri-dockerd"])
def test_every_line_is_accounted_for_through_crashes_restarts_and_daemon_restarts(runtime):
    sc = load_scenario("default", [
        "kubelet.kubeAPIQPS=50", "kubelet.kubeAPIBurst=100", "node.cpuCores=1",
        "workload.kind=interval", "workload.intervalSeconds=1", "workload.pods=6",
        "simulation.horizonSeconds=240", "simulation.steadyStateSeconds=30",
        ("workload.templates=[{name: chatty, spec: {containers: [{name: app, image: nginx, crashAfterSeconds: 25, "
         "crashTimes: 2, logs: {linesPerSecond: 20000, bytesPerLine: 150}}]}}]"),
        "kubelet.containerLogMaxSize=2Mi", "kubelet.containerLogMaxFiles=3",
        ("logging={dockerLogOpts: {max-size: 2m, max-file: 2, mode: non-blocking}, kubectlLogs: {follow: true, "
         "everySeconds: 15}, agents: [{path: '/var/log/containers/*.log', parser: cri}]}"),
        "faults=[{kind: daemonRestart, at: [60]}, {kind: shimCrash, at: [100]}]"])
    r = simulate(sc, runtime, 2)
    df = r.logs
    assert len(df) > 6  # restarted and recreated containers get streams of their own
    assert (df.lines_produced >= 0).all() and (df.blocked_seconds >= 0).all()
    assert np.allclose(df.lines_produced, df.lines_written + df.dropped_lines, rtol=1e-9)
    file_bytes = df.bytes_per_line + load_chain(runtime).logs.overheadBytesPerLine
    assert np.allclose(df.retained_mb * 1e6 / file_bytes + df.removed_lines, df.lines_written, rtol=1e-9)
    # a kubectl logs -f reads every line, misses it (a rotation), or is still behind at the end
    assert np.allclose(df.follow_lines + df.follow_lost_lines + df.follow_behind_lines, df.lines_written, rtol=1e-9)
    agent = df["agent.log-agent.collected"] + df["agent.log-agent.lost"]
    assert np.allclose(agent, df.lines_written, rtol=1e-9)
    ended = df[df.end.notna()]
    assert len(ended) >= 6 and (ended.end >= ended.start).all()
    # a stream ends when its container does: lines stop at the exit
    assert (ended.lines_produced <= (ended.end - ended.start) * ended.lines_per_second * (1 + 1e-9)).all()
