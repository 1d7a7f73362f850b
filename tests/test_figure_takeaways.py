"""Slide-ready figures: titles and captions computed from the data they show, one count of a
chain's crossings for the diagram and ``kubesim explain``, a legend a room can tell apart, axes
that say when they are logarithmic, a colour scale that holds one kind of quantity, and SVG
text that stays editable text. Synthetic inputs (tests/test_catalogue.py, test_failure_figures.py).
"""

from __future__ import annotations

import re

import matplotlib
import matplotlib.colors as mcolors
import pandas as pd
import pytest
from matplotlib.patches import Rectangle

from simulator.chains import load_chain
from simulator.presentation.explain import explain_chain, hop_counts
from simulator.presentation.figures._draw import caption_of
from simulator.presentation.figures.cdf import latency_cdf
from simulator.presentation.figures.chains_side_by_side import chains_side_by_side
from simulator.presentation.figures.failures import _STALL_FILL, failure_heatmap
from simulator.presentation.figures.latency_vs_load import latency_vs_load
from simulator.presentation.figures.time_by_hop import ROLES, takeaway, time_by_hop
from simulator.presentation.style import save_figure
from tests.test_catalogue import make_curve, make_pod_spans
from tests.test_failure_figures import _ramp

matplotlib.use("Agg")

CHAINS = ["dockershim", "cri-dockerd", "containerd", "crio"]


def _number_texts(fig) -> list[int]:
    return [int(t.get_text()) for t in fig.findobj(matplotlib.text.Text)
            if re.fullmatch(r"\d+", t.get_text())]


def test_the_chain_diagram_and_explain_count_crossings_with_one_function():
    fig = chains_side_by_side([load_chain(rt) for rt in CHAINS])
    counts = [hop_counts(load_chain(rt))["run_podsandbox"] for rt in CHAINS]
    assert _number_texts(fig) == [c["crossings"] for c in counts]
    text = " ".join(t.get_text() for t in fig.findobj(matplotlib.text.Text))
    for c in counts:
        assert f"between {c['processes']} OS processes" in text
    docker = counts[0]
    assert (docker["crossings"], docker["processes"]) == (15, 6)  # dockershim is in the kubelet
    assert f"RunPodSandbox (run_podsandbox): {docker['steps']} steps, 15 crossings between 6 OS processes" \
        in explain_chain("dockershim")
    # the title states the spread, from the same counts
    title = fig.texts[0].get_text()
    assert "16" in title and "cri-dockerd" in title and "4" in title and "crio" in title


def _spans_of(runtime: str, runc_scale: float) -> pd.DataFrame:
    spans = make_pod_spans(runtime=runtime, pod=f"pod-{runtime}")
    runc = spans["process"] == "runc"
    spans.loc[runc, "end"] = spans.loc[runc, "start"] + (spans.loc[runc, "end"] - spans.loc[runc, "start"]) * runc_scale
    return spans


def test_time_by_hop_says_what_runc_costs_from_the_data():
    same = pd.DataFrame({"a": [0.5, 0.100], "b": [0.2, 0.104]}, index=["dockerd", "runc"])
    title, caption = takeaway(same)
    assert "about the same on every chain" in caption
    assert title.startswith("a: 600 ms per pod, dockerd alone 83 %")
    differs = pd.DataFrame({"a": [0.5, 0.200], "b": [0.2, 0.128]}, index=["dockerd", "runc"])
    _, caption = takeaway(differs, pd.Series({"a": 4.0, "b": 2.0}))
    assert "same" not in caption.replace("not the same", "")
    assert "128 ms per pod on b, 200 ms on a (2 against 4 runc calls per pod)" in caption


