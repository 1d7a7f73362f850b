"""The ``kubesim`` command line (DESIGN.md "Command line"). Thin: parse, call, print.

Bad input (an unknown preset, key or runtime, a wrong type, a negative duration) is reported as
one paragraph naming the field, the value and what is allowed, with exit status 2; nothing is
written before the scenario has been validated, and files are written atomically.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Optional

from .config import RUNTIMES, ConfigError, Scenario, load_scenario

__all__ = ["main"]


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one paragraph, exit 2, no usage dump
        raise ConfigError(f"{self.prog}: {message} (see '{self.prog} --help')")


def _runtimes(text: Optional[str]) -> Optional[list[str]]:
    if not text:
        return None
    from .chains import known_chains

    names = [t.strip() for t in text.split(",") if t.strip()]
    allowed = known_chains()
    for n in names:
        if n not in allowed and n != "pools" and not n.endswith((".yaml", ".yml")):
            raise ConfigError(f"unknown runtime {n!r}; allowed: {', '.join(allowed)} "
                              "or a chain file (.yaml)")
    return names


def _scenario(args, source: str) -> Scenario:
    overrides = list(args.set or [])
    if getattr(args, "pods", None) is not None:
        if args.pods < 1:
            raise ConfigError(f"--pods = {args.pods}: must be a whole number of at least 1")
        overrides.append(f"workload.pods={args.pods}")
    runtimes = _runtimes(getattr(args, "runtimes", None))
    if runtimes:
        overrides.append(f"runtimes={json.dumps(runtimes)}")
    return load_scenario(source, overrides)


def _positive(name: str, value: int) -> int:
    if value < 1:
        raise ConfigError(f"--{name} = {value}: must be a whole number of at least 1")
    return value


# ----------------------------------------------------------------------------- commands
def cmd_compare(args) -> int:
    from .experiments.runner import compare
    from .presentation.tables import comparison_table

    scenario = _scenario(args, args.preset)
    comp = compare(scenario, replications=_positive("replications", args.replications),
                   seed=args.seed, workers=_positive("workers", args.workers))
    summary = comp.summary()
    if args.out:
        from .presentation.outputs import write_outputs

        write_outputs(comp, Path(args.out))
    if args.json:
        sys.stdout.write(json.dumps(summary, indent=2, sort_keys=False) + "\n")
    else:
        print(comparison_table(summary))
        if args.out:
            print(f"\nData, summary and figures written to {args.out}/")
    return 0


def cmd_run(args) -> int:
    from .experiments.runner import compare
    from .presentation.outputs import write_outputs
    from .presentation.tables import comparison_table

    scenario = _scenario(args, args.scenario)
    comp = compare(scenario, replications=_positive("replications", args.replications), seed=args.seed)
    out = Path(args.out or f"out/{scenario.name}")
    write_outputs(comp, out)
    print(comparison_table(comp.summary()))
    print(f"\nData, summary and figures written to {out}/")
    return 0


def cmd_presets(args) -> int:
    from .presets import preset_data, preset_names, preset_path

    if args.show:
        sys.stdout.write(preset_path(args.show).read_text(encoding="utf-8"))
        return 0

    width = max(len(n) for n in preset_names())
    for name in preset_names():
        desc = " ".join(str(preset_data(name).get("description", "")).split())
        first = desc.split(". ")[0].rstrip(".") + "."
        print(f"{name:<{width}}  {first}")
    return 0


def cmd_explain(args) -> int:
    from .presentation.explain import explain_chain

    print(explain_chain(args.runtime))
    return 0


def cmd_trace(args) -> int:
    from .experiments.runner import compare
    from .presentation.outputs import write_trace

    runtime = _runtimes(args.runtime)
    if not runtime or len(runtime) != 1:
        raise ConfigError("--runtime takes exactly one runtime, e.g. --runtime containerd")
    scenario = _scenario(args, args.preset)
    comp = compare(scenario, runtimes=runtime, seed=args.seed)
    text, written = write_trace(comp, runtime[0], args.pod, Path(args.out))
    print(text)
    print()
    for p in written:
        print(f"wrote {p}")
    return 0


def cmd_failures(args) -> int:
    from .experiments.failures import DEFAULT_LOADS, failure_ramp
    from .presentation.outputs import write_failures

    scenario = _scenario(args, args.preset)
    runtimes = _runtimes(args.runtimes) or [r for r in scenario.runtimes if r != "pools"]
    loads = DEFAULT_LOADS
    if args.loads:
        try:
            loads = tuple(float(x) for x in args.loads.split(",") if x.strip())
        except ValueError:
            raise ConfigError(f"--loads {args.loads!r}: expected comma-separated numbers, e.g. 100,200,400") from None
        if not loads or any(x <= 0 for x in loads):
            raise ConfigError(f"--loads {args.loads!r}: give one or more loads greater than 0")
    df = failure_ramp(scenario, runtimes, loads, load_key=args.load_key, seed=args.seed,
                      replications=_positive("replications", args.replications),
                      workers=_positive("workers", args.workers))
    text, written = write_failures(df, Path(args.out), scenario, args.load_key, args.seed)
    print(text)
    for p in written:
        print(f"wrote {p}")
    return 0


def cmd_report(args) -> int:
    from .experiments.runner import compare
    from .presentation.outputs import atomic_write
    from .presentation.report import render_report

    scenario = _scenario(args, args.preset)
    comp = compare(scenario, replications=_positive("replications", args.replications), seed=args.seed,
                   workers=_positive("workers", args.workers))
    page = render_report(comp)
    out = Path(args.out)
    atomic_write(out, lambda p: p.write_text(page, encoding="utf-8"))
    print(f"wrote {out} ({len(page) // 1024} KB, self-contained)")
    return 0


def cmd_figures(args) -> int:
    from .presentation.outputs import write_figures

    written = write_figures(Path(args.out), preset=args.preset, seed=args.seed, theme=args.theme,
                            pptx=Path(args.pptx) if args.pptx else None)
    for p in written:
        print(f"wrote {p}")
    return 0


# ----------------------------------------------------------------------------- parser
def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="kubesim", description=(
        "Discrete-event simulator of the kubelet's container-runtime call chains: "
        "dockershim, containerd, crio, cri-dockerd."))
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    def common(sp, preset=True):
        if preset:
            sp.add_argument("--preset", default="default",
                            help="preset name or scenario file (default: %(default)s)")
        sp.add_argument("--seed", type=int, default=1, help="random seed (default: %(default)s)")
        sp.add_argument("--set", action="append", metavar="KEY=VALUE",
                        help="override a scenario value by dotted path, e.g. kubelet.kubeAPIQPS=60")

    c = sub.add_parser("compare", help="run one scenario on several chains and compare them")
    common(c)
    c.add_argument("--runtimes", help=f"comma-separated chains (any of {', '.join(RUNTIMES)})")
    c.add_argument("--pods", type=int, help="number of pods (workload.pods)")
    c.add_argument("--replications", type=int, default=1, help="independent replications")
    c.add_argument("--workers", type=int, default=1, help="local worker processes")
    c.add_argument("--json", action="store_true", help="print the JSON summary only")
    c.add_argument("--out", help="write data (CSV, Parquet), summary and figures to this folder")
    c.set_defaults(func=cmd_compare)

    r = sub.add_parser("run", help="run one scenario (preset or file) and write its outputs")
    r.add_argument("scenario", help="preset name or scenario file (.yaml/.toml/.json)")
    r.add_argument("--seed", type=int, default=1)
    r.add_argument("--set", action="append", metavar="KEY=VALUE")
    r.add_argument("--replications", type=int, default=1)
    r.add_argument("--out", help="output folder (default: out/<scenario name>)")
    r.set_defaults(func=cmd_run)

    ps = sub.add_parser("presets", help="list the presets (or print one to copy and edit)")
    ps.add_argument("--show", metavar="PRESET", help="print this preset's YAML file")
    ps.set_defaults(func=cmd_presets)

    e = sub.add_parser("explain", help="narrate a chain hop by hop with sources")
    e.add_argument("runtime", choices=None, help=f"one of {', '.join(RUNTIMES)} or a chain file")
    e.set_defaults(func=cmd_explain)

    t = sub.add_parser("trace", help="one pod's sequence diagram (PNG, SVG, text) and Chrome trace")
    common(t)
    t.add_argument("--runtime", required=True, help="the chain")
    t.add_argument("--pod", help="pod name (default: the first pod that ran)")
    t.add_argument("--out", default="out/trace", help="output folder (default: %(default)s)")
    t.set_defaults(func=cmd_trace)

    fl = sub.add_parser("failures", help="failures and stalls by hop as load grows (table + heatmap)")
    common(fl)
    fl.set_defaults(preset="load-ramp")
    fl.add_argument("--runtimes", help="comma-separated chains (default: the scenario's)")
    fl.add_argument("--loads", help="comma-separated loads (default: 100,200,400,800)")
    fl.add_argument("--load-key", default="workload.pods", help="the scenario key the load sets (default: %(default)s)")
    fl.add_argument("--replications", type=int, default=1)
    fl.add_argument("--workers", type=int, default=1)
    fl.add_argument("--out", default="out/failures", help="output folder (default: %(default)s)")
    fl.set_defaults(func=cmd_failures)

    rp = sub.add_parser("report", help="one self-contained HTML page for a comparison")
    common(rp)
    rp.add_argument("--runtimes", help="comma-separated chains")
    rp.add_argument("--pods", type=int, help="number of pods (workload.pods)")
    rp.add_argument("--replications", type=int, default=3)
    rp.add_argument("--workers", type=int, default=1)
    rp.add_argument("--out", default="out/report.html", help="the HTML file (default: %(default)s)")
    rp.set_defaults(func=cmd_report)

    from .sweep_cmd import register as register_sweep

    register_sweep(sub)

    f = sub.add_parser("figures", help="regenerate the slide-ready figures")
    common(f)
    f.add_argument("--out", default="figures", help="output folder (default: %(default)s)")
    f.add_argument("--theme", choices=["light", "dark"], default="light")
    f.add_argument("--pptx", metavar="FILE", help="also write a PowerPoint deck, one figure per slide")
    f.set_defaults(func=cmd_figures)
    return p


def main(argv: Optional[list[str]] = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if not getattr(args, "command", None):
            parser.print_help()
            return 2
        if args.command == "explain":
            _runtimes(args.runtime)
        return args.func(args)
    except ConfigError as e:
        print(f"kubesim: error: {e}", file=sys.stderr)
        return 2
    except (FileNotFoundError, PermissionError, IsADirectoryError) as e:
        print(f"kubesim: error: cannot write or read {e.filename!r}: {e.strerror}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
