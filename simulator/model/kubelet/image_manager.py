"""The image manager and its puller (pkg/kubelet/images/image_manager.go, puller.go), facts
§1.4-1.5.

``EnsureImageExists``: ``ImageStatus`` through the chain; if the image is missing, the pod's
image back-off (``ImagePullBackOff``, 10 s doubling to 300 s) is checked, then the
``registryPullQPS``/``registryBurst`` throttle with ``TryAccept`` ("pull QPS exceeded" fails at
once and starts the back-off), then the pull: a serial puller (one goroutine reading a queue of
10, ``serializeImagePulls: true``) or parallel pulls, bounded by ``maxParallelImagePulls`` when
set. The pull itself (layers, registry link, unpacking) is the runtime's
(``runtime/images.py``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Optional

import simpy

from ..attribution import IMAGE_PULL, charge
from ..control.ratelimit import TokenBucket
from ..runtime.context import CallContext, HopFailure
from .backoff import BACKOFF_INITIAL_S, BACKOFF_MAX_S, Backoff
from .sync_result import SyncError

if TYPE_CHECKING:
    import numpy as np

    from ...config import KubeletConfig
    from ..interfaces import Images
    from ..state import PodState
    from .cri_client import CRIClient

__all__ = ["ImageManager", "SERIAL_PULL_QUEUE"]

# facts §0: serial image-pull queue depth 10 (puller.go newSerialImagePuller, maxImagePullRequests).
SERIAL_PULL_QUEUE = 10
# image_gc_manager.go Start: the image cache is refreshed with ListImages every 30 s, and
# detectImages lists again every 5 min (docs/model/background-loops.md).
IMAGE_LIST_PERIOD_S = 30.0
IMAGE_DETECT_EVERY = 10


class ImageManager:
    def __init__(self, env: simpy.Environment, cfg: "KubeletConfig", cri: "CRIClient", images: "Images"):
        self.env = env
        self.cri = cri
        self.images = images  # what the runtime has (ImageStatus answers from it)
        self.throttle = TokenBucket(env, cfg.registryPullQPS, cfg.registryBurst)
        self.backoff = Backoff(BACKOFF_INITIAL_S, BACKOFF_MAX_S)
        self.serial = cfg.serializeImagePulls
        self.queue: Optional[simpy.Store] = None
        self.slots: Optional[simpy.Resource] = None
        if self.serial:
            self.queue = simpy.Store(env, capacity=SERIAL_PULL_QUEUE)
        elif cfg.maxParallelImagePulls:
            self.slots = simpy.Resource(env, capacity=cfg.maxParallelImagePulls)

    def start(self) -> None:
        if self.queue is not None:
            self.env.process(self._serial_puller(self.queue))

    def start_list_loop(self, rng: "np.random.Generator") -> None:
        """The image GC manager's cache of the runtime's images (``ListImages``)."""
        self.env.process(self._list_images(rng))

    def _list_images(self, rng: "np.random.Generator"):
        passes = 0
        while True:
            yield self.env.timeout(IMAGE_LIST_PERIOD_S)
            passes += 1
            calls = 2 if passes % IMAGE_DETECT_EVERY == 0 else 1  # + detectImages every 5 min
            try:
                for _ in range(calls):
                    yield from self.cri.call("list_images", CallContext(None, rng, "images"))
            except HopFailure:
                pass

    def queue_length(self) -> int:
        return len(self.queue.items) if self.queue is not None else 0

    def ensure_image(self, pod: "PodState", image: str):
        """image_manager.go EnsureImageExists (facts §1.4-1.5)."""
        env = self.env
        ctx = CallContext(pod, pod.rng, "sync", image=image)
        yield from self.cri.call("image_status", ctx)
        if self.images.present(image):
            return
        key = (pod.name, image)
        if self.backoff.in_backoff_since_update(key, env.now):
            raise SyncError("kubelet: image manager", "ImagePullBackOff", returned=False)
        if not self.throttle.try_accept():
            self.backoff.next(key, env.now)
            raise SyncError("kubelet: image manager", "ErrImagePull: pull QPS exceeded")
        t0 = env.now
        if self.queue is not None:
            done = env.event()
            yield self.queue.put((pod, image, done))
            failure = yield done
        else:
            failure = yield from self._pull_parallel(pod, image)
        pod.image_pull_seconds += env.now - t0
        charge(pod, IMAGE_PULL, env.now - t0)
        if failure is not None:
            self.backoff.next(key, env.now)
            raise SyncError(failure.hop, f"ErrImagePull: {failure.reason}")

    def _serial_puller(self, queue: simpy.Store):
        while True:
            pod, image, done = yield queue.get()
            failure = None
            try:
                yield from self.cri.call("pull_image", CallContext(pod, pod.rng, "puller", image=image))
            except HopFailure as f:
                failure = f
            done.succeed(failure)

    def _pull_parallel(self, pod: "PodState", image: str):
        req = self.slots.request() if self.slots is not None else None
        try:
            if req is not None:
                yield req
            yield from self.cri.call("pull_image", CallContext(pod, pod.rng, "puller", image=image))
            return None
        except HopFailure as f:
            return f
        finally:
            if req is not None and self.slots is not None:
                self.slots.release(req)
