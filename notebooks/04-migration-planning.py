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
# # Planning a Docker → containerd migration
#
# ## What you will learn
#
# * how to simulate a node-pool-by-node-pool migration (`migration-docker-to-containerd`)
#   with `compare(..., runtimes=["pools"])`, which keeps each pool's own chain;
# * how to follow pods per runtime over time as nodes are cordoned, drained, reinstalled
#   and rejoin;
# * why Docker-in-Docker CI runners are left Pending once the last Docker pool migrates,
#   and how to check a fix (keep the CI pool on Docker) before doing it for real;
# * what happens when the CNI settings the kubelet's dockershim read (`--cni-conf-dir`,
#   `--cni-bin-dir`) are not carried over to containerd's CNI section, and how a readiness
#   gate in the plan limits the damage;
# * the two ways to keep Docker-in-Docker runners on containerd nodes (a Docker DaemonSet, a
#   `docker:dind` sidecar): their start-up, memory and what each breaks;
# * why a log agent set up for Docker goes blind on containerd nodes, and the fix.
#
# You are asked to predict two results before the cells that show them; two exercises with
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
# ## The plan as written
#
# Six nodes: pool `apps` (4 nodes) runs a 40-replica Deployment; pool `ci` (2 nodes, label
# `container-runtime=docker`) runs 6 CI runners that mount `/var/run/docker.sock` and select
# that label. From 120 s each node in turn is cordoned, drained (its pods are deleted and
# recreated elsewhere by their ReplicaSet), reinstalled with containerd (5 min) and rejoins
# labelled `container-runtime=containerd`: first `apps`, then `ci`.
#
# **Predict, then run.** When both pools run containerd, how many pods will be left Pending,
# and which ones?

# %%
from simulator.config import load_scenario
from simulator.experiments.runner import compare

plan = load_scenario("migration-docker-to-containerd")
print("pools:", [(p.name, p.nodes, p.runtime) for p in plan.cluster.pools])
print("migration:", plan.cluster.migration.model_dump())
as_planned = compare(plan, runtimes=["pools"])


def outcome(comp):
    doc = comp.summary()["runtimes"]
    return pd.DataFrame({rt: {k: d[k] for k in ("pods", "running", "pending")} | {
        "pending_by_hop": d["pending_by_hop"]} for rt, d in doc.items()}).T


display(outcome(as_planned))

# %% [markdown]
# Each pod object counts once per node it ran on (a drained pod is recreated under a new
# name), so there are more pod rows than replicas. `unscheduled` holds the pods the
# scheduler could place nowhere.
#
# ## Pods per runtime over time
#
# A pod counts from the moment it is observed Running until it is deleted (drained).

# %%
import numpy as np

from simulator.presentation.style import add_footnote, figure_style, new_figure, runtime_color


def running_over_time(comp, step=10.0):
    """Pods running per (runtime, template) every `step` seconds."""
    p = comp.pods
    end = float(comp.scenario.simulation.horizonSeconds)
    t = np.arange(0.0, end + step, step)
    gone = p.deleted.fillna(np.inf).to_numpy()
    up = p.running_observed.fillna(np.inf).to_numpy()
    rows = {}
    for (rt, tpl), idx in p.groupby(["runtime", "template"]).indices.items():
        rows[(rt, tpl)] = ((up[idx, None] <= t) & (t < gone[idx, None])).sum(axis=0)
    return pd.DataFrame(rows, index=pd.Index(t, name="time (s)"))


def node_events(comp):
    ev = comp.events
    return ev[ev.event.isin(["Cordoned", "NodeJoined"])][["time", "node", "event", "detail"]]


