"""``kubesim calibrate``: fit a chain to a real kubelet ``/metrics`` scrape.

``calibrate(path)`` reads the scrape (``scrape``), picks the chain to start from and builds the
node the scrape describes (``node``), fits the steps to every operation the scrape measured
(``knobs``, ``fit``) and returns a :class:`Calibration`: the chain overlay (``base:`` +
``stepOverrides:``, every fitted step citing the scrape, the metric and the quantiles) and the fit
report, one row per measured operation::

    from simulator.experiments.calibrate import calibrate

    cal = calibrate("examples/metrics/kubelet-1.21-dockershim-eks.prom")
    cal.report()            # DataFrame: measured p50/p90 (n), model before and after, ratio
    text = cal.overlay_text()  # write it to a .yaml file and pass it as a runtime

Operations the model does not have (``exec_sync``, Docker's ``info``), with fewer than 3
observations, or with no usable median are listed as skipped, with the reason.
"""

from __future__ import annotations

import math
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional

import pandas as pd
import yaml

from ...chains import chain_from_data, load_chain
from ...config import Scenario
from .fit import Measured, fit, measure, run_model
from .knobs import ChainIndex, Knob, overlay_overrides
from .node import MIN_SAMPLES, FitPlan, choose_chain, fit_scenario
from .scrape import OpStat, Scrape, histogram_quantile, parse_scrape, read_scrape

__all__ = ["calibrate", "Calibration", "read_scrape", "parse_scrape", "histogram_quantile",
           "Scrape", "OpStat", "TOLERANCE"]

# the acceptance bound: each calibrated operation's model median within 15 % of the scrape's
TOLERANCE = 0.15


@dataclass
class Calibration:
    scrape: Scrape
    base: str
    kubernetes_version: str
    why: str                       # why this base chain
    scenario: Scenario             # the node the scrape describes (valid while this object lives)
    notes: list[str]
    knobs: list[Knob]
    skipped: list[tuple[OpStat, str]]
    before: Measured
    after: Measured
    rounds: int
    seed: int
    name: str
    _tmp: Any = field(default=None, repr=False)   # keeps the fit scenario's trace file alive

    # ------------------------------------------------------------------ the overlay
    def overlay(self) -> dict:
        file = self.scrape.name
        s = self.scrape
        doc: dict[str, Any] = {
            "name": self.name,
            "base": self.base,
            "title": f"{load_chain(self.base).title}, calibrated to {file}",
            "era": f"calibrated to {file} ({s.describe()})",
            "stepOverrides": overlay_overrides(ChainIndex(load_chain(self.base)), self.knobs, file),
            "notes": [f"kubesim calibrate --metrics {file}: {self.why}", *self.notes,
                      ("CPU per call kept at the base chain's: a step made slower waits longer, it does not "
                       "burn more CPU (cpuShare scaled down)")],
        }
        return doc

    def overlay_text(self) -> str:
        head = (f"# A chain overlay written by `kubesim calibrate --metrics {self.scrape.name}` (seed {self.seed}).\n"
                f"# Starts from {self.base} and changes the steps below so that the model reproduces the\n"
                f"# scrape's per-operation medians on the node it describes ({self.scrape.describe()}).\n"
                f"# Use it as a runtime: kubesim compare --runtimes THIS_FILE.yaml\n")
        return head + yaml.safe_dump(self.overlay(), sort_keys=False, allow_unicode=True, width=100)

    # ------------------------------------------------------------------ the report
    def report(self) -> pd.DataFrame:
        """One row per measured operation: measured median/p90 and n, the model's median
        before (base chain) and after (overlay), their ratio to the measured median, and
        whether it is within 15 %; skipped operations carry the reason."""
        rows = []
        for k in self.knobs:
            t, b, a = k.target, self.before[k.name], self.after[k.name]
            ratio = a[0] / t.median if a[2] else math.nan
            ok = bool(a[2]) and abs(ratio - 1) <= TOLERANCE
            rows.append(_row(t, "calibrated" if a[2] else "skipped", b, a, ratio, ok,
                             "" if a[2] else "the fit scenario made no such call"))
        for t, reason in self.skipped:
            rows.append(_row(t, "skipped", None, None, math.nan, None, reason))
        df = pd.DataFrame(rows)
        order = {"cri": 0, "docker": 1}
        df["_o"] = df.level.map(order)
        return df.sort_values(["_o", "status", "operation"]).drop(columns="_o").reset_index(drop=True)

    @property
    def all_within(self) -> bool:
        rep = self.report()
        return bool(rep[rep.status == "calibrated"].within_15pct.all())


