"""The kubelet's periodic conversations about the node itself (pkg/kubelet/kubelet.go,
kubelet_node_status.go, nodelease/).

* ``updateRuntimeUp``: every 5 s (``wait.Until``, after the previous one ends) the CRI
  ``Status`` call (facts §1.9). The kubelet reports the runtime down when no call succeeded for
  30 s (``runtimeErrors``), and its syncLoop then stops dispatching, like a PLEG stall.
* Node status (``syncNodeStatus``, every ``nodeStatusUpdateFrequency`` = 10 s): the status
  setters (machine info, images, conditions, the runtime's ``Version``) and, while there is no
  node lease (before 1.13/1.14), a GET + PATCH of the Node through the kubelet's main API client,
  the one pods' statuses also wait for; with the lease, the Node is patched only when it changed
  or every ``nodeStatusReportFrequency``, and the lease renewal goes through the heartbeat
  client, outside the main client's QPS (config/versions.py).
"""

from __future__ import annotations

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

# kubelet.go Run: go wait.Until(kl.updateRuntimeUp, 5*time.Second, ...); runtime.go: the runtime
# is down after 30 s without a successful status (maxWaitForContainerRuntime is the start-up
# bound; runtimeErrors uses 2 x the 5 s... see facts §0: "every 5s / after 30s").
RUNTIME_STATUS_PERIOD_S = 5.0
RUNTIME_DOWN_AFTER_S = 30.0
# KubeletConfiguration nodeStatusUpdateFrequency default 10 s (all releases); with the node
# lease, nodeStatusReportFrequency 5 m (1.13-1.15: 1 m? see docs/model/version-profiles.md).
NODE_STATUS_PERIOD_S = 10.0
NODE_STATUS_REPORT_S = 300.0
# ASSUMPTION: ~2 ms of kubelet CPU per node-status pass (every setter: machine info, the image
# list sorted for the status, volumes, conditions; one JSON patch computed).
NODE_STATUS_CPU_S = 0.002


class RuntimeStatusPoller:
    def __init__(self, env: simpy.Environment, node: "Node", cri: "CRIClient", rng: "np.random.Generator"):
        self.env = env
        self.node = node
        self.cri = cri
        self.rng = rng
        self.last_ok: float = env.now  # the kubelet starts with the runtime up

    def start(self) -> None:
        self.env.process(self._run())

    def runtime_up(self) -> bool:
        return self.env.now - self.last_ok < RUNTIME_DOWN_AFTER_S

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
                 node_lease: bool):
        self.env = env
        self.node = node
        self.cri = cri
        self.rng = rng
        self.api = api
        self.client = client
        self.heartbeat = heartbeat  # the heartbeat client (None: node status uses the main one)
        self.node_lease = node_lease
        self._last_report = -NODE_STATUS_REPORT_S

    def start(self) -> None:
        self.env.process(self._run())

    def _run(self):
        env, node = self.env, self.node
        while not node.retired:
            yield env.timeout(NODE_STATUS_PERIOD_S)
            yield node.cpu.run(NODE_STATUS_CPU_S, "kubelet")
            try:
                yield from self.cri.call("version", CallContext(None, self.rng, "status"))
            except HopFailure:
                pass
            status_client = self.heartbeat or self.client
            if self.node_lease:
                yield from self.api.request(status_client)  # PUT lease (renew)
                if env.now - self._last_report >= NODE_STATUS_REPORT_S:
                    self._last_report = env.now
                    yield from self.api.request(status_client)  # GET node
                    yield from self.api.request(status_client)  # PATCH node status
            else:
                yield from self.api.request(status_client)  # GET node
                yield from self.api.request(status_client)  # PATCH node status
