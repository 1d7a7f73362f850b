"""Reading chains: built-in names and chain files, ``base:`` merged in, ``stepOverrides:``
applied (a plain step name edits that step in every operation, ``"<operation>/<step name>"`` in
one), the family's chain for a Kubernetes release (``resolve_chain``)."""

from __future__ import annotations

import copy
from functools import lru_cache
from pathlib import Path
from typing import Optional

from pydantic import ValidationError

from ..errors import ConfigError, did_you_mean, format_validation_error, named, shown
from ..safe_load import load_document
from .schema import ALL_OPERATIONS, Chain
from .streaming import KIND_OPERATIONS

__all__ = ["CHAIN_DIR", "load_chain", "chain_from_data", "known_chains", "is_chain_file", "resolve_chain"]

CHAIN_DIR = Path(__file__).resolve().parent


def _merge(base: dict, child: dict) -> dict:
    out = copy.deepcopy(base)
    for key, value in child.items():
        if key in ("processes", "operations", "streaming") and isinstance(value, dict):
            merged = dict(out.get(key) or {})  # streaming: its server and each kind replaced whole
            merged.update(value)
            out[key] = merged
        else:
            out[key] = value
    return out


def _rename_process(data: dict, old: str, new: str) -> None:
    def walk(steps):
        for s in steps:
            if s.get("process") == old:
                s["process"] = new
            walk(s.get("calls", []))

    for steps in _step_lists(data):
        walk(steps)
    if data.get("cniCaller") == old:
        data["cniCaller"] = new
    streaming = data.get("streaming") or {}
    if (streaming.get("server") or {}).get("process") == old:
        streaming["server"]["process"] = new
    for kind in streaming.values():
        for hop in (kind.get("data") or []) if isinstance(kind, dict) else []:
            if hop.get("process") == old:
                hop["process"] = new


def _step_lists(data: dict, operation: Optional[str] = None) -> list[list]:
    """The top-level step lists of every operation (or of ``operation``): the CRI operations'
    and the stream sessions' (``streaming:``; chains/streaming.py ``KIND_OPERATIONS``)."""
    out = [(name, op.get("steps", [])) for name, op in data.get("operations", {}).items()]
    for kind, names in KIND_OPERATIONS.items():
        spec = (data.get("streaming") or {}).get(kind) or {}
        out += [(name, spec.get(phase) or []) for name, phase in zip(names, ("request", "connect", "close"))]
    return [steps for name, steps in out if operation is None or name == operation]


def _split_scope(key: str) -> tuple[Optional[str], str]:
    """``"start_container/POST /containers/{id}/start"`` -> (operation, step name); a key whose
    part before the first ``/`` is not an operation name is a plain step name."""
    head, sep, rest = key.partition("/")
    if sep and head in ALL_OPERATIONS and rest:
        return head, rest
    return None, key


def _apply_step_overrides(data: dict, overrides: dict, source: str) -> None:
    """``stepOverrides: {step name: {field: value}}`` edits every step of that name, in every
    operation; a key ``"<operation>/<step name>"`` edits that step in that operation only
    (applied after the plain names, so it wins where both apply)."""
    if not isinstance(overrides, dict):
        raise ConfigError(f"chain {source!r}: stepOverrides must map step names to fields")
    hits = {key: 0 for key in overrides}
    scoped = {key: _split_scope(key) for key in overrides}
    operations = data.get("operations", {})
    if any(op is not None for op, _ in scoped.values()):
        # YAML anchors (&docker_start_calls) make operations share step objects: give each
        # operation its own copy, so that an operation-scoped edit stays in its operation
        for op in operations.values():
            op["steps"] = copy.deepcopy(op.get("steps", []))
        for kind in KIND_OPERATIONS:
            spec = (data.get("streaming") or {}).get(kind) or {}
            for phase in ("request", "connect", "close"):
                if spec.get(phase):
                    spec[phase] = copy.deepcopy(spec[phase])

    def walk(steps, edits: dict[str, tuple[Optional[str], str]]):
        for s in steps:
            key = next((k for k, (_, name) in edits.items() if name == s.get("name")), None)
            if key is not None:
                s.update(copy.deepcopy(overrides[key]))
                hits[key] += 1
            walk(s.get("calls", []), edits)

    plain = {k: v for k, v in scoped.items() if v[0] is None}
    for steps in _step_lists(data):
        walk(steps, plain)
    for op_name in ALL_OPERATIONS:
        mine = {k: v for k, v in scoped.items() if v[0] == op_name}
        if mine:
            for steps in _step_lists(data, op_name):
                walk(steps, mine)
    missing = [n for n, k in hits.items() if k == 0]
    if missing:
        raise ConfigError(f"chain {source!r}: stepOverrides name steps that do not exist: {missing} "
                          "(a key is a step name, or '<operation>/<step name>' for one operation's step)")