def plot_migration(comp, title):
    df = running_over_time(comp)
    with figure_style("light") as colors:
        fig, ax = new_figure()
        for (rt, tpl), series in df.items():
            if rt == "unscheduled" or series.max() == 0:
                continue
            ax.step(df.index, series, where="post", color=runtime_color(rt),
                    linestyle="-" if tpl == "app" else (0, (2, 1.5)), label=f"{tpl} on {rt}")
        pending = comp.pods.query("outcome == 'pending'")
        if len(pending):
            ax.step(df.index, [(pending.created <= t).sum() for t in df.index], where="post",
                    color=colors["foreground"], linestyle=":", label="pending (no eligible node)")
        ax.set_ylim(0, df.to_numpy().max() * 1.15)
        for e in node_events(comp).itertuples():
            if e.event == "Cordoned":
                ax.axvline(e.time, color="#999999", linewidth=1, zorder=0)
                ax.text(e.time + 15, 0.985, e.node, transform=ax.get_xaxis_transform(),
                        va="top", fontsize=12, color=colors["muted"])
        ax.set_xlabel("simulated time (s); grey lines: a node is cordoned and drained")
        ax.set_ylabel("pods running")
        ax.set_title(title)
        ax.legend(loc="center right")
    add_footnote(fig, f"kubesim · scenario {comp.scenario.name} · runtimes: pools · seed {comp.seed}")
    return fig


# %%
from simulator.presentation import migration_timeline

# node by node: runtime, reinstall gaps, pods, Pending
display(migration_timeline(as_planned.pods, as_planned.events,
                           title="As planned: node by node",
                           footnote="kubesim · migration-docker-to-containerd · seed 1"))
display(plot_migration(as_planned, "As planned: apps then ci move to containerd"))

# %% [markdown]
# ## Who is left behind
#
# The runners select `container-runtime: docker`. When `ci-1` drains, its runners move to
# `ci-2`; when `ci-2` drains there is no Docker node left, and the recreated runners stay
# Pending with the scheduler's reason.

# %%
stuck = as_planned.pods.query("outcome == 'pending'")
display(stuck[["pod", "template", "runtime", "created", "failure_hop", "failure_reason"]].round(1))
print(f"{len(stuck)} pods left Pending, all of template(s) {sorted(set(stuck.template))}; "
      f"the scheduler's reason: {stuck.failure_reason.iloc[0] if len(stuck) else 'none'}")
display(node_events(as_planned).round(1))

# %% [markdown]
# ## The fix: keep a Docker pool for the runners
#
# Migrate only `apps` (the same as `--set 'cluster.migration.pools=[apps]'`) and leave `ci`
# on Docker until the runners use a Docker-free build tool (kaniko, buildah, BuildKit).

# %%
fixed = compare(load_scenario("migration-docker-to-containerd", ["cluster.migration.pools=[apps]"]),
                runtimes=["pools"])
display(outcome(fixed))
left = int((fixed.pods.outcome == "pending").sum())
print(f"pods left Pending: {left}")
assert left == 0, "the fixed plan should leave no pod Pending"
display(plot_migration(fixed, "Fixed: apps move to containerd, ci stays on Docker"))

# %% [markdown]
# ## The CNI configuration moves too
#
# With dockershim the kubelet runs CNI itself, reading `--cni-conf-dir` and `--cni-bin-dir`;
# with containerd the CRI plugin runs it, reading `[plugins."io.containerd.grpc.v1.cri".cni]`
# `conf_dir` and `bin_dir` in containerd's config. `kubesim explain containerd` shows where
# each chain reads them. A reinstall that does not carry them over fails in one of two ways:
#
# * `missing-config`: containerd finds no network config, its Status says
#   `NetworkReady=false`, the node stays NotReady and the scheduler keeps every pod away (the
#   `node.kubernetes.io/not-ready` taint): capacity disappears node by node;
# * `missing-binaries`: the config is there (a CNI DaemonSet wrote it) but the plugins are not
#   in containerd's `bin_dir`: the node is Ready, pods land, and every CNI ADD fails; they stay
#   ContainerCreating.
#
# A careful plan waits for each reinstalled node to be Ready before draining the next
# (`readyTimeoutSeconds`): the migration stops at the first bad node.
#
# The what-ifs below use 1-minute reinstalls and a 15-minute horizon so that each runs in a
# few seconds; the mechanisms do not depend on the reinstall time.
#
# **Predict, then run.** Which mistake leaves more pods Pending by the end of the 15 minutes:
# the missing config or the missing binaries (or are they equal)? And how many nodes does the
# readiness gate let go before it stops the migration?

