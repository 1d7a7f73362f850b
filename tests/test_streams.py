"""Streaming (issue 9, item 1): kubectl exec / attach / port-forward / logs -f sessions.

The redirect (before 1.11) never carries the stream through the kubelet and the proxy (1.11+)
always does; set-up latency is the exact sum of its hops when every hop's time is constant and
the node idle, and grows with load; more bytes never cost less CPU; the exposed-stream-server
finding appears exactly when the listener is routable; the token cache refuses and expires as
request_cache.go does, each failure named by its hop; bad input is refused in one paragraph; a
scenario without ``streams:`` is untouched (also tests/test_golden.py).
"""

from __future__ import annotations

import math

import pandas as pd
import pytest

from simulator.chains import chain_from_data, load_chain
from simulator.config import ConfigError, StreamsConfig, load_scenario
from simulator.config.streams import streaming_mode
from simulator.config.versions import profile
from simulator.experiments.runner import compare
from simulator.model.simulation import simulate

PAUSE = "workload.templates=[{name: p, spec: {containers: [{name: c, image: pause}]}}]"


def _scenario(*sets: str, streams: str = "{kind: exec, sessionsPerSecond: 2}", pods: int = 4) -> list[str]:
    return [PAUSE, f"workload.pods={pods}", "simulation.steadyStateSeconds=20", f"streams={streams}", *sets]


def _summary(sc, runtime: str, seed: int = 1) -> dict:
    return compare(sc, runtimes=[runtime], seed=seed).summary()["runtimes"][runtime]


# ----------------------------------------------------------------------- release rules
@pytest.mark.parametrize("version,flag,mode", [
    ("1.10", None, "redirect"), ("1.11", None, "proxy"), ("1.11", True, "redirect"),
    ("1.19", True, "redirect"), ("1.19", False, "proxy"), ("1.20", None, "proxy"), ("1.27", None, "proxy")])
def test_the_release_and_the_flag_choose_redirect_or_proxy(version, flag, mode):
    """KEP-1558: redirect only before 1.11; proxy by default 1.11-1.19 with the flag bringing the
    redirect back; proxy only from 1.20."""
    assert streaming_mode(version, flag) == mode


def test_the_change_is_a_versions_row():
    assert [profile(v)["containerStreaming"] for v in ("1.10", "1.11", "1.19", "1.20")] == \
        ["redirect", "proxy-default", "proxy-default", "proxy"]


# ----------------------------------------------------------------------- redirect vs proxy
@pytest.mark.parametrize("runtime", ["dockershim", "containerd"])
def test_the_redirect_never_routes_the_stream_through_the_kubelet(runtime):
    """Before 1.11 the kubelet answers 302 and the apiserver connects to the stream server: no
    byte crosses the kubelet (its process spends no CPU on the data), the stream server's connect
    is the apiserver's call, and the kubelet's only part is the CRI request for the URL."""
    sc = load_scenario("default", _scenario('kubernetesVersion="1.10"',
                                            streams="{kind: exec, sessionsPerSecond: 2, bytesPerSession: 200000}"))
    r = simulate(sc, runtime, 1)
    doc = _summary(sc, runtime)["streams"]
    assert doc["mode"] == "redirect" and not doc["kubelet_proxy_in_path"]
    assert not any(h.startswith("kubelet") for h in doc["path"])
    ok = r.streams[r.streams.outcome == "ok"]
    assert len(ok) > 20
    data = r.stream_hops[r.stream_hops.phase == "data"]
    assert not (data.process == "kubelet").any()
    assert data.groupby("session").mb.max().sum() == pytest.approx(ok.bytes.sum() / 1e6 + _open_mb(r), rel=1e-9)
    connect = r.spans[(r.spans.source == "stream") & (r.spans.depth == 0)
                      & r.spans.operation.str.endswith("_connect")]
    assert len(connect) >= len(ok) and set(connect.caller) == {"kube-apiserver"}


def _open_mb(r) -> float:
    still = r.streams[r.streams.outcome == "open at the end of the run"]
    return float(still.bytes.sum()) / 1e6