def known_chains() -> list[str]:
    return sorted(p.stem for p in CHAIN_DIR.glob("*.yaml"))


def is_chain_file(runtime: str) -> bool:
    return runtime.endswith((".yaml", ".yml"))


def resolve_chain(runtime: str, kubernetes_version: tuple[int, int]) -> tuple[Chain, str]:
    """The chain that runs for ``runtime`` on a node of ``kubernetes_version``, and a note
    saying why when it is not the chain of that name.

    A chain file, or a built-in chain named by its era (``dockershim-1.10``), runs as named. A
    runtime family's name (``dockershim``, ``containerd``) picks the family's chain whose
    ``kubernetes`` range holds the version, so ``dockershim`` on Kubernetes 1.10 runs Docker
    18.03's chain. Refused: the in-tree dockershim on Kubernetes 1.24 or later."""
    chain = load_chain(runtime)
    version = ".".join(map(str, kubernetes_version))
    if chain.family == "dockershim" and kubernetes_version >= (1, 24):
        raise ConfigError(f"runtime {runtime!r}: the in-tree dockershim was removed in Kubernetes 1.24 "
                          f"(KEP-2221) and kubernetesVersion is {version}; use cri-dockerd, or a "
                          "kubernetesVersion of 1.23 or earlier")
    if is_chain_file(runtime) or chain.kubernetes is None or chain.kubernetes.contains(kubernetes_version):
        return chain, ""
    if runtime == chain.family:
        for name in known_chains():
            other = load_chain(name)
            if (other.family == chain.family and other.autoSelect and other.kubernetes is not None
                    and other.kubernetes.contains(kubernetes_version)):
                return other, (f"{runtime} on Kubernetes {version} runs {other.name} ({other.era}): "
                               f"the {runtime} chain represents Kubernetes {chain.kubernetes.text()}")
    return chain, (f"{chain.name} represents Kubernetes {chain.kubernetes.text()} ({chain.era}); "
                   f"the scenario runs {version}, the nearest era the chains have")


def _raw_chain(source: str, seen: tuple = ()) -> dict:
    path = Path(source) if source.endswith((".yaml", ".yml")) else CHAIN_DIR / f"{source}.yaml"
    if not path.exists():
        raise ConfigError(
            f"unknown runtime {named(source)}{did_you_mean(source, known_chains())}; allowed: {', '.join(known_chains())} "
            "or a chain file (.yaml)" + (" (no such file)" if is_chain_file(source) else "")
        )
    data = _read_yaml(str(path), path.stat().st_mtime_ns)
    if not isinstance(data, dict):
        raise ConfigError(f"chain file {named(str(path))} must hold a mapping of chain keys (name:, "
                          f"processes:, operations:...), not {type(data).__name__}")
    return _resolve(data, source, seen)  # _resolve works on a copy


@lru_cache(maxsize=64)
def _read_yaml(path: str, _mtime_ns: int):
    """A chain file's YAML, parsed once per version of the file (callers must not modify it)."""
    return load_document(path, "chain file")


def _resolve(data: dict, source: str, seen: tuple = ()) -> dict:
    """A chain document with its ``base:`` merged in and its ``stepOverrides:`` applied."""
    data = copy.deepcopy(data)
    base = data.get("base")
    if base:
        if base in seen:
            raise ConfigError(f"chain {source!r}: circular base {base!r}")
        base_data = _raw_chain(base, seen + (source,))
        for old, new in (data.pop("renameProcesses", None) or {}).items():
            _rename_process(base_data, old, new)
            base_data["processes"].pop(old, None)
        data = _merge(base_data, data)
        data["base"] = base
    overrides = data.pop("stepOverrides", None)
    if overrides:
        _apply_step_overrides(data, overrides, source)
    return data


def _validated(data: dict, source: str) -> Chain:
    try:
        return Chain.model_validate(data)
    except ValidationError as e:
        raise ConfigError(format_validation_error(e, f"chain {source}", model=Chain)) from None


@lru_cache(maxsize=64)
def load_chain(source: str) -> Chain:
    """A built-in chain by name (``dockershim``...) or a user's chain file (``my-chain.yaml``)."""
    return _validated(_raw_chain(source), source)


def chain_from_data(data: dict, source: str = "<chain data>") -> Chain:
    """A chain from a document held in memory (what a chain file would hold: ``base:``,
    ``stepOverrides:``...), resolved and validated exactly as ``load_chain`` does a file."""
    return _validated(_resolve(data, source), source)
