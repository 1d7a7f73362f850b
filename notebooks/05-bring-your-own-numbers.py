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
# * how to calibrate a chain to a real kubelet `/metrics` scrape (`kubesim calibrate`) and
#   run the calibrated chain as a runtime.
#
# You are asked to predict two results before the cells that show them; three exercises with
# solutions close the notebook.

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

from simulator.presentation.notebook import setup_notebook

setup_notebook()  # every figure at the kubesim style's 16:9 size (1920 x 1080 px), not cropped
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
#
# **Predict, then run.** Against the `default` node, mine has half the cores (2), four times
# the API budget (`kubeAPIQPS` 20) and a CNI ADD several times slower (150 ms median). Will its
# pods start faster or slower, and which of the three changes matters most?

# %%
from simulator.experiments.runner import compare
from simulator.presentation.binds import binds_lines
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

# %%
for name, comp in (("default", base), ("my-node", ours)):
    print(f"--- {name}")
    print("\n".join(binds_lines(comp.summary())))

# %% [markdown]
# Why: at the `default` workload's pace (a pod every 2 s) the API client never binds, so its
# larger budget buys nothing; what binds is PLEG's relist and the runtime's own work, and the
# slower CNI ADD is part of the runtime's work. Read the shares above: the runtime's own work
# takes a larger share on my node.

# %% [markdown]
# ## A real kubelet's `/metrics`
#
# kubesim ships three real kubelet scrapes in `examples/metrics/` (their sources, licences and
# caveats are in the README there). The Kubernetes 1.21 one comes from an EKS node with about
# 30 pods running Docker through dockershim. `kubesim calibrate --metrics FILE` reads such a
# scrape with prometheus-client's parser (the old `*_latency_microseconds` summaries and the
# `*_duration_seconds` histograms alike), simulates the node it describes, and fits the chain's
# step latencies until the model reproduces the median of every operation the scrape measured:
# the CRI calls (`kubelet_runtime_operations_*`) and, under dockershim, the Docker calls behind
# them (`kubelet_docker_operations_*`). The same from Python:

# %%
import tempfile

from simulator.experiments.calibrate import calibrate, read_scrape

# the scrape ships with the repository (examples/metrics/, with its source and licence):
# found from the simulator package's checkout, or from this notebook's folder upwards
HERE = Path.cwd().resolve()
REPO = next((p for p in (Path(simulator.__file__).resolve().parents[1], HERE, *HERE.parents)
             if (p / "examples" / "metrics").is_dir()), None)
if REPO is None:
    raise FileNotFoundError("examples/metrics/ not found: open this notebook from a kubesim checkout")
SCRAPE = REPO / "examples" / "metrics" / "kubelet-1.21-dockershim-eks.prom"
scrape = read_scrape(SCRAPE)
print(scrape.describe())
docker = scrape.level("docker")
display(pd.DataFrame({op: {"n": docker[op].count, "p50 (ms)": 1000 * docker[op].median,
                           "p90 (ms)": 1000 * docker[op].p90}
                      for op in ("create_container", "start_container", "inspect_container")}).T.round(1))

# %% [markdown]
# Histogram quantiles are interpolated linearly inside the bucket that holds them (as PromQL's
# `histogram_quantile`); the fit reads the model's latencies through the same buckets. The fit
# report has one row per measured operation: the scrape's median, p90 and count, the model's
# median before (the base chain) and after (the calibrated overlay), and their ratio.
# Operations the model does not have, or with too few observations, are listed as skipped.

# %%
cal = calibrate(SCRAPE, seed=1)
print(f"base chain: {cal.base} ({cal.why})")
report = cal.report()
columns = ["level", "operation", "n", "measured_p50_ms", "model_before_p50_ms", "model_p50_ms", "ratio",
           "within_15pct", "note"]
display(report[columns])

# %%
from simulator.presentation.style import add_footnote, figure_style, new_figure

cri = report[(report.level == "cri") & (report.status == "calibrated")].set_index("operation")
with figure_style("light"):
    fig, ax = new_figure()
    cri[["measured_p50_ms", "model_before_p50_ms", "model_p50_ms"]].rename(columns={
        "measured_p50_ms": "measured (scrape)", "model_before_p50_ms": "model: dockershim chain",
        "model_p50_ms": "model: calibrated overlay"}).plot.barh(ax=ax, logx=True)
    ax.set_xlabel("median latency (ms, log scale)")
    ax.set_ylabel("")
    ax.set_title("The EKS scrape against the model, per CRI call")
add_footnote(fig, "kubesim calibrate · examples/metrics/kubelet-1.21-dockershim-eks.prom · seed 1")
display(fig)

# %% [markdown]
# The overlay is a chain file (`base: dockershim` plus `stepOverrides:`, every step citing the
# scrape, the metric and the quantiles it was fitted to). Pass it as a runtime: here it runs my
# node from above next to the chain it started from. The scrape's CNI latency (its network
# plugin's `set_up_pod`) belongs to the node, not to the runtime, so it is not in the overlay:
# the fit scenario took it from the scrape (`cal.scenario.cni`), my node keeps its own.
#
# **Predict, then run.** The EKS node's measured CRI calls are in the bar chart above. On my
# node, will the calibrated chain start pods faster or slower than the stock dockershim chain?