def _lab(color) -> tuple[float, float, float]:
    """sRGB → CIELAB (D65)."""
    def lin(u: float) -> float:
        return u / 12.92 if u <= 0.04045 else ((u + 0.055) / 1.055) ** 2.4

    r, g, b = (lin(u) for u in mcolors.to_rgb(color))
    x = (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047
    y = 0.2126 * r + 0.7152 * g + 0.0722 * b
    z = (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883

    def f(t: float) -> float:
        return t ** (1 / 3) if t > 0.008856 else 7.787 * t + 16 / 116

    return 116 * f(y) - 16, 500 * (f(x) - f(y)), 200 * (f(y) - f(z))


def _delta_e(a, b) -> float:
    return sum((p - q) ** 2 for p, q in zip(_lab(a), _lab(b))) ** 0.5


def test_time_by_hop_legend_has_a_few_clearly_different_colours():
    spans = pd.concat([_spans_of("dockershim", 1.0), _spans_of("containerd", 2.0)])
    fig = time_by_hop(spans)
    legend = fig.legends[0]  # under the axes, above the footnote
    assert len(legend.get_texts()) <= 8
    colours = [p.get_facecolor() for p in legend.get_patches() if p.get_hatch() is None]
    assert min(_delta_e(a, b) for i, a in enumerate(colours) for b in colours[i + 1:]) >= 30
    # the whole role table, not only the roles this data fills
    roles = [color for _, color in ROLES]
    assert min(_delta_e(a, b) for i, a in enumerate(roles) for b in roles[i + 1:]) >= 30
    assert caption_of(fig) and "runc" in caption_of(fig)
    assert fig.axes[0].get_title(loc="left") != "Where the time goes: hop by hop"


def test_latency_vs_load_says_its_axes_are_logarithmic_and_states_the_takeaway():
    fig = latency_vs_load(make_curve())
    ax = fig.axes[0]
    assert ax.get_xscale() == "log" and "log scale" in ax.get_xlabel()
    # make_curve: p99 at 80 pods = 2 x (0.6 + 0.3 k) x 8 s, k = 0 dockershim .. 2 crio
    assert ax.get_title(loc="left") == "At 80 pods, p99 pod startup: 19.2 s on crio, 9.6 s on dockershim"
    assert "within the 5 s SLO: dockershim up to 40, containerd up to 20, crio up to 20" in caption_of(fig)


def test_the_cdf_title_is_the_medians():
    pods = pd.DataFrame({"runtime": ["a"] * 3 + ["b"] * 3, "pod_startup": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]})
    assert latency_cdf(pods).axes[0].get_title(loc="left") == "Median pod startup: 5.0 s on b, 2.0 s on a"


def test_failures_keep_seconds_off_the_count_scale_and_the_footnote_off_the_legend():
    fig = failure_heatmap(_ramp(), footnote="kubesim · a footnote long enough to reach the legend")
    stall = [p for ax in fig.axes for p in ax.patches
             if isinstance(p, Rectangle) and p.get_hatch() == "//"]
    assert stall and all(mcolors.to_hex(p.get_facecolor()) == _STALL_FILL.lower() for p in stall)
    assert fig._suptitle.get_text() == "dockershim breaks first, at 400 pods; containerd holds up to 400 pods"
    from tests.test_figure_text import overlapping_texts
    assert overlapping_texts(fig) == []


@pytest.mark.parametrize("build", [lambda: latency_vs_load(make_curve()),
                                   lambda: chains_side_by_side([load_chain(rt) for rt in CHAINS])])
def test_svg_text_stays_text(tmp_path, build):
    fig = build()
    _, svg = save_figure(fig, tmp_path / "f")
    body = svg.read_text(encoding="utf-8")
    assert "<text" in body
    title = (fig.axes[0].get_title(loc="left") if fig.axes and fig.axes[0].get_title(loc="left")
             else fig.texts[0].get_text())
    assert title.split(",")[0].replace("<", "&lt;").replace(">", "&gt;") in body


def test_the_index_and_the_deck_show_the_drawn_figure_s_takeaway():
    from simulator.presentation.figures import registry

    drawing = next(d for e in registry.FIGURES if e.module == "latency_vs_load"
                   for d in e.drawings(None))  # type: ignore[arg-type]
    fig = latency_vs_load(make_curve())
    entry = drawing.page_entry(fig)
    assert entry["title"] == fig.axes[0].get_title(loc="left") != drawing.title
    assert entry["teaches"] == caption_of(fig)
    assert drawing.page_entry() == {"file_stem": drawing.stem, "title": drawing.title,
                                    "teaches": drawing.caption}
