"""Where a scenario comes from and where it meets the chains.

A scenario is read from a preset, a YAML/TOML/JSON file or a dict, with ``--set``-style dotted
overrides applied first; it is validated by the schema (``simulator.config.scenario``), then
checked against the chains it names (``check_against_chains``): every runtime must be a known
chain or a chain file, and a fault naming a step, process or operation no chain of the run has
is refused, because it would silently never fire.
"""

from __future__ import annotations

import copy
import json
import os
import re
from pathlib import Path
from typing import Any, Iterable

from pydantic import ValidationError

from ..chains import ALL_OPERATIONS, iter_steps, known_chains, resolve_chain
from ..errors import ConfigError, did_you_mean, format_validation_error, named, shown
from ..presets import preset_data
from ..safe_load import YamlSyntaxError, load_document, parse_yaml
from ..schema import parse_kubernetes_version
from .scenario import Scenario
from .streams import check_streams_against_chain

__all__ = [
    "apply_overrides",
    "check_against_chains",
    "check_fault_targets",
    "load_scenario",
    "parse_override",
    "read_scenario_file",
    "scenario_from_dict",
]


def _set_dotted(data: dict, dotted: str, value: Any) -> None:
    parts = dotted.split(".")
    cur: Any = data
    for i, p in enumerate(parts[:-1]):
        if isinstance(cur, list):
            try:
                cur = cur[int(p)]
                continue
            except (ValueError, IndexError):
                raise ConfigError(f"override '{dotted}': '{p}' is not a valid list index") from None
        if not isinstance(cur, dict):
            raise ConfigError(
                f"override '{dotted}': '{'.'.join(parts[:i])}' is a value, not a section"
            )
        cur = cur.setdefault(p, {})
    last = parts[-1]
    if isinstance(cur, list):
        try:
            cur[int(last)] = value
        except (ValueError, IndexError):
            raise ConfigError(f"override '{dotted}': '{last}' is not a valid list index") from None
    elif isinstance(cur, dict):
        cur[last] = value
    else:
        raise ConfigError(f"override '{dotted}': the parent is a value, not a section")


def parse_override(text: str) -> tuple[str, Any]:
    """``kubelet.kubeAPIQPS=60`` -> ('kubelet.kubeAPIQPS', 60). Values are read as YAML."""
    if "=" not in text:
        raise ConfigError(
            f"override {text!r} must look like key.path=value, e.g. kubelet.kubeAPIQPS=60"
        )
    key, raw = text.split("=", 1)
    key = key.strip()
    if not key or not re.fullmatch(r"[A-Za-z0-9_.\-]+", key):
        raise ConfigError(f"override {text!r}: '{key}' is not a dotted key path")
    try:
        value = parse_yaml(raw, f"override {named(text)}") if raw.strip() else ""
    except YamlSyntaxError:
        value = raw  # not YAML: the text itself (a name with a colon, say)
    return key, value


def apply_overrides(data: dict, overrides: list[str] | dict[str, Any] | None) -> dict:
    data = copy.deepcopy(data)
    if not overrides:
        return data
    items = overrides.items() if isinstance(overrides, dict) else map(parse_override, overrides)
    for key, value in items:
        _set_dotted(data, key, value)
    return data


def scenario_from_dict(data: dict, where: str = "scenario", flags: dict[str, str] | None = None) -> Scenario:
    """The validated scenario of ``data``; ``flags`` (dotted key -> the command-line flag that set
    it, e.g. ``--set kubelet.kubeAPIQPS=0``) are named in the error of a field they set."""
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: expected a mapping of keys to values, got {type(data).__name__}")
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as e:
        raise ConfigError(format_validation_error(e, where, flags, model=Scenario)) from None
    return check_against_chains(scenario, where)


def read_scenario_file(path: str | Path) -> dict:
    """A scenario file's mapping, read through the input boundary (``simulator.safe_load``).
    A relative ``workload.traceFile`` is made relative to the file's folder, as a user who keeps
    a scenario and its trace side by side expects (not to the current directory)."""
    p = Path(path)
    data = load_document(p, "scenario file")
    if not isinstance(data, dict):
        raise ConfigError(f"scenario file {named(str(p))} must hold a mapping of scenario keys at the "
                          f"top level (name:, workload:...), not {_kind(data)}")
    workload = data.get("workload")
    if isinstance(workload, dict):
        trace = workload.get("traceFile")
        if isinstance(trace, str) and trace and not os.path.isabs(trace):
            workload["traceFile"] = os.path.normpath(os.path.join(os.path.dirname(str(p)), trace))
    return data


