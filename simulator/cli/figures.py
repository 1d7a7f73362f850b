"""``kubesim figures``: regenerate the slide-ready figures (and optionally a PowerPoint deck)."""

from __future__ import annotations

import argparse
from pathlib import Path

from ._common import add_common_options, out_path

__all__ = ["cmd_figures", "register"]


def register(subparsers: argparse._SubParsersAction) -> None:
    f = subparsers.add_parser("figures", help="regenerate the slide-ready figures")
    add_common_options(f, kubelet_config=False)  # the fixed figure set: no scenario of the user's
    f.add_argument("--out", default="figures", help="output folder (default: %(default)s)")
    f.add_argument("--theme", choices=["light", "dark"], default="light")
    f.add_argument("--pptx", metavar="FILE", help="also write a PowerPoint deck, one figure per slide")
    f.set_defaults(func=cmd_figures)


def cmd_figures(args: argparse.Namespace) -> int:
    from ..presentation.outfolder import check_folder
    from ..presentation.outputs import write_figures

    out_path(args.out)
    check_folder(Path(args.out))

    written = write_figures(Path(args.out), preset=args.preset, seed=args.seed, theme=args.theme,
                            pptx=Path(args.pptx) if args.pptx else None)
    for p in written:
        print(f"wrote {p}")
    return 0
