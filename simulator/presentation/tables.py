"""Plain-text tables for the terminal (``kubesim compare``, ``kubesim calibrate``)."""

from __future__ import annotations

import math
import textwrap
from typing import TYPE_CHECKING

from .binds import binds_lines

if TYPE_CHECKING:
    from ..experiments.calibrate import Calibration

__all__ = ["comparison_table", "validation_table", "calibration_table"]


def _f(x, fmt: str = "{:.2f}", scale: float = 1.0) -> str:
    return "-" if x is None else fmt.format(x * scale)


def comparison_table(summary: dict) -> str:
    """Metrics as rows, runtimes as columns, from the ``--json`` summary document."""
    rts = summary["runtimes"]
    names = list(rts)
    sc = summary["scenario"]
    rows: list[tuple[str, list[str]]] = []

    def row(label: str, fn) -> None:
        rows.append((label, [fn(rts[n]) for n in names]))

    def ci(d: dict, key: str, q: str) -> str:
        iv = d.get("ci95", {}).get(key, {}).get(q) if "ci95" in d else None
        return "" if not iv else f" [{iv[0]:.2f}, {iv[1]:.2f}]"

    if any(d.get("terminating") for d in rts.values()):
        row("pods running / failed / pending / terminating",
            lambda d: f"{d['running']} / {d['failed']} / {d['pending']} / {d.get('terminating', 0)}")
    else:
        row("pods running / failed / pending", lambda d: f"{d['running']} / {d['failed']} / {d['pending']}")
    for q in ("p50", "p90", "p99"):
        row(f"pod startup {q} (s, SLO def.)",
            lambda d, q=q: _f(d["pod_startup_seconds"][q]) + ci(d, "pod_startup_seconds", q))
    row("pod startup max (s)", lambda d: _f(d["pod_startup_seconds"]["max"]))
    row("startup incl. pulls p99 (s)", lambda d: _f(d["pod_startup_total_seconds"]["p99"]))
    row("batch: first created -> last running (s)", lambda d: _f(d["batch_seconds"]))
    for op in ("run_podsandbox", "podsandbox_status", "create_container", "start_container", "pull_image"):
        row(f"  {op} mean (ms)", lambda d, op=op: _f(d["per_operation_mean_seconds"].get(op), "{:.1f}", 1000))
    row("PLEG relist p50 / p99 (ms)", lambda d: _f(d["pleg"]["relist_seconds"]["p50"], "{:.1f}", 1000)
        + " / " + _f(d["pleg"]["relist_seconds"]["p99"], "{:.1f}", 1000))
    row("steady CPU kubelet / runtime (cores)",
        lambda d: _f(d["cpu_cores"]["kubelet"], "{:.3f}") + " / " + _f(d["cpu_cores"]["runtime"], "{:.3f}"))
    row("memory kubelet / runtime (MB cgroup RSS)",
        lambda d: _f(d["memory_mb"]["kubelet"], "{:.0f}") + " / " + _f(d["memory_mb"]["runtime"], "{:.0f}"))
    row("  working set kubelet / runtime (MB)",
        lambda d: _f(d.get("memory_working_set_mb", {}).get("kubelet"), "{:.0f}") + " / "
        + _f(d.get("memory_working_set_mb", {}).get("runtime"), "{:.0f}"))
    row("chain that ran", lambda d: d.get("chain", {}).get("name", ""))
    row("failed pods by hop", lambda d: ", ".join(f"{k}: {v}" for k, v in d["failures_by_hop"].items()) or "none")
    row("pending at horizon by hop",
        lambda d: ", ".join(f"{k}: {v}" for k, v in d.get("pending_by_hop", {}).items()) or "none")
    row("transient sync errors (retried)", lambda d: str(sum(d["sync_errors_by_hop"].values())))
    row("node NotReady (PLEG): episodes / s",
        lambda d: f"{d['stalls']['node_not_ready_episodes']} / {d['stalls']['node_not_ready_seconds']:.0f}")

    def recovery(d: dict) -> str:
        faults = d.get("faults", [])
        if not faults:
            return "-"
        hit = [f for f in faults if f["pods_disrupted"]]
        if not hit:
            return f"{len(faults)} faults, no pod disrupted"
        rec = [f["recovery_seconds"] for f in hit]
        if any(r is None for r in rec):
            return f"{len(hit)}/{len(faults)} disrupted, some never recovered"
        return f"{len(hit)}/{len(faults)} disrupted, recovered in <= {max(rec):.1f} s"

    row("faults: recovery", recovery)
    if any("streams" in rts[n] for n in names):  # kubectl exec & co. (scenario streams:)
        _stream_rows(row)
    _lifecycle_rows(rts, row)
    if any("logs" in rts[n] for n in names):  # containers write logs (presentation/logs.py)
        from .logs import log_rows

        for label, fn in log_rows():
            row(label, fn)

    w0 = max(len(r[0]) for r in rows)
    widths = [max(len(n), *(len(r[1][i]) for r in rows)) for i, n in enumerate(names)]
    wl = sc["workload"]
    head = (f"kubesim compare: scenario '{sc['name']}', {wl['pods']} pods ({wl['kind']}), "
            f"{sc['node']['cpuCores']:g} cores, kubeAPIQPS {sc['kubelet']['kubeAPIQPS']:g}, "
            f"seed {summary['seed']}, {summary['replications']} replication(s)")
    lines = [head, ""]
    lines.append(" " * w0 + "  " + "  ".join(n.rjust(w) for n, w in zip(names, widths)))
    lines.append("-" * (w0 + 2 + sum(widths) + 2 * (len(widths) - 1)))
    for label, vals in rows:
        lines.append(label.ljust(w0) + "  " + "  ".join(v.rjust(w) for v, w in zip(vals, widths)))
    if summary["replications"] > 1:
        lines.append("\n[a, b] = 95% confidence interval of the statistic across replications.")
    binds = binds_lines(summary)  # what binds for each chain (presentation/binds.py)
    if binds:
        lines.append("")
        lines.extend(binds)
    notes = [f"{n}: {rts[n]['chain']['note']}" for n in names if rts[n].get("chain", {}).get("note")]
    if notes:
        lines.append("")
        lines.extend(notes)
    return "\n".join(lines)


