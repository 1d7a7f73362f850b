"""``kubesim calibrate``: fit a chain to a real kubelet ``/metrics`` scrape and write the overlay."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..config import ConfigError
from ._common import out_path, parse_runtimes, seed_arg
from .progress import Progress, add_quiet_option

__all__ = ["cmd_calibrate", "register"]


def register(subparsers: argparse._SubParsersAction) -> None:
    c = subparsers.add_parser(
        "calibrate", help="fit a chain to a kubelet /metrics scrape; write a chain overlay",
        description="Read a saved kubelet /metrics scrape, simulate the node it describes and fit the "
                    "chain's step latencies until every measured operation's median is reproduced; "
                    "write the result as a chain overlay (base: + stepOverrides:) to use as a runtime.")
    c.add_argument("--metrics", required=True, metavar="FILE",
                   help="a saved kubelet /metrics scrape (Prometheus text format)")
    c.add_argument("--runtime", help="the chain to start from (default: from the scrape: Docker metrics "
                                     "-> dockershim of the scrape's Kubernetes release)")
    c.add_argument("--out", help="the overlay to write (default: out/calibrated-<runtime>.yaml)")
    c.add_argument("--seed", type=seed_arg, default=1, help="random seed (default: %(default)s)")
    c.add_argument("--set", action="append", metavar="KEY=VALUE",
                   help="change the fit scenario (the node the scrape describes), e.g. node.cpuCores=2")
    add_quiet_option(c)
    c.set_defaults(func=cmd_calibrate)


def cmd_calibrate(args: argparse.Namespace) -> int:
    from ..experiments.calibrate import calibrate
    from ..presentation.outputs import atomic_write
    from ..presentation.tables import calibration_table

    runtime = parse_runtimes(args.runtime) if args.runtime else None
    if runtime is not None and len(runtime) != 1:
        raise ConfigError("--runtime takes exactly one runtime, e.g. --runtime dockershim")
    if args.out and not args.out.endswith((".yaml", ".yml")):
        raise ConfigError(f"--out {args.out!r}: the overlay is a chain file and must end in .yaml, "
                          "so that it can be passed as a runtime")
    if args.out is not None:
        out_path(args.out, "file")
    from ..experiments.calibrate.fit import MAX_ROUNDS

    # at most MAX_ROUNDS fitting rounds and the final check; the fit often stops earlier
    with Progress("kubesim calibrate", MAX_ROUNDS + 1, unit="round", quiet=args.quiet) as bar:
        cal = calibrate(args.metrics, runtime=runtime[0] if runtime else None, seed=args.seed,
                        overrides=args.set, progress=bar.advance)
    out = Path(args.out) if args.out else Path("out") / f"calibrated-{Path(cal.base).stem}.yaml"
    text = cal.overlay_text()
    atomic_write(out, lambda p: p.write_text(text, encoding="utf-8"))
    print(calibration_table(cal))
    print(f"\nwrote {out}: use it as a runtime, e.g. kubesim compare --runtimes {out}")
    return 0
