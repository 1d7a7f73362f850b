"""Fitting a chain to a scrape: simulate the node, compare per-operation medians, adjust the
steps, repeat.

Each round runs the fit scenario (three replications pooled) with the same seed: common random
numbers, so that between rounds mostly the service times move and the iteration is
deterministic. From the spans it measures the model's counterpart of every measured operation:
a CRI operation is the kubelet's call (depth-0 spans of that ``operation``, from any source:
pod syncs, PLEG, housekeeping, status loops); a Docker call is the visit of the dockerd step
that makes it, seen from its caller (dockershim), nested work included. A histogram metric's
median is estimated from the model exactly as from the scrape: through the same buckets and
linear interpolation (``OpStat.quantile_of``).

The Docker calls are fitted first (up to 3 rounds, or until they are within 15 %), then every
operation together. A Docker call's factor moves by a damped Newton step on log(median) whose
gain is 1 / the share of the median its steps make up (the rest, a pull's transfer, lock waits,
does not scale); a CRI operation gets the time it lacks added to its entry step, or the time it
has too much of taken off its own steps and then its Docker calls (``_scale_down``). Steps get
smaller as a knob's updates accumulate, because the rarer calls' medians carry a few per cent of
sampling noise. The rounds stop when every median is within 7 %, or after 14; the setting kept
is the best round's (fewest operations outside 15 %, then the smallest worst error).
"""

from __future__ import annotations

import math
from typing import Callable, Optional

import numpy as np
import pandas as pd

from ...chains import Chain
from ...config import Scenario
from ...model.simulation import simulate
from .knobs import MIN_FACTOR, ChainIndex, Knob, apply_knobs

__all__ = ["measure", "fit", "CONVERGED", "Measured"]

CONVERGED = math.log(1.07)   # every median within 7 % of its target: stop early
TOLERANCE = math.log(1.15)   # the acceptance bound, used to rank rounds
MAX_GAIN = 50.0
DOCKER_ROUNDS = 3
MAX_ROUNDS = 14
SPREAD_MIN_N = 20            # a p90 from fewer observations is not fitted (it is reported)
# replications pooled per round: the creation and teardown calls (a few dozen per run) and the
# image list (every 30 s) get ~3x the samples, their medians ~1.7x less noise
REPLICATIONS = 3
DAMPING = 0.7                # of a knob's first update: the medians respond to each other


def _damping(k: Knob) -> float:
    """Smaller steps as a knob's updates accumulate: the model's medians carry sampling noise
    (a few per cent for the rarer calls), which full steps would chase."""
    return DAMPING / (1.0 + 0.25 * k.updates)


Measured = dict[str, tuple[float, float, int]]  # knob name -> (median s, p90 s, samples)


def measure(spans: pd.DataFrame, index: ChainIndex, knobs: list[Knob]) -> Measured:
    """The model's median, p90 and count for every knob's operation."""
    ok = spans[spans.outcome != "open at the end of the run"]
    dur = (ok.end - ok.start).to_numpy()
    depth0 = (ok.depth == 0).to_numpy()
    op = ok.operation.to_numpy()
    out: Measured = {}
    docker_call = None
    if index.daemon:
        docker_call = ((ok.process == index.daemon) & (ok.caller != index.daemon)).to_numpy()
    step = ok.step.to_numpy()
    for k in knobs:
        if k.level == "cri":
            sel = depth0 & (op == k.target.operation)
        else:
            names = list(index.docker_call_names(k.target.operation))
            sel = docker_call & np.isin(step, names) if docker_call is not None else np.zeros(len(ok), bool)
        x = dur[sel]
        out[k.name] = ((float(k.target.quantile_of(0.5, x)), float(k.target.quantile_of(0.9, x)), int(len(x))) if len(x)
                       else (math.nan, math.nan, 0))
    return out


def run_model(scenario: Scenario, chain: Chain, seed: int, replications: int = REPLICATIONS) -> pd.DataFrame:
    """The spans of ``replications`` runs (replication r: ``SeedSequence([seed, r])``)."""
    return pd.concat([simulate(scenario, chain, seed, r).spans for r in range(replications)],
                     ignore_index=True)


def _off(k: Knob, m: tuple[float, float, int]) -> float:
    """log(model / measured) of the median."""
    return math.log(m[0] / k.target.median) if m[2] and m[0] > 0 else 0.0


def _share(k: Knob, index: ChainIndex, knobs: list[Knob], model_s: float) -> float:
    """The share of the model's median that the steps the knob moves make up (their current
    medians, one operation's worth); the rest (CNI, a pull's transfer, lock waits, the other
    steps) does not move with them."""
    cur = apply_knobs(index, knobs)
    per_op: dict[str, float] = {}
    for ref in k.active():
        median = cur[ref][0] if ref in cur else index.base[ref].median
        per_op[ref.operation] = per_op.get(ref.operation, 0.0) + median
    scaled_s = (sum(per_op.values()) / len(per_op)) / 1000.0 if per_op else 0.0
    return scaled_s / model_s if model_s > 0 else 1.0


