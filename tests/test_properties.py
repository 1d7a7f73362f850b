"""Property tests: random valid scenarios, faults included, on every chain and chain files.

Hypothesis draws a scenario (node size, kubelet settings, images, pod templates, every workload
kind, 0-3 faults of every kind whose step names come from the chain itself, sometimes a small
multi-node cluster, sometimes a chain file derived from a built-in chain with edited steps, run
by its path), loads it through ``load_scenario("default", overrides)`` exactly as ``kubesim
--set`` would, runs ``simulate`` and checks invariants that must hold for *every* run:
conservation of pods (each running, failed with a reason and a hop, pending with
a reason, or terminating), closed and nested spans, ordered pod milestones, attributed errors,
labels (a chain file's runs carry its path) and determinism (same seed twice: identical frames).
When a property fails, the note printed by Hypothesis is the override list, the files and the
call that reproduce it:

    load_scenario("default", OVERRIDES)  ->  simulate(scenario, RUNTIME, SEED)

Examples are random (not derandomized), so every ``make test`` explores new scenarios. The
Hypothesis settings profile comes from ``KUBESIM_HYPOTHESIS_PROFILE`` (tests/conftest.py): ``ci``
(default, 300 + 50 examples), ``soak`` (``make soak``, 5,000 + 833) or ``repro`` (derandomized).
Trace CSVs and chain files are written under pytest's temporary folder, never the system's.

The end of the file holds the bugs these properties found, reduced to minimal scenarios, as
regression tests. (While a bug is open, mark its test ``xfail(strict=True)`` and exempt exactly
the runs it explains in the properties, so that the fix is noticed and the exemption removed.)
"""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import event, given, note, settings
from hypothesis import strategies as st

from simulator.chains import iter_steps, load_chain
from simulator.config import load_scenario
from simulator.model.simulation import simulate

RUNTIMES = ["dockershim", "containerd", "crio", "cri-dockerd"]
OUTCOMES = {"running", "failed", "pending", "terminating"}
MILESTONES = ["created", "scheduled", "kubelet_seen", "sandbox_ready", "containers_started", "running_observed"]
EPS = 1e-9

# (operation, step name, process) of every step of every chain, as the faults match them
STEPS = {
    rt: [(op, s.name, s.process) for op, o in load_chain(rt).operations.items() for s in iter_steps(o.steps)]
    for rt in RUNTIMES
}

DIR = "@DIR@"  # replaced by the session's folder for generated files (trace CSVs, chain files)
# the determinism property draws a sixth as many examples as the profile's (at least 10)
_DETERMINISM = max(10, settings().max_examples // 6)


@pytest.fixture(scope="session")
def files_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("kubesim-properties")


@st.composite
def _chain_file(draw, base: str, files: dict[str, str]) -> str:
    """A chain file derived from ``base`` (sometimes with slower or faster steps), by path."""
    doc: dict = {"base": base, "name": draw(st.sampled_from([base, f"{base}-copy"]))}
    if draw(st.booleans()):
        names = sorted({name for _op, name, _proc in STEPS[base]})
        edits = draw(st.lists(st.sampled_from(names), min_size=1, max_size=3, unique=True))
        doc["stepOverrides"] = {}
        for name in edits:
            median = draw(_f(0.1, 50))
            doc["stepOverrides"][name] = {"service": {"dist": "lognormal", "medianMs": median,
                                                      "p90Ms": round(median * 2.5, 3)}}
    text = json.dumps(doc, indent=1) + "\n"  # JSON is YAML
    name = f"chain-{hashlib.sha1(text.encode()).hexdigest()[:12]}.yaml"
    files[name] = text
    return f"{DIR}/{name}"


# =========================================================================== strategies
def _f(lo: float, hi: float, places: int = 2):
    """A float in [lo, hi], rounded so that reproductions read well."""
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False).map(lambda x: round(x, places)).filter(
        lambda x: lo <= x <= hi)


