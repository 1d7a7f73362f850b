"""The chains' structure, as the fact sheet describes it."""

import pytest

from simulator.chains import iter_steps, known_chains, load_chain
from simulator.config import ConfigError, load_scenario
from simulator.experiments.runner import compare


@pytest.fixture(scope="module")
def spans():
    sc = load_scenario("default", ["workload.pods=6", "simulation.steadyStateSeconds=2"])
    return compare(sc, runtimes=["dockershim", "containerd", "crio", "cri-dockerd"], seed=5).spans


def _procs(spans, rt, op, source="sync"):
    s = spans[(spans.runtime == rt) & (spans.operation == op) & (spans.source == source)]
    return set(s.process)


def test_dockershim_sandbox_goes_through_docker_containerd_shim_runc(spans):
    procs = _procs(spans, "dockershim", "run_podsandbox")
    assert {"dockershim", "dockerd", "containerd", "containerd-shim", "runc", "cni"} <= procs


def test_containerd_sandbox_never_touches_dockerd(spans):
    procs = set(spans[spans.runtime == "containerd"].process)
    assert "dockerd" not in procs and "dockershim" not in procs
    assert {"containerd", "containerd-shim", "runc", "cni"} <= _procs(spans, "containerd", "run_podsandbox")


def test_cni_runs_in_the_kubelet_only_for_dockershim(spans):
    for rt in ("dockershim", "containerd", "crio", "cri-dockerd"):
        chain = load_chain(rt)
        cni = spans[(spans.runtime == rt) & (spans.process == "cni")]
        assert len(cni) > 0
        # who forks the plugin, and whose cgroup it counts against
        assert set(cni.caller) == {chain.cniCaller}
        group = chain.processes["cni"].group
        assert group == ("kubelet" if rt == "dockershim" else "runtime"), rt


def test_dockershim_sandbox_starts_container_before_cni(spans):
    s = spans[(spans.runtime == "dockershim") & (spans.operation == "run_podsandbox") & (spans.source == "sync")]
    pod = s.pod.iloc[0]
    s = s[s.pod == pod]
    start = s[s.step.str.startswith("POST /containers/{id}/start")].start.min()
    cni = s[s.step == "CNI ADD pod network"].start.min()
    assert start < cni
    c = spans[(spans.runtime == "containerd") & (spans.operation == "run_podsandbox") & (spans.pod == pod)]
    assert c[c.step == "CNI ADD pod network"].start.min() < c[c.step == "task.Start"].start.min()


def test_status_calls_cost_more_through_dockershim(spans):
    def mean(rt, op):
        s = spans[(spans.runtime == rt) & (spans.operation == op) & (spans.depth == 0)]
        return (s.end - s.start).mean()

    for op in ("podsandbox_status", "container_status", "list_containers"):
        assert mean("dockershim", op) > 3 * mean("containerd", op), op
    nsenter = spans[(spans.runtime == "dockershim") & (spans.operation == "podsandbox_status")]
    assert "nsenter" in set(nsenter.process)


def test_shims_per_container_vs_per_pod(spans):
    def spawned(rt):
        return spans[(spans.runtime == rt) & spans.step.str.contains("shim-runc-v2 start$", regex=True)]

    d = spawned("dockershim")
    c = spawned("containerd")
    # Docker: one new shim per container and per sandbox; containerd: one per pod
    assert d.groupby("pod").size().min() >= 2
    assert (c.groupby("pod").size() == 1).all()


def test_every_builtin_chain_loads_and_cites_every_step():
    for name in known_chains():
        chain = load_chain(name)
        for op in chain.operations.values():
            for step in iter_steps(op.steps):
                assert len(step.source) > 5, (name, step.name)
        for proc in chain.processes.values():
            assert len(proc.source) > 5


def test_unknown_chain_is_refused():
    with pytest.raises(ConfigError, match="unknown runtime 'podman'"):
        load_chain("podman")


def test_one_shim_start_per_task(spans):
    """Each task (sandbox or container) execs the shim binary exactly once: a new shim for the
    pod's first task, a 'start' that returns the running shim for the others (facts §3.3)."""
    s = spans[(spans.runtime == "containerd") & (spans.source == "sync")]
    starts = s[s.step.str.startswith("exec containerd-shim-runc-v2 start")].groupby("pod").size()
    tasks = s[(s.depth == 0) & s.operation.isin(["run_podsandbox", "start_container"])].groupby("pod").size()
    assert starts.equals(tasks)
