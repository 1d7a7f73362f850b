"""Parameter sweeps: every combination of a grid of scenario values × runtimes × replications.

A sweep is described by a :class:`SweepSpec`: a base scenario (a preset or a scenario file, plus
optional dotted overrides), a ``grid`` mapping dotted scenario keys to the values to try, the
runtimes, the number of replications and the seed. Its life has four steps:

1. **Validate** everything before any run (:func:`expand`): the spec's own fields (pydantic,
   unknown keys refused), the base scenario, every grid value on its own (so that an error names
   the grid key and the value) and then every combination (some values are only refused
   together, e.g. ``maxParallelImagePulls`` without ``serializeImagePulls: false``).
2. **Expand** into an ordered list of :class:`SweepRun` descriptors: grid combinations in grid
   order (first key varies slowest), then runtime, then replication. Each run has a stable key,
   the SHA-256 of the canonical JSON of {resolved scenario, runtime, seed, replication}; the
   scenario's ``runtimes`` field is set to the run's runtime, so the key does not depend on
   which other runtimes the sweep compares.
3. **Execute** the runs that are not done yet: serially, on local worker processes
   (``concurrent.futures``) or on a Dask cluster (an existing scheduler or a local one). A worker
   runs :func:`~simulator.model.simulation.simulate` and returns only the small summary
   (:func:`~simulator.experiments.runner.summarize_runtime`), never the DataFrames. The driver
   writes each result as it arrives to ``OUT/runs/<key>.json`` (temporary file + ``os.replace``,
   so a file is either complete or absent). On start, runs whose file exists and parses are
   skipped: a sweep stopped at any moment, even by ``kill -9``, resumes where it stopped and no
   finished run is lost or computed twice. ``OUT/sweep.json`` holds the spec; resuming into a
   folder that holds a different sweep is refused.
4. **Collect** one tidy table, one row per run in expansion order: one column per grid key
   (named by the dotted key), ``runtime``, ``replication``, ``seed``, the summary flattened
   with '.'-joined keys (``pod_startup_seconds.p50``, ``failures_by_hop.<hop>``...), then
   ``wall_seconds`` and ``key``; written to ``OUT/results.parquet`` and ``OUT/results.csv``.

Each run's randomness depends only on (scenario, runtime, seed, replication) and the table is
always built from the stored run files, so the results are identical whichever executor ran
them and however often the sweep was interrupted. Replication ``r`` uses the same seed stream at
every grid point and on every runtime (common random numbers), as ``compare`` does.

Resuming assumes the same kubesim code: a run's key holds the scenario, the runtime and the
content of the files it reads (trace CSV, chain files: ``sweep_lock.input_digests``), not the
model's source. After changing the model, use a new folder. A folder is locked for the sweep's
life and workers die with the driver (``sweep_lock``).
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import sys
import time
import uuid
from concurrent.futures import as_completed
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Generator, Mapping, Optional

import pandas as pd
from tqdm import tqdm

from ..chains import load_chain
from ..config import ConfigError, Scenario, load_scenario
from ..model.simulation import simulate
from .executors import local_cluster
from .runner import summarize_runtime
from .sweep_lock import folder_lock, input_digests, process_pool, stop_pool
from .sweep_spec import (
    SweepSpec,
    load_sweep_file,
    parse_grid,
    shown_value,
    split_values,
    sweep_spec,
)

__all__ = [
    "SweepSpec",
    "SweepRun",
    "sweep_spec",
    "load_sweep_file",
    "split_values",
    "parse_grid",
    "expand",
    "run_task",
    "results_table",
    "run_sweep",
    "COUNT_SECTIONS",
]

# Summary sections that count events by category: a category absent from a run means zero.
COUNT_SECTIONS = ("failures_by_hop", "sync_errors_by_hop")
# run keys: the first 20 hex digits of the SHA-256 (80 bits: no collision in any real sweep)
_KEY_CHARS = 20

# ----------------------------------------------------------------------------- expansion
@dataclass(frozen=True)
class SweepRun:
    """One run of a sweep: a grid point on one runtime, one replication."""

    key: str
    grid: dict[str, Any]
    runtime: str
    replication: int
    seed: int
    scenario: Scenario


def _run_key(scenario: Scenario, runtime: str, seed: int, replication: int) -> str:
    doc: dict[str, Any] = {"scenario": scenario.resolved(), "runtime": runtime, "seed": seed,
                           "replication": replication}
    if inputs := input_digests(scenario, runtime):  # the content of trace and chain files
        doc["inputs"] = inputs
    canon = json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(canon.encode("ascii")).hexdigest()[:_KEY_CHARS]


def _with_runtimes(spec: SweepSpec, overrides: Mapping[str, Any]) -> dict[str, Any]:
    """The overrides with the sweep's runtimes: faults are checked against the chains run."""
    return {**overrides, "runtimes": list(spec.runtimes)} if spec.runtimes else dict(overrides)