@pytest.mark.parametrize("runtime", ["dockershim", "containerd", "crio", "cri-dockerd"])
def test_the_proxy_carries_every_byte_through_the_kubelet(runtime):
    sc = load_scenario("default", _scenario(streams="{kind: exec, sessionsPerSecond: 2, bytesPerSession: 200000}"))
    r = simulate(sc, runtime, 1)
    doc = _summary(sc, runtime)["streams"]
    assert doc["mode"] == "proxy" and doc["kubelet_proxy_in_path"]
    assert doc["path"][-2:] == ["kubelet (proxy)", "kube-apiserver"]
    data = r.stream_hops[r.stream_hops.phase == "data"]
    per_hop = data.groupby("hop").mb.sum()
    # every hop carried the same bytes: the sessions' bytes
    assert per_hop.max() == pytest.approx(per_hop.min()) == pytest.approx(r.streams.bytes.sum() / 1e6)
    connect = r.spans[(r.spans.source == "stream") & (r.spans.depth == 0) & r.spans.operation.str.endswith("_connect")]
    assert len(connect) and set(connect.caller) == {"kubelet"}


# ----------------------------------------------------------------------- set-up latency
def _constant_chain() -> object:
    """containerd's exec with every stream step at a constant time, CPU shares as in the chain."""
    ms = {"exec/Exec": 0.4, "exec_connect/serveExec (token, SPDY streams)": 0.5, "task.Exec": 2.0,
          "Exec (exec process)": 2.0, "process.Start": 1.0, "Start (exec process)": 2.0, "runc exec": 45.0,
          "process.Delete": 1.0, "DeleteProcess": 2.0}
    return chain_from_data({"name": "containerd-constant", "base": "containerd", "title": "t", "era": "",
                            "stepOverrides": {k: {"service": {"dist": "constant", "ms": v}} for k, v in ms.items()}}), ms


def test_setup_latency_is_the_sum_of_the_hops_at_low_load():
    """One session at a time on an idle, wide node: set-up = the apiserver's request CPU and
    latency, TCP + TLS to the kubelet (2 round trips, the handshake's CPU), half a round trip for
    the request, the kubelet's handler, the CRI Exec, then the 101 (half a round trip) and the
    client's streams (one round trip), then the stream server's connect steps, to the microsecond."""
    chain, ms = _constant_chain()
    sc = load_scenario("default", _scenario(
        "node.cpuCores=64", "apiserver.cpuCores=64", "apiserver.requestLatency={dist: constant, ms: 4}",
        "simulation.steadyStateSeconds=60",
        streams="{kind: exec, sessionsPerSecond: 1, sessions: 5, durationSeconds: 0.5}"))
    r = simulate(sc, chain, 1)
    cfg = sc.streams
    rtt = cfg.apiserverToNodeRttMs
    connect = ms["exec_connect/serveExec (token, SPDY streams)"] + ms["task.Exec"] + ms["Exec (exec process)"] \
        + ms["process.Start"] + ms["Start (exec process)"] + ms["runc exec"]
    expected = (cfg.apiserverRequestCpuMs + 4.0 + rtt + cfg.tlsHandshakeCpuMs + rtt + rtt / 2
                + cfg.kubeletHandlerCpuMs + ms["exec/Exec"] + rtt / 2 + rtt + connect) / 1000.0
    ok = r.streams[r.streams.outcome == "ok"]
    assert len(ok) == 5
    assert ok.setup_seconds.tolist() == pytest.approx([expected] * 5, abs=1e-9)
    # the close: process.Delete then the shim's DeleteProcess
    assert ok.close_seconds.tolist() == pytest.approx([(ms["process.Delete"] + ms["DeleteProcess"]) / 1000] * 5,
                                                      abs=1e-9)
    assert ok.data_seconds.tolist() == pytest.approx([0.5] * 5, abs=1e-9)


