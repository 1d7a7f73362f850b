"""What a set of figures rests on: its sources and its key assumptions, for the deck's closing
slide and the report's Sources section.

:func:`sources_and_assumptions` states, from the run itself (nothing read from ``docs/``, which
an installed kubesim does not ship):

* the run: preset, scenario, Kubernetes release, pods, cores, seed, replications, chains and the
  kubesim version;
* where the chains' numbers come from: every step and process of the chains drawn cites a source
  (its ``source``), counted by kind: the fact sheet (docs/facts.md, upstream code at pinned
  tags), the calibration table (docs/calibration.md, published per-hop measurements), the real
  kubelet ``/metrics`` scrapes (examples/metrics/), inferences [I] and ASSUMPTION; and the
  upstream trees the citations name (their tags, docs/facts.md "How sources are cited");
* the assumptions: how many defaults the run reaches have no published value (marked
  ASSUMPTION, :func:`simulator.experiments.sensitivity.parameters`), the ones a sensitivity
  screening found to move the answer most when there is one, and the modelling choices every
  figure shares (docs/DESIGN.md).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

    from ..config import Scenario

__all__ = ["UPSTREAM_TREES", "Provenance", "kubesim_version", "sources_and_assumptions"]

UPSTREAM_TREES: tuple[tuple[str, str], ...] = (
    (r"\bK2\d\b|\bKM\b|\bKL-1\.\d+", "kubernetes/kubernetes"),
    (r"\bCRIAPI-", "kubernetes/cri-api"),
    (r"\bCD-v[\d.]+", "containerd/containerd"),
    (r"\bMOBY-v[\d.]+", "moby/moby"),
    (r"\bCRIO-v[\d.]+", "cri-o/cri-o v1.24.0"),
    (r"\bCRID\b", "Mirantis/cri-dockerd"),
    (r"\bENH\b", "kubernetes/enhancements (KEPs)"),
)
"""(citation tag pattern, upstream tree) of the tags docs/facts.md defines ("How sources are
cited")."""

_KINDS: tuple[tuple[str, str], ...] = (
    ("facts §", "the fact sheet docs/facts.md (upstream code at pinned tags)"),
    ("cal. ", "the calibration table docs/calibration.md (published per-hop measurements)"),
    ("realdata", "real kubelet /metrics scrapes (examples/metrics/)"),
    ("[I]", "inferences from cited totals [I]"),
    ("ASSUMPTION", "no published value (ASSUMPTION, with the reasoning)"),
)

MODEL_CHOICES: tuple[str, ...] = (
    ("One node's kubelet and runtime are simulated; the apiserver's latency and watch delivery and "
     "the scheduler are modelled from ApiServerConfig (docs/DESIGN.md, 'Control plane')."),
    ("Every chain sees the same workload and random numbers (common random numbers, one seed: "
     "docs/DESIGN.md, 'Randomness'); the differences are the chains'."),
    ("An ASSUMPTION default is a reasoned guess: kubesim sensitivity varies each from ×0.5 to ×2 "
     "and ranks what the answer rests on."),
)
"""The modelling choices every figure shares (docs/DESIGN.md)."""


@dataclass(frozen=True)
class Provenance:
    """The closing slide's lists: the sources, the assumptions, and the ASSUMPTION defaults a
    screening ranked first (``ranked``, with the sentence that introduces them)."""

    sources: tuple[str, ...]
    assumptions: tuple[str, ...]
    ranked_by: str = ""
    ranked: tuple[str, ...] = ()


def kubesim_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("kubesim")
    except PackageNotFoundError:  # run from a source tree that is not installed
        return "unknown (not installed)"


def _source_texts(node: Any, into: list[str]) -> None:
    """Every string under a key naming a source (``source``, ``formatSource``...) in ``node``."""
    if isinstance(node, dict):
        for key, value in node.items():
            if isinstance(value, str) and "source" in key.lower():
                into.append(value)
            else:
                _source_texts(value, into)
    elif isinstance(node, list):
        for item in node:
            _source_texts(item, into)


def _citations(runtimes: Sequence[str]) -> tuple[dict[str, int], int, list[str]]:
    """Per citation kind, how many of the chains' cited values cite it; how many cited values
    there are; the upstream trees named."""
    from ..chains import load_chain

    texts: list[str] = []
    for rt in runtimes:
        _source_texts(load_chain(rt).model_dump(mode="json"), texts)
    counts = {key: sum(key in t for t in texts) for key, _ in _KINDS}
    trees = [tree for pattern, tree in UPSTREAM_TREES if any(re.search(pattern, t) for t in texts)]
    return counts, len(texts), trees


def _screened(table: pd.DataFrame, top: int) -> list[str]:
    """The ``top`` parameters with the largest μ* on any runtime, with default and reasoning."""
    peak = table.sort_values("mu_star", ascending=False, kind="stable").drop_duplicates("parameter")
    out = []
    for row in peak.head(top).itertuples(index=False):
        why = " ".join(str(row.why).removeprefix("ASSUMPTION:").split())
        if "ASSUMPTION" in why:  # a chain step's source: the clause that says what is assumed
            why = next(part.strip() for part in why.split(";") if "ASSUMPTION" in part)
        why = why if len(why) <= 90 else why[:89].rsplit(" ", 1)[0] + " …"
        out.append(f"{row.parameter} = {row.default}: {why}")
    return out


def sources_and_assumptions(scenario: Scenario, runtimes: Sequence[str], *, seed: int, replications: int,
                            preset: str | None = None, screening: Any = None, top: int = 3) -> Provenance:
    """The sources and key assumptions of a run of ``scenario`` on ``runtimes``; ``screening``
    (a :class:`~simulator.experiments.sensitivity.Sensitivity`) adds the ``top`` ASSUMPTION
    defaults it found to matter most."""
    from ..chains import load_chain
    from ..experiments.sensitivity import parameters

    runtimes = [rt for rt in runtimes if rt != "unscheduled"]
    counts, cited, trees = _citations(runtimes)
    where = f"preset '{preset}'" if preset else f"scenario '{scenario.name}'"
    reps = f"{replications} replication{'s' if replications != 1 else ''}"
    sources = [
        (f"Run: {where}, Kubernetes {scenario.kubernetesVersion}, {scenario.workload.pods} pods, "
         f"{scenario.node.cpuCores:g} cores; seed {seed}, {reps}; kubesim {kubesim_version()}."),
        f"Chains: {', '.join(runtimes)}, whose {cited} cited values (a step's latency, CPU, lock; a "
        "process's memory) cite " + "; ".join(f"{label}: {counts[key]}" for key, label in _KINDS
                                               if counts[key]) + ".",
    ]
    if trees:
        sources.append("Upstream code read at pinned tags: " + ", ".join(trees) + ".")
    sources.append("Predictions against published experiments: docs/validation/sources.md "
                   "(kubesim validate); what binds: docs/model/attribution.md.")

    names: set[str] = set()
    for rt in runtimes:
        found, _ = parameters(scenario, load_chain(rt))
        names |= {p.name for p in found}
    assumptions = [(f"{len(names)} defaults this run reaches have no published value (ASSUMPTION in "
                    "the scenario schema and the chain files).")]
    ranked_by, ranked = "", []
    if screening is not None and not screening.table.empty:
        head, _, stat = str(screening.output).partition(".")
        output = f"{stat} {head.replace('_seconds', '').replace('_', ' ')}".strip()
        ranked_by = (f"The ASSUMPTION defaults that move {output} most (Morris μ*, "
                     f"{screening.trajectories} trajectories, scenario '{screening.scenario}'):")
        ranked = _screened(screening.table, top)
    assumptions += MODEL_CHOICES
    return Provenance(tuple(sources), tuple(assumptions), ranked_by, tuple(ranked))