# %%
QUICK = ["cluster.migration.reinstallSeconds=60", "simulation.horizonSeconds=900"]
cni_plans = {
    "config carried": [],
    "config missing": ["cluster.migration.cniConfig=missing-config"],
    "binaries missing": ["cluster.migration.cniConfig=missing-binaries"],
    "config missing, readiness gate 2 min": ["cluster.migration.cniConfig=missing-config",
                                              "cluster.migration.readyTimeoutSeconds=120"],
}
rows, reasons = {}, {}
for name, sets in cni_plans.items():
    doc = compare(load_scenario("migration-docker-to-containerd", QUICK + sets), runtimes=["pools"]).summary()
    mig = doc["migration"]["pools"]
    rows[name] = {"nodes migrated": mig["nodes_migrated"], "halted": bool(mig["halted"]),
                  "nodes NotReady (network)": mig["nodes_network_not_ready"],
                  "pods left pending": sum(mig["pods_pending_by_reason"].values()),
                  "why (first reason)": next(iter(mig["pods_pending_by_reason"]), "")}
    reasons[name] = mig["pods_pending_by_reason"]
display(pd.DataFrame(rows).T)

# %%
config, binaries = (rows[name]["pods left pending"] for name in ("config missing", "binaries missing"))
if config == binaries:
    print(f"The same count, {config} pods Pending, for different reasons:")
else:
    print(f"More pods Pending with the {'config' if config > binaries else 'binaries'} missing: "
          f"{max(config, binaries)} against {min(config, binaries)}. Why:")
for name in ("config missing", "binaries missing"):
    print(f"  {name}: " + "; ".join(f"{n} pods: {why}" for why, n in reasons[name].items()))
gated = rows["config missing, readiness gate 2 min"]
print(f"With the gate: {gated['nodes migrated']} node(s) migrated, halted: {gated['halted']}, "
      f"{gated['pods left pending']} pods left Pending")

# %% [markdown]
# Without the config all 46 pods end Pending: each migrated node joined NotReady and the
# drained pods crowded onto the nodes still on Docker until none was left. Without the
# binaries the apps land on the containerd nodes and stay ContainerCreating with
# `failed to find plugin "loopback" in path [/opt/cni/bin]`, attributed to the CNI hop. With
# the readiness gate one node is lost and the workload keeps running on Docker while the
# operator fixes containerd's CNI section.
#
# ## Docker-in-Docker on containerd nodes
#
# Besides pinning the runners to a Docker pool (above), two plans keep them on containerd:
# a Docker daemon as a DaemonSet whose socket the runners mount, or a `docker:dind` sidecar
# in every runner (`cluster.migration.dind.strategy`). The summary's `migration.dind` says how
# long until each runner's Docker answers, what the daemons cost and what each plan breaks.

# %%
dind_rows, breaks = {}, {}
for strategy in ("pin", "daemonset", "sidecar"):
    doc = compare(load_scenario("migration-docker-to-containerd",
                                QUICK + [f"cluster.migration.dind.strategy={strategy}"]),
                  runtimes=["pools"]).summary()
    d = doc["migration"]["pools"]["dind"]
    dind_rows[strategy] = {"runners running": d["running"], "runners pending": d["pending"],
                           "Docker ready p50 (s)": d["docker_ready_seconds"]["p50"],
                           "Docker ready max (s)": d["docker_ready_seconds"]["max"],
                           "daemon pods": d["daemon_pods"],
                           "DinD memory per node (MB PSS)": d["dind_memory_pss_mb_per_node"]}
    breaks[strategy] = d["breaks"]
display(pd.DataFrame(dind_rows).T)
for strategy, items in breaks.items():
    print(f"{strategy}:")
    for item in items:
        print("  -", item)

# %% [markdown]
# The DaemonSet costs one daemon per node whatever the number of runners, but a runner that
# lands on a freshly joined node waits until that node's daemon image is pulled and the daemon
# answers. The sidecar makes every runner wait for its own daemon and pay for it; both need
# privileged containers.

# %% [markdown]
# ## The log agent
#
# The apps log 100 lines/s each and a fluentd DaemonSet collects them from Docker's JSON files
# (`/var/lib/docker/containers/*/*.log`). On a containerd node the logs are elsewhere
# (`/var/log/pods/...`, CRI format): the agent finds nothing. Reconfigured to the kubelet's
# `/var/log/containers/*.log` links with a parser for both formats, it collects everything.

