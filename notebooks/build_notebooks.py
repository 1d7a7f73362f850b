"""Write the kubesim notebooks (nbformat v4) from the cell sources below.

    python notebooks/build_notebooks.py            # (re)writes notebooks/*.ipynb
    python notebooks/build_notebooks.py OUT_DIR    # writes them somewhere else (the test compares)

The notebooks are stored WITHOUT outputs, so they diff cleanly; run them in Jupyter, or headless
with ``jupyter nbconvert --to notebook --execute``. Edit the cells HERE, not in the .ipynb files,
and re-run this script: ``tests/test_notebooks.py`` checks that the committed notebooks are what
this script writes.

Notebook 01 carries slide metadata: ``jupyter nbconvert --to slides --execute
--SlidesExporter.reveal_scroll=True notebooks/01-tour-of-the-call-chains.ipynb`` makes a reveal.js
deck of it (cells marked "skip", the plumbing, stay out of the deck).
"""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parent

# ------------------------------------------------------------------------------------------
# helpers


def _src(text: str) -> str:
    return textwrap.dedent(text).strip("\n")


def md(text: str, slide: str | None = None):
    cell = new_markdown_cell(_src(text))
    if slide:
        cell.metadata["slideshow"] = {"slide_type": slide}
    return cell


def code(text: str, slide: str | None = None):
    cell = new_code_cell(_src(text))
    if slide:
        cell.metadata["slideshow"] = {"slide_type": slide}
    return cell


SETUP = """
# Setup: figures inline; kubesim from the installed package, or from this checkout.
%matplotlib inline
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
"""


def notebook(cells) -> nbformat.NotebookNode:
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"display_name": "Python 3 (ipykernel)", "language": "python",
                                 "name": "python3"}
    nb.metadata["language_info"] = {"name": "python"}
    return nb


# ------------------------------------------------------------------------------------------
# 01: a tour of the call chains (also a reveal.js deck: slide metadata on every cell)

