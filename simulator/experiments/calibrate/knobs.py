"""What calibration may turn: the steps each measured operation is fitted by, and the chain
overlay (``base:`` + ``stepOverrides:``) a setting of them gives.

* A **Docker call** (``kubelet_docker_operations_*{operation_type}``) is fitted by the dockerd
  steps that make that call (``POST /containers/create`` for ``create_container``...) and the
  steps nested in them (containerd, the shim, runc): one factor scales the medians of the whole
  subtree, so the base chain's split of the call over the hops [I] is kept, and one exponent
  scales their spread (p90 / median).
* A **CRI operation** (``kubelet_runtime_operations_*``) is fitted, given its Docker calls, by
  its remaining steps: time the model lacks is added to the operation's entry step on the
  runtime's side (dockershim's ``RunPodSandbox``...: kubelet- and dockershim-side work the
  Docker metrics do not see); time it has too much of is taken off its own steps (the entry,
  nsenter...), down to 2 % of their base, and only then off its Docker calls, scoped to that
  operation (``"<operation>/<step>"`` overrides): the CRI metric then says this operation's
  Docker calls are faster than the Docker metric's median, which pools them with other
  operations' calls.

A fitted step keeps the CPU time per call of the base chain (``cpuShare`` scaled down when its
latency grows): calibration moves latency, and the time added is counted as waiting.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Iterator, Optional

from ...chains import Chain, Step
from .scrape import OpStat

__all__ = ["DOCKER_CALLS", "StepRef", "Knob", "ChainIndex", "apply_knobs", "overlay_overrides",
           "MIN_FACTOR", "REST_FLOOR"]

# kubelet_docker_operations operation_type -> the Docker Engine API call dockershim makes
# (pkg/kubelet/dockershim/libdocker/instrumented_client.go names each call; kube_docker_client.go
# says which endpoint it hits)
DOCKER_CALLS: dict[str, re.Pattern] = {
    "create_container": re.compile(r"^POST /containers/create\b"),
    "start_container": re.compile(r"^POST /containers/\{id\}/start\b"),
    "stop_container": re.compile(r"^POST /containers/\{id\}/stop\b"),
    "remove_container": re.compile(r"^DELETE /containers/\{id\}"),
    "inspect_container": re.compile(r"^GET /containers/\{id\}/json\b"),
    "list_containers": re.compile(r"^GET /containers/json\b"),
    "inspect_image": re.compile(r"^GET /images/\{[a-z]+\}/json\b"),
    "list_images": re.compile(r"^GET /images/json\b"),
    "pull_image": re.compile(r"^POST /images/create\b"),
    "version": re.compile(r"^GET /version\b"),
    "info": re.compile(r"^GET /info\b"),
}

MIN_MS = 0.001  # a service time must stay positive


@dataclass(frozen=True)
class StepRef:
    operation: str
    name: str


@dataclass
class _Base:
    median: float   # ms
    p90: float      # ms
    cpu: float      # cpuShare


def _service_ms(step: Step) -> Optional[tuple[float, float]]:
    d = step.service
    if d is None:
        return None
    if d.dist == "lognormal":
        return d.medianMs, d.p90Ms
    if d.dist == "constant":
        return max(d.ms, MIN_MS), max(d.ms, MIN_MS)
    return d.meanMs * math.log(2), d.meanMs * math.log(10)


def _walk(steps: list[Step], depth: int = 0, caller: str = "kubelet") -> Iterator[tuple[Step, int, str]]:
    for s in steps:
        yield s, depth, caller
        yield from _walk(s.calls, depth + 1, s.process)


def _subtree(step: Step) -> Iterator[Step]:
    yield step
    for c in step.calls:
        yield from _subtree(c)


class ChainIndex:
    """The base chain's steps by operation, with their base service times."""

    def __init__(self, chain: Chain):
        self.chain = chain
        self.daemon = chain.daemon if chain.daemon == "dockerd" else ""
        self.base: dict[StepRef, _Base] = {}
        for op, spec in chain.operations.items():
            for s, _depth, _caller in _walk(spec.steps):
                ms = _service_ms(s)
                if ms is not None and StepRef(op, s.name) not in self.base:
                    self.base[StepRef(op, s.name)] = _Base(ms[0], ms[1], s.cpuShare)

    def entry(self, op: str) -> Optional[StepRef]:
        """The step where the kubelet's call reaches the runtime (its gRPC server)."""
        steps = self.chain.operations[op].steps
        first = next((s for s in steps if s.transport == "grpc" and s.service is not None), None)
        first = first or next((s for s in steps if s.service is not None), None)
        return StepRef(op, first.name) if first is not None else None

    def docker_steps(self, call: str) -> list[StepRef]:
        """Every step making Docker call ``call`` (a dockerd step reached from outside dockerd),
        with the steps nested in it, in every operation."""
        pattern = DOCKER_CALLS.get(call)
        if not self.daemon or pattern is None:
            return []
        out: list[StepRef] = []
        for op, spec in self.chain.operations.items():
            for s, _depth, caller in _walk(spec.steps):
                if s.process == self.daemon and caller != self.daemon and pattern.match(s.name):
                    out += [StepRef(op, t.name) for t in _subtree(s) if StepRef(op, t.name) in self.base]
        return list(dict.fromkeys(out))

    def docker_call_names(self, call: str) -> set[str]:
        """The names of the dockerd steps that make ``call`` (for measuring the model)."""
        pattern = DOCKER_CALLS.get(call)
        if not self.daemon or pattern is None:
            return set()
        return {s.name for spec in self.chain.operations.values() for s, _d, caller in _walk(spec.steps)
                if s.process == self.daemon and caller != self.daemon and pattern.match(s.name)}

    def op_docker_steps(self, op: str) -> list[StepRef]:
        """The steps of ``op`` that are Docker calls or nested in one."""
        out: list[StepRef] = []
        if self.daemon:
            for s, _depth, caller in _walk(self.chain.operations[op].steps):
                if s.process == self.daemon and caller != self.daemon:
                    out += [StepRef(op, t.name) for t in _subtree(s) if StepRef(op, t.name) in self.base]
        return list(dict.fromkeys(out))

    def op_own_steps(self, op: str) -> list[StepRef]:
        """The steps of ``op`` outside its Docker calls (the kubelet, dockershim, nsenter...)."""
        docker = set(self.op_docker_steps(op))
        return [r for r in self.base if r.operation == op and r not in docker]


