"""client-go's token-bucket rate limiter (golang.org/x/time/rate, used by
k8s.io/client-go/util/flowcontrol).

``wait`` reserves a token and sleeps until it is due: the kubelet's API client (facts §1.10),
the scheduler's and the controller-manager's clients. ``try_accept`` takes one only if
available, else fails at once: the kubelet's image-pull throttle (facts §1.5
``throttleImagePulling``: "pull QPS exceeded").
"""

from __future__ import annotations

import simpy

__all__ = ["TokenBucket"]


class TokenBucket:
    """qps tokens per second, at most ``burst`` stored; starts full (rate.NewLimiter)."""

    def __init__(self, env: simpy.Environment, qps: float, burst: int):
        self.env = env
        self.qps = float(qps)
        self.burst = max(int(burst), 1)
        self.tokens = float(self.burst)
        self.last = env.now
        self.waiting = 0

    @property
    def unlimited(self) -> bool:
        return self.qps <= 0

    def _refill(self) -> None:
        now = self.env.now
        self.tokens = min(self.burst, self.tokens + (now - self.last) * self.qps)
        self.last = now

    def reserve(self) -> float:
        """Take a token (possibly into debt) and return how long to wait for it."""
        if self.unlimited:
            return 0.0
        self._refill()
        self.tokens -= 1.0
        return 0.0 if self.tokens >= 0 else -self.tokens / self.qps

    def wait(self):
        delay = self.reserve()
        if delay > 0:
            self.waiting += 1
            try:
                yield self.env.timeout(delay)
            finally:  # also when the waiting process is interrupted (a kubelet restart)
                self.waiting -= 1

    def try_accept(self) -> bool:
        if self.unlimited:
            return True
        self._refill()
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False