def _kind(value: Any) -> str:
    return {list: "a list", str: "a string", type(None): "nothing (the file is empty)"}.get(
        type(value), f"a {type(value).__name__}")


def load_scenario(source: str | Path | dict, overrides: list[str] | dict | None = None,
                  flags: dict[str, str] | None = None) -> Scenario:
    """A scenario from a preset name, a YAML/TOML/JSON file or a dict, with dotted overrides
    (``flags``: see ``scenario_from_dict``)."""
    if isinstance(source, dict):
        data, where = source, "scenario"
    elif isinstance(source, (str, Path)) and Path(source).suffix in (".yaml", ".yml", ".toml", ".json"):
        data, where = read_scenario_file(source), f"scenario {Path(source).name}"
    else:
        data, where = preset_data(str(source)), f"preset {source}"
    return scenario_from_dict(apply_overrides(data, overrides), where, flags)


def _is_chain_file(name: str) -> bool:
    return name.endswith((".yaml", ".yml"))


def check_against_chains(scenario: Scenario, where: str = "scenario",
                         runtimes: Iterable[str] | None = None) -> Scenario:
    """Check what the scenario names against the chains it will run on: ``runtimes`` (default:
    the scenario's own), the cluster's pool and migration runtimes, and the faults' targets.
    A step of another chain is fine in a mixed cluster, as long as some chain of the run has it."""
    allowed = known_chains()
    names = list(scenario.runtimes if runtimes is None else runtimes)
    for r in names:
        if r not in allowed and r != "pools" and not _is_chain_file(r):
            shown = json.dumps(names)
            shown = shown if len(shown) <= 80 else shown[:77] + "..."
            raise ConfigError(f"{where} field 'runtimes' = {shown}: unknown runtime {r!r}"
                              f"{did_you_mean(r, allowed)}; allowed: {', '.join(allowed)} or a chain file (.yaml).")
    run = set(names) - {"pools"}
    if scenario.cluster is not None:
        rts = [p.runtime for p in scenario.cluster.pools]
        if scenario.cluster.migration:
            rts.append(scenario.cluster.migration.toRuntime)
        for r in rts:
            if r not in allowed and not _is_chain_file(r):
                raise ConfigError(f"{where}: cluster: unknown runtime {r!r}; allowed: {', '.join(allowed)}.")
        run |= set(rts)
    steps: set[str] = set()
    processes: set[str] = set()
    version = parse_kubernetes_version(scenario.kubernetesVersion)
    for n in sorted(run):
        chain, _note = resolve_chain(n, version)
        processes |= set(chain.processes)
        if scenario.streams is not None:
            check_streams_against_chain(scenario.streams, chain, n, where)
        for op_steps in chain.all_operations().values():
            steps |= {st.name for st in iter_steps(op_steps)}
    check_fault_targets(scenario.faults, steps, processes, sorted(run), where)
    return scenario


def check_fault_targets(faults, steps: set[str], processes: set[str], run: list[str],
                        where: str = "scenario") -> None:
    """Refuse a fault whose step or process no chain of the run has (it would never fire)."""
    for i, f in enumerate(faults):
        step = getattr(f, "step", None)
        if step is not None and step not in steps:
            close = sorted(x for x in steps if step.lower() in x.lower())[:5]
            raise ConfigError(f"{where}: faults[{i}].step {step!r} is not a step of {run}"
                              + (f"; did you mean one of {close}?" if close else
                                 "; see `kubesim explain RUNTIME` for step names."))
        proc = getattr(f, "process", None)
        if proc is not None and proc not in processes:
            raise ConfigError(f"{where}: faults[{i}].process {proc!r} is not a process of {run}; "
                              f"processes: {sorted(processes)}.")
        operation = getattr(f, "operation", None)
        if operation is not None and operation not in ALL_OPERATIONS:
            raise ConfigError(f"{where}: faults[{i}].operation {operation!r} is not a CRI operation; "
                              f"allowed: {sorted(ALL_OPERATIONS)}.")
