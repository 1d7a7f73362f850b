"""``kubesim figures``: regenerate the slide-ready figures (and optionally a PowerPoint deck)."""

from __future__ import annotations

import argparse
from pathlib import Path

from ._common import add_common_options, add_replications_option, build_scenario, out_path, positive
from .progress import Progress, add_quiet_option

__all__ = ["cmd_figures", "register"]


def register(subparsers: argparse._SubParsersAction) -> None:
    f = subparsers.add_parser(
        "figures", help="regenerate the slide-ready figures",
        description="Regenerate the figure catalogue (PNG and SVG, an index page, optionally a deck). "
                    "--preset and --set give the scenario of the comparison every chain figure draws "
                    "and of the figures that run it again (latency against load, the tornado; their "
                    "own settings, e.g. the batch on 2 cores, apply after --set); the figures of a "
                    "preset of their own (failure ramp, migration, log pipeline, validation) keep it.")
    add_common_options(f, kubelet_config=False)  # the catalogue's scenario: a preset and --set
    add_replications_option(f, "replications of the comparison the chain figures draw")
    f.add_argument("--out", default="figures", help="output folder (default: %(default)s)")
    f.add_argument("--theme", choices=["light", "dark"], default="light",
                   help="light or dark figures (default: %(default)s)")
    f.add_argument("--pptx", metavar="FILE", help="also write a PowerPoint deck, one figure per slide")
    add_quiet_option(f)
    f.set_defaults(func=cmd_figures)


def cmd_figures(args: argparse.Namespace) -> int:
    from ..presentation.outfolder import check_folder
    from ..presentation.outputs import write_figures

    out_path(args.out)
    check_folder(Path(args.out))
    build_scenario(args, args.preset)  # a bad preset or --set is refused before anything runs
    replications = positive("replications", args.replications)

    with Progress("kubesim figures", unit="step", quiet=args.quiet) as bar:
        bar.note("the comparison")
        def step(upcoming: str, total: int) -> None:
            bar.set_total(total)
            bar.advance(note=upcoming)

        written = write_figures(Path(args.out), preset=args.preset, seed=args.seed, theme=args.theme,
                                pptx=Path(args.pptx) if args.pptx else None, overrides=args.set or (),
                                replications=replications, progress=step)
    for p in written:
        print(f"wrote {p}")
    return 0
