"""``kubesim explain``: a chain narrated hop by hop, with sources."""

from __future__ import annotations

import argparse

from ..config import RUNTIMES
from ._common import add_common_options, build_scenario, parse_runtimes
from .progress import add_quiet_option

__all__ = ["cmd_explain", "register"]


def register(subparsers: argparse._SubParsersAction) -> None:
    e = subparsers.add_parser("explain", help="narrate a chain hop by hop with sources")
    e.add_argument("runtime", choices=None, help=f"one of {', '.join(RUNTIMES)} or a chain file; "
                   "'logs': the chains' container logs side by side")
    add_common_options(e)  # the scenario whose settings are narrated (release, log-opts, costs)
    add_quiet_option(e)  # accepted by every command; explain runs nothing, so it has no bar
    e.set_defaults(func=cmd_explain)


def cmd_explain(args: argparse.Namespace) -> int:
    from ..presentation.explain import explain_chain

    custom = args.set or args.preset != "default" or args.kubelet_config
    scenario = build_scenario(args, args.preset) if custom else None
    if args.runtime == "logs":
        from ..presentation.logs import logs_comparison

        print(logs_comparison(list(RUNTIMES), scenario))
        return 0
    parse_runtimes(args.runtime)  # an unknown chain is refused like --runtimes refuses it
    print(explain_chain(args.runtime, scenario))
    return 0
