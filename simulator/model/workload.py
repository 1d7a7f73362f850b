"""Workloads: who creates and deletes pods, and when.

* ``batch`` / ``interval`` / ``poisson``: a client creates pods at given times (the node e2e
  density test's ``createBatchPodWithRateControl`` is ``interval`` with 0 or 100 ms).
* ``deployment``: the ReplicaSet and Deployment controllers create the pods
  (``control/replicaset.py``: slow-start batches, rolling updates, replacement after a drain).
* ``churn``: Poisson creations; each pod deleted ``lifetimeSeconds`` after creation.
* ``trace``: a CSV replay (``time``, ``template``, optional ``lifetime``, ``image``).
"""

from __future__ import annotations

from bisect import bisect_right

import io
import math
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Collection

import numpy as np
import pandas as pd
import simpy

from ..config import ConfigError, PodSpec, Scenario
from ..errors import named, shown
from ..safe_load import read_text
from ..schema import MAX_SECONDS
from .clock import call_later
from .control.replicaset import ReplicaSetController
from .state import PodState

if TYPE_CHECKING:
    from .control.apiserver import ApiServer

__all__ = ["Workload", "read_trace", "arrival_times", "MAX_TRACE_ROWS"]

# as workload.pods (config/workload.py)
MAX_TRACE_ROWS = 1_000_000


def arrival_times(w, rng: np.random.Generator) -> np.ndarray:
    if w.kind == "batch":
        return np.zeros(w.pods)
    if w.kind == "interval":
        return np.arange(w.pods) * w.intervalSeconds
    gaps = rng.exponential(1.0 / w.ratePerSecond, size=w.pods)
    return np.cumsum(gaps)


def read_trace(path: str, templates: dict[str, PodSpec], base: Path | None = None,
               images: Collection[str] | None = None) -> pd.DataFrame:
    """Read and check a trace CSV before time zero (through the input boundary,
    ``simulator.safe_load``): columns, times and lifetimes finite and within
    ``MAX_SECONDS``, templates and images that the scenario has, at most ``MAX_TRACE_ROWS`` rows."""
    p = Path(path)
    if not p.is_absolute() and base is not None and not p.exists():
        p = base / p
    where = f"workload.traceFile {named(path)}"
    text = read_text(p, "workload.traceFile", "csv")
    try:
        df = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)  # cells as written
    except pd.errors.EmptyDataError:
        raise ConfigError(f"{where} is empty; expected a header line time,template[,lifetime][,image] "
                          "and one row per pod") from None
    except Exception as e:  # noqa: BLE001 - any CSV error becomes one readable paragraph
        raise ConfigError(f"{where} could not be read as CSV: {shown(str(e), 200, quote=False)}") from None
    missing = {"time", "template"} - set(df.columns)
    if missing:
        raise ConfigError(f"{where} lacks columns {sorted(missing)}; "
                          "required: time, template; optional: lifetime, image")
    extra = set(df.columns) - {"time", "template", "lifetime", "image"}
    if extra:
        raise ConfigError(f"{where} has unknown columns {shown(sorted(map(str, extra)))}; "
                          "allowed: time, template, lifetime, image")
    if len(df) > MAX_TRACE_ROWS:
        raise ConfigError(f"{where} has {len(df):,} rows; the limit is {MAX_TRACE_ROWS:,} pods "
                          "(as for workload.pods)")
    if df.empty:
        raise ConfigError(f"{where} has a header but no rows; give one row per pod")
    df["time"] = _seconds_column(df, "time", where, positive=False)
    for col in ("template", "image"):
        if col in df:
            known = templates if col == "template" else images
            if known is None:
                continue
            values = df[col].astype(str).str.strip()
            bad = ~values.isin(list(known)) & ((values != "") if col == "image" else True)
            if bad.any():
                row = int(np.flatnonzero(bad.to_numpy())[0])
                raise ConfigError(f"{where} row {row + 2}: {col} {shown(df[col].iloc[row])} is not "
                                  f"{'a template of the workload' if col == 'template' else 'in images'}; "
                                  f"known: {shown(sorted(known), 200)}")
            df[col] = values
    if "lifetime" in df:
        df["lifetime"] = _seconds_column(df, "lifetime", where, positive=True)
    return df.sort_values("time", kind="stable").reset_index(drop=True)


def _seconds_column(df: pd.DataFrame, col: str, where: str, positive: bool) -> pd.Series:
    """Column ``col`` as seconds: numbers, finite, > 0 (``positive``) or >= 0, at most
    ``MAX_SECONDS``; an empty lifetime cell means the pod is never deleted."""
    raw = df[col].astype(str)
    t = pd.to_numeric(raw.str.strip(), errors="coerce")
    blank = raw.isna() | (raw.astype(str).str.strip() == "")
    lo_bad = (t <= 0) if positive else (t < 0)
    bad = (t.isna() & ~(blank & (col == "lifetime"))) | ~np.isfinite(t.fillna(0)) | lo_bad | (t > MAX_SECONDS)
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise ConfigError(f"{where} row {row + 2}: {col} {shown(raw.iloc[row])} must be a finite number of "
                          f"seconds {'> 0' if positive else '>= 0'} and at most {MAX_SECONDS:g} (30 days)")
    return t