@st.composite
def _container(draw, name: str, images: list[str], init: bool) -> dict:
    c = {"name": name, "image": draw(st.sampled_from(images))}
    if init:
        c["runSeconds"] = draw(_f(0, 3))
    else:
        crash = draw(st.none() | _f(0.5, 5))
        if crash is not None:
            c["crashAfterSeconds"] = crash
            times = draw(st.none() | st.integers(1, 3))
            if times is not None:
                c["crashTimes"] = times
    if draw(st.booleans()):
        c["terminationSeconds"] = draw(_f(0, 3))
    return c


@st.composite
def _template(draw, name: str, images: list[str], selectors: list[dict]) -> dict:
    n_init = draw(st.integers(0, 2))
    n_main = draw(st.integers(1, 2))
    spec = {
        "initContainers": [draw(_container(f"init{i}", images, True)) for i in range(n_init)],
        "containers": [draw(_container(f"main{i}", images, False)) for i in range(n_main)],
        "hostNetwork": draw(st.booleans()),
        "automountServiceAccountToken": draw(st.booleans()),
    }
    if draw(st.booleans()):
        spec["terminationGracePeriodSeconds"] = draw(_f(0, 30))
    if selectors and draw(st.integers(0, 3)) == 0:
        spec["nodeSelector"] = draw(st.sampled_from(selectors))
    return {"name": name, "weight": draw(_f(0.5, 3)), "spec": spec}


def _times(horizon: float):
    return st.lists(_f(0, horizon, 1), min_size=1, max_size=2)


@st.composite
def _fault(draw, steps: list[tuple[str, str, str]], horizon: float, targets: list[str]) -> dict:
    kind = draw(st.sampled_from(["daemonRestart", "shimCrash", "stepError", "slowStep", "registry", "cniIpLeak",
                                 "stopError", "nodeReboot"]))
    f: dict = {"kind": kind}
    if kind == "stopError":
        f["mode"] = draw(st.sampled_from(["notFound", "cniDelFailing", "shimUnresponsive"]))
        f["probability"] = draw(st.sampled_from([0.0, 1.0]) | _f(0, 1))
        if draw(st.booleans()):
            f["until"] = draw(_f(1, horizon, 1))
        if f["mode"] == "notFound" and draw(st.booleans()):
            f["notFoundIsSuccess"] = draw(st.booleans())
    elif kind == "nodeReboot":
        f["at"] = draw(_times(horizon))
        f["clean"] = draw(st.booleans())
        f["bootSeconds"] = draw(_f(0, 60, 1))
        if draw(st.booleans()):
            f["removeImageAfterSeconds"] = draw(_f(0, horizon, 1))
        f["symptom"] = draw(st.sampled_from(["startError", "crash"]))
    elif kind in ("daemonRestart", "shimCrash"):
        when = draw(st.sampled_from(["at", "every", "rate"]))
        if when == "at":
            f["at"] = draw(_times(horizon))
        elif when == "every":
            f["every"] = draw(_f(5, max(5.0, horizon), 1))
            f["start"] = draw(_f(0, horizon, 1))
        else:
            f["ratePerHour"] = draw(_f(10, 600, 0))
        if draw(st.booleans()):
            f["until"] = draw(_f(1, horizon, 1))
        if kind == "daemonRestart":
            f["daemon"] = draw(st.sampled_from(["runtime", "dockerd", "containerd", "crio"]))
            f["downSeconds"] = draw(_f(0, 20, 1))
            f["liveRestore"] = draw(st.booleans())
    else:
        # per-visit faults: mostly rare, sometimes certain
        f["probability"] = draw(st.sampled_from([0.0, 1.0]) | _f(0, 1) | _f(0, 0.2))
        if draw(st.integers(0, 3)) == 0:
            f["loadSlope"] = draw(_f(0, 0.1, 3))
        op, step, process = draw(st.sampled_from(steps))
        if kind == "stepError":
            which = draw(st.sets(st.sampled_from(["operation", "step", "process"]), min_size=1))
            if "operation" in which:
                f["operation"] = op
            if "step" in which:
                f["step"] = step
            if "process" in which:
                f["process"] = process
            f["reason"] = draw(st.sampled_from(["injected error", "rpc error: code = Unknown", "EIO"]))
        elif kind == "slowStep":
            f["step"] = step
            if draw(st.booleans()):
                f["process"] = process
            f["extraSeconds"] = draw(_f(0.1, 10))
            if draw(st.integers(0, 3)) == 0:
                f["container"] = "main0"
        elif kind == "registry":
            if draw(st.booleans()):
                f["slowdown"] = draw(_f(1, 5))
            f["reason"] = draw(st.sampled_from(["500 Internal Server Error", "429 toomanyrequests"]))
    if targets and draw(st.integers(0, 3)) == 0:
        f["nodes"] = draw(st.lists(st.sampled_from(targets), min_size=1, max_size=2, unique=True))
    return f


