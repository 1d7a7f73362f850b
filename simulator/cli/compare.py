"""``kubesim compare``: one scenario on several chains, as a table or the JSON summary."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ..config import RUNTIMES
from ..safe_load import finite_or_none
from ._common import add_common_options, add_replications_option, build_scenario, out_path, positive
from .progress import Progress, add_quiet_option

__all__ = ["cmd_compare", "register"]


def register(subparsers: argparse._SubParsersAction) -> None:
    c = subparsers.add_parser("compare", help="run one scenario on several chains and compare them")
    add_common_options(c)
    c.add_argument("--runtimes", help=f"comma-separated chains (any of {', '.join(RUNTIMES)})")
    c.add_argument("--pods", type=int, help="number of pods (workload.pods)")
    add_replications_option(c)
    c.add_argument("--workers", type=int, default=1, help="local worker processes (default: %(default)s)")
    c.add_argument("--json", action="store_true", help="print the JSON summary only")
    c.add_argument("--out", help="write data (CSV, Parquet), summary and figures to this folder")
    add_quiet_option(c)
    c.set_defaults(func=cmd_compare)


def cmd_compare(args: argparse.Namespace) -> int:
    from ..experiments.runner import compare
    from ..presentation.tables import comparison_table

    if args.out is not None:
        from ..presentation.outfolder import check_folder

        out_path(args.out)
        check_folder(Path(args.out))  # before the runs, not after
    scenario = build_scenario(args, args.preset)
    replications, workers = positive("replications", args.replications), positive("workers", args.workers)
    with Progress("kubesim compare", len(scenario.runtimes) * replications,
                  quiet=args.quiet) as bar:
        comp = compare(scenario, replications=replications, seed=args.seed, workers=workers,
                       progress=bar.advance)
    summary = comp.summary()
    if args.out:
        from ..presentation.outputs import write_outputs

        write_outputs(comp, Path(args.out))
    if args.json:
        sys.stdout.write(json.dumps(finite_or_none(summary), indent=2, sort_keys=False, allow_nan=False) + "\n")
    else:
        print(comparison_table(summary))
        if args.out:
            print(f"\nData, summary and figures written to {args.out}/")
    return 0
