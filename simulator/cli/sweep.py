"""``kubesim sweep``: every combination of a grid × runtimes × replications (DESIGN.md).

::

    kubesim sweep --grid node.cpuCores=1,2,4 --grid kubelet.kubeAPIQPS=5,50 \\
        --runtimes dockershim,containerd --replications 3 --workers 4 --out out/sweep

The sweep is described by ``--grid`` flags and the usual scenario flags, or by a sweep file
(``--sweep-file``, YAML with the fields of :class:`~simulator.experiments.sweep.SweepSpec`);
flags given on the command line take precedence over the file's fields (a ``--grid`` key
replaces that key's values from the file, ``--set`` adds to or replaces its overrides).

``--grid KEY=V1,V2,...`` splits the values on commas outside brackets, braces and quotes, and
reads each as YAML: ``--grid 'images.app={sizeMB: 300, layers: 12},{sizeMB: 60}'`` is two
values, ``--grid "node.name='a,b',c"`` two strings. Runs go to ``--workers`` local processes,
a local Dask cluster (``--local-dask``, ``--workers`` worker processes) or an existing Dask
cluster (``--scheduler tcp://host:8786``). Results land in ``--out`` as they finish; running
the same command again resumes the sweep.
"""

from __future__ import annotations

import argparse
import copy
import math
import sys
from pathlib import Path
from typing import Any

import pandas as pd

from ..config import ConfigError, load_scenario, not_modelled_note, parse_override, read_kubelet_config
from ..experiments.sweep import (
    SweepSpec,
    load_sweep_file,
    parse_grid,
    run_sweep,
    split_values,
    sweep_spec,
)
from ..errors import named
from ..experiments.defaults import DEFAULT_REPLICATIONS
from ..safe_load import YamlSyntaxError, load_document, parse_yaml
from ._common import KUBELET_CONFIG_HELP, positive, seed_arg
from .progress import add_quiet_option, bar_enabled

__all__ = ["cmd_sweep", "register", "spec_from_args", "summary_table"]

_SUMMARY_COLUMNS = {
    "running": "running",
    "failed": "failed",
    "pending": "pending",
    "pod_startup_seconds.p50": "startup p50 (s)",
    "pod_startup_seconds.p99": "startup p99 (s)",
}


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``sweep`` sub-command to ``kubesim``'s sub-parsers."""
    s = subparsers.add_parser(
        "sweep", help="run every combination of a grid of scenario values x runtimes x replications",
        description="Run every combination of the grid x runtimes x replications and write "
                    "DIR/results.parquet and DIR/results.csv (one row per run). Finished runs are "
                    "kept in DIR/runs/, so running the same command again resumes the sweep.")
    s.add_argument("--grid", action="append", metavar="KEY=V1,V2,...",
                   help="a scenario key and the values to try, e.g. node.cpuCores=1,2,4; values "
                        "are split on commas outside brackets, braces and quotes and read as "
                        "YAML (repeat --grid for more keys)")
    s.add_argument("--sweep-file", metavar="FILE",
                   help="YAML file with the sweep's fields (preset, grid, runtimes, "
                        "replications, seed, overrides); flags given here take precedence")
    s.add_argument("--preset", help="preset name or scenario file (default: default)")
    s.add_argument("--set", action="append", metavar="KEY=VALUE",
                   help="fix a scenario value for every run, e.g. workload.pods=20")
    s.add_argument("--kubelet-config", metavar="FILE",
                   help=KUBELET_CONFIG_HELP + " (its fields become overrides kubelet.FIELD, before the "
                        "sweep file's overrides and --set)")
    s.add_argument("--runtimes", help="comma-separated chains (default: the scenario's runtimes)")
    s.add_argument("--replications", type=int,
                   help=f"replications per grid point and runtime (default: {DEFAULT_REPLICATIONS})")
    s.add_argument("--seed", type=seed_arg, help="random seed (default: 1)")
    s.add_argument("--workers", type=int,
                   help="local worker processes, or the local Dask cluster's workers (default: 1)")
    dask = s.add_mutually_exclusive_group()
    dask.add_argument("--scheduler", metavar="ADDR",
                      help="run on an existing Dask cluster, e.g. tcp://host:8786")
    dask.add_argument("--local-dask", action="store_true",
                      help="start a local Dask cluster of --workers processes for this sweep")
    s.add_argument("--out", required=True, metavar="DIR",
                   help="folder for the results (resumes what it already holds)")
    add_quiet_option(s)
    s.set_defaults(func=cmd_sweep)


