"""Which guesses the answer rests on: Morris screening of every ASSUMPTION default.

The parameters (:func:`parameters`) are the defaults marked ASSUMPTION that a run of the
scenario on a chain reaches: the scenario's numeric fields whose description starts with
"ASSUMPTION" (``assumption()``, ``config/costs.py``), found by walking the ``Scenario`` model and
named by their dotted path (``kubeletCosts.syncMs``; ``[*]``: every item of a list, varied
together), a distribution scaled whole (``medianMs`` and ``p90Ms`` together, ``ms``, ``meanMs``);
and the chain's steps whose ``source`` says ASSUMPTION, one parameter per step name, each such
step's service time (and per-item cost) scaled in an in-memory copy of the chain.

Each parameter is a factor on its default, log-uniform from ``low`` to ``high`` (×0.5 to ×2); a
bounded field (a CPU share ≤ 1) is clipped at its bound. A default of 0 has nothing to scale
and is skipped, as is a field the scenario does not use (no such fault or list item).

The method is Morris's elementary effects through SALib: ``trajectories`` one-at-a-time paths
on a ``levels``-level grid of the log-factors, one run per point, every run with the same seed
(common random numbers: a parameter without effect changes nothing). An elementary effect is
divided by its step as a fraction of the range, so μ* is in the output's unit: the mean absolute
change of the output as the factor swings across its whole range; σ, their spread, is large when
the effect depends on the other parameters. Each trajectory is one job for ``map_jobs``, so
serial and parallel runs give the same numbers.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from ..chains import Chain, resolve_chain
from ..config import ConfigError, Scenario
from ..errors import did_you_mean
from ..model.logs import scenario_has_logs
from ..model.simulation import POOLS, simulate
from ..schema import parse_kubernetes_version
from .executors import map_jobs
from .runner import summarize_runtime

__all__ = ["OUTPUTS", "STEADY_STATE_FREE", "Parameter", "Sensitivity", "Skipped", "chain_parameters",
           "check_design", "morris", "output_value", "parameters", "parse_range", "scenario_parameters", "vary"]

OUTPUTS: dict[str, str] = {
    **{f"{k}.{q}": "s" for k in ("pod_startup_seconds", "pod_startup_total_seconds")
       for q in ("p50", "p90", "p99", "max")},
    "batch_seconds": "s", "cpu_cores.kubelet": "cores", "cpu_cores.runtime": "cores",
    "memory_mb.kubelet": "MB", "memory_mb.runtime": "MB"}
"""The outputs a screening can rank for (paths into a runtime's ``compare --json`` summary)
and their units."""

STEADY_STATE_FREE = ("pod_startup", "batch_seconds")
"""Outputs the steady-state window after the last pod settles cannot change: their screenings
skip it (``simulation.steadyStateSeconds`` = 0), which saves a third of the time."""

_DIST_KEYS = ("medianMs", "p90Ms", "ms", "meanMs")


@dataclass(frozen=True)
class Parameter:
    """One ASSUMPTION default, varied as a factor on its value."""

    name: str  # dotted scenario path, or "process: step name" for a chain step
    where: str  # the file and section (scenario) or the chain and its operations (step)
    kind: str  # "value" | "dist" | "step"
    path: tuple[str, ...]  # scenario keys ("*": every list item), or (step name,)
    default: str
    why: str
    upper: float | None = None  # the field's upper bound: values are clipped to it
    integer: bool = False

    def span(self, low: float, high: float) -> str:
        """The values the range covers, as text."""
        clip = f" (≤ {self.upper:g})" if self.upper is not None else ""
        return f"×{low:g}-×{high:g}" + (" service" if self.kind == "step" else clip)


@dataclass(frozen=True)
class Skipped:
    name: str
    where: str
    reason: str


# --------------------------------------------------------------------------- the registry


def _walk(model: BaseModel, prefix: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], FieldInfo, Any, type]]:
    """(path, field, value, owning model class) of every ASSUMPTION field under ``model``."""
    for name, info in type(model).model_fields.items():
        value, path = getattr(model, name), prefix + (name,)
        if (info.description or "").startswith("ASSUMPTION"):
            yield path, info, value, type(model)
        elif isinstance(value, BaseModel):
            yield from _walk(value, path)
        elif isinstance(value, (list, tuple, dict)):
            for item in (value.values() if isinstance(value, dict) else value):
                if isinstance(item, BaseModel):
                    yield from _walk(item, path + ("*",))


def _num(v: float) -> str:
    return f"{v:.4g}"


def _dist_text(d: dict) -> str:
    if "medianMs" in d:
        return f"median {_num(d['medianMs'])} ms, p90 {_num(d['p90Ms'])} ms"
    if "meanMs" in d:
        return f"mean {_num(d['meanMs'])} ms"
    return f"{_num(d['ms'])} ms"


def _upper(info: FieldInfo) -> float | None:
    for m in info.metadata:
        if getattr(m, "le", None) is not None:
            return float(m.le)
        if getattr(m, "lt", None) is not None:
            return float(m.lt) * (1 - 1e-9)
    return None


def scenario_parameters(scenario: Scenario) -> tuple[list[Parameter], list[Skipped]]:
    """The scenario's ASSUMPTION fields it uses, in model order, and those skipped."""
    groups: dict[tuple[str, ...], tuple[FieldInfo, list[Any], type]] = {}
    for path, info, value, owner in _walk(scenario, ()):
        groups.setdefault(path, (info, [], owner))[1].append(value)
    params, skipped = [], []
    for path, (info, values, owner) in groups.items():
        name = ".".join(path).replace(".*", "[*]")
        where = f"scenario · config/{owner.__module__.rsplit('.', 1)[-1]}.py"
        why = (info.description or "").removeprefix("ASSUMPTION:").strip()
        values = [v for v in values if v is not None]
        if values and all(isinstance(v, BaseModel) for v in values):
            dumps = [v.model_dump() for v in values]
            if all(d.get(k, 0) == 0 for d in dumps for k in _DIST_KEYS if k in d):
                skipped.append(Skipped(name, where, "default 0: a factor changes nothing"))
                continue
            texts = sorted({_dist_text(d) for d in dumps})
            params.append(Parameter(name, where, "dist", path, texts[0] if len(texts) == 1 else "various", why))
        elif values and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
            if all(v == 0 for v in values):
                skipped.append(Skipped(name, where, "default 0: a factor changes nothing"))
                continue
            lo, hi = min(values), max(values)
            text = _num(lo) if lo == hi else f"{_num(lo)}-{_num(hi)}"
            params.append(Parameter(name, where, "value", path, text, why, _upper(info),
                                    all(isinstance(v, int) for v in values)))
        else:
            reason = "not used by this scenario" if not values else "not a number"
            skipped.append(Skipped(name, where, reason))
    return params, skipped


def _iter_raw_steps(steps: list[dict]) -> Iterator[dict]:
    for s in steps:
        yield s
        yield from _iter_raw_steps(s.get("calls") or [])


def _assumption_steps(data: dict, unreached: frozenset[str] = frozenset()) -> dict[str, list[tuple[str, dict]]]:
    """Step name -> [(operation, step data)] of the chain's steps whose source says ASSUMPTION."""
    out: dict[str, list[tuple[str, dict]]] = {}
    for op, body in data["operations"].items():
        for s in _iter_raw_steps(body["steps"] if op not in unreached else []):
            if "ASSUMPTION" in s.get("source", ""):
                out.setdefault(s["name"], []).append((op, s))
    return out


def chain_parameters(chain: Chain, unreached: frozenset[str] = frozenset()) -> tuple[list[Parameter], list[Skipped]]:
    """One parameter per name of the chain's ASSUMPTION steps of operations not ``unreached``."""
    params, skipped = [], []
    for step, hits in _assumption_steps(chain.model_dump(mode="json"), unreached).items():
        ops = list(dict.fromkeys(op for op, _ in hits))
        where = f"chain {chain.name} · {', '.join(ops[:3])}{' ...' if len(ops) > 3 else ''}"
        procs = "/".join(dict.fromkeys(s["process"] for _, s in hits))
        name = f"{procs}: {step}"
        services = [s["service"] for _, s in hits if s.get("service")]
        per_item = [s["perItem"]["ms"] for _, s in hits if s.get("perItem")]
        if not any(d.get(k) for d in services for k in _DIST_KEYS) and not any(per_item):
            skipped.append(Skipped(name, where, "no service time: a factor changes nothing"))
            continue
        texts = sorted({_dist_text(d) for d in services}) or ["per item only"]
        default = texts[0] if len(texts) == 1 else f"{texts[0]} (+{len(texts) - 1} more)"
        if per_item:
            default += f"; +{_num(max(per_item))} ms per item"
        why = next(s["source"] for _, s in hits)
        params.append(Parameter(name, where, "step", (step,), default, why))
    return params, skipped


def parameters(scenario: Scenario, chain: Chain) -> tuple[list[Parameter], list[Skipped]]:
    """Every ASSUMPTION default a run of ``scenario`` on ``chain`` reaches, and those skipped."""
    sp, ss = scenario_parameters(scenario)
    unreached = frozenset() if scenario_has_logs(scenario) else frozenset({"reopen_container_log"})
    cp, cs = chain_parameters(chain, unreached)
    return sp + cp, ss + cs


# --------------------------------------------------------------------------- varying


def _scale_dist(d: dict, f: float) -> None:
    for k in _DIST_KEYS:
        if k in d:
            d[k] = d[k] * f


def _set_path(node: Any, path: Sequence[str], p: Parameter, f: float) -> None:
    head, rest = path[0], path[1:]
    if head == "*":
        for item in (node.values() if isinstance(node, dict) else node):
            _set_path(item, rest, p, f)
        return
    if not rest:
        if node.get(head) is None:
            return
        if p.kind == "dist":
            _scale_dist(node[head], f)
        else:
            v = node[head] * f
            v = min(v, p.upper) if p.upper is not None else v
            node[head] = round(v) if p.integer else v
        return
    _set_path(node[head], rest, p, f)


def vary(scenario_data: dict, chain_data: dict, params: Sequence[Parameter],
         factors: Sequence[float]) -> tuple[Scenario, Chain]:
    """The scenario and chain (as dumped by ``model_dump(mode="json")``) with each parameter
    multiplied by its factor, validated."""
    sc, ch = copy.deepcopy(scenario_data), copy.deepcopy(chain_data)
    steps = _assumption_steps(ch)
    for p, f in zip(params, factors):
        if p.kind == "step":
            for _, s in steps[p.path[0]]:
                if s.get("service"):
                    _scale_dist(s["service"], f)
                if s.get("perItem"):
                    s["perItem"]["ms"] *= f
        else:
            _set_path(sc, p.path, p, f)
    return Scenario.model_validate(sc), Chain.model_validate(ch)


# --------------------------------------------------------------------------- the screening


def parse_range(text: str) -> tuple[float, float]:
    """``"0.5,2"`` -> (0.5, 2.0): the factor range, 0 < low < high."""
    try:
        low, high = (float(x) for x in text.split(","))
    except ValueError:
        raise ConfigError(f"--range {text!r}: expected two factors LOW,HIGH, e.g. 0.5,2") from None
    if not (0 < low < high and math.isfinite(high)):
        raise ConfigError(f"--range {text!r}: the factors must be finite with 0 < LOW < HIGH, "
                          "e.g. 0.5,2 (each default times 0.5 up to times 2)")
    return low, high


def output_value(doc: dict, output: str) -> float:
    """The output ``output`` (a dotted path into a runtime's summary) of ``doc``."""
    value: Any = doc
    for key in output.split("."):
        value = value.get(key) if isinstance(value, dict) else None
    if value is None:
        raise ConfigError(f"output {output!r} is undefined for a run of the design (no pod reached "
                          "Running?); narrow --range or choose another output")
    return float(value)


def check_design(output: str, low: float, high: float, trajectories: int, levels: int) -> str:
    """The unit of ``output``, or a ConfigError if the output or the design is not possible."""
    if output not in OUTPUTS:
        raise ConfigError(f"--output {output!r} is not an output sensitivity can rank for"
                          f"{did_you_mean(output, list(OUTPUTS))}; allowed: {', '.join(OUTPUTS)}")
    if not (0 < low < high):
        raise ConfigError(f"range {low:g},{high:g}: need 0 < low < high")
    if trajectories < 2 or levels < 2 or levels % 2:
        raise ConfigError(f"--trajectories {trajectories}, --levels {levels}: Morris needs at least 2 "
                          "trajectories and an even number of levels, at least 2")
    return OUTPUTS[output]


def _trajectory(job: tuple) -> list[float]:
    scenario_data, chain_data, params, rows, seed, output = job
    out = []
    for row in rows:
        scenario, chain = vary(scenario_data, chain_data, params, np.exp(row))
        run = simulate(scenario, chain, seed)
        out.append(output_value(summarize_runtime([run], scenario, run.runtime), output))
    return out


@dataclass
class Sensitivity:
    """A screening's results: ``table`` has one row per runtime and parameter (rank 1 = the
    largest μ*), ``skipped`` the ASSUMPTION defaults left out and why."""

    scenario: str
    output: str
    unit: str
    low: float
    high: float
    trajectories: int
    levels: int
    seed: int
    runs: int
    table: pd.DataFrame
    skipped: pd.DataFrame
    baseline: dict[str, float] = field(default_factory=dict)  # the output at the defaults
    steady_state_skipped: bool = False  # STEADY_STATE_FREE output: no steady-state window run
    seconds: float = 0.0

    @property
    def method(self) -> str:
        return (f"Morris elementary effects (SALib), {self.trajectories} trajectories on a "
                f"{self.levels}-level grid; each factor log-uniform from ×{self.low:g} to "
                f"×{self.high:g} of its default; same seed {self.seed} for every run")

    def to_dict(self) -> dict:
        return {"scenario": self.scenario, "output": self.output, "unit": self.unit,
                "range": [self.low, self.high], "distribution": "log-uniform factor on the default",
                "method": self.method, "trajectories": self.trajectories, "levels": self.levels,
                "seed": self.seed, "runs": self.runs, "baseline": self.baseline,
                "steady_state_skipped": self.steady_state_skipped,
                "mu_star_means": f"mean |change of {self.output}| ({self.unit}) when a factor swings "
                                 f"from ×{self.low:g} to ×{self.high:g}",
                "parameters": self.table.to_dict(orient="records"),
                "skipped": self.skipped.to_dict(orient="records")}


def morris(scenario: Scenario, runtimes: Sequence[str] | None = None, output: str = "pod_startup_seconds.p50",
           low: float = 0.5, high: float = 2.0, trajectories: int = 10, levels: int = 4,
           seed: int = 1, workers: int = 1, only: Sequence[str] = (),
           announce: Callable[[int, int], object] | None = None, progress: Callable[[], object] | None = None) -> Sensitivity:
    """Rank every ASSUMPTION default (or those whose name starts with one of ``only``) by its
    Morris μ* on ``output``, for each runtime; ``announce(runs, jobs)`` is called once the design
    is made, before the runs, and ``progress()`` after each job (a trajectory, or a baseline)."""
    from SALib.analyze import morris as analyze
    from SALib.sample import morris as sample

    unit = check_design(output, low, high, trajectories, levels)
    names = [r for r in (runtimes or scenario.runtimes) if r != POOLS]
    if not names:
        raise ConfigError("sensitivity needs a runtime to run (a chain name, not 'pools')")
    version = parse_kubernetes_version(scenario.kubernetesVersion)
    started = time.monotonic()
    scenario_data = scenario.model_dump(mode="json")
    if output.startswith(STEADY_STATE_FREE):
        # the window after the last pod settles only measures steady-state CPU and memory
        scenario_data["simulation"]["steadyStateSeconds"] = 0.0
    plans: list[tuple] = []
    jobs: list[tuple] = []
    for rt in names:
        chain, _note = resolve_chain(rt, version)
        params, skipped = parameters(scenario, chain)
        params = [p for p in params if not only or p.name.startswith(tuple(only))]
        if not params:
            raise ConfigError(f"no ASSUMPTION default of {rt} starts with {', '.join(only)}")
        problem = {"num_vars": len(params), "names": [p.name for p in params],
                   "bounds": [[math.log(low), math.log(high)]] * len(params)}
        X = sample.sample(problem, trajectories, num_levels=levels, seed=seed)
        chain_data = chain.model_dump(mode="json")
        first = len(jobs)
        jobs.append((scenario_data, chain_data, tuple(params), np.zeros((1, len(params))), seed, output))
        jobs += [(scenario_data, chain_data, tuple(params), X[t * (len(params) + 1):(t + 1) * (len(params) + 1)],
                  seed, output) for t in range(trajectories)]
        plans.append((rt, chain, params, skipped, problem, X, first))
    if announce is not None:
        announce(sum(len(j[3]) for j in jobs), len(jobs))
    results = map_jobs(_trajectory, jobs, workers, progress)
    rows, skip_rows, baseline = [], [], {}
    for rt, chain, params, skipped, problem, X, first in plans:
        baseline[rt] = results[first][0]
        Y = np.array([y for r in results[first + 1:first + 1 + trajectories] for y in r])
        res = analyze.analyze(problem, X, Y, num_levels=levels, seed=seed)
        order = np.argsort(-np.asarray(res["mu_star"]), kind="stable")
        for rank, i in enumerate(order, start=1):
            p = params[i]
            rows.append({"runtime": rt, "chain": chain.name, "rank": rank, "parameter": p.name,
                         "where": p.where, "default": p.default, "range": p.span(low, high),
                         "mu_star": float(res["mu_star"][i]), "mu_star_conf": float(res["mu_star_conf"][i]),
                         "sigma": float(res["sigma"][i]), "mu": float(res["mu"][i]), "unit": unit,
                         "why": p.why})
        skip_rows += [{"runtime": rt, **asdict(s)} for s in skipped]
    table = pd.DataFrame(rows)
    return Sensitivity(scenario.name, output, unit, low, high, trajectories, levels, seed,
                       runs=sum(len(j[3]) for j in jobs), table=table,
                       skipped=pd.DataFrame(skip_rows, columns=["runtime", "name", "where", "reason"]),
                       baseline=baseline, steady_state_skipped=output.startswith(STEADY_STATE_FREE),
                       seconds=time.monotonic() - started)
