"""The small interfaces the model's components meet at (typing ``Protocol`` classes).

Components are wired in one place (``simulation.py`` builds a node, its kubelet and its faults),
and each sees of the others only what it needs, declared here, so that no module imports the
one above it (the import graph of ``simulator/`` has no cycles; ``tests/test_layout.py``):

* ``Faults``: what the interpreter and the image store ask of a node's fault injector;
* ``Images``: what the interpreter's conditions ask of the node's image store;
* ``RuntimeHost``: what the chain interpreter and the image store use of the node they run on
  (its cores, links, locks, image store, IPAM, process counts and recorder);
* ``NodeKubelet``: what the node, its faults and the scheduler read of the kubelet (the pods
  it has admitted, its queues) and how they tell it that something on the node changed
  (``poke``); ``KubeletStreams``: its streaming endpoints, as stream sessions use them.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any, Generator, Optional, Protocol

import simpy

if TYPE_CHECKING:
    from ..chains import Chain, LockSpec, Step
    from ..config import NodeConfig, RegistryFault, Scenario
    from .fluid import FluidShare
    from .records import Recorder
    from .runtime.context import CallContext
    from .runtime.locks import HopLock
    from .state import PodList, PodState

__all__ = ["Faults", "Images", "RuntimeHost", "NodeKubelet", "KubeletStreams"]


class Faults(Protocol):
    epoch: Counter
    fired: list[tuple[float, str, str]]  # (time, kind, detail) of the timed faults that struck
    down_until: dict[str, float]  # process -> until when calls to it are refused

    def before_step(self, step: "Step", ctx: "CallContext", hop: str) -> float: ...

    def after_step(self, step: "Step", ctx: "CallContext", hop: str, epoch_at_start: int) -> None: ...

    def registry(self) -> tuple[float, Optional["RegistryFault"]]: ...

    def leak_ip(self) -> bool: ...


class Images(Protocol):
    def present(self, image: str) -> bool: ...

    def pull(self, image: Optional[str], ctx: "CallContext", process: str) -> Generator[simpy.Event, Any, None]: ...


class KubeletStreams(Protocol):
    """The kubelet's streaming endpoints as a stream session uses them (kubelet/streaming.py)."""

    mode: str

    @property
    def proxies(self) -> bool: ...

    def serve(self, kind: str, ctx: "CallContext", server: Any) -> Generator[simpy.Event, Any, Optional[int]]: ...

    def dial_stream_server(self, server: Any, ctx: "CallContext") -> Generator[simpy.Event, Any, None]: ...


class NodeKubelet(Protocol):
    @property
    def streaming(self) -> Optional[KubeletStreams]: ...  # exec/attach/port-forward/logs, when streams run

    @property
    def pods(self) -> "PodList": ...  # the admitted pods, in admission order

    def poke(self) -> None: ...

    def shutdown(self, reason: str) -> None: ...

    def boot(self) -> None: ...

    def queue_lengths(self) -> list[tuple[str, int]]: ...

    def pod_seen(self, pod: "PodState") -> None: ...

    def pod_deleted(self, pod: "PodState") -> None: ...

    @property
    def relist_durations(self) -> list[tuple[float, float]]: ...


class RuntimeHost(Protocol):
    env: simpy.Environment
    scenario: "Scenario"
    node_cfg: "NodeConfig"
    chain: "Chain"
    recorder: "Recorder"
    cpu: "FluidShare"
    link: "FluidShare"
    disk: "FluidShare"

    @property
    def images(self) -> Images: ...
    faults: Optional[Faults]
    inflight: int

    def lock(self, process: str, spec: "LockSpec", ctx: "CallContext") -> "HopLock": ...

    def count(self, items: str) -> int: ...

    def cni_find_plugin(self, plugin: str, hop: str) -> None: ...

    def cni_add(self, pod: Optional["PodState"], hop: str) -> None: ...

    def cni_del(self, pod: Optional["PodState"]) -> None: ...

    def spawn(self, process: str, pod: Optional["PodState"]) -> None: ...

    def reap(self, process: str, pod: Optional["PodState"]) -> None: ...
