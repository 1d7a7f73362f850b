"""What the sub-commands share: the parser class that turns argparse errors into one paragraph,
the ``--set``/``--runtimes``/``--pods`` handling that builds the scenario, whole-number checks,
and the common options (``--preset``, ``--seed``, ``--set``)."""

from __future__ import annotations

import argparse
import json
from typing import NoReturn

from ..config import ConfigError, Scenario, load_scenario

__all__ = ["Parser", "add_common_options", "build_scenario", "parse_runtimes", "positive"]


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one paragraph, exit 2, no usage dump
        raise ConfigError(f"{self.prog}: {message} (see '{self.prog} --help')")


def parse_runtimes(text: str | None) -> list[str] | None:
    """The chains named in a comma-separated ``--runtimes`` (or ``--runtime``) value, checked."""
    if not text:
        return None
    from ..chains import known_chains

    names = [t.strip() for t in text.split(",") if t.strip()]
    allowed = known_chains()
    for n in names:
        if names.count(n) > 1:  # it would run twice under one label: doubled pod counts
            raise ConfigError(f"--runtimes {text!r}: runtime {n!r} is listed twice; each runtime may "
                              "appear once")
        if n not in allowed and n != "pools" and not n.endswith((".yaml", ".yml")):
            raise ConfigError(f"unknown runtime {n!r}; allowed: {', '.join(allowed)} "
                              "or a chain file (.yaml)")
    return names


def build_scenario(args: argparse.Namespace, source: str) -> Scenario:
    """The validated scenario: ``source`` (preset name or file) with ``--set``, ``--pods`` and
    ``--runtimes`` applied, in that order."""
    overrides = list(args.set or [])
    if getattr(args, "pods", None) is not None:
        if args.pods < 1:
            raise ConfigError(f"--pods = {args.pods}: must be a whole number of at least 1")
        overrides.append(f"workload.pods={args.pods}")
    runtimes = parse_runtimes(getattr(args, "runtimes", None))
    if runtimes:
        overrides.append(f"runtimes={json.dumps(runtimes)}")
    return load_scenario(source, overrides)


def positive(name: str, value: int) -> int:
    """``value`` of option ``--name``, refused unless it is at least 1."""
    if value < 1:
        raise ConfigError(f"--{name} = {value}: must be a whole number of at least 1")
    return value


def add_common_options(sp: argparse.ArgumentParser, preset: bool = True) -> None:
    """``--preset`` (unless ``preset`` is false), ``--seed`` and ``--set``."""
    if preset:
        sp.add_argument("--preset", default="default",
                        help="preset name or scenario file (default: %(default)s)")
    sp.add_argument("--seed", type=int, default=1, help="random seed (default: %(default)s)")
    sp.add_argument("--set", action="append", metavar="KEY=VALUE",
                    help="override a scenario value by dotted path, e.g. kubelet.kubeAPIQPS=60")
