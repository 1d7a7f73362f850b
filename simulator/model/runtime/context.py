"""What travels with one CRI call through the chain, and how a hop reports failure.

``CallContext`` is the request as the runtime sees it: the pod (or none, for the node-wide list
calls of PLEG's relist), the container or image it is about, which kubelet loop sent it
(``sync``, ``pleg``, ``puller``, ``gc``) and the random stream its service times come from.
``HopFailure`` is an error returned by one hop, named ``process: step`` so that every failure in
the outputs points at the hop where it happened (DESIGN.md "failures attributed to a hop").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Optional

import numpy as np

if TYPE_CHECKING:
    from ..state import ContainerState, PodState

__all__ = ["HopFailure", "CallContext"]


class HopFailure(Exception):
    """A step failed: ``hop`` is 'process: step', ``reason`` the error text, ``code`` the gRPC
    status code the kubelet receives ("NotFound" is the one it may act on: crierror.IsNotFound)."""

    def __init__(self, hop: str, reason: str, code: str = "Unknown"):
        super().__init__(f"{hop}: {reason}")
        self.hop = hop
        self.reason = reason
        self.code = code


@dataclass
class CallContext:
    pod: Optional["PodState"]
    rng: np.random.Generator
    source: str  # 'sync', 'pleg', 'puller', 'gc'
    container: Optional["ContainerState"] = None
    image: Optional[str] = None
    unfiltered: bool = False
    operation: str = ""
    # CPU seconds per process spent on this call's steps, when the caller wants them (streams)
    cpu: Optional[dict[str, float]] = None

    def add_cpu(self, process: str, seconds: float) -> None:
        if self.cpu is not None and seconds > 0:
            self.cpu[process] = self.cpu.get(process, 0.0) + seconds

    @property
    def lock_key_container(self) -> str:
        if self.container is not None:
            return self.container.cid
        return self.pod.sandbox_id if self.pod is not None else ""
