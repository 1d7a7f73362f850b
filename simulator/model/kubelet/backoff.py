"""client-go's per-key exponential back-off (k8s.io/client-go/util/flowcontrol/backoff.go), as
the kubelet uses it for image pulls (``ImagePullBackOff``) and container restarts
(``CrashLoopBackOff``): 10 s doubling to 300 s, an entry forgotten after 2 x the cap without
an update (facts §1.6; pkg/kubelet/kubelet.go ``backOffPeriod``, ``MaxContainerBackOff``).
"""

from __future__ import annotations

__all__ = ["Backoff", "BACKOFF_INITIAL_S", "BACKOFF_MAX_S"]

# facts §0 / §1.6: image pull back-off and CrashLoopBackOff, 10 s doubling to 300 s
# (pkg/kubelet/kubelet.go backOffPeriod = 10 s, MaxContainerBackOff = 300 s).
BACKOFF_INITIAL_S = 10.0
BACKOFF_MAX_S = 300.0


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
