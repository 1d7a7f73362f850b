"""How a pod sync ends when it could not do everything (pkg/kubelet/container/sync_result.go).

A ``SyncError`` names the hop and the reason; ``returned`` says whether ``syncPod`` returns it
as an error, which makes the pod worker retry after the error back-off. ``CrashLoopBackOff``
and ``ImagePullBackOff`` are *not* returned (facts §1.3): the pod waits for its next periodic
resync instead.
"""

from __future__ import annotations

__all__ = ["SyncError"]


class SyncError(Exception):
    """A sync that ended without doing everything; ``returned`` says whether syncPod returns it
    (CrashLoopBackOff and ImagePullBackOff are not returned, facts §1.3)."""

    def __init__(self, hop: str, reason: str, returned: bool = True):
        super().__init__(reason)
        self.hop, self.reason, self.returned = hop, reason, returned
