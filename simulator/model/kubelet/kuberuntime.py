"""The kubelet's generic runtime manager (pkg/kubelet/kuberuntime/): ``SyncPod`` and the CRI
sequences it issues, facts §1.3-1.4, §1.6-1.7.

``SyncPod`` (kuberuntime_manager.go, after ``computePodActions``), for a pod whose status came
from the pod cache:

1. if the sandbox died (``podSandboxChanged``), kill what is left and start over with a new
   sandbox and new container instances;
2. ``RunPodSandbox`` then ``PodSandboxStatus`` (kuberuntime_sandbox.go) when there is no ready
   sandbox; a retry meeting a request the runtime is still running gets what the chain's
   ``sandboxNameReuse`` says ("name is reserved", wait, or recreate; facts §6);
3. ONE init container per sync (they run one at a time, each needing a PLEG round trip), or
   every regular container in spec order: ``EnsureImageExists`` (``image_manager.py``) ->
   ``CreateContainer`` -> ``StartContainer`` (kuberuntime_container.go ``startContainer``);
   an exited container restarts behind CrashLoopBackOff (10 s doubling to 300 s); a created but
   never started one (a start that failed or timed out) is replaced without back-off.

``kill_pod`` is ``killPodWithSyncResult``: every container stopped in parallel (SIGTERM and the
grace period), then the sandbox (CNI DEL) even when a container could not be stopped, and the
kill fails with that container's error (the pod worker retries it, ``termination.py``); a CRI
NotFound counts as stopped from PR #107670 (``not_found_is_success``); dead instances go to the
container GC.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable, Optional

import simpy

from ..clock import call_later
from ..runtime.context import CallContext, HopFailure
from .backoff import BACKOFF_INITIAL_S, BACKOFF_MAX_S, Backoff
from .sync_result import SyncError

if TYPE_CHECKING:
    from ...config import KubeletConfig
    from ..node.node import Node
    from ..state import ContainerState, PodState
    from .cri_client import CRIClient
    from .housekeeping import ContainerGC
    from .image_manager import ImageManager
    from .pod_cache import PodStatus

__all__ = ["RuntimeManager"]


class RuntimeManager:
    def __init__(self, env: simpy.Environment, node: "Node", cfg: "KubeletConfig", cri: "CRIClient",
                 images: "ImageManager", gc: "ContainerGC", poke: Callable[[], None],
                 not_found_is_success: bool = False):
        self.env = env
        self.node = node
        self.cfg = cfg
        self.cri = cri
        self.images = images
        self.gc = gc
        self.poke = poke  # a container's process ended: PLEG stays awake
        self.crash_backoff = Backoff(BACKOFF_INITIAL_S, BACKOFF_MAX_S)
        # kill path: a CRI NotFound is success (crierror.IsNotFound, PR #107670; versions.py)
        self.not_found_is_success = not_found_is_success

    # ------------------------------------------------------------------ SyncPod
    def sync_pod(self, pod: "PodState", cached: Optional["PodStatus"]):
        """kubeGenericRuntimeManager.SyncPod; returns None or the SyncError to report."""
        env, node = self.env, self.node
        did_work = False
        try:
            sandbox_cached = cached[0] if cached else "none"
            states = cached[1] if cached else {}
            if sandbox_cached == "notready":
                # podSandboxChanged: the sandbox died; kill what is left and start over
                did_work = True
                yield from self.kill_pod(pod)
                pod.new_sandbox_generation()
                pod.recreations += 1
                node.recorder.event(env.now, pod.name, "SandboxChanged", "pod sandbox will be recreated")
                states = {}
                sandbox_cached = "none"
            if sandbox_cached != "ready" and pod.sandbox_state != "ready":
                did_work = True
                yield from self._run_sandbox(pod)
                yield from self.cri.call("podsandbox_status", CallContext(pod, pod.rng, "sync"))
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
                    self.gc.add(("remove_container", pod, c, c.cid))
                    yield from self._start_container(pod, pod.replace_container(c.spec.name))
                elif seen == "exited" and c.state == "exited":
                    key = (pod.name, c.spec.name)
                    assert c.finished_at is not None
                    if self.crash_backoff.in_backoff_since(key, c.finished_at, env.now):
                        raise SyncError("kubelet: container restart", "CrashLoopBackOff", returned=False)
                    did_work = True
                    self.crash_backoff.next(key, env.now)
                    self.gc.add(("remove_container", pod, c, c.cid))
                    yield from self._start_container(pod, pod.replace_container(c.spec.name))
            if all(c.state == "running" for c in pod.regular_containers):
                if pod.disrupted_at is not None:
                    node.recorder.event(env.now, pod.name, "PodRecovered",
                                        f"{env.now - pod.disrupted_at:.3f}s after the disruption")
                    pod.disrupted_at = None
                    pod.fault_cause = ()
            return None
        except HopFailure as f:
            pod.last_sync_error = (f.hop, f.reason)
            node.recorder.event(env.now, pod.name, "SyncError", f.reason, hop=f.hop)
            return SyncError(f.hop, f.reason)
        except SyncError as e:
            pod.last_sync_error = (e.hop, e.reason)
            node.recorder.event(env.now, pod.name, "SyncError", e.reason, hop=e.hop)
            return e
        finally:
            if did_work:
                pod.attempts += 1

    def _run_sandbox(self, pod: "PodState"):
        """RunPodSandbox, and what a retry meets while an earlier request still runs."""
        env = self.env
        prev = pod.inflight_sandbox
        policy = self.node.chain.sandboxNameReuse
        if prev is not None and not prev.triggered:
            if policy == "fail":
                raise HopFailure(f"{self.cri.server}: RunPodSandbox",
                                 f'failed to reserve sandbox name "{pod.name}": name is reserved')
            if policy == "wait":
                limit = self.cri.deadline("run_podsandbox")
                assert limit is not None
                yield prev | env.timeout(limit)
                if not prev.triggered:
                    raise HopFailure(f"kubelet -> {self.cri.server}: RunPodSandbox", "context deadline exceeded")
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

        yield from self.cri.call("run_podsandbox", CallContext(pod, pod.rng, "sync"), on_done=done,
                                 finished=finished)

    def _start_container(self, pod: "PodState", c: "ContainerState"):
        """kuberuntime_container.go startContainer (facts §1.4)."""
        env = self.env
        yield from self.images.ensure_image(pod, c.spec.image)
        ctx = CallContext(pod, pod.rng, "sync", container=c, image=c.spec.image)

        def created() -> None:
            c.state = "created"

        def started() -> None:
            c.state = "running"
            c.started_at = env.now
            if self.node.logs is not None:  # its stdout starts flowing to its log file
                self.node.logs.container_started(pod, c)
            if not c.init:
                pod.started_once.add(c.spec.name)
                if pod.containers_started is None and len(pod.started_once) == len(pod.regular_containers):
                    # every container has started (a restarting one counts, as in the status)
                    pod.containers_started = env.now
                    self.node.recorder.event(env.now, pod.name, "ContainersStarted")
            if pod.on_container_started is not None:
                pod.on_container_started(pod, c)
            if c.init:
                call_later(env, c.spec.runSeconds, self._exit, c)
            elif c.spec.crashAfterSeconds is not None and (
                    c.spec.crashTimes is None or c.crashes < c.spec.crashTimes):
                call_later(env, c.spec.crashAfterSeconds, self._crash, pod, c)

        yield from self.cri.call("create_container", ctx, on_done=created)
        yield from self.cri.call("start_container", ctx, on_done=started)

    def _exit(self, c: "ContainerState") -> None:
        """The container's process ends (an instance stopped or killed meanwhile stays so)."""
        if c.state == "running":
            c.state = "exited"
            c.finished_at = self.env.now
            self.poke()

    def _crash(self, pod: "PodState", c: "ContainerState") -> None:
        if c.state == "running":
            c.crashes += 1
            self._exit(c)
            self.node.recorder.event(self.env.now, pod.name, "ContainerCrashed", f"{c.spec.name} exited with code 1")

    # ------------------------------------------------------------------ killPod
    def kill_pod(self, pod: "PodState"):
        """killPodWithSyncResult: stop every container (in parallel), then the sandbox; a
        container that could not be stopped fails the kill after the sandbox was stopped."""
        env = self.env
        grace = pod.spec.terminationGracePeriodSeconds
        retry = pod.kill_failures > 0  # a termination retry: its garbage is queued already
        stops = []
        errors: list[HopFailure] = []
        for c in pod.containers.values():
            if c.state in ("created", "running"):
                ctx = CallContext(pod, pod.rng, "sync", container=c)

                def stopped(c: "ContainerState" = c) -> None:
                    c.state = "exited"
                    c.finished_at = env.now

                # the runtime waits for the process to exit after SIGTERM (none: a lost container)
                wait = min(c.spec.terminationSeconds, grace) if c.state == "running" and not c.lost else 0.0
                stops.append(env.process(self._kill_container(pod, ctx, stopped, wait, grace, errors)))
            if c.state != "none" and not retry:
                self.gc.add(("remove_container", pod, c, c.cid))
        if stops:
            yield env.all_of(stops)
        if pod.sandbox_state != "none":
            generation = pod.sandbox_generation
            was_ready = pod.sandbox_state == "ready"

            def sandbox_stopped() -> None:
                if pod.sandbox_generation == generation:
                    pod.sandbox_state = "notready"

            try:
                yield from self.cri.call("stop_podsandbox", CallContext(pod, pod.rng, "sync"),
                                         on_done=sandbox_stopped)
            except HopFailure as f:
                if not self._not_found(f):
                    raise
                sandbox_stopped()
            if was_ready or not retry:
                self.gc.add(("remove_podsandbox", pod, None, pod.sandbox_id))
        if errors:
            raise errors[0]

    def _not_found(self, f: HopFailure) -> bool:
        return self.not_found_is_success and f.code == "NotFound"

    def _kill_container(self, pod: "PodState", ctx: CallContext, stopped: Callable[[], None],
                        wait: float, grace: float, errors: list[HopFailure]):
        """killContainer: StopContainer, whose deadline adds the grace period (facts §1.7);
        killContainersWithSyncResult collects each container's error and goes on."""
        try:
            yield from self.cri.call("stop_container", ctx, on_done=stopped,
                                     deadline=self.cfg.runtimeRequestTimeout + grace, exit_wait=wait)
        except HopFailure as f:
            if self._not_found(f):
                stopped()  # gone from the runtime: stopped, as far as the kubelet is concerned
                self.node.recorder.event(self.env.now, pod.name, "KillContainerNotFound", f.reason, hop=f.hop)
                return
            self.node.recorder.event(self.env.now, pod.name, "KillContainerError", f.reason, hop=f.hop)
            errors.append(f)
