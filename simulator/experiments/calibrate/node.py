"""The node a scrape describes, as a scenario the fit runs on; and the chain it runs.

A kubelet's ``/metrics`` says how many pods and containers run on the node
(``kubelet_running_pods``/``kubelet_running_pod_count``, ``kubelet_running_containers``/
``kubelet_running_container_count``), which Kubernetes release it is (``kubernetes_build_info``)
and, by the presence of ``kubelet_docker_operations_*``, whether Docker runs behind dockershim.
Its ``kubelet_network_plugin_operations_*`` give the network plugin's cost: ``set_up_pod`` is the
CNI ADD, ``tear_down_pod`` the DEL; the fit scenario takes its ``cni.add``/``cni.delete`` from them.
A plugin whose set-up takes microseconds is the no-op plugin (Docker's own bridge networking,
as on minikube and local-up-cluster of that era): dockershim then runs no CNI, takes no per-pod
network lock and asks no IP through nsenter, which the fit scenario gets with host-network pods
(the chain's ``podNetwork`` steps skipped). The scrape does not say what the pods are, how fast
they arrived or the node's size: those are assumptions, stated in the overlay's notes.

The fit scenario, replayed as a trace so that every operation the scrape counts happens:

* the running pods, pause-like (images on the node), one every 2 s, as many with a second
  container as the container count exceeds the pod count; they stay (steady state);
* when the scrape has stop/remove calls, short-lived pods deleted 30 s after creation (their
  kill gives StopContainer and StopPodSandbox, container GC the removals);
* when it has image pulls, some of those pods use an image the node does not have yet;
* then a steady state long enough for the background calls (runtime status every 5 s, version
  with the node status every 10 s, the image list every 30 s, PLEG every 1 s).
"""

from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import Any, Optional

from ...chains import is_chain_file, load_chain, resolve_chain
from ...config import Scenario, load_scenario
from ...schema import parse_kubernetes_version
from .scrape import Scrape

__all__ = ["choose_chain", "fit_scenario", "FitPlan", "MIN_SAMPLES"]

# an operation needs this many observations in the scrape to be fitted: with n observations the
# range from the smallest to the largest covers the median with probability 1 - 2 * 0.5**n, which
# reaches 95 % at n = 6 (0.969; 0.938 at n = 5): below that the scrape does not pin its median down
# even to the sample's range, let alone to 15 %
MIN_SAMPLES = 6
ARRIVAL_S = 2.0          # ASSUMPTION: a pod every 2 s (the default preset's pace)
SHORT_LIVED = 20         # pods deleted during the fit when the scrape has stop/remove calls
LIFETIME_S = 30.0
PULLED_PODS_MAX = 10
# ASSUMPTION: an image of 20 MB in 3 layers for the pulls (the scrape gives no image size)
PULLED_IMAGE = {"sizeMB": 20, "layers": 3, "prePulled": False}
STEADY_S = 300.0
NOOP_PLUGIN_S = 0.001  # a set_up_pod median below 1 ms: no CNI plugin runs
DEFAULT_PODS = 10
TEARDOWN_OPS = ("stop_container", "stop_podsandbox", "remove_container", "remove_podsandbox")


def _version(scrape: Scrape) -> Optional[tuple[int, int]]:
    if not scrape.kubernetes_version:
        return None
    try:
        return parse_kubernetes_version(scrape.kubernetes_version)
    except ValueError:
        return None


def choose_chain(scrape: Scrape, runtime: Optional[str] = None) -> tuple[str, str, str]:
    """(chain to start from, the Kubernetes version the fit runs, why that chain)."""
    version = _version(scrape)
    kv = f"{version[0]}.{version[1]}" if version else "1.23"
    if runtime and is_chain_file(runtime):
        load_chain(runtime)  # fails with a readable message when it cannot be used
        return runtime, kv, f"--runtime {runtime}"
    if runtime:
        family, why = runtime, f"--runtime {runtime}"
    elif scrape.docker:
        family = "dockershim" if version is None or version < (1, 24) else "cri-dockerd"
        why = "the scrape has kubelet_docker_operations_* (Docker via dockershim)"
    else:
        family = "containerd"
        why = ("the scrape has no Docker metrics and a kubelet's metrics do not name its CRI runtime: "
               "containerd assumed (use --runtime crio for CRI-O)")
    chain, note = resolve_chain(family, version or (1, 23))
    if not version:
        why += "; the scrape has no kubernetes_build_info: Kubernetes 1.23 assumed"
    elif chain.name != family:
        why += f"; Kubernetes {kv} runs {chain.name} ({chain.era})"
    elif note:
        why += f"; {note}"
    return chain.name, kv, why


