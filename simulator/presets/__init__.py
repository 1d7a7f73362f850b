"""Presets: scenario files shipped with the package (copy one to start your own).

Each preset is a YAML file in this folder; ``kubesim presets`` lists them with their one-line
description. Presets named after published experiments are configured from the experiment's
setup and its era's defaults only, never tuned to its published outcome.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import ConfigError, did_you_mean, named
from ..safe_load import load_document

__all__ = ["PRESET_DIR", "preset_names", "preset_data", "preset_path"]

PRESET_DIR = Path(__file__).resolve().parent


def preset_names() -> list[str]:
    return sorted(p.stem for p in PRESET_DIR.glob("*.yaml"))


def preset_path(name: str) -> Path:
    p = PRESET_DIR / f"{name}.yaml"
    if name not in preset_names():  # a name, never a path (../chains/crio is not a preset)
        raise ConfigError(
            f"unknown preset {named(name)}{did_you_mean(name, preset_names())}; available presets: {', '.join(preset_names())} "
            "(or give a path to a .yaml/.toml scenario file)"
        )
    return p


def preset_data(name: str) -> dict:
    data = load_document(preset_path(name), "preset")
    if not isinstance(data, dict):
        raise ConfigError(f"preset {name!r} must hold a mapping of scenario keys")
    return data