REST_FLOOR = 0.02  # a CRI operation's own steps are scaled down to 2 % before its Docker calls are


@dataclass
class Knob:
    """One measured operation and the steps fitted to it.

    A Docker call: ``factor`` scales its steps (``steps``: the call and what it calls). A CRI
    operation: ``added_ms`` goes to its entry step, or, when the model is too slow, ``factor``
    scales its own steps (``steps``: those outside its Docker calls) down to ``REST_FLOOR``, and
    below that ``docker_factor`` scales its Docker calls (``docker_part``, on top of their fit).
    ``spread`` is the exponent on the p90/median of the steps being moved."""

    level: str                  # "docker" or "cri"
    target: OpStat
    steps: list[StepRef]
    docker_part: list[StepRef] = field(default_factory=list)
    entry: Optional[StepRef] = None
    factor: float = 1.0
    docker_factor: float = 1.0
    spread: float = 1.0
    added_ms: float = 0.0
    updates: int = 0

    @property
    def name(self) -> str:
        return f"{self.level}:{self.target.operation}"

    @property
    def floor(self) -> float:
        return REST_FLOOR if self.docker_part else MIN_FACTOR

    @property
    def log_scale(self) -> float:
        """A CRI operation's scale-down as one number (0: not scaled)."""
        return math.log(self.factor) + math.log(self.docker_factor)

    def set_log_scale(self, u: float) -> None:
        u = min(u, 0.0)
        self.factor = max(math.exp(u), self.floor)
        self.docker_factor = min(1.0, math.exp(u) / self.floor) if self.docker_part else 1.0

    def active(self) -> list[StepRef]:
        """The steps the next update moves."""
        if self.level == "docker":
            return self.steps
        if self.log_scale >= 0.0:
            return [self.entry] if self.entry is not None else []
        return self.docker_part if self.docker_factor < 1.0 else self.steps

    def state(self) -> tuple[float, float, float, float]:
        return (self.factor, self.docker_factor, self.spread, self.added_ms)

    def restore(self, state: tuple[float, float, float, float]) -> None:
        self.factor, self.docker_factor, self.spread, self.added_ms = state


MIN_FACTOR = 1e-3


def _lognormal(median: float, ratio: float) -> tuple[float, float]:
    median = max(median, MIN_MS)
    return median, median * max(ratio, 1.0)


