# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     notebook_metadata_filter: -jupytext.text_representation.jupytext_version
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Bring your own numbers
#
# ## What you will learn
#
# * how to paste your kubelet's `KubeletConfiguration` into a kubesim scenario;
# * how to set your node size and a CNI latency you measured (median and p90);
# * what kubesim says when a key is misspelt or a value is impossible;
# * how to read a real kubelet `/metrics` scrape and put its Docker operation latencies
#   next to the model's.

# %%
# Setup: figures inline; kubesim from the installed package, or from this checkout.
# %matplotlib inline
import sys
from pathlib import Path

try:
    import simulator  # installed by `make demo` / `make test` (pip install -e .)
except ImportError:  # a plain checkout: the repository is this folder's parent
    sys.path.insert(0, str(Path.cwd().parent))
    import simulator

import pandas as pd
from IPython.display import display

pd.set_option("display.width", 140)
pd.set_option("display.max_colwidth", 70)

# %% [markdown]
# ## Your kubelet configuration
#
# The scenario's `kubelet:` section uses the real `KubeletConfiguration` field names and Go
# durations, so a config file can be pasted in. kubesim models a subset of the fields; the
# rest (`apiVersion`, cgroup settings...) are set aside here and listed.

# %%
import yaml

from simulator.config import KubeletConfig

KUBELET_CONFIG = """
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
cgroupDriver: systemd
kubeAPIQPS: 20
kubeAPIBurst: 40
serializeImagePulls: false
runtimeRequestTimeout: 2m
maxPods: 58
"""

pasted = yaml.safe_load(KUBELET_CONFIG)
kubelet = {k: v for k, v in pasted.items() if k in KubeletConfig.model_fields}
print("used:          ", kubelet)
print("not modelled:  ", sorted(set(pasted) - set(kubelet)))

# %% [markdown]
# ## Your node and your CNI
#
# A 2-vCPU, 8 GiB node, and a CNI ADD measured at 150 ms median and 400 ms p90 (say, from
# your CNI plugin's logs). Distributions are given by median and p90, the two numbers
# kubelet metrics and most logs give you; kubesim fits a log-normal to them.

# %%
from simulator.config import ConfigError, load_scenario
from simulator.presets import preset_data

mine = preset_data("default")  # the preset as a dict: workload, images, node...
mine["name"] = "my-node"
mine["kubelet"] = kubelet
mine["node"] = {"cpuCores": 2, "memoryGiB": 8}
mine["cni"] = {"add": {"dist": "lognormal", "medianMs": 150, "p90Ms": 400}}
scenario = load_scenario(mine)
print(yaml.safe_dump({k: scenario.resolved()[k] for k in ("kubelet", "node", "cni")}, sort_keys=False))

# %% [markdown]
# ## When a value is wrong
#
# Every key is checked before the run starts; a mistake is refused with one paragraph that
# names the field, the value and what is allowed.

# %%
import copy

typo = copy.deepcopy(mine)
typo["kubelet"]["kubeAPIQps"] = typo["kubelet"].pop("kubeAPIQPS")  # Qps instead of QPS
impossible = copy.deepcopy(mine)
impossible["cni"]["add"] = {"dist": "lognormal", "medianMs": 150, "p90Ms": 40}  # p90 below the median
bad_duration = copy.deepcopy(mine)
bad_duration["kubelet"]["runtimeRequestTimeout"] = "2 minutes"

for label, data in (("typo", typo), ("impossible", impossible), ("bad duration", bad_duration)):
    try:
        load_scenario(data)
        print(f"{label}: accepted?!")
    except ConfigError as err:
        print(f"{label}:\n  {err}\n")

# %% [markdown]
# ## Your node against the default one

# %%
from simulator.experiments.runner import compare
from simulator.presentation.figures import latency_cdf

base = compare(load_scenario("default"), runtimes=["dockershim", "containerd"], seed=1)
ours = compare(scenario, runtimes=["dockershim", "containerd"], seed=1)
summary = pd.DataFrame({
    f"{rt} ({name})": {"p50 (s)": d["pod_startup_seconds"]["p50"], "p99 (s)": d["pod_startup_seconds"]["p99"]}
    for name, comp in (("default", base), ("my-node", ours))
    for rt, d in comp.summary()["runtimes"].items()}).T
