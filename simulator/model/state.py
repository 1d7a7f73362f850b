"""What the runtime holds for each pod, and what the kubelet knows of it.

``PodState`` is one pod's whole life in a run: its timestamps (the ``pods`` table columns), the
runtime's truth (sandbox and container states, which PLEG observes by relisting) and the
kubelet's bookkeeping (pending pod-worker updates, status versions).

Both are slotted (a 150,000-pod run holds every pod to the end). A pod counts what the runtime
lists of it (its sandbox, its current container instances) as their states change, and a
``PodList`` (the kubelet's admitted pods) keeps the node's totals from those counts, so that
nobody rescans the pods to count them (``Node.count``, the runtime's memory).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

import numpy as np
import simpy

from ..config import ContainerSpec, PodSpec

__all__ = ["ContainerState", "PodState", "Outcome", "PodList"]


class Outcome:
    RUNNING = "running"
    FAILED = "failed"
    PENDING = "pending"
    # deletion requested and begun by the kubelet, never completed (a stop path that keeps failing)
    TERMINATING = "terminating"


_LIVE = ("created", "running")


@dataclass(slots=True)
class ContainerState:
    spec: ContainerSpec
    init: bool
    cid: str
    _state: str = field(default="none", repr=False)  # see ``state``
    started_at: Optional[float] = None
    finished_at: Optional[float] = None
    restarts: int = 0
    crashes: int = 0
    lost: bool = False  # gone from the runtime while the kubelet still lists it (stop_faults.py)
    # the pod whose current instance this is (None once replaced): its counts follow ``state``
    _pod: Optional["PodState"] = field(default=None, repr=False, compare=False)

    @property
    def state(self) -> str:
        """none -> created -> running -> exited"""
        return self._state

    @state.setter
    def state(self, value: str) -> None:
        old = self._state
        self._state = value
        pod = self._pod
        if pod is not None and old != value:
            pod._snap = None
            pod._count_change((old != "none", old in _LIVE), (value != "none", value in _LIVE))


@dataclass(slots=True, eq=False)
class PodState:
    index: int
    name: str
    template: str
    spec: PodSpec
    rng: np.random.Generator
    # timestamps (seconds of simulated time); None until reached
    created: Optional[float] = None
    scheduled: Optional[float] = None
    kubelet_seen: Optional[float] = None
    sandbox_ready: Optional[float] = None
    containers_started: Optional[float] = None
    running_observed: Optional[float] = None
    image_pull_seconds: float = 0.0
    attempts: int = 0
    failure_hop: str = ""
    failure_reason: str = ""
    failed: bool = False
    node: str = ""
    runtime: str = ""
    node_ref: Any = None
    # runtime truth
    _sandbox_state: str = "none"  # see ``sandbox_state``
    sandbox_id: str = ""
    sandbox_generation: int = 0
    has_shim: bool = False
    has_ip: bool = False
    inflight_sandbox: Optional[simpy.Event] = None
    recreations: int = 0
    # lifecycle
    lifetime: Optional[float] = None
    revision: int = 1
    controlled: bool = False
    disrupted_at: Optional[float] = None
    unschedulable: str = ""
    deletion_requested: Optional[float] = None
    deleted: Optional[float] = None
    terminated: bool = False
    evicted: bool = False
    terminating_since: Optional[float] = None  # the kubelet's first KillPod for the deletion
    kill_failures: int = 0
    # (hop, reason) of the injected cause of a stop-path or reboot failure, for the outcome
    fault_cause: tuple = ()
    containers: dict[str, ContainerState] = field(default_factory=dict)
    # earlier instances (exited, or stuck in 'created') the runtime still lists until GC
    old_instances: list[ContainerState] = field(default_factory=list)
    started_once: set = field(default_factory=set)  # regular containers started at least once
    # kubelet bookkeeping
    admitted: bool = False
    volumes_ready: Optional[simpy.Event] = None
    setup_done: bool = False  # the first sync's cgroup, dirs and volume wait are done
    # the container running a Docker daemon (Docker-in-Docker: model/control/dind.py), and
    # who wants to hear of each container start
    docker_daemon: Optional[str] = None
    daemonset: bool = False  # a DaemonSet's pod: bound to its node, not drained
    on_container_started: Optional[Any] = None
    pending_update: bool = False
    wake: Optional[simpy.Event] = None
    status_content: tuple = ()
    status_version: int = 0
    sent_version: int = 0
    last_sync_error: tuple = ()
    syncs: int = 0  # syncPod runs (periodic resyncs included)
    # what the pod's start-up waited on, seconds by cause (model/attribution.py), and when the
    # kubelet first set its status to Running (the ledger's sync path closes then)
    blame: dict = field(default_factory=dict)
    running_status_at: Optional[float] = None
    # what the runtime lists of this pod: its sandbox (0/1), its current container instances
    # not in 'none', those created or running; and the kubelet list that sums them
    n_sandboxes: int = 0
    n_containers: int = 0
    n_live: int = 0
    _owner: Optional["PodList"] = field(default=None, repr=False)
    _snap: Optional[tuple] = field(default=None, repr=False)  # see ``runtime_snapshot``

    def __post_init__(self) -> None:
        self.sandbox_id = f"{self.name}-sandbox-0"
        for c in self.spec.initContainers:
            self._put(c.name, ContainerState(c, True, f"{self.name}-{c.name}"))
        for c in self.spec.containers:
            self._put(c.name, ContainerState(c, False, f"{self.name}-{c.name}"))

    @property
    def sandbox_state(self) -> str:
        """none -> ready -> notready (stopped or died)"""
        return self._sandbox_state

    @sandbox_state.setter
    def sandbox_state(self, value: str) -> None:
        was = self._sandbox_state != "none"
        self._sandbox_state = value
        self._snap = None
        now = value != "none"
        if was != now:
            d = 1 if now else -1
            self.n_sandboxes += d
            if self._owner is not None:
                self._owner.sandboxes += d

    def _count_change(self, old: tuple[bool, bool], new: tuple[bool, bool]) -> None:
        """A current container instance changed state (listed, created-or-running)."""
        dc, dl = new[0] - old[0], new[1] - old[1]
        self.n_containers += dc
        self.n_live += dl
        owner = self._owner
        if owner is not None:
            owner.containers += dc
            owner.live += dl

    def _put(self, name: str, c: ContainerState) -> None:
        """``c`` becomes the current instance of container ``name`` (the old one, if any, no
        longer counts)."""
        old = self.containers.get(name)
        if old is not None:
            old._pod = None
            self._count_change((old._state != "none", old._state in _LIVE), (False, False))
        self.containers[name] = c
        c._pod = self
        self._snap = None
        self._count_change((False, False), (c._state != "none", c._state in _LIVE))

    @property
    def init_containers(self) -> list[ContainerState]:
        return [c for c in self.containers.values() if c.init]

    @property
    def regular_containers(self) -> list[ContainerState]:
        return [c for c in self.containers.values() if not c.init]

    def runtime_snapshot(self) -> tuple:
        """What a relist sees of this pod: sandbox state, how many old instances the runtime
        still lists, and every current container's state. Kept until one of them changes
        (a state's setter or a replaced instance drops it; the old instances are only ever
        added or removed, which changes their number)."""
        snap = self._snap
        if snap is None or snap[1] != len(self.old_instances):
            snap = self._snap = ((self._sandbox_state, len(self.old_instances))
                                 + tuple(c._state for c in self.containers.values()))
        return snap

    def replace_container(self, name: str) -> ContainerState:
        """A new instance of a container (restart): the old one stays listed until GC."""
        old = self.containers[name]
        attempt = old.restarts + 1
        new = ContainerState(old.spec, old.init, f"{self.name}-{name}-{self.sandbox_generation}-{attempt}",
                             restarts=attempt, crashes=old.crashes)
        self._put(name, new)
        self.old_instances.append(old)
        return new

    @property
    def settled(self) -> bool:
        return self.failed or self.running_observed is not None or self.deleted is not None

    def new_sandbox_generation(self) -> None:
        """The sandbox is being replaced: new sandbox id, new container instances."""
        self.sandbox_generation += 1
        self.sandbox_id = f"{self.name}-sandbox-{self.sandbox_generation}"
        self.sandbox_state = "none"
        self.has_shim = False
        for name, c in list(self.containers.items()):
            if c.state != "none":
                self.old_instances.append(c)
            self._put(name, ContainerState(c.spec, c.init, f"{self.name}-{name}-{self.sandbox_generation}",
                                           restarts=c.restarts, crashes=c.crashes))


class PodList(list):
    """The kubelet's admitted pods (a list, in admission order) that keeps what the runtime
    lists of them summed: sandboxes, container instances, instances created or running; and
    tells ``on_change`` (the scheduler's view of the node) when its length changes. Every
    change of membership goes through ``append``, ``remove`` or ``del`` of a slice or index."""

    def __init__(self, on_change=None):
        super().__init__()
        self.sandboxes = 0
        self.containers = 0
        self.live = 0
        self.on_change = on_change

    def _join(self, pod: PodState, sign: int) -> None:
        pod._owner = self if sign > 0 else None
        self.sandboxes += sign * pod.n_sandboxes
        self.containers += sign * pod.n_containers
        self.live += sign * pod.n_live

    def _changed(self) -> None:
        if self.on_change is not None:
            self.on_change()

    def append(self, pod: PodState) -> None:
        if pod._owner is not None:
            raise ValueError(f"pod {pod.name} is already listed by a kubelet")
        super().append(pod)
        self._join(pod, 1)
        self._changed()

    def remove(self, pod: PodState) -> None:
        super().remove(pod)
        self._join(pod, -1)
        self._changed()

    def __delitem__(self, key) -> None:
        gone = self[key] if isinstance(key, slice) else [self[key]]
        super().__delitem__(key)
        for pod in gone:
            self._join(pod, -1)
        self._changed()

    def _unsupported(self, *_a, **_k):
        raise TypeError("PodList changes only through append, remove and del")

    insert = extend = pop = clear = __setitem__ = __iadd__ = _unsupported