def test_setup_latency_grows_with_load():
    """On a 2-core node each exec costs ~40 ms of runc CPU alone: 40 sessions/s saturate it and
    set-up waits for the cores; 2 per second do not."""
    p50 = {}
    for rate in (2, 40):
        sc = load_scenario("default", _scenario("node.cpuCores=2", "runtimes=[containerd]",
                                                streams=f"{{kind: exec, sessionsPerSecond: {rate}, durationSeconds: 0.5}}"))
        p50[rate] = _summary(sc, "containerd")["streams"]["setup_seconds"]["p50"]
    # hundreds of sessions at 40/s, ~40 at 2/s: medians apart by far more than their spread
    assert p50[40] > 1.5 * p50[2]


def test_a_docker_exec_sets_up_slower_than_containerd_and_crio():
    """Docker's exec adds a REST hop, two container inspects and exec create/start in dockerd."""
    sc = load_scenario("default", _scenario(streams="{kind: exec, sessionsPerSecond: 2}"))
    p50 = {rt: _summary(sc, rt)["streams"]["setup_seconds"]["p50"] for rt in ("dockershim", "containerd", "crio")}
    assert p50["dockershim"] > p50["containerd"] and p50["dockershim"] > p50["crio"]


def test_dockershim_exec_runtime_part_is_of_the_order_of_real_exec_probes():
    """realdata 1.21 exec_sync (dockershim's inspect + exec create + start + inspect around a
    probe command): mean 96 ms, 75 % of 341,720 calls in the (78, 195] ms bucket. The model's
    Docker calls for one exec (the CRI Exec, the connect and the close: the same calls, no
    command) must not exceed the bucket's top, and with at most 40 ms of probe command on top
    they must reach its bottom: 38 ms < median sum < 195 ms."""
    sc = load_scenario("default", _scenario('kubernetesVersion="1.21"',
                                            streams="{kind: exec, sessionsPerSecond: 1, durationSeconds: 0}"))
    r = simulate(sc, "dockershim", 1)
    ops = r.spans[(r.spans.source == "stream") & (r.spans.depth == 0)]
    medians = (ops.end - ops.start).groupby(ops.operation).median()
    assert set(medians.index) == {"exec", "exec_connect", "exec_close"}
    assert 0.038 < float(medians.sum()) < 0.195, medians


# ----------------------------------------------------------------------- bytes and CPU
def test_more_bytes_never_cost_less_cpu():
    cpu, thr = {}, {}
    for size in (10_000, 1_000_000, 50_000_000):
        sc = load_scenario("default", _scenario("runtimes=[dockershim]",
                                                streams=f"{{kind: exec, sessionsPerSecond: 2, bytesPerSession: {size}}}"))
        r = simulate(sc, "dockershim", 1)
        data = r.stream_hops[r.stream_hops.phase == "data"]
        cpu[size] = data.groupby("hop").cpu_seconds.sum()
        thr[size] = _summary(sc, "dockershim")["streams"]["throughput_mb_per_s"]["p50"]
    sizes = sorted(cpu)
    for a, b in zip(sizes, sizes[1:]):
        assert (cpu[b] >= cpu[a]).all() and cpu[b].sum() > cpu[a].sum()
    # the hops' CPU per MB is the chain's, whatever the size
    per_mb = _summary(load_scenario("default", _scenario(streams="{kind: exec, sessionsPerSecond: 2, bytesPerSession: 1000000}")),
                      "dockershim")["streams"]["cpu_ms_per_mb_by_hop"]
    chain = load_chain("dockershim")
    assert chain.streaming is not None
    for hop in chain.streaming.data_hops("exec"):
        assert per_mb[hop.label] == pytest.approx(hop.cpuMsPerMB)


def test_a_transfer_larger_than_the_cpu_can_copy_in_its_duration_stretches_the_session():
    """50 MB in 1 s at 2.5 ms/MB on the apiserver is 125 ms of CPU: the data phase still lasts
    1 s; 2 GB cannot be copied in 1 s by the slowest hop, so the session outlasts its duration."""
    sc = load_scenario("default", _scenario(streams="{kind: exec, sessionsPerSecond: 0.5, sessions: 3, "
                                            "bytesPerSession: 2000000000, durationSeconds: 1}"))
    r = simulate(sc, "containerd", 1)
    ok = r.streams[r.streams.outcome == "ok"]
    assert len(ok) == 3 and (ok.data_seconds > 1.0).all()
    # the slowest hop (the apiserver, 2.5 ms per MB) bounds the throughput: 2000 MB x 2.5 ms = 5 s
    assert ok.data_seconds.min() >= 5.0 - 1e-9


