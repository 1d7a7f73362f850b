"""What the scheduler filters a node on (cordoned, Ready, pods admitted plus bound), kept in the
scheduler's node table (control/node_table.py) by the node as it changes, and the kubelet's
pod list that keeps the node's runtime counts (state.py ``PodList``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ...config.kubelet import pod_capacity
from ..state import PodList

if TYPE_CHECKING:
    from ...config import NodeConfig, Scenario
    from ..interfaces import NodeKubelet

__all__ = ["SchedulerRow"]


class SchedulerRow:
    """Node's part that the scheduler reads: every write of ``cordoned``, ``bound`` or
    ``runtime_healthy``, and every pod admitted or gone, updates the node's row."""

    scenario: "Scenario"
    node_cfg: "NodeConfig"
    kubelet: "NodeKubelet"
    network_error: str | None

    def __init__(self) -> None:
        # the scheduler's row of this node (control/node_table.py), once the simulation adds it
        self._table: Any = None
        self._slot = -1
        self._cordoned = False
        self._bound = 0
        self._runtime_healthy = True  # PLEG and the runtime's status (the syncLoop's gate)

    @property
    def pod_capacity(self) -> int:
        """The pods this node takes (admission, the scheduler's filter): ``maxPods``, capped by
        ``podsPerCore`` x its cores when set (config/kubelet.py ``pod_capacity``)."""
        return pod_capacity(self.scenario.kubelet, self.node_cfg.cpuCores)

    @property
    def ready(self) -> bool:
        """The node's Ready condition: runtime healthy and its network ready (a NotReady node
        carries the node.kubernetes.io/not-ready:NoSchedule taint the scheduler respects)."""
        return self._runtime_healthy and self.network_error is None

    def new_pod_list(self) -> PodList:
        """The kubelet's list of admitted pods: it keeps the counts ``count`` reads and tells
        the scheduler's row when pods come and go."""
        return PodList(self.sched_sync)

    def attach_table(self, table: Any) -> None:
        """Join the scheduler's node table (control/node_table.py): from now on this node
        keeps its row up to date."""
        self._table = table
        self._slot = table.add(self, self.pod_capacity)
        self.sched_sync()

    def leave_table(self) -> None:
        if self._table is not None:
            self._table.retire(self._slot)

    def sched_sync(self) -> None:
        if self._table is not None:
            self._table.update(self._slot, self._cordoned, self.ready, len(self.kubelet.pods) + self._bound)

    @property
    def cordoned(self) -> bool:
        return self._cordoned

    @cordoned.setter
    def cordoned(self, value: bool) -> None:
        self._cordoned = value
        self.sched_sync()

    @property
    def bound(self) -> int:
        """Pods bound by the scheduler, not yet admitted or gone."""
        return self._bound

    @bound.setter
    def bound(self, value: int) -> None:
        self._bound = value
        self.sched_sync()

    @property
    def runtime_healthy(self) -> bool:
        return self._runtime_healthy

    @runtime_healthy.setter
    def runtime_healthy(self, value: bool) -> None:
        self._runtime_healthy = value
        self.sched_sync()
