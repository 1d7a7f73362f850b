"""The volume manager (pkg/kubelet/volumemanager/), as far as pod start-up waits for it.

An admitted pod's volumes go through the desired-state-of-world populator and the reconciler
(each a loop with a 100 ms period, facts §0), then the projected service-account token's
``TokenRequest`` (``POST serviceaccounts/token``) through the kubelet's API client (facts §1.10).
``WaitForAttachAndMount`` polls for the mounts every 300 ms (``wait.PollImmediate``, facts §0)
on the pod's first sync.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import simpy

if TYPE_CHECKING:
    import numpy as np

    from ..control.apiserver import ApiServer
    from ..control.ratelimit import TokenBucket
    from ..state import PodState

__all__ = ["VolumeManager", "VOLUME_POLL_S", "VOLUME_LOOP_S"]

# facts §0: WaitForAttachAndMount polls every 300 ms (volume_manager.go podAttachAndMountRetryInterval);
# the populator and reconciler loops run every 100 ms (loopSleepDuration / reconcilerLoopSleepPeriod).
VOLUME_POLL_S = 0.3
VOLUME_LOOP_S = 0.1


class VolumeManager:
    def __init__(self, env: simpy.Environment, api: "ApiServer", client: "TokenBucket",
                 rng: "np.random.Generator"):
        self.env = env
        self.api = api
        self.client = client
        self.rng = rng

    def add_pod(self, pod: "PodState") -> None:
        """The populator picks the pod up; its volumes are ready when ``volumes_ready`` fires."""
        pod.volumes_ready = self.env.event()
        self.env.process(self._mount(pod))

    def _mount(self, pod: "PodState"):
        """Desired-state populator and reconciler loops (100 ms each) then the projected
        service-account token's TokenRequest through the kubelet's API client (facts §0, §1.10)."""
        assert pod.volumes_ready is not None
        if pod.spec.serviceAccountToken:
            yield self.env.timeout(self.rng.uniform(0, VOLUME_LOOP_S))
            yield self.env.timeout(self.rng.uniform(0, VOLUME_LOOP_S))
            yield from self.api.request(self.client)  # POST serviceaccounts/token
        pod.volumes_ready.succeed()

    def wait_for_attach_and_mount(self, pod: "PodState"):
        """WaitForAttachAndMount: wait.PollImmediate every 300 ms (facts §0)."""
        assert pod.volumes_ready is not None
        if pod.volumes_ready.triggered:
            return
        t0 = self.env.now
        yield pod.volumes_ready
        waited = self.env.now - t0
        polls = math.ceil(waited / VOLUME_POLL_S - 1e-9)
        yield self.env.timeout(polls * VOLUME_POLL_S - waited)
