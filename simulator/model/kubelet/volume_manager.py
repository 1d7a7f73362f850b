"""The volume manager (pkg/kubelet/volumemanager/), as far as pod start-up waits for it.

An admitted pod's volumes go through the desired-state-of-world populator and the reconciler
(each a loop with a 100 ms period, facts §0), then the service-account token volume is filled
through the kubelet's API client (facts §1.10), as the release does it (config/versions.py):

* from 1.21 a projected token: one ``TokenRequest`` (``POST serviceaccounts/token``) per pod,
  since the token is bound to the pod (pkg/kubelet/token/token_manager.go);
* before, the service account's token Secret through the secret manager: with the ``Cache``
  strategy (before 1.12) registering the pod invalidates the cached Secret, so each pod's mount
  does a ``GET`` (pkg/kubelet/util/manager/cache_based_manager.go ``AddReference``); with
  ``Watch`` one reflector per Secret does a ``LIST`` (+ a ``WATCH``) for the first pod, and
  later pods read the synced cache (watch_based_manager.go).

``WaitForAttachAndMount`` polls for the mounts every 300 ms (``wait.PollImmediate``, facts §0)
on the pod's first sync and gives up after 2 min ("timed out waiting for the condition"); the
sync then fails and the pod worker retries after its error back-off.

A pod that mounts the Docker socket (``dockerSocket``: a hostPath of type Socket) mounts once
the socket exists: at once on a node running dockerd, when the Docker DaemonSet's daemon is up
on a node that has one (``Node.docker_socket``), never elsewhere (the hostPath type check
fails: the pod stays ContainerCreating).

In steady state both loops keep walking every pod (the populator: the pod manager's pods and
their volumes; the reconciler: desired against actual mounts), ten times a second each: CPU
that grows with the pods on the node (``start_loops``).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import simpy

from ..attribution import API_CLIENT, CONTROL_PLANE, VOLUMES, charge, overlap
from .sync_result import SyncError

if TYPE_CHECKING:
    from typing import Callable

    import numpy as np

    from ..control.apiserver import ApiServer
    from ..control.ratelimit import TokenBucket
    from ..fluid import FluidShare
    from ..state import PodState

__all__ = ["VolumeManager", "VOLUME_POLL_S", "VOLUME_LOOP_S", "MOUNT_TIMEOUT_S"]

# facts §0: WaitForAttachAndMount polls every 300 ms (volume_manager.go podAttachAndMountRetryInterval);
# the populator and reconciler loops run every 100 ms (loopSleepDuration / reconcilerLoopSleepPeriod).
VOLUME_POLL_S = 0.3
VOLUME_LOOP_S = 0.1
# K8S-v1.23.0 pkg/kubelet/volumemanager/volume_manager.go: podAttachAndMountTimeout = 2 min.
MOUNT_TIMEOUT_S = 120.0
DOCKER_SOCKET = "/var/run/docker.sock"


class VolumeManager:
    def __init__(self, env: simpy.Environment, api: "ApiServer", client: "TokenBucket",
                 rng: "np.random.Generator", token_volume: str = "projected",
                 secret_strategy: str = "Watch",
                 docker_socket: "Callable[[], simpy.Event | None]" = lambda: None):
        self.env = env
        self.api = api
        self.client = client
        self.rng = rng
        self.token_volume = token_volume  # "projected" (>= 1.21) or "secret"
        self.secret_strategy = secret_strategy  # "Cache" (< 1.12) or "Watch"
        self._reflector_synced: simpy.Event | None = None  # the token Secret's reflector
        self._docker_socket = docker_socket  # the node's Docker socket: exists when it fires
        # pod -> [request sent, token granted, answered] of its token volume's request
        self._token_marks: dict[str, list[float]] = {}

    def start_loops(self, pods: list["PodState"], cpu: "FluidShare", retired: "Callable[[], bool]",
                    per_pod_ms: float) -> None:
        """The populator's and reconciler's 100 ms passes over every pod (their CPU only;
        ``per_pod_ms``: kubeletCosts.volumeLoopPerPodMs)."""
        self.env.process(self._loops(pods, cpu, retired, per_pod_ms / 1000.0))

    def _loops(self, pods: list["PodState"], cpu: "FluidShare", retired: "Callable[[], bool]",
               per_pod_s: float):
        while not retired():
            yield self.env.timeout(VOLUME_LOOP_S)
            if pods:
                yield cpu.run(2 * per_pod_s * len(pods), "kubelet")

    def add_pod(self, pod: "PodState") -> None:
        """The populator picks the pod up; its volumes are ready when ``volumes_ready`` fires."""
        pod.volumes_ready = self.env.event()
        self.env.process(self._mount(pod))

    def _mount(self, pod: "PodState"):
        """Desired-state populator and reconciler loops (100 ms each) then the projected
        service-account token's TokenRequest through the kubelet's API client (facts §0, §1.10)."""
        assert pod.volumes_ready is not None
        if pod.spec.automountServiceAccountToken:
            yield self.env.timeout(self.rng.uniform(0, VOLUME_LOOP_S))
            yield self.env.timeout(self.rng.uniform(0, VOLUME_LOOP_S))
            if self.token_volume == "projected":
                yield from self._timed_request(pod)  # POST serviceaccounts/token
            elif self.secret_strategy == "Watch":
                yield from self._secret_from_reflector()
            else:
                yield from self._timed_request(pod)  # GET secrets/<token secret>
        if pod.spec.dockerSocket:
            socket = self._docker_socket()
            if socket is None:
                # MountVolume.SetUp: "hostPath type check failed: ... is not a socket file",
                # retried by the reconciler for as long as the pod exists
                return
            if not socket.triggered:
                yield socket
            yield self.env.timeout(self.rng.uniform(0, VOLUME_LOOP_S))  # the reconciler's next pass
        pod.volumes_ready.succeed()

    def _timed_request(self, pod: "PodState"):
        """A request for the pod's token volume; when its token came and when it ended are kept
        for the start-up ledger (``wait_for_attach_and_mount``)."""
        marks = self._token_marks[pod.name] = [self.env.now, self.env.now, self.env.now]

        def token() -> None:
            marks[1] = self.env.now

        yield from self.api.request(self.client, on_token=token)
        marks[2] = self.env.now

    def _secret_from_reflector(self):
        """Watch strategy: the first pod starts the Secret's reflector; all read its cache."""
        if self._reflector_synced is None:
            self._reflector_synced = self.env.event()
            self.env.process(self._reflector(self._reflector_synced))
        if not self._reflector_synced.triggered:
            yield self._reflector_synced

    def _reflector(self, synced: simpy.Event):
        yield from self.api.request(self.client)  # LIST secrets (field selector: the one name)
        synced.succeed()
        yield from self.api.request(self.client)  # WATCH from the list's resourceVersion

    def remount(self, pod: "PodState") -> None:
        """Every sync after the first marks the pod's secret, configmap and projected volumes for
        remount (volumemanager MarkRemountRequired); with the 1.10-1.11 TTL cache (TTL 0 in
        clusters of <= 100 nodes) the Secret's remount is a GET through the main client, in the
        reconciler, not in the sync (docs/model/version-profiles.md rows 2, 5)."""
        if (pod.spec.automountServiceAccountToken and self.token_volume == "secret"
                and self.secret_strategy == "Cache"):
            self.env.process(self._get_secret())

    def _get_secret(self):
        yield from self.api.request(self.client)  # GET secrets/<token secret>

    def wait_for_attach_and_mount(self, pod: "PodState"):
        """WaitForAttachAndMount: wait.PollImmediate every 300 ms, at most 2 min (facts §0)."""
        assert pod.volumes_ready is not None
        if pod.volumes_ready.triggered:
            self._token_marks.pop(pod.name, None)
            return
        t0 = self.env.now
        yield pod.volumes_ready | self.env.timeout(MOUNT_TIMEOUT_S)
        if not pod.volumes_ready.triggered:
            charge(pod, VOLUMES, self.env.now - t0)
            volumes = ["docker-sock"] if pod.spec.dockerSocket and self._docker_socket() is None else []
            if pod.spec.automountServiceAccountToken and not volumes:
                volumes.append("kube-api-access")
            why = (f' (MountVolume.SetUp failed for volume "docker-sock": hostPath type check failed: '
                   f'{DOCKER_SOCKET} is not a socket file)' if volumes == ["docker-sock"] else "")
            raise SyncError("kubelet: volume manager (WaitForAttachAndMount)",
                            f"Unable to attach or mount volumes: unmounted volumes=[{' '.join(volumes)}]: "
                            f"timed out waiting for the condition{why}")
        waited = self.env.now - t0
        polls = math.ceil(waited / VOLUME_POLL_S - 1e-9)
        yield self.env.timeout(polls * VOLUME_POLL_S - waited)
        # the start-up ledger: the token request's wait for the API client and the apiserver
        sent, granted, answered = self._token_marks.pop(pod.name, (t0, t0, t0))
        api = overlap(t0, t0 + waited, sent, granted)
        server = overlap(t0, t0 + waited, granted, answered)
        charge(pod, API_CLIENT, api)
        charge(pod, CONTROL_PLANE, server)
        charge(pod, VOLUMES, self.env.now - t0 - api - server)