NB01 = [
    md("""
        # A tour of the container-runtime call chains

        ## What you will learn

        * which processes one CRI call crosses on **dockershim** (kubelet → dockershim → dockerd →
          containerd → shim → runc) and on **containerd** (kubelet → containerd → shim → runc);
        * how to read `explain_chain`, kubesim's hop-by-hop narration of a chain, with the source
          of every number;
        * what one pod's creation looks like as a sequence diagram on each chain;
        * how many process boundaries each CRI operation crosses, chain by chain.
        """, slide="slide"),
    code(SETUP, slide="skip"),
    md("""
        ## The chain, as kubesim reads it

        `explain_chain(runtime)` narrates the chain file the simulator runs
        (`simulator/chains/<runtime>.yaml`): every step, the process that does it, the transport
        to reach it, the lock it holds and its median cost. `kubesim explain RUNTIME` prints the
        same text. Next: each chain's **StartContainer**, without the `source:` lines.
        """, slide="slide"),
    code('''
        from simulator.presentation.explain import explain_chain


        def excerpt(runtime: str, operation: str = "StartContainer") -> str:
            """The chain's name and era and one operation of `kubesim explain`, sources left out."""
            lines = explain_chain(runtime).splitlines()
            head = [lines[0]] + [l for l in lines if l.startswith("Era modelled:")]
            start = next(i for i, l in enumerate(lines) if l.startswith(f"{operation} ("))
            end = next((i for i in range(start + 1, len(lines))
                        if lines[i] and not lines[i].startswith(" ")), len(lines))
            body = [l for l in lines[start:end] if not l.strip().startswith("source:")]
            return "\\n".join(head + [""] + body).rstrip()
        ''', slide="skip"),
    code("""
        print(excerpt("dockershim"))
        """, slide="subslide"),
    code("""
        print(excerpt("containerd"))
        """, slide="subslide"),
    md("""
        ## One pod, hop by hop

        We simulate the `default` scenario (one 4-vCPU node, 40 mixed pods, Kubernetes 1.23
        kubelet) on both chains with the same seed, so both see the same arrivals and the same
        random draws. `pick_pod` chooses the simplest pod that ran (no image pull, no init
        container) and `pod_spans` returns its spans: one per hop visit.

        In the diagrams, processes run across and time runs down; the light bands are the
        kubelet's CRI operations and every arrow is a call across a process boundary.
        """, slide="slide"),
    code("""
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
        """, slide="skip"),
    code("""
        display(diagram["dockershim"])
        """, slide="subslide"),
    code("""
        display(diagram["containerd"])
        """, slide="subslide"),
    md("""
        The same pod as text (`kubesim trace` prints this): one line per hop visit, `o>` marks
        caller and callee. containerd's RunPodSandbox:
        """, slide="subslide"),
    code("""
        text = sequence_text(spans["containerd"], lanes_for_runtime("containerd"))
        print("\\n".join(text.splitlines()[1:20]))
        """),
    md("""
        ## Counting hops

        `hop_counts(chain)` counts, for every CRI operation, the steps, the **process-boundary
        crossings** and the distinct processes involved (every branch of the chain file).
        """, slide="slide"),
    code("""
        from simulator.model.chain import load_chain
        from simulator.presentation.explain import hop_counts

        chains = ["dockershim", "cri-dockerd", "containerd", "crio"]
        ops = ["run_podsandbox", "podsandbox_status", "create_container", "start_container",
               "list_containers", "container_status"]
        counts = {rt: hop_counts(load_chain(rt)) for rt in chains}
        crossings = pd.DataFrame({rt: {op: counts[rt][op]["crossings"] for op in ops} for rt in chains})
        processes = pd.DataFrame({rt: {op: counts[rt][op]["processes"] for op in ops} for rt in chains})
        """, slide="skip"),
    code("""
        print("process-boundary crossings per CRI call")
        display(crossings)
        """),
    code("""
        print("processes involved (the kubelet included)")
        display(processes)
        """, slide="subslide"),
    md("""
        ## Where the time goes

        Summing each process's *self time* (time in a hop not spent waiting on a callee) over a
        pod's CRI calls splits the kubelet's wait between the processes, without double counting.
        """, slide="slide"),
    code("""
        display(time_by_hop(comp.spans, title="Where one pod's CRI time goes (default scenario)"))
        """),
    md("""
        ## Takeaways

        * On dockershim every CRI call goes kubelet → dockershim → dockerd → containerd → shim →
          runc; on containerd the CRI plugin lives inside containerd: kubelet → containerd → shim →
          runc. Starting a container crosses about twice as many process boundaries on dockershim
          as on containerd (the table above).
        * dockershim also answers status calls by asking dockerd (`docker inspect`, `nsenter` for
          the pod IP); containerd answers them from memory. These are the calls PLEG makes every
          second.
        * Everything shown comes from the chain files: `kubesim explain RUNTIME` prints the full
          narration with sources, `kubesim trace --runtime RUNTIME` one pod's diagram.
        """, slide="slide"),
]


# ------------------------------------------------------------------------------------------
# 02: latency under load

