"""Writing a comparison to disk: data (CSV + Parquet), the JSON summary, figures, traces.

Every file is written to a temporary name in its folder and renamed into place, so an
interrupted run never leaves a half-written file behind.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Callable, Optional

import pandas as pd

from ..config import ConfigError, load_scenario
from ..experiments.runner import Comparison, compare
from . import figures as F
from .style import save_figure
from .trace import to_chrome_trace

__all__ = ["write_outputs", "write_trace", "write_figures", "atomic_write", "lanes_for_runtime"]


def atomic_write(path: Path, writer: Callable[[Path], None]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(fd)
    try:
        writer(Path(tmp))
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def _write_text(path: Path, text: str) -> Path:
    return atomic_write(path, lambda p: p.write_text(text, encoding="utf-8"))


def _write_frame(df: pd.DataFrame, base: Path) -> list[Path]:
    csv = atomic_write(base.with_suffix(".csv"), lambda p: df.to_csv(p, index=False))
    pq = atomic_write(base.with_suffix(".parquet"), lambda p: df.to_parquet(p, index=False))
    return [csv, pq]


def _save(fig, base: Path) -> list[Path]:
    out = []
    for ext in ("png", "svg"):
        target = base.with_name(base.name + "." + ext)
        tmpdir = Path(tempfile.mkdtemp(dir=base.parent, prefix=".fig."))
        try:
            png, svg = save_figure(fig, tmpdir / base.name)
            os.replace(png if ext == "png" else svg, target)
        finally:
            for f in tmpdir.iterdir():
                f.unlink()
            tmpdir.rmdir()
        out.append(target)
    return out


def footnote_for(comp: Comparison) -> str:
    return (f"kubesim · scenario '{comp.scenario.name}' · seed {comp.seed} · "
            f"{comp.replications} replication(s) · {comp.scenario.workload.pods} pods · "
            f"{comp.scenario.node.cpuCores:g} cores")


def lanes_for_runtime(runtime: str) -> list[str]:
    from ..chains import load_chain

    chain = load_chain(runtime)
    order = ["kubelet"]
    for op in ("run_podsandbox", "podsandbox_status", "create_container", "start_container",
               "container_status"):
        for p in chain.hop_processes(op):
            if p not in order:
                order.append(p)
    # CNI and forks last, so the daemon -> shim -> runc staircase reads left to right
    tail = [p for p in order if p in ("cni", "nsenter", "pinns")]
    return [p for p in order if p not in tail] + tail


def pick_pod(comp: Comparison, runtime: str, pod: Optional[str]) -> str:
    pods = comp.pods
    mine = pods[(pods.runtime == runtime) & (pods.replication == 0)]
    if pod:
        if pod not in set(mine.pod):
            raise ConfigError(f"--pod {pod!r}: no such pod in this run (pods are named pod-00000 ...)")
        return pod
    ok = mine[mine.outcome == "running"]
    if ok.empty:
        raise ConfigError(f"no pod reached Running on {runtime}; nothing to trace")
    # The chain itself shows best on the simplest pod: no image pull, no init container, the
    # fewest containers; the first such pod created.
    spec = {t.name: t.spec for t in comp.scenario.workload.templates}
    ok = ok.assign(
        _init=[len(spec[t].initContainers) for t in ok.template],
        _n=[len(spec[t].containers) for t in ok.template],
        _pull=ok.image_pull_seconds > 0,
    )
    return str(ok.sort_values(["_pull", "_init", "_n", "created"]).pod.iloc[0])


def pod_spans(comp: Comparison, runtime: str, pod: str, sources=("sync", "puller")) -> pd.DataFrame:
    """One pod's spans: by default its SyncPod and pulls (PLEG's status calls left out)."""
    s = comp.spans
    return s[(s.runtime == runtime) & (s.replication == 0) & (s.pod == pod) & s.source.isin(sources)]


def write_outputs(comp: Comparison, out: Path, theme: str = "light") -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = [_write_text(out / "summary.json", json.dumps(comp.summary(), indent=2) + "\n")]
    for name in ("pods", "spans", "resources", "events"):
        written += _write_frame(getattr(comp, name), out / name)
    written += _figures(comp, out / "figures", theme)
    return written


def _figures(comp: Comparison, out: Path, theme: str) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    note = footnote_for(comp)
    written = []
    written += _save(F.latency_cdf(comp.pods, footnote=note, theme=theme), out / "pod-startup-cdf")
    written += _save(F.time_by_operation(comp.spans, footnote=note, theme=theme), out / "time-by-operation")
    written += _save(F.time_by_hop(comp.spans, footnote=note, theme=theme), out / "time-by-hop")
    for rt in comp.summary_runtimes:
        if rt == "unscheduled":
            continue
        pod = pick_pod(comp, rt, None)
        fig = F.sequence_diagram(pod_spans(comp, rt, pod), lanes_for_runtime(rt),
                                 footnote=note, theme=theme)
        written += _save(fig, out / f"sequence-{rt}")
    return written


def write_trace(comp: Comparison, runtime: str, pod: Optional[str], out: Path) -> tuple[str, list[Path]]:
    pod = pick_pod(comp, runtime, pod)
    spans = pod_spans(comp, runtime, pod)
    lanes = lanes_for_runtime(runtime)
    text = F.sequence_text(spans, lanes)
    out.mkdir(parents=True, exist_ok=True)
    written = [_write_text(out / f"sequence-{runtime}-{pod}.txt", text + "\n")]
    fig = F.sequence_diagram(spans, lanes, footnote=footnote_for(comp))
    written += _save(fig, out / f"sequence-{runtime}-{pod}")
    trace = to_chrome_trace(comp.spans[comp.spans.replication == 0])
    written.append(_write_text(out / f"trace-{runtime}.json", json.dumps(trace) + "\n"))
    header = f"{runtime}: pod {pod}, every hop visit in time order (ms from the pod's first call)\n"
    return header + text, written


def write_failures(df: pd.DataFrame, out: Path, scenario, load_key: str, seed: int) -> tuple[str, list[Path]]:
    """The failure-point table (CSV, Parquet, text) and heatmap of a load ramp."""
    from .failure_figures import failure_heatmap, failure_table

    out.mkdir(parents=True, exist_ok=True)
    written = _write_frame(df, out / "failures")
    table = failure_table(df)
    text = (f"Failures and stalls by hop as {load_key} grows (scenario '{scenario.name}', seed {seed}).\n"
            "F = pods failed, P = pods pending at the horizon, E = transient errors retried, "
            "S = seconds the node was NotReady (PLEG)\n\n" + table.to_string())
    written.append(_write_text(out / "failures.txt", text + "\n"))
    note = f"kubesim · scenario '{scenario.name}' · seed {seed} · load = {load_key}"
    written += _save(failure_heatmap(df, footnote=note), out / "failures-by-hop")
    return text, written


def write_figures(out: Path, preset: str = "default", seed: int = 1, theme: str = "light",
                  pptx: Path | None = None) -> list[Path]:
    """Regenerate the whole figure catalogue from scratch: PNG (1920x1080) and SVG of every
    figure, an index page listing each with what it teaches, and optionally a PowerPoint deck.
    Everything is computed from fixed seeds, so a second run writes the same bytes."""
    from ..chains import load_chain
    from ..experiments.curves import load_curve
    from ..experiments.failures import failure_ramp
    from ..model.simulation import simulate
    from . import catalogue as C
    from .failure_figures import failure_heatmap, migration_timeline
    from .publish import write_index, write_pptx

    out.mkdir(parents=True, exist_ok=True)
    for old in list(out.glob("*.png")) + list(out.glob("*.svg")):
        old.unlink()  # from scratch: no figure of an earlier catalogue survives
    all_rt = ["dockershim", "containerd", "crio", "cri-dockerd"]
    scenario = load_scenario(preset)
    comp = compare(scenario, runtimes=all_rt, seed=seed)
    note = footnote_for(comp)
    entries: list[dict] = []
    written: list[Path] = []

    def add(stem: str, fig, title: str, teaches: str) -> None:
        written.extend(_save(fig, out / stem))
        entries.append({"file_stem": stem, "title": title, "teaches": teaches})

    add("pod-startup-cdf", F.latency_cdf(comp.pods, footnote=note, theme=theme),
        "How long until a pod runs",
        "Share of pods running within x seconds of creation, per chain: the chain changes the whole curve, not only the tail.")
    add("time-by-operation", F.time_by_operation(comp.spans, footnote=note, theme=theme),
        "Where the time goes, by CRI operation",
        "RunPodSandbox and StartContainer dominate; dockershim spends about twice as long in each as containerd.")
    add("time-by-hop", F.time_by_hop(comp.spans, footnote=note, theme=theme),
        "Where the time goes, hop by hop",
        "On the Docker chains most of a pod's time is spent inside dockerd; runc costs the same on every chain.")
    pod = pick_pod(comp, "dockershim", None)
    add("waterfall-dockershim", C.waterfall(pod_spans(comp, "dockershim", pod), footnote=note, theme=theme),
        "One pod's creation as a waterfall (dockershim)",
        "The CRI calls of one pod to scale, each split by the process that did the work.")
    for rt in all_rt:
        pod = pick_pod(comp, rt, None)
        add(f"sequence-{rt}", F.sequence_diagram(pod_spans(comp, rt, pod), lanes_for_runtime(rt), footnote=note,
                                                 theme=theme),
            f"Sequence diagram: one pod on {rt}",
            "Every call of one pod's creation, processes as lanes, time to scale: count the hops.")
    add("chains-side-by-side", C.chains_side_by_side([load_chain(r) for r in all_rt], footnote="kubesim · chain data",
                                                     theme=theme),
        "The four call chains side by side",
        "The processes and transports RunPodSandbox crosses on each chain, and where CNI runs.")
    add("resources-by-process", C.resources_by_process(comp.resources, footnote=note, theme=theme),
        "CPU and memory per process",
        "One shim per container makes the Docker chains' memory grow with pods; CRI-O's conmon is tiny.")
    batch = load_scenario(preset, ["workload.kind=batch", "simulation.steadyStateSeconds=0", "node.cpuCores=2",
                                   "kubelet.kubeAPIQPS=50", "kubelet.kubeAPIBurst=100"])
    curve = load_curve(batch, ["dockershim", "containerd", "crio"], [10, 20, 40, 80], replications=3, seed=seed)
    add("latency-vs-load", C.latency_vs_load(curve, footnote=f"kubesim · scenario '{preset}' as a batch on 2 cores, "
                                                        f"kubeAPIQPS 50 · seed {seed} · 3 replications", theme=theme),
        "Pod startup against load, with 95 % confidence bands",
        "With the API client out of the way (1.27+ defaults) on 2 cores, dockershim's latency grows fastest with load.")
    ramp = load_scenario("load-ramp")
    fr = failure_ramp(ramp, ["dockershim", "containerd"], loads=[100, 200, 400, 800], seed=seed)
    add("failures-by-hop", failure_heatmap(fr, footnote=f"kubesim · scenario 'load-ramp' · seed {seed} · load = pods",
                                           theme=theme),
        "Where pod creation breaks as load grows",
        "On one vCPU, dockershim's CreateContainer calls hit the 2-minute deadline and PLEG stalls; containerd does not.")
    mig = simulate(load_scenario("migration-docker-to-containerd"), "pools", seed)
    add("migration-timeline", migration_timeline(mig.pods, mig.events, footnote=f"kubesim · scenario "
                                                 f"'migration-docker-to-containerd' · seed {seed}", theme=theme),
        "Migrating node pools from Docker to containerd",
        "Nodes switch one at a time; Docker-in-Docker runners are left Pending once the last Docker node goes.")
    index = out / "index.html"
    atomic_write(index, lambda p: write_index(entries, p, title="kubesim figures"))
    written.append(index)
    if pptx is not None:
        atomic_write(Path(pptx), lambda p: write_pptx(entries, out, p, title="kubesim"))
        written.append(Path(pptx))
    return written