def _stream_rows(row) -> None:
    """The streams: part of the summary (experiments/streams.py), when the scenario has it."""

    def st(d: dict) -> dict:
        return d.get("streams") or {}

    row("stream sessions ok / failed / open", lambda d: f"{st(d).get('ok', 0)} / {st(d).get('failed', 0)} / "
        f"{st(d).get('open_at_end', 0)}" if st(d) else "-")
    row("  kind, via", lambda d: f"{st(d)['kind']}, {st(d)['mode']}" if st(d) else "-")
    row("  set-up p50 / p99 (ms)", lambda d: _f(st(d).get("setup_seconds", {}).get("p50"), "{:.1f}", 1000) + " / "
        + _f(st(d).get("setup_seconds", {}).get("p99"), "{:.1f}", 1000))
    row("  node CPU per MB moved (ms)", lambda d: _f(sum(v for k, v in st(d).get("cpu_ms_per_mb_by_hop", {}).items()
                                                       if k != "kube-apiserver") if st(d) else None, "{:.1f}"))
    row("  failed sessions by hop", lambda d: ", ".join(f"{k}: {v}" for k, v in st(d).get("failures_by_hop", {})
                                                        .items()) or "none")
    row("findings", lambda d: ", ".join(f"{f['id']} ({f['severity']})" for f in d.get("findings", [])) or "none")


def validation_table(df) -> str:
    """``kubesim validate``: one line per case, predicted against measured."""
    head = f"{'case':44s} {'kind':11s} {'measured':>10s} {'predicted':>10s} {'pred/meas':>9s}  {'tolerance':18s} result"
    lines = [head, "-" * len(head)]
    for r in df.itertuples(index=False):
        lines.append(f"{r.case:44s} {r.kind:11s} {r.measured:10.4g} {r.predicted:10.4g} "
                     f"{r.ratio_pred_meas:9.2f}  {str(r.tolerance)[:18]:18s} {'pass' if r.passed else 'MISS'}")
    for kind in ("validation", "calibration"):
        part = df[df.kind == kind]
        if len(part):
            lines.append(f"{kind}: {int(part.passed.sum())} of {len(part)} within tolerance")
    return "\n".join(lines)


