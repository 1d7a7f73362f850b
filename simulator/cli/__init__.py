"""The ``kubesim`` command line (DESIGN.md "Command line"). Thin: parse, call, print.

One module per sub-command (``compare``, ``run``, ``presets``, ``explain``, ``trace``,
``failures``, ``report``, ``sweep``, ``sensitivity``, ``figures``, ``validate``, ``calibrate``), each
with ``register(subparsers)``, which adds
its parser, and ``cmd_<name>(args)``, which runs it; what they share is in ``_common``. The CLI
imports the experiments and presentation layers, never the reverse.

Bad input (an unknown preset, key or runtime, a wrong type, a negative duration) is reported as
one paragraph naming the field, the value and what is allowed, with exit status 2; nothing is
written before the scenario has been validated, and files are written atomically.
"""

from __future__ import annotations

import argparse
import sys

from ..config import ConfigError
from . import (
    calibrate,
    compare,
    explain,
    failures,
    figures,
    presets,
    report,
    run,
    sensitivity,
    sweep,
    trace,
    validate,
)
from ._common import Parser

__all__ = ["build_parser", "main"]

# in the order ``kubesim --help`` lists them
SUBCOMMANDS = (compare, run, presets, explain, trace, failures, report, sweep, sensitivity, figures,
               validate, calibrate)


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("kubesim")
    except PackageNotFoundError:  # run from a checkout without installing
        return "(not installed)"


def build_parser() -> argparse.ArgumentParser:
    p = Parser(prog="kubesim", description=(
        "Discrete-event simulator of the kubelet's container-runtime call chains: "
        "dockershim, containerd, crio, cri-dockerd."))
    p.add_argument("--version", action="version", version=f"kubesim {_version()}",
                   help="print kubesim's version and exit")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    for module in SUBCOMMANDS:
        module.register(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if not getattr(args, "command", None):
            parser.print_help()
            return 2
        return args.func(args)
    except ConfigError as e:  # one line per problem (several may be found at once)
        for line in str(e).splitlines() or [""]:
            print(f"kubesim: error: {line}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # the reader of the output went away (| head): not an error
        return 0
    except OSError as e:  # a folder or file the tool cannot create, read or write
        where = f" {e.filename!r}" if e.filename else ""
        print(f"kubesim: error: cannot write or read{where}: {e.strerror or e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # Ctrl-C: one line, no traceback; a sweep resumes where it stopped
        print("\nkubesim: interrupted", file=sys.stderr)
        return 130
