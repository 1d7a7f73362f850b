"""``kubesim failures``: failures and stalls by hop as the load grows (table and heatmap)."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..config import ConfigError
from ._common import add_common_options, add_replications_option, build_scenario, out_path, parse_runtimes, positive
from .progress import Progress, add_quiet_option

__all__ = ["cmd_failures", "register"]


def register(subparsers: argparse._SubParsersAction) -> None:
    fl = subparsers.add_parser("failures", help="failures and stalls by hop as load grows (table + heatmap)")
    add_common_options(fl)
    fl.set_defaults(preset="load-ramp")
    fl.add_argument("--runtimes", help="comma-separated chains (default: the scenario's)")
    fl.add_argument("--loads", help="comma-separated loads (default: 100,200,400,800)")
    fl.add_argument("--load-key", default="workload.pods", help="the scenario key the load sets (default: %(default)s)")
    add_replications_option(fl, "independent replications per load and chain")
    fl.add_argument("--workers", type=int, default=1, help="local worker processes (default: %(default)s)")
    fl.add_argument("--out", default="out/failures", help="output folder (default: %(default)s)")
    add_quiet_option(fl)
    fl.set_defaults(func=cmd_failures)


def cmd_failures(args: argparse.Namespace) -> int:
    from ..experiments.failures import DEFAULT_LOADS, failure_ramp
    from ..presentation.outputs import write_failures

    out_path(args.out)
    scenario = build_scenario(args, args.preset)
    runtimes = parse_runtimes(args.runtimes) or [r for r in scenario.runtimes if r != "pools"]
    loads: tuple[float, ...] = DEFAULT_LOADS
    if args.loads:
        try:
            loads = tuple(float(x) for x in args.loads.split(",") if x.strip())
        except ValueError:
            raise ConfigError(f"--loads {args.loads!r}: expected comma-separated numbers, e.g. 100,200,400") from None
        if not loads or any(x <= 0 for x in loads):
            raise ConfigError(f"--loads {args.loads!r}: give one or more loads greater than 0")
    replications, workers = positive("replications", args.replications), positive("workers", args.workers)
    with Progress("kubesim failures", len(loads) * len(runtimes) * replications + 1, quiet=args.quiet) as bar:
        df = failure_ramp(scenario, runtimes, loads, load_key=args.load_key, seed=args.seed,
                          replications=replications, workers=workers, progress=bar.advance)
        bar.note("drawing")
        text, written = write_failures(df, Path(args.out), scenario, args.load_key, args.seed)
        bar.advance()
    print(text)
    for p in written:
        print(f"wrote {p}")
    return 0