def _ms(x) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    return f"{x:.3g}" if x < 100 else f"{x:.0f}"


def calibration_table(cal: "Calibration") -> str:
    """The fit report: one row per operation the scrape measured (``kubesim calibrate``)."""
    from ..experiments.calibrate.fit import REPLICATIONS
    rep = cal.report()
    s = cal.scrape
    lines = [f"kubesim calibrate: {s.name} ({s.describe()})",
             f"base chain: {cal.base} ({cal.why})", ""]
    for note in cal.notes:
        lines += textwrap.wrap(note, 100, initial_indent="  - ", subsequent_indent="    ")
    lines.append("")
    head = ["level", "operation", "n", "measured p50", "p90", "model before", "model p50", "p90",
            "ratio", "within 15 %"]
    rows = []
    for r in rep.itertuples(index=False):
        if r.status == "skipped":
            rows.append([r.level, r.operation, str(r.n), _ms(r.measured_p50_ms), _ms(r.measured_p90_ms),
                         "", "", "", "", f"skipped: {r.note}"])
            continue
        rows.append([r.level, r.operation, str(r.n), _ms(r.measured_p50_ms), _ms(r.measured_p90_ms),
                     _ms(r.model_before_p50_ms), _ms(r.model_p50_ms), _ms(r.model_p90_ms),
                     f"{r.ratio:.2f}", "yes" if r.within_15pct else "NO"])
    widths = [max(len(h), *(len(row[i]) for row in rows if i < 9 or not row[i].startswith("skipped")))
              for i, h in enumerate(head)]
    lines.append("  ".join(h.ljust(w) if i < 2 else h.rjust(w) for i, (h, w) in enumerate(zip(head, widths))))
    lines.append("-" * (sum(widths) + 2 * (len(widths) - 1)))
    for row in rows:
        cells = [c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(row[:9], widths))]
        lines.append("  ".join(cells) + "  " + row[9])
    done = rep[rep.status == "calibrated"]
    verdict = (f"{int(done.within_15pct.sum())} of {len(done)} calibrated operations within 15 % of the "
               f"scrape's median ({cal.rounds} rounds of {REPLICATIONS} replications, seed {cal.seed}); "
               f"{int((rep.status == 'skipped').sum())} skipped.")
    legend = ("Latencies in ms. 'level' cri = kubelet_runtime_operations_*, docker = "
              "kubelet_docker_operations_*. Histogram quantiles are interpolated linearly inside the "
              "bucket that holds them, the model's through the same buckets; summary quantiles are "
              "the kubelet's own. 'model before' is the base chain, 'model' the overlay.")
    lines += ["", verdict, *textwrap.wrap(legend, 100)]
    return "\n".join(lines)


def _lifecycle_rows(rts: dict, row) -> None:
    """Rows for pods stuck Terminating and for reboots, when the summary has them."""
    if any("stuck_terminating" in d for d in rts.values()):
        def held(d: dict) -> str:
            st = d.get("stuck_terminating")
            if not st:
                return "-"
            h = st["holding"]
            return f"{h['pod_slots']} / {h['ips']} / {h['memory_mb']:.0f}"

        row("stuck Terminating: slots / IPs / MB held", held)
        row("  retry interval p50 (s) / capacity lost",
            lambda d: (_f(d["stuck_terminating"]["retry_interval_seconds"]["p50"], "{:.1f}") + " / "
                       + _f(d["stuck_terminating"]["churn_capacity_lost"], "{:.0%}"))
            if d.get("stuck_terminating") else "-")
    if any(d.get("reboots") for d in rts.values()):
        def reboots(d: dict) -> str:
            rb = d.get("reboots") or []
            if not rb:
                return "-"
            nr = max(r["not_ready_seconds"] or 0.0 for r in rb)
            rec = [r["all_recovered_seconds"] for r in rb]
            failing = sum(r["pods_failing"] for r in rb)
            back = "never" if any(x is None for x in rec) else f"{max(rec):.0f} s"
            return f"{nr:.0f} s / {back} / {failing}"

        row("reboot: NotReady / all back / failing", reboots)