class Workload:
    """Creates pods (via ``create(pod)``) and deletes them (``delete(pod)``) over time."""

    def __init__(self, env: simpy.Environment, scenario: Scenario, rng: np.random.Generator,
                 pod_seed: np.random.SeedSequence, api: "ApiServer",
                 create: Callable[[PodState], None], delete: Callable[[PodState], None],
                 trace_base: Path | None = None):
        self.env = env
        self.scenario = scenario
        self.w = scenario.workload
        self.rng = rng
        self._pod_seed = pod_seed
        self.api = api
        self._create = create
        self._delete = delete
        self.pods: list[PodState] = []
        self.templates = {t.name: t for t in self.w.templates}
        weights = np.array([t.weight for t in self.w.templates], dtype=float)
        self._weights = weights / weights.sum()
        # Generator.choice(n, p=weights)'s draw without its per-call checks (~40 us a pod): one
        # uniform against the cumulative weights normalised as numpy does (cumsum, divided by
        # the last), searched on the right: the same index from the same random number.
        cdf = self._weights.cumsum()
        self._cdf: list[float] = (cdf / cdf[-1]).tolist()
        self.trace: pd.DataFrame | None = None
        if self.w.kind == "trace":
            assert self.w.traceFile is not None  # WorkloadConfig requires it for kind trace
            self.trace = read_trace(self.w.traceFile, {k: v.spec for k, v in self.templates.items()}, trace_base,
                                    images=set(scenario.images))
        self._sequence: list[str] = []
        if self.w.templates[0].count is not None:
            left = {t.name: t.count or 0 for t in self.w.templates}
            while any(left.values()):
                for t in self.w.templates:
                    if left[t.name]:
                        self._sequence.append(t.name)
                        left[t.name] -= 1
        self.controller = ReplicaSetController(env, self.w, api, self.pods, self.new_pod, create, delete)
        self.done_creating = False

    # ------------------------------------------------------------------ pods
    def new_pod(self, template: str | None = None, image: str | None = None, revision: int = 1) -> PodState:
        i = len(self.pods)
        if template is None and self._sequence:
            template = self._sequence[i % len(self._sequence)]
        elif template is None:
            template = self.w.templates[bisect_right(self._cdf, self.rng.random())].name
        spec = self.templates[template].spec
        if image is not None:
            first = spec.containers[0].model_copy(update={"image": image})
            spec = spec.model_copy(update={"containers": [first] + list(spec.containers[1:])})
        pod = self.pod_from(template, spec)
        pod.revision = revision
        return pod

    def pod_from(self, template: str, spec: PodSpec) -> PodState:
        """A new pod of the run (its own random stream, the next index), from any spec: the
        workload's templates, or a DaemonSet's."""
        i = len(self.pods)
        seed = np.random.SeedSequence(self._pod_seed.entropy, spawn_key=self._pod_seed.spawn_key + (i,))
        pod = PodState(index=i, name=f"pod-{i:05d}", template=template, spec=spec,
                       rng=np.random.default_rng(seed))
        self.pods.append(pod)
        return pod

    def expected_pods(self) -> int | None:
        """How many pods the workload creates in all, if known in advance (None: open-ended)."""
        w = self.w
        if w.kind == "trace":
            assert self.trace is not None
            return len(self.trace)
        if w.kind == "churn":
            return None
        if w.kind == "deployment":
            return None if w.rolloutFrom else w.pods
        return w.pods

    def start(self) -> None:
        kind = self.w.kind
        if kind in ("batch", "interval", "poisson"):
            self.env.process(self._timed(arrival_times(self.w, self.rng)))
        elif kind == "churn":
            self.env.process(self._churn())
        elif kind == "trace":
            self.env.process(self._replay())
        else:
            self.env.process(self._deployment())

    def _timed(self, times: np.ndarray):
        for t in times:
            if t > self.env.now:
                yield self.env.timeout(t - self.env.now)
            self._create(self.new_pod())
        self.done_creating = True

    def _churn(self):
        w = self.w
        assert w.ratePerSecond is not None and w.lifetimeSeconds is not None  # required for churn
        for _ in range(w.pods):
            yield self.env.timeout(self.rng.exponential(1.0 / w.ratePerSecond))
            pod = self.new_pod()
            pod.lifetime = w.lifetimeSeconds
            self._create(pod)
            call_later(self.env, w.lifetimeSeconds, self._delete, pod)
        self.done_creating = True

    def _replay(self):
        assert self.trace is not None
        for row in self.trace.itertuples(index=False):
            if row.time > self.env.now:
                yield self.env.timeout(row.time - self.env.now)
            image = getattr(row, "image", None)
            pod = self.new_pod(row.template, image if isinstance(image, str) and image else None)
            life = getattr(row, "lifetime", None)
            self._create(pod)
            if life is not None and not math.isnan(life):
                pod.lifetime = float(life)
                call_later(self.env, float(life), self._delete, pod)
        self.done_creating = True

    # ------------------------------------------------------------------ controllers
    def _deployment(self):
        yield from self.controller.run()
        self.done_creating = True

    def notify(self) -> None:
        """A pod of ours became Running, was deleted or failed: controllers re-evaluate."""
        self.controller.notify()

    def replace(self, pod: PodState) -> None:
        """A controlled pod was deleted from outside (drain): its ReplicaSet creates another."""
        self.controller.replace(pod)
