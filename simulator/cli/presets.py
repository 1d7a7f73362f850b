"""``kubesim presets``: the presets, one line each, or one preset's YAML file."""

from __future__ import annotations

import argparse
import sys

from .progress import add_quiet_option

__all__ = ["cmd_presets", "register"]


def register(subparsers: argparse._SubParsersAction) -> None:
    ps = subparsers.add_parser("presets", help="list the presets (or print one to copy and edit)")
    ps.add_argument("--show", metavar="PRESET", help="print this preset's YAML file")
    add_quiet_option(ps)  # accepted by every command; listing presets has no bar
    ps.set_defaults(func=cmd_presets)


def cmd_presets(args: argparse.Namespace) -> int:
    from ..presets import preset_data, preset_names, preset_path

    if args.show:
        sys.stdout.write(preset_path(args.show).read_text(encoding="utf-8"))
        return 0

    width = max(len(n) for n in preset_names())
    for name in preset_names():
        desc = " ".join(str(preset_data(name).get("description", "")).split())
        first = desc.split(". ")[0].rstrip(".") + "."
        print(f"{name:<{width}}  {first}")
    return 0
