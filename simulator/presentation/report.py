"""``kubesim report``: one self-contained HTML page for a comparison.

Everything an architect needs to forward to a colleague in one file: the scenario (resolved,
defaults included), the comparison table with confidence intervals, what binds on each chain,
the figures (PNG, inlined as base64), the time per hop, what each chain does differently (hop
counts), the failures by hop and reason, and the sources and assumptions behind the defaults. No
external assets: it opens offline and mails as one attachment.

The page is the Jinja2 template ``templates/report.html.j2`` (shipped with the package,
autoescaped); its tables are :mod:`.report_tables`' data, rendered as real ``<table>`` elements
with a ``<thead>`` and a ``<tbody>``.
"""

from __future__ import annotations

import base64
import io
from typing import TYPE_CHECKING, Any

import matplotlib as mpl
import yaml

from ..chains import iter_steps, load_chain
from .binds import equal_lines
from .figures import registry
from .figures.data import FigureData
from .report_tables import (
    binds_table,
    chains_table,
    comparison_table,
    failures_table,
    hops_table,
    logs_table,
)
from .sources import kubesim_version, sources_and_assumptions
from .style import literal_text

if TYPE_CHECKING:
    from jinja2 import Environment

    from ..experiments.runner import Comparison

__all__ = ["environment", "render_report"]


def environment() -> Environment:
    """The Jinja2 environment of kubesim's templates (package data), autoescape on."""
    from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

    return Environment(loader=PackageLoader("simulator.presentation", "templates"),
                       autoescape=select_autoescape(["html", "j2"], default=True),
                       undefined=StrictUndefined, keep_trailing_newline=True)


def _png(fig) -> str:
    buf = io.BytesIO()
    with mpl.rc_context({"text.parse_math": False}):
        literal_text(fig).savefig(buf, format="png", metadata={"Software": None})
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _cited(runtimes: list[str]) -> list[dict[str, Any]]:
    out = []
    for rt in runtimes:
        chain = load_chain(rt)
        items = sorted({f"{s.process}: {s.name} — {s.source}" for op in chain.operations.values()
                        for s in iter_steps(op.steps)})
        items += sorted({f"{name} (memory): {p.source}" for name, p in chain.processes.items()})
        out.append({"title": chain.title, "facts": items})
    return out


def render_report(comp: Comparison, title: str | None = None) -> str:
    summary = comp.summary()
    sc = comp.scenario
    data = FigureData(comp)
    chains = [rt for rt in summary["runtimes"] if rt != "unscheduled"]
    title = title or f"kubesim: {', '.join(summary['runtimes'])} on '{sc.name}'"
    figures = []
    for drawing in registry.comparison(data):  # titles and captions: the registry's
        if drawing.runtime is not None and not data.has_pod(drawing.runtime):
            continue  # no pod ran on this chain: nothing to draw
        figures.append({"title": drawing.report_title, "png": _png(drawing.draw(data)),
                        "caption": drawing.report_caption})
    wl = sc.workload
    binds = {rt: d["binds"] for rt, d in summary["runtimes"].items() if d.get("binds")}
    reps = f"{summary['replications']} replication{'s' if summary['replications'] != 1 else ''}"
    logs = logs_table(chains, sc) if any("logs" in d for d in summary["runtimes"].values()) else None
    context = {
        "title": title,
        "note": data.note,
        "version": kubesim_version(),
        "description": " ".join(sc.description.split()),
        "comparison": comparison_table(summary),
        "comparison_caption": (f"Scenario '{sc.name}': {wl.pods} pods ({wl.kind}), {sc.node.cpuCores:g} cores, "
                               f"kubeAPIQPS {sc.kubelet.kubeAPIQPS:g}; seed {summary['seed']}, {reps}."),
        "ci_note": summary["replications"] > 1,
        "chain_notes": [f"{rt}: {d['chain']['note']}" for rt, d in summary["runtimes"].items()
                        if (d.get("chain") or {}).get("note")],
        "binds": binds_table(summary) if binds else None,
        "binds_sentences": [b["sentence"] for b in binds.values()] + equal_lines(binds),
        "figures": figures,
        "hops": hops_table(comp.spans, chains),
        "chains": chains_table(chains),
        "logs": logs,
        "logs_caption": (f"Container logs on each chain (each chain's logs: section, scenario '{sc.name}'; "
                         "kubesim explain RUNTIME gives the sources)."),
        "failures": failures_table(comp),
        "failures_caption": (f"Pods that failed or were still pending at the horizon (their last error), and "
                             f"transient sync errors the kubelet retried, by hop and reason; counted over {reps}."),
        "scenario_yaml": yaml.safe_dump(sc.resolved(), sort_keys=False),
        "provenance": sources_and_assumptions(sc, chains, seed=summary["seed"],
                                              replications=summary["replications"]),
        "cited": _cited(chains),
    }
    return environment().get_template("report.html.j2").render(context)
