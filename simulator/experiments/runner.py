"""Replications, comparisons and the JSON summary.

``compare(scenario, runtimes, replications, seed)`` runs the same scenario once per chain and
replication. Replication ``r`` of every chain uses the same seed stream (``SeedSequence([seed,
r])``), so chains are compared on identical arrivals and per-pod draws. Runs are independent, so
they may go to local worker processes (``workers``): the results are identical to a serial run
because each run's randomness depends only on (scenario, runtime, seed, replication).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Optional

import pandas as pd

from ..chains import resolve_chain
from ..config import ConfigError, Scenario
from ..model.simulation import POOLS, RunResult, simulate
from ..schema import parse_kubernetes_version
from .binds import summarize_binds
from .defaults import DEFAULT_REPLICATIONS
from .executors import map_jobs
from .lifecycle import reboots, stuck_terminating
from .migration import summarize_migration
from .logs import summarize_logs
from .stats import percentiles, t_interval
from .streams import stream_summary

__all__ = ["Comparison", "DEFAULT_REPLICATIONS", "compare", "run_one", "summarize_runtime", "not_ready_episodes"]


def run_one(args: tuple) -> RunResult:
    scenario, runtime, seed, replication = args
    return simulate(scenario, runtime, seed, replication)


@dataclass
class Comparison:
    scenario: Scenario
    seed: int
    replications: int
    runtimes: list[str]
    runs: list[RunResult] = field(default_factory=list)

    def _concat(self, attr: str) -> pd.DataFrame:
        frames = []
        for r in self.runs:
            df = getattr(r, attr)
            if df.empty:
                continue
            df = df.copy()
            df["replication"] = r.replication
            df["seed"] = r.seed
            frames.append(df)
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()

    @property
    def pods(self) -> pd.DataFrame:
        return self._concat("pods")

    @property
    def spans(self) -> pd.DataFrame:
        return self._concat("spans")

    @property
    def resources(self) -> pd.DataFrame:
        return self._concat("resources")

    @property
    def events(self) -> pd.DataFrame:
        return self._concat("events")

    @property
    def streams(self) -> pd.DataFrame:
        return self._concat("streams")

    @property
    def stream_hops(self) -> pd.DataFrame:
        return self._concat("stream_hops")

    @property
    def logs(self) -> pd.DataFrame:
        """One row per chatty container instance (empty when no container writes logs)."""
        return self._concat("logs")

    def runs_of(self, runtime: str) -> list[RunResult]:
        return [r for r in self.runs if r.runtime == runtime]

    @property
    def summary_runtimes(self) -> list[str]:
        """The chains the summary reports: each compared chain, or for a run that keeps the
        cluster's own pools ('pools'), every chain its pods ran on."""
        out: list[str] = []
        for label in self.runtimes:
            if label != POOLS:
                out.append(label)
                continue
            for r in self.runs_of(label):
                for rt in r.pods.runtime.dropna().unique():
                    if rt and rt not in out:
                        out.append(rt)
        return out

    def summary(self) -> dict:
        """The docs/DESIGN.md ``--json`` document."""
        docs = {}
        for rt in self.summary_runtimes:
            runs = self.runs_of(rt) or self.runs_of(POOLS)
            docs[rt] = summarize_runtime(runs, self.scenario, rt)
        doc = {
            "scenario": self.scenario.resolved(),
            "seed": self.seed,
            "replications": self.replications,
            "runtimes": docs,
        }
        migration = {label: m for label in self.runtimes
                     if (m := summarize_migration(self.runs_of(label), self.scenario)) is not None}
        if migration:
            doc["migration"] = _clean(migration)
        return doc


