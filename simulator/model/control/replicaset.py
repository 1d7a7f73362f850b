"""The ReplicaSet and Deployment controllers of kube-controller-manager, as far as pod creation
goes.

* ``slowStartBatch`` (pkg/controller/replicaset/replica_set.go): a ReplicaSet creates its pods
  in batches of 1, 2, 4, ... (``SlowStartInitialBatchSize`` 1), each batch waiting for the
  previous batch's create calls, every POST through the controller-manager's rate-limited
  client (``controllerQPS``/``controllerBurst``).
* A rolling update (pkg/controller/deployment/rolling.go): with ``rolloutFrom: N``, N pods of
  the old revision are brought up first; then new pods are created while the total stays within
  N + maxSurge (default 25 %), and old pods are deleted as new ones are observed Running, while
  at least N - maxUnavailable (25 %) stay available.
* A controlled pod deleted from outside (a node drain) is replaced by a new one.
"""

from __future__ import annotations

import math
from typing import Callable, Optional

import simpy

from ...config import WorkloadConfig
from ..state import PodState
from .apiserver import ApiServer
from .ratelimit import TokenBucket

__all__ = ["ReplicaSetController"]


class ReplicaSetController:
    def __init__(self, env: simpy.Environment, w: WorkloadConfig, api: ApiServer,
                 pods: list[PodState], new_pod: Callable[..., PodState],
                 create: Callable[[PodState], None], delete: Callable[[PodState], None]):
        self.env = env
        self.w = w
        self.api = api
        self.pods = pods  # every pod of the workload (shared with it)
        self._new_pod = new_pod
        self._create = create
        self._delete = delete
        self.client = TokenBucket(env, w.controllerQPS, w.controllerBurst)
        self.replaced: set[str] = set()
        self._changed = env.event()

    def _controller_create(self, revision: int, template: Optional[str] = None):
        """One POST pods from the controller: rate-limited client, then the request."""
        yield from self.api.request(self.client)
        pod = self._new_pod(template, revision=revision)
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

    def run(self):
        """Create the Deployment's pods (and roll them over, with ``rolloutFrom``)."""
        w = self.w
        if not w.rolloutFrom:
            yield from self._slow_start(w.pods, 1)
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

    def _alive(self) -> list[PodState]:
        return [p for p in self.pods if p.deletion_requested is None and not p.failed]

    def _available(self, revision: int) -> int:
        return sum(1 for p in self._alive() if p.revision == revision and p.running_observed is not None)

    def _wait_change(self) -> simpy.Event:
        if self._changed.triggered:
            self._changed = self.env.event()
        return self._changed

    def notify(self) -> None:
        """A pod became Running, was deleted or failed: the controllers re-evaluate."""
        if not self._changed.triggered:
            self._changed.succeed()

    def replace(self, pod: PodState) -> None:
        """A controlled pod was deleted from outside (drain): its ReplicaSet creates another."""
        if pod.controlled and pod.name not in self.replaced:
            self.replaced.add(pod.name)
            self.env.process(self._controller_create(pod.revision, pod.template))
