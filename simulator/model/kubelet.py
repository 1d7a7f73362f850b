"""The kubelet's side of pod creation: admission, pod workers, SyncPod, PLEG, status, pulls.

What is modelled, with the fact-sheet section each piece follows:

* **Admission** (facts §1.1): the single syncLoop goroutine admits new pods one at a time;
  ``maxPods`` is checked there and a pod over it fails with the kubelet's reason.
* **Pod workers** (facts §1.2): one per pod; updates arriving while it is busy are coalesced;
  before each sync it blocks in ``podCache.GetNewerThan(uid, lastSyncTime)``: the first sync
  (``lastSyncTime`` is the zero time in ``managePodLoop``) needs only one completed relist, every
  later one a relist that *started* after the previous sync ended (facts §8.2). After a sync the
  worker requeues itself: 10 s x jitter after an error, ``syncFrequency`` x jitter otherwise.
* **syncPod / SyncPod** (facts §1.3-1.4): status from the PLEG cache, then on the first sync the
  pod's cgroup, data dirs and ``WaitForAttachAndMount`` (polled every 300 ms, facts §0); then the
  CRI sequence: RunPodSandbox, PodSandboxStatus, ONE init container per sync, or every regular
  container in spec order, each ImageStatus -> [PullImage] -> CreateContainer -> StartContainer.
  Strictly sequential within a pod, concurrent across pods.
* **Images** (facts §1.5): ``registryPullQPS``/``registryBurst`` throttle with TryAccept ("pull
  QPS exceeded" fails at once and starts the image back-off); a serial puller (one goroutine, a
  queue of 10) or parallel pulls (bounded by ``maxParallelImagePulls`` when set).
* **PLEG** (facts §1.8): relist = ListPodSandbox + ListContainers; for each pod with changes,
  GetPodStatus serially (ListPodSandbox, PodSandboxStatus, ListContainers, ContainerStatus per
  container) through the chain, so its cost is the chain's; then the cache timestamp is set to
  the relist's start; the next relist starts 1 s after this one ends.
* **Status manager** (facts §1.10): one goroutine; each new status version costs GET + PATCH
  through the kubelet's API token bucket (``kubeAPIQPS``/``kubeAPIBurst``); "Running" is posted
  by the sync that follows PLEG's ContainerStarted event, and an observer sees it one watch
  delay later.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Optional

import simpy

from .control import ApiServer, TokenBucket
from .interpreter import CallContext, HopFailure
from .state import ContainerState, PodState

if TYPE_CHECKING:
    import numpy as np

    from .node import Node

__all__ = ["Kubelet", "Backoff"]

# facts §0 / §1.8: generic PLEG relist period 1 s, sliding (wait.Until).
PLEG_RELIST_PERIOD_S = 1.0
# facts §0 / §1.2: pod-worker retry after a sync error, 10 s x jitter 0.5 (pod_workers.go completeWork).
SYNC_ERROR_BACKOFF_S = 10.0
WORKER_JITTER = 0.5
# facts §0: serial image-pull queue depth 10 (puller.go newSerialImagePuller, maxImagePullRequests).
SERIAL_PULL_QUEUE = 10
# facts §0 / §1.6: image pull back-off 10 s doubling to 300 s (kubelet.go, flowcontrol.Backoff).
IMAGE_BACKOFF_INITIAL_S = 10.0
IMAGE_BACKOFF_MAX_S = 300.0
# facts §0: volume manager: WaitForAttachAndMount polls every 300 ms; reconciler loop 100 ms.
VOLUME_POLL_S = 0.3
VOLUME_LOOP_S = 0.1
# Kubelet-internal CPU per action. ASSUMPTION: sub-millisecond Go work (status generation,
# computePodActions, admission checks); they matter only on very small nodes.
ADMIT_CPU_S = 0.0002
SYNC_CPU_S = 0.0005
RELIST_CPU_BASE_S = 0.0001
RELIST_CPU_PER_CONTAINER_S = 0.000005
# cAdvisor inside the kubelet re-reads every container's cgroup stats each housekeeping
# interval: 10 s (pkg/kubelet/cadvisor/cadvisor_linux.go defaultHousekeepingInterval).
# ASSUMPTION: ~1 ms of CPU per container per pass (a dozen cgroupfs reads and parsing).
CADVISOR_HOUSEKEEPING_S = 10.0
CADVISOR_CPU_PER_CONTAINER_S = 0.001
# ASSUMPTION: creating the pod's QoS cgroup (pcm.EnsureExists) and data dirs: a few ms of
# cgroupfs writes and mkdirs.
POD_SETUP_S = 0.004


class Backoff:
    """client-go ``flowcontrol.Backoff``: per-key delay, initial then doubling up to a cap,
    forgotten after 2 x max idle (facts §1.6)."""

    def __init__(self, initial: float, cap: float):
        self.initial = initial
        self.cap = cap
        self._entries: dict[tuple, list[float]] = {}  # key -> [backoff, last_update]

    def next(self, key: tuple, now: float) -> float:
        e = self._entries.get(key)
        if e is None or now - e[1] > 2 * self.cap:
            e = [self.initial, now]
        else:
            e = [min(e[0] * 2, self.cap), now]
        self._entries[key] = e
        return e[0]

    def in_backoff_since_update(self, key: tuple, now: float) -> bool:
        e = self._entries.get(key)
        return e is not None and now - e[1] < e[0]


class _SyncError(Exception):
    """A sync that ended without doing everything; ``returned`` says whether syncPod returns it
    (CrashLoopBackOff and ImagePullBackOff are not returned, facts §1.3)."""

    def __init__(self, hop: str, reason: str, returned: bool = True):
        super().__init__(reason)
        self.hop, self.reason, self.returned = hop, reason, returned


class Kubelet:
    def __init__(self, node: "Node", api: ApiServer, rng: "np.random.Generator"):
        self.node = node
        self.env = node.env
        self.cfg = node.scenario.kubelet
        self.api = api
        self.rng = rng  # the kubelet's own loops (PLEG, jitter)
        self.interp = node.interpreter
        self.client = TokenBucket(self.env, self.cfg.kubeAPIQPS, self.cfg.kubeAPIBurst)
        self.pull_throttle = TokenBucket(self.env, self.cfg.registryPullQPS, self.cfg.registryBurst)
        self.image_backoff = Backoff(IMAGE_BACKOFF_INITIAL_S, IMAGE_BACKOFF_MAX_S)
        self.sync_loop = simpy.Resource(self.env, capacity=1)
        self.pods: list[PodState] = []  # admitted, in admission order
        # PLEG state
        self.cache_ts: Optional[float] = None
        self.cache: dict[str, tuple] = {}
        self._seen: dict[str, tuple] = {}
        self.relist_done = self.env.event()
        self.relist_durations: list[tuple[float, float]] = []
        # status manager
        self.status_queue: simpy.Store = simpy.Store(self.env)
        # image puller
        if self.cfg.serializeImagePulls:
            self.pull_queue: Optional[simpy.Store] = simpy.Store(self.env, capacity=SERIAL_PULL_QUEUE)
            self.pull_slots: Optional[simpy.Resource] = None
            self.env.process(self._serial_puller())
        else:
            self.pull_queue = None
            n = self.cfg.maxParallelImagePulls
            self.pull_slots = simpy.Resource(self.env, capacity=n) if n else None
        self.env.process(self._pleg())
        self.env.process(self._status_manager())
        self.env.process(self._cadvisor())

    # ================================================================== admission
    def pod_seen(self, pod: PodState) -> None:
        """The apiserver watch delivered a pod bound to this node (facts §1.1)."""
        pod.kubelet_seen = self.env.now
        self.env.process(self._admit(pod))

    def _admit(self, pod: PodState):
        with self.sync_loop.request() as req:
            yield req
            yield self.node.cpu.run(ADMIT_CPU_S, "kubelet")
            if len(self.pods) >= self.cfg.maxPods:
                # kubelet predicate admission: "Node didn't have enough resource: pods".
                self.node.fail_pod(pod, "kubelet: admission (canAdmitPod)", "OutOfpods")
                return
            pod.admitted = True
            self.pods.append(pod)
            self._seen[pod.name] = pod.runtime_snapshot()
            pod.volumes_ready = self.env.event()
            self.env.process(self._mount_volumes(pod))
            self.env.process(self._pod_worker(pod))
            self.update_pod(pod)

    def update_pod(self, pod: PodState) -> None:
        """podWorkers.UpdatePod: deliver or coalesce an update (facts §1.2)."""
        if pod.failed:
            return
        pod.pending_update = True
        if pod.wake is not None and not pod.wake.triggered:
            pod.wake.succeed()

    # ================================================================== pod worker
    def _pod_worker(self, pod: PodState):
        env = self.env
        last_sync: Optional[float] = None
        while not pod.failed:
            if not pod.pending_update:
                pod.wake = env.event()
                yield pod.wake
            pod.pending_update = False
            # podCache.GetNewerThan(uid, lastSyncTime), facts §1.2
            while self.cache_ts is None or (last_sync is not None and self.cache_ts <= last_sync):
                yield self.relist_done
            error = yield from self._sync_pod(pod, first=last_sync is None)
            last_sync = env.now
            if pod.failed:
                return
            if error is not None and error.returned:
                delay = SYNC_ERROR_BACKOFF_S
            else:
                delay = self.cfg.syncFrequency
            delay *= 1 + WORKER_JITTER * self.rng.random()  # wait.Jitter(d, 0.5)
            env.timeout(delay).callbacks.append(lambda _e, p=pod: self.update_pod(p))

    def _sync_pod(self, pod: PodState, first: bool):
        """Kubelet.syncPod + kubeGenericRuntimeManager.SyncPod for one pod (facts §1.3-1.4)."""
        env, node = self.env, self.node
        yield node.cpu.run(SYNC_CPU_S, "kubelet")
        cached = self.cache.get(pod.name)
        self._set_status(pod, cached)
        if first:
            yield node.cpu.run(POD_SETUP_S / 2, "kubelet")
            yield env.timeout(POD_SETUP_S / 2)
            yield from self._wait_for_volumes(pod)
        did_work = False
        try:
            sandbox_cached = cached[0] if cached else "none"
            if sandbox_cached != "ready":
                did_work = True
                ctx = CallContext(pod, pod.rng, "sync")
                yield from self.interp.operation("run_podsandbox", ctx)
                pod.sandbox_state = "ready"
                pod.sandbox_ready = env.now
                node.recorder.event(env.now, pod.name, "SandboxReady")
                yield from self.interp.operation("podsandbox_status", ctx)
            states = cached[1] if cached else {}
            for c in pod.init_containers:
                seen = states.get(c.spec.name, "none")
                if seen == "exited":
                    continue
                if seen == "none" and c.state == "none":
                    did_work = True
                    yield from self._start_container(pod, c)
                return None  # one init container per sync; regulars wait for all to exit
            for c in pod.regular_containers:
                if states.get(c.spec.name, "none") == "none" and c.state == "none":
                    did_work = True
                    yield from self._start_container(pod, c)
            if pod.containers_started is None and all(
                c.state == "running" for c in pod.regular_containers
            ):
                pod.containers_started = env.now
                node.recorder.event(env.now, pod.name, "ContainersStarted")
            return None
        except HopFailure as f:
            pod.last_sync_error = f.reason
            node.recorder.event(env.now, pod.name, "SyncError", f"{f.hop}: {f.reason}")
            return _SyncError(f.hop, f.reason)
        except _SyncError as e:
            pod.last_sync_error = e.reason
            node.recorder.event(env.now, pod.name, "SyncError", f"{e.hop}: {e.reason}")
            return e
        finally:
            if did_work:
                pod.attempts += 1

    def _start_container(self, pod: PodState, c: ContainerState):
        """kuberuntime_container.go startContainer (facts §1.4)."""
        env = self.env
        yield from self._ensure_image(pod, c.spec.image)
        ctx = CallContext(pod, pod.rng, "sync", container=c, image=c.spec.image)
        yield from self.interp.operation("create_container", ctx)
        c.state = "created"
        yield from self.interp.operation("start_container", ctx)
        c.state = "running"
        c.started_at = env.now
        if c.init:
            env.timeout(c.spec.runSeconds).callbacks.append(lambda _e, k=c: self._exit(k))

    def _exit(self, c: ContainerState) -> None:
        c.state = "exited"
        c.finished_at = self.env.now

    # ================================================================== volumes
    def _mount_volumes(self, pod: PodState):
        """Desired-state populator and reconciler loops (100 ms each) then the projected
        service-account token's TokenRequest through the kubelet's API client (facts §0, §1.10)."""
        if pod.spec.serviceAccountToken:
            yield self.env.timeout(self.rng.uniform(0, VOLUME_LOOP_S))
            yield self.env.timeout(self.rng.uniform(0, VOLUME_LOOP_S))
            yield from self.api.request(self.client)  # POST serviceaccounts/token
        pod.volumes_ready.succeed()

    def _wait_for_volumes(self, pod: PodState):
        """WaitForAttachAndMount: wait.PollImmediate every 300 ms (facts §0)."""
        if pod.volumes_ready.triggered:
            return
        t0 = self.env.now
        yield pod.volumes_ready
        waited = self.env.now - t0
        polls = math.ceil(waited / VOLUME_POLL_S - 1e-9)
        yield self.env.timeout(polls * VOLUME_POLL_S - waited)

    # ================================================================== images
    def _ensure_image(self, pod: PodState, image: str):
        """image_manager.go EnsureImageExists (facts §1.4-1.5)."""
        env = self.env
        ctx = CallContext(pod, pod.rng, "sync", image=image)
        yield from self.interp.operation("image_status", ctx)
        if self.node.images.present(image):
            return
        key = (pod.name, image)
        if self.image_backoff.in_backoff_since_update(key, env.now):
            raise _SyncError("kubelet: image manager", "ImagePullBackOff", returned=False)
        if not self.pull_throttle.try_accept():
            self.image_backoff.next(key, env.now)
            raise _SyncError("kubelet: image manager", "ErrImagePull: pull QPS exceeded")
        t0 = env.now
        if self.pull_queue is not None:
            done = env.event()
            yield self.pull_queue.put((pod, image, done))
            failure = yield done
        else:
            failure = yield from self._pull_parallel(pod, image)
        pod.image_pull_seconds += env.now - t0
        if failure is not None:
            self.image_backoff.next(key, env.now)
            raise _SyncError(failure.hop, f"ErrImagePull: {failure.reason}")

    def _serial_puller(self):
        while True:
            pod, image, done = yield self.pull_queue.get()
            failure = None
            try:
                yield from self.interp.operation("pull_image", CallContext(pod, pod.rng, "puller", image=image))
            except HopFailure as f:
                failure = f
            done.succeed(failure)

    def _pull_parallel(self, pod: PodState, image: str):
        req = self.pull_slots.request() if self.pull_slots is not None else None
        try:
            if req is not None:
                yield req
            yield from self.interp.operation("pull_image", CallContext(pod, pod.rng, "puller", image=image))
            return None
        except HopFailure as f:
            return f
        finally:
            if req is not None:
                self.pull_slots.release(req)

    # ================================================================== PLEG
    def _pleg(self):
        env, node, interp = self.env, self.node, self.interp
        while True:
            start = env.now
            ctx = CallContext(None, self.rng, "pleg", unfiltered=True)
            try:
                yield from interp.operation("list_podsandbox", ctx)
                yield from interp.operation("list_containers", ctx)
            except HopFailure:
                # a failed GetPods does not update the relist time (facts §1.8)
                yield env.timeout(PLEG_RELIST_PERIOD_S)
                continue
            yield node.cpu.run(RELIST_CPU_BASE_S + RELIST_CPU_PER_CONTAINER_S * node.count("containers"), "kubelet")
            changed = []
            for pod in self.pods:
                snap = pod.runtime_snapshot()
                if snap != self._seen[pod.name]:
                    self._seen[pod.name] = snap
                    changed.append(pod)
            for pod in changed:  # updateCache: GetPodStatus serially
                try:
                    yield from self._get_pod_status(pod)
                except HopFailure:
                    continue
            self.cache_ts = start
            done, self.relist_done = self.relist_done, env.event()
            done.succeed()
            self.relist_durations.append((env.now, env.now - start))
            for pod in changed:
                self.update_pod(pod)
            yield env.timeout(PLEG_RELIST_PERIOD_S)

    def _get_pod_status(self, pod: PodState):
        """kuberuntime_manager.go GetPodStatus (facts §1.8)."""
        interp = self.interp
        ctx = CallContext(pod, self.rng, "pleg")
        yield from interp.operation("list_podsandbox", ctx)
        if pod.sandbox_state != "none":
            yield from interp.operation("podsandbox_status", ctx)
        yield from interp.operation("list_containers", ctx)
        for c in pod.containers.values():
            if c.state != "none":
                ctx.container = c
                yield from interp.operation("container_status", ctx)
        self.cache[pod.name] = (pod.sandbox_state, {n: c.state for n, c in pod.containers.items()})

    def _cadvisor(self):
        """Periodic per-container stats collection: steady-state kubelet CPU once pods run."""
        env, node = self.env, self.node
        # Stagger the first pass like cAdvisor's per-container goroutines do.
        yield env.timeout(self.rng.uniform(0, CADVISOR_HOUSEKEEPING_S))
        while True:
            n = node.count("containers")
            if n:
                yield node.cpu.run(CADVISOR_CPU_PER_CONTAINER_S * n, "kubelet")
            yield env.timeout(CADVISOR_HOUSEKEEPING_S)

    # ================================================================== status
    def _set_status(self, pod: PodState, cached: Optional[tuple]) -> None:
        """generateAPIPodStatus + statusManager.SetPodStatus: a new version when it changed."""
        states = cached[1] if cached else {}
        running = (
            all(states.get(c.spec.name) == "exited" for c in pod.init_containers)
            and all(states.get(c.spec.name) == "running" for c in pod.regular_containers)
        )
        content = ("Running" if running else "Pending",
                   bool(cached and cached[0] == "ready"),
                   tuple(sorted(states.items())))
        if content != pod.status_content:
            pod.status_content = content
            pod.status_version += 1
            self.status_queue.put((pod, pod.status_version, content[0]))

    def _status_manager(self):
        env = self.env
        while True:
            pod, version, phase = yield self.status_queue.get()
            if pod.sent_version >= version:
                continue
            yield from self.api.request(self.client)  # GET pod
            yield from self.api.request(self.client)  # PATCH pod status
            pod.sent_version = version
            if phase == "Running" and pod.running_observed is None and not pod.failed:
                env.timeout(self.api.watch_delay()).callbacks.append(
                    lambda _e, p=pod: self.node.observed_running(p))
