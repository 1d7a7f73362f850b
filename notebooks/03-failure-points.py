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
# # Failure points: where pod creation stalls and fails
#
# ## What you will learn
#
# * how a container start hung on NFS stalls PLEG on dockershim (NodeNotReady) but not on
#   containerd (`pleg-stall-slow-volume`);
# * what a dockerd restart does with and without `live-restore` (`dockerd-restart`);
# * how to read the JSON summary's `failures_by_hop`, `pending_by_hop`,
#   `sync_errors_by_hop`, `stalls` and `faults`;
# * how to find where failures begin as load grows (`failure_ramp`).
#
# You are asked to predict three results before the cells that show them; three exercises
# with solutions close the notebook.

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
# ## A container start stuck on NFS (kubernetes/kubernetes#94829)
#
# One pod's container start hangs 10 minutes on an unreachable NFS volume; ten ordinary
# pods follow, one every 10 s. Under Docker, dockerd holds that container's lock during the
# start, so every inspect of it (PLEG's status call, through dockershim) waits until the
# kubelet's 2-minute CRI deadline.
#
# **Predict, then run.** Only one of the eleven pods is stuck. Which chain(s) will take the
# whole node NotReady (PLEG's 3-minute threshold), and will the ten ordinary pods notice?

# %%
import json

from simulator.config import load_scenario
from simulator.experiments.runner import compare

pleg = compare(load_scenario("pleg-stall-slow-volume"), runtimes=["dockershim", "containerd"])
pleg_doc = pleg.summary()["runtimes"]

ev = pleg.events
print("Node readiness events (PLEG health):")
display(ev[ev.event.isin(["NodeNotReady", "NodeReady"])][["runtime", "time", "event", "detail"]]
        .round({"time": 1}))

# %%
relists = pd.concat([r.relists for r in pleg.runs], ignore_index=True)
print("PLEG relist durations (s): every relist is meant to take milliseconds, once a second")
display(relists.groupby("runtime").duration.describe(percentiles=[0.5, 0.9]).round(3))
display(pd.DataFrame({rt: d["pleg"]["relist_seconds"] for rt, d in pleg_doc.items()}).round(3))

# %%
from simulator.presentation.binds import binds_lines

for rt, d in pleg_doc.items():
    print(f"{rt}: {d['stalls']['node_not_ready_episodes']} NotReady episode(s), "
          f"{d['stalls']['node_not_ready_seconds']:.0f} s NotReady; slowest relist {d['pleg']['relist_seconds']['max']:.1f} s")
print("\n".join(binds_lines(pleg.summary())))

# %%
from simulator.presentation.style import add_footnote, figure_style, new_figure, runtime_color

with figure_style("light"):
    fig, ax = new_figure()
    for rt, g in relists.groupby("runtime", sort=False):
        ax.plot(g.time, g.duration, marker="o", linestyle="none", markersize=5,
                color=runtime_color(rt), label=rt)
    ax.axhline(180, color="#555555", linestyle="--", linewidth=2)
    ax.text(5, 200, "PLEG threshold: 3 min", fontsize=14)
    ax.set_yscale("log")
    ax.set_xlabel("simulated time (s)")
    ax.set_ylabel("relist duration (s)")
    ax.set_title("One hung start: dockershim's PLEG relists take minutes")
    ax.legend(loc="center right")
add_footnote(fig, "kubesim · preset pleg-stall-slow-volume · seed 1")
display(fig)

# %% [markdown]
# The summary (`kubesim compare --json`) names where things went wrong. Hops read
# `caller -> callee: operation`; `pending_by_hop` gives, for pods not running at the
# horizon, the hop of their last error; `sync_errors_by_hop` counts the errors the kubelet
# retried. `stalls` counts NotReady episodes and their seconds (an episode still open at the
# horizon counts as an episode, not in the seconds). The ordinary pods pay too: their
# status comes from the same stuck relists.

# %%
KEYS = ["pods", "running", "failed", "pending", "failures_by_hop", "pending_by_hop",
        "sync_errors_by_hop", "stalls", "faults"]
for rt, d in pleg_doc.items():
    print(f"--- {rt}")
    print(json.dumps({k: d[k] for k in KEYS}, indent=1))
started = pleg.pods.query("outcome == 'running'").groupby("runtime").pod_startup.median()
print("median startup of the pods that did run (s):", started.round(1).to_dict())

# %% [markdown]
# ## dockerd restarts, with and without live-restore
#
# The runtime daemon restarts twice (at 120 s and 300 s, 10 s down each) under 30 running
# pods. dockerd without `live-restore` shuts every container down on the way; with it (as
# GCE/COS nodes had) the containers keep running. containerd's restarts leave containers
# under their shims. The same override as `--set faults.0.liveRestore=true`:
#
# **Predict, then run.** How many of the 30 pods will each restart disrupt on dockershim with
# `live-restore` off, with it on, and on containerd?

# %%
fault_rows, end_rows = [], []
for label, overrides in (("live-restore off", []), ("live-restore on", ["faults.0.liveRestore=true"])):
    restart = compare(load_scenario("dockerd-restart", overrides), runtimes=["dockershim", "containerd"])
    for rt, d in restart.summary()["runtimes"].items():
        end_rows.append({"setting": label, "runtime": rt, "running": d["running"], "pending": d["pending"],
                         "pending_by_hop": d["pending_by_hop"]})
        for f in d["faults"]:
            fault_rows.append({"setting": label, "runtime": rt, "at (s)": f["time"],
                               "detail": f["detail"], "pods disrupted": f["pods_disrupted"],
                               "recovery (s)": f["recovery_seconds"]})
