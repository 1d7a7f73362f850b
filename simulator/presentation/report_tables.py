"""The tables of ``kubesim report``, as data: a header and rows of formatted cells each.

:mod:`.report` renders them as HTML tables (``templates/report.html.j2``); nothing here writes
markup. Every number goes through one formatter per unit, so the page reads alike everywhere:
seconds with two decimals, milliseconds with one, cores with three, MB and counts whole, shares
as percentages with one decimal; a missing value is an en dash.

* :func:`comparison_table`: the comparison, metrics as rows and chains as columns, with the
  95 % confidence interval under a statistic when there are replications to compute it from;
* :func:`binds_table`: what binds, the share of the mean pod start-up each cause took, per chain
  (:mod:`simulator.experiments.binds`);
* :func:`failures_table`: failed and pending pods and retried sync errors by hop and reason,
  counted from the comparison's pods and events;
* :func:`hops_table`: mean self time per pod in each process of the chains;
* :func:`chains_table`: what each chain is, and the hops of its RunPodSandbox;
* :func:`logs_table`: the chains' container logs side by side, when the scenario writes logs.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd

from ..experiments.binds import cause_label
from .style import PROCESS_ORDER, runtime_sort_key

if TYPE_CHECKING:
    from ..experiments.runner import Comparison

__all__ = [
    "Cell",
    "Table",
    "binds_table",
    "chains_table",
    "comparison_table",
    "failures_table",
    "fmt",
    "hops_table",
    "logs_table",
]

MISSING = "–"


@dataclass(frozen=True)
class Cell:
    """One cell: its text, and a second smaller line (a confidence interval) if any."""

    text: str
    note: str = ""
    strong: bool = False


@dataclass(frozen=True)
class Table:
    """A table of the report: ``headers``, ``rows`` of cells and, per column, whether it holds
    numbers (right-aligned). ``empty`` is what the page says when there is no row."""

    key: str
    headers: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]
    numeric: tuple[bool, ...]
    empty: str = ""


def _missing(x: Any) -> bool:
    return x is None or (isinstance(x, float) and not math.isfinite(x))


def fmt(x: Any, unit: str) -> str:
    """``x`` in ``unit``'s one format: ``s`` (from seconds), ``ms`` (from seconds), ``cores``,
    ``MB``, ``count``, ``%`` (from a share)."""
    if _missing(x):
        return MISSING
    x = float(x)
    if unit == "s":
        return f"{x:,.2f}"
    if unit == "ms":
        return f"{1000 * x:,.1f}"
    if unit == "cores":
        return f"{x:.3f}"
    if unit == "%":
        return f"{100 * x:.1f} %"
    return f"{x:,.0f}"  # MB, count


def _chains(summary: dict) -> list[str]:
    return list(summary["runtimes"])


# --------------------------------------------------------------------------- the comparison


def _ci(d: dict, key: str, q: str | None, unit: str) -> str:
    iv = (d.get("ci95") or {}).get(key)
    if isinstance(iv, dict):
        iv = iv.get(q) if q else None
    if not iv or len(iv) != 2 or any(_missing(v) for v in iv):
        return ""
    return f"95 % CI {fmt(iv[0], unit)} to {fmt(iv[1], unit)}"


def _get(d: dict, *path: str) -> Any:
    for p in path:
        if not isinstance(d, dict):
            return None
        d = d.get(p)  # type: ignore[assignment]
    return d


def comparison_table(summary: dict) -> Table:
    """Metrics as rows (with their unit), the chains as columns, from the ``--json`` summary."""
    rts = summary["runtimes"]
    names = _chains(summary)
    rows: list[tuple[Cell, ...]] = []

    def row(label: str, unit: str, fn: Callable[[dict], Cell | str]) -> None:
        cells = [fn(rts[n]) for n in names]
        rows.append((Cell(label), Cell(unit), *(c if isinstance(c, Cell) else Cell(c) for c in cells)))

    def value(*path: str, unit: str, ci: tuple[str, str | None] | None = None) -> Callable[[dict], Cell]:
        shown = "count" if unit == "pods" else unit
        return lambda d: Cell(fmt(_get(d, *path), shown), _ci(d, ci[0], ci[1], shown) if ci else "")

    row("pods running", "pods", value("running", unit="pods"))
    row("pods failed", "pods", value("failed", unit="pods"))
    row("pods pending at the horizon", "pods", value("pending", unit="pods"))
    if any(d.get("terminating") for d in rts.values()):
        row("pods terminating", "pods", value("terminating", unit="pods"))
    for q in ("p50", "p90", "p99"):
        row(f"pod start-up {q} (SLO definition: pulls excluded)", "s",
            value("pod_startup_seconds", q, unit="s", ci=("pod_startup_seconds", q)))
    row("pod start-up max", "s", value("pod_startup_seconds", "max", unit="s"))
    row("pod start-up p99, image pulls included", "s",
        value("pod_startup_total_seconds", "p99", unit="s", ci=("pod_startup_total_seconds", "p99")))
    row("batch: first pod created to last running", "s", value("batch_seconds", unit="s", ci=("batch_seconds", None)))
    for op in ("run_podsandbox", "podsandbox_status", "create_container", "start_container", "pull_image"):
        row(f"{op}, mean", "ms", value("per_operation_mean_seconds", op, unit="ms"))
    row("PLEG relist p50", "ms", value("pleg", "relist_seconds", "p50", unit="ms"))
    row("PLEG relist p99", "ms", value("pleg", "relist_seconds", "p99", unit="ms"))
    for group in ("kubelet", "runtime"):
        row(f"steady CPU, {group}", "cores", value("cpu_cores", group, unit="cores"))
    for group in ("kubelet", "runtime"):
        row(f"memory, {group} (cgroup RSS)", "MB", value("memory_mb", group, unit="MB"))
    for group in ("kubelet", "runtime"):
        row(f"memory, {group} (working set)", "MB", value("memory_working_set_mb", group, unit="MB"))
    row("transient sync errors (retried)", "errors",
        lambda d: Cell(fmt(sum((d.get("sync_errors_by_hop") or {}).values()), "count")))
    row("node NotReady (PLEG stall) episodes", "episodes", value("stalls", "node_not_ready_episodes", unit="count"))
    row("node NotReady (PLEG stall) time", "s", value("stalls", "node_not_ready_seconds", unit="s"))
    if any(d.get("faults") for d in rts.values()):
        row("faults: recovery", "", lambda d: Cell(_recovery(d.get("faults") or [])))
    row("chain that ran", "", lambda d: Cell(_get(d, "chain", "name") or MISSING))
    _more_rows(rts, names, rows)
    return Table("comparison", ("metric", "unit", *names), tuple(rows),
                 (False, False, *(True for _ in names)))


def _recovery(faults: list[dict]) -> str:
    if not faults:
        return MISSING
    hit = [f for f in faults if f.get("pods_disrupted")]
    if not hit:
        return f"{len(faults)} faults, no pod disrupted"
    rec = [f.get("recovery_seconds") for f in hit]
    if any(r is None for r in rec):
        return f"{len(hit)} of {len(faults)} disrupted, some never recovered"
    longest = max(float(r) for r in rec if r is not None)
    return f"{len(hit)} of {len(faults)} disrupted, recovered in at most {fmt(longest, 's')} s"


_UNIT = re.compile(r"\s*\(([^()]*)\)$")
_UNITS = ("s", "ms", "MB", "M", "cores")


def _more_rows(rts: dict, names: list[str], rows: list[tuple[Cell, ...]]) -> None:
    """The rows ``kubesim compare`` adds for streams, pod lifecycles and logs, when the summary
    has them (:mod:`.tables`), with the unit taken out of the label."""
    from . import tables

    extra: list[tuple[str, list[str]]] = []

    def collect(label: str, fn: Callable[[dict], str]) -> None:
        extra.append((label, [fn(rts[n]) for n in names]))

    if any("streams" in rts[n] for n in names):
        tables._stream_rows(collect)
    tables._lifecycle_rows(rts, collect)
    if any("logs" in rts[n] for n in names):
        from .logs import log_rows

        for label, fn in log_rows():
            collect(label, fn)
    for label, values in extra:
        m = _UNIT.search(label)
        # a unit only when it is one and the row holds one quantity ("rotations / largest file
        # (MB)" keeps its label whole)
        if m and m.group(1) in _UNITS and (" / " not in label or m.group(1) in ("ms", "cores")):
            unit, label = {"M": "millions"}.get(m.group(1), m.group(1)), label[:m.start()]
        else:
            unit = ""
        label = label.strip()
        rows.append((Cell(label), Cell(unit), *(Cell(v if v not in ("-", "") else MISSING) for v in values)))


# --------------------------------------------------------------------------- what binds


def binds_table(summary: dict) -> Table:
    """Causes as rows, chains as columns: each chain's share of its mean pod start-up spent on
    the cause (shares under 0.5 % on every chain left out), its largest share in bold."""
    binds = {rt: d["binds"] for rt, d in summary["runtimes"].items() if d.get("binds")}
    names = list(binds)
    causes: dict[str, float] = {}
    for b in binds.values():
        for c, v in (b.get("shares") or {}).items():
            causes[c] = max(causes.get(c, 0.0), float(v))
    shown = sorted((c for c, v in causes.items() if v >= 0.005), key=lambda c: -causes[c])
    rows: list[tuple[Cell, ...]] = [(Cell("mean start-up (s)"), *(
        Cell(fmt(binds[n].get("mean_startup_seconds"), "s")) for n in names))]
    for c in shown:
        cells = []
        for n in names:
            share = (binds[n].get("shares") or {}).get(c)
            cells.append(Cell(fmt(share, "%") if share else MISSING, strong=binds[n].get("top") == c))
        rows.append((Cell(cause_label(c)), *cells))
    rows.append((Cell("attributed in all"), *(Cell(fmt(binds[n].get("attributed"), "%")) for n in names)))
    return Table("binds", ("waited on", *names), tuple(rows), (False, *(True for _ in names)),
                 empty="No pod reached Running: nothing to attribute.")


# --------------------------------------------------------------------------- failures


def failures_table(comp: Comparison) -> Table:
    """One row per chain, outcome, hop and reason: pods that failed or were still pending at the
    horizon (their last error), and transient sync errors the kubelet retried, counted over all
    replications."""
    rows: list[tuple[Cell, ...]] = []
    found: list[tuple[str, str, str, str, int]] = []
    pods = comp.pods
    if not pods.empty:
        bad = pods[pods.outcome.isin(["failed", "pending"])]
        for (rt, outcome, hop, reason), n in bad.groupby(
                ["runtime", "outcome", "failure_hop", "failure_reason"], sort=False).size().items():
            what = "failed" if outcome == "failed" else "pending at the horizon"
            found.append((str(rt), what, str(hop) or "(none)", str(reason) or MISSING, int(n)))
    ev = comp.events
    if not ev.empty:
        errs = ev[ev.event == "SyncError"]
        for (rt, hop, reason), n in errs.groupby(["runtime", "hop", "detail"], sort=False).size().items():
            found.append((str(rt), "sync error, retried", str(hop) or "(none)", str(reason) or MISSING, int(n)))
    order = {"failed": 0, "pending at the horizon": 1, "sync error, retried": 2}
    found.sort(key=lambda r: (runtime_sort_key(r[0]), order[r[1]], -r[4], r[2], r[3]))
    for rt, what, hop, reason, n in found:
        rows.append((Cell(rt), Cell(what), Cell(hop), Cell(reason), Cell(fmt(n, "count"))))
    return Table("failures", ("chain", "outcome", "hop", "reason", "count"), tuple(rows),
                 (False, False, False, False, True),
                 empty="No pod failed, none was left pending and no sync error was retried.")


# --------------------------------------------------------------------------- per hop


def hops_table(spans: pd.DataFrame, runtimes: Sequence[str]) -> Table:
    """Mean self time per pod (ms) in each process, processes as rows and chains as columns,
    from the pod workers' SyncPod spans; the part queued (lock, CPU, slot) as a note."""
    from .figures._draw import ordered, pods_per_runtime, self_seconds

    headers = ("process", *runtimes)
    numeric = (False, *(True for _ in runtimes))
    empty = "No SyncPod span: no pod was worked on."
    if spans.empty:
        return Table("hops", headers, (), numeric, empty)
    chosen = spans[(spans["source"] == "sync") & (spans["pod"] != "") & spans["runtime"].isin(list(runtimes))]
    if chosen.empty:
        return Table("hops", headers, (), numeric, empty)
    frame = chosen.reset_index(drop=True)
    own = self_seconds(frame)
    queued = pd.Series(frame["queued"].to_numpy(dtype=float)).clip(upper=pd.Series(own))
    frame = frame.assign(self_s=own, queued_s=queued.to_numpy())
    n = pods_per_runtime(frame)
    sums = frame.groupby(["process", "runtime"])[["self_s", "queued_s"]].sum()
    per_pod = sums.div(n, axis=0, level="runtime")
    rows: list[tuple[Cell, ...]] = []
    for process in ordered(frame["process"].unique(), PROCESS_ORDER):
        cells = []
        for rt in runtimes:
            if (process, rt) not in per_pod.index:
                cells.append(Cell(MISSING))
                continue
            s, q = per_pod.loc[(process, rt)]
            cells.append(Cell(fmt(s, "ms"), f"queued {fmt(q, 'ms')}" if q >= 5e-5 else ""))
        rows.append((Cell(process), *cells))
    totals = per_pod["self_s"].groupby(level="runtime").sum()
    rows.append((Cell("all processes"), *(Cell(fmt(totals.get(rt), "ms"), strong=True) for rt in runtimes)))
    return Table("hops", headers, tuple(rows), numeric, empty)


