"""``kubesim sensitivity``: which ASSUMPTION defaults an output rests on (Morris, SALib).

::

    kubesim sensitivity --output pod_startup_seconds.p50 --preset default --workers 2
    kubesim sensitivity --output cpu_cores.runtime --runtimes containerd --range 0.25,4

Every default marked ASSUMPTION (scenario fields and chain steps,
:mod:`simulator.experiments.sensitivity`) is a factor on its value, log-uniform over
``--range`` (×0.5 to ×2); a Morris design of ``--trajectories`` one-at-a-time paths ranks them
by μ*, per runtime. Prints the top ``--top`` per runtime and writes ``sensitivity.csv`` (every
parameter), ``sensitivity.json`` (the design, the table, the skipped defaults) and the tornado
figure ``sensitivity-tornado.png``/``.svg`` to ``--out``.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from pathlib import Path

import pandas as pd

from ._common import add_common_options, build_scenario, out_path, parse_runtimes, positive
from .progress import Progress, add_quiet_option

__all__ = ["DEFAULT_TRAJECTORIES", "cmd_sensitivity", "format_table", "register"]

DEFAULT_TRAJECTORIES = 16
"""Chosen for the 10-minute budget of ``--preset default --workers 2`` on the project's 2-core
machine: dockershim and containerd, 51 and 60 parameters, 16 x (52 + 61) + 2 = 1810 runs of
about 0.2 s of CPU each. 20 trajectories (2262 runs) took 9 minutes while other simulations
shared the cores, too close to the budget."""


def register(subparsers: argparse._SubParsersAction) -> None:
    s = subparsers.add_parser(
        "sensitivity", help="rank every ASSUMPTION default by its effect on an output (Morris, SALib)",
        description="Vary every default marked ASSUMPTION (scenario fields and chain steps) as a "
                    "log-uniform factor on its value, run a Morris design (SALib) and rank the "
                    "defaults by mu* (the mean absolute change of the output as a factor swings "
                    "across its range), per runtime: a table and a tornado figure.")
    add_common_options(s)
    s.add_argument("--output", default="pod_startup_seconds.p50", metavar="PATH",
                   help="the output to rank for, a path into the summary: pod_startup_seconds.p50 "
                        "(or .p90, .p99, .max), batch_seconds, cpu_cores.kubelet, cpu_cores.runtime, "
                        "memory_mb.kubelet, memory_mb.runtime (default: %(default)s)")
    s.add_argument("--runtimes", help="comma-separated chains (default: the scenario's)")
    s.add_argument("--range", default="0.5,2", metavar="LOW,HIGH",
                   help="each default times LOW up to times HIGH, log-uniform (default: %(default)s)")
    s.add_argument("--trajectories", type=int, default=DEFAULT_TRAJECTORIES,
                   help="Morris trajectories: runs = trajectories x (parameters + 1) per runtime "
                        "(default: %(default)s)")
    s.add_argument("--levels", type=int, default=4, help="Morris grid levels, even (default: %(default)s)")
    s.add_argument("--workers", type=int, default=1, help="local worker processes (default: %(default)s)")
    s.add_argument("--only", metavar="PREFIX,...",
                   help="screen only the parameters whose name starts with one of these, e.g. "
                        "kubeletCosts,apiserver (default: every ASSUMPTION default)")
    s.add_argument("--top", type=int, default=10, help="rows printed per runtime (default: %(default)s)")
    s.add_argument("--out", default="out/sensitivity", help="output folder (default: %(default)s)")
    s.add_argument("--theme", choices=["light", "dark"], default="light",
                   help="light or dark tornado figure (default: %(default)s)")
    add_quiet_option(s)
    s.set_defaults(func=cmd_sensitivity)


def _cell(v: float) -> str:
    return f"{v:.3g}"


def format_table(table: pd.DataFrame, unit: str, top: int) -> str:
    """One runtime's rows, ranked: rank, μ*, σ, parameter, where, default, range."""
    header = ["rank", f"mu* ({unit})", f"sigma ({unit})", "parameter", "where", "default", "range"]
    rows = [[str(r.rank), _cell(r.mu_star), _cell(r.sigma), r.parameter, r.where, r.default, r.range]
            for r in table.sort_values("rank").head(top).itertuples(index=False)]
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(header)]

    def line(cells: list[str]) -> str:
        return "  ".join(c.rjust(w) if i < 3 else c.ljust(w)
                         for i, (c, w) in enumerate(zip(cells, widths))).rstrip()

    return "\n".join([line(header), line(["-" * w for w in widths])] + [line(r) for r in rows])


