"""Workloads: who creates and deletes pods, and when.

* ``batch`` / ``interval`` / ``poisson``: a client creates pods at given times (the node e2e
  density test's ``createBatchPodWithRateControl`` is ``interval`` with 0 or 100 ms).
* ``deployment``: the ReplicaSet and Deployment controllers create the pods
  (``control/replicaset.py``: slow-start batches, rolling updates, replacement after a drain).
* ``churn``: Poisson creations; each pod deleted ``lifetimeSeconds`` after creation.
* ``trace``: a CSV replay (``time``, ``template``, optional ``lifetime``, ``image``).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Callable

import numpy as np
import pandas as pd
import simpy

from ..config import ConfigError, PodSpec, Scenario
from .clock import call_later
from .control.replicaset import ReplicaSetController
from .state import PodState

if TYPE_CHECKING:
    from .control.apiserver import ApiServer

__all__ = ["Workload", "read_trace", "arrival_times"]


def arrival_times(w, rng: np.random.Generator) -> np.ndarray:
    if w.kind == "batch":
        return np.zeros(w.pods)
    if w.kind == "interval":
        return np.arange(w.pods) * w.intervalSeconds
    gaps = rng.exponential(1.0 / w.ratePerSecond, size=w.pods)
    return np.cumsum(gaps)


def read_trace(path: str, templates: dict[str, PodSpec], base: Path | None = None) -> pd.DataFrame:
    """Read and check a trace CSV before time zero."""
    p = Path(path)
    if not p.is_absolute() and base is not None and not p.exists():
        p = base / p
    if not p.is_file():
        raise ConfigError(f"workload.traceFile {path!r} does not exist")
    try:
        df = pd.read_csv(p)
    except Exception as e:  # noqa: BLE001
        raise ConfigError(f"workload.traceFile {path!r} could not be read as CSV: {e}".replace("\n", " ")) from None
    missing = {"time", "template"} - set(df.columns)
    if missing:
        raise ConfigError(f"workload.traceFile {path!r} lacks columns {sorted(missing)}; "
                          "required: time, template; optional: lifetime, image")
    extra = set(df.columns) - {"time", "template", "lifetime", "image"}
    if extra:
        raise ConfigError(f"workload.traceFile {path!r} has unknown columns {sorted(extra)}; "
                          "allowed: time, template, lifetime, image")
    t = pd.to_numeric(df["time"], errors="coerce")
    if t.isna().any() or (t < 0).any():
        row = int(np.flatnonzero(t.isna() | (t < 0))[0])
        raise ConfigError(f"workload.traceFile {path!r} row {row + 2}: time {df['time'].iloc[row]!r} "
                          "must be a number of seconds >= 0")
    unknown = sorted(set(df["template"]) - set(templates))
    if unknown:
        raise ConfigError(f"workload.traceFile {path!r}: unknown templates {unknown}; "
                          f"known: {sorted(templates)}")
    if "lifetime" in df:
        life = pd.to_numeric(df["lifetime"], errors="coerce")
        bad = life.notna() & (life <= 0)
        if bad.any():
            raise ConfigError(f"workload.traceFile {path!r}: lifetime must be > 0 seconds")
        df["lifetime"] = life
    df["time"] = t
    return df.sort_values("time", kind="stable").reset_index(drop=True)


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
        self.trace: pd.DataFrame | None = None
        if self.w.kind == "trace":
            assert self.w.traceFile is not None  # WorkloadConfig requires it for kind trace
            self.trace = read_trace(self.w.traceFile, {k: v.spec for k, v in self.templates.items()}, trace_base)
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
            template = self.w.templates[int(self.rng.choice(len(self.w.templates), p=self._weights))].name
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
