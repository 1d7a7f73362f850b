"""``kubesim report``: one self-contained HTML page for a comparison."""

from __future__ import annotations

import argparse
from pathlib import Path

from ._common import add_common_options, add_replications_option, build_scenario, out_path, positive
from .progress import Progress, add_quiet_option

__all__ = ["cmd_report", "register"]


def register(subparsers: argparse._SubParsersAction) -> None:
    rp = subparsers.add_parser("report", help="one self-contained HTML page for a comparison")
    add_common_options(rp)
    rp.add_argument("--runtimes", help="comma-separated chains (default: the scenario's)")
    rp.add_argument("--pods", type=int, help="number of pods (workload.pods)")
    add_replications_option(rp)
    rp.add_argument("--workers", type=int, default=1, help="local worker processes (default: %(default)s)")
    rp.add_argument("--out", default="out/report.html", help="the HTML file (default: %(default)s)")
    add_quiet_option(rp)
    rp.set_defaults(func=cmd_report)


def cmd_report(args: argparse.Namespace) -> int:
    from ..experiments.runner import compare
    from ..presentation.outfolder import check_file_target
    from ..presentation.outputs import atomic_write
    from ..presentation.report import render_report

    out_path(args.out, "file")
    check_file_target(Path(args.out))
    scenario = build_scenario(args, args.preset)
    replications, workers = positive("replications", args.replications), positive("workers", args.workers)
    with Progress("kubesim report", len(scenario.runtimes) * replications + 1, quiet=args.quiet) as bar:
        comp = compare(scenario, replications=replications, seed=args.seed, workers=workers,
                       progress=bar.advance)
        bar.note("drawing the page")
        page = render_report(comp)
        bar.advance()
    out = Path(args.out)
    atomic_write(out, lambda p: p.write_text(page, encoding="utf-8"))
    print(f"wrote {out} ({len(page) // 1024} KB, self-contained)")
    return 0
