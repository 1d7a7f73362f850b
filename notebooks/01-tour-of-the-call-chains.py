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
# * how many process boundaries each CRI operation crosses, chain by chain.

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

# %% slideshow={"slide_type": "subslide"}
print("processes involved (the kubelet included)")
display(processes)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Where the time goes
#
# Summing each process's *self time* (time in a hop not spent waiting on a callee) over a
# pod's CRI calls splits the kubelet's wait between the processes, without double counting.

# %%
display(time_by_hop(comp.spans, title="Where one pod's CRI time goes (default scenario)"))

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
