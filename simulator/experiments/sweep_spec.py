"""What a sweep is: the :class:`SweepSpec` (base scenario, grid, runtimes, replications, seed),
read from a sweep file or built from ``--grid`` strings, validated before any run with
one-paragraph errors. ``sweep.py`` expands and runs it.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any, Mapping, Optional

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from ..chains import known_chains
from ..errors import ConfigError, did_you_mean, format_validation_error, shown
from ..safe_load import load_document, parse_yaml
from .defaults import DEFAULT_REPLICATIONS

__all__ = ["SweepSpec", "sweep_spec", "load_sweep_file", "split_values", "parse_grid", "shown_value"]

_KEY_RE = re.compile(r"[A-Za-z0-9_\-]+(\.[A-Za-z0-9_\-]+)*")
_SCENARIO_SUFFIXES = (".yaml", ".yml", ".toml", ".json")


def shown_value(value: Any) -> str:
    """A value as the user would type it, short enough for a one-paragraph message."""
    return shown(value)


# ----------------------------------------------------------------------------- the spec
class SweepSpec(BaseModel):
    """What to sweep. Field names are the sweep file's keys (and the CLI's flags)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    #: Preset name or scenario file (.yaml/.yml/.toml/.json) the grid is applied to.
    preset: str = "default"
    #: Dotted scenario key -> the values to try, e.g. {"node.cpuCores": [1, 2, 4]}.
    grid: dict[str, list[Any]]
    #: Chains to run every grid point on; None = the scenario's own ``runtimes``.
    runtimes: Optional[list[str]] = None
    replications: int = Field(default=DEFAULT_REPLICATIONS, ge=1)
    seed: int = Field(default=1, ge=0)
    #: Dotted scenario key -> value, applied to the base scenario before the grid.
    overrides: dict[str, Any] = Field(default_factory=dict)

    @field_validator("grid")
    @classmethod
    def _grid_shape(cls, grid: dict[str, list[Any]]) -> dict[str, list[Any]]:
        if not grid:
            raise ValueError("the grid is empty; give at least one key with its values, "
                             "e.g. node.cpuCores: [1, 2, 4]")
        for key, values in grid.items():
            _check_key(key, "grid key")
            if key == "runtimes":
                raise ValueError("'runtimes' cannot be a grid key; list the chains in the "
                                 "sweep's runtimes field instead")
            if not values:
                raise ValueError(f"grid key '{key}' has an empty list of values; give at least one")
            seen: set[str] = set()
            for v in values:
                canon = json.dumps(v, sort_keys=True, default=str)
                if canon in seen:
                    raise ValueError(f"grid key '{key}' lists the value {shown_value(v)} twice; "
                                     "each value may appear once")
                seen.add(canon)
        return grid

    @field_validator("overrides")
    @classmethod
    def _override_keys(cls, overrides: dict[str, Any]) -> dict[str, Any]:
        for key in overrides:
            _check_key(key, "override key")
        return overrides

    @field_validator("runtimes")
    @classmethod
    def _runtimes_known(cls, runtimes: Optional[list[str]]) -> Optional[list[str]]:
        if runtimes is None:
            return None
        if not runtimes:
            raise ValueError("the list of runtimes is empty; name at least one "
                             f"(allowed: {', '.join(known_chains())} or a chain file .yaml)")
        for rt in runtimes:
            if rt not in known_chains() and not rt.endswith((".yaml", ".yml")):
                raise ValueError(f"unknown runtime {rt!r}{did_you_mean(rt, known_chains())}; allowed: {', '.join(known_chains())} "
                                 "or a chain file (.yaml)")
            if runtimes.count(rt) > 1:
                raise ValueError(f"runtime {rt!r} is listed twice; each runtime may appear once")
        return runtimes

    @model_validator(mode="after")
    def _grid_and_overrides_apart(self) -> "SweepSpec":
        both = [k for k in self.grid if k in self.overrides]
        if both:
            raise ValueError(f"key(s) {', '.join(both)} are both in the grid and in overrides; "
                             "a key is either fixed (overrides) or swept (grid)")
        return self


def _check_key(key: str, what: str) -> None:
    if not _KEY_RE.fullmatch(key):
        raise ValueError(f"{what} {key!r} is not a dotted scenario key such as kubelet.kubeAPIQPS")


