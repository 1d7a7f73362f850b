"""Presets: scenario files shipped with the package (copy one to start your own).

Each preset is a YAML file in this folder; ``kubesim presets`` lists them with their one-line
description. Presets named after published experiments are configured from the experiment's
setup and its era's defaults only, never tuned to its published outcome.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from ..errors import ConfigError

__all__ = ["PRESET_DIR", "preset_names", "preset_data", "preset_path"]

PRESET_DIR = Path(__file__).resolve().parent


def preset_names() -> list[str]:
    return sorted(p.stem for p in PRESET_DIR.glob("*.yaml"))


def preset_path(name: str) -> Path:
    p = PRESET_DIR / f"{name}.yaml"
    if not p.is_file():
        raise ConfigError(
            f"unknown preset {name!r}; available presets: {', '.join(preset_names())} "
            "(or give a path to a .yaml/.toml scenario file)"
        )
    return p


def preset_data(name: str) -> dict:
    data = yaml.safe_load(preset_path(name).read_text(encoding="utf-8"))
    assert isinstance(data, dict), f"preset {name} must be a mapping"
    return data
