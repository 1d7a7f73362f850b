"""Workloads: who creates and deletes pods, and when.

* ``batch`` / ``interval`` / ``poisson``: a client creates pods at given times (the node e2e
  density test's ``createBatchPodWithRateControl`` is ``interval`` with 0 or 100 ms).
* ``deployment``: the ReplicaSet controller's ``slowStartBatch`` (pkg/controller/replicaset/
  replica_set.go): creates in batches of 1, 2, 4, ... each waiting for the previous batch's
  create calls, through kube-controller-manager's rate-limited client (``controllerQPS``/
  ``controllerBurst``). With ``rolloutFrom: N``, N pods of the old revision are first brought
  up, then a rolling update (Deployment maxSurge 25 %, maxUnavailable 25 %) replaces them: new
  pods are created while the total stays within N + surge, old pods deleted as new ones are
  observed Running while at least N - unavailable stay available. A deleted pod of a
  controller (drain, eviction) is replaced by a new one.
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
from .control import TokenBucket
from .state import PodState

if TYPE_CHECKING:
    from .control import ApiServer

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
        self.client = TokenBucket(env, self.w.controllerQPS, self.w.controllerBurst)
        self.trace = (read_trace(self.w.traceFile, {k: v.spec for k, v in self.templates.items()}, trace_base)
                      if self.w.kind == "trace" else None)
        self.replaced: set[str] = set()
        self._sequence: list[str] = []
        if self.w.templates[0].count is not None:
            left = {t.name: t.count for t in self.w.templates}
            while any(left.values()):
                for t in self.w.templates:
                    if left[t.name]:
                        self._sequence.append(t.name)
                        left[t.name] -= 1
        self.revision_running: dict[int, int] = {}
        self._changed = env.event()
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
        seed = np.random.SeedSequence(self._pod_seed.entropy, spawn_key=self._pod_seed.spawn_key + (i,))
        pod = PodState(index=i, name=f"pod-{i:05d}", template=template, spec=spec,
                       rng=np.random.default_rng(seed))
        pod.revision = revision
        self.pods.append(pod)
        return pod

    def expected_pods(self) -> int | None:
        """How many pods the workload creates in all, if known in advance (None: open-ended)."""
        w = self.w
        if w.kind == "trace":
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
        for _ in range(w.pods):
            yield self.env.timeout(self.rng.exponential(1.0 / w.ratePerSecond))
            pod = self.new_pod()
            pod.lifetime = w.lifetimeSeconds
            self._create(pod)
            self.env.timeout(w.lifetimeSeconds).callbacks.append(lambda _e, p=pod: self._delete(p))
        self.done_creating = True

    def _replay(self):
        for row in self.trace.itertuples(index=False):
            if row.time > self.env.now:
                yield self.env.timeout(row.time - self.env.now)
            image = getattr(row, "image", None)
            pod = self.new_pod(row.template, image if isinstance(image, str) and image else None)
            life = getattr(row, "lifetime", None)
            self._create(pod)
            if life is not None and not math.isnan(life):
                pod.lifetime = float(life)
                self.env.timeout(float(life)).callbacks.append(lambda _e, p=pod: self._delete(p))
        self.done_creating = True

    # ------------------------------------------------------------------ controllers
    def _controller_create(self, revision: int, template: str | None = None):
        """One POST pods from the controller: rate-limited client, then the request."""
        yield from self.api.request(self.client)
        pod = self.new_pod(template, revision=revision)
        pod.controlled = True
        self._create(pod)
        return pod

    def _slow_start(self, count: int, revision: int):
        """replica_set.go slowStartBatch: batches of 1, 2, 4, ... (SlowStartInitialBatchSize 1)."""
        remaining, batch = count, 1
        while remaining > 0:
            size = min(batch, remaining)
            yield self.env.all_of([self.env.process(self._controller_create(revision)) for _ in range(size)])
            remaining -= size
            batch *= 2

    def _deployment(self):
        w = self.w
        if not w.rolloutFrom:
            yield from self._slow_start(w.pods, 1)
            self.done_creating = True
            return
        n = w.rolloutFrom
        yield from self._slow_start(n, 1)
        while self._available(1) < n:
            yield self._wait_change()
        surge = math.ceil(n * w.maxSurgePercent / 100)
        unavailable = math.floor(n * 0.25)
        while True:
            old = [p for p in self._alive() if p.revision == 1]
            new = [p for p in self._alive() if p.revision == 2]
            if not old and self._available(2) >= n:
                break
            to_create = min(n - len(new), n + surge - len(old) - len(new))
            if to_create > 0:
                yield from self._slow_start(to_create, 2)
                continue
            can_remove = self._available(1) + self._available(2) - (n - unavailable)
            removable = [p for p in old if p.running_observed is not None][:max(0, can_remove)]
            if removable:
                for p in removable:
                    self._delete(p)
                continue
            yield self._wait_change()
        self.done_creating = True

    def _alive(self) -> list[PodState]:
        return [p for p in self.pods if p.deletion_requested is None and not p.failed]

    def _available(self, revision: int) -> int:
        return sum(1 for p in self._alive() if p.revision == revision and p.running_observed is not None)

    def _wait_change(self) -> simpy.Event:
        if self._changed.triggered:
            self._changed = self.env.event()
        return self._changed

    def notify(self) -> None:
        """A pod of ours became Running, was deleted or failed: controllers re-evaluate."""
        if not self._changed.triggered:
            self._changed.succeed()

    def replace(self, pod: PodState) -> None:
        """A controlled pod was deleted from outside (drain): its ReplicaSet creates another."""
        if getattr(pod, "controlled", False) and pod.name not in self.replaced:
            self.replaced.add(pod.name)
            self.env.process(self._controller_create(pod.revision, pod.template))