def sweep_spec(data: Mapping[str, Any], where: str = "sweep") -> SweepSpec:
    """A validated :class:`SweepSpec` from a mapping; bad input raises :class:`ConfigError`."""
    try:
        return SweepSpec.model_validate(dict(data))
    except ValidationError as e:
        raise ConfigError(format_validation_error(e, where, model=SweepSpec)) from None


def load_sweep_file(path: str | Path) -> SweepSpec:
    """A sweep file: YAML with the :class:`SweepSpec` fields, e.g.::

        preset: default
        overrides: {workload.pods: 20}
        grid:
          node.cpuCores: [1, 2, 4]
          kubelet.kubeAPIQPS: [5, 50]
        runtimes: [dockershim, containerd]
        replications: 3
        seed: 1

    Relative paths of a scenario file (``preset``) or chain files (``runtimes``) are relative to
    the sweep file's folder.
    """
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"sweep file {str(p)!r} does not exist")
    # the one input boundary: size, encoding, aliases, repeated keys, non-finite numbers
    data = load_document(p, "sweep file")
    if not isinstance(data, dict):
        raise ConfigError(f"sweep file {str(p)!r} must hold a mapping of the sweep fields "
                          "(preset, grid, runtimes, replications, seed, overrides)")

    def near_file(value: Any, suffixes: tuple[str, ...]) -> Any:
        if isinstance(value, str) and value.endswith(suffixes) and not os.path.isabs(value):
            return os.path.normpath(os.path.join(os.path.dirname(str(p)), value))
        return value

    if "preset" in data:
        data["preset"] = near_file(data["preset"], _SCENARIO_SUFFIXES)
    if isinstance(data.get("runtimes"), list):
        data["runtimes"] = [near_file(rt, (".yaml", ".yml")) for rt in data["runtimes"]]
    return sweep_spec(data, where=f"sweep file {p.name!r}")


# ----------------------------------------------------------------------------- --grid strings
def split_values(text: str) -> list[str]:
    """Split ``v1,v2,...`` on the commas that are outside brackets, braces and quotes.

    ``1,2,4`` gives three values, ``{sizeMB: 1, layers: 2},{sizeMB: 5}`` two, ``[1, 2]`` one (a
    list), ``'a,b',c`` two. Each piece is then read as YAML, as ``--set`` values are.
    """
    pieces: list[str] = []
    current: list[str] = []
    depth = 0
    quote: Optional[str] = None
    escaped = False
    for ch in text:
        if quote:
            if escaped:
                escaped = False
            elif ch == "\\" and quote == '"':
                escaped = True
            elif ch == quote:
                quote = None
        elif ch in "'\"":
            quote = ch
        elif ch in "[{":
            depth += 1
        elif ch in "]}":
            depth -= 1
            if depth < 0:
                raise ConfigError(f"values {text!r}: '{ch}' closes a bracket that was never opened")
        elif ch == "," and depth == 0:
            pieces.append("".join(current))
            current = []
            continue
        current.append(ch)
    if quote or depth:
        raise ConfigError(f"values {text!r}: an unclosed {'quote' if quote else 'bracket or brace'}")
    pieces.append("".join(current))
    return pieces


def parse_grid(texts: list[str]) -> dict[str, list[Any]]:
    """``["node.cpuCores=1,2,4", "kubelet.kubeAPIQPS=5,50"]`` -> the ``grid`` mapping."""
    grid: dict[str, list[Any]] = {}
    for text in texts:
        key, sep, raw = text.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ConfigError(f"--grid {text!r} must look like key.path=v1,v2,... "
                              "e.g. --grid node.cpuCores=1,2,4")
        if key in grid:
            raise ConfigError(f"--grid key '{key}' is given twice; give all its values in one "
                              f"--grid {key}=v1,v2,...")
        values = []
        for piece in split_values(raw):
            if not piece.strip():
                raise ConfigError(f"--grid {text!r}: an empty value; separate values with single "
                                  "commas, e.g. --grid node.cpuCores=1,2,4")
            values.append(parse_yaml(piece, f"--grid key '{key}' value {shown(piece)}"))
        grid[key] = values
    return grid
