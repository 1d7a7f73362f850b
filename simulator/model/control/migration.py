"""A pool-by-pool runtime migration, as an operator runs it (``cluster.migration``).

For each node of each pool named, in order: cordon; drain (every pod but DaemonSet pods is
deleted and its ReplicaSet creates a replacement elsewhere, ``kubectl drain
--ignore-daemonsets``); wait until the kubelet holds no drained pod; remove the node; reinstall
it with the new runtime (``reinstallSeconds``); rejoin with the migration's labels, and with the
CNI settings the reinstall carried over (``cniConfig``: docs/model/migration.md):

* ``carried``: the new runtime reads the network config and plugins the old one did;
* ``missing-config``: its conf dir holds no network config, the node reports
  ``NetworkReady=false`` and stays NotReady, so nothing that needs a pod network lands there;
* ``missing-binaries``: the config is found but not the plugins; the node is Ready, pods land
  and every CNI ADD fails: they stay ContainerCreating.

and with its log agents as they were (``logAgents: unchanged``: an agent tailing Docker's files
finds nothing on a containerd node) or reconfigured to the kubelet's runtime-neutral links.

With ``readyTimeoutSeconds`` the operator waits for each rejoined node to turn Ready and stops
the migration when it does not, leaving the remaining nodes on their old runtime.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

import simpy

from ...config import NodeConfig, Scenario

if TYPE_CHECKING:
    from ..node.node import Node
    from ..state import PodState

__all__ = ["Migration", "CNI_INSTALL", "RUNTIME_NEUTRAL_LOG_PATH"]

# the kubelet links every container's log here whatever the runtime (kuberuntime_container.go
# legacyLogSymlink): an agent tailing it finds every chain's logs
RUNTIME_NEUTRAL_LOG_PATH = "/var/log/containers/*.log"

# cluster.migration.cniConfig -> what the reinstalled node's CNI caller finds (cni.install)
CNI_INSTALL = {"carried": None, "missing-config": "missing-config", "missing-binaries": "missing-binaries"}


class Migration:
    def __init__(self, env: simpy.Environment, scenario: Scenario, nodes: list["Node"],
                 pods: list["PodState"], delete: Callable[["PodState"], None],
                 replace: Callable[["PodState"], None], retire: Callable[["Node"], None],
                 add_node: Callable[..., "Node"]):
        assert scenario.cluster is not None and scenario.cluster.migration is not None
        self.env = env
        self.scenario = scenario
        self.cfg = scenario.cluster.migration
        self.nodes = nodes  # the cluster's live nodes (the simulation's list)
        self.pods = pods
        self.delete = delete
        self.replace = replace
        self.retire = retire
        self.add_node = add_node
        self.migrated: list[str] = []
        self.halted: str = ""
        self.done = False

    def run(self):
        env, mig = self.env, self.cfg
        cluster = self.scenario.cluster
        assert cluster is not None
        if mig.startSeconds > env.now:
            yield env.timeout(mig.startSeconds - env.now)
        for pool_name in mig.pools:
            pool = next(p for p in cluster.pools if p.name == pool_name)
            for node in [n for n in self.nodes if n.pool == pool_name]:
                node.cordoned = True
                node.recorder.event(env.now, "", "Cordoned", f"{node.name} cordoned and drained")
                for p in self._drained(node):
                    p.evicted = True
                    self.delete(p)
                    self.replace(p)
                while any(not p.daemonset for p in node.kubelet.pods) or node.bound:
                    yield env.timeout(1.0)
                self.retire(node)
                node.recorder.event(env.now, "", "NodeRemoved", f"{node.name} reinstalling with {mig.toRuntime}")
                yield env.timeout(mig.reinstallSeconds)
                cfg = NodeConfig.model_validate({**self.scenario.node.model_dump(), **pool.node})
                new = self.add_node(node.name, pool.name, mig.toRuntime, cfg,
                                    {**pool.labels, **mig.labels}, CNI_INSTALL[mig.cniConfig],
                                    self._log_agents())
                new.recorder.event(env.now, "", "NodeJoined", f"{new.name} back with {mig.toRuntime}")
                self.migrated.append(new.name)
                if new.network_error is not None:
                    new.recorder.event(env.now, "", "NodeNetworkNotReady", new.network_error, hop=new.network_hop)
                if mig.readyTimeoutSeconds is not None and not (yield from self._wait_ready(new)):
                    self.halted = (f"{new.name} not Ready {mig.readyTimeoutSeconds:g} s after rejoining: "
                                   f"{new.network_error or 'runtime not ready'}")
                    new.recorder.event(env.now, "", "MigrationHalted", self.halted)
                    self.done = True
                    return
        self.done = True

    def _log_agents(self) -> list | None:
        """The agents on a reinstalled node: as configured, or moved to the kubelet's links."""
        logging = self.scenario.logging
        if self.cfg.logAgents == "unchanged" or logging is None:
            return None
        return [a.model_copy(update={"path": RUNTIME_NEUTRAL_LOG_PATH, "parser": "auto"})
                for a in logging.agents]

    def _drained(self, node: "Node") -> list["PodState"]:
        """kubectl drain --ignore-daemonsets: every pod on the node but DaemonSet pods."""
        return [p for p in self.pods if p.node_ref is node and p.deletion_requested is None
                and not p.failed and not p.daemonset]

    def _wait_ready(self, node: "Node"):
        deadline = self.env.now + (self.cfg.readyTimeoutSeconds or 0.0)
        while self.env.now < deadline:
            if node.ready:
                return True
            yield self.env.timeout(min(1.0, deadline - self.env.now))
        return node.ready