def _base_scenario(spec: SweepSpec) -> Scenario:
    try:
        return load_scenario(spec.preset, _with_runtimes(spec, spec.overrides))
    except ConfigError as e:
        raise ConfigError(f"sweep base scenario (preset {spec.preset!r} with the sweep's "
                          f"overrides) is refused: {e}") from None


def _point_scenario(spec: SweepSpec, point: dict[str, Any]) -> Scenario:
    """The scenario at one grid point. If it is invalid, the error names the grid key and value
    that are invalid on their own, or else the combination (values refused only together)."""
    try:
        return load_scenario(spec.preset, _with_runtimes(spec, {**spec.overrides, **point}))
    except ConfigError as together:
        for key, value in point.items():
            try:
                load_scenario(spec.preset, _with_runtimes(spec, {**spec.overrides, key: value}))
            except ConfigError as alone:
                raise ConfigError(f"sweep grid key '{key}' = {shown_value(value)} is refused: "
                                  f"{alone}") from None
        raise ConfigError(f"sweep grid point {shown_value(point)} is refused (its values are valid "
                          f"one by one but not together): {together}") from None


def expand(spec: SweepSpec) -> list[SweepRun]:
    """Validate the sweep and list its runs: grid order (first key slowest) × runtime ×
    replication. Raises :class:`ConfigError` before anything runs if any scenario is invalid."""
    return _plan(spec)[1]


def _plan(spec: SweepSpec) -> tuple[Scenario, list[SweepRun]]:
    """The base scenario (before the grid) and the runs; see :func:`expand`."""
    base = _base_scenario(spec)
    runtimes = spec.runtimes or base.runtimes
    for rt in runtimes:
        load_chain(rt)  # a missing or invalid chain file fails here, not after hours of runs

    runs: list[SweepRun] = []
    owner: dict[str, dict[str, Any]] = {}
    for combo in itertools.product(*spec.grid.values()):
        point = dict(zip(spec.grid, combo))
        scenario = _point_scenario(spec, point)
        for rt in runtimes:
            per_runtime = scenario.model_copy(update={"runtimes": [rt]})
            for rep in range(spec.replications):
                key = _run_key(per_runtime, rt, spec.seed, rep)
                if key in owner and owner[key] != point:
                    raise ConfigError(
                        f"sweep grid points {shown_value(owner[key])} and {shown_value(point)} give the same "
                        "scenario (two spellings of one value, such as '2m' and 120 seconds); each "
                        "grid point must differ, so remove one of the values")
                owner[key] = point
                runs.append(SweepRun(key, point, rt, rep, spec.seed, per_runtime))
    return base, runs


# ----------------------------------------------------------------------------- execution
_Results = Generator[dict[str, Any], None, None]  # run records as they finish


def run_task(run: SweepRun) -> dict[str, Any]:
    """The worker function: simulate one run and return its small, JSON-able record."""
    started = time.perf_counter()
    result = simulate(run.scenario, run.runtime, run.seed, run.replication)
    summary = summarize_runtime([result], run.scenario)
    return {"key": run.key, "grid": run.grid, "runtime": run.runtime,
            "replication": run.replication, "seed": run.seed,
            "wall_seconds": time.perf_counter() - started, "summary": summary}


def _serial(runs: list[SweepRun]) -> _Results:
    for run in runs:
        yield run_task(run)


