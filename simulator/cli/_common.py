"""What the sub-commands share: the parser class that turns argparse errors into one paragraph,
the ``--set``/``--runtimes``/``--pods`` handling that builds the scenario, whole-number checks,
and the common options (``--preset``, ``--seed``, ``--set``)."""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from pathlib import Path
from typing import NoReturn

from ..config import (
    ConfigError,
    Scenario,
    load_scenario,
    not_modelled_note,
    parse_override,
)
from ..errors import did_you_mean, named

__all__ = ["KUBELET_CONFIG_HELP", "Parser", "add_common_options", "add_replications_option", "build_scenario",
           "parse_runtimes", "positive", "seed_arg", "MAX_SEED", "out_path"]

# Seeds are stored in results tables as 64-bit integers (Parquet int64).
MAX_SEED = 2**63 - 1


def seed_arg(text: str) -> int:
    """``--seed``'s type: a whole number from 0 to ``MAX_SEED`` (numpy's SeedSequence refuses
    negative seeds)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text[:40]!r} is not a whole number; give a seed from 0 "
                                          f"to {MAX_SEED}") from None
    if not 0 <= value <= MAX_SEED:
        raise argparse.ArgumentTypeError(f"{text[:40]!r}: a seed must be a whole number from 0 to {MAX_SEED}")
    return value


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one paragraph, exit 2, no usage dump
        raise ConfigError(f"{self.prog}: {message}{self._suggestion(message)} (see '{self.prog} --help')")

    def _suggestion(self, message: str) -> str:
        """ " (did you mean ...?)" for a mistyped command, choice or option (difflib)."""
        choice = re.match(r"argument .*?: invalid choice: '(.*)' \(choose from (.*)\)$", message, re.S)
        if choice:
            listed = choice.group(2)  # quoted up to Python 3.12.7, bare after
            return did_you_mean(choice.group(1), re.findall(r"'([^']*)'", listed)
                                or [c.strip() for c in listed.split(",")])
        unknown = re.match(r"unrecognized arguments: (\S+)", message)
        if unknown and unknown.group(1).startswith("-"):
            parser: argparse.ArgumentParser = self  # the sub-command's options, when one was given
            for action in self._actions:
                if isinstance(action, argparse._SubParsersAction):
                    given = [a for a in getattr(self, "_argv", []) if a in action.choices]
                    parser = action.choices[given[0]] if given else parser
            options = [o for a in parser._actions for o in a.option_strings if o.startswith("--")]
            return did_you_mean(unknown.group(1).split("=", 1)[0], options)
        return ""

    def parse_known_args(self, args=None, namespace=None):  # remembered for _suggestion
        self._argv = [str(a) for a in (sys.argv[1:] if args is None else args)]
        return super().parse_known_args(args, namespace)


def parse_runtimes(text: str | None) -> list[str] | None:
    """The chains named in a comma-separated ``--runtimes`` (or ``--runtime``) value, checked."""
    if not text:
        return None
    from ..chains import known_chains

    names = [t.strip() for t in text.split(",") if t.strip()]
    if not names:
        raise ConfigError(f"--runtimes {named(text)} names no runtime; give a comma-separated list, "
                          "e.g. --runtimes dockershim,containerd")
    allowed = known_chains()
    for n in names:
        if n not in allowed and n != "pools" and not n.endswith((".yaml", ".yml")):
            raise ConfigError(f"--runtimes: unknown runtime {named(n)}{did_you_mean(n, allowed)}; allowed: {', '.join(allowed)} "
                              "or a chain file (.yaml)")
        if names.count(n) > 1:
            raise ConfigError(f"--runtimes {named(text)}: {named(n)} is listed more than once; each runtime "
                              "may appear once (a repeated runtime would run, and count, its pods twice)")
    return names


def build_scenario(args: argparse.Namespace, source: str) -> Scenario:
    """The validated scenario: ``source`` (preset name or file) with ``--kubelet-config``,
    ``--set``, ``--pods`` and ``--runtimes`` applied, in that order. The kubelet fields accepted
    but not modelled are named once, in one line on stderr."""
    overrides = list(args.set or [])
    flags = {parse_override(o)[0]: f"--set {o}" for o in overrides}
    if getattr(args, "pods", None) is not None:
        if args.pods < 1:
            raise ConfigError(f"--pods = {args.pods}: must be a whole number of at least 1")
        overrides.append(f"workload.pods={args.pods}")
        flags["workload.pods"] = f"--pods {args.pods}"
    runtimes = parse_runtimes(getattr(args, "runtimes", None))
    if runtimes:
        overrides.append(f"runtimes={json.dumps(runtimes)}")
        flags["runtimes"] = f"--runtimes {args.runtimes}"
    scenario = load_scenario(source, overrides, flags=flags, kubelet_config=getattr(args, "kubelet_config", None))
    note = not_modelled_note(scenario.kubelet)
    if note:
        print(f"kubesim: note: {note}", file=sys.stderr)
    return scenario


def out_path(text: str, kind: str = "folder", flag: str = "--out") -> Path:
    """``--out`` checked before anything runs: a usable path of a folder (``kind="folder"``) or
    a file, not an existing file where a folder is wanted (nor the reverse), under no file."""
    if not text or "\x00" in text:
        raise ConfigError(f"{flag} {named(text)}: give the path of a {kind}")
    p = Path(text)
    if len(os.fsencode(text)) > 4000 or any(len(os.fsencode(part)) > 255 for part in p.parts):
        raise ConfigError(f"{flag} {named(text)}: the path is too long (at most 255 bytes a name, 4000 in all)")
    if kind == "folder" and p.exists() and not p.is_dir():
        raise ConfigError(f"{flag} {named(text)} is an existing file; give a folder (it is created if needed)")
    if kind == "file" and p.is_dir():
        raise ConfigError(f"{flag} {named(text)} is a folder; give the path of the file to write")
    for parent in p.parents:
        if parent.exists():
            if not parent.is_dir():
                raise ConfigError(f"{flag} {named(text)}: {named(str(parent))} is a file, not a folder")
            break
    return p


# The largest counts accepted. ASSUMPTION: more than 4 local processes per core only add start-up
# and memory (each holds a model and its results); 100,000 replications of even the smallest
# scenario take days, so a larger number is a typo.
MAX_COUNTS = {"workers": 4 * (os.cpu_count() or 1), "replications": 100_000}


def positive(name: str, value: int) -> int:
    """``value`` of option ``--name``, refused unless it is at least 1 (and at most
    ``MAX_COUNTS[name]``)."""
    if value < 1:
        raise ConfigError(f"--{name} = {value}: must be a whole number of at least 1")
    top = MAX_COUNTS.get(name)
    if top is not None and value > top:
        raise ConfigError(f"--{name} = {value}: must be at most {top}"
                          + (f" (4 per core of this machine's {os.cpu_count() or 1})" if name == "workers" else ""))
    return value


KUBELET_CONFIG_HELP = ("a kubelet config file (KubeletConfiguration, kubelet.config.k8s.io/v1beta1, YAML or "
                       "JSON, e.g. kubeadm's /var/lib/kubelet/config.yaml or EKS's kubelet-config.json) laid "
                       "over the scenario's kubelet: section; --set applies after it. Fields the model does "
                       "not use are accepted and named in one note")


def add_common_options(sp: argparse.ArgumentParser, preset: bool = True, kubelet_config: bool = True) -> None:
    """``--preset`` (unless ``preset`` is false), ``--seed``, ``--set`` and ``--kubelet-config``
    (unless ``kubelet_config`` is false: a command that builds no scenario)."""
    if preset:
        sp.add_argument("--preset", default="default",
                        help="preset name or scenario file (default: %(default)s)")
    sp.add_argument("--seed", type=seed_arg, default=1, help="random seed, 0 or more (default: %(default)s)")
    sp.add_argument("--set", action="append", metavar="KEY=VALUE",
                    help="override a scenario value by dotted path, e.g. kubelet.kubeAPIQPS=60")
    if kubelet_config:
        sp.add_argument("--kubelet-config", metavar="FILE", help=KUBELET_CONFIG_HELP)


def add_replications_option(sp: argparse.ArgumentParser, what: str = "independent replications per chain") -> None:
    """``--replications``, with the default every command shares (``DEFAULT_REPLICATIONS``)."""
    from ..experiments.defaults import DEFAULT_REPLICATIONS

    sp.add_argument("--replications", type=int, default=DEFAULT_REPLICATIONS,
                    help=f"{what} (default: %(default)s; 2 or more add 95 %% confidence intervals)")