def spec_from_args(args: argparse.Namespace) -> SweepSpec:
    """The validated sweep spec from the sweep file (if any) and the command-line flags."""
    data: dict[str, Any] = {}
    if args.sweep_file:
        # the input boundary (size, binary, UTF-8, aliases, repeated keys) before the sweep reads it
        load_document(args.sweep_file, "sweep file")
        data = copy.deepcopy(load_sweep_file(args.sweep_file).model_dump())  # .inf stays .inf
    if args.grid:
        for text in args.grid:  # the input boundary for each value (aliases, repeated keys)
            key, _, raw = text.partition("=")
            for piece in split_values(raw) if raw else []:
                try:
                    parse_yaml(piece, f"--grid {named(key.strip())} value {named(piece, 60)}")
                except YamlSyntaxError:
                    pass  # parse_grid says so, with its own words
        data["grid"] = {**data.get("grid", {}), **parse_grid(args.grid)}
    elif "grid" not in data:
        raise ConfigError("a sweep needs a grid: give --grid KEY=V1,V2,... (e.g. --grid "
                          "node.cpuCores=1,2,4) or a --sweep-file with a grid")
    if args.kubelet_config:
        kubelet = read_kubelet_config(args.kubelet_config)
        data["overrides"] = {**{f"kubelet.{k}": v for k, v in kubelet.items()}, **data.get("overrides", {})}
    if args.set:
        data["overrides"] = {**data.get("overrides", {}), **dict(map(parse_override, args.set))}
    if args.runtimes is not None:
        data["runtimes"] = [t.strip() for t in args.runtimes.split(",") if t.strip()]
    for name in ("preset", "replications", "seed"):
        if getattr(args, name) is not None:
            data[name] = getattr(args, name)
    return sweep_spec(data, where="sweep")


def _cell(value: Any, fmt: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return fmt.format(value)
    return str(value)


def summary_table(df: pd.DataFrame, grid_keys: list[str]) -> str:
    """Per grid point and runtime: pods running/failed/pending and pod startup p50/p99 (SLO
    definition), each averaged over the replications."""
    by = grid_keys + ["runtime"]
    means = df.groupby(by, sort=False, dropna=False)[list(_SUMMARY_COLUMNS)].mean().reset_index()
    header = by + list(_SUMMARY_COLUMNS.values())
    rows = [[_cell(v, "{:g}") for v in row[: len(by)]]
            + [_cell(v, "{:g}" if col in ("running", "failed", "pending") else "{:.2f}")
               for col, v in zip(_SUMMARY_COLUMNS, row[len(by):])]
            for row in means.itertuples(index=False)]
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    n_text = len(by)

    def line(cells: list[str]) -> str:
        return "  ".join(c.ljust(w) if i < n_text else c.rjust(w)
                         for i, (c, w) in enumerate(zip(cells, widths))).rstrip()

    return "\n".join([line(header), line(["-" * w for w in widths])] + [line(r) for r in rows])


def cmd_sweep(args: argparse.Namespace) -> int:
    from ..presentation.binds import sweep_binds_lines

    spec = spec_from_args(args)
    note = not_modelled_note(load_scenario(spec.preset, dict(spec.overrides)).kubelet)
    if note:
        print(f"kubesim: note: {note}", file=sys.stderr)
    workers = positive("workers", 1 if args.workers is None else args.workers)
    if args.scheduler and args.workers is not None:
        raise ConfigError("--workers sets the local processes or the local Dask cluster's size; "
                          "with --scheduler the cluster's own workers run the sweep, so drop --workers")
    out = Path(args.out)
    df = run_sweep(spec, out, workers=workers, scheduler=args.scheduler, local_dask=args.local_dask,
                   progress=bar_enabled(args.quiet))
    reps = f", mean of {spec.replications} replications" if spec.replications > 1 else ""
    print(f"kubesim sweep: {len(df)} runs (seed {spec.seed}{reps})\n")
    print(summary_table(df, list(spec.grid)))
    binds = sweep_binds_lines(df, list(spec.grid))  # what binds, and why points agree
    if binds:
        print("\n" + "\n".join(binds))
    print(f"\nResults: {out / 'results.parquet'} and {out / 'results.csv'} (one row per run); "
          f"per-run records in {out / 'runs'}/")
    return 0
