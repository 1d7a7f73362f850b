"""How many processes a CRI call reaches and how often it crosses from one OS process to another.

One count for everything that states it: ``kubesim explain``, the report's chain table and the
chain diagram (``chains-side-by-side``). A *crossing* is a step whose OS process differs from
its caller's: a call from the kubelet to dockershim is not one, since dockershim runs inside
the kubelet's process (its ``osProcess``); a call from dockershim to dockerd is. The processes
counted are OS processes, the kubelet's included.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .schema import Chain, Step

__all__ = ["COUNTED_WHEN", "HopCount", "hop_count"]

COUNTED_WHEN: tuple[str | None, ...] = (None, "podNetwork", "newShim", "unfiltered")
"""The case counted: a pod on the pod network, the pause image present, the pod's first shim
(the steps guarded by ``hostNetwork``, ``sandboxImageMissing`` and ``reuseShim`` are left out);
list calls without a filter, as PLEG's relist makes them."""


@dataclass(frozen=True)
class HopCount:
    steps: int  # steps taken, nested calls included
    crossings: int  # calls from one OS process into another
    processes: int  # distinct OS processes involved, the kubelet's included
    os_processes: tuple[str, ...]  # those processes, in first-visit order


def hop_count(chain: Chain, operation: str, when: Sequence[str | None] = COUNTED_WHEN) -> HopCount:
    """The steps, OS-process crossings and OS processes of ``operation`` on ``chain``."""

    def os_of(process: str) -> str:
        spec = chain.processes.get(process)
        return (spec.osProcess or process) if spec is not None else process

    steps = crossings = 0
    seen: dict[str, None] = {os_of("kubelet"): None}

    def walk(ss: Iterable[Step], caller: str) -> None:
        nonlocal steps, crossings
        for s in ss:
            if s.when not in when:
                continue
            steps += 1
            crossings += os_of(s.process) != os_of(caller)
            seen.setdefault(os_of(s.process), None)
            walk(s.calls, s.process)

    walk(chain.operations[operation].steps, "kubelet")
    return HopCount(steps, crossings, len(seen), tuple(seen))
