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
# # Pod startup latency under load
#
# ## What you will learn
#
# * how to answer "what if my node had 2 cores and 80 pods landed on it?" in one call;
# * how to explore cores, `kubeAPIQPS`, pod count and runtime with sliders (when the
#   notebook runs in Jupyter) or plain calls (everywhere else);
# * how p50 and p99 of pod startup move with cores and `kubeAPIQPS`, with confidence
#   intervals from replications.

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
# ## One function for the question
#
# `run` takes the `default` scenario (mixed web, app + sidecar and batch pods on a
# Kubernetes 1.23 kubelet) and changes what the question asks about. The pods arrive **all
# at once** (`workload.kind=batch`), as when a Deployment scales up or a drained node's pods
# land on this one; at one pod every 2 s (the preset's own pace) nothing queues and the
# answers barely move. `kubeAPIBurst` is set to twice `kubeAPIQPS`, the kubelet's own ratio
# (5/10 before 1.27, 50/100 from 1.27).

# %%
from simulator.config import load_scenario
from simulator.experiments.runner import compare
from simulator.presentation.figures import latency_cdf

RUNTIME_CHOICES = {
    "dockershim + containerd": ["dockershim", "containerd"],
    "all four chains": ["dockershim", "cri-dockerd", "containerd", "crio"],
    "dockershim": ["dockershim"],
    "containerd": ["containerd"],
    "crio": ["crio"],
    "cri-dockerd": ["cri-dockerd"],
}


def scenario_for(cores=2, qps=5, pods=80):
    return load_scenario("default", [
        f"node.cpuCores={cores}",
        f"kubelet.kubeAPIQPS={qps}",
        f"kubelet.kubeAPIBurst={int(2 * qps)}",
        f"workload.pods={pods}",
        "workload.kind=batch",
    ])


def run(cores=2, qps=5, pods=80, runtime="dockershim + containerd", replications=1, show=True):
    """Simulate `pods` pods landing at once on a `cores`-vCPU node; draw the startup CDF."""
    comp = compare(scenario_for(cores, qps, pods), runtimes=RUNTIME_CHOICES[runtime],
                   replications=replications, seed=1)
    if show:
        doc = comp.summary()["runtimes"]
        table = pd.DataFrame.from_dict({rt: {"p50 (s)": d["pod_startup_seconds"]["p50"],
                                             "p99 (s)": d["pod_startup_seconds"]["p99"],
                                             "running": d["running"], "pods": d["pods"]}
                                        for rt, d in doc.items()}, orient="index")
        display(table.round(1))
        display(latency_cdf(comp.pods, title=f"{pods} pods at once, {cores} cores, kubeAPIQPS {qps}",
                            footnote=f"kubesim · default scenario, batch arrival · seed 1 · "
                                     f"{replications} replication(s)"))
    return comp


# %% [markdown]
# ## Sliders, when there is someone to move them
#
# In Jupyter (Lab, Notebook or VS Code) the next cell draws sliders wired to `run`. Run
# headless (`nbclient`, `nbconvert --execute`, CI) there is no front-end to draw them, so
# it says so and the cell after it makes the same call with the default values. Set
# `KUBESIM_WIDGETS=1` to force the sliders, `KUBESIM_WIDGETS=0` to turn them off.

# %%
import os


def widgets_frontend() -> bool:
    """True when ipywidgets is installed and a Jupyter front-end can render it."""
    forced = os.environ.get("KUBESIM_WIDGETS")
    if forced is not None:
        return forced == "1"
    try:
        import ipywidgets  # noqa: F401
    except ImportError:
        return False
    # Jupyter Server sets JPY_SESSION_NAME for the kernels it starts, VS Code sets
    # VSCODE_PID; nbclient and nbconvert --execute set neither.
    return any(k in os.environ for k in ("JPY_SESSION_NAME", "VSCODE_PID"))


