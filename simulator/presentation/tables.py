"""Plain-text tables for the terminal (``kubesim compare``)."""

from __future__ import annotations

__all__ = ["comparison_table", "validation_table"]


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
    notes = [f"{n}: {rts[n]['chain']['note']}" for n in names if rts[n].get("chain", {}).get("note")]
    if notes:
        lines.append("")
        lines.extend(notes)
    return "\n".join(lines)


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