# ----------------------------------------------------------------------- findings
@pytest.mark.parametrize("runtime,sets,expected", [
    ("containerd", [], None),
    ("containerd", ["streams.streamServerAddress=all-interfaces"], "high"),
    ("containerd", ["streams.streamServerAddress=all-interfaces", "streams.streamServerTLS=true"], "medium"),
    ("crio", [], None),
    ("dockershim", [], None),
    ("cri-dockerd", [], "high"),
    ("cri-dockerd", ["streams.streamServerAddress=localhost"], None),
    ("containerd", ['kubernetesVersion="1.15"'], "high"),  # containerd 1.1's "":10010
    ("dockershim", ['kubernetesVersion="1.10"'], "medium"),  # /cri/ on the kubelet's TLS port
])
def test_the_finding_appears_only_when_the_stream_server_is_exposed(runtime, sets, expected):
    sc = load_scenario("default", _scenario(f"runtimes=[{runtime}]", *sets))
    findings = _summary(sc, runtime)["findings"]
    if expected is None:
        assert findings == []
    else:
        assert [f["id"] for f in findings] == ["stream-server-exposed"]
        assert findings[0]["severity"] == expected and findings[0]["source"]


def test_no_streams_section_no_streams_in_the_summary():
    sc = load_scenario("default", [PAUSE, "workload.pods=3", "simulation.steadyStateSeconds=5"])
    doc = _summary(sc, "containerd")
    assert "streams" not in doc and "findings" not in doc
    assert "streams" not in compare(sc, runtimes=["containerd"]).summary()["scenario"]


# ----------------------------------------------------------------------- failures, by hop
def test_a_redirect_to_a_localhost_stream_server_fails_at_the_apiserver():
    sc = load_scenario("default", _scenario('kubernetesVersion="1.15"', "runtimes=[containerd]",
                                            streams="{kind: exec, sessionsPerSecond: 2, redirectContainerStreaming: true, "
                                            "streamServerAddress: localhost}"))
    doc = _summary(sc, "containerd")
    assert doc["streams"]["ok"] == 0 and doc["streams"]["failed"] > 0
    assert list(doc["streams"]["failures_by_hop"]) == ["kube-apiserver -> containerd stream server"]
    assert [f["id"] for f in doc["findings"]] == ["redirect-to-localhost"]


def _cache_chain(**server) -> object:
    base = load_chain("containerd-1.1").streaming
    assert base is not None
    data = {**base.server.model_dump(), **server}
    return chain_from_data({"name": "ctd-cache", "base": "containerd-1.1", "title": "t", "era": "",
                            "streaming": {"server": data}})


def test_the_token_cache_refuses_over_max_in_flight():
    """request_cache.go: over MaxInFlight unused tokens the CRI call fails (429). With the
    redirect and a slow network, tokens wait a round trip and a half to be used."""
    sc = load_scenario("default", _scenario('kubernetesVersion="1.15"', "streams.apiserverToNodeRttMs=400",
                                            streams="{kind: exec, sessionsPerSecond: 30, redirectContainerStreaming: true}"))
    r = simulate(sc, _cache_chain(maxInFlight=2), 1)
    failed = r.streams[r.streams.failure_hop == "containerd: stream server"]
    assert len(failed) > 0 and set(failed.outcome) == {"too many in-flight streaming requests (429)"}
    assert (r.streams.outcome == "ok").sum() > 0


def test_an_expired_token_is_refused_when_the_stream_arrives():
    sc = load_scenario("default", _scenario('kubernetesVersion="1.15"', "streams.apiserverToNodeRttMs=50",
                                            "streams.redirectContainerStreaming=true"))
    r = simulate(sc, _cache_chain(tokenTTLSeconds=0.01), 1)
    ended = r.streams[r.streams.outcome != "open at the end of the run"]
    assert len(ended) > 20 and set(ended.outcome) == {"streaming request token not found or expired (404)"}
    assert set(ended.failure_hop) == {"containerd: stream server"}


