"""Same scenario + same seed => identical results, serial or parallel; another seed differs."""

import json

import pandas as pd

from simulator.config import load_scenario
from simulator.experiments.runner import compare


def _small():
    return load_scenario("default", ["workload.pods=12", "simulation.steadyStateSeconds=10"])


def test_same_seed_identical_pods_spans_and_json():
    a = compare(_small(), seed=7)
    b = compare(_small(), seed=7)
    pd.testing.assert_frame_equal(a.pods, b.pods)
    pd.testing.assert_frame_equal(a.spans, b.spans)
    assert json.dumps(a.summary()) == json.dumps(b.summary())


def test_different_seed_differs():
    a = compare(_small(), seed=7)
    b = compare(_small(), seed=8)
    assert not a.pods.pod_startup.equals(b.pods.pod_startup)
    assert json.dumps(a.summary()) != json.dumps(b.summary())


def test_parallel_equals_serial():
    sc = _small()
    serial = compare(sc, runtimes=["dockershim", "containerd"], replications=2, seed=3, workers=1)
    parallel = compare(sc, runtimes=["dockershim", "containerd"], replications=2, seed=3, workers=2)
    pd.testing.assert_frame_equal(serial.pods, parallel.pods)
    pd.testing.assert_frame_equal(serial.spans, parallel.spans)
    assert json.dumps(serial.summary()) == json.dumps(parallel.summary())