display(summary.round(2))
display(latency_cdf(ours.pods, title="My node: 2 vCPUs, CNI ADD 150 ms median, kubeAPIQPS 20",
                    footnote="kubesim · default preset with my kubelet, node and CNI · seed 1"))

# %% [markdown]
# ## A real kubelet's `/metrics`
#
# The project keeps three real kubelet scrapes in `shared/realdata/` (next to this
# repository). The Kubernetes 1.21 one, from an EKS node with about 30 pods, has the
# histogram `kubelet_docker_operations_duration_seconds`: how long dockershim waited for
# dockerd, per operation. `histogram_quantile`-style interpolation inside the buckets gives
# p50 and p90. Skipped when the file is not there.

# %%
import re

import numpy as np

CANDIDATES = [Path("../../shared/realdata/kubelet-1.21-dockershim-eks.prom"),  # repo/../shared
              Path("/work/shared/realdata/kubelet-1.21-dockershim-eks.prom")]
scrape = next((p for p in CANDIDATES if p.is_file()), None)

BUCKET = re.compile(r'^kubelet_docker_operations_duration_seconds_bucket\{operation_type="(\w+)",le="([^"]+)"\} (\S+)')


def histogram_quantile(q, buckets):
    """Prometheus histogram_quantile: linear interpolation inside the bucket holding q."""
    les, counts = zip(*sorted(buckets))
    rank = q * counts[-1]
    i = int(np.searchsorted(counts, rank))
    lo_le, lo_n = (les[i - 1], counts[i - 1]) if i else (0.0, 0.0)
    if np.isinf(les[i]):
        return lo_le
    return lo_le + (les[i] - lo_le) * (rank - lo_n) / (counts[i] - lo_n)


measured = {}
if scrape is None:
    print("No kubelet scrape found at", [str(p) for p in CANDIDATES], "- skipping this part.")
else:
    buckets = {}
    for line in scrape.read_text().splitlines():
        m = BUCKET.match(line)
        if m:
            buckets.setdefault(m[1], []).append((float(m[2]), float(m[3])))
    for op in ("create_container", "start_container"):
        measured[op] = {"n": int(max(c for _, c in buckets[op])),
                        "p50 (ms)": 1000 * histogram_quantile(0.5, buckets[op]),
                        "p90 (ms)": 1000 * histogram_quantile(0.9, buckets[op])}
    print(f"from {scrape.name}:")
    display(pd.DataFrame(measured).T.round(0))

# %% [markdown]
# The metric times dockershim's calls to dockerd, so the model's counterpart is the
# `dockershim -> dockerd` hop of the same operation (`POST /containers/create`, `POST
# /containers/{id}/start`); the CRI operation as the kubelet sees it
# (`per_operation_mean_seconds`) adds dockershim's own work on top. Model numbers below are
# the default scenario on dockershim.

# %%
if measured:
    doc = base.summary()["runtimes"]["dockershim"]
    sp = base.spans.query("runtime == 'dockershim' and source == 'sync'")
    hop = sp[(sp.caller == "dockershim") & (sp.process == "dockerd")
             & sp.step.isin(["POST /containers/create", "POST /containers/{id}/start"])]
    hop_ms = ((hop.end - hop.start) * 1000).groupby(hop.operation)
    comparison = pd.DataFrame({
        op: {"real p50 (ms)": measured[op]["p50 (ms)"], "real p90 (ms)": measured[op]["p90 (ms)"],
             "model hop p50 (ms)": hop_ms.median()[op], "model hop p90 (ms)": hop_ms.quantile(0.9)[op],
             "model CRI op mean (ms)": 1000 * doc["per_operation_mean_seconds"][op]}
        for op in measured}).T
    display(comparison.round(0))
else:
    print("(no scrape: nothing to compare)")

# %% [markdown]
# ## Takeaways
#
# * Paste the `KubeletConfiguration` fields straight into `kubelet:`; Go durations such as
#   `2m` work, and fields kubesim does not model are easy to list and set aside.
# * Put your own measurements in as median + p90 (`{dist: lognormal, medianMs, p90Ms}`),
#   for CNI (`cni.add`) or any other distribution in the scenario.
# * A misspelt key or an impossible value stops before the run with a message naming the
#   field: no silent defaults.
# * A kubelet `/metrics` scrape is a few lines of regex away from p50/p90 per operation,
#   which you can hold against the model hop by hop.
