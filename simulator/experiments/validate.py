"""``kubesim validate``: predictions against published experiments.

Each case (``simulator/validation/cases/*.yaml``) is a published experiment's setup as a
scenario (a preset plus the overrides the source's setup implies), the outcome the source
reports with the exact statistic (a value of one chain, a ratio between two chains, or a trend
against a load), and a tolerance stated before any run and argued from the source's precision
(how the value was read, its run-to-run spread). A case passes when the prediction falls inside
the tolerance; a trend also has to have the published shape (increasing, decreasing).

``run_cases`` runs them (replications with independent seeds, the prediction is the mean over
replications), ``results_table`` is one row per case, and failures are reported as they are:
a case outside its tolerance is a finding about the model, never a reason to widen it.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Literal, Optional

import pandas as pd
from pydantic import Field, ValidationError, model_validator

from ..config import load_scenario
from ..errors import ConfigError, format_validation_error
from ..presets import preset_data
from ..safe_load import load_document
from ..schema import StrictModel
from ..validation import CASE_DIR
from .runner import compare

__all__ = ["Case", "load_cases", "run_case", "run_cases", "RESULT_COLUMNS"]


class Source(StrictModel):
    id: str
    citation: str
    url: str
    locator: str
    basis: Literal["R", "F", "I"]


class Setup(StrictModel):
    preset: Optional[str] = None
    set: dict[str, Any] = Field(default_factory=dict)
    runtimes: list[str] = Field(min_length=1)
    notes: str = ""


class Statistic(StrictModel):
    type: Literal["value", "ratio", "trend"]
    metric: str  # a path into the summary of one runtime, e.g. pod_startup_seconds.p99
    load_key: Optional[str] = None
    loads: Optional[list[Any]] = None
    measured: Optional[list[float]] = None
    shape: Optional[Literal["increasing", "decreasing"]] = None


class RatioTolerance(StrictModel):
    measured: float
    relative: Optional[float] = None
    absolute: Optional[float] = None


class Tolerance(StrictModel):
    relative: Optional[float] = None
    absolute: Optional[float] = None
    bound: Literal["both", "upper", "lower"] = "both"
    shape: Optional[Literal["increasing", "decreasing"]] = None
    ratio: Optional[RatioTolerance] = None
    argument: str


class Case(StrictModel):
    name: str
    title: str
    kind: Literal["validation", "calibration"]
    source: Source
    setup: Setup
    statistic: Statistic
    measured: Optional[float] = None
    unit: str
    tolerance: Tolerance
    usable: bool = True
    slow: bool = False
    replications: int = Field(default=3, ge=1)
    calibration_note: str = ""  # for kind calibration: which default this outcome set

    @model_validator(mode="after")
    def _consistent(self) -> "Case":
        st = self.statistic
        if st.type in ("value", "ratio") and self.measured is None:
            raise ValueError(f"case {self.name}: a {st.type} needs 'measured'")
        if st.type == "ratio" and len(self.setup.runtimes) != 2:
            raise ValueError(f"case {self.name}: a ratio needs exactly two runtimes (first / second)")
        if st.type == "trend":
            if not (st.load_key and st.loads and st.measured) or len(st.loads) != len(st.measured):
                raise ValueError(f"case {self.name}: a trend needs load_key, loads and as many measured values")
            if self.tolerance.ratio is None or self.tolerance.shape is None:
                raise ValueError(f"case {self.name}: a trend's tolerance needs shape and ratio")
        elif self.tolerance.relative is None and self.tolerance.absolute is None:
            raise ValueError(f"case {self.name}: the tolerance needs relative or absolute")
        return self


def load_cases(folder: Path = CASE_DIR) -> list[Case]:
    cases = []
    for path in sorted(folder.glob("*.yaml")):
        data = load_document(path, "validation case")
        try:
            case = Case.model_validate(data)
        except ValidationError as e:
            raise ConfigError(format_validation_error(e, f"validation case {path.name}", model=Case)) from None
        if case.name != path.stem:
            raise ConfigError(f"validation case {path.name}: name {case.name!r} must match the file name")
        cases.append(case)
    return cases


def _metric(doc: dict, path: str) -> float:
    cur: Any = doc
    for part in path.split("."):
        cur = cur[part]
    return float("nan") if cur is None else float(cur)


def _predict(case: Case, overrides: dict[str, Any], seed: int) -> list[float]:
    """The metric for each of the case's runtimes, mean over replications."""
    data = preset_data(case.setup.preset or "default")
    # every pool runs the case's runtime (simulate puts it on every node); naming it in the pools
    # too keeps a release without the pools' chain (dockershim after 1.23) a valid scenario
    for pool in (data.get("cluster") or {}).get("pools", []):
        pool["runtime"] = case.setup.runtimes[0]
    scenario = load_scenario(data, {**case.setup.set, **overrides, "runtimes": list(case.setup.runtimes)})
    out = []
    for rt in case.setup.runtimes:
        values = [_metric(compare(scenario, runtimes=[rt], seed=seed + k).summary()["runtimes"][rt],
                          case.statistic.metric) for k in range(case.replications)]
        out.append(sum(values) / len(values))
    return out


