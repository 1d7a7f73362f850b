"""The PowerPoint deck of a set of figures (``kubesim figures --pptx``).

A 16:9 deck in the figures' theme: every slide's background is the theme's background and its
text the theme's foreground (:data:`~simulator.presentation.style.THEMES`), so the dark theme's
figures sit on dark slides. The slides:

* a title slide;
* a section slide before each group of figures (an entry's optional ``"section"``; entries
  come grouped, in the order the deck shows them);
* one slide per figure, on the blank layout: the PNG as large as the slide holds above a
  one-line caption (the entry's "teaches" line). The figure carries its own title (its
  takeaway, computed from its data), so the slide adds none: one title per slide. The title is
  the picture's alternative text and opens the speaker notes, followed by the caption;
* when given a :class:`~simulator.presentation.sources.Provenance`, a closing "Sources and
  assumptions" slide: the sources on the left, the assumptions on the right.

The bytes are deterministic: the same entries and PNGs give the same file. python-pptx stamps
the document's core properties and every zip member with the time of saving; both are fixed
here (:data:`FIXED_DATETIME`).
"""

from __future__ import annotations

import datetime as dt
import io
import os
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .style import theme_colors

if TYPE_CHECKING:
    from .sources import Provenance

__all__ = ["FIXED_DATETIME", "SOURCES_TITLE", "write_pptx"]

FIXED_DATETIME = dt.datetime(2000, 1, 1, 0, 0, 0)
"""The date written into a deck's properties and zip members, so that two runs give one file."""

SOURCES_TITLE = "Sources and assumptions"

_ZIP_DATE = (2000, 1, 1, 0, 0, 0)
_KEYS = ("file_stem", "title", "teaches")
_TITLE, _SECTION, _BLANK, _TWO = 0, 2, 6, 3  # the default template's layouts


def check_entries(entries: Sequence[Mapping[str, str]]) -> None:
    for i, entry in enumerate(entries):
        missing = [k for k in _KEYS if k not in entry]
        if missing:
            raise KeyError(f"entry {i} lacks {missing}; each entry needs {list(_KEYS)}")


def _deterministic_zip(data: bytes) -> bytes:
    """The same archive with a fixed timestamp and fixed attributes on every member."""
    src = zipfile.ZipFile(io.BytesIO(data))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=_ZIP_DATE)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.create_system = 0
            fixed.external_attr = 0
            dst.writestr(fixed, src.read(info.filename))
    return buffer.getvalue()


class _Deck:
    """A python-pptx presentation with the theme's colours and the 16:9 geometry."""

    def __init__(self, theme: str) -> None:
        from pptx import Presentation
        from pptx.dml.color import RGBColor
        from pptx.util import Emu, Inches

        colors = theme_colors(theme)
        self.rgb = {k: RGBColor.from_string(v.lstrip("#").upper()) for k, v in colors.items()}
        self.prs = Presentation()
        self.width, self.height = Emu(12192000), Emu(6858000)  # 13.333 × 7.5 in: 16:9
        self.prs.slide_width, self.prs.slide_height = self.width, self.height
        self.margin = Inches(0.5)

    def slide(self, layout: int) -> Any:
        slide = self.prs.slides.add_slide(self.prs.slide_layouts[layout])
        fill = slide.background.fill
        fill.solid()
        fill.fore_color.rgb = self.rgb["background"]
        return slide

    def place(self, shape: Any, top: float, height: float, left: float | None = None,
              width: float | None = None) -> None:
        shape.left = int(self.margin if left is None else left)
        shape.top = int(top)
        shape.width = int(self.width - 2 * self.margin if width is None else width)
        shape.height = int(height)

    def write(self, frame: Any, lines: Sequence[str], size: float, color: str = "foreground",
              bold: bool = False, levels: Sequence[int] | None = None) -> None:
        """``lines`` as the paragraphs of ``frame``, in the theme's ``color``."""
        from pptx.util import Pt

        frame.word_wrap = True
        frame.clear()
        for k, line in enumerate(lines):
            paragraph = frame.paragraphs[0] if k == 0 else frame.add_paragraph()
            if levels is not None:
                paragraph.level = levels[k]
            run = paragraph.add_run()
            run.text = line
            run.font.size = Pt(size)
            run.font.bold = bold
            run.font.color.rgb = self.rgb[color]