NB02 = [
    md("""
        # Pod startup latency under load

        ## What you will learn

        * how to answer "what if my node had 2 cores and 80 pods landed on it?" in one call;
        * how to explore cores, `kubeAPIQPS`, pod count and runtime with sliders (when the
          notebook runs in Jupyter) or plain calls (everywhere else);
        * how p50 and p99 of pod startup move with cores and `kubeAPIQPS`, with confidence
          intervals from replications.
        """),
    code(SETUP),
    md("""
        ## One function for the question

        `run` takes the `default` scenario (mixed web, app + sidecar and batch pods on a
        Kubernetes 1.23 kubelet) and changes what the question asks about. The pods arrive **all
        at once** (`workload.kind=batch`), as when a Deployment scales up or a drained node's pods
        land on this one; at one pod every 2 s (the preset's own pace) nothing queues and the
        answers barely move. `kubeAPIBurst` is set to twice `kubeAPIQPS`, the kubelet's own ratio
        (5/10 before 1.27, 50/100 from 1.27).
        """),
    code('''
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
        '''),
    md("""
        ## Sliders, when there is someone to move them

        In Jupyter (Lab, Notebook or VS Code) the next cell draws sliders wired to `run`. Run
        headless (`nbclient`, `nbconvert --execute`, CI) there is no front-end to draw them, so
        it says so and the cell after it makes the same call with the default values. Set
        `KUBESIM_WIDGETS=1` to force the sliders, `KUBESIM_WIDGETS=0` to turn them off.
        """),
    code('''
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
        '''),
    code("""
        comp = run(cores=2, qps=5, pods=80, runtime="dockershim + containerd")
        """),
    md("""
        With `kubeAPIQPS` 5 the pods wait for the kubelet's API client (every status update is a
        GET and a PATCH through a 5-per-second token bucket), so the chain hardly matters. Raise
        the limit and the node's CPUs and the chain become what binds:
        """),
    code("""
        comp = run(cores=2, qps=50, pods=80, runtime="dockershim + containerd")
        """),
    md("""
        ## How p50 and p99 move with cores and `kubeAPIQPS`

        `load_curve` runs a scenario at several values of one key (here `node.cpuCores`) on each
        chain, `replications` times with independent seeds, and reports the mean p50 and p99 with
        a Student-t 95 % interval. To keep this fast: 40 pods and 2 replications (two
        replications give wide intervals; use 5 or more before deciding anything).
        """),
    code("""
        from simulator.experiments.curves import load_curve

        frames = []
        for qps in (5, 50):
            curve = load_curve(scenario_for(cores=1, qps=qps, pods=40), ["dockershim", "containerd"],
                               loads=[1, 2, 4], load_key="node.cpuCores", replications=2, seed=1)
            frames.append(curve.assign(kubeAPIQPS=qps).rename(columns={"load": "cores"}))
        grid = pd.concat(frames, ignore_index=True)
        display(grid.pivot_table(index=["kubeAPIQPS", "cores"], columns="runtime",
                                 values=["p50", "p99"]).round(1))
        """),
    code("""
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
        """),
    md("""
        ## Takeaways

        * A burst of pods on a kubelet with the pre-1.27 API limits (`kubeAPIQPS` 5) is bound by
          the API client: tens of seconds to Running whatever the cores or the runtime.
        * Once the API client keeps up (`kubeAPIQPS` 50), cores and the chain decide: fewer cores
          slow every hop that needs CPU, and dockershim's longer chain pays more for it.
        * At a steady trickle (one pod every 2 s) none of this shows: ask about the burst you
          actually expect. `kubesim sweep --grid node.cpuCores=1,2,4 --grid kubelet.kubeAPIQPS=5,50`
          runs the same grid from the shell.
        """),
]


# ------------------------------------------------------------------------------------------
# 03: failure points

