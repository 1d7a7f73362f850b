"""The scheduler's view of the nodes as arrays: one row per node (its slot), kept up to date by
the node itself (cordoned, Ready, pods admitted plus bound), and the order the active nodes
are visited in, so that a scheduling cycle filters and scores a 5,000-node cluster with a few
array operations instead of a Python loop (the filter and the choice are those of
``scheduler.select_python``, which the tests hold it to).
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["NodeTable"]


class NodeTable:
    """Per-node arrays by slot (the order nodes were added), and the active nodes' slots in
    the order the scheduler visits them (nodes join at the end; a retired node leaves)."""

    def __init__(self, capacity: int = 64):
        self.size = 0
        self.cordoned = np.zeros(capacity, dtype=bool)
        self.ready = np.zeros(capacity, dtype=bool)
        self.pods = np.zeros(capacity, dtype=np.int64)  # admitted + bound, not yet admitted
        self.max_pods = np.zeros(capacity, dtype=np.int64)
        self.labels: list[dict] = []
        self.nodes: list[Any] = []  # by slot
        self._active: list[int] = []
        self._order: np.ndarray | None = None
        self._match: dict[tuple, np.ndarray] = {}  # nodeSelector -> matches, by slot

    def _grow(self) -> None:
        cap = 2 * len(self.cordoned)
        for name in ("cordoned", "ready", "pods", "max_pods"):
            old = getattr(self, name)
            new = np.zeros(cap, dtype=old.dtype)
            new[:len(old)] = old
            setattr(self, name, new)

    def add(self, node: Any, max_pods: int) -> int:
        """A node joins the active ones; returns its slot (the node then calls ``update``)."""
        if self.size == len(self.cordoned):
            self._grow()
        slot = self.size
        self.size += 1
        self.nodes.append(node)
        self.labels.append(dict(node.labels))
        self.max_pods[slot] = max_pods
        self._active.append(slot)
        self._order = None
        self._match.clear()
        return slot

    def retire(self, slot: int) -> None:
        """The node leaves the active ones (its slot stays, unused)."""
        self._active.remove(slot)
        self._order = None

    def update(self, slot: int, cordoned: bool, ready: bool, pods: int) -> None:
        self.cordoned[slot] = cordoned
        self.ready[slot] = ready
        self.pods[slot] = pods

    @property
    def order(self) -> np.ndarray:
        """The active nodes' slots, in the scheduler's visiting order."""
        if self._order is None:
            self._order = np.array(self._active, dtype=np.int64)
        return self._order

    def matches(self, selector: dict) -> np.ndarray:
        """By slot: whether the node's labels match every key of ``selector``."""
        key = tuple(sorted(selector.items()))
        m = self._match.get(key)
        if m is None:
            m = np.array([all(labels.get(k) == v for k, v in key) for labels in self.labels], dtype=bool)
            self._match[key] = m
        return m