print("Each restart (the summary's `faults`):")
display(pd.DataFrame(fault_rows).round(1))
print("At the horizon (600 s):")
display(pd.DataFrame(end_rows))

# %%
faults = pd.DataFrame(fault_rows)
for (label, rt), g in faults.groupby(["setting", "runtime"], sort=False):
    print(f"{label:>16}, {rt}: {g['pods disrupted'].tolist()} pods disrupted by the restarts at "
          f"{g['at (s)'].tolist()} s")

# %% [markdown]
# `recovery (s)` is the time until the last disrupted pod ran again; empty (`None`/NaN)
# means some had not by the horizon. Without live-restore every dockershim pod is disrupted
# and its sandbox recreated; with it, and on containerd, nothing is.
#
# ## Where failures begin as load grows
#
# `failure_ramp` runs the `load-ramp` preset (batches of pause pods on one 1-vCPU node) at
# increasing sizes and tallies, per hop: pods **failed**, pods **pending** at the horizon,
# transient **errors** the kubelet retried, and seconds of PLEG **stall** (node NotReady).
#
# **Predict, then run.** 100, 400 and 800 pause pods at once on one vCPU: on which chain do
# problems appear first, at which load, and at which hop?

# %%
from simulator.experiments.failures import failure_ramp

ramp = failure_ramp(load_scenario("load-ramp"), ["dockershim", "containerd"], loads=[100, 400, 800])
table = (ramp[ramp.kind != "ok"]
         .pivot_table(index=["kind", "hop"], columns=["runtime", "load"], values="count",
                      aggfunc="sum", fill_value=0))
print("Problems by hop (count; stall in seconds). Loads without a column had none.")
display(table)
print("pods running at the horizon:")
display(ramp[ramp.kind == "ok"].pivot_table(index="runtime", columns="load", values="count"))

# %%
for rt, g in ramp.groupby("runtime", sort=False):
    bad = g[g.kind != "ok"]
    if bad.empty:
        print(f"{rt}: no problem up to {g.load.max()} pods")
        continue
    first = bad[bad.load == bad.load.min()]
    hops = first.groupby(["kind", "hop"])["count"].sum()
    print(f"{rt}: first problems at {bad.load.min()} pods: "
          + "; ".join(f"{kind} {count:g} at {hop}" for (kind, hop), count in hops.items()))

# %%
from simulator.presentation import failure_heatmap

display(failure_heatmap(ramp, footnote="kubesim · preset load-ramp · seed 1"))

# %% [markdown]
# ## Exercises
#
# Each solution runs in this notebook and checks the observation it states with an `assert`.
#
# **1.** Make the NFS hang 60 s instead of 10 minutes (`faults.0.extraSeconds=60`). Does
# dockershim's node still go NotReady? Why?
#
# <details><summary>Solution</summary>
#
# ```python
# short = compare(load_scenario("pleg-stall-slow-volume", ["faults.0.extraSeconds=60"]),
#                 runtimes=["dockershim"]).summary()["runtimes"]["dockershim"]
# print(short["stalls"], "slowest relist:", round(short["pleg"]["relist_seconds"]["max"], 1), "s")
# assert short["stalls"]["node_not_ready_episodes"] == 0
# assert short["pleg"]["relist_seconds"]["max"] < 180
# ```
#
# No: the inspects still wait behind dockerd's container lock, but only until the start ends
# (about 60 s, under the 2-minute CRI deadline), so the slowest relist stays near a minute,
# below PLEG's 3-minute threshold. The node stays Ready.
#
# </details>

# %% [markdown]
# **2.** cri-dockerd keeps Docker after dockershim's removal. Run `dockerd-restart` with
# `live-restore` off on cri-dockerd and on CRI-O: how many pods does each restart disrupt?
#
# <details><summary>Solution</summary>
#
# ```python
# doc = compare(load_scenario("dockerd-restart"), runtimes=["cri-dockerd", "crio"]).summary()
# hit = {rt: [f["pods_disrupted"] for f in d["faults"]] for rt, d in doc["runtimes"].items()}
# print(hit)
# assert hit["cri-dockerd"] == [30, 30] and hit["crio"] == [0, 0]
# ```
#
# cri-dockerd loses all 30 pods at each restart, like dockershim: it is dockerd that stops the
# containers when it goes down without `live-restore`, whichever shim talks to it. CRI-O's
# restarts leave the containers running under conmon: nothing is disrupted.
#
# </details>

# %% [markdown]
# **3.** dockershim starts failing at 800 pods. Does CRI-O, on the same 1-vCPU node?
#
# <details><summary>Solution</summary>
#
# ```python
# crio = failure_ramp(load_scenario("load-ramp"), ["crio"], loads=[800])
# print(crio[["runtime", "load", "kind", "hop", "count"]])
# assert set(crio.kind) == {"ok"} and crio["count"].sum() == 800
# ```
#
# No: all 800 pods run, with no error, no stuck pod and no PLEG stall. The problems of the
# ramp are dockershim's (its CreateContainer calls and its relists), not the node's alone.
#
# </details>

# %% [markdown]
# ## Takeaways
#
# * A single hung container start is enough to take a dockershim node NotReady: its
#   inspects queue behind dockerd's per-container lock until the 2-minute CRI deadline, and
#   relists that long trip the 3-minute PLEG threshold. containerd answers status from
#   memory; only the stuck pod suffers.
# * dockerd restarts without `live-restore` kill every container on the node; turn it on
#   (or move to containerd/CRI-O, whose restarts leave containers running).
# * Read failures by hop: `failures_by_hop` (given up), `pending_by_hop` (stuck at the
#   horizon), `sync_errors_by_hop` (retried), `stalls` (NotReady). `kubesim failures` runs
#   the load ramp from the shell.