NB03 = [
    md("""
        # Failure points: where pod creation stalls and fails

        ## What you will learn

        * how a container start hung on NFS stalls PLEG on dockershim (NodeNotReady) but not on
          containerd (`pleg-stall-slow-volume`);
        * what a dockerd restart does with and without `live-restore` (`dockerd-restart`);
        * how to read the JSON summary's `failures_by_hop`, `pending_by_hop`,
          `sync_errors_by_hop`, `stalls` and `faults`;
        * how to find where failures begin as load grows (`failure_ramp`).
        """),
    code(SETUP),
    md("""
        ## A container start stuck on NFS (kubernetes/kubernetes#94829)

        One pod's container start hangs 10 minutes on an unreachable NFS volume; ten ordinary
        pods follow, one every 10 s. Under Docker, dockerd holds that container's lock during the
        start, so every inspect of it (PLEG's status call, through dockershim) waits until the
        kubelet's 2-minute CRI deadline.
        """),
    code("""
        import json

        from simulator.config import load_scenario
        from simulator.experiments.runner import compare

        pleg = compare(load_scenario("pleg-stall-slow-volume"), runtimes=["dockershim", "containerd"])
        pleg_doc = pleg.summary()["runtimes"]

        ev = pleg.events
        print("Node readiness events (PLEG health):")
        display(ev[ev.event.isin(["NodeNotReady", "NodeReady"])][["runtime", "time", "event", "detail"]]
                .round({"time": 1}))
        """),
    code("""
        relists = pd.concat([r.relists for r in pleg.runs], ignore_index=True)
        print("PLEG relist durations (s): every relist is meant to take milliseconds, once a second")
        display(relists.groupby("runtime").duration.describe(percentiles=[0.5, 0.9]).round(3))
        display(pd.DataFrame({rt: d["pleg"]["relist_seconds"] for rt, d in pleg_doc.items()}).round(3))
        """),
    code("""
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
            ax.set_title("A hung container start makes dockershim's PLEG relists take minutes")
            ax.legend(loc="center right")
        add_footnote(fig, "kubesim · preset pleg-stall-slow-volume · seed 1")
        display(fig)
        """),
    md("""
        The summary (`kubesim compare --json`) names where things went wrong. Hops read
        `caller -> callee: operation`; `pending_by_hop` gives, for pods not running at the
        horizon, the hop of their last error; `sync_errors_by_hop` counts the errors the kubelet
        retried. `stalls` counts NotReady episodes and their seconds (an episode still open at the
        horizon counts as an episode, not in the seconds). The ordinary pods pay too: their
        status comes from the same stuck relists.
        """),
    code("""
        KEYS = ["pods", "running", "failed", "pending", "failures_by_hop", "pending_by_hop",
                "sync_errors_by_hop", "stalls", "faults"]
        for rt, d in pleg_doc.items():
            print(f"--- {rt}")
            print(json.dumps({k: d[k] for k in KEYS}, indent=1))
        started = pleg.pods.query("outcome == 'running'").groupby("runtime").pod_startup.median()
        print("median startup of the pods that did run (s):", started.round(1).to_dict())
        """),
    md("""
        ## dockerd restarts, with and without live-restore

        The runtime daemon restarts twice (at 120 s and 300 s, 10 s down each) under 30 running
        pods. dockerd without `live-restore` shuts every container down on the way; with it (as
        GCE/COS nodes had) the containers keep running. containerd's restarts leave containers
        under their shims. The same override as `--set faults.0.liveRestore=true`:
        """),
    code("""
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
        """),
    md("""
        `recovery (s)` is the time until the last disrupted pod ran again; empty (`None`/NaN)
        means some had not by the horizon. Without live-restore every dockershim pod is disrupted
        and its sandbox recreated; with it, and on containerd, nothing is.

        ## Where failures begin as load grows

        `failure_ramp` runs the `load-ramp` preset (batches of pause pods on one 1-vCPU node) at
        increasing sizes and tallies, per hop: pods **failed**, pods **pending** at the horizon,
        transient **errors** the kubelet retried, and seconds of PLEG **stall** (node NotReady).
        """),
    code("""
        import importlib

        from simulator.experiments.failures import failure_ramp

        ramp = failure_ramp(load_scenario("load-ramp"), ["dockershim", "containerd"], loads=[100, 400, 800])
        table = (ramp[ramp.kind != "ok"]
                 .pivot_table(index=["kind", "hop"], columns=["runtime", "load"], values="count",
                              aggfunc="sum", fill_value=0))
        print("Problems by hop (count; stall in seconds). Loads without a column had none.")
        display(table)
        print("pods running at the horizon:")
        display(ramp[ramp.kind == "ok"].pivot_table(index="runtime", columns="load", values="count"))
        """),
    code("""
        try:
            failure_figures = importlib.import_module("simulator.presentation.failure_figures")
        except ImportError:
            failure_figures = None
        if failure_figures is not None and hasattr(failure_figures, "failure_heatmap"):
            display(failure_figures.failure_heatmap(ramp, footnote="kubesim · preset load-ramp · seed 1"))
        else:
            print("(simulator.presentation.failure_figures.failure_heatmap is not available; the table above is the result)")
        """),
    md("""
        ## Takeaways

        * A single hung container start is enough to take a dockershim node NotReady: its
          inspects queue behind dockerd's per-container lock until the 2-minute CRI deadline, and
          relists that long trip the 3-minute PLEG threshold. containerd answers status from
          memory; only the stuck pod suffers.
        * dockerd restarts without `live-restore` kill every container on the node; turn it on
          (or move to containerd/CRI-O, whose restarts leave containers running).
        * Read failures by hop: `failures_by_hop` (given up), `pending_by_hop` (stuck at the
          horizon), `sync_errors_by_hop` (retried), `stalls` (NotReady). `kubesim failures` runs
          the load ramp from the shell.
        """),
]


# ------------------------------------------------------------------------------------------
# 04: migration planning

