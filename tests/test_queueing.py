"""The interpreter against closed-form queueing results.

A one-step chain whose step holds a node-wide lock of capacity c, with exponential service and
Poisson arrivals, is an M/M/c queue; its mean sojourn time is known exactly (Erlang C). We run R
independent replications, drop a warm-up, and require the theoretical mean to lie inside the
99 % Student-t interval of the replication means. With a correct model the theory falls outside
that interval for only 1 % of seed sets; the seeds are fixed, so the test is deterministic, and a
model error of the size that matters (a lock that serves two at once, service drawn twice, time
lost between steps) moves the mean by far more than the interval's half-width (~2-3 %).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import simpy
import yaml
from scipy import stats

from simulator.chains import REQUIRED_OPERATIONS, load_chain
from simulator.config import load_scenario
from simulator.model.node.node import Node
from simulator.model.records import Recorder
from simulator.model.runtime.context import CallContext


def _queue_chain(tmp_path, mean_ms: float, servers: int) -> str:
    trivial = {"steps": [{"name": "noop", "process": "server", "service": {"dist": "constant", "ms": 0},
                          "source": "test"}]}
    ops = {op: trivial for op in REQUIRED_OPERATIONS}
    ops["run_podsandbox"] = {"steps": [{
        "name": "serve", "process": "server", "cpuShare": 0.0,
        "service": {"dist": "exponential", "meanMs": mean_ms},
        "lock": {"name": "servers", "scope": "node", "capacity": servers, "source": "test"},
        "source": "test"}]}
    chain = {
        "name": "queue", "title": "M/M/c", "description": "test", "cniCaller": "server",
        "shimProcess": "server", "imagePull": {"downloadScope": "pull", "maxConcurrentDownloads": 1, "source": "test"},
        "processes": {"server": {"group": "runtime", "source": "test"}, "kubelet": {"group": "kubelet", "source": "test"}},
        "operations": ops,
    }
    path = tmp_path / f"queue-{servers}.yaml"
    path.write_text(yaml.safe_dump(chain))
    return str(path)


def _mean_sojourn(chain_path: str, lam: float, n: int, warmup: int, seed: int) -> float:
    scenario = load_scenario("default")
    env = simpy.Environment()
    node = Node(env, scenario, load_chain(chain_path), Recorder(record_steps=False), lambda p: None)
    rng = np.random.default_rng(seed)
    sojourn: list[float] = []

    def customer():
        t0 = env.now
        yield from node.interpreter.operation("run_podsandbox", CallContext(None, rng, "test"))
        sojourn.append(env.now - t0)

    def source():
        for _ in range(n):
            yield env.timeout(rng.exponential(1 / lam))
            env.process(customer())

    env.process(source())
    env.run()
    return float(np.mean(sojourn[warmup:]))


def erlang_c_sojourn(lam: float, mu: float, c: int) -> float:
    a = lam / mu
    rho = a / c
    top = a**c / math.factorial(c) / (1 - rho)
    p_wait = top / (sum(a**k / math.factorial(k) for k in range(c)) + top)
    return p_wait / (c * mu - lam) + 1 / mu


@pytest.mark.parametrize("servers,lam", [(1, 0.7), (3, 2.4)])
def test_mmc_mean_sojourn_matches_theory(tmp_path, servers, lam):
    mu = 1.0  # per second; service mean 1000 ms
    path = _queue_chain(tmp_path, 1000.0, servers)
    means = [_mean_sojourn(path, lam, n=4000, warmup=500, seed=s) for s in range(30)]
    theory = erlang_c_sojourn(lam, mu, servers)
    m, se = np.mean(means), np.std(means, ddof=1) / math.sqrt(len(means))
    half = stats.t.ppf(0.995, len(means) - 1) * se
    assert abs(m - theory) <= half, f"simulated {m:.3f} ± {half:.3f} s, M/M/{servers} theory {theory:.3f} s"
    # the interval is tight enough to mean something: under 5 % of the theoretical value
    assert half < 0.05 * theory


def test_erlang_c_reduces_to_mm1():
    assert erlang_c_sojourn(0.5, 1.0, 1) == pytest.approx(1 / (1.0 - 0.5))
