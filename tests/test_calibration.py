"""The chains' per-hop splits add back up to the measurements they were split from.

dockershim.yaml splits each Docker Engine call the kubelet measured (realdata 1.21: the
kubelet_docker_operations_duration_seconds histograms of an EKS node) over dockerd's own work and
the containerd, shim and runc calls below it. Simulated at no load, the whole call (the dockerd
span, children included) must come back to the measured median.

Tolerance, argued: each median is estimated from 400 calls (4 replications x 100 pods). For a
log-normal with the spreads used here (sigma up to ~1.0) the standard error of a sample median
is about 1.25 sigma / sqrt(n) ~ 6 % of the median, and the median of a sum of log-normals sits a
few per cent above the sum of their medians. 20 % is about three standard errors plus that bias:
a split that does not add up (a forgotten or doubled hop, typically 30 % or more) fails, noise
does not.
"""

import numpy as np
import pytest

from simulator.config import load_scenario
from simulator.experiments.runner import compare

# realdata 1.21 (kubelet-1.21-dockershim-eks.prom), p50 in ms, interpolated within buckets
MEASURED_P50_MS = {
    "POST /containers/create": 65.2,             # docker create_container
    "POST /containers/{id}/start": 198.7,        # docker start_container
    "GET /containers/{id}/json (resolv.conf path)": 2.7,  # docker inspect_container
    "GET /images/{ref}/json": 2.5,               # docker inspect_image
}


@pytest.fixture(scope="module")
def idle_spans():
    sc = load_scenario("default", [
        "workload.kind=interval", "workload.intervalSeconds=3", "workload.pods=100",
        "node.cpuCores=16", "kubelet.kubeAPIQPS=100", "kubelet.kubeAPIBurst=100",
        "workload.templates=[{name: p, spec: {containers: [{name: c, image: nginx}]}}]",
        "simulation.steadyStateSeconds=0"])
    s = compare(sc, runtimes=["dockershim"], replications=4, seed=1).spans
    return s[s.source == "sync"]


@pytest.mark.parametrize("step,measured", sorted(MEASURED_P50_MS.items()))
def test_docker_calls_add_up_to_the_measured_median(idle_spans, step, measured):
    d = (idle_spans.end - idle_spans.start)[idle_spans.step == step].to_numpy() * 1000
    assert len(d) >= 400
    assert abs(np.median(d) - measured) <= 0.20 * measured, (step, np.median(d), measured)