# %%
agent_rows = {}
for choice in ("unchanged", "reconfigured"):
    doc = compare(load_scenario("migration-docker-to-containerd",
                                QUICK + [f"cluster.migration.logAgents={choice}"]),
                  runtimes=["pools"]).summary()
    for pool, d in doc["migration"]["pools"]["log_agents"]["fluentd-docker"].items():
        agent_rows[(choice, pool)] = {"lines collected": round(d["collected_lines"]),
                                      "lines lost": round(d["lost_lines"]), "why": d["reason"][:60]}
display(pd.DataFrame(agent_rows).T)

# %% [markdown]
# ## Exercises
#
# Each solution runs in this notebook (it uses `QUICK` from above) and checks the observation
# it states with an `assert`.
#
# **1.** Reverse the order: migrate only the `ci` pool (`cluster.migration.pools=[ci]`) and
# leave `apps` on Docker. Are the runners left Pending this time? Why?
#
# <details><summary>Solution</summary>
#
# ```python
# ci_only = compare(load_scenario("migration-docker-to-containerd", QUICK + ["cluster.migration.pools=[ci]"]),
#                   runtimes=["pools"])
# runners = ci_only.pods.query("template == 'dind-runner' and outcome == 'running'")
# print("pending:", int((ci_only.pods.outcome == "pending").sum()))
# print("runners running at the end on:", sorted(runners[runners.deleted.isna()].node.unique()))
# assert (ci_only.pods.outcome == "pending").sum() == 0
# assert all(n.startswith("apps") for n in runners[runners.deleted.isna()].node)
# ```
#
# No pod is left Pending: the `apps` nodes still run Docker and carry the same
# `container-runtime=docker` label, so the drained runners move there. The runners depend on
# the label, not on the pool: check which nodes still carry it before each step.
#
# </details>

# %% [markdown]
# **2.** The binaries are missing (`cniConfig=missing-binaries`) and the plan has the
# 2-minute readiness gate. Does the gate stop the migration this time?
#
# <details><summary>Solution</summary>
#
# ```python
# doc = compare(load_scenario("migration-docker-to-containerd",
#                             QUICK + ["cluster.migration.cniConfig=missing-binaries",
#                                      "cluster.migration.readyTimeoutSeconds=120"]),
#               runtimes=["pools"]).summary()
# mig = doc["migration"]["pools"]
# print(mig["nodes_migrated"], "nodes migrated; halted:", mig["halted"])
# print(mig["pods_pending_by_reason"])
# assert mig["nodes_migrated"] == 6 and not mig["halted"]
# assert any("failed to find plugin" in reason for reason in mig["pods_pending_by_reason"])
# ```
#
# No: all six nodes migrate. The gate waits for the node to be Ready, and with the config in
# place the node is Ready; only each pod's CNI ADD fails, so the apps stay ContainerCreating
# and the gate never sees a problem. Gate on a test pod reaching Running, not on node
# readiness.
#
# </details>

# %% [markdown]
# ## Takeaways
#
# * `runtimes=["pools"]` simulates a mixed cluster, each pool on its own chain, and
#   `cluster.migration` moves pools one node at a time: you see the drain waves and the
#   capacity dip before touching a real cluster.
# * Workloads that need the Docker socket (Docker-in-Docker runners) are the failure point:
#   when the last node labelled `container-runtime=docker` goes, they stay Pending. A Docker
#   DaemonSet or a dind sidecar keeps them running on containerd, at a price in memory,
#   start-up and isolation.
# * Carry the CNI settings over: a missing config takes nodes out silently (NotReady), missing
#   binaries leave pods ContainerCreating; gate each step on the node being Ready.
# * Move log agents to `/var/log/containers/*.log` with a CRI-capable parser before the first
#   node moves, or every line of the migrated nodes is lost to them.
# * Check every `nodeSelector` and `hostPath: /var/run/docker.sock` first; keep a Docker pool
#   (or rewrite the workload) until nothing needs it, and confirm here that nothing is left
#   Pending.