def _within(pred: float, meas: float, relative: Optional[float], absolute: Optional[float],
            bound: str = "both") -> bool:
    if math.isnan(pred):
        return False
    diff = pred - meas
    if bound == "upper" and diff <= 0:
        return True
    if bound == "lower" and diff >= 0:
        return True
    limit = absolute if absolute is not None else abs(meas) * (relative or 0.0)
    return abs(diff) <= limit + 1e-12


def run_case(case: Case, seed: int = 1) -> dict[str, Any]:
    """One row of the results table: the prediction, the measurement and the verdict."""
    st, tol = case.statistic, case.tolerance
    row: dict[str, Any] = {"case": case.name, "kind": case.kind, "source": case.source.id,
                           "type": st.type, "metric": st.metric, "unit": case.unit,
                           "runtimes": " / ".join(case.setup.runtimes)}
    if st.type == "trend":
        assert st.loads is not None and st.measured is not None and st.load_key is not None
        assert tol.ratio is not None
        preds = [_predict(case, {st.load_key: load}, seed)[0] for load in st.loads]
        ratio = preds[-1] / preds[0] if preds[0] else float("nan")
        shape_ok = all(b > a for a, b in zip(preds, preds[1:])) if tol.shape == "increasing" else \
            all(b < a for a, b in zip(preds, preds[1:]))
        passed = shape_ok and _within(ratio, tol.ratio.measured, tol.ratio.relative, tol.ratio.absolute)
        row.update(measured=tol.ratio.measured, predicted=ratio, detail=(
            f"{st.load_key} {st.loads}: predicted {[round(p, 3) for p in preds]} "
            f"vs measured {st.measured}; shape {tol.shape}: {'yes' if shape_ok else 'no'}"),
            tolerance=_tolerance_text(tol.ratio.relative, tol.ratio.absolute, "both") + " on the ratio last/first")
    else:
        preds = _predict(case, {}, seed)
        predicted = preds[0] / preds[1] if st.type == "ratio" else preds[0]
        assert case.measured is not None
        passed = _within(predicted, case.measured, tol.relative, tol.absolute, tol.bound)
        row.update(measured=case.measured, predicted=predicted,
                   detail=(f"{case.setup.runtimes[0]} {preds[0]:.4g} / {case.setup.runtimes[1]} {preds[1]:.4g}"
                           if st.type == "ratio" else ""),
                   tolerance=_tolerance_text(tol.relative, tol.absolute, tol.bound))
    row["ratio_pred_meas"] = row["predicted"] / row["measured"] if row["measured"] else float("nan")
    if st.type == "trend":
        assert tol.ratio is not None
        low, high = _band(tol.ratio.measured, tol.ratio.relative, tol.ratio.absolute, "both")
    else:
        low, high = _band(row["measured"], tol.relative, tol.absolute, tol.bound)
    row["tol_low"], row["tol_high"] = low, high
    row["passed"] = bool(passed)
    return row


def _band(measured: float, relative: Optional[float], absolute: Optional[float],
          bound: str) -> tuple[float, float]:
    """The tolerance as a range of predicted / measured."""
    half = relative if relative is not None else (absolute or 0.0) / abs(measured)
    low, high = max(1.0 - half, 0.0), 1.0 + half
    if bound == "upper":
        low = 0.0
    elif bound == "lower":
        high = float("inf")
    return low, high


def _tolerance_text(relative: Optional[float], absolute: Optional[float], bound: str) -> str:
    text = f"±{relative:.0%}" if relative is not None else f"±{absolute:g}"
    return {"both": text, "upper": f"at most measured + {absolute if absolute is not None else relative}",
            "lower": f"at least measured - {absolute if absolute is not None else relative}"}[bound]


RESULT_COLUMNS = ["case", "kind", "source", "type", "metric", "runtimes", "unit", "measured",
                  "predicted", "ratio_pred_meas", "tolerance", "tol_low", "tol_high", "passed", "detail"]


def run_cases(cases: list[Case], seed: int = 1, progress=None) -> pd.DataFrame:
    rows = []
    for case in cases:
        rows.append(run_case(case, seed))
        if progress is not None:
            progress(case, rows[-1])
    return pd.DataFrame(rows, columns=RESULT_COLUMNS)