def _processes(runs: list[SweepRun], workers: int) -> _Results:
    pool = process_pool(workers)  # workers die with the driver and leave Ctrl-C to it
    interrupted = True
    try:
        futures = [pool.submit(run_task, run) for run in runs]
        for future in as_completed(futures):
            yield future.result()
        interrupted = False
    finally:
        stop_pool(pool, interrupted)


def _dask(runs: list[SweepRun], scheduler: Optional[str], workers: int) -> _Results:
    try:
        from dask.distributed import Client
        from dask.distributed import as_completed as dask_as_completed
    except ImportError:
        raise ConfigError("a Dask sweep (--scheduler or --local-dask) needs Dask distributed: "
                          "pip install 'kubesim[distributed]'") from None
    cluster = None
    if scheduler:
        try:
            client = Client(scheduler)
        except (OSError, TimeoutError, ValueError) as e:
            raise ConfigError(f"--scheduler {scheduler!r}: cannot reach a Dask scheduler there "
                              f"({e}); start one with 'dask scheduler' or check the address, "
                              "e.g. tcp://host:8786") from None
    else:
        cluster = local_cluster(workers)
        client = Client(cluster)
    try:
        futures = [client.submit(run_task, run, key=f"kubesim-sweep-{run.key}") for run in runs]
        try:
            for future in dask_as_completed(futures):
                yield future.result()
        finally:
            client.cancel(futures)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


