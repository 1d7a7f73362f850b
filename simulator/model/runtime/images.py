"""Images on a node and the runtime's pull machinery (facts §1.5, §3.4, §4.4).

A pull first makes the registry requests that come before any layer (ping / auth challenge,
token, manifest list and manifest, config blob: ``imagePull.requestsBeforeLayers`` round trips
of ``node.registryRttMs`` each), then fetches the image's layers from the registry through the
node's link (a processor-shared ``FluidShare``: each layer is one stream capped at
``registryConnectionMBps``, and concurrent streams split the NIC's ``registryBandwidthMBps``),
each after its own blob request (``requestsPerLayer`` round trips), with at most
``maxConcurrentDownloads`` layers in flight, daemon-wide for dockerd (one
``LayerDownloadManager``, facts §3.4) or per pull for containerd and CRI-O (facts §4.4). Layers
are then unpacked strictly in order (each needs its parent), costing CPU on the pulling daemon
(gunzip) and shared disk bandwidth. Concurrent pulls of the same image wait for the one in
flight (dockerd de-duplicates by layer, CRI-O by image, facts §3.4, §5.2).

The store remembers when each layer of a pulled image finished unpacking (an unclean reboot may
lose the ones written shortly before it: ``model/node/reboot.py``); a reboot aborts the pulls in
flight (``abort_pulls``), and an image can be removed (``remove``, ``wipe``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import simpy

from .context import HopFailure

if TYPE_CHECKING:
    from ...chains import Chain
    from ..interfaces import RuntimeHost
    from .context import CallContext

__all__ = ["ImageStore"]


class ImageStore:
    def __init__(self, node: "RuntimeHost", chain: "Chain"):
        self.node = node
        self.env = node.env
        self._present = {name for name, spec in node.scenario.images.items() if spec.prePulled}
        self._inflight: dict[str, simpy.Event] = {}
        self._pull_spec = chain.imagePull
        self._daemon_slots = simpy.Resource(self.env, capacity=chain.imagePull.maxConcurrentDownloads)
        self.pulls_done = 0
        self.unpacked_at: dict[str, list[float]] = {}  # image -> when each layer was unpacked
        self._epoch = 0  # bumped by a reboot: pulls in flight are lost

    def present(self, image: str) -> bool:
        return image in self._present

    def pull(self, image: str | None, ctx: "CallContext", process: str):
        if image is None or image in self._present:
            return
        slowdown = 1.0
        if self.node.faults is not None:
            slowdown, failure = self.node.faults.registry()
            if failure is not None:
                raise HopFailure("registry", failure.reason)
        if image in self._inflight:
            yield self._inflight[image]
            return
        done = self.env.event()
        self._inflight[image] = done
        epoch = self._epoch
        layer_times: list[float] = []
        spec = self.node.scenario.images[image]
        layer_mb = spec.sizeMB / spec.layers
        if self._pull_spec.downloadScope == "node":
            slots = self._daemon_slots
        else:
            slots = simpy.Resource(self.env, capacity=self._pull_spec.maxConcurrentDownloads)
        cfg = self.node.node_cfg
        rtt = cfg.registryRttMs / 1000.0
        before = self._pull_spec.requestsBeforeLayers * rtt
        if before > 0:  # ping/auth, token, manifest(s), config: one after another
            yield self.env.timeout(before)
        per_layer = self._pull_spec.requestsPerLayer * rtt
        # a slow registry stretches each stream: the same bytes take `slowdown` times longer
        downloads = [self.env.process(self._download(slots, layer_mb * slowdown, per_layer))
                     for _ in range(spec.layers)]
        for d in downloads:  # unpack in layer order, each after its own download
            yield d
            cpu = layer_mb * cfg.unpackCpuMsPerMB / 1000.0
            yield self.node.cpu.run(cpu, process) & self.node.disk.run(layer_mb, "unpack")
            if self._epoch != epoch:
                raise HopFailure(f"{process}: pull", "node rebooted during the pull")
            layer_times.append(self.env.now)
        self._present.add(image)
        self.unpacked_at[image] = layer_times
        del self._inflight[image]
        self.pulls_done += 1
        done.succeed()

    def abort_pulls(self) -> None:
        """A reboot: the pulls in flight die (their waiters go on; a retry pulls again)."""
        self._epoch += 1
        inflight, self._inflight = self._inflight, {}
        for done in inflight.values():
            done.succeed()

    def remove(self, image: str) -> None:
        """RemoveImage (with its unpacked layers): the next EnsureImageExists pulls it again."""
        self._present.discard(image)
        self.unpacked_at.pop(image, None)

    def wipe(self) -> None:
        """Every image gone (CRI-O's storage wipe after an unclean shutdown)."""
        for image in list(self._present):
            self.remove(image)

    def _download(self, slots: simpy.Resource, mb: float, requests_s: float):
        with slots.request() as req:
            yield req
            if requests_s > 0:  # the blob GET (and its redirect) before the bytes flow
                yield self.env.timeout(requests_s)
            yield self.node.link.run(mb, "registry")
