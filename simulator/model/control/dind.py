"""Docker-in-Docker pods on nodes without dockerd (``cluster.migration.dind``).

CI runners that mount ``/var/run/docker.sock`` need a Docker Engine. When their nodes move to
containerd, three plans exist (docs/model/migration.md, "Docker-in-Docker"):

* ``pin``: keep them on nodes that still run Docker (their template's nodeSelector); once no
  such node is left they stay Pending.
* ``daemonset``: a Docker daemon runs as a DaemonSet pod (image ``docker:dind``, privileged) on
  every node without Docker, its socket under a hostPath the runners mount. A runner that lands
  on a node before the daemon answers waits in ContainerCreating (its hostPath of type Socket
  does not exist yet); all runners on a node share one daemon.
* ``sidecar``: every runner gets its own ``docker:dind`` container; the runner's Docker is
  usable once that daemon has started, and each pod pays for a daemon of its own.

``plan_templates`` rewrites the workload's templates for the chosen plan (before any pod
exists, as a planner changes the runners' manifests first); ``DindDaemons`` is the DaemonSet
controller and the clock of each daemon's start-up. The daemon's memory comes from the Docker
chain's own ``dockerd`` and ``containerd`` processes (``simulator/chains/dockershim.yaml``),
counted in the pods' cgroup (group ``pods``), not the runtime's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

import simpy

from ...chains import load_chain
from ...config import ContainerSpec, PodSpec, Scenario

if TYPE_CHECKING:
    from ..node.node import Node
    from ..state import ContainerState, PodState

__all__ = ["plan_templates", "DindDaemons", "DIND_PROCESSES", "dind_templates", "SIDECAR", "BREAKS",
           "daemon_memory_mb", "DAEMONSET_TEMPLATE"]

SIDECAR = "dind"  # the sidecar container's name
DAEMON_CONTAINER = "dockerd"  # the DaemonSet pod's container
DAEMONSET_TEMPLATE = "docker-daemonset"
# the processes a docker:dind container runs, as the Docker chain declares them
DIND_PROCESSES = {"dind-dockerd": "dockerd", "dind-containerd": "containerd"}


# What each plan breaks, with where it is documented (docs/model/migration.md). The first item
# of each is what the model measures; the rest are consequences it reports but does not simulate.
BREAKS: dict[str, tuple[str, ...]] = {
    "pin": (
        "runners need a node that still runs dockerd: once the last Docker pool is migrated "
        "they stay Pending (pods_pending_by_reason)",
        "Kubernetes 1.24 removed dockershim: a Docker pool kept for them must move to "
        "cri-dockerd (KEP-2221; kubernetes.io dockershim removal FAQ)",
    ),
    "daemonset": (
        "a runner that lands on a node before the node's Docker daemon answers waits in "
        "ContainerCreating: its hostPath of type Socket does not exist yet (docker_ready_seconds)",
        "one daemon serves every runner on the node: builds see and can stop each other's "
        "containers and share its image cache and disk, which the kubelet's image GC and "
        "eviction do not manage",
        "the daemon's containers are invisible to the kubelet: their CPU and memory count "
        "against the daemon pod, not the runner that started them",
        "restarting or upgrading the DaemonSet kills every build on the node; the daemon pod "
        "is privileged (docker-library/docker README: dind needs --privileged)",
    ),
    "sidecar": (
        "every runner pays for its own dockerd + containerd and waits for it to start "
        "(dind_memory_pss_mb_per_node, docker_ready_seconds)",
        "every runner runs a privileged container, which the baseline and restricted Pod "
        "Security Standards forbid (kubernetes.io/docs/concepts/security/pod-security-standards)",
        "each daemon starts with an empty image cache: every build pulls its base images again",
        "/var/lib/docker in the sidecar must be an emptyDir: overlay2 on an overlay root is not "
        "supported and dockerd falls back to vfs (docs.docker.com storage driver docs)",
    ),
}


def daemon_memory_mb() -> tuple[float, float]:
    """One Docker-in-Docker daemon's memory: (anonymous MB, file-backed MB resident once per
    node), from the Docker chain's dockerd and containerd (their base, nothing per container)."""
    docker = load_chain("dockershim")
    specs = [docker.processes[proc].rssMB for proc in DIND_PROCESSES.values()]
    return sum(r.base for r in specs), sum(r.shared for r in specs)


