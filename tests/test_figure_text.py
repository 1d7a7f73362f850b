"""Figures a trainer can put on a slide unchanged: no text overlaps other text or runs past the
edge of the figure, in either theme.

Every figure of the catalogue (:func:`simulator.presentation.figures.registry.catalogue`, what
``kubesim figures`` draws) is drawn from the catalogue's own data in the light and the dark
theme; the window extents (matplotlib's renderer) of every Text artist that is actually drawn
and holds more than white space are compared pairwise, and two that intersect by more than a
pixel are an overlap. The checker itself is tested on figures made to overlap and not to.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import matplotlib
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.text import Text
from matplotlib.transforms import Bbox

matplotlib.use("Agg")

TOLERANCE_PX = 1.0  # anti-aliasing: boxes that share a pixel row do not count


@contextmanager
def _recording_drawn_text() -> Iterator[list[Text]]:
    """Every Text artist drawn inside the block (a tick label outside the view is never drawn)."""
    drawn: list[Text] = []
    original = Text.draw

    def draw(self, renderer):  # noqa: ANN001 - matplotlib's signature
        if self.get_visible() and self.get_text().strip():
            drawn.append(self)
        return original(self, renderer)

    Text.draw = draw  # type: ignore[method-assign]
    try:
        yield drawn
    finally:
        Text.draw = original  # type: ignore[method-assign]


def overlapping_texts(fig: Figure) -> list[str]:
    """Pairs of drawn texts of ``fig`` whose boxes intersect (by more than a pixel each way)."""
    canvas = FigureCanvasAgg(fig)
    with _recording_drawn_text() as drawn:
        canvas.draw()
    renderer = canvas.get_renderer()
    boxes: list[tuple[Text, Bbox]] = []
    for t in dict.fromkeys(drawn):  # a text drawn twice counts once
        bb = t.get_window_extent(renderer)
        if bb.width > 0 and bb.height > 0:
            boxes.append((t, bb))
    out = []
    for i, (a, ba) in enumerate(boxes):
        for b, bb in boxes[i + 1:]:
            w = min(ba.x1, bb.x1) - max(ba.x0, bb.x0)
            h = min(ba.y1, bb.y1) - max(ba.y0, bb.y0)
            if w > TOLERANCE_PX and h > TOLERANCE_PX:
                out.append(f"{a.get_text()!r} overlaps {b.get_text()!r} ({w:.0f} x {h:.0f} px)")
    return out


def texts_outside(fig: Figure) -> list[str]:
    """Drawn texts of ``fig`` that run past the edge of the figure (cut off on a slide)."""
    canvas = FigureCanvasAgg(fig)
    with _recording_drawn_text() as drawn:
        canvas.draw()
    renderer = canvas.get_renderer()
    width, height = canvas.get_width_height()
    out = []
    for t in dict.fromkeys(drawn):
        bb = t.get_window_extent(renderer)
        if bb.width <= 0 or bb.height <= 0:
            continue
        past = max(-bb.x0, -bb.y0, bb.x1 - width, bb.y1 - height)
        if past > TOLERANCE_PX:
            out.append(f"{t.get_text()!r} runs {past:.0f} px past the edge")
    return out


def _figure(texts: list[tuple[float, float, str]]) -> Figure:
    fig = Figure(figsize=(6, 4), dpi=100)
    ax = fig.subplots()
    for x, y, s in texts:
        ax.text(x, y, s, fontsize=14)
    return fig


def test_the_checker_finds_text_on_text():
    assert overlapping_texts(_figure([(0.1, 0.5, "RunPodSandbox"), (0.15, 0.5, "CreateContainer")]))


def test_the_edge_checker_finds_text_cut_off():
    assert texts_outside(_figure([(0.8, 0.5, "RunPodSandbox, the longest CRI call on average")]))
    assert texts_outside(_figure([(0.1, 0.5, "RunPodSandbox")])) == []


def test_the_checker_passes_text_apart_and_ignores_empty_or_hidden_text():
    fig = _figure([(0.1, 0.2, "RunPodSandbox"), (0.1, 0.7, "CreateContainer"), (0.1, 0.2, "  ")])
    hidden = fig.axes[0].text(0.1, 0.7, "hidden")
    hidden.set_visible(False)
    assert overlapping_texts(fig) == []


@pytest.fixture(scope="module")
def catalogue_data():
    from simulator.config import load_scenario
    from simulator.experiments.runner import compare
    from simulator.presentation.figures.data import FigureData

    runtimes = ["dockershim", "containerd", "crio", "cri-dockerd"]
    comp = compare(load_scenario("default"), runtimes=runtimes, seed=1)
    return FigureData(comp, theme="light", preset="default", runtimes=runtimes)


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_no_catalogue_figure_has_overlapping_text(catalogue_data, theme):
    from simulator.presentation.figures import registry

    catalogue_data.theme = theme
    problems = {}
    drawings = registry.catalogue(catalogue_data)
    assert len(drawings) >= len(registry.FIGURES)
    for drawing in drawings:
        fig = drawing.draw(catalogue_data)
        found = overlapping_texts(fig) + texts_outside(fig)
        if found:
            problems[drawing.stem] = found
    assert not problems, "\n".join(f"{stem} ({theme}): {p}" for stem, ps in problems.items() for p in ps)


def test_a_title_too_long_for_one_line_goes_on_two_at_a_clause_break():
    from simulator.presentation.figures._text import fitted_title, text_width_px

    short, size = fitted_title("containerd starts pods 2x faster", 1500)
    assert "\n" not in short and size == 22.0
    text = "dockershim to containerd: 6 pods left Pending once the last dockershim node went"
    width = 0.85 * text_width_px(text, 15.0, "bold")  # too narrow for one line at 15 pt
    two, size = fitted_title(text, width)
    first, second = two.split("\n")
    assert first == "dockershim to containerd:" and f"{first} {second}" == text
    assert max(text_width_px(first, size, "bold"), text_width_px(second, size, "bold")) <= width
    balanced, _ = fitted_title(text.replace(":", ""), width)  # no clause break: the balanced one
    assert abs(len(balanced.split("\n")[0]) - len(balanced.split("\n")[1])) < 15