def _update_spread(k: Knob, m: tuple[float, float, int], share: float) -> None:
    """Once the median is within 15 %, move the spread toward the measured p90/median, when
    the p90 is known (not in the +Inf bucket, from at least 20 observations) and the steps
    moved make up most of the median (a small step is no lever on the whole's spread)."""
    t = k.target
    if (abs(_off(k, m)) > TOLERANCE or share < 0.5 or t.p90_open or t.count < SPREAD_MIN_N
            or not (t.p90 > t.median * 1.01) or not (m[1] > m[0] * 1.01)):
        return
    ratio = math.log(t.p90 / t.median) / math.log(m[1] / m[0])
    k.spread = min(max(k.spread * ratio ** _damping(k), 0.33), 2.0)


def _log_step(k: Knob, m: tuple[float, float, int], share: float) -> float:
    """A damped Newton step on log(parameter): log(median) moves by ``share`` per unit."""
    gain = min(max(1.0 / share, 1.0), MAX_GAIN) if share > 0 else MAX_GAIN
    return min(max(-_damping(k) * gain * _off(k, m), -math.log(MAX_GAIN)), math.log(MAX_GAIN))


def _medians(refs, cur, index: ChainIndex) -> float:
    """Sum of the current medians (ms) of ``refs``."""
    return sum(cur[r][0] if r in cur else index.base[r].median for r in refs)


def _scale_down(k: Knob, need_ms: float, index: ChainIndex, knobs: list[Knob]) -> None:
    """Take ``need_ms`` more (or, if negative, less) off a CRI operation: first from its own
    steps (down to ``REST_FLOOR`` of their base), then from its Docker calls (scoped to it);
    medians are taken as adding up, which the next round corrects."""
    cur = apply_knobs(index, knobs)
    own_base = sum(index.base[r].median for r in k.steps)
    dock_fit = _medians(k.docker_part, cur, index) / k.docker_factor
    own_cap = own_base * (1.0 - k.floor)
    dock_cap = dock_fit * (1.0 - MIN_FACTOR)
    taken = own_base * (1.0 - k.factor) + dock_fit * (1.0 - k.docker_factor)
    taken = min(max(taken + need_ms, 0.0), own_cap + dock_cap)
    from_own = min(taken, own_cap)
    k.factor = 1.0 - from_own / own_base if own_base > 0 else 1.0
    k.docker_factor = 1.0 - (taken - from_own) / dock_fit if dock_fit > 0 else 1.0


def _update(k: Knob, m: tuple[float, float, int], index: ChainIndex, knobs: list[Knob]) -> None:
    error_ms = (m[0] - k.target.median) * 1000.0  # > 0: the model is too slow
    if k.level == "docker":
        share = _share(k, index, knobs, m[0])
        k.factor = math.exp(math.log(k.factor) + _log_step(k, m, share))
    elif k.log_scale >= 0.0 and (k.added_ms > 0 or error_ms < 0):
        # time the model lacks goes to the entry step: adding x ms moves the median by ~x
        share = _share(k, index, knobs, m[0])
        k.added_ms = max(k.added_ms - _damping(k) * error_ms, 0.0)
    else:
        # too slow with nothing added: take time off the operation
        _scale_down(k, _damping(k) * error_ms, index, knobs)
        share = _share(k, index, knobs, m[0])
    _update_spread(k, m, share)
    k.updates += 1


def _score(knobs: list[Knob], now: Measured) -> tuple[int, float]:
    offs = [abs(_off(k, now[k.name])) for k in knobs if now[k.name][2] > 0]
    return sum(o > TOLERANCE for o in offs), max(offs, default=0.0)


def fit(scenario: Scenario, index: ChainIndex, knobs: list[Knob], build, seed: int,
        max_rounds: int = MAX_ROUNDS, progress: Optional[Callable[[], object]] = None) -> tuple[Measured, int]:
    """Adjust ``knobs`` in place (``build(knobs) -> Chain``): at most ``max_rounds`` simulations,
    stopping early when every median is within 7 %; the knobs are left at the best round's
    setting (fewest operations outside 15 %, then the smallest worst error). Returns the base
    chain's measurements (round 1) and the number of rounds run; ``progress()`` after each round."""
    before: Optional[Measured] = None
    best: Optional[tuple[tuple[int, float], list[tuple[float, float, float, float]]]] = None
    docker_phase = any(k.level == "docker" for k in knobs)
    rounds = 0
    for rounds in range(1, max_rounds + 1):
        now = measure(run_model(scenario, build(knobs), seed), index, knobs)
        if progress is not None:
            progress()
        if before is None:
            before = now
        live = [k for k in knobs if now[k.name][2] > 0]
        score = _score(knobs, now)
        if not docker_phase and (best is None or score < best[0]):
            best = (score, [k.state() for k in knobs])
        if docker_phase and (rounds > DOCKER_ROUNDS or all(
                abs(_off(k, now[k.name])) < TOLERANCE for k in live if k.level == "docker")):
            docker_phase = False
            best = (score, [k.state() for k in knobs])
        if not docker_phase and score[1] < CONVERGED:
            break
        for k in live:
            if k.level == "docker" or not docker_phase:
                _update(k, now[k.name], index, knobs)
    assert before is not None
    if best is not None:
        for k, state in zip(knobs, best[1]):
            k.restore(state)
    return before, rounds