# ----------------------------------------------------------------------------- files
def _write_atomic(path: Path, write: Callable[[Path], object]) -> None:
    """Write ``path`` through a temporary file in the same folder, then rename it into place:
    readers (and a resumed sweep) see the old file or the complete new one, never a part."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex}.tmp")
    try:
        write(tmp)
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _write_text(path: Path, text: str) -> None:
    _write_atomic(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def _read_record(path: Path, key: str) -> Optional[dict[str, Any]]:
    """A finished run's record, or None if the file is missing or is not that run's record."""
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if isinstance(record, dict) and record.get("key") == key and isinstance(record.get("summary"), dict):
        return record
    return None


def _claim_folder(out: Path, spec_doc: dict[str, Any], base: dict[str, Any]) -> None:
    """Check that ``out`` (locked) holds this same sweep or none; then (re)write ``sweep.json``."""
    marker = out / "sweep.json"
    if marker.exists():
        try:
            previous = json.loads(marker.read_text(encoding="utf-8"))["spec"]
        except (OSError, ValueError, KeyError, TypeError):
            raise ConfigError(f"{str(marker)!r} is not a kubesim sweep file; give another --out "
                              "for this sweep") from None
        if previous != spec_doc:
            fields = sorted(k for k in set(previous) | set(spec_doc) if previous.get(k) != spec_doc.get(k))
            raise ConfigError(
                f"--out {str(out)!r} holds a different sweep (its sweep.json differs in: "
                f"{', '.join(fields)}); a folder resumes only the sweep it was started with, so "
                "give another --out, or delete the folder to start again")
    (out / "runs").mkdir(parents=True, exist_ok=True)
    _write_text(marker, json.dumps({"spec": spec_doc, "scenario": base}, indent=2) + "\n")


# ----------------------------------------------------------------------------- results table
def _flatten(doc: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for k, v in doc.items():
        name = f"{prefix}{k}"
        if isinstance(v, Mapping):
            flat.update(_flatten(v, name + "."))
        elif isinstance(v, (list, tuple)):
            flat.update(_flatten({str(i): x for i, x in enumerate(v)}, name + "."))
        else:
            flat[name] = v
    return flat


def _grid_cells(values: list[Any]) -> list[Any]:
    """Grid values as table cells: scalars of one kind stay as they are; anything else (dicts,
    lists, a mix of strings and numbers) becomes text so that the column has one type."""
    def kind(v: Any) -> str:
        if isinstance(v, bool):
            return "bool"
        if isinstance(v, (int, float)):
            return "number"
        return "str" if isinstance(v, str) else "other"

    kinds = {kind(v) for v in values if v is not None}
    if len(kinds) <= 1 and "other" not in kinds:
        return values
    return [v if v is None or isinstance(v, str) else json.dumps(v, sort_keys=True) for v in values]


def results_table(runs: list[SweepRun], records: Mapping[str, Mapping[str, Any]]) -> pd.DataFrame:
    """One row per run, in ``runs`` order: grid columns, ``runtime``, ``replication``, ``seed``,
    the flattened summary (count sections filled with 0), ``wall_seconds``, ``key``."""
    grid_keys = list(runs[0].grid) if runs else []
    flats = [_flatten(records[run.key]["summary"]) for run in runs]
    sections: dict[str, None] = {}
    columns: dict[str, None] = {}
    for flat in flats:
        for name in flat:
            sections.setdefault(name.split(".", 1)[0])
            columns.setdefault(name)
    order = list(sections)
    summary_cols = sorted(columns, key=lambda c: order.index(c.split(".", 1)[0]))  # stable

    table: dict[str, list[Any]] = {k: _grid_cells([run.grid[k] for run in runs]) for k in grid_keys}
    table["runtime"] = [run.runtime for run in runs]
    table["replication"] = [run.replication for run in runs]
    table["seed"] = [run.seed for run in runs]
    for col in summary_cols:
        fill = 0 if col.split(".", 1)[0] in COUNT_SECTIONS else None
        table[col] = [flat.get(col, fill) for flat in flats]
    table["wall_seconds"] = [records[run.key]["wall_seconds"] for run in runs]
    table["key"] = [run.key for run in runs]
    df = pd.DataFrame(table)
    for col in summary_cols:  # a metric missing in every run (e.g. no steady window) is NaN
        if df[col].isna().all():
            df[col] = df[col].astype("float64")
    return df


# ----------------------------------------------------------------------------- the sweep
def run_sweep(spec: SweepSpec, out: str | Path, workers: int = 1, scheduler: Optional[str] = None,
              local_dask: bool = False, progress: bool = True) -> pd.DataFrame:
    """Run (or resume) a sweep into folder ``out`` and return the results table.

    ``workers`` > 1 runs on that many local processes; ``scheduler`` (``tcp://host:8786``) runs
    on an existing Dask cluster; ``local_dask`` starts a local Dask cluster of ``workers``
    single-threaded worker processes. The progress bar goes to stderr when it is a terminal.
    """
    if workers < 1:
        raise ConfigError(f"workers = {workers}: must be a whole number of at least 1")
    if scheduler and local_dask:
        raise ConfigError("give either a Dask scheduler address or a local Dask cluster, not both")
    out = Path(out)
    base, runs = _plan(spec)
    spec_doc = json.loads(spec.model_dump_json())
    spec_doc["runtimes"] = list(dict.fromkeys(run.runtime for run in runs))
    with folder_lock(out):  # one sweep per folder for its whole life (sweep_lock)
        return _run_locked(spec, out, base, runs, spec_doc, workers, scheduler, local_dask, progress)


def _run_locked(spec: SweepSpec, out: Path, base: Scenario, runs: list[SweepRun], spec_doc: dict[str, Any],
                workers: int, scheduler: Optional[str], local_dask: bool, progress: bool) -> pd.DataFrame:
    _claim_folder(out, spec_doc, base.resolved())

    run_dir = out / "runs"
    records: dict[str, dict[str, Any]] = {}
    for run in runs:
        record = _read_record(run_dir / f"{run.key}.json", run.key)
        if record is not None:
            records[run.key] = record
    pending = [run for run in runs if run.key not in records]

    if pending and (scheduler or local_dask):
        results = _dask(pending, scheduler, workers)
    elif pending and workers > 1:
        results = _processes(pending, workers)
    else:
        results = _serial(pending)

    with closing(results), tqdm(total=len(runs), initial=len(records), unit="run",
                                desc="kubesim sweep", file=sys.stderr,
                                disable=not (progress and sys.stderr.isatty())) as bar:
        for record in results:
            text = json.dumps(record, indent=2) + "\n"
            _write_text(run_dir / f"{record['key']}.json", text)
            records[record["key"]] = json.loads(text)  # exactly what a resumed sweep reads
            bar.update(1)

    df = results_table(runs, records)
    _write_atomic(out / "results.parquet", lambda tmp: df.to_parquet(tmp, index=False))
    _write_atomic(out / "results.csv", lambda tmp: df.to_csv(tmp, index=False))
    return df
