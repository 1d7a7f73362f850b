"""``kubesim validate``: the model's predictions against published experiments.

Runs the validation catalogue (``simulator/validation/cases``): by default every usable case
that is not marked slow; ``--all`` adds the slow ones (150,000-pod clusters), ``--case NAME``
runs one (or several, comma-separated). Prints predicted against measured with their ratio and
tolerance, writes ``results.csv``, ``results.json`` and a predicted-vs-measured figure to
``--out``, and exits with status 1 when a case falls outside its tolerance.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ..errors import ConfigError, did_you_mean
from ._common import out_path, positive, seed_arg
from .progress import Progress, add_quiet_option

__all__ = ["cmd_validate", "register"]


def register(subparsers: argparse._SubParsersAction) -> None:
    v = subparsers.add_parser("validate", help="predictions against published experiments (exit 1 on a miss)")
    v.add_argument("--case", help="run these cases only (comma-separated names)")
    v.add_argument("--all", action="store_true", help="also the slow cases (150,000-pod clusters)")
    v.add_argument("--seed", type=seed_arg, default=1, help="first seed of the replications (default: %(default)s)")
    v.add_argument("--replications", type=int, help="replications per case (default: each case's own)")
    v.add_argument("--out", default="out/validate", help="output folder (default: %(default)s)")
    v.add_argument("--list", action="store_true", help="list the cases and exit")
    v.add_argument("--cases-dir", help="a folder of case files instead of the built-in catalogue")
    add_quiet_option(v)
    v.set_defaults(func=cmd_validate)


def cmd_validate(args: argparse.Namespace) -> int:
    from ..experiments.validate import load_cases, run_cases
    from ..presentation.outputs import atomic_write, save_validation_figure
    from ..presentation.tables import validation_table

    out_path(args.out)
    if args.cases_dir:
        folder = Path(args.cases_dir)
        if not folder.is_dir():
            raise ConfigError(f"--cases-dir {args.cases_dir!r} is not a folder")
        cases = load_cases(folder)
    else:
        cases = load_cases()
    if args.list:
        for c in cases:
            flags = [c.kind] + ([] if c.usable else ["unusable"]) + (["slow"] if c.slow else [])
            print(f"{c.name:45s} {', '.join(flags):24s} {c.title}")
        return 0
    if args.case:
        names = [n.strip() for n in args.case.split(",") if n.strip()]
        known = {c.name: c for c in cases}
        unknown = [n for n in names if n not in known]
        if unknown:
            hints = "".join(did_you_mean(n, list(known)) for n in unknown)
            raise ConfigError(f"--case: unknown case(s) {unknown}{hints}; see 'kubesim validate --list'")
        chosen = [known[n] for n in names]
    else:
        chosen = [c for c in cases if c.usable and (args.all or not c.slow)]
    if args.replications is not None:
        reps = positive("replications", args.replications)
        chosen = [c.model_copy(update={"replications": reps}) for c in chosen]

    with Progress("kubesim validate", len(chosen), unit="case", quiet=args.quiet) as bar:
        def progress(case, row) -> None:
            bar.message(f"  {'ok  ' if row['passed'] else 'MISS'} {case.name}")
            bar.advance()

        bar.message(f"running {len(chosen)} case(s)")
        df = run_cases(chosen, seed=args.seed, progress=progress)
    print(validation_table(df))
    out = Path(args.out)
    atomic_write(out / "results.csv", lambda p: df.to_csv(p, index=False))
    atomic_write(out / "results.json", lambda p: p.write_text(
        json.dumps(json.loads(df.to_json(orient="records")), indent=1), encoding="utf-8"))
    written = save_validation_figure(df, out / "predicted-vs-measured")
    for p in [out / "results.csv", out / "results.json", *written]:
        print(f"wrote {p}")
    return 0 if bool(df.passed.all()) else 1