def apply_knobs(index: ChainIndex, knobs: list[Knob]) -> dict[StepRef, tuple[float, float, float, list[str]]]:
    """Every step a knob moves: (median ms, p90 ms, cpuShare, the knobs that moved it)."""
    cur: dict[StepRef, list] = {}

    def move(ref: StepRef, knob: Knob, scale: float = 1.0, add: float = 0.0, spread: float = 1.0) -> None:
        if ref not in cur:
            b = index.base[ref]
            cur[ref] = [b.median, b.p90, []]
        c = cur[ref]
        ratio = (c[1] / c[0]) ** spread
        c[0], c[1] = _lognormal(c[0] * scale + add, ratio)
        c[2].append(knob.name)

    # Docker calls first (plain step names: every operation), then the CRI operations given them
    for knob in sorted(knobs, key=lambda k: k.level != "docker"):
        if knob.level == "docker":
            if knob.factor != 1.0 or knob.spread != 1.0:
                for ref in knob.steps:
                    move(ref, knob, scale=knob.factor, spread=knob.spread)
        elif knob.log_scale >= 0.0:
            if knob.entry is not None and (knob.added_ms > 0 or knob.spread != 1.0):
                move(knob.entry, knob, add=knob.added_ms, spread=knob.spread)
        else:
            stage2 = knob.docker_factor < 1.0
            for ref in knob.steps:
                move(ref, knob, scale=knob.factor, spread=1.0 if stage2 else knob.spread)
            if stage2:
                for ref in knob.docker_part:
                    move(ref, knob, scale=knob.docker_factor, spread=knob.spread)
    out = {}
    for ref, (median, p90, by) in cur.items():
        b = index.base[ref]
        cpu = b.cpu * min(1.0, b.median / median)
        out[ref] = (median, p90, cpu, by)
    return out


def _round(x: float) -> float:
    return float(f"{float(x):.4g}")


def overlay_overrides(index: ChainIndex, knobs: list[Knob], file: str) -> dict[str, dict]:
    """``stepOverrides`` for the fitted steps: a plain step name where every operation has the
    same fitted value, ``"<operation>/<step>"`` where operations differ."""
    moved = apply_knobs(index, knobs)
    by_knob = {k.name: k for k in knobs}
    values: dict[str, dict[str, tuple]] = {}
    for ref, (median, p90, cpu, by) in moved.items():
        entry = {"service": {"dist": "lognormal", "medianMs": _round(median), "p90Ms": _round(max(p90, median))},
                 "cpuShare": round(float(cpu), 4)}
        values.setdefault(ref.name, {})[ref.operation] = (entry, tuple(by))
    out: dict[str, dict] = {}
    order = list(dict.fromkeys(r.name for r in index.base))  # the base chain's order
    for name in sorted(values, key=order.index):
        per_op = values[name]
        ops_with_step = [r.operation for r in index.base if r.name == name]
        same = (set(ops_with_step) == set(per_op)
                and len({repr(v) for v in per_op.values()}) == 1)
        keys = [(name, next(iter(per_op.values())))] if same else \
            [(f"{op}/{name}", v) for op, v in per_op.items()]
        for key, (entry, by) in keys:
            out[key] = {**entry, "source": _source(by, by_knob, file)}
    return out


def _source(by: tuple, knobs: dict[str, Knob], file: str) -> str:
    parts = []
    for name in dict.fromkeys(by):
        k = knobs[name]
        if k.level == "docker":
            how = (f"the Docker call's steps scaled x{k.factor:.3g} (spread ^{k.spread:.2f}), keeping "
                   "the base chain's split of the call over the hops [I]")
        elif k.log_scale >= 0.0:
            how = (f"{k.added_ms:.3g} ms added to the operation's entry step: time its Docker calls do not "
                   "account for (kubelet and dockershim side, CNI) [I]")
        elif k.docker_factor < 1.0:
            how = (f"the operation's own steps scaled x{k.factor:.3g} and its Docker calls x{k.docker_factor:.3g}: "
                   "the CRI metric says this operation's Docker calls are faster than the Docker metric's median, "
                   "which pools them with other operations' calls [I]")
        else:
            how = f"the operation's own (non-Docker) steps scaled x{k.factor:.3g} [I]"
        parts.append(f"calibrated to {k.target.cite(file)}: {how}")
    return "; ".join(parts)