def test_a_runtime_restart_ends_the_streams_it_carries():
    sc = load_scenario("default", _scenario(
        "runtimes=[containerd]", "faults=[{kind: daemonRestart, at: [12], downSeconds: 2}]",
        "simulation.horizonSeconds=40",
        streams="{kind: exec, sessionsPerSecond: 2, durationSeconds: 5, bytesPerSession: 100000}"))
    r = simulate(sc, "containerd", 1)
    hops = set(r.streams.failure_hop) - {""}
    assert "containerd: stream" in hops  # a session whose bytes crossed containerd when it restarted
    assert (r.streams.outcome == "ok").sum() > 0


def test_every_session_ends_with_an_outcome_and_runs_are_deterministic():
    sc = load_scenario("default", _scenario(streams="{kind: portForward, sessionsPerSecond: 5, durationSeconds: 3}"))
    a, b = simulate(sc, "dockershim", 7), simulate(sc, "dockershim", 7)
    pd.testing.assert_frame_equal(a.streams, b.streams)
    pd.testing.assert_frame_equal(a.stream_hops, b.stream_hops)
    assert a.streams.session.tolist() == list(range(len(a.streams)))
    assert a.streams.outcome.notna().all() and (a.streams.outcome != "").all()
    ok = a.streams[a.streams.outcome == "ok"]
    assert not ok.setup_seconds.isna().any() and (ok.total_seconds >= ok.setup_seconds).all()


@pytest.mark.parametrize("kind", ["attach", "portForward", "logsFollow"])
def test_every_kind_runs_on_every_chain(kind):
    for runtime in ("dockershim", "containerd", "crio", "cri-dockerd"):
        sc = load_scenario("default", _scenario(f"runtimes=[{runtime}]",
                                                streams=f"{{kind: {kind}, sessionsPerSecond: 2}}"))
        doc = _summary(sc, runtime)["streams"]
        assert doc["ok"] > 10 and doc["failed"] == 0, (runtime, doc)
        assert not math.isnan(doc["setup_seconds"]["p50"])


def test_logs_follow_never_uses_the_stream_server():
    sc = load_scenario("default", _scenario(streams="{kind: logsFollow, sessionsPerSecond: 2}"))
    r = simulate(sc, "containerd", 1)
    ops = r.spans[(r.spans.source == "stream") & (r.spans.depth == 0)]
    assert len(ops) and (ops.operation == "container_status").all() and (ops.step == "ContainerStatus").all()


# ----------------------------------------------------------------------- bad input
@pytest.mark.parametrize("sets,words", [
    (['kubernetesVersion="1.23"', "streams.redirectContainerStreaming=true"], ["redirectContainerStreaming", "1.20"]),
    (['kubernetesVersion="1.10"', "streams.redirectContainerStreaming=false"], ["redirectContainerStreaming", "1.11"]),
    (["streams.kind=shell"], ["streams.kind", "shell"]),
    (["streams.sessionsPerSecond=0"], ["streams.sessionsPerSecond", "0"]),
    (["streams.targetTemplate=web"], ["targetTemplate", "web"]),
    (["streams.bytesPerSession=-1"], ["streams.bytesPerSession", "-1"]),
    (["streams.streamServerAddress=everywhere"], ["streamServerAddress", "everywhere"]),
    (["streams.redirect=true"], ["streams.redirect", "unknown key"]),
    (["runtimes=[dockershim]", "streams.streamServerAddress=all-interfaces"], ["inside the kubelet"]),
    (["runtimes=[containerd]", "streams.kind=logsFollow", "streams.streamServerTLS=true"], ["logsFollow"]),
])
def test_bad_streams_input_is_refused_in_one_paragraph(sets, words):
    with pytest.raises(ConfigError) as e:
        load_scenario("default", _scenario(*sets))
    text = str(e.value)
    assert "\n" not in text
    for w in words:
        assert w in text, text