NB04 = [
    md("""
        # Planning a Docker → containerd migration

        ## What you will learn

        * how to simulate a node-pool-by-node-pool migration (`migration-docker-to-containerd`)
          with `compare(..., runtimes=["pools"])`, which keeps each pool's own chain;
        * how to follow pods per runtime over time as nodes are cordoned, drained, reinstalled
          and rejoin;
        * why Docker-in-Docker CI runners are left Pending once the last Docker pool migrates,
          and how to check a fix (keep the CI pool on Docker) before doing it for real.
        """),
    code(SETUP),
    md("""
        ## The plan as written

        Six nodes: pool `apps` (4 nodes) runs a 40-replica Deployment; pool `ci` (2 nodes, label
        `container-runtime=docker`) runs 6 CI runners that mount `/var/run/docker.sock` and select
        that label. From 120 s each node in turn is cordoned, drained (its pods are deleted and
        recreated elsewhere by their ReplicaSet), reinstalled with containerd (5 min) and rejoins
        labelled `container-runtime=containerd`: first `apps`, then `ci`.
        """),
    code("""
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
        """),
    md("""
        Each pod object counts once per node it ran on (a drained pod is recreated under a new
        name), so there are more pod rows than replicas. `unscheduled` holds the pods the
        scheduler could place nowhere.

        ## Pods per runtime over time

        A pod counts from the moment it is observed Running until it is deleted (drained).
        """),
    code('''
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
        '''),
    code("""
        try:
            from simulator.presentation.failure_figures import migration_timeline
        except ImportError:
            migration_timeline = None
        if migration_timeline is not None:  # node by node: runtime, reinstall gaps, pods, Pending
            display(migration_timeline(as_planned.pods, as_planned.events,
                                       title="As planned: node by node",
                                       footnote="kubesim · migration-docker-to-containerd · seed 1"))
        display(plot_migration(as_planned, "As planned: apps then ci move to containerd"))
        """),
    md("""
        ## Who is left behind

        The runners select `container-runtime: docker`. When `ci-1` drains, its runners move to
        `ci-2`; when `ci-2` drains there is no Docker node left, and the recreated runners stay
        Pending with the scheduler's reason.
        """),
    code("""
        stuck = as_planned.pods.query("outcome == 'pending'")
        display(stuck[["pod", "template", "runtime", "created", "failure_hop", "failure_reason"]].round(1))
        display(node_events(as_planned).round(1))
        """),
    md("""
        ## The fix: keep a Docker pool for the runners

        Migrate only `apps` (the same as `--set 'cluster.migration.pools=[apps]'`) and leave `ci`
        on Docker until the runners use a Docker-free build tool (kaniko, buildah, BuildKit).
        """),
    code("""
        fixed = compare(load_scenario("migration-docker-to-containerd", ["cluster.migration.pools=[apps]"]),
                        runtimes=["pools"])
        display(outcome(fixed))
        left = int((fixed.pods.outcome == "pending").sum())
        print(f"pods left Pending: {left}")
        assert left == 0, "the fixed plan should leave no pod Pending"
        display(plot_migration(fixed, "Fixed: apps move to containerd, ci stays on Docker"))
        """),
    md("""
        ## Takeaways

        * `runtimes=["pools"]` simulates a mixed cluster, each pool on its own chain, and
          `cluster.migration` moves pools one node at a time: you see the drain waves and the
          capacity dip before touching a real cluster.
        * Workloads that need the Docker socket (Docker-in-Docker runners) are the failure point:
          when the last node labelled `container-runtime=docker` goes, they stay Pending.
        * Check every `nodeSelector` and `hostPath: /var/run/docker.sock` first; keep a Docker pool
          (or rewrite the workload) until nothing needs it, and confirm here that nothing is left
          Pending.
        """),
]


# ------------------------------------------------------------------------------------------
# 05: bring your own numbers

