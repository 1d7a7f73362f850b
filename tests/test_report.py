"""``kubesim report``'s page: rendered from the packaged Jinja2 template (autoescaped), its
comparison, what binds, failures and per-hop times as real tables with a header and a body, no
raw JSON or dict in any cell and no ``<pre>`` dump of the comparison (issue 12)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import tomllib

from simulator.config import load_scenario
from simulator.experiments.runner import compare
from simulator.presentation.report import environment, render_report
from tests.html_tables import parse_tables

RUNTIMES = ["dockershim", "containerd"]
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def comp():
    # 12 pods on an 8-address range: pods left pending at CNI ADD and retried sync errors
    scenario = load_scenario("cni-ip-exhaustion", ["workload.pods=12", "cni.ipRangeSize=8"])
    return compare(scenario, runtimes=RUNTIMES, seed=1, replications=2)


@pytest.fixture(scope="module")
def page(comp) -> str:
    return render_report(comp)


def test_the_tables_have_a_header_and_a_body(page, comp) -> None:
    tables, pre = parse_tables(page)
    assert {"comparison", "binds", "failures", "hops", "chains"} <= set(tables)
    for t in tables.values():
        assert t.headers and t.body, t.id
        assert all(len(r) == len(t.headers) for r in t.body), t.id
    summary = comp.summary()["runtimes"]
    comparison = tables["comparison"]
    assert comparison.headers == ["metric", "unit", *RUNTIMES]
    p50 = comparison.row("pod start-up p50 (SLO definition: pulls excluded)")
    assert p50[1] == "s"
    for cell, rt in zip(p50[2:], RUNTIMES):
        assert cell.startswith(f"{summary[rt]['pod_startup_seconds']['p50']:.2f} 95 % CI ")
    assert comparison.row("pods running")[2:] == [str(summary[rt]["running"]) for rt in RUNTIMES]
    assert comparison.row("steady CPU, runtime")[1] == "cores"
    assert comparison.row("memory, runtime (cgroup RSS)")[1] == "MB"

    binds = tables["binds"]
    assert binds.headers == ["waited on", *RUNTIMES]
    assert binds.row("mean start-up (s)")[1:] == [
        f"{summary[rt]['binds']['mean_startup_seconds']:.2f}" for rt in RUNTIMES]
    shares = [r for r in binds.body if r[0] not in ("mean start-up (s)", "attributed in all")]
    assert shares and all(c.endswith(" %") or c == "–" for r in shares for c in r[1:])

    failures = tables["failures"]
    assert failures.headers == ["chain", "outcome", "hop", "reason", "count"]
    pending = [r for r in failures.body if r[1] == "pending at the horizon"]
    assert {r[0] for r in pending} == set(RUNTIMES)
    assert all(r[2] == "cni: CNI ADD pod network" and "no IP addresses" in r[3] for r in pending)
    for rt in RUNTIMES:  # the counts add up to the summary's
        mine = [r for r in failures.body if r[0] == rt]
        assert sum(int(r[4]) for r in mine if r[1] == "pending at the horizon") == summary[rt]["pending"]
        assert (sum(int(r[4]) for r in mine if r[1] == "sync error, retried")
                == sum(summary[rt]["sync_errors_by_hop"].values()))

    hops = tables["hops"]
    assert hops.headers == ["process", *RUNTIMES]
    assert hops.row("kubelet") and hops.row("runc") and hops.row("all processes")
    assert "dockerd" in [r[0] for r in hops.body]

    # no raw JSON, dict or list repr anywhere in a table, and no comparison dumped as text
    for t in tables.values():
        for r in t.head + t.body:
            assert not any("{" in c or "[" in c for c in r), (t.id, r)
    assert len(pre) == 1 and pre[0].startswith("name: cni-ip-exhaustion")  # the scenario's YAML only
    assert "kubesim compare:" not in page and "failed by hop" not in page


def test_the_page_is_self_contained_with_the_figures_inline(page) -> None:
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert "<script" not in page and "<link" not in page
    srcs = re.findall(r"""src=['"]([^'"]*)""", page)
    assert len(srcs) >= 5 and all(s.startswith("data:image/png;base64,") for s in srcs)
    assert not re.search(r"""href=['"](?!#)""", page)  # only links within the page


def test_the_template_escapes_what_it_is_given(comp, monkeypatch) -> None:
    from tests.test_catalogue import stub_figures

    stub_figures(monkeypatch)  # the text is under test, not the figures
    page = render_report(comp, title="<b>p50 & p99</b>")
    assert "<b>p50 & p99</b>" not in page and "&lt;b&gt;p50 &amp; p99&lt;/b&gt;" in page
    assert environment().autoescape is True or environment().autoescape("report.html.j2")


def test_the_templates_are_package_data() -> None:
    """An installed (not editable) kubesim has its templates: pyproject ships them."""
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    templates = sorted((ROOT / "simulator" / "presentation" / "templates").iterdir())
    assert templates
    for t in templates:
        rel = t.relative_to(ROOT / "simulator")
        assert any(rel.match(pattern) for pattern in data["simulator"]), rel
    assert "jinja2" in " ".join(tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"])
