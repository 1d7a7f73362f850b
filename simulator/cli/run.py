"""``kubesim run``: one scenario (preset or file), its outputs written to a folder."""

from __future__ import annotations

import argparse
from pathlib import Path

from ._common import KUBELET_CONFIG_HELP, build_scenario, out_path, positive, seed_arg

__all__ = ["cmd_run", "register"]


def register(subparsers: argparse._SubParsersAction) -> None:
    r = subparsers.add_parser("run", help="run one scenario (preset or file) and write its outputs")
    r.add_argument("scenario", help="preset name or scenario file (.yaml/.toml/.json)")
    r.add_argument("--seed", type=seed_arg, default=1)
    r.add_argument("--set", action="append", metavar="KEY=VALUE")
    r.add_argument("--kubelet-config", metavar="FILE", help=KUBELET_CONFIG_HELP)
    r.add_argument("--replications", type=int, default=1)
    r.add_argument("--out", help="output folder (default: out/<scenario name>, the name made a safe "
                                 "file name)")
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
    comp = compare(scenario, replications=positive("replications", args.replications), seed=args.seed)
    write_outputs(comp, out)
    print(comparison_table(comp.summary()))
    print(f"\nData, summary and figures written to {out}/")
    return 0
