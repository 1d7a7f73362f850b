"""``kubesim run``: one scenario (preset or file), its outputs written to a folder."""

from __future__ import annotations

import argparse
from pathlib import Path

from ._common import KUBELET_CONFIG_HELP, add_replications_option, build_scenario, out_path, positive, seed_arg
from .progress import Progress, add_quiet_option

__all__ = ["cmd_run", "register"]


def register(subparsers: argparse._SubParsersAction) -> None:
    r = subparsers.add_parser("run", help="run one scenario (preset or file) and write its outputs")
    r.add_argument("scenario", help="preset name or scenario file (.yaml/.toml/.json)")
    r.add_argument("--seed", type=seed_arg, default=1, help="random seed, 0 or more (default: %(default)s)")
    r.add_argument("--set", action="append", metavar="KEY=VALUE",
                   help="override a scenario value by dotted path, e.g. kubelet.kubeAPIQPS=60")
    r.add_argument("--kubelet-config", metavar="FILE", help=KUBELET_CONFIG_HELP)
    add_replications_option(r)
    r.add_argument("--out", help="output folder (default: out/<scenario name>, the name made a safe "
                                 "file name)")
    add_quiet_option(r)
    r.set_defaults(func=cmd_run)


def cmd_run(args: argparse.Namespace) -> int:
    from ..experiments.runner import compare
    from ..presentation.outfolder import check_folder, safe_name
    from ..presentation.outputs import write_outputs
    from ..presentation.tables import comparison_table

    if args.out is not None:
        out_path(args.out)
    scenario = build_scenario(args, args.scenario)
    # a scenario's name never leaves out/: '../../x' becomes 'x', '/etc' 'etc'
    out = Path(args.out) if args.out else Path("out") / safe_name(scenario.name, "scenario name")
    check_folder(out)
    replications = positive("replications", args.replications)
    with Progress("kubesim run", len(scenario.runtimes) * replications + 1, quiet=args.quiet) as bar:
        comp = compare(scenario, replications=replications, seed=args.seed, progress=bar.advance)
        bar.note("writing the outputs")
        write_outputs(comp, out)
        bar.advance()
    print(comparison_table(comp.summary()))
    print(f"\nData, summary and figures written to {out}/")
    return 0
