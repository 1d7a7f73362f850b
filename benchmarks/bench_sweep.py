"""Benchmark: a 12-run sweep on one worker, on 2 local processes and on a local Dask cluster.

The sweep is ``cluster-density-5000`` shrunk to ``--pods`` pods (30 per node, default 1,500:
runs of about 5 seconds on the project's machine) on containerd, ``kubelet.kubeAPIQPS`` =
5, 10, 20, 50 x 3 replications. Each mode runs the ``kubesim sweep`` command in a fresh
subprocess (so start-up, imports, planning and writing the results are counted, as a user
would see them), into its own folder; the modes are interleaved (``--repeats`` rounds, best
wall time of each kept) so a change of load on the shared machine hits all of them.

Reported per mode: wall seconds, CPU seconds of all its processes (driver and workers), the
speed-up over one worker; then whether every mode gave the same results table (all columns but
``wall_seconds``), the mean wall time of one run, and the start + stop time of a bare local
Dask cluster of 2 workers. Targets (issue 10): ``--workers 2`` >= 1.8x and ``--local-dask
--workers 2`` >= 1.6x (0.8 x N of N workers) over one worker.

Run: ``make bench`` (after the density suite) or ``python -m benchmarks.bench_sweep``.
``--repo DIR`` runs another checkout's ``kubesim`` (e.g. an older commit, for a before/after).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Optional

if __package__ in (None, ""):  # run as a file: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._common import machine_info, machine_lines, markdown_table, mark  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
GRID = "kubelet.kubeAPIQPS=5,10,20,50"
REPLICATIONS = 3
MODES = {  # name -> (extra flags, workers, target: speed-up over one worker, issue 10)
    "1 worker": ([], 1, None),
    "--workers 2": (["--workers", "2"], 2, 1.8),
    "--local-dask --workers 2": (["--local-dask", "--workers", "2"], 2, 1.6),
}


def _sweep(repo: Path, pods: int, flags: list[str], out: Path) -> dict[str, float]:
    """Run one sweep; its wall seconds and the CPU seconds of its driver and of its workers."""
    nodes = math.ceil(pods / 30)
    rusage = out.with_suffix(".rusage.json")
    argv = [sys.executable, str(ROOT / "benchmarks" / "_kubesim_timed.py"), "sweep",
            "--preset", "cluster-density-5000",
            "--set", f"workload.pods={pods}", "--set", f"cluster.pools.0.nodes={nodes}",
            "--grid", GRID, "--runtimes", "containerd", "--replications", str(REPLICATIONS),
            "--out", str(out), *flags]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(repo), os.environ.get("PYTHONPATH", "")]),
           "PYTHONDONTWRITEBYTECODE": "1", "KUBESIM_BENCH_RUSAGE": str(rusage)}
    t0 = time.perf_counter()
    proc = subprocess.run(argv, cwd=repo, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"sweep {' '.join(flags) or '(1 worker)'} failed:\n{proc.stderr[-3000:]}")
    return {"wall": wall, **json.loads(rusage.read_text(encoding="utf-8"))}


def _dask_start_stop(workers: int = 2) -> Optional[float]:
    """Start and stop a local Dask cluster as a sweep does (None without Dask)."""
    try:
        from dask.distributed import Client

        from simulator.experiments.executors import local_cluster
    except ImportError:
        return None
    t0 = time.perf_counter()
    cluster = local_cluster(workers)
    client = Client(cluster)
    client.close()
    cluster.close()
    return time.perf_counter() - t0


def main(argv: Optional[list[str]] = None) -> int:
    import pandas as pd

    p = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    p.add_argument("--pods", type=int, default=int(os.environ.get("BENCH_SWEEP_PODS", "1500")),
                   help="pods per run (default $BENCH_SWEEP_PODS or 1500)")
    p.add_argument("--repeats", type=int, default=1, help="rounds of the three modes (best wall kept)")
    p.add_argument("--repo", type=Path, default=ROOT, help="the kubesim checkout to run (default: this one)")
    args = p.parse_args(argv)
    info = machine_info()
    best: dict[str, dict[str, float]] = {}
    tables: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="kubesim-bench-sweep-") as tmp:
        for round_ in range(args.repeats):
            for i, (name, (flags, _, _)) in enumerate(MODES.items()):
                out = Path(tmp) / f"r{round_}-m{i}"
                print(f"sweep, {name} (round {round_ + 1}) ...", file=sys.stderr, flush=True)
                m = _sweep(args.repo.resolve(), args.pods, flags, out)
                print(f"  wall {m['wall']:.1f} s, CPU {m['driver']:.1f} s driver + {m['workers']:.1f} s "
                      "workers", file=sys.stderr, flush=True)
                if name not in best or m["wall"] < best[name]["wall"]:
                    best[name] = m
                tables.setdefault(name, pd.read_parquet(out / "results.parquet"))
    serial = tables["1 worker"]
    same = all(t.drop(columns="wall_seconds").equals(serial.drop(columns="wall_seconds"))
               for t in tables.values())
    run_wall = float(serial.wall_seconds.mean())

    def on_idle_cores(name: str) -> float:
        """Wall time on an otherwise idle machine with a core per worker, from CPU times: the
        driver's CPU (start-up, planning, scheduling, writing results) plus the workers' CPU
        shared out evenly; a busy shared machine stretches wall times, not CPU times."""
        m, workers = best[name], MODES[name][1]
        return m["driver"] + m["workers"] / workers

    rows = []
    for name, (_, _, target) in MODES.items():
        m = best[name]
        speed = best["1 worker"]["wall"] / m["wall"]
        est = on_idle_cores("1 worker") / on_idle_cores(name)
        rows.append([f"`{name}`", f"{m['wall']:.1f}", f"{m['driver']:.1f}", f"{m['workers']:.1f}",
                     f"{speed:.2f}x", f"{est:.2f}x",
                     "-" if target is None
                     else f">= {target}x: wall {mark(speed >= target)}, CPU {mark(est >= target)}"])
    lines = [f"Sweep of {len(serial)} runs (cluster-density-5000 at {args.pods:,} pods on containerd, "
             f"grid {GRID}, {REPLICATIONS} replications); one run takes {run_wall:.1f} s wall "
             "(mean, on 1 worker).", ""]
    lines += markdown_table(["mode", "wall s", "driver CPU s", "workers CPU s", "speed-up (wall)",
                             "speed-up (from CPU s)", "target"], rows)
    lines += ["", "Speed-up from CPU s: (driver CPU + workers CPU / workers) of one worker over the "
              "same of the mode: the speed-up on an idle machine with a core per worker."]
    start_stop = _dask_start_stop() if args.repo.resolve() == ROOT else None  # this checkout's
    lines += [f"Results identical in every mode (all columns but wall_seconds): {'yes' if same else 'NO'}."]
    if start_stop is not None:
        lines.append(f"A local Dask cluster of 2 workers starts and stops in {start_stop:.2f} s (once per sweep).")
    lines += [""] + machine_lines(info)
    print("\n".join(lines))
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