# %%
overlay = Path(tempfile.mkdtemp()) / "calibrated-dockershim.yaml"
overlay.write_text(cal.overlay_text(), encoding="utf-8")
print(cal.overlay_text()[:1200], "...")
calibrated = compare(scenario, runtimes=["dockershim", str(overlay)], seed=1)
display(pd.DataFrame({("calibrated" if rt == str(overlay) else rt): {
    "pod startup p50 (s)": d["pod_startup_seconds"]["p50"], "pod startup p99 (s)": d["pod_startup_seconds"]["p99"],
    "run_podsandbox mean (ms)": 1000 * d["per_operation_mean_seconds"]["run_podsandbox"],
    "start_container mean (ms)": 1000 * d["per_operation_mean_seconds"]["start_container"]}
    for rt, d in calibrated.summary()["runtimes"].items()}).T.round(2))

# %%
lines = binds_lines(calibrated.summary())
print("\n".join(line.replace(str(overlay), "calibrated") for line in lines))

# %% [markdown]
# Why: the calibration moved single operations in both directions (the table above: one
# slower, one faster), while a pod's start-up is bound by the sum of the runtime's own work
# and PLEG's relists (the what-binds lines); where the two chains come out about equal, the
# last line names the constraint that made them so.

# %% [markdown]
# ## Exercises
#
# Each solution runs in this notebook (it uses `mine` from above) and checks the observation
# it states with an `assert`.
#
# **1.** Your CNI turns out ten times slower than measured: 1500 ms median, 4000 ms p90. How
# much slower do pods start on containerd, and which chain is faster now?
#
# <details><summary>Solution</summary>
#
# ```python
# slow = copy.deepcopy(mine)
# slow["cni"]["add"] = {"dist": "lognormal", "medianMs": 1500, "p90Ms": 4000}
# doc = compare(load_scenario(slow), runtimes=["dockershim", "containerd"], seed=1).summary()
# print("\n".join(binds_lines(doc)))
# b = {rt: d["binds"] for rt, d in doc["runtimes"].items()}
# before = ours.summary()["runtimes"]["containerd"]["pod_startup_seconds"]["p50"]
# after = doc["runtimes"]["containerd"]["pod_startup_seconds"]["p50"]
# print(f"containerd p50: {before:.2f} s -> {after:.2f} s")
# assert after > 2 * before
# assert abs(b["dockershim"]["mean_startup_seconds"] - b["containerd"]["mean_startup_seconds"]) \
#     < 0.05 * b["dockershim"]["mean_startup_seconds"]
# assert b["dockershim"]["top"] == b["containerd"]["top"] == "runtime"
# ```
#
# containerd's median start-up roughly triples, and the two chains now start pods in about
# the same time: on both, the runtime's own work binds, and most of it is the same slow CNI
# ADD, which both chains wait for alike. A slow CNI hides the chain.
#
# </details>

# %% [markdown]
# **2.** Put `serializeImagePulls` back to `true` (the 1.23 default) on my node. Does anything
# change? Why?
#
# <details><summary>Solution</summary>
#
# ```python
# serial = copy.deepcopy(mine)
# serial["kubelet"]["serializeImagePulls"] = True
# doc = compare(load_scenario(serial), runtimes=["dockershim", "containerd"], seed=1).summary()
# for rt, d in doc["runtimes"].items():
#     print(rt, d["pod_startup_seconds"]["p50"], d["binds"]["shares"].get("image_pull", 0.0))
# parallel = ours.summary()["runtimes"]
# assert all(doc["runtimes"][rt]["pod_startup_seconds"] == parallel[rt]["pod_startup_seconds"] for rt in parallel)
# ```
#
# Nothing changes: every pod starts at the same time as with parallel pulls. Only the batch
# pods pull an image, and at one pod every 2 s no pull ever had to wait for another, so
# serializing them costs nothing. It would matter for a burst of pods with images to pull.
#
# </details>

# %% [markdown]
# **3.** Someone writes `cpuCores: 0` for a node in your scenario. What does kubesim say?
#
# <details><summary>Solution</summary>
#
# ```python
# zero = copy.deepcopy(mine)
# zero["node"]["cpuCores"] = 0
# try:
#     load_scenario(zero)
#     raise AssertionError("accepted?!")
# except ConfigError as err:
#     print(err)
#     assert "node.cpuCores" in str(err) and "greater than 0" in str(err)
# ```
#
# It refuses the scenario before any run, naming the field (`node.cpuCores`), the value (0)
# and what is allowed (greater than 0).
#
# </details>

# %% [markdown]
# ## Takeaways
#
# * Paste the `KubeletConfiguration` fields straight into `kubelet:`; Go durations such as
#   `2m` work, and fields kubesim does not model are easy to list and set aside.
# * Put your own measurements in as median + p90 (`{dist: lognormal, medianMs, p90Ms}`),
#   for CNI (`cni.add`) or any other distribution in the scenario.
# * A misspelt key or an impossible value stops before the run with a message naming the
#   field: no silent defaults.
# * `kubesim calibrate --metrics FILE` turns a kubelet `/metrics` scrape into a chain overlay
#   that reproduces its per-operation medians, with a fit report per operation; pass the
#   overlay as a runtime (`--runtimes calibrated.yaml`).
