"""What the chain diagram draws of one chain, derived from the chain data, and where its boxes go.

:func:`chain_edges` walks an operation's steps (for a pod on the pod network, pause image
present, first shim) into (caller, callee, transport, calls); :func:`chain_graph` gathers what
:func:`~.chains_side_by_side.chains_side_by_side` draws of a chain (processes in first-visit
order, who reaches whom first, boundary crossings, what other CRI calls first reach);
:func:`layout_boxes` places a chain's process boxes in its column: a spine from the kubelet
down to the deepest process, CNI and other side leaves beside their caller.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from ...chains import iter_steps
from ...chains.counting import COUNTED_WHEN, hop_count
from ._draw import text_width_px

__all__ = ["DEFAULT_WHEN", "Box", "ChainGeometry", "ChainGraph", "chain_edges", "chain_graph",
           "cri_name", "depth_rows", "layout_boxes"]

# conditions under which a RunPodSandbox is drawn and counted: a pod on the pod network, pause
# image present, the pod's first shim (its first sandbox): the case kubesim explain counts
DEFAULT_WHEN = COUNTED_WHEN
LATER_OPERATIONS = ("create_container", "start_container", "podsandbox_status",
                     "container_status", "list_podsandbox", "list_containers", "image_status",
                     "pull_image", "stop_container", "stop_podsandbox", "remove_container",
                     "remove_podsandbox")


def cri_name(operation: str) -> str:
    return "".join(w.capitalize() for w in operation.split("_")).replace("Podsandbox", "PodSandbox")


@dataclass
class ChainGraph:
    """What :func:`chains_side_by_side` draws of one chain, all derived from the chain data."""

    chain: Any
    nodes: list[str]  # processes in first-visit order, the kubelet first
    parent: dict[str, str]  # the caller that reached a process first
    edges: dict[tuple[str, str], dict[str, int]]  # (caller, callee) -> {transport: calls}
    crossings: int  # calls between different OS processes
    os_processes: list[str]
    later: dict[str, list[str]] = field(default_factory=dict)  # CRI op -> processes first used
    cni: set[str] = field(default_factory=set)  # processes reached by CNI steps


def chain_edges(chain: Any, operation: str = "run_podsandbox",
                when: Sequence[str | None] = DEFAULT_WHEN) -> list[tuple[str, str, str, int]]:
    """(caller, callee, transport, calls) of an operation, callers ≠ callees, in first-visit
    order; steps guarded by a condition not in ``when`` (and what they call) are left out."""
    counts: dict[tuple[str, str, str], int] = {}

    def walk(steps: Iterable[Any], caller: str) -> None:
        for step in steps:
            if step.when not in when:
                continue
            if step.process != caller:
                key = (caller, step.process, step.transport)
                counts[key] = counts.get(key, 0) + 1
            walk(step.calls, step.process)

    walk(chain.operations[operation].steps, "kubelet")
    return [(a, b, t, n) for (a, b, t), n in counts.items()]


def chain_graph(chain: Any, operation: str) -> ChainGraph:
    edges: dict[tuple[str, str], dict[str, int]] = {}
    nodes, parent = ["kubelet"], {}
    for a, b, t, n in chain_edges(chain, operation):
        edges.setdefault((a, b), {})[t] = n
        for p in (a, b):
            if p not in nodes:
                nodes.append(p)
        if b not in parent and b != "kubelet":
            parent[b] = a

    counted = hop_count(chain, operation)  # the numbers kubesim explain prints
    crossings, os_processes = counted.crossings, list(counted.os_processes)
    later: dict[str, list[str]] = {}
    missing = [p for p in chain.processes if p not in nodes]
    for op in LATER_OPERATIONS:
        if op not in chain.operations or not missing:
            continue
        used = {b for a, b, _, _ in chain_edges(chain, op, (*DEFAULT_WHEN, "reuseShim"))}
        hit = [p for p in missing if p in used]
        if hit:
            later[cri_name(op)] = hit
            missing = [p for p in missing if p not in hit]
    cni = {s.process for s in iter_steps(chain.operations[operation].steps)
           if s.kind in ("cniAdd", "cniLoopback", "cniDel")}
    return ChainGraph(chain, nodes, parent, edges, crossings, os_processes, later, cni)



def depth_rows(graph: ChainGraph) -> dict[str, int]:
    rows = {"kubelet": 0}
    for p in graph.nodes[1:]:
        rows[p] = rows.get(graph.parent.get(p, "kubelet"), 0) + (0 if p in graph.cni else 1)
    return rows


@dataclass
class Box:
    name: str
    cx: float
    cy: float
    w: float
    h: float
    side: bool = False  # beside its caller rather than on the spine

    @property
    def left(self) -> float:
        return self.cx - self.w / 2

    @property
    def right(self) -> float:
        return self.cx + self.w / 2

    @property
    def top(self) -> float:
        return self.cy - self.h / 2

    @property
    def bottom(self) -> float:
        return self.cy + self.h / 2


@dataclass(frozen=True)
class ChainGeometry:
    """Pixel geometry shared by every column of :func:`chains_side_by_side`."""

    col_w: float  # usable width of a column
    spine_dx: float  # spine axis, from the column's left edge
    row_y: tuple[float, ...]  # centre of each row
    box_h: float
    name_pt: float = 12.5
    label_pt: float = 12.0
    note_pt: float = 12.0


def box_width(name: str, pt: float, minimum: float) -> float:
    return max(minimum, text_width_px(name, pt, "bold") + 22)


def layout_boxes(graph: ChainGraph, x0: float, geo: ChainGeometry) -> dict[str, Box]:
    """Boxes of a chain: a spine straight down from the kubelet to the deepest process; CNI
    beside its caller, to the right (and any other leaf that does not continue the spine,
    beside its caller or below it when that place is taken)."""
    children: dict[str, list[str]] = {p: [] for p in graph.nodes}
    for child, par in graph.parent.items():
        children[par].append(child)
    for kids in children.values():
        kids.sort(key=graph.nodes.index)

    @lru_cache(maxsize=None)
    def height(p: str) -> int:
        return 1 + max((height(c) for c in children[p]), default=0)

    spine_x = x0 + geo.spine_dx
    last = len(geo.row_y) - 1
    boxes = {"kubelet": Box("kubelet", spine_x, geo.row_y[0],
                             box_width("kubelet", geo.name_pt, 150), geo.box_h)}
    side_rows: set[int] = set()
    queue: list[tuple[str, int]] = [("kubelet", 0)]
    while queue:
        p, row = queue.pop(0)
        kids = children[p]
        spine = [k for k in kids if k not in graph.cni]
        down = max(spine, key=lambda k: (height(k), -kids.index(k))) if spine else None
        for k in kids:
            if k == down:
                r = min(row + 1, last)
                boxes[k] = Box(k, spine_x, geo.row_y[r], box_width(k, geo.name_pt, 150),
                                geo.box_h)
            else:
                r = row
                while r in side_rows and r < last:
                    r += 1
                side_rows.add(r)
                w = box_width(k, geo.name_pt, 66)
                boxes[k] = Box(k, x0 + geo.col_w - w / 2, geo.row_y[r], w, geo.box_h, side=True)
            queue.append((k, r))
    return boxes