def _ms(x: float) -> float:
    return math.nan if math.isnan(x) else round(x * 1000.0, 3)


def _row(t: OpStat, status: str, before, after, ratio: float, ok, note: str) -> dict:
    return {
        "level": t.level, "operation": t.operation, "status": status, "n": t.count,
        "measured_p50_ms": _ms(t.median), "measured_p90_ms": _ms(t.p90),
        "model_before_p50_ms": _ms(before[0]) if before and before[2] else math.nan,
        "model_p50_ms": _ms(after[0]) if after and after[2] else math.nan,
        "model_p90_ms": _ms(after[1]) if after and after[2] else math.nan,
        "model_n": after[2] if after else 0,
        "ratio": math.nan if math.isnan(ratio) else round(ratio, 3),
        "within_15pct": ok, "metric": t.metric, "kind": t.kind, "note": note,
    }


def _skip_reason(t: OpStat, chain_ops: set[str], docker_calls: set[str], docker_chain: bool) -> str:
    if t.level == "cri" and t.operation not in chain_ops:
        return f"the model has no {t.operation} operation"
    if t.level == "docker" and not docker_chain:
        return "the chain has no dockerd: Docker calls are not modelled"
    if t.level == "docker" and t.operation not in docker_calls:
        return f"the chain makes no Docker {t.operation} call"
    if math.isnan(t.median):
        return "no quantiles in the scrape (NaN: the summary's window held no observation)"
    if t.count < MIN_SAMPLES:
        return f"only {t.count} observation{'s' if t.count != 1 else ''} in the scrape (fewer than {MIN_SAMPLES})"
    if t.median_open:
        return f"median above the highest finite bucket ({t.median:g} s): a lower bound only"
    return ""


def calibrate(metrics: str | Path, runtime: Optional[str] = None, seed: int = 1,
              overrides: Optional[list[str]] = None, name: Optional[str] = None,
              max_rounds: Optional[int] = None, progress: Optional[Callable[[], object]] = None) -> Calibration:
    """Fit a chain to the scrape at ``metrics``; ``runtime`` forces the chain to start from,
    ``overrides`` are ``--set``-style changes to the fit scenario (``node.cpuCores=2``);
    ``progress()`` is called after each fitting round (at most ``max_rounds``, by default
    :data:`.fit.MAX_ROUNDS`) and after the final check run."""
    scrape = read_scrape(metrics)
    base, kv, why = choose_chain(scrape, runtime)
    chain = load_chain(base)
    index = ChainIndex(chain)
    chain_ops = set(chain.operations)
    docker_calls = {c for c in ("create_container", "start_container", "stop_container", "remove_container",
                                "inspect_container", "list_containers", "inspect_image", "list_images",
                                "pull_image", "version", "info") if index.docker_call_names(c)}
    knobs: list[Knob] = []
    skipped: list[tuple[OpStat, str]] = []
    for (level, op), t in sorted(scrape.ops.items()):
        if level == "network":
            continue
        reason = _skip_reason(t, chain_ops, docker_calls, bool(index.daemon))
        if reason:
            skipped.append((t, reason))
        elif level == "docker":
            knobs.append(Knob("docker", t, index.docker_steps(op)))
        else:
            knobs.append(Knob("cri", t, index.op_own_steps(op), docker_part=index.op_docker_steps(op),
                              entry=index.entry(op)))
    plan = FitPlan(scrape, chain_ops)
    label = name or f"calibrated-{Path(str(base)).stem}"
    tmp = tempfile.TemporaryDirectory(prefix="kubesim-calibrate-")
    scenario = fit_scenario(plan, kv, Path(tmp.name), base, overrides)

    def build(ks: list[Knob]):
        doc = {"name": label, "base": base, "title": label, "era": "",
               "stepOverrides": overlay_overrides(index, ks, scrape.name)}
        return chain_from_data(doc, label)

    before, rounds = fit(scenario, index, knobs, build, seed, **({"max_rounds": max_rounds} if max_rounds else {}),
                         progress=progress)
    cal = Calibration(scrape, base, kv, why, scenario, plan.notes, knobs, skipped, before, {}, rounds, seed,
                      label, tmp)
    final = chain_from_data(cal.overlay(), label)  # exactly what the written file gives
    cal.after = measure(run_model(scenario, final, seed), index, knobs)
    if progress is not None:
        progress()
    return cal
