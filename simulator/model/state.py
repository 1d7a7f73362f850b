"""What the runtime holds for each pod, and what the kubelet knows of it.

``PodState`` is one pod's whole life in a run: its timestamps (the ``pods`` table columns), the
runtime's truth (sandbox and container states, which PLEG observes by relisting) and the
kubelet's bookkeeping (pending pod-worker updates, status versions).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

import numpy as np
import simpy

from ..config import ContainerSpec, PodSpec

__all__ = ["ContainerState", "PodState", "Outcome"]


class Outcome:
    RUNNING = "running"
    FAILED = "failed"
    PENDING = "pending"


@dataclass
class ContainerState:
    spec: ContainerSpec
    init: bool
    cid: str
    state: str = "none"  # none -> created -> running -> exited
    started_at: Optional[float] = None
    finished_at: Optional[float] = None


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
    # runtime truth
    sandbox_state: str = "none"  # none -> ready
    sandbox_id: str = ""
    has_shim: bool = False
    containers: dict[str, ContainerState] = field(default_factory=dict)
    # kubelet bookkeeping
    admitted: bool = False
    volumes_ready: Optional[simpy.Event] = None
    pending_update: bool = False
    wake: Optional[simpy.Event] = None
    status_content: tuple = ()
    status_version: int = 0
    sent_version: int = 0
    last_sync_error: str = ""

    def __post_init__(self) -> None:
        self.sandbox_id = f"{self.name}-sandbox"
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
        return (self.sandbox_state,) + tuple(c.state for c in self.containers.values())

    @property
    def settled(self) -> bool:
        return self.failed or self.running_observed is not None
