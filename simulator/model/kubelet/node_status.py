"""The kubelet's periodic conversations about the node itself (pkg/kubelet/kubelet.go,
kubelet_node_status.go, nodelease/), as each release has them (docs/model/background-loops.md,
version-profiles.md rows 9, 16, 17).

* ``updateRuntimeUp``: every 5 s (``wait.Until``, after the previous one ends) the CRI
  ``Status`` call (facts §1.9). The runtime counts as down when no call succeeded for 30 s
  (``runtimeErrors``); the syncLoop then stops dispatching, as on a PLEG stall.
* Node status (``syncNodeStatus``, every ``nodeStatusUpdateFrequency`` = 10 s): the status
  setters (machine info, images, conditions, the runtime's ``Version``), a GET of the Node, and
  a PATCH when the status changed or ``nodeStatusReportFrequency`` passed (10 s in 1.10, 1 min
  from 1.13, 5 min from 1.17). From 1.9 these go through the heartbeat client (no QPS limit),
  before it through the main client that pods' statuses wait for.
* The node lease (from 1.14): renewed every 10 s, a GET + PUT until 1.15, a PUT from 1.16.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Optional

import simpy

from ..runtime.context import CallContext, HopFailure

if TYPE_CHECKING:
    import numpy as np

    from ..control.apiserver import ApiServer
    from ..control.ratelimit import TokenBucket
    from ..node.node import Node
    from .cri_client import CRIClient

__all__ = ["RuntimeStatusPoller", "NodeStatusUpdater", "RUNTIME_STATUS_PERIOD_S", "RUNTIME_DOWN_AFTER_S"]

# kubelet.go Run: go wait.Until(kl.updateRuntimeUp, 5*time.Second, ...); runtime.go: the
# runtime is reported down after 30 s without a successful status (facts §0, §1.9).
RUNTIME_STATUS_PERIOD_S = 5.0
RUNTIME_DOWN_AFTER_S = 30.0
# KubeletConfiguration nodeStatusUpdateFrequency default 10 s (all releases); the lease renew
# interval is 10 s too (nodeLeaseDurationSeconds 40 x 0.25).
NODE_STATUS_PERIOD_S = 10.0
LEASE_RENEW_S = 10.0


class RuntimeStatusPoller:
    def __init__(self, env: simpy.Environment, node: "Node", cri: "CRIClient", rng: "np.random.Generator"):
        self.env = env
        self.node = node
        self.cri = cri
        self.rng = rng
        self.last_ok: float = env.now  # the kubelet starts with the runtime up
        self._proc: Optional[simpy.Process] = None  # None: not polled (nodes not sampled)

    def start(self) -> None:
        self._proc = self.env.process(self._goroutine())

    def restart(self) -> None:
        """A new kubelet: the runtime counts as down until its first Status succeeds, which
        it asks for at once (kubelet.go Run: wait.Until calls updateRuntimeUp first)."""
        if self._proc is None:
            return
        if self._proc.is_alive:
            self._proc.interrupt("kubelet restarted")
        self.last_ok = -math.inf
        self.start()

    def runtime_up(self) -> bool:
        if self._proc is None:
            return True  # not polled on this node: PLEG's health stands for the runtime's
        return self.env.now - self.last_ok < RUNTIME_DOWN_AFTER_S

    def _goroutine(self):
        try:
            yield from self._run()
        except simpy.Interrupt:
            return

    def _run(self):
        env = self.env
        while not self.node.retired:
            try:
                yield from self.cri.call("status", CallContext(None, self.rng, "status"))
                self.last_ok = env.now
            except HopFailure as f:
                self.node.recorder.event(env.now, "", "RuntimeStatusFailed", f.reason, hop=f.hop)
            yield env.timeout(RUNTIME_STATUS_PERIOD_S)


class NodeStatusUpdater:
    def __init__(self, env: simpy.Environment, node: "Node", cri: "CRIClient", rng: "np.random.Generator",
                 api: "ApiServer", client: "TokenBucket", heartbeat: Optional["TokenBucket"],
                 report_every_s: float, lease: str):
        self.env = env
        self.node = node
        self.cri = cri
        self.rng = rng
        self.api = api
        self.client = heartbeat or client  # the heartbeat client from 1.9, else the main one
        self.report_every_s = report_every_s
        self.lease = lease  # "none", "get-put" or "put"
        self._last_report = -report_every_s

    def start(self) -> None:
        self.env.process(self._status())
        if self.lease != "none":
            self.env.process(self._renew_lease())

    def _status(self):
        env, node = self.env, self.node
        while not node.retired:
            yield env.timeout(NODE_STATUS_PERIOD_S)
            yield node.cpu.run(node.scenario.kubeletCosts.nodeStatusMs / 1000.0, "kubelet")
            try:
                yield from self.cri.call("version", CallContext(None, self.rng, "status"))
            except HopFailure:
                pass
            yield from self.api.request(self.client)  # GET node
            if env.now - self._last_report >= self.report_every_s - 1e-9:
                self._last_report = env.now
                yield from self.api.request(self.client)  # PATCH node status

    def _renew_lease(self):
        env = self.env
        while not self.node.retired:
            yield env.timeout(LEASE_RENEW_S)
            if self.lease == "get-put":
                yield from self.api.request(self.client)  # GET lease
            yield from self.api.request(self.client)  # PUT lease