def test_a_chain_without_the_kind_is_refused(tmp_path):
    path = tmp_path / "bare.yaml"
    path.write_text("name: bare\nbase: containerd\ntitle: t\ndescription: d\nstreaming: null\n")
    with pytest.raises(ConfigError, match="streams.kind 'exec' is not served"):
        load_scenario("default", _scenario(f"runtimes=[{path}]"))


# ----------------------------------------------------------------------- the figure
def test_the_exec_path_figure_is_16_9_deterministic_and_states_its_takeaway(tmp_path):
    import matplotlib.text

    from simulator.presentation.figures.stream_paths import path_stats, stream_paths
    from simulator.presentation.style import save_figure

    sc = load_scenario("default")
    chains = [load_chain(c) for c in ("dockershim", "containerd", "crio", "cri-dockerd")]
    pngs = []
    for run in ("a", "b"):
        png, _svg = save_figure(stream_paths(chains, sc, footnote="test"), tmp_path / run / "paths")
        pngs.append(png.read_bytes())
    assert pngs[0] == pngs[1]
    assert pngs[0][16:24] == (1920).to_bytes(4, "big") + (1080).to_bytes(4, "big")
    fig = stream_paths(chains, sc)
    text = "\n".join(t.get_text() for t in fig.findobj(matplotlib.text.Text))
    stats = {c.name: path_stats(c, StreamsConfig(sessionsPerSecond=1), sc) for c in chains}
    # the title states the node's CPU per MB of each chain; Docker's path costs the most
    assert f"{stats['dockershim'].node_ms_per_mb:.1f} ms on dockershim/cri-dockerd" in text
    assert stats["dockershim"].node_ms_per_mb > stats["containerd"].node_ms_per_mb > stats["crio"].node_ms_per_mb
    # cri-dockerd's routable listener is flagged, the others' are not
    assert text.count("exposed") == 1 and "0.0.0.0" in text


# ----------------------------------------------------------------------- explain
def test_explain_narrates_the_exec_path_per_chain_and_release(capsys):
    from simulator.cli import main

    assert main(["explain", "dockershim"]) == 0
    text = capsys.readouterr().out
    section = text.split("Streaming: kubectl exec")[1].split("Kubelet behaviour of Kubernetes")[0]
    assert "copies every byte" in section and "302" not in section.split("kubectl exec (exec)")[0]
    for call in ("POST /containers/{id}/exec", "POST /exec/{id}/start (hijacked)", "runc exec",
                 "GET /exec/{id}/json", "nsenter -t <pid> -n socat", "kubelet (proxy) (1.5 ms/MB)"):
        assert call in section, call
    assert main(["explain", "dockershim-1.10", "--set", 'kubernetesVersion="1.10"']) == 0
    old = capsys.readouterr().out.split("Streaming: kubectl exec")[1]
    assert "302" in old and "FINDING" in old and "kubelet (proxy)" not in old.split("kubectl attach")[0]
    for chain, server in (("containerd", "containerd, listening on 127.0.0.1"), ("crio", "crio, listening on 127.0.0.1"),
                          ("cri-dockerd", "cri-dockerd, listening on 0.0.0.0")):
        assert main(["explain", chain]) == 0
        assert server in capsys.readouterr().out


def test_a_session_with_no_running_pod_is_counted_against_the_node_it_would_have_used():
    """Pods deleted 4 s after creation: later sessions find no target; the apiserver answers them
    (404), and they stay in the table and the summary under the node's chain."""
    sc = load_scenario("default", _scenario("workload.kind=churn", "workload.ratePerSecond=1",
                                            "workload.lifetimeSeconds=4", "runtimes=[containerd]", pods=3))
    r = simulate(sc, "containerd", 1)
    none = r.streams[r.streams.outcome == "no running target pod"]
    assert len(none) > 5 and set(none.failure_hop) == {"kube-apiserver"} and set(none.runtime) == {"containerd"}
    doc = _summary(sc, "containerd")["streams"]
    assert doc["failures_by_hop"]["kube-apiserver"] == len(none)
    assert doc["sessions"] == len(r.streams)
