"""``kubesim trace``: one pod's sequence diagram (PNG, SVG, text) and a Chrome trace."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..config import ConfigError
from ._common import add_common_options, build_scenario, out_path, parse_runtimes
from .progress import Progress, add_quiet_option

__all__ = ["cmd_trace", "register"]


def register(subparsers: argparse._SubParsersAction) -> None:
    t = subparsers.add_parser("trace", help="one pod's sequence diagram (PNG, SVG, text) and Chrome trace")
    add_common_options(t)
    t.add_argument("--runtime", required=True, help="the chain")
    t.add_argument("--pod", help="pod name (default: the first pod that ran)")
    t.add_argument("--out", default="out/trace", help="output folder (default: %(default)s)")
    add_quiet_option(t)
    t.set_defaults(func=cmd_trace)


def cmd_trace(args: argparse.Namespace) -> int:
    from ..experiments.runner import compare
    from ..presentation.outputs import write_trace

    out_path(args.out)
    runtime = parse_runtimes(args.runtime)
    if not runtime or len(runtime) != 1:
        raise ConfigError("--runtime takes exactly one runtime, e.g. --runtime containerd")
    from ..presentation.outfolder import check_folder

    check_folder(Path(args.out))
    scenario = build_scenario(args, args.preset)
    with Progress("kubesim trace", 2, quiet=args.quiet) as bar:
        comp = compare(scenario, runtimes=runtime, seed=args.seed, progress=bar.advance)
        bar.note("drawing")
        text, written = write_trace(comp, runtime[0], args.pod, Path(args.out))
        bar.advance()
    print(text)
    print()
    for p in written:
        print(f"wrote {p}")
    return 0
