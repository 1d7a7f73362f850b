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

# %% [markdown] slideshow={"slide_type": "slide"}
# # A tour of the container-runtime call chains
#
# ## What you will learn
#
# * which processes one CRI call crosses on **dockershim** (kubelet → dockershim → dockerd →
#   containerd → shim → runc) and on **containerd** (kubelet → containerd → shim → runc);
# * how to read `explain_chain`, kubesim's hop-by-hop narration of a chain, with the source
#   of every number;
# * what one pod's creation looks like as a sequence diagram on each chain;
# * how many process boundaries each CRI operation crosses, chain by chain, and why fewer
#   boundaries do not always mean faster pods (what binds).
#
# You are asked to predict two results before the cell that shows them; three exercises with
# solutions close the notebook.

# %% slideshow={"slide_type": "skip"}
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

# %% [markdown] slideshow={"slide_type": "slide"}
# ## The chain, as kubesim reads it
#
# `explain_chain(runtime)` narrates the chain file the simulator runs
# (`simulator/chains/<runtime>.yaml`): every step, the process that does it, the transport
# to reach it, the lock it holds and its median cost. `kubesim explain RUNTIME` prints the
# same text. Next: each chain's **StartContainer**, without the `source:` lines.

# %% slideshow={"slide_type": "skip"}
from simulator.presentation.explain import explain_chain


def excerpt(runtime: str, operation: str = "StartContainer") -> str:
    """The chain's name and era and one operation of `kubesim explain`, sources left out."""
    lines = explain_chain(runtime).splitlines()
    head = [lines[0]] + [l for l in lines if l.startswith("Era modelled:")]
    start = next(i for i, l in enumerate(lines) if l.startswith(f"{operation} ("))
    end = next((i for i in range(start + 1, len(lines))
                if lines[i] and not lines[i].startswith(" ")), len(lines))
    body = [l for l in lines[start:end] if not l.strip().startswith("source:")]
    return "\n".join(head + [""] + body).rstrip()


# %% slideshow={"slide_type": "subslide"}
print(excerpt("dockershim"))

# %% slideshow={"slide_type": "subslide"}
print(excerpt("containerd"))

# %% [markdown] slideshow={"slide_type": "slide"}
# ## One pod, hop by hop
#
# We simulate the `default` scenario (one 4-vCPU node, 40 mixed pods, Kubernetes 1.23
# kubelet) on both chains with the same seed, so both see the same arrivals and the same
# random draws. `pick_pod` chooses the simplest pod that ran (no image pull, no init
# container) and `pod_spans` returns its spans: one per hop visit.
#
# In the diagrams, processes run across and time runs down; the light bands are the
# kubelet's CRI operations and every arrow is a call across a process boundary.

# %% slideshow={"slide_type": "skip"}
from simulator.config import load_scenario
from simulator.experiments.runner import compare
from simulator.presentation.figures import sequence_diagram, sequence_text, time_by_hop
from simulator.presentation.outputs import lanes_for_runtime, pick_pod, pod_spans

comp = compare(load_scenario("default"), runtimes=["dockershim", "containerd"], seed=1)
pods = {rt: pick_pod(comp, rt, None) for rt in comp.runtimes}
spans = {rt: pod_spans(comp, rt, pods[rt]) for rt in comp.runtimes}
diagram = {rt: sequence_diagram(spans[rt], lanes_for_runtime(rt),
                                title=f"{rt}: pod {pods[rt]}, RunPodSandbox to StartContainer")
           for rt in comp.runtimes}
for rt in comp.runtimes:
    print(f"{rt:>10}: pod {pods[rt]}, {len(spans[rt])} hop visits, lanes {lanes_for_runtime(rt)}")

# %% slideshow={"slide_type": "subslide"}
display(diagram["dockershim"])

# %% slideshow={"slide_type": "subslide"}
display(diagram["containerd"])

# %% [markdown] slideshow={"slide_type": "subslide"}
# The same pod as text (`kubesim trace` prints this): one line per hop visit, `o>` marks
# caller and callee. containerd's RunPodSandbox:

# %%
text = sequence_text(spans["containerd"], lanes_for_runtime("containerd"))
print("\n".join(text.splitlines()[1:20]))

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Counting hops
#
# `hop_counts(chain)` counts, for every CRI operation, the steps, the **process-boundary
# crossings** and the distinct processes involved (every branch of the chain file).
#
# **Predict, then run.** How many process boundaries does one StartContainer cross on
# dockershim, and how many on containerd? Write both numbers down, then run the cells below.

# %% slideshow={"slide_type": "skip"}
from simulator.chains import load_chain
from simulator.presentation.explain import hop_counts

chains = ["dockershim", "cri-dockerd", "containerd", "crio"]
ops = ["run_podsandbox", "podsandbox_status", "create_container", "start_container",
       "list_containers", "container_status"]
counts = {rt: hop_counts(load_chain(rt)) for rt in chains}
crossings = pd.DataFrame({rt: {op: counts[rt][op]["crossings"] for op in ops} for rt in chains})
processes = pd.DataFrame({rt: {op: counts[rt][op]["processes"] for op in ops} for rt in chains})