class FitPlan:
    """The pods of the fit scenario and the notes that describe them."""

    def __init__(self, scrape: Scrape, chain_ops: set[str]):
        cri = scrape.level("cri")
        docker = scrape.level("docker")

        def wanted(op: str) -> bool:
            return any(s.get(op) is not None and s[op].count >= MIN_SAMPLES and s[op].has_data
                       and not s[op].median_open for s in (cri, docker))

        self.cni, self.host_network, cni_note = _network(scrape)
        self.pods = max(1, scrape.running_pods) if scrape.running_pods else DEFAULT_PODS
        containers = scrape.running_containers if scrape.running_containers is not None else self.pods
        self.two = min(max(containers - self.pods, 0), self.pods)
        self.teardown = any(wanted(op) for op in TEARDOWN_OPS if op in chain_ops)
        pulls = "pull_image" in chain_ops and wanted("pull_image")
        pull_n = max((s["pull_image"].count for s in (cri, docker) if "pull_image" in s), default=0)
        self.pulled = min(max(pull_n, MIN_SAMPLES), PULLED_PODS_MAX) if pulls else 0
        self.short = max(SHORT_LIVED if self.teardown else 0, self.pulled)
        self.notes = [(
            f"fit scenario: {self.pods} pause-like pods ({self.two} with two containers) created one every "
            f"{ARRIVAL_S:g} s and kept (the scrape's {scrape.running_pods} running pods and "
            f"{scrape.running_containers} running containers){'' if scrape.running_pods else ' [pod count ASSUMPTION]'}"
        )]
        if self.short:
            self.notes.append(f"then {self.short} short-lived pods, each deleted {LIFETIME_S:g} s after its "
                              "creation (StopContainer, StopPodSandbox, container GC's removals)"
                              + (f"; {self.pulled} of them pull an image of {PULLED_IMAGE['sizeMB']} MB in "
                                 f"{PULLED_IMAGE['layers']} layers first [image size ASSUMPTION]"
                                 if self.pulled else ""))
        self.notes.append(cni_note)
        self.notes.append(f"then {STEADY_S:g} s of steady state, on the default 4-vCPU node (the scrape does "
                          "not give the node's size) [ASSUMPTION]")

    def trace_rows(self) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        t = 0.0
        for i in range(self.pods):
            rows.append({"time": t, "template": "two" if i < self.two else "one", "lifetime": "", "image": ""})
            t += ARRIVAL_S
        for i in range(self.short):
            rows.append({"time": t, "template": "one", "lifetime": LIFETIME_S,
                         "image": f"pulled-{i + 1}" if i < self.pulled else ""})
            t += ARRIVAL_S
        return rows


def _network(scrape: Scrape) -> tuple[dict[str, Any], bool, str]:
    """The fit scenario's ``cni`` section and whether pods use the host's network, from the
    network plugin's metrics; and the note that says so."""
    net = scrape.level("network")
    add, delete = net.get("set_up_pod"), net.get("tear_down_pod")

    def usable(st) -> bool:
        return st is not None and st.has_data and st.count >= MIN_SAMPLES and not st.median_open

    # the mean as well: a histogram's first bucket (5 ms) cannot show microseconds
    typical = 0.0 if add is None else add.median if math.isnan(add.mean) else min(add.median, add.mean)
    if usable(add) and add is not None and typical < NOOP_PLUGIN_S:
        return {}, True, (f"the network plugin's set_up_pod takes {typical * 1e6:.0f} us (n={add.count}): the "
                          "no-op plugin (Docker's bridge networking), so no CNI runs: the fit pods use the "
                          "host's network, which skips the chain's CNI, per-pod network lock and nsenter steps")
    cni: dict[str, Any] = {}
    said = []
    for key, st in (("add", add), ("delete", delete)):
        if usable(st) and st is not None:
            cni[key] = {"dist": "lognormal", "medianMs": round(st.median * 1000, 3),
                        "p90Ms": round(max(st.p90, st.median) * 1000, 3)}
            said.append(f"cni.{key} = {st.cite(scrape.name)}")
    if said:
        return cni, False, "the node's CNI from the scrape: " + "; ".join(said)
    return {}, False, ("the scrape gives no usable network-plugin latencies: the default CNI (bridge, "
                       "ADD median 40 ms) [ASSUMPTION]")


def fit_scenario(plan: FitPlan, kubernetes_version: str, trace_dir: Path, runtime: str,
                 overrides: Optional[list[str]] = None) -> Scenario:
    """The scenario of ``plan``; its trace CSV is written into ``trace_dir``."""
    trace = trace_dir / "calibration-trace.csv"
    with trace.open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=["time", "template", "lifetime", "image"])
        w.writeheader()
        w.writerows(plan.trace_rows())
    images: dict[str, Any] = {"pause": {"sizeMB": 0.3, "layers": 1, "prePulled": True}}
    for i in range(plan.pulled):
        images[f"pulled-{i + 1}"] = dict(PULLED_IMAGE)
    one = {"containers": [{"name": "c", "image": "pause"}], "hostNetwork": plan.host_network}
    two = {"containers": [{"name": "c", "image": "pause"}, {"name": "sidecar", "image": "pause"}],
           "hostNetwork": plan.host_network}
    data = {
        "name": "calibration",
        "description": "the node a kubelet /metrics scrape describes (kubesim calibrate)",
        "kubernetesVersion": kubernetes_version,
        "images": images,
        "workload": {
            "kind": "trace", "pods": len(plan.trace_rows()), "traceFile": str(trace),
            "templates": [{"name": "one", "spec": one}, {"name": "two", "spec": two}],
        },
        **({"cni": plan.cni} if plan.cni else {}),
        # resources sampled rarely: the fit reads spans only
        "simulation": {"steadyStateSeconds": STEADY_S, "horizonSeconds": 3600, "sampleSeconds": 60},
        "runtimes": [runtime],
    }
    return load_scenario(data, list(overrides or []))
