"""The kubelet's side of a pod's life: admission, pod workers, SyncPod, PLEG, status, pulls,
deadlines, back-offs, termination and garbage collection.

What is modelled, with the fact-sheet section each piece follows:

* **Admission** (facts §1.1): the single syncLoop goroutine admits new pods one at a time;
  ``maxPods`` is checked there and a pod over it fails with the kubelet's reason.
* **Pod workers** (facts §1.2): one per pod; updates arriving while it is busy are coalesced;
  before each sync it blocks in ``podCache.GetNewerThan(uid, lastSyncTime)``: the first sync
  (``lastSyncTime`` is the zero time in ``managePodLoop``) needs only one completed relist, every
  later one a relist that *started* after the previous sync ended (facts §8.2). After a sync the
  worker requeues itself: 10 s x jitter after an error, ``syncFrequency`` x jitter otherwise
  (CrashLoopBackOff and ImagePullBackOff are not errors, facts §1.3).
* **syncPod / SyncPod** (facts §1.3-1.4): status from the PLEG cache, then on the first sync the
  pod's cgroup, data dirs and ``WaitForAttachAndMount`` (polled every 300 ms, facts §0); then the
  CRI sequence: [kill a dead sandbox], RunPodSandbox, PodSandboxStatus, ONE init container per
  sync, or every regular container in spec order, each ImageStatus -> [PullImage] ->
  CreateContainer -> StartContainer; exited containers restart behind CrashLoopBackOff (10 s
  doubling to 300 s, forgotten after 10 min, facts §1.6).
* **CRI deadlines** (facts §1.7): every call carries ``runtimeRequestTimeout`` (RunPodSandbox
  2x, PullImage none); when it expires the kubelet gets "context deadline exceeded" while the
  runtime goes on, so a retry can meet the still-running request ("name is reserved", facts §6).
* **Images** (facts §1.5): ``registryPullQPS``/``registryBurst`` throttle with TryAccept ("pull
  QPS exceeded" fails at once and starts the image back-off); a serial puller (one goroutine, a
  queue of 10) or parallel pulls (bounded by ``maxParallelImagePulls`` when set).
* **PLEG** (facts §1.8): relist = ListPodSandbox + ListContainers; for each pod with changes,
  GetPodStatus serially through the chain, so its cost is the chain's; the cache timestamp is
  the relist's start; the next relist starts 1 s after this one ends. Health: when the last
  relist whose GetPods succeeded started more than 3 min ago the node is NotReady and the
  syncLoop stops dispatching (sleeping 100 ms doubling to 5 s) until a relist succeeds.
* **Status manager** (facts §1.10): one goroutine; each new status version costs GET + PATCH
  through the kubelet's API token bucket; an observer sees it one watch delay later.
* **Termination**: a deleted pod's containers are stopped (SIGTERM, grace period), then its
  sandbox (CNI DEL); the final status and the DELETE go through the same API client; a 1-min
  container GC removes dead containers and sandboxes (RemoveContainer / RemovePodSandbox).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Callable, Optional

import simpy

from ..chains import REQUIRED_OPERATIONS
from .control import ApiServer, TokenBucket
from .interpreter import CallContext, HopFailure
from .state import ContainerState, PodState

if TYPE_CHECKING:
    import numpy as np

    from .node import Node

__all__ = ["Kubelet", "Backoff"]

# facts §0 / §1.8: generic PLEG relist period 1 s, sliding (wait.Until); health threshold 3 min.
PLEG_RELIST_PERIOD_S = 1.0
PLEG_RELIST_THRESHOLD_S = 180.0
# facts §1.1: while runtimeErrors() is non-nil the syncLoop sleeps 100 ms doubling to 5 s.
SYNCLOOP_BACKOFF_INITIAL_S = 0.1
SYNCLOOP_BACKOFF_MAX_S = 5.0
# facts §0 / §1.2: pod-worker retry after a sync error, 10 s x jitter 0.5 (pod_workers.go completeWork).
SYNC_ERROR_BACKOFF_S = 10.0
WORKER_JITTER = 0.5
# facts §0: serial image-pull queue depth 10 (puller.go newSerialImagePuller, maxImagePullRequests).
SERIAL_PULL_QUEUE = 10
# facts §0 / §1.6: image pull back-off and CrashLoopBackOff, 10 s doubling to 300 s.
BACKOFF_INITIAL_S = 10.0
BACKOFF_MAX_S = 300.0
# facts §0: volume manager: WaitForAttachAndMount polls every 300 ms; reconciler loop 100 ms.
VOLUME_POLL_S = 0.3
VOLUME_LOOP_S = 0.1
# Kubelet container GC period: 1 min (pkg/kubelet/kubelet.go ContainerGCPeriod).
CONTAINER_GC_PERIOD_S = 60.0
# cAdvisor inside the kubelet re-reads every container's cgroup stats each housekeeping
# interval: 10 s (pkg/kubelet/cadvisor/cadvisor_linux.go defaultHousekeepingInterval).
# ASSUMPTION: ~1 ms of CPU per container per pass (a dozen cgroupfs reads and parsing).
CADVISOR_HOUSEKEEPING_S = 10.0
CADVISOR_CPU_PER_CONTAINER_S = 0.001
# Kubelet-internal CPU per action. ASSUMPTION: sub-millisecond Go work (status generation,
# computePodActions, admission checks); they matter only on very small nodes.
ADMIT_CPU_S = 0.0002
SYNC_CPU_S = 0.0005
RELIST_CPU_BASE_S = 0.0001
RELIST_CPU_PER_CONTAINER_S = 0.000005
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

    def in_backoff_since(self, key: tuple, event_time: float, now: float) -> bool:
        e = self._entries.get(key)
        if e is None or now - e[1] > 2 * self.cap:
            return False
        return now - event_time < e[0]


class _SyncError(Exception):
    """A sync that ended without doing everything; ``returned`` says whether syncPod returns it
    (CrashLoopBackOff and ImagePullBackOff are not returned, facts §1.3)."""

    def __init__(self, hop: str, reason: str, returned: bool = True):
        super().__init__(reason)
        self.hop, self.reason, self.returned = hop, reason, returned


class Kubelet:
    def __init__(self, node: "Node", api: ApiServer, rng: "np.random.Generator",
                 on_deleted: Callable[[PodState], None] | None = None):
        self.node = node
        self.env = node.env
        self.cfg = node.scenario.kubelet
        self.api = api
        self.rng = rng  # the kubelet's own loops (PLEG, jitter)
        self.interp = node.interpreter
        self.on_deleted = on_deleted
        chain = node.chain
        self.cri_server = next(s.process for s in chain.operations["run_podsandbox"].steps
                               if s.transport == "grpc")
        self.client = TokenBucket(self.env, self.cfg.kubeAPIQPS, self.cfg.kubeAPIBurst)
        self.pull_throttle = TokenBucket(self.env, self.cfg.registryPullQPS, self.cfg.registryBurst)
        self.image_backoff = Backoff(BACKOFF_INITIAL_S, BACKOFF_MAX_S)
        self.crash_backoff = Backoff(BACKOFF_INITIAL_S, BACKOFF_MAX_S)
        self.sync_loop = simpy.Resource(self.env, capacity=1)
        self.pods: list[PodState] = []  # admitted and not yet deleted, in admission order
        self.garbage: list[tuple[str, PodState, Optional[ContainerState], str]] = []
        # PLEG state
        self.cache_ts: Optional[float] = None
        self.cache: dict[str, tuple] = {}
        self._seen: dict[str, tuple] = {}
        self.relist_done = self.env.event()
        self.relist_durations: list[tuple[float, float]] = []
        self.relist_time: Optional[float] = None  # start of the last relist whose GetPods succeeded
        self._reinspect: list[PodState] = []
        self.healthy = True
        self._deferred: list[Callable[[], None]] = []
        # Idle skipping (large clusters): on nodes whose resources are not sampled, PLEG stops
        # relisting while nothing on the node can change and nobody waits for a relist, and
        # resumes on the relist schedule it would have kept (see _pleg).
        self.idle_skip = not node.probed
        self._poke: Optional[simpy.Event] = None
        self._idle: Optional[tuple[float, float]] = None  # (relist start, duration) while asleep
        self._waiters = 0
        self._gc_wake = self.env.event()
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
        if node.probed:
            # cAdvisor's CPU matters for the steady-state figures of sampled nodes; elsewhere it
            # is ~0.3 % of a core and left out for speed
            self.env.process(self._cadvisor())
        self.env.process(self._container_gc())

    def poke(self) -> None:
        """Something on the node changed (or a worker waits for a relist): PLEG stays awake."""
        self.node._counted_at = -1.0
        if self._poke is not None and not self._poke.triggered:
            self._poke.succeed()

    def _add_garbage(self, item: tuple) -> None:
        self.garbage.append(item)
        if not self._gc_wake.triggered:
            self._gc_wake.succeed()

    # ================================================================== dispatch and health
    def _dispatch(self, fn: Callable[[], None]) -> None:
        """Work the syncLoop hands out; held back while the runtime is unhealthy (facts §1.1)."""
        if self.healthy:
            fn()
        else:
            self._deferred.append(fn)

    def _set_unhealthy(self, relist_start: float) -> None:
        if self.relist_time != relist_start or not self.healthy or self._poke is not None or self.node.retired:
            return
        self.healthy = False
        age = self.env.now - relist_start
        self.node.recorder.event(self.env.now, "", "NodeNotReady",
                                 f"PLEG is not healthy: pleg was last seen active {age:.0f}s ago; threshold is 3m0s")
        self.node.on_health(False)
        self.env.process(self._syncloop_backoff())

    def _syncloop_backoff(self):
        delay = SYNCLOOP_BACKOFF_INITIAL_S
        while True:
            yield self.env.timeout(delay)
            if self.relist_time is not None and self.env.now - self.relist_time < PLEG_RELIST_THRESHOLD_S:
                break
            delay = min(delay * 2, SYNCLOOP_BACKOFF_MAX_S)
        self.healthy = True
        self.node.recorder.event(self.env.now, "", "NodeReady", "PLEG healthy again")
        self.node.on_health(True)
        deferred, self._deferred = self._deferred, []
        for fn in deferred:
            fn()

    # ================================================================== admission
    def pod_seen(self, pod: PodState) -> None:
        """The apiserver watch delivered a pod bound to this node (facts §1.1)."""
        pod.kubelet_seen = self.env.now
        self.poke()
        self._dispatch(lambda: self.env.process(self._admit(pod)))

    def _admit(self, pod: PodState):
        with self.sync_loop.request() as req:
            yield req
            yield self.node.cpu.run(ADMIT_CPU_S, "kubelet")
            if pod.deletion_requested is not None:
                self._finish_deleted(pod)
                return
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

    def pod_deleted(self, pod: PodState) -> None:
        """The watch delivered the pod's deletion (deletionTimestamp set)."""
        if pod.deletion_requested is None:
            pod.deletion_requested = self.env.now
        if pod.admitted:
            self.update_pod(pod)

    def update_pod(self, pod: PodState) -> None:
        """podWorkers.UpdatePod: deliver or coalesce an update (facts §1.2)."""
        if pod.failed or pod.terminated:
            return

        def deliver() -> None:
            pod.pending_update = True
            if pod.wake is not None and not pod.wake.triggered:
                pod.wake.succeed()

        self._dispatch(deliver)

    # ================================================================== pod worker
    def _pod_worker(self, pod: PodState):
        env = self.env
        last_sync: Optional[float] = None
        while not (pod.failed or pod.terminated):
            if not pod.pending_update:
                pod.wake = env.event()
                yield pod.wake
            pod.pending_update = False
            # podCache.GetNewerThan(uid, lastSyncTime), facts §1.2
            while self.cache_ts is None or (last_sync is not None and self.cache_ts <= last_sync):
                if self._idle is not None and last_sync is not None:
                    # PLEG sleeps through relists that would find nothing: this worker waits
                    # for the first one on the schedule that starts after its last sync
                    idle_start, duration = self._idle
                    period = PLEG_RELIST_PERIOD_S + duration
                    vstart = idle_start + (math.floor((last_sync - idle_start) / period) + 1) * period
                    if vstart + duration > env.now:
                        yield env.timeout(vstart + duration - env.now)
                    if self._idle is not None:
                        self.cache_ts = max(self.cache_ts or 0.0, vstart)
                    continue
                self._waiters += 1
                self.poke()
                yield self.relist_done
                self._waiters -= 1
            if pod.deletion_requested is not None:
                yield from self._terminate(pod)
                return
            error = yield from self._sync_pod(pod, first=last_sync is None)
            last_sync = env.now
            if pod.failed or pod.terminated:
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
            states = cached[1] if cached else {}
            if sandbox_cached == "notready":
                # podSandboxChanged: the sandbox died; kill what is left and start over
                did_work = True
                yield from self._kill_pod(pod)
                pod.new_sandbox_generation()
                pod.recreations += 1
                node.recorder.event(env.now, pod.name, "SandboxChanged", "pod sandbox will be recreated")
                states = {}
                sandbox_cached = "none"
            if sandbox_cached != "ready" and pod.sandbox_state != "ready":
                did_work = True
                yield from self._run_sandbox(pod)
                yield from self.call("podsandbox_status", CallContext(pod, pod.rng, "sync"))
            for c in pod.init_containers:
                seen = states.get(c.spec.name, "none")
                if seen == "exited":
                    continue
                if seen == "none" and c.state == "none":
                    did_work = True
                    yield from self._start_container(pod, c)
                return None  # one init container per sync; regulars wait for all to exit
            for c in list(pod.regular_containers):
                seen = states.get(c.spec.name, "none")
                if seen == "none" and c.state == "none":
                    did_work = True
                    yield from self._start_container(pod, c)
                elif seen == "created" and c.state == "created":
                    # created but never started (a start that failed or timed out):
                    # ShouldContainerBeRestarted -> a new instance, no back-off
                    did_work = True
                    self._add_garbage(("remove_container", pod, c, c.cid))
                    yield from self._start_container(pod, pod.replace_container(c.spec.name))
                elif seen == "exited" and c.state == "exited":
                    key = (pod.name, c.spec.name)
                    if self.crash_backoff.in_backoff_since(key, c.finished_at, env.now):
                        raise _SyncError("kubelet: container restart", "CrashLoopBackOff", returned=False)
                    did_work = True
                    self.crash_backoff.next(key, env.now)
                    self._add_garbage(("remove_container", pod, c, c.cid))
                    yield from self._start_container(pod, pod.replace_container(c.spec.name))
            if all(c.state == "running" for c in pod.regular_containers):
                if pod.disrupted_at is not None:
                    node.recorder.event(env.now, pod.name, "PodRecovered",
                                        f"{env.now - pod.disrupted_at:.3f}s after the disruption")
                    pod.disrupted_at = None
            return None
        except HopFailure as f:
            pod.last_sync_error = (f.hop, f.reason)
            node.recorder.event(env.now, pod.name, "SyncError", f.reason, hop=f.hop)
            return _SyncError(f.hop, f.reason)
        except _SyncError as e:
            pod.last_sync_error = (e.hop, e.reason)
            node.recorder.event(env.now, pod.name, "SyncError", e.reason, hop=e.hop)
            return e
        finally:
            if did_work:
                pod.attempts += 1

    # ================================================================== CRI calls
    def _deadline(self, op: str) -> Optional[float]:
        """facts §1.7: runtimeRequestTimeout on unary calls, 2x for RunPodSandbox, none for pulls."""
        if op == "pull_image":
            return None
        if op == "run_podsandbox":
            return 2 * self.cfg.runtimeRequestTimeout
        return self.cfg.runtimeRequestTimeout

    def call(self, op: str, ctx: CallContext, on_done: Callable[[], None] | None = None,
             deadline: float | None | str = "default", finished: simpy.Event | None = None,
             exit_wait: float = 0.0):
        """One CRI call from the kubelet. The runtime side runs as its own process and applies
        its effect (``on_done``) when IT finishes; the kubelet stops waiting at the deadline."""
        env = self.env
        runtime = env.process(self._runtime_side(op, ctx, on_done, finished, exit_wait))
        limit = self._deadline(op) if deadline == "default" else deadline
        if limit is None:
            result = yield runtime
        else:
            yield runtime | env.timeout(limit)
            if not runtime.triggered:
                self.node.recorder.event(env.now, ctx.pod.name if ctx.pod else "", "DeadlineExceeded",
                                         f"{REQUIRED_OPERATIONS[op]} after {limit:g}s")
                raise HopFailure(f"kubelet -> {self.cri_server}: {REQUIRED_OPERATIONS[op]}",
                                 "context deadline exceeded")
            result = runtime.value
        if result is not None:
            raise result

    def _runtime_side(self, op: str, ctx: CallContext, on_done, finished, exit_wait: float):
        try:
            if exit_wait > 0:
                yield self.env.timeout(exit_wait)
            yield from self.interp.operation(op, ctx)
        except HopFailure as f:
            return f
        finally:
            if finished is not None:
                finished.succeed()
        if on_done is not None:
            on_done()
            self.poke()
        return None

    def _run_sandbox(self, pod: PodState):
        """RunPodSandbox, and what a retry meets while an earlier request still runs."""
        env = self.env
        prev = pod.inflight_sandbox
        policy = self.node.chain.sandboxNameReuse
        if prev is not None and not prev.triggered:
            if policy == "fail":
                raise HopFailure(f"{self.cri_server}: RunPodSandbox",
                                 f'failed to reserve sandbox name "{pod.name}": name is reserved')
            if policy == "wait":
                yield prev | env.timeout(self._deadline("run_podsandbox"))
                if not prev.triggered:
                    raise HopFailure(f"kubelet -> {self.cri_server}: RunPodSandbox", "context deadline exceeded")
                if pod.sandbox_state == "ready":
                    return
        finished = env.event()
        pod.inflight_sandbox = finished
        generation = pod.sandbox_generation

        def done() -> None:
            # the runtime finished the sandbox, whether or not the kubelet still waits for it
            if pod.sandbox_generation == generation and not pod.terminated:
                pod.sandbox_state = "ready"
                if pod.sandbox_ready is None:
                    pod.sandbox_ready = env.now
                self.node.recorder.event(env.now, pod.name, "SandboxReady")

        yield from self.call("run_podsandbox", CallContext(pod, pod.rng, "sync"), on_done=done,
                             finished=finished)

    def _start_container(self, pod: PodState, c: ContainerState):
        """kuberuntime_container.go startContainer (facts §1.4)."""
        env = self.env
        yield from self._ensure_image(pod, c.spec.image)
        ctx = CallContext(pod, pod.rng, "sync", container=c, image=c.spec.image)

        def created() -> None:
            c.state = "created"

        def started() -> None:
            c.state = "running"
            c.started_at = env.now
            if not c.init:
                pod.started_once.add(c.spec.name)
                if pod.containers_started is None and len(pod.started_once) == len(pod.regular_containers):
                    # every container has started (a restarting one counts, as in the status)
                    pod.containers_started = env.now
                    self.node.recorder.event(env.now, pod.name, "ContainersStarted")
            if c.init:
                env.timeout(c.spec.runSeconds).callbacks.append(lambda _e: self._exit(c))
            elif c.spec.crashAfterSeconds is not None and (
                    c.spec.crashTimes is None or c.crashes < c.spec.crashTimes):
                env.timeout(c.spec.crashAfterSeconds).callbacks.append(lambda _e: self._crash(pod, c))

        yield from self.call("create_container", ctx, on_done=created)
        yield from self.call("start_container", ctx, on_done=started)

    def _exit(self, c: ContainerState) -> None:
        """The container's process ends (an instance stopped or killed meanwhile stays so)."""
        if c.state == "running":
            c.state = "exited"
            c.finished_at = self.env.now
            self.poke()

    def _crash(self, pod: PodState, c: ContainerState) -> None:
        if c.state == "running":
            c.crashes += 1
            self._exit(c)
            self.node.recorder.event(self.env.now, pod.name, "ContainerCrashed", f"{c.spec.name} exited with code 1")

    # ================================================================== termination
    def _kill_pod(self, pod: PodState):
        """killPodWithSyncResult: stop every container (in parallel), then the sandbox."""
        env = self.env
        grace = pod.spec.terminationGracePeriodSeconds
        stops = []
        for c in pod.containers.values():
            if c.state in ("created", "running"):
                ctx = CallContext(pod, pod.rng, "sync", container=c)

                def stopped(c=c) -> None:
                    c.state = "exited"
                    c.finished_at = env.now

                wait = min(c.spec.terminationSeconds, grace) if c.state == "running" else 0.0
                stops.append(env.process(self._quiet(self.call(
                    "stop_container", ctx, on_done=stopped,
                    deadline=self.cfg.runtimeRequestTimeout + grace, exit_wait=wait))))
            if c.state != "none":
                self._add_garbage(("remove_container", pod, c, c.cid))
        if stops:
            yield env.all_of(stops)
        if pod.sandbox_state != "none":
            generation = pod.sandbox_generation

            def sandbox_stopped() -> None:
                if pod.sandbox_generation == generation:
                    pod.sandbox_state = "notready"

            yield from self.call("stop_podsandbox", CallContext(pod, pod.rng, "sync"), on_done=sandbox_stopped)
            self._add_garbage(("remove_podsandbox", pod, None, pod.sandbox_id))

    def _quiet(self, gen):
        """Run a kubelet call and swallow its failure (killContainersWithSyncResult collects
        errors per container and goes on)."""
        try:
            yield from gen
        except HopFailure as f:
            self.node.recorder.event(self.env.now, "", "KillContainerError", f.reason, hop=f.hop)

    def _terminate(self, pod: PodState):
        """syncTerminatingPod + syncTerminatedPod: kill, post the final status, DELETE."""
        try:
            yield from self._kill_pod(pod)
        except HopFailure as f:
            pod.last_sync_error = (f.hop, f.reason)
            self.node.recorder.event(self.env.now, pod.name, "KillPodError", f.reason, hop=f.hop)
            self.env.timeout(SYNC_ERROR_BACKOFF_S).callbacks.append(
                lambda _e: self.env.process(self._terminate(pod)))
            return
        pod.terminated = True
        yield from self.api.request(self.client)  # GET
        yield from self.api.request(self.client)  # PATCH final status
        yield from self.api.request(self.client)  # DELETE (grace period 0)
        self._finish_deleted(pod)

    def _finish_deleted(self, pod: PodState) -> None:
        pod.terminated = True
        pod.deleted = self.env.now
        if pod in self.pods:
            self.pods.remove(pod)
            self._seen.pop(pod.name, None)
            self.cache.pop(pod.name, None)
        self.node.recorder.event(self.env.now, pod.name, "Deleted")
        if self.on_deleted is not None:
            self.on_deleted(pod)

    def _container_gc(self):
        """Container GC every minute: remove dead containers and sandboxes (kubelet.go
        ContainerGCPeriod; kuberuntime_gc.go)."""
        env = self.env
        while not self.node.retired:
            if not self.garbage:
                self._gc_wake = env.event()
                yield self._gc_wake
            # the GC runs on its 1-minute tick
            yield env.timeout(CONTAINER_GC_PERIOD_S - env.now % CONTAINER_GC_PERIOD_S)
            items, self.garbage = self.garbage, []
            for op, pod, c, _id in items:
                ctx = CallContext(pod, self.rng, "gc", container=c)
                try:
                    yield from self.call(op, ctx)
                    if c is not None and c in pod.old_instances:
                        pod.old_instances.remove(c)
                except HopFailure:
                    self._add_garbage((op, pod, c, _id))

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
        yield from self.call("image_status", ctx)
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
                yield from self.call("pull_image", CallContext(pod, pod.rng, "puller", image=image))
            except HopFailure as f:
                failure = f
            done.succeed(failure)

    def _pull_parallel(self, pod: PodState, image: str):
        req = self.pull_slots.request() if self.pull_slots is not None else None
        try:
            if req is not None:
                yield req
            yield from self.call("pull_image", CallContext(pod, pod.rng, "puller", image=image))
            return None
        except HopFailure as f:
            return f
        finally:
            if req is not None:
                self.pull_slots.release(req)

    # ================================================================== PLEG
    def _pleg(self):
        env, node = self.env, self.node
        while not node.retired:
            start = env.now
            cpu_before = node.cpu.totals() if self.idle_skip else {}
            ctx = CallContext(None, self.rng, "pleg", unfiltered=True)
            try:
                yield from self.call("list_podsandbox", ctx)
                yield from self.call("list_containers", ctx)
            except HopFailure as f:
                # a failed GetPods does not update the relist time (facts §1.8)
                node.recorder.event(env.now, "", "RelistFailed", f.reason, hop=f.hop)
                yield env.timeout(PLEG_RELIST_PERIOD_S)
                continue
            self.relist_time = start
            env.timeout(start + PLEG_RELIST_THRESHOLD_S - env.now).callbacks.append(
                lambda _e, s=start: self._set_unhealthy(s))
            yield node.cpu.run(RELIST_CPU_BASE_S + RELIST_CPU_PER_CONTAINER_S * node.count("containers"), "kubelet")
            changed = []
            for pod in self.pods:
                snap = pod.runtime_snapshot()
                if snap != self._seen.get(pod.name):
                    self._seen[pod.name] = snap
                    changed.append(pod)
            # updateCache (GetPodStatus) serially for every pod with events, then again for the
            # pods whose inspection failed in the previous relist (facts §1.8, generic.go relist)
            needs_reinspection: list[PodState] = []
            notify = []
            for pod in changed:
                try:
                    yield from self._get_pod_status(pod)
                    notify.append(pod)
                    if pod in self._reinspect:
                        self._reinspect.remove(pod)
                except HopFailure:
                    needs_reinspection.append(pod)
            for pod in self._reinspect:
                if pod.terminated:
                    continue
                try:
                    yield from self._get_pod_status(pod)
                except HopFailure:
                    needs_reinspection.append(pod)
            self._reinspect = needs_reinspection
            self.cache_ts = start
            done, self.relist_done = self.relist_done, env.event()
            done.succeed()
            self.relist_durations.append((env.now, env.now - start))
            for pod in notify:
                self.update_pod(pod)
            if self.idle_skip and not changed and not self._reinspect and self._waiters == 0:
                yield from self._sleep_while_idle(start, cpu_before)
                continue
            yield env.timeout(PLEG_RELIST_PERIOD_S)

    def _sleep_while_idle(self, start: float, cpu_before: dict[str, float]):
        """Nothing can change on the node until something pokes it, so the relists PLEG would
        run meanwhile would find nothing: skip them, charge their CPU, and resume on the same
        schedule (relist k starts at start + k x (1 s + this relist's duration)). A change seen
        at time T is first seen by the relist starting after T, as without skipping."""
        env, node = self.env, self.node
        duration = env.now - start
        cpu_after = node.cpu.totals()
        per_relist = {k: v - cpu_before.get(k, 0.0) for k, v in cpu_after.items()
                      if v - cpu_before.get(k, 0.0) > 0}
        self._poke = env.event()
        self._idle = (start, duration)
        yield self._poke
        self._poke = None
        self._idle = None
        period = PLEG_RELIST_PERIOD_S + duration
        skipped = math.floor((env.now - start) / period)
        for tag, work in per_relist.items():
            node.cpu.work_done[tag] = node.cpu.work_done.get(tag, 0.0) + skipped * work
        last_virtual = start + skipped * period
        self.relist_time = max(self.relist_time or 0.0, last_virtual)
        self.cache_ts = max(self.cache_ts or 0.0, last_virtual)
        yield env.timeout(last_virtual + period - env.now)

    def _get_pod_status(self, pod: PodState):
        """kuberuntime_manager.go GetPodStatus (facts §1.8)."""
        ctx = CallContext(pod, self.rng, "pleg")
        yield from self.call("list_podsandbox", ctx)
        if pod.sandbox_state != "none":
            yield from self.call("podsandbox_status", ctx)
        yield from self.call("list_containers", ctx)
        for c in list(pod.containers.values()) + list(pod.old_instances):
            if c.state != "none":
                yield from self.call("container_status", CallContext(pod, self.rng, "pleg", container=c))
        self.cache[pod.name] = (pod.sandbox_state, {n: c.state for n, c in pod.containers.items()})

    def _cadvisor(self):
        """Periodic per-container stats collection: steady-state kubelet CPU once pods run."""
        env, node = self.env, self.node
        # Stagger the first pass like cAdvisor's per-container goroutines do.
        yield env.timeout(self.rng.uniform(0, CADVISOR_HOUSEKEEPING_S))
        while not node.retired:
            n = node.count("containers")
            if n:
                yield node.cpu.run(CADVISOR_CPU_PER_CONTAINER_S * n, "kubelet")
            yield env.timeout(CADVISOR_HOUSEKEEPING_S)

    # ================================================================== status
    def _set_status(self, pod: PodState, cached: Optional[tuple]) -> None:
        """generateAPIPodStatus + statusManager.SetPodStatus: a new version when it changed.
        Phase Running once init containers are done and every regular container has been
        started (a restarting container keeps the pod Running, as in the API)."""
        states = cached[1] if cached else {}
        running = (
            bool(cached and cached[0] == "ready")
            and all(states.get(c.spec.name) == "exited" for c in pod.init_containers)
            and all(states.get(c.spec.name) == "running"
                    or (states.get(c.spec.name) == "exited" and c.restarts + c.crashes > 0)
                    for c in pod.regular_containers)
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
            if pod.sent_version >= version or pod.terminated:
                continue
            yield from self.api.request(self.client)  # GET pod
            yield from self.api.request(self.client)  # PATCH pod status
            pod.sent_version = version
            if phase == "Running" and pod.running_observed is None and not pod.failed:
                env.timeout(self.api.watch_delay()).callbacks.append(
                    lambda _e, p=pod: self.node.observed_running(p))