def _write_figure(fig, base: Path) -> list[Path]:
    """PNG and SVG, each saved under a temporary name and renamed into place."""
    from ..presentation.style import save_figure

    tmp = Path(tempfile.mkdtemp(dir=base.parent, prefix=".fig."))
    try:
        written = []
        for made in save_figure(fig, tmp / base.name):
            target = base.parent / made.name
            os.replace(made, target)
            written.append(target)
        return written
    finally:
        for f in tmp.iterdir():
            f.unlink()
        tmp.rmdir()


def cmd_sensitivity(args: argparse.Namespace) -> int:
    from ..experiments.sensitivity import check_design, morris, parse_range
    from ..presentation.figures.tornado import tornado
    from ..presentation.outputs import atomic_write

    out_path(args.out)
    low, high = parse_range(args.range)
    trajectories, workers = positive("trajectories", args.trajectories), positive("workers", args.workers)
    top = positive("top", args.top)
    check_design(args.output, low, high, trajectories, args.levels)
    only = [t.strip() for t in (args.only or "").split(",") if t.strip()]
    scenario = build_scenario(args, args.preset)
    runtimes = parse_runtimes(args.runtimes) or [r for r in scenario.runtimes if r != "pools"]

    with Progress("kubesim sensitivity", unit="trajectory", quiet=args.quiet) as bar:
        def announce(runs: int, jobs: int) -> None:
            bar.message(f"kubesim sensitivity: {runs} runs ({', '.join(runtimes)}; {trajectories} trajectories; "
                        f"{workers} worker(s))...")
            bar.set_total(jobs)

        res = morris(scenario, runtimes, output=args.output, low=low, high=high,
                     trajectories=trajectories, levels=args.levels, seed=args.seed, workers=workers,
                     only=only, announce=announce, progress=bar.advance)
    print(f"Sensitivity of {res.output} ({res.unit}) on scenario '{res.scenario}': {res.method}; "
          f"{res.runs} runs in {res.seconds:.0f} s.")
    print(f"mu* = mean |change of {res.output}| when a factor swings from x{low:g} to x{high:g} of "
          "its default (the elementary effect per whole range); sigma = their spread: large when "
          "the effect depends on the other parameters."
          + (" The steady-state window after the last pod settles is not simulated: it cannot "
             "change this output." if res.steady_state_skipped else ""))
    for rt in runtimes:
        mine = res.table[res.table.runtime == rt]
        chain = mine.chain.iloc[0] if len(mine) else rt
        print(f"\n{rt} (chain {chain}, {len(mine)} parameters): {res.output} = "
              f"{res.baseline[rt]:.4g} {res.unit} at the defaults; top {min(top, len(mine))} by mu*")
        print(format_table(mine, res.unit, top))
    if len(res.skipped):
        grouped = res.skipped.groupby(["name", "reason"], sort=False)["runtime"].agg(", ".join)
        print("\nSkipped: " + "; ".join(f"{name} ({reason}; {rts})" for (name, reason), rts in grouped.items()))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    written = [atomic_write(out / "sensitivity.csv", lambda p: res.table.to_csv(p, index=False)),
               atomic_write(out / "sensitivity.json", lambda p: p.write_text(
                   json.dumps(res.to_dict(), indent=2) + "\n", encoding="utf-8"))]
    note = (f"kubesim sensitivity · scenario '{res.scenario}' · seed {res.seed} · Morris, "
            f"{res.trajectories} trajectories, {res.runs} runs · each factor log-uniform "
            f"×{low:g} to ×{high:g} of its default")
    fig = tornado(res.table, res.output, res.unit, footnote=note, theme=args.theme,
                  range_text=f"×{low:g} → ×{high:g}")
    written += _write_figure(fig, out / "sensitivity-tornado")
    print()
    for p in written:
        print(f"wrote {p}")
    return 0