@st.composite
def scenarios(draw, allow_cluster: bool = True):
    """(overrides, runtime, seed, info) for one valid scenario."""
    horizon = draw(_f(20, 150, 1))  # tiny scenarios: hundreds of examples per `make test`
    cluster = allow_cluster and draw(st.integers(0, 4)) == 0
    ov: dict[str, object] = {}

    # ---- node, kubelet, control plane
    ov["node"] = {"cpuCores": draw(_f(0.5, 8)), "memoryGiB": 16,
                  "unsyncedLayerLossProbability": draw(st.sampled_from([0.0, 1.0]) | _f(0, 1))}
    serial = draw(st.booleans())
    kubelet = {
        "kubeAPIQPS": draw(_f(1, 100)),
        "kubeAPIBurst": draw(st.integers(0, 100)),
        "serializeImagePulls": serial,
        "registryPullQPS": draw(_f(0, 10)),
        "registryBurst": draw(st.integers(0, 10)),
        "maxPods": draw(st.sampled_from([110]) | st.integers(1, 30)),
        "runtimeRequestTimeout": draw(st.sampled_from(["2m", "2m", "10s", "2s"])),
    }
    if not serial and draw(st.booleans()):
        kubelet["maxParallelImagePulls"] = draw(st.integers(1, 5))
    ov["kubelet"] = kubelet
    ov["scheduler"] = {"enabled": draw(st.booleans())}
    cni = {"ipRangeSize": draw(st.sampled_from([254]) | st.integers(1, 30))}
    ov["cni"] = cni

    # ---- images
    images = {"pause": {"sizeMB": 0.3, "layers": 1, "prePulled": draw(st.booleans() | st.just(True))}}
    for i in range(draw(st.integers(1, 3))):
        images[f"img{i}"] = {"sizeMB": draw(_f(1, 200, 1)), "layers": draw(st.integers(1, 10)),
                             "prePulled": draw(st.booleans())}
    ov["images"] = images
    app_images = [k for k in images if k != "pause"]

    # ---- cluster (each chain sometimes a chain file derived from a built-in chain)
    files: dict[str, str] = {}
    base_of: dict[str, str] = {}

    def chain_label() -> str:
        base = draw(st.sampled_from(RUNTIMES))
        label = draw(_chain_file(base, files)) if draw(st.integers(0, 3)) == 0 else base
        base_of[label] = base
        return label

    runtime = chain_label()
    selectors: list[dict] = []
    targets: list[str] = []
    chains = [runtime]
    if cluster:
        pools = [{"name": "a", "nodes": draw(st.integers(1, 2)), "runtime": chain_label(),
                  "labels": {"rt": "a"}},
                 {"name": "b", "nodes": 1, "runtime": chain_label(), "labels": {"rt": "b"}}]
        if draw(st.booleans()):
            pools[1]["node"] = {"cpuCores": draw(_f(0.5, 8))}
        ov["cluster"] = {"pools": pools}
        runtime = draw(st.sampled_from(["pools", "pools", runtime]))
        chains = [p["runtime"] for p in pools] if runtime == "pools" else [runtime]
        selectors = [{"rt": "a"}, {"rt": "b"}, {"rt": "nowhere"}]
        targets = ["a", "b", "a-1", "b-1"]

    # ---- workload
    n_templates = draw(st.integers(1, 2))
    templates = [draw(_template(f"t{i}", app_images, selectors)) for i in range(n_templates)]
    kind = draw(st.sampled_from(["batch", "interval", "poisson", "deployment", "churn", "trace"]))
    pods = draw(st.integers(1, 12))
    w: dict = {"kind": kind, "pods": pods, "templates": templates}
    if kind == "interval":
        w["intervalSeconds"] = draw(_f(0.05, 5))
    elif kind in ("poisson", "churn"):
        w["ratePerSecond"] = draw(_f(0.1, 5))
        if kind == "churn":
            w["lifetimeSeconds"] = draw(_f(1, 120, 1))
    elif kind == "deployment":
        w["controllerQPS"] = draw(_f(1, 50))
        if draw(st.integers(0, 3)) == 0:
            w["rolloutFrom"] = draw(st.integers(1, 4))
    elif kind == "trace":
        rows = draw(st.lists(st.tuples(_f(0, horizon, 1), st.sampled_from([t["name"] for t in templates]),
                                       st.none() | _f(1, 120, 1),
                                       st.none() | st.sampled_from(app_images)),
                             min_size=1, max_size=pods))
        lines = ["time,template,lifetime,image"] + [
            f"{t},{tpl},{'' if life is None else life},{'' if img is None else img}" for t, tpl, life, img in rows]
        text = "\n".join(lines) + "\n"
        name = f"trace-{hashlib.sha1(text.encode()).hexdigest()[:12]}.csv"
        files[name] = text
        w["traceFile"] = f"{DIR}/{name}"
        w["pods"] = len(rows)
    if kind != "trace" and draw(st.integers(0, 4)) == 0:
        # exact counts per template (interleaved)
        counts = [pods // n_templates + (1 if i < pods % n_templates else 0) for i in range(n_templates)]
        for t, c in zip(templates, counts):
            t["count"] = c
    ov["workload"] = w

    # the scenario names the chains it runs on, so that faults naming their steps are accepted
    ov["runtimes"] = sorted(set(chains) - {"pools"}) or ["containerd"]
    # maxParallelImagePulls exists from 1.27, where the in-tree dockershim no longer does
    if "maxParallelImagePulls" in kubelet:
        named = set(chains) | {p["runtime"] for p in ov.get("cluster", {}).get("pools", [])}
        if any(load_chain(base_of[c]).family == "dockershim" for c in named - {"pools"}):
            del kubelet["maxParallelImagePulls"]
        else:
            ov["kubernetesVersion"] = "1.27"
            ov["runtimes"] = sorted(set(chains) - {"pools"}) or ["containerd"]

    # ---- faults
    steps = sorted({s for rt in chains for s in STEPS[base_of[rt]]})
    ov["faults"] = draw(st.lists(_fault(steps, horizon, targets), max_size=3))
    ov["simulation"] = {"horizonSeconds": horizon, "steadyStateSeconds": draw(_f(0, 10, 1))}

    overrides = [f"{k}={json.dumps(v)}" for k, v in ov.items()]
    seed = draw(st.integers(0, 2**31 - 1))
    return overrides, runtime, seed, w, files


def _materialize(case, folder: Path):
    """Write the case's files into ``folder`` and put their paths into its overrides."""
    overrides, runtime, seed, w, files = case
    for name, text in files.items():
        path = folder / name
        if not path.exists():
            path.write_text(text, encoding="utf-8")
        note(f"file {path}:\n{text}")
    real = str(folder)
    w = json.loads(json.dumps(w).replace(DIR, real))
    return [o.replace(DIR, real) for o in overrides], runtime.replace(DIR, real), seed, w


def _run(overrides: list[str], runtime: str, seed: int):
    note(f"overrides = {overrides!r}")
    note(f"runtime = {runtime!r}, seed = {seed}")
    # the scenario names the chain it runs on, so that its faults are checked against that chain
    scenario = load_scenario("default", overrides + [f"runtimes={json.dumps([runtime])}"])
    return scenario, simulate(scenario, runtime, seed)


# =========================================================================== properties
def check_pods(result, w: dict, horizon: float, runs_to_horizon: bool) -> None:
    pods = result.pods
    names = list(pods["pod"])
    # every pod the workload created is listed exactly once, named in creation order
    assert len(names) == len(set(names)), f"duplicate pods: {pd.Series(names)[pd.Series(names).duplicated()].tolist()}"
    assert sorted(names) == [f"pod-{i:05d}" for i in range(len(names))], "pod names are not 0..n-1"
    # ... and nothing the nodes did names a pod the table lacks
    for frame in (result.spans, result.events):
        stray = set(frame["pod"]) - set(names) - {""}
        assert not stray, f"pods in spans/events but not in the pods table: {sorted(stray)[:5]}"
    n = len(names)
    end = result.end_time
    kind = w["kind"]
    if kind == "batch":
        assert n == w["pods"]
    elif kind == "interval":
        t = np.arange(w["pods"]) * w["intervalSeconds"]
        assert int((t < end - 1e-6).sum()) <= n <= int((t <= end + 1e-6).sum())
    elif kind == "trace":
        t = np.array(sorted(pd.read_csv(w["traceFile"])["time"]))
        assert int((t < end - 1e-6).sum()) <= n <= int((t <= end + 1e-6).sum())
    elif kind == "deployment" and w.get("rolloutFrom"):
        assert n >= min(1, w["rolloutFrom"])
    else:  # poisson, churn, deployment without a roll-out: at most `pods`, all of them once settled
        assert n <= w["pods"]
        if not runs_to_horizon and result.settle_time < horizon - 1e-9:
            assert n == w["pods"], f"settled at {result.settle_time} with {n} of {w['pods']} pods created"

    assert set(pods.outcome) <= OUTCOMES, set(pods.outcome)
    failed = pods[pods.outcome == "failed"]
    assert (failed.failure_reason.str.len() > 0).all(), failed[["pod", "failure_hop", "failure_reason"]]
    assert (failed.failure_hop.str.len() > 0).all(), failed[["pod", "failure_hop", "failure_reason"]]
    pending = pods[pods.outcome == "pending"]
    assert (pending.failure_reason.str.len() > 0).all(), pending[["pod", "failure_hop", "failure_reason"]]
    terminating = pods[pods.outcome == "terminating"]
    assert (terminating.failure_reason.str.len() > 0).all(), terminating[["pod", "failure_hop", "failure_reason"]]
    assert (terminating.failure_hop.str.len() > 0).all(), terminating[["pod", "failure_hop", "failure_reason"]]
    # a running pod went through every milestone
    running = pods[pods.outcome == "running"]
    for m in MILESTONES:
        bad = running[running[m].isna()]
        assert bad.empty, f"running pods without {m}:\n{bad[['pod'] + MILESTONES].to_string()}"

    # milestones in order wherever both are present
    for i, a in enumerate(MILESTONES):
        for b in MILESTONES[i + 1:]:
            both = pods[a].notna() & pods[b].notna()
            bad = pods[both & (pods[a] > pods[b] + EPS)]
            assert bad.empty, f"{a} after {b}:\n{bad[['pod', 'outcome'] + MILESTONES].to_string()}"
    both = pods.pod_startup.notna() & pods.pod_startup_total.notna()
    bad = pods[both & (pods.pod_startup > pods.pod_startup_total + EPS)]
    assert bad.empty, bad[["pod", "pod_startup", "pod_startup_total", "image_pull_seconds"]]
    assert (pods.image_pull_seconds >= -EPS).all()


def check_spans(result) -> None:
    s = result.spans
    if s.empty:
        return
    start, end, queued = s.start.to_numpy(float), s.end.to_numpy(float), s.queued.to_numpy(float)
    assert np.isfinite(start).all() and np.isfinite(end).all() and np.isfinite(queued).all()
    bad = s[start > end]
    assert bad.empty, f"spans ending before they start:\n{bad.head().to_string()}"
    bad = s[(queued < -EPS) | (queued > end - start + EPS)]
    assert bad.empty, f"queued outside [0, duration]:\n{bad.head().to_string()}"
    bad = s[end > result.end_time + EPS]
    assert bad.empty, f"spans ending after the run's end {result.end_time}:\n{bad.head().to_string()}"
    roots = s[s.depth == 0]
    assert (roots.parent_id == -1).all(), roots[roots.parent_id != -1].head().to_string()
    assert (s[s.parent_id == -1].depth == 0).all()
    for (rt, node), grp in s.groupby(["runtime", "node"], sort=False):
        assert grp.span_id.is_unique, f"{rt}/{node}: repeated span ids"
        by_id = grp.set_index("span_id")
        children = grp[grp.parent_id != -1]
        missing = ~children.parent_id.isin(by_id.index)
        assert not missing.any(), (f"{rt}/{node}: spans whose parent was never recorded:\n"
                                   f"{children[missing].head().to_string()}")
        parents = by_id.loc[children.parent_id]
        ok_start = children.start.to_numpy() >= parents.start.to_numpy() - EPS
        ok_end = children.end.to_numpy() <= parents.end.to_numpy() + EPS
        ok_depth = children.depth.to_numpy() == parents.depth.to_numpy() + 1
        ok_pod = children.pod.to_numpy() == parents.pod.to_numpy()
        for ok, what in ((ok_start, "starts before"), (ok_end, "ends after"), (ok_depth, "depth is not 1 + that of"),
                         (ok_pod, "names another pod than")):
            if not ok.all():
                i = int(np.flatnonzero(~ok)[0])
                raise AssertionError(f"{rt}/{node}: a span {what} its parent:\n"
                                     f"child  {children.iloc[i].to_dict()}\nparent {parents.iloc[i].to_dict()}")


def check_events(result) -> None:
    ev = result.events
    for kind in ("SyncError", "Failed"):
        e = ev[ev.event == kind]
        bad = e[(e.hop.astype(str).str.len() == 0) | (e.detail.astype(str).str.len() == 0)]
        assert bad.empty, f"{kind} events without hop or reason:\n{bad.head().to_string()}"
    assert (ev.time.to_numpy(float) <= result.end_time + EPS).all()


def check_labels(result, scenario, runtime: str) -> None:
    """Every pod that reached a node carries the label of the chain it ran on: the runtime run
    (a chain file's path, never its ``name:``), or with 'pools' a pool's runtime."""
    if runtime == "pools":
        allowed = {p.runtime for p in scenario.cluster.pools}
    else:
        allowed = {runtime}
    labels = set(result.pods.runtime.dropna()) - {"", "unscheduled"}
    assert labels <= allowed, (labels, allowed)
    assert set(result.chains) <= allowed, (set(result.chains), allowed)


# =========================================================================== tests
@given(scenarios())
def test_invariants_hold_for_random_scenarios(files_dir, case):
    overrides, runtime, seed, w = _materialize(case, files_dir)
    scenario, result = _run(overrides, runtime, seed)
    event(f"workload {w['kind']}")
    event(f"runtime {'chain file' if runtime.endswith('.yaml') else runtime}")
    for f in scenario.faults:
        event(f"fault {f.kind}")
    for o in sorted(set(result.pods.outcome)):
        event(f"some pods {o}")
    if (result.events.event == "SyncError").any():
        event("sync errors")
    assert result.end_time <= scenario.simulation.horizonSeconds + scenario.simulation.steadyStateSeconds + EPS
    timed = any(f.kind in ("daemonRestart", "shimCrash", "nodeReboot") for f in scenario.faults)
    check_pods(result, w, scenario.simulation.horizonSeconds, runs_to_horizon=timed)
    check_spans(result)
    check_events(result)
    check_labels(result, scenario, runtime)


@settings(max_examples=_DETERMINISM)
@given(scenarios())
def test_same_scenario_and_seed_give_the_same_run(files_dir, case):
    overrides, runtime, seed, _w = _materialize(case, files_dir)
    scenario, first = _run(overrides, runtime, seed)
    second = simulate(scenario, runtime, seed)
    pd.testing.assert_frame_equal(first.pods, second.pods)
    pd.testing.assert_frame_equal(first.events, second.events)
    pd.testing.assert_frame_equal(first.spans, second.spans)
    assert first.end_time == second.end_time


# =========================================================================== bugs found (all fixed)
def test_regression_containers_started_before_running_observed_after_an_early_crash():
    """Found by the properties (fixed): a container that crashed before the pod's last container
    first started left containers_started after running_observed (negative run_to_watch)."""
    r = simulate(load_scenario("default", [
        'workload={"kind": "batch", "pods": 1, "templates": [{"name": "t", "spec": {"containers": '
        '[{"name": "a", "image": "nginx", "crashAfterSeconds": 0.5}, {"name": "b", "image": "app"}]}}]}',
        "node.cpuCores=0.5", "simulation.horizonSeconds=60", "simulation.steadyStateSeconds=30"]),
        "dockershim", 1)
    p = r.pods.iloc[0]
    assert p.outcome == "running"
    assert p.containers_started <= p.running_observed, (p.containers_started, p.running_observed)


def test_regression_no_orphan_spans_when_the_run_stops_mid_operation():
    """Found by the properties (fixed): steps of a CRI operation still open when the run stopped
    were recorded without their parent span."""
    r = simulate(load_scenario("default", [
        'workload={"kind": "batch", "pods": 1, "templates": [{"name": "t", "spec": {"containers": '
        '[{"name": "a", "image": "nginx", "crashAfterSeconds": 1.0}]}}]}',
        "simulation.horizonSeconds=30", "simulation.steadyStateSeconds=0"]), "dockershim", 0)
    s = r.spans
    orphans = s[(s.parent_id != -1) & ~s.parent_id.isin(s.span_id)]
    assert orphans.empty, orphans.to_string()


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_regression_sandbox_ready_stamped_after_a_run_podsandbox_deadline(runtime):
    """Found by the properties (fixed): a pod whose RunPodSandbox exceeded the kubelet's deadline
    but completed in the runtime ran without sandbox_ready (and without a SandboxReady event)."""
    r = simulate(load_scenario("default", [
        "workload.kind=batch", "workload.pods=1",
        "workload.templates=[{name: web, spec: {containers: [{name: c, image: nginx}]}}]",
        "kubelet.runtimeRequestTimeout=2s", "faults=[{kind: slowStep, step: RunPodSandbox, extraSeconds: 5}]",
        "simulation.horizonSeconds=60", "simulation.steadyStateSeconds=0"]), runtime, 1)
    p = r.pods.iloc[0]
    assert p.outcome == "running"
    assert not math.isnan(p.sandbox_ready)
    assert p.sandbox_ready <= p.containers_started
    assert (r.events[r.events.pod == p.pod].event == "SandboxReady").any()


def test_regression_no_folder_left_in_the_system_temp_dir(tmp_path):
    """Before the fix, importing this module made a ``kubesim-properties-*`` folder in the
    system's temporary directory that nothing removed; files now go under pytest's tmp_path."""
    import subprocess
    import sys

    system_tmp = tmp_path / "system-tmp"
    system_tmp.mkdir()
    root = Path(__file__).resolve().parents[1]
    env = {"PATH": "/usr/bin:/bin", "TMPDIR": str(system_tmp), "PYTHONPATH": str(root), "MPLBACKEND": "Agg"}
    subprocess.run([sys.executable, "-c", "import tests.test_properties"], cwd=root, env=env, check=True)
    assert not list(system_tmp.iterdir())
