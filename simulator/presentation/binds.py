"""What binds, as text: one line per chain from the summary's ``binds`` entries, and, where two
chains start pods in about the same time, the constraint that made them equal
(docs/model/attribution.md). The report renders the shares as a table
(:func:`simulator.presentation.report_tables.binds_table`)."""

from __future__ import annotations

from itertools import combinations

from ..experiments.binds import cause_label

__all__ = ["binds_lines", "equal_lines", "sweep_binds_lines", "SAME_WITHIN"]

# Two mean start-ups within this fraction of each other are "the same answer".
SAME_WITHIN = 0.05

# Causes that do not depend on the chain: when one binds on two chains, the chain cannot matter.
_CHAIN_FREE = {"api_client", "cpu_queue", "pleg", "image_pull", "volumes", "control_plane", "kubelet",
               "init_run"}  # not "retry": whether a sync fails depends on the chain


def binds_lines(summary: dict) -> list[str]:
    """The ``compare`` text: what binds for each chain, then which constraint made chains equal."""
    rts = {rt: d["binds"] for rt, d in summary["runtimes"].items() if d.get("binds")}
    if not rts:
        return []
    lines = ["What binds (share of the mean pod start-up, created -> Running, image pulls included):"]
    for b in rts.values():
        lines.append("  " + b["sentence"])
    attributed = [b["attributed"] for b in rts.values() if b.get("attributed") is not None]
    if attributed:
        lo, hi = 100 * min(attributed), 100 * max(attributed)
        span = f"{lo:.1f} %" if f"{lo:.1f}" == f"{hi:.1f}" else f"{lo:.1f} - {hi:.1f} %"
        lines.append(f"  (the attributed shares add up to {span} of the mean start-up)")
    lines += ["  " + s for s in equal_lines(rts)]
    return lines


def equal_lines(binds: dict[str, dict]) -> list[str]:
    """For each pair of chains whose mean start-ups are within ``SAME_WITHIN``: why."""
    out = []
    for (a, ba), (b, bb) in combinations(binds.items(), 2):
        ma, mb = ba.get("mean_startup_seconds"), bb.get("mean_startup_seconds")
        if not ma or not mb or abs(ma - mb) > SAME_WITHIN * max(ma, mb):
            continue
        head = (f"{a} and {b} start pods in about the same time (mean {ma:.2f} s vs {mb:.2f} s, "
                f"{100 * abs(ma - mb) / max(ma, mb):.1f} % apart): ")
        ta, tb = ba.get("top"), bb.get("top")
        if ta is None or tb is None:
            continue
        if ta == tb and ta in _CHAIN_FREE:
            out.append(head + f"on both, the {cause_label(ta)} binds ({ba['constraint']}), "
                       "which does not depend on the chain.")
        elif ta == tb:
            out.append(head + f"on both, the {cause_label(ta)} binds ({ba['constraint']}).")
        else:
            out.append(head + f"{a} waits mostly on the {cause_label(ta)} ({ba['constraint']}), "
                       f"{b} on the {cause_label(tb)} ({bb['constraint']}).")
    return out


def sweep_binds_lines(df, grid_keys: list[str], max_points: int = 40) -> list[str]:
    """``kubesim sweep``: the cause on top at each grid point and runtime (over replications: the
    most frequent, its mean share), then, for each grid key, the points where changing only that
    key leaves the mean start-up within ``SAME_WITHIN``, and the constraint that made them equal."""
    if "binds.top" not in df.columns or df.empty:
        return []
    by = list(grid_keys) + ["runtime"]
    points = []
    for key, g in df.groupby(by, sort=False, dropna=False):
        key = key if isinstance(key, tuple) else (key,)
        tops = g["binds.top"].dropna()
        if tops.empty:
            continue
        top = tops.value_counts().index[0]
        share = g.get(f"binds.shares.{top}")
        points.append((dict(zip(by, key)), str(top), float(share.mean()) if share is not None else float("nan"),
                       float(g["binds.mean_startup_seconds"].mean()), str(g["binds.constraint"].dropna().iloc[0])))
    if not points:
        return []
    lines = ["What binds (the largest share of the mean pod start-up, per point):"]
    for where, top, share, _mean, constraint in points[:max_points]:
        label = " ".join(f"{k}={where[k]}" for k in grid_keys)
        lines.append(f"  {label} {where['runtime']}: {cause_label(top)} {100 * share:.0f} % ({constraint})")
    if len(points) > max_points:
        lines.append(f"  ... {len(points) - max_points} more points in results.csv (binds.top)")
    for k in grid_keys:
        rest = [c for c in by if c != k]
        groups: dict[tuple, list] = {}
        for p in points:
            groups.setdefault(tuple(str(p[0][c]) for c in rest), []).append(p)
        for fixed, ps in groups.items():
            means = [p[3] for p in ps]
            if len(ps) < 2 or max(means) - min(means) > SAME_WITHIN * max(means):
                continue
            values = ", ".join(str(p[0][k]) for p in ps)
            ctx = ", ".join(f"{c}={v}" for c, v in zip(rest, fixed))
            tops = {p[1] for p in ps}
            why = (f"the {cause_label(ps[0][1])} binds at every value ({ps[0][4]})" if len(tops) == 1
                   else "what binds: " + ", ".join(f"{cause_label(p[1])} at {p[0][k]}" for p in ps))
            lines.append(f"  Same answer for {k} = {values} ({ctx}): mean start-up "
                         f"{' vs '.join(f'{m:.2f}' for m in means)} s; {why}.")
    return lines
