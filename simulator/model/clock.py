"""Calling a function later in simulated time, without a process of its own.

``call_later(env, delay, fn, *args)`` runs ``fn(*args)`` when ``delay`` seconds have passed: one
SimPy timeout with a callback, the cheapest way to model a timer (a resync, a watch delivery, a
container's exit). The arguments are bound when the timer is set, not when it fires.
"""

from __future__ import annotations

from typing import Any, Callable

import simpy

__all__ = ["call_later"]


def call_later(env: simpy.Environment, delay: float, fn: Callable[..., Any], *args: Any) -> None:
    env.timeout(delay).callbacks.append(lambda _event: fn(*args))