NB05 = [
    md("""
        # Bring your own numbers

        ## What you will learn

        * how to paste your kubelet's `KubeletConfiguration` into a kubesim scenario;
        * how to set your node size and a CNI latency you measured (median and p90);
        * what kubesim says when a key is misspelt or a value is impossible;
        * how to read a real kubelet `/metrics` scrape and put its Docker operation latencies
          next to the model's.
        """),
    code(SETUP),
    md("""
        ## Your kubelet configuration

        The scenario's `kubelet:` section uses the real `KubeletConfiguration` field names and Go
        durations, so a config file can be pasted in. kubesim models a subset of the fields; the
        rest (`apiVersion`, cgroup settings...) are set aside here and listed.
        """),
    code('''
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
        '''),
    md("""
        ## Your node and your CNI

        A 2-vCPU, 8 GiB node, and a CNI ADD measured at 150 ms median and 400 ms p90 (say, from
        your CNI plugin's logs). Distributions are given by median and p90, the two numbers
        kubelet metrics and most logs give you; kubesim fits a log-normal to them.
        """),
    code("""
        from simulator.config import ConfigError, load_scenario
        from simulator.presets import preset_data

        mine = preset_data("default")  # the preset as a dict: workload, images, node...
        mine["name"] = "my-node"
        mine["kubelet"] = kubelet
        mine["node"] = {"cpuCores": 2, "memoryGiB": 8}
        mine["cni"] = {"add": {"dist": "lognormal", "medianMs": 150, "p90Ms": 400}}
        scenario = load_scenario(mine)
        print(yaml.safe_dump({k: scenario.resolved()[k] for k in ("kubelet", "node", "cni")}, sort_keys=False))
        """),
    md("""
        ## When a value is wrong

        Every key is checked before the run starts; a mistake is refused with one paragraph that
        names the field, the value and what is allowed.
        """),
    code("""
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
                print(f"{label}:\\n  {err}\\n")
        """),
    md("""
        ## Your node against the default one
        """),
    code("""
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
        """),
    md("""
        ## A real kubelet's `/metrics`

        The project keeps three real kubelet scrapes in `shared/realdata/` (next to this
        repository). The Kubernetes 1.21 one, from an EKS node with about 30 pods, has the
        histogram `kubelet_docker_operations_duration_seconds`: how long dockershim waited for
        dockerd, per operation. `histogram_quantile`-style interpolation inside the buckets gives
        p50 and p90. Skipped when the file is not there.
        """),
    code('''
        import re

        import numpy as np

        CANDIDATES = [Path("../../shared/realdata/kubelet-1.21-dockershim-eks.prom"),  # repo/../shared
                      Path("/work/shared/realdata/kubelet-1.21-dockershim-eks.prom")]
        scrape = next((p for p in CANDIDATES if p.is_file()), None)

        BUCKET = re.compile(r'^kubelet_docker_operations_duration_seconds_bucket\\{operation_type="(\\w+)",le="([^"]+)"\\} (\\S+)')


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
        '''),
    md("""
        The metric times dockershim's calls to dockerd, so the model's counterpart is the
        `dockershim -> dockerd` hop of the same operation (`POST /containers/create`, `POST
        /containers/{id}/start`); the CRI operation as the kubelet sees it
        (`per_operation_mean_seconds`) adds dockershim's own work on top. Model numbers below are
        the default scenario on dockershim.
        """),
    code("""
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
        """),
    md("""
        ## Takeaways

        * Paste the `KubeletConfiguration` fields straight into `kubelet:`; Go durations such as
          `2m` work, and fields kubesim does not model are easy to list and set aside.
        * Put your own measurements in as median + p90 (`{dist: lognormal, medianMs, p90Ms}`),
          for CNI (`cni.add`) or any other distribution in the scenario.
        * A misspelt key or an impossible value stops before the run with a message naming the
          field: no silent defaults.
        * A kubelet `/metrics` scrape is a few lines of regex away from p50/p90 per operation,
          which you can hold against the model hop by hop.
        """),
]

NOTEBOOKS = {
    "01-tour-of-the-call-chains.ipynb": NB01,
    "02-latency-under-load.ipynb": NB02,
    "03-failure-points.ipynb": NB03,
    "04-migration-planning.ipynb": NB04,
    "05-bring-your-own-numbers.ipynb": NB05,
}


def build(out_dir: Path = HERE) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, cells in NOTEBOOKS.items():
        nb = notebook(cells)
        # deterministic cell ids, so regenerating gives the same bytes
        for i, cell in enumerate(nb.cells):
            cell["id"] = f"{name[:2]}-{i:02d}"
        nbformat.validate(nb)
        path = out_dir / name
        with open(path, "w", encoding="utf-8", newline="\n") as f:
            nbformat.write(nb, f)
        written.append(path)
    return written


if __name__ == "__main__":
    for p in build(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE):
        print(p)
