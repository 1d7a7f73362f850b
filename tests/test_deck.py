"""``kubesim figures --pptx``: one title per slide (the figure's own), the theme's background on
every slide, section slides grouping the figures and a closing sources-and-assumptions slide
(issue 12)."""

from __future__ import annotations

from pathlib import Path

import pytest
from pptx import Presentation
from pptx.enum.shapes import MSO_SHAPE_TYPE

from simulator.presentation.deck import SOURCES_TITLE, write_pptx
from simulator.presentation.figures import registry
from simulator.presentation.style import THEMES
from tests.test_catalogue import stub_figures


def _texts(slide) -> list[str]:
    return [s.text_frame.text for s in slide.shapes if s.has_text_frame and s.text_frame.text.strip()]


def _titles(slide) -> list[str]:
    return [s.text_frame.text for s in slide.placeholders
            if s.placeholder_format.type in (1, 3)]  # TITLE, CENTER_TITLE


def _figures(slides) -> list:
    return [s for s in slides if any(p.shape_type == MSO_SHAPE_TYPE.PICTURE for p in s.shapes)]


def _background(slide) -> str:
    fill = slide.background.fill
    return "#" + str(fill.fore_color.rgb)


@pytest.fixture(scope="module")
def dark_deck(tmp_path_factory):
    from simulator.presentation.outputs import write_figures

    mp = pytest.MonkeyPatch()
    stub_figures(mp)  # the slides are under test, not the figures
    try:
        folder = tmp_path_factory.mktemp("deck")
        write_figures(folder / "figures", theme="dark", pptx=folder / "deck.pptx")
    finally:
        mp.undo()
    return list(Presentation(str(folder / "deck.pptx")).slides)


def test_the_dark_deck_is_dark_with_light_text(dark_deck) -> None:
    dark = THEMES["dark"]
    assert {_background(s) for s in dark_deck} == {dark["background"]}
    for slide in dark_deck:
        for shape in slide.shapes:
            if shape.has_text_frame:
                for run in (r for p in shape.text_frame.paragraphs for r in p.runs):
                    assert "#" + str(run.font.color.rgb) in (dark["foreground"], dark["muted"])


def test_one_title_per_slide_and_the_figures_carry_theirs(dark_deck) -> None:
    for slide in dark_deck:
        titles = _titles(slide)
        assert len(titles) <= 1
        texts = _texts(slide)
        assert len(texts) == len(set(texts))  # no text twice on a slide
    for slide in _figures(dark_deck):
        assert _titles(slide) == []  # the figure's own title is the slide's only title
        picture = next(p for p in slide.shapes if p.shape_type == MSO_SHAPE_TYPE.PICTURE)
        title = picture._element.nvPicPr.cNvPr.get("descr")
        assert title and title not in _texts(slide)
        assert slide.notes_slide.notes_text_frame.text.startswith(title + "\n\n")


def test_section_slides_group_the_figures(dark_deck) -> None:
    assert _titles(dark_deck[0]) == ["kubesim"]
    names = [t for _, t in (registry.section_of(e) for e in registry.FIGURES)]
    sections = [(k, _titles(s)[0]) for k, s in enumerate(dark_deck) if _titles(s) and _titles(s)[0] in names]
    assert [t for _, t in sections] == list(dict.fromkeys(t for t, _ in registry.SECTIONS if t in names))
    assert len(sections) >= 5
    for (k, _), (nxt, _) in zip(sections, sections[1:] + [(len(dark_deck) - 1, "")]):
        between = dark_deck[k + 1:nxt]
        assert between and all(s in _figures(dark_deck) for s in between)  # figures only, at least one


def test_the_last_slide_lists_sources_and_assumptions(dark_deck) -> None:
    last = dark_deck[-1]
    assert _titles(last) == [SOURCES_TITLE]
    body = "\n".join(t for t in _texts(last) if t != SOURCES_TITLE)
    for needed in ("preset 'default'", "seed 1", "1 replication", "kubesim ", "docs/facts.md",
                   "docs/calibration.md", "ASSUMPTION", "Assumptions", "Sources"):
        assert needed in body, needed


def test_a_light_deck_is_white_and_a_real_figure_title_is_not_repeated(tmp_path: Path) -> None:
    from simulator.config import load_scenario
    from simulator.experiments.runner import compare
    from simulator.presentation.figures.data import FigureData
    from simulator.presentation.sources import sources_and_assumptions
    from simulator.presentation.style import save_figure

    comp = compare(load_scenario("default", ["workload.pods=4"]), runtimes=["dockershim", "containerd"], seed=1)
    data = FigureData(comp)
    drawing = next(d for d in registry.comparison(data) if d.stem == "pod-startup-cdf")
    fig = drawing.draw(data)
    headline = registry.headline(fig)
    assert headline and headline != drawing.title  # a takeaway computed from the data
    save_figure(fig, tmp_path / "cdf")
    entry = {**drawing.page_entry(fig), "file_stem": "cdf", "section": "Latency"}
    provenance = sources_and_assumptions(comp.scenario, comp.runtimes, seed=1, replications=1)
    deck = write_pptx([entry], tmp_path, tmp_path / "deck.pptx", provenance=provenance)
    slides = list(Presentation(str(deck)).slides)
    assert {_background(s) for s in slides} == {THEMES["light"]["background"]}
    assert [_titles(s)[0] if _titles(s) else None for s in slides] == ["kubesim", "Latency", None, SOURCES_TITLE]
    assert all(headline not in t for t in _texts(slides[2]))
    assert slides[2].shapes[0]._element.nvPicPr.cNvPr.get("descr") == headline