def dind_templates(scenario: Scenario) -> set[str]:
    """Templates whose pods need a Docker Engine (``dockerSocket``)."""
    return {t.name for t in scenario.workload.templates if t.spec.dockerSocket}


def plan_templates(scenario: Scenario) -> Scenario:
    """The scenario with its Docker-socket templates rewritten for the migration's DinD plan."""
    mig = scenario.cluster.migration if scenario.cluster is not None else None
    if mig is None or mig.dind.strategy == "pin" or not dind_templates(scenario):
        return scenario
    relabelled = set(mig.labels)
    templates = []
    for t in scenario.workload.templates:
        if not t.spec.dockerSocket:
            templates.append(t)
            continue
        update: dict = {"nodeSelector": {k: v for k, v in t.spec.nodeSelector.items() if k not in relabelled}}
        if mig.dind.strategy == "sidecar":
            # a docker:dind container next to the runner, the socket on a shared emptyDir
            sidecar = ContainerSpec(name=SIDECAR, image=mig.dind.image)
            update["containers"] = [sidecar] + list(t.spec.containers)
            update["dockerSocket"] = False
        templates.append(t.model_copy(update={"spec": t.spec.model_copy(update=update)}))
    workload = scenario.workload.model_copy(update={"templates": templates})
    return scenario.model_copy(update={"workload": workload})


def daemonset_spec(scenario: Scenario) -> PodSpec:
    mig = scenario.cluster.migration if scenario.cluster is not None else None
    assert mig is not None
    return PodSpec.model_validate({"containers": [{"name": DAEMON_CONTAINER, "image": mig.dind.image}],
                                   "automountServiceAccountToken": False})


class DindDaemons:
    """The Docker DaemonSet (strategy ``daemonset``) and the start-up of every DinD daemon."""

    def __init__(self, env: simpy.Environment, scenario: Scenario, templates: set[str],
                 create_on_node: Callable[[PodSpec, str, "Node"], "PodState"]):
        self.env = env
        self.scenario = scenario
        mig = scenario.cluster.migration if scenario.cluster is not None else None
        assert mig is not None
        self.cfg = mig.dind
        self.templates = templates  # the runners' templates (dockerSocket before the plan)
        self._create_on_node = create_on_node
        docker = load_chain("dockershim")  # Docker 20.10: the engine docker:dind runs
        self.rss = {name: docker.processes[proc].rssMB for name, proc in DIND_PROCESSES.items()}

    def node_joined(self, node: "Node") -> None:
        """The DaemonSet controller creates the daemon pod on a new node without Docker."""
        if self.cfg.strategy == "pin":
            return
        node.dind_rss = self.rss
        node.groups.update({name: "pods" for name in DIND_PROCESSES})
        if self.cfg.strategy != "daemonset" or node.chain.has_docker_socket:
            return
        node.docker_socket = self.env.event()
        pod = self._create_on_node(daemonset_spec(self.scenario), DAEMONSET_TEMPLATE, node)
        pod.docker_daemon = DAEMON_CONTAINER
        pod.daemonset = True
        pod.on_container_started = self._started

    def pod_created(self, pod: "PodState") -> None:
        """A workload pod: a runner with a sidecar gets its daemon's start-up clock."""
        if pod.template in self.templates and self.cfg.strategy == "sidecar":
            pod.docker_daemon = SIDECAR
            pod.on_container_started = self._started

    def _started(self, pod: "PodState", c: "ContainerState") -> None:
        if c.spec.name == pod.docker_daemon:
            self.env.process(self._daemon_start(pod, c))

    def _daemon_start(self, pod: "PodState", c: "ContainerState"):
        node = pod.node_ref
        cfg = self.cfg
        t0 = self.env.now
        if cfg.daemonStartCpuSeconds > 0:
            yield node.cpu.run(min(cfg.daemonStartCpuSeconds, cfg.daemonStartSeconds), "dind-dockerd")
        rest = cfg.daemonStartSeconds - (self.env.now - t0)
        if rest > 0:
            yield self.env.timeout(rest)
        if c.state != "running":
            return
        node.recorder.event(self.env.now, pod.name, "DockerReady", f"{c.spec.name}: dockerd answers")
        if pod.template == DAEMONSET_TEMPLATE and node.docker_socket is not None \
                and not node.docker_socket.triggered:
            node.docker_socket.succeed()