def write_pptx(entries: Sequence[Mapping[str, str]], png_dir: str | os.PathLike[str],
               path: str | os.PathLike[str], title: str = "kubesim", *,
               subtitle: str | None = None, theme: str = "light",
               provenance: Provenance | None = None) -> Path:
    """Write the deck of ``entries`` (``<png_dir>/<file_stem>.png``) to ``path``; return the
    path. ``theme`` colours every slide; ``provenance`` adds the closing sources slide."""
    from pptx.util import Inches

    check_entries(entries)
    png_root = Path(png_dir)
    pngs = [png_root / f"{entry['file_stem']}.png" for entry in entries]
    missing = [str(p) for p in pngs if not p.is_file()]
    if missing:
        raise FileNotFoundError(f"no PNG for {len(missing)} entries: {missing}")
    deck = _Deck(theme)
    width, height = deck.width, deck.height

    slide = deck.slide(_TITLE)
    heading, sub = slide.shapes.title, slide.placeholders[1]
    deck.place(heading, Inches(2.3), Inches(1.5))
    deck.write(heading.text_frame, [title], 44, bold=True)
    deck.place(sub, Inches(3.9), Inches(1.0))
    n = f"{len(entries)} figure{'s' if len(entries) != 1 else ''}"
    deck.write(sub.text_frame, [subtitle if subtitle is not None else n], 22, "muted")

    caption_h, gap = Inches(0.5), Inches(0.08)
    pic_h = int(height - caption_h - 2 * gap - Inches(0.1))
    pic_w = int(pic_h * 16 / 9)
    sections = [str(e.get("section", "")) for e in entries]
    for k, (entry, png) in enumerate(zip(entries, pngs)):
        section = sections[k]
        if section and (k == 0 or section != sections[k - 1]):
            _section_slide(deck, section, [e for e, s in zip(entries, sections) if s == section])
        slide = deck.slide(_BLANK)
        left = int((width - pic_w) / 2)
        picture = slide.shapes.add_picture(str(png), left, int(gap), pic_w, pic_h)
        picture._element.nvPicPr.cNvPr.set("descr", str(entry["title"]))  # alternative text
        caption = slide.shapes.add_textbox(left, int(gap + pic_h + gap), pic_w, caption_h)
        deck.write(caption.text_frame, [str(entry["teaches"])], 13, "muted")
        caption.text_frame.paragraphs[0].runs[0].font.italic = True
        slide.notes_slide.notes_text_frame.text = f"{entry['title']}\n\n{entry['teaches']}"

    if provenance is not None:
        _sources_slide(deck, provenance)

    props = deck.prs.core_properties
    props.title = title
    props.author = "kubesim"
    props.last_modified_by = "kubesim"
    props.revision = 1
    props.created = props.modified = props.last_printed = FIXED_DATETIME
    buffer = io.BytesIO()
    deck.prs.save(buffer)
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(_deterministic_zip(buffer.getvalue()))
    return out


def _section_slide(deck: _Deck, section: str, members: Sequence[Mapping[str, str]]) -> None:
    """The section's name, and what its figures show (their titles, small)."""
    from pptx.enum.text import MSO_ANCHOR
    from pptx.util import Inches

    slide = deck.slide(_SECTION)
    heading, body = slide.shapes.title, slide.placeholders[1]
    deck.place(heading, Inches(1.6), Inches(1.4))
    deck.write(heading.text_frame, [section], 40, bold=True)
    deck.place(body, Inches(3.1), Inches(3.6))
    count = f"{len(members)} figure{'s' if len(members) != 1 else ''}"
    deck.write(body.text_frame, [count] + [f"· {m['title']}" for m in members], 16, "muted")
    body.text_frame.vertical_anchor = MSO_ANCHOR.TOP  # under the heading, however many figures


def _sources_slide(deck: _Deck, provenance: Provenance) -> None:
    """The closing slide: the sources on the left, the assumptions on the right."""
    from pptx.util import Inches, Pt

    slide = deck.slide(_TWO)
    heading, left, right = slide.shapes.title, slide.placeholders[1], slide.placeholders[2]
    deck.place(heading, Inches(0.25), Inches(0.9))
    deck.write(heading.text_frame, [SOURCES_TITLE], 30, bold=True)
    col = (deck.width - 2 * deck.margin - Inches(0.4)) / 2
    deck.place(left, Inches(1.25), Inches(6.0), width=col)
    deck.place(right, Inches(1.25), Inches(6.0), left=deck.margin + col + Inches(0.4), width=col)
    deck.write(left.text_frame, ["Sources", *provenance.sources], 11,
               levels=[0] + [1] * len(provenance.sources))
    lines = ["Assumptions", *provenance.assumptions[:1]]
    if provenance.ranked:
        lines += [provenance.ranked_by, *provenance.ranked]
    lines += list(provenance.assumptions[1:])
    levels = [0] + [1] * len(provenance.assumptions[:1])
    if provenance.ranked:
        levels += [1] + [2] * len(provenance.ranked)
    levels += [1] * len(provenance.assumptions[1:])
    deck.write(right.text_frame, lines, 11, levels=levels)
    for frame in (left.text_frame, right.text_frame):  # the column's heading
        frame.paragraphs[0].runs[0].font.size = Pt(16)
        frame.paragraphs[0].runs[0].font.bold = True
