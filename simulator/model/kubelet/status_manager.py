"""The status manager (pkg/kubelet/status/status_manager.go), facts §1.10.

``set_pod_status`` is ``generateAPIPodStatus`` + ``statusManager.SetPodStatus``: a new status
version when the pod's status changed. Phase Running once init containers are done and every
regular container has been started (a restarting container keeps the pod Running, as in the
API). One goroutine sends each queued version as a GET + PATCH through the kubelet's API client
token bucket (``kubeAPIQPS``/``kubeAPIBurst``); an observer sees Running one watch delay later.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable, Optional

import simpy

from ..clock import call_later

if TYPE_CHECKING:
    from ..control.apiserver import ApiServer
    from ..control.ratelimit import TokenBucket
    from ..state import PodState
    from .pod_cache import PodStatus

__all__ = ["StatusManager"]


class StatusManager:
    def __init__(self, env: simpy.Environment, api: "ApiServer", client: "TokenBucket",
                 on_running_observed: Callable[["PodState"], None]):
        self.env = env
        self.api = api
        self.client = client  # the kubelet's API client (shared with the volume manager...)
        self._on_running_observed = on_running_observed
        self.queue: simpy.Store = simpy.Store(env)

    def start(self) -> None:
        self.env.process(self._run())

    def queue_length(self) -> int:
        return len(self.queue.items)

    def set_pod_status(self, pod: "PodState", cached: Optional["PodStatus"]) -> None:
        """generateAPIPodStatus + statusManager.SetPodStatus: a new version when it changed."""
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
            self.queue.put((pod, pod.status_version, content[0]))

    def _run(self):
        env = self.env
        while True:
            pod, version, phase = yield self.queue.get()
            if pod.sent_version >= version or pod.terminated:
                continue
            yield from self.api.request(self.client)  # GET pod
            yield from self.api.request(self.client)  # PATCH pod status
            pod.sent_version = version
            if phase == "Running" and pod.running_observed is None and not pod.failed:
                call_later(env, self.api.watch_delay(), self._on_running_observed, pod)
