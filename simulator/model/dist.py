"""Service-time distributions, compiled once into fast samplers (seconds)."""

from __future__ import annotations

import math
from typing import Callable

import numpy as np

__all__ = ["Sampler", "compile_dist", "dist_median_s", "dist_mean_s"]

Z90 = 1.2815515655446004  # standard-normal 90th percentile

Sampler = Callable[[np.random.Generator], float]


def _fields(d) -> dict:
    return d if isinstance(d, dict) else d.model_dump()


def compile_dist(d) -> Sampler:
    """A function rng -> seconds for a ``Dist`` (model or dict)."""
    f = _fields(d)
    kind = f["dist"]
    if kind == "constant":
        v = f["ms"] / 1000.0
        return lambda rng: v
    if kind == "exponential":
        mean = f["meanMs"] / 1000.0
        return lambda rng: rng.exponential(mean)
    if kind == "lognormal":
        mu = math.log(f["medianMs"] / 1000.0)
        sigma = math.log(f["p90Ms"] / f["medianMs"]) / Z90
        if sigma == 0:
            v = f["medianMs"] / 1000.0
            return lambda rng: v
        return lambda rng: math.exp(mu + sigma * rng.standard_normal())
    raise ValueError(f"unknown distribution {kind!r}")


def dist_median_s(d) -> float:
    f = _fields(d)
    return {"constant": lambda: f["ms"], "exponential": lambda: f["meanMs"] * math.log(2),
            "lognormal": lambda: f["medianMs"]}[f["dist"]]() / 1000.0


def dist_mean_s(d) -> float:
    f = _fields(d)
    if f["dist"] == "constant":
        return f["ms"] / 1000.0
    if f["dist"] == "exponential":
        return f["meanMs"] / 1000.0
    sigma = math.log(f["p90Ms"] / f["medianMs"]) / Z90
    return f["medianMs"] / 1000.0 * math.exp(sigma * sigma / 2)
