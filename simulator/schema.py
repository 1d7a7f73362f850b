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
from pydantic.functional_validators import AfterValidator, BeforeValidator

__all__ = [
    "StrictModel",
    "Dist",
    "ConstantDist",
    "ExponentialDist",
    "LognormalDist",
    "Duration",
    "NonNeg",
    "Pos",
    "Seconds",
    "PosSeconds",
    "Ms",
    "PosMs",
    "MAX_SECONDS",
    "MIN_RATE",
    "Rate",
    "MIN_QPS",
    "Qps",
    "QpsOrUnlimited",
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


# --------------------------------------------------------------------------- ranges
# The longest simulated span: no horizon, delay, duration or service time may exceed it
# (issue 11: "horizons <= 30 days"); longer spans only ever came from typos and made runs hang.
MAX_SECONDS = 30 * 86400.0
# The slowest rate of arrivals or faults: below one per MAX_SECONDS nothing happens within the
# longest run, so a smaller value is a typo (1e-300), not a scenario.
MIN_RATE = 1.0 / MAX_SECONDS


def _span(seconds: float) -> float:
    if seconds > MAX_SECONDS:
        raise ValueError(f"must be at most {MAX_SECONDS:.0f} seconds (30 days), the longest span "
                         "kubesim simulates")
    return seconds


def _span_ms(ms: float) -> float:
    if ms > MAX_SECONDS * 1000:
        raise ValueError(f"must be at most {MAX_SECONDS * 1000:.0f} ms (30 days), the longest span "
                         "kubesim simulates")
    return ms


def _rate(per_second: float) -> float:
    if per_second < MIN_RATE:
        raise ValueError(f"must be at least {MIN_RATE:.3g} per second (one per 30 days, the longest "
                         "span kubesim simulates); a slower rate would never fire")
    return per_second


# The smallest client rate (QPS) accepted. The kubelet reads kubeAPIQPS (and registryPullQPS,
# eventRecordQPS) as an int32 (k8s.io/kubelet/config/v1beta1 types.go), so the smallest rate a
# real kubelet can be given is 1; fractions down to 0.01 (one request per 100 s) are accepted for
# what-if studies. ASSUMPTION: below that one request outlasts any scenario's start-up phase and
# a value such as 1e-300 is a typo (it made runs wait 1e300 s for a token).
MIN_QPS = 0.01
def _qps(v: float) -> float:
    if v < MIN_QPS:
        raise ValueError(f"must be at least {MIN_QPS} requests per second (the kubelet reads it as a "
                         "whole number, so 1 is the smallest a real kubelet takes)")
    return v


def _qps_or_unlimited(v: float) -> float:
    if 0 < v < MIN_QPS:
        raise ValueError(f"must be 0 (no limit) or at least {MIN_QPS} requests per second (the kubelet "
                         "reads it as a whole number)")
    return v


Qps = Annotated[float, Field(gt=0), AfterValidator(_qps)]
QpsOrUnlimited = Annotated[float, Field(ge=0), AfterValidator(_qps_or_unlimited)]


# Every float of every schema is finite (StrictModel: allow_inf_nan=False); these add ranges.
Duration = Annotated[float, BeforeValidator(parse_duration), AfterValidator(_span)]
NonNeg = Annotated[float, Field(ge=0)]
Pos = Annotated[float, Field(gt=0)]
Seconds = Annotated[float, Field(ge=0), AfterValidator(_span)]
PosSeconds = Annotated[float, Field(gt=0), AfterValidator(_span)]
Ms = Annotated[float, Field(ge=0), AfterValidator(_span_ms)]
PosMs = Annotated[float, Field(gt=0), AfterValidator(_span_ms)]
Rate = Annotated[float, Field(gt=0), AfterValidator(_rate)]


class StrictModel(BaseModel):
    """Every key typed, every unknown key refused, defaults validated too, every number finite
    (``inf`` and ``nan`` refused: YAML's ``.inf`` would otherwise pass any lower bound)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, validate_default=True,
                              allow_inf_nan=False)


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
    ms: Ms


class ExponentialDist(StrictModel):
    """Exponential with the given mean (memoryless; used for queueing validation)."""

    dist: Literal["exponential"] = "exponential"
    meanMs: PosMs


class LognormalDist(StrictModel):
    """Log-normal given by its median and 90th percentile, the two quantiles that kubelet
    metrics (summaries and histograms) report; p90 must be at least the median."""

    dist: Literal["lognormal"] = "lognormal"
    medianMs: PosMs
    p90Ms: PosMs

    @model_validator(mode="after")
    def _p90_above_median(self) -> "LognormalDist":
        if self.p90Ms < self.medianMs:
            raise ValueError(
                f"p90Ms ({self.p90Ms}) must be at least medianMs ({self.medianMs})"
            )
        if self.medianMs < MIN_MEDIAN_MS:
            raise ValueError(f"medianMs ({self.medianMs:g}) must be at least {MIN_MEDIAN_MS:g} ms (1 us)")
        if self.p90Ms > MAX_SPREAD * self.medianMs:
            raise ValueError(f"p90Ms ({self.p90Ms:g}) must be at most {MAX_SPREAD:g} x medianMs "
                             f"({self.medianMs:g}); a wider spread draws times beyond any horizon")
        return self


# ASSUMPTION: the shipped chains' and presets' widest spread is p90 = 6.7 x median and their
# smallest median 0.05 ms; these bounds (150x and 50x room) keep every draw
# exp(mu + sigma z) finite.
MAX_SPREAD = 1000.0
MIN_MEDIAN_MS = 0.001


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