if widgets_frontend():
    import ipywidgets as w

    def explore(cores, qps, pods, runtime):
        run(cores, qps, pods, runtime)  # draws the table and the CDF

    w.interact(
        explore,
        cores=w.IntSlider(value=2, min=1, max=16, description="vCPUs", continuous_update=False),
        qps=w.SelectionSlider(options=[5, 10, 20, 50, 100], value=5, description="kubeAPIQPS",
                              continuous_update=False),
        pods=w.IntSlider(value=80, min=10, max=200, step=10, description="pods",
                         continuous_update=False),
        runtime=w.Dropdown(options=list(RUNTIME_CHOICES), value="dockershim + containerd",
                           description="runtime"),
    )
else:
    print("No widget front-end here: the next cell runs the default question as a plain call.")

# %%
comp = run(cores=2, qps=5, pods=80, runtime="dockershim + containerd")

# %% [markdown]
# With `kubeAPIQPS` 5 the pods wait for the kubelet's API client (every status update is a
# GET and a PATCH through a 5-per-second token bucket), so the chain hardly matters. Raise
# the limit and the node's CPUs and the chain become what binds:

# %%
comp = run(cores=2, qps=50, pods=80, runtime="dockershim + containerd")

# %% [markdown]
# ## How p50 and p99 move with cores and `kubeAPIQPS`
#
# `load_curve` runs a scenario at several values of one key (here `node.cpuCores`) on each
# chain, `replications` times with independent seeds, and reports the mean p50 and p99 with
# a Student-t 95 % interval. To keep this fast: 40 pods and 2 replications (two
# replications give wide intervals; use 5 or more before deciding anything).

# %%
from simulator.experiments.curves import load_curve

frames = []
for qps in (5, 50):
    curve = load_curve(scenario_for(cores=1, qps=qps, pods=40), ["dockershim", "containerd"],
                       loads=[1, 2, 4], load_key="node.cpuCores", replications=2, seed=1)
    frames.append(curve.assign(kubeAPIQPS=qps).rename(columns={"load": "cores"}))
grid = pd.concat(frames, ignore_index=True)
display(grid.pivot_table(index=["kubeAPIQPS", "cores"], columns="runtime",
                         values=["p50", "p99"]).round(1))

# %%
from matplotlib.ticker import MaxNLocator
from simulator.presentation.style import add_footnote, figure_style, new_figure, runtime_color

with figure_style("light"):
    fig, axes = new_figure(1, 2, sharey=True)
    for ax, qps in zip(axes, (5, 50)):
        for rt, g in grid[grid.kubeAPIQPS == qps].groupby("runtime", sort=False):
            ax.plot(g.cores, g.p99, marker="D", color=runtime_color(rt), label=f"{rt} p99")
            ax.fill_between(g.cores, g.p99_lo.clip(lower=0), g.p99_hi, color=runtime_color(rt), alpha=0.12)
            ax.plot(g.cores, g.p50, marker="o", linestyle="--", color=runtime_color(rt), label=f"{rt} p50")
        ax.set_title(f"kubeAPIQPS {qps}")
        ax.set_xlabel("node vCPUs")
        ax.set_xticks([1, 2, 4])
        ax.yaxis.set_major_locator(MaxNLocator(6))
    axes[0].set_ylabel("pod startup (s)")
    axes[1].legend(loc="upper right")
    fig.suptitle("40 pods at once: pod startup p50 (●) and p99 (◆)")
add_footnote(fig, "kubesim · default scenario, batch arrival · seed 1 · 2 replications · band: 95 % interval of p99")
display(fig)

# %% [markdown]
# ## Takeaways
#
# * A burst of pods on a kubelet with the pre-1.27 API limits (`kubeAPIQPS` 5) is bound by
#   the API client: tens of seconds to Running whatever the cores or the runtime.
# * Once the API client keeps up (`kubeAPIQPS` 50), cores and the chain decide: fewer cores
#   slow every hop that needs CPU, and dockershim's longer chain pays more for it.
# * At a steady trickle (one pod every 2 s) none of this shows: ask about the burst you
#   actually expect. `kubesim sweep --grid node.cpuCores=1,2,4 --grid kubelet.kubeAPIQPS=5,50`
#   runs the same grid from the shell.