def _clean(x):
    if isinstance(x, float):
        return None if math.isnan(x) else round(x, 6)
    if isinstance(x, dict):
        return {k: _clean(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_clean(v) for v in x]
    return x


def _only(df: pd.DataFrame, runtime: str | None) -> pd.DataFrame:
    if runtime is None or df.empty or "runtime" not in df.columns:
        return df
    return df[df.runtime == runtime]


def summarize_runtime(runs: list[RunResult], scenario: Scenario, runtime: str | None = None) -> dict:
    """The summary of one chain across replications (of the pods that ran on that chain)."""
    runtime = runtime or (runs[0].runtime if runs else None)
    pods = _only(pd.concat([r.pods for r in runs], ignore_index=True), runtime)
    running = pods[pods.outcome == "running"]
    chain = next((r.chains[runtime] for r in runs if runtime in r.chains), None)
    doc: dict = {
        "pods": int(len(pods)),
        "running": int((pods.outcome == "running").sum()),
        "failed": int((pods.outcome == "failed").sum()),
        "pending": int((pods.outcome == "pending").sum()),
        "terminating": int((pods.outcome == "terminating").sum()),
        "pod_startup_seconds": percentiles(running.pod_startup),
        "pod_startup_total_seconds": percentiles(running.pod_startup_total),
    }
    batches = []
    for r in runs:
        mine = _only(r.pods, runtime)
        ok = mine[mine.outcome == "running"]
        batches.append(float(ok.running_observed.max() - mine.created.min()) if len(ok) else float("nan"))
    doc["batch_seconds"] = float(pd.Series(batches).mean())
    if len(runs) >= 2:
        ci: dict[str, Any] = {}
        for col, key in (("pod_startup", "pod_startup_seconds"), ("pod_startup_total", "pod_startup_total_seconds")):
            per_rep = [percentiles(_only(r.pods, runtime).query("outcome == 'running'")[col]) for r in runs]
            ci[key] = {q: t_interval([v for p in per_rep if (v := p[q]) is not None])
                       for q in ("p50", "p90", "p99")}
        ci["batch_seconds"] = t_interval(batches)
        doc["ci95"] = ci
    spans = _only(pd.concat([r.spans for r in runs], ignore_index=True), runtime)
    ops = spans[(spans.depth == 0) & spans.source.isin(["sync", "puller"])]
    dur = (ops.end - ops.start).groupby(ops.operation).mean()
    doc["per_operation_mean_seconds"] = {op: float(dur[op]) for op in _op_order(dur.index)}
    pleg = spans[(spans.depth == 0) & (spans.source == "pleg")]
    relists = _only(pd.concat([r.relists for r in runs], ignore_index=True), runtime)
    doc["pleg"] = {
        "relist_seconds": percentiles(relists.duration) if len(relists) else percentiles([]),
        "operation_mean_seconds": {k: float(v) for k, v in
                                   (pleg.end - pleg.start).groupby(pleg.operation).mean().items()},
    }
    cpu: dict[str, list[float]] = {"kubelet": [], "runtime": []}
    mem: dict[str, list[float]] = {"kubelet": [], "runtime": []}
    wss: dict[str, list[float]] = {"kubelet": [], "runtime": []}
    ps_rss: dict[str, list[float]] = {"kubelet": [], "runtime": []}
    for r in runs:
        res = _only(r.resources, runtime)
        win = res[(res.metric == "cpu_cores") & (res.time > r.settle_time)]
        if len(win):
            per_node_t = win.groupby(["node", "time", "group"]).value.sum().reset_index()
            by = per_node_t.groupby("group").value.mean()
            for g in cpu:
                cpu[g].append(float(by.get(g, 0.0)))
        for metric, into in (("anon_mb", mem), ("pss_mb", wss), ("rss_mb", ps_rss)):
            mwin = res[(res.metric == metric) & (res.time > r.settle_time)]
            if len(mwin):
                per_t = mwin.groupby(["node", "time", "group"]).value.sum().groupby("group").mean()
                for g in into:
                    into[g].append(float(per_t.get(g, 0.0)))
    doc["cpu_cores"] = {g: (sum(v) / len(v) if v else None) for g, v in cpu.items()}
    # cgroup RSS (memory.stat rss: anonymous pages), what the node e2e resource tests report
    doc["memory_mb"] = {g: (sum(v) / len(v) if v else None) for g, v in mem.items()}
    # cAdvisor working set: anonymous pages plus the binaries' file pages, each counted once
    doc["memory_working_set_mb"] = {g: (sum(v) / len(v) if v else None) for g, v in wss.items()}
    # the sum of every process's RSS as ps shows it (shared pages counted once per process)
    doc["memory_ps_rss_sum_mb"] = {g: (sum(v) / len(v) if v else None) for g, v in ps_rss.items()}
    doc["steady_by_process"] = _steady_by_process(runs, runtime)
    failed = pods[pods.outcome == "failed"]
    doc["failures_by_hop"] = {str(k): int(v) for k, v in failed.failure_hop.value_counts().sort_index().items()}
    pending = pods[pods.outcome == "pending"]
    doc["pending_by_hop"] = {str(k or "(none)"): int(v) for k, v in
                             pending.failure_hop.value_counts().sort_index().items()}
    ev = _only(pd.concat([r.events for r in runs], ignore_index=True), runtime)
    errs = ev[ev.event == "SyncError"]
    doc["sync_errors_by_hop"] = {str(k): int(v) for k, v in errs.hop.value_counts().sort_index().items()}
    doc["stalls"] = _stalls(runs, runtime)
    doc["faults"] = _faults(runs, ev, runtime)
    stuck = stuck_terminating(runs, scenario, runtime)
    if stuck is not None:
        doc["stuck_terminating"] = stuck
    rb = reboots(runs, scenario, runtime)
    if rb is not None:
        doc["reboots"] = rb
    logs = summarize_logs(runs, runtime)  # experiments/logs.py; only when containers write logs
    if logs is not None:
        doc["logs"] = logs
    doc["binds"] = summarize_binds(runs, scenario, runtime)  # what the start-up waited on (binds.py)
    doc["chain"] = {"name": chain["name"] if chain else "", "title": chain["title"] if chain else "",
                    "era": chain["era"] if chain else "", "note": chain["note"] if chain else ""}
    doc.update(stream_summary(runs, scenario, runtime))  # only with a streams: section
    return _clean(doc)


def _steady_by_process(runs: list[RunResult], runtime: str | None) -> dict:
    """Per process, once all pods run: CPU cores and memory (anonymous, PSS, ps RSS), the mean
    over the sampled nodes and the window, and the group (cgroup) it is counted in."""
    frames = []
    for r in runs:
        res = _only(r.resources, runtime)
        frames.append(res[(res.time > r.settle_time)
                          & res.metric.isin(["cpu_cores", "anon_mb", "pss_mb", "rss_mb"])])
    if not frames or all(f.empty for f in frames):
        return {}
    win = pd.concat(frames, ignore_index=True)
    table = win.groupby(["process", "group", "metric"]).value.mean().unstack("metric")
    out = {}
    for (proc, group), row in table.iterrows():
        out[str(proc)] = {"group": str(group), **{k: float(row[k]) for k in table.columns if k in row
                                                  and not pd.isna(row[k])}}
    return out


def not_ready_episodes(events: pd.DataFrame, end_time: float) -> list[float]:
    """Durations of PLEG-unhealthy episodes (NodeNotReady -> NodeReady) per node; an episode
    still open at the end of the run lasts until then."""
    out = []
    for _node, g in events[events.event.isin(["NodeNotReady", "NodeReady"])].groupby("node"):
        start = None
        for t, e in zip(g.time, g.event):
            if e == "NodeNotReady":
                start = t
            elif start is not None:
                out.append(t - start)
                start = None
        if start is not None:
            out.append(end_time - start)
    return out


def _stalls(runs: list[RunResult], runtime: str | None) -> dict:
    episodes = [d for r in runs for d in not_ready_episodes(_only(r.events, runtime), r.end_time)]
    return {"node_not_ready_episodes": len(episodes), "node_not_ready_seconds": float(sum(episodes))}


def _faults(runs: list[RunResult], ev: pd.DataFrame, runtime: str | None) -> list[dict]:
    """Each fault that fired, with the pods it disrupted and the time until the last of them
    ran again (None when some never recovered before the horizon)."""
    out = []
    for r in runs:
        faults = _only(r.faults, runtime)
        if faults.empty:
            continue
        rev = r.events
        for f in faults.itertuples(index=False):
            hit = rev[(rev.node == f.node) & rev.event.isin(["ContainerKilled", "ShimCrash"])
                      & (rev.time == f.time)]
            pods = sorted(set(hit.pod) - {""})
            rec = rev[(rev.node == f.node) & (rev.event == "PodRecovered") & rev.pod.isin(pods)
                      & (rev.time >= f.time)].groupby("pod").time.min()
            recovered = len(rec) == len(pods)
            out.append({"time": float(f.time), "node": f.node, "kind": f.kind, "detail": f.detail,
                        "replication": r.replication, "pods_disrupted": len(pods),
                        "recovery_seconds": (float(rec.max() - f.time) if len(rec) else 0.0) if recovered else None})
    return out


_OP_ORDER = ["run_podsandbox", "podsandbox_status", "image_status", "pull_image",
             "create_container", "start_container", "list_podsandbox", "list_containers",
             "container_status"]


def _op_order(ops: Iterable[str]) -> list[str]:
    ops = list(ops)
    return [o for o in _OP_ORDER if o in ops] + sorted(o for o in ops if o not in _OP_ORDER)


def compare(scenario: Scenario, runtimes: Optional[list[str]] = None, replications: int = DEFAULT_REPLICATIONS,
            seed: int = 1, workers: int = 1, progress: Optional[Callable[[], object]] = None) -> Comparison:
    """Every runtime x replication run of ``scenario``; ``progress()`` is called after each run
    (the CLI's progress bar; see :func:`.executors.map_jobs`)."""
    runtimes = list(runtimes or scenario.runtimes)
    twice = sorted({rt for rt in runtimes if runtimes.count(rt) > 1})
    if twice:  # two runs under one label would double every count
        raise ConfigError(f"runtimes {runtimes}: {', '.join(map(repr, twice))} listed twice; each "
                          "runtime may appear once")
    version = parse_kubernetes_version(scenario.kubernetesVersion)
    for rt in runtimes:
        if rt != POOLS:
            resolve_chain(rt, version)  # fail before any run starts
    jobs = [(scenario, rt, seed, rep) for rt in runtimes for rep in range(replications)]
    runs = map_jobs(run_one, jobs, workers, progress)
    return Comparison(scenario, seed, replications, runtimes, runs)
