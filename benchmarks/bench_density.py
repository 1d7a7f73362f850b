"""Benchmark: the full model on the node-e2e-density-105 preset against a minimal SimPy chain.

Measures, in one process (so machine speed cancels out of the ratio):
* wall time of one run of the density preset per chain, and simulated pods per wall second;
* hop visits (spans below the operation level) per wall second of the full model;
* the same for a minimal SimPy model: N pods, each a process that walks H hops as plain
  ``env.timeout`` calls, H = the full model's mean hop visits per pod;
* the ratio full / minimal: how much the model's mechanisms (locks, processor-shared CPU, PLEG,
  status manager, recording) cost per hop relative to bare SimPy.

Run: ``make bench`` (or ``python benchmarks/bench_density.py``). Prints a Markdown table for
the README. Best of ``REPEATS`` runs each, to damp noise from the other core.
"""

from __future__ import annotations

import sys
import time

import numpy as np
import simpy

from simulator.config import load_scenario
from simulator.model.simulation import simulate

REPEATS = 3


def _best(fn):
    best = None
    for _ in range(REPEATS):
        t0 = time.perf_counter()
        out = fn()
        dt = time.perf_counter() - t0
        if best is None or dt < best[0]:
            best = (dt, out)
    return best


def minimal_chain(pods: int, hops_per_pod: int, seed: int = 1) -> int:
    env = simpy.Environment()
    rng = np.random.default_rng(seed)
    visits = [0]

    def pod():
        for _ in range(hops_per_pod):
            yield env.timeout(rng.exponential(0.01))
            visits[0] += 1

    for _ in range(pods):
        env.process(pod())
    env.run()
    return visits[0]


def main() -> int:
    scenario = load_scenario("node-e2e-density-105")
    rows = []
    for runtime in scenario.runtimes:
        wall, result = _best(lambda: simulate(scenario, runtime, seed=1))
        pods = len(result.pods)
        hops = int((result.spans.depth > 0).sum())
        hops_per_pod = max(1, round(hops / pods))
        mwall, mvisits = _best(lambda: minimal_chain(pods, hops_per_pod))
        full_rate, min_rate = hops / wall, mvisits / mwall
        rows.append((runtime, wall, pods / wall, hops, hops_per_pod, full_rate, min_rate, full_rate / min_rate,
                     result.end_time))
    print("| chain | wall time (s) | simulated s | pods / wall s | hop visits | hops / pod "
          "| hop visits / s (full) | hop visits / s (minimal SimPy) | full / minimal |")
    print("|---|---|---|---|---|---|---|---|---|")
    for rt, wall, pps, hops, hpp, fr, mr, ratio, sim_s in rows:
        print(f"| {rt} | {wall:.2f} | {sim_s:.0f} | {pps:.0f} | {hops} | {hpp} | {fr:,.0f} | {mr:,.0f} | {ratio:.3f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
