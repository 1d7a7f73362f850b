"""``simulation.backgroundWork``: the periodic background work of unsampled nodes simulated event by
event or charged in closed form (model/kubelet/background.py, docs/model/background-work.md)."""

import numpy as np
import pytest

from simulator.config import load_scenario
from simulator.errors import ConfigError
from simulator.experiments.runner import compare
from simulator.model.simulation import _Sim

# cluster-density-5000 on 10 nodes, every node unsampled (so the closed form applies to all of
# them), pods arriving for 400 s: each node ends with 40 pods, and the pods that already run
# resync about every 75 s while later ones start, so the resyncs the closed form skips overlap
# pod start-up.
SMALL = ["workload.pods=400", "cluster.pools.0.nodes=10", "workload.intervalSeconds=1",
         "simulation.probeNodesPerPool=0", "simulation.steadyStateSeconds=0"]
CLOSED = ["simulation.backgroundWork=closed-form"]
SIMULATED = ["simulation.backgroundWork=simulated"]  # the preset itself has closed-form


def test_preset_uses_the_closed_form_and_the_default_is_simulated():
    assert load_scenario("cluster-density-5000").simulation.backgroundWork == "closed-form"
    assert load_scenario("cluster-density-100").simulation.backgroundWork == "simulated"


def test_bad_value_is_refused_with_the_allowed_ones():
    with pytest.raises(ConfigError) as e:
        load_scenario("cluster-density-5000", ["simulation.backgroundWork=approximate"])
    msg = str(e.value)
    assert "simulation.backgroundWork" in msg and "approximate" in msg
    assert "'simulated'" in msg and "'closed-form'" in msg


def _kubelet_cpu_and_syncs(overrides: list[str]) -> tuple[float, int, int]:
    sim = _Sim(load_scenario("cluster-density-5000", SMALL + overrides), "containerd", 1, 0)
    sim.run()
    for n in sim.nodes:
        n.kubelet.settle_background()
    cpu = sum(n.cpu.totals().get("kubelet", 0.0) for n in sim.nodes)
    syncs = sum(p.syncs for p in sim.workload.pods)
    resting = sum(n.kubelet.workers.resting.resting for n in sim.nodes if n.kubelet.workers.resting)
    return cpu, syncs, resting


def test_closed_form_skips_resyncs_and_charges_their_cpu():
    """The closed form simulates far fewer syncs, and the kubelet CPU it charges for the ones it
    skips (and for the status manager's batches) keeps the node's kubelet CPU where the full
    simulation has it (``settle_background`` charges the rests still open at the end)."""
    cpu_sim, syncs_sim, _ = _kubelet_cpu_and_syncs(SIMULATED)
    cpu_cf, syncs_cf, resting = _kubelet_cpu_and_syncs(CLOSED)
    sc = load_scenario("cluster-density-5000", SMALL + SIMULATED)
    assert syncs_cf < 0.8 * syncs_sim, (syncs_cf, syncs_sim)
    assert resting > 0
    # what the skipped syncs cost in the full simulation: syncMs each
    skipped_cpu = (syncs_sim - syncs_cf) * sc.kubeletCosts.syncMs / 1000.0
    # the closed form charges them at the renewal process's mean count: within 10 % of what
    # they cost (seed 1: 3.8963 against 3.8946 CPU-s, 0.4 % of the 0.43 s skipped)
    assert abs(cpu_cf - cpu_sim) <= 0.10 * skipped_cpu, (cpu_cf, cpu_sim, skipped_cpu)


def _startup(overrides: list[str], seeds=(1, 2, 3)) -> list[np.ndarray]:
    out = []
    for seed in seeds:
        pods = compare(load_scenario("cluster-density-5000", SMALL + overrides),
                       runtimes=["containerd"], seed=seed).pods
        assert (pods.outcome == "running").all()
        out.append(pods.pod_startup.to_numpy())
    return out


def test_closed_form_keeps_pod_startup_within_sampling_noise():
    """Same seeds, same arrivals and placements: the closed form changes pod startup only through
    (a) the resyncs' CPU no longer competing with start-up (0.5 ms per pod per ~75 s plus the
    status batches' 0.02 ms per pod per 10 s, 40 pods: ~0.035 % of a core, so ~0.035 % of a
    start-up on average) and (b) the kubelet's random draws that the skipped resyncs no longer
    make, after which each node's later pods draw different samples of the same distributions.
    (b) is sampling noise: the tolerance is four standard errors of the difference of two
    sample quantiles of n pods, sd = sqrt(2 q(1-q)/n) / f(x_q), with the density f at the
    quantile estimated from the pooled simulated sample, taken as if the two samples were
    independent (they share arrivals and placements, so this is conservative). With 1,200 pods
    that is ~5 % for the median (seeds 1-3 give -0.8 %): this guards against a systematic
    shift; the 1 % claim is measured on 200 nodes x 3 seeds in docs/model/background-work.md,
    and the CPU the closed form charges is checked sharply above."""
    sim = np.concatenate(_startup(SIMULATED))
    cf = np.concatenate(_startup(CLOSED))
    n = len(sim)
    for q in (0.5, 0.9):
        a, b = np.quantile(sim, q), np.quantile(cf, q)
        # density at the quantile from the pooled sample: share of pods within +-h of it / 2h
        h = 0.05 * a
        f = np.mean(np.abs(sim - a) <= h) / (2 * h)
        se_diff = np.sqrt(2 * q * (1 - q) / n) / f
        assert abs(a - b) <= 4 * se_diff, (q, a, b, se_diff)