# --------------------------------------------------------------------------- chains and logs


def chains_table(runtimes: Sequence[str]) -> Table:
    """Each chain's title, RunPodSandbox's steps, OS-process crossings and processes, and what
    the chain is (its description)."""
    from ..chains import load_chain
    from .explain import hop_counts

    rows = []
    for rt in runtimes:
        chain = load_chain(rt)
        c = hop_counts(chain)["run_podsandbox"]
        rows.append((Cell(rt), Cell(str(c["steps"])), Cell(str(c["crossings"])), Cell(str(c["processes"])),
                     Cell(" ".join(chain.description.split()))))
    return Table("chains", ("chain", "RunPodSandbox steps", "OS-process crossings", "OS processes",
                            "what it is"), tuple(rows), (False, True, True, True, False))


def logs_table(runtimes: Sequence[str], scenario: Any) -> Table | None:
    """The chains' container logs, attributes as rows (:func:`.logs.logs_columns`), or ``None``
    when none of the chains models logs."""
    from .logs import logs_columns

    cols = logs_columns(list(runtimes), scenario)
    if not cols:
        return None
    attrs = list(cols[0][1])
    rows = tuple((Cell(a), *(Cell(c[a]) for _, c in cols)) for a in attrs)
    return Table("logs", ("attribute", *(n for n, _ in cols)), rows, tuple(False for _ in range(len(cols) + 1)))
