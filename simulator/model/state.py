"""What the runtime holds for each pod, and what the kubelet knows of it.

``PodState`` is one pod's whole life in a run: its timestamps (the ``pods`` table columns), the
runtime's truth (sandbox and container states, which PLEG observes by relisting) and the
kubelet's bookkeeping (pending pod-worker updates, status versions).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

import numpy as np
import simpy

from ..config import ContainerSpec, PodSpec

__all__ = ["ContainerState", "PodState", "Outcome"]


class Outcome:
    RUNNING = "running"
    FAILED = "failed"
    PENDING = "pending"
    # deletion requested and begun by the kubelet, never completed (a stop path that keeps failing)
    TERMINATING = "terminating"


@dataclass
class ContainerState:
    spec: ContainerSpec
    init: bool
    cid: str
    state: str = "none"  # none -> created -> running -> exited
    started_at: Optional[float] = None
    finished_at: Optional[float] = None
    restarts: int = 0
    crashes: int = 0
    lost: bool = False  # gone from the runtime while the kubelet still lists it (stop_faults.py)


@dataclass
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
    sandbox_state: str = "none"  # none -> ready -> notready (stopped or died)
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

    def __post_init__(self) -> None:
        self.sandbox_id = f"{self.name}-sandbox-0"
        for c in self.spec.initContainers:
            self.containers[c.name] = ContainerState(c, True, f"{self.name}-{c.name}")
        for c in self.spec.containers:
            self.containers[c.name] = ContainerState(c, False, f"{self.name}-{c.name}")

    @property
    def init_containers(self) -> list[ContainerState]:
        return [c for c in self.containers.values() if c.init]

    @property
    def regular_containers(self) -> list[ContainerState]:
        return [c for c in self.containers.values() if not c.init]

    def runtime_snapshot(self) -> tuple:
        """What a relist sees of this pod: sandbox state and every container's state."""
        return ((self.sandbox_state, len(self.old_instances))
                + tuple(c.state for c in self.containers.values()))

    def replace_container(self, name: str) -> ContainerState:
        """A new instance of a container (restart): the old one stays listed until GC."""
        old = self.containers[name]
        attempt = old.restarts + 1
        new = ContainerState(old.spec, old.init, f"{self.name}-{name}-{self.sandbox_generation}-{attempt}",
                             restarts=attempt, crashes=old.crashes)
        self.containers[name] = new
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
            self.containers[name] = ContainerState(c.spec, c.init, f"{self.name}-{name}-{self.sandbox_generation}",
                                                   restarts=c.restarts, crashes=c.crashes)
