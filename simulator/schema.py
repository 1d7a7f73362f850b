"""The value types every schema shares: a strict pydantic base model (unknown keys refused),
Go duration strings, and service-time distributions given by the quantiles kubelet metrics
report. The scenario schema (``simulator.config``) and the chain schema (``simulator.chains``)
both build on these.
"""

from __future__ import annotations

import math
import re
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic.functional_validators import BeforeValidator

__all__ = [
    "StrictModel",
    "Dist",
    "ConstantDist",
    "ExponentialDist",
    "LognormalDist",
    "Duration",
    "NonNeg",
    "Pos",
    "parse_duration",
    "format_duration",
    "parse_kubernetes_version",
    "OPT_IN",
    "drop_unused_options",
]


# --------------------------------------------------------------------------- durations
_DUR_RE = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")
_DUR_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_duration(value: Any) -> float:
    """Parse a Go duration string (``2m``, ``1m30s``, ``500ms``) or a number of seconds."""
    if isinstance(value, bool):
        raise ValueError(f"expected a Go duration such as '2m' or '500ms', got {value!r}")
    if isinstance(value, (int, float)):
        seconds = float(value)
    elif isinstance(value, str):
        text = value.strip()
        if text in ("0", "0s"):
            return 0.0
        pos, seconds = 0, 0.0
        for m in _DUR_RE.finditer(text):
            if m.start() != pos:
                break
            seconds += float(m.group(1)) * _DUR_UNITS[m.group(2)]
            pos = m.end()
        if pos != len(text) or not text:
            raise ValueError(
                f"expected a Go duration such as '2m', '1m30s' or '500ms', got {value!r}"
            )
    else:
        raise ValueError(f"expected a Go duration such as '2m' or '500ms', got {value!r}")
    if not math.isfinite(seconds) or seconds < 0:
        raise ValueError(f"a duration must be finite and not negative, got {value!r}")
    return seconds


def format_duration(seconds: float) -> str:
    """Format seconds back as a Go duration string (the form saved with results)."""
    if seconds == 0:
        return "0s"
    if seconds % 3600 == 0:
        return f"{int(seconds // 3600)}h"
    if seconds % 60 == 0:
        return f"{int(seconds // 60)}m"
    if seconds >= 1 and float(seconds).is_integer():
        return f"{int(seconds)}s"
    return f"{round(seconds * 1000, 6):g}ms"


Duration = Annotated[float, BeforeValidator(parse_duration)]
NonNeg = Annotated[float, Field(ge=0)]
Pos = Annotated[float, Field(gt=0)]


class StrictModel(BaseModel):
    """Every key typed, every unknown key refused, defaults validated too."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, validate_default=True)


# Marks a field added for an opt-in feature (``Field(..., json_schema_extra=OPT_IN)``): while it
# holds its default, ``drop_unused_options`` leaves it out of a saved scenario, so the saved
# scenario (and what is keyed or compared on it) of a run that does not use the feature is as
# it was before the feature existed.
OPT_IN: dict = {"optIn": True}


def drop_unused_options(model: BaseModel, data: Any) -> Any:
    """``data`` (``model.model_dump(mode="json")``) without the opt-in fields of ``model`` and
    of the models inside it that hold their defaults."""
    if not isinstance(data, dict):
        return data
    for name, info in type(model).model_fields.items():
        key = name if name in data else info.alias
        if key not in data:
            continue
        value = getattr(model, name)
        extra = info.json_schema_extra
        if isinstance(extra, dict) and extra.get("optIn") and value == info.get_default(call_default_factory=True):
            del data[key]
        elif isinstance(value, BaseModel):
            drop_unused_options(value, data[key])
        elif isinstance(value, (list, tuple)) and isinstance(data[key], list):
            for item, sub in zip(value, data[key]):
                if isinstance(item, BaseModel):
                    drop_unused_options(item, sub)
        elif isinstance(value, dict) and isinstance(data[key], dict):
            for k, item in value.items():
                if isinstance(item, BaseModel) and k in data[key]:
                    drop_unused_options(item, data[key][k])
    return data


# --------------------------------------------------------------------------- distributions
class ConstantDist(StrictModel):
    """Always the same value."""

    dist: Literal["constant"] = "constant"
    ms: NonNeg


class ExponentialDist(StrictModel):
    """Exponential with the given mean (memoryless; used for queueing validation)."""

    dist: Literal["exponential"] = "exponential"
    meanMs: Pos


class LognormalDist(StrictModel):
    """Log-normal given by its median and 90th percentile, the two quantiles that kubelet
    metrics (summaries and histograms) report; p90 must be at least the median."""

    dist: Literal["lognormal"] = "lognormal"
    medianMs: Pos
    p90Ms: Pos

    @model_validator(mode="after")
    def _p90_above_median(self) -> "LognormalDist":
        if self.p90Ms < self.medianMs:
            raise ValueError(
                f"p90Ms ({self.p90Ms}) must be at least medianMs ({self.medianMs})"
            )
        return self


Dist = Annotated[
    Union[ConstantDist, ExponentialDist, LognormalDist], Field(discriminator="dist")
]




# --------------------------------------------------------------------------- versions
_VERSION_RE = re.compile(r"v?(\d+)\.(\d+)(?:\.(\d+))?(?:[-+].*)?")


def parse_kubernetes_version(value: Any) -> tuple[int, int]:
    """``"1.23"``, ``"v1.23.4"`` or ``1.23`` -> (1, 23): the minor release decides behaviour."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        # YAML reads 1.23 as a number: fine; but 1.10 and 1.20 arrive as 1.1 and 1.2
        if not (isinstance(value, float) and re.fullmatch(r"1\.\d\d", repr(value))):
            raise ValueError(f"write the Kubernetes version as a string, e.g. '1.10' (YAML reads "
                             f"1.10 as the number 1.1), got the number {value!r}")
    text = str(value).strip()
    m = _VERSION_RE.fullmatch(text)
    if not m or int(m.group(1)) != 1:
        raise ValueError(f"expected a Kubernetes version such as '1.23' or 'v1.27.3', got {value!r}")
    return int(m.group(1)), int(m.group(2))