# %%
print("process-boundary crossings per CRI call")
display(crossings)

# %%
ds, cd = counts["dockershim"]["start_container"], counts["containerd"]["start_container"]
extra = [p for p in load_chain("dockershim").processes if p not in load_chain("containerd").processes]
print(f"StartContainer: {ds['crossings']} crossings on dockershim, {cd['crossings']} on containerd "
      f"({ds['crossings'] / cd['crossings']:.1f}x). Processes only on the dockershim chain: {', '.join(extra)}.")

# %% slideshow={"slide_type": "subslide"}
print("processes involved (the kubelet included)")
display(processes)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Where the time goes
#
# Summing each process's *self time* (time in a hop not spent waiting on a callee) over a
# pod's CRI calls splits the kubelet's wait between the processes, without double counting.
#
# **Predict, then run.** With about twice the crossings, how much more CRI time does a pod
# spend on dockershim than on containerd, and which process takes most of it? The figure's
# title answers, computed from the spans.

# %%
display(time_by_hop(comp.spans, footnote="kubesim · default scenario · seed 1"))

# %% [markdown] slideshow={"slide_type": "subslide"}
# CRI time is only part of a pod's start-up. What binds the whole start-up (created → Running),
# as shares of the mean, on each chain (`kubesim compare` prints the same lines):

# %%
from simulator.presentation.binds import binds_lines

print("\n".join(binds_lines(comp.summary())))

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Exercises
#
# Each solution runs in this notebook (it uses `counts`, `crossings` and `excerpt` from above)
# and checks the observation it states with an `assert`.
#
# **1.** cri-dockerd is dockershim moved out of the kubelet into its own process. Compare the
# crossings of every CRI call on the two chains: what does the move cost?
#
# <details><summary>Solution</summary>
#
# ```python
# extra = crossings["cri-dockerd"] - crossings["dockershim"]
# print(extra)
# assert (extra == 1).all()
# ```
#
# Exactly one crossing more on every call: the kubelet → cri-dockerd gRPC hop. dockershim ran
# inside the kubelet's process, so reaching it crossed no boundary; everything behind it
# (dockerd → containerd → shim → runc) is the same.
#
# </details>

# %% [markdown] slideshow={"slide_type": "subslide"}
# **2.** Which CRI call saves the most crossings on containerd compared with dockershim? Read
# that call's narration on dockershim to see where the extra hops go.
#
# <details><summary>Solution</summary>
#
# ```python
# saved = crossings["dockershim"] - crossings["containerd"]
# print(saved.sort_values(ascending=False))
# assert saved.idxmax() == "run_podsandbox"
# print(excerpt("dockershim", "RunPodSandbox"))
# ```
#
# RunPodSandbox: 15 crossings on dockershim against 8 on containerd. On dockershim the pod's
# sandbox is a Docker container (the pause image) created and started through dockerd
# (which goes on to containerd, the shim and runc), and before its CNI ADDs dockershim asks
# dockerd twice more (inspects for the resolv.conf path and the network namespace).
#
# </details>

# %% [markdown] slideshow={"slide_type": "subslide"}
# **3.** CRI-O's StartContainer crosses even fewer boundaries than containerd's. Run the
# `default` scenario on containerd and CRI-O (seed 1): does CRI-O start pods faster? Why?
#
# <details><summary>Solution</summary>
#
# ```python
# two = compare(load_scenario("default"), runtimes=["containerd", "crio"], seed=1).summary()
# print(counts["containerd"]["start_container"]["crossings"], counts["crio"]["start_container"]["crossings"])
# print("\n".join(binds_lines(two)))
# means = [two["runtimes"][rt]["binds"]["mean_startup_seconds"] for rt in ("containerd", "crio")]
# assert abs(means[0] - means[1]) < 0.05 * max(means)
# assert {two["runtimes"][rt]["binds"]["top"] for rt in ("containerd", "crio")} == {"pleg"}
# ```
#
# No: the two start pods in about the same time (within 5 %). On both, the largest share of
# the start-up is waiting for PLEG's relist (once a second) to notice the container, which
# does not depend on the chain; the last what-binds line says so. Fewer hops only show when
# the chain is what binds (notebook 02).
#
# </details>

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Takeaways
#
# * On dockershim every CRI call goes kubelet → dockershim → dockerd → containerd → shim →
#   runc; on containerd the CRI plugin lives inside containerd: kubelet → containerd → shim →
#   runc. Starting a container crosses about twice as many process boundaries on dockershim
#   as on containerd (the table above).
# * dockershim also answers status calls by asking dockerd (`docker inspect`, `nsenter` for
#   the pod IP); containerd answers them from memory. These are the calls PLEG makes every
#   second.
# * Everything shown comes from the chain files: `kubesim explain RUNTIME` prints the full
#   narration with sources, `kubesim trace --runtime RUNTIME` one pod's diagram.
