"""Publishing a set of figures: an HTML index page and a PowerPoint deck.

Both take the same ``entries``: a list of dicts ``{"file_stem": ..., "title": ..., "teaches": ...}``
where ``file_stem`` names a figure saved by :func:`~simulator.presentation.style.save_figure`
without its extension (``figures/time-by-hop`` for ``figures/time-by-hop.png`` and ``.svg``),
``title`` is what the figure shows and ``teaches`` is one line on what it teaches. ``kubesim
figures`` takes them from the figure registry (:mod:`simulator.presentation.figures.registry`).

* :func:`write_index` writes a self-contained HTML page (inline style, no script, no external
  asset) that lists every figure with its title, what it teaches, a thumbnail and links to its
  PNG and SVG by relative paths, so the folder can be moved or served as it is.
* :func:`write_pptx` writes a 16:9 deck: a title slide, then one slide per figure with the
  entry's title, the PNG filling the body and the "teaches" line as a caption and as the
  speaker notes.

Both write deterministic bytes: the same entries (and PNGs) give the same file. For the deck this
takes two measures python-pptx does not take by itself: the document's core properties
(created, modified, last printed, revision, author) are set to fixed values, and the zip archive
is rewritten with a fixed timestamp on every member (python-pptx stamps each with the time of
saving).
"""

from __future__ import annotations

import datetime as dt
import html
import io
import os
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from urllib.parse import quote

__all__ = ["write_index", "write_pptx", "FIXED_DATETIME"]

FIXED_DATETIME = dt.datetime(2000, 1, 1, 0, 0, 0)
"""The date written into a deck's properties and zip members, so that two runs give one file."""

_ZIP_DATE = (2000, 1, 1, 0, 0, 0)
_KEYS = ("file_stem", "title", "teaches")


def _check(entries: Sequence[Mapping[str, str]]) -> None:
    for i, entry in enumerate(entries):
        missing = [k for k in _KEYS if k not in entry]
        if missing:
            raise KeyError(f"entry {i} lacks {missing}; each entry needs {list(_KEYS)}")


def _relative(stem: str | os.PathLike[str], base: Path) -> str:
    """``stem`` as a POSIX path relative to ``base`` (a relative stem is taken as relative to
    ``base`` already)."""
    stem_path = Path(stem)
    if stem_path.is_absolute():
        return Path(os.path.relpath(stem_path, base.resolve())).as_posix()
    return stem_path.as_posix()


_CSS = """
:root { color-scheme: light dark; --fg: #222222; --muted: #666666; --bg: #FFFFFF;
        --card: #F6F7F9; --line: #DDDDDD; --link: #0072B2; }
@media (prefers-color-scheme: dark) {
  :root { --fg: #E8E8E8; --muted: #A0A0A0; --bg: #14181D; --card: #1C2229; --line: #3A4048;
          --link: #56B4E9; }
}
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 1280px; padding: 32px 24px 48px; background: var(--bg);
       color: var(--fg); font: 16px/1.45 "DejaVu Sans", system-ui, sans-serif; }
h1 { font-size: 28px; margin: 0 0 4px; }
p.lead { color: var(--muted); margin: 0 0 28px; }
ol { list-style: none; margin: 0; padding: 0; display: grid; gap: 24px;
     grid-template-columns: repeat(auto-fill, minmax(380px, 1fr)); }
li { background: var(--card); border: 1px solid var(--line); border-radius: 8px;
     overflow: hidden; display: flex; flex-direction: column; }
li img { display: block; width: 100%; height: auto; aspect-ratio: 16 / 9;
         border-bottom: 1px solid var(--line); background: var(--bg); }
li div { padding: 12px 16px 16px; }
h2 { font-size: 18px; margin: 0 0 6px; }
h2 span { color: var(--muted); font-weight: normal; }
p.teaches { margin: 0 0 10px; }
p.files { margin: 0; font-size: 14px; }
a { color: var(--link); }
""".strip()


def write_index(entries: Sequence[Mapping[str, str]], path: str | os.PathLike[str], *,
                title: str = "kubesim figures") -> Path:
    """Write a self-contained HTML index of ``entries`` to ``path``; return the path.

    Each figure is listed in order with its number, title, the "teaches" line, a thumbnail and
    links to ``<file_stem>.png`` and ``<file_stem>.svg``, relative to the page's folder. The
    page has no script and loads nothing from elsewhere; its bytes depend only on the entries.
    """
    _check(entries)
    out = Path(path)
    base = out.parent
    items = []
    for n, entry in enumerate(entries, start=1):
        stem = _relative(entry["file_stem"], base)
        png, svg = quote(stem + ".png"), quote(stem + ".svg")
        name = html.escape(str(entry["title"]))
        teaches = html.escape(str(entry["teaches"]))
        items.append(
            "<li>\n"
            f'<a href="{png}"><img src="{png}" alt="{name}" width="1920" height="1080"'
            ' loading="lazy"></a>\n'
            "<div>\n"
            f"<h2><span>{n}.</span> {name}</h2>\n"
            f'<p class="teaches">{teaches}</p>\n'
            f'<p class="files"><a href="{png}">PNG</a> · <a href="{svg}">SVG</a></p>\n'
            "</div>\n"
            "</li>"
        )
    count = f"{len(entries)} figure{'s' if len(entries) != 1 else ''}"
    page = (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n'
        "<head>\n"
        '<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{html.escape(title)}</title>\n"
        f"<style>\n{_CSS}\n</style>\n"
        "</head>\n"
        "<body>\n"
        f"<h1>{html.escape(title)}</h1>\n"
        f'<p class="lead">{count}, each 1920 × 1080 px (PNG) and scalable (SVG).</p>\n'
        "<ol>\n" + "\n".join(items) + ("\n" if items else "") + "</ol>\n"
        "</body>\n"
        "</html>\n"
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(page.encode("utf-8"))
    return out


# --------------------------------------------------------------------------------------------
# PowerPoint


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


def write_pptx(entries: Sequence[Mapping[str, str]], png_dir: str | os.PathLike[str],
               path: str | os.PathLike[str], title: str = "kubesim", *,
               subtitle: str | None = None) -> Path:
    """Write a 16:9 deck to ``path``: a title slide, then one slide per entry; return the path.

    A figure slide has the entry's title as its title, ``<png_dir>/<file_stem>.png`` filling the
    body at 16:9, and the "teaches" line as a small caption under it and as the slide's notes.
    Two calls with the same entries and PNGs write identical bytes (fixed core properties and
    zip timestamps).
    """
    from pptx import Presentation
    from pptx.dml.color import RGBColor
    from pptx.util import Emu, Inches, Pt

    _check(entries)
    png_root = Path(png_dir)
    pngs = [png_root / f"{entry['file_stem']}.png" for entry in entries]
    missing = [str(p) for p in pngs if not p.is_file()]
    if missing:
        raise FileNotFoundError(f"no PNG for {len(missing)} entries: {missing}")

    deck = Presentation()
    width, height = Emu(12192000), Emu(6858000)  # 13.333 × 7.5 in: 16:9
    deck.slide_width, deck.slide_height = width, height
    margin = Inches(0.45)
    muted = RGBColor(0x66, 0x66, 0x66)

    # title slide
    slide = deck.slides.add_slide(deck.slide_layouts[0])
    heading, sub = slide.shapes.title, slide.placeholders[1]
    heading.left, heading.top = margin, Inches(2.3)
    heading.width, heading.height = width - 2 * margin, Inches(1.5)
    heading.text = title
    sub.left, sub.top = margin, Inches(3.9)
    sub.width, sub.height = width - 2 * margin, Inches(1.0)
    sub.text = subtitle if subtitle is not None else (
        f"{len(entries)} figure{'s' if len(entries) != 1 else ''}")

    title_h, caption_h, gap = Inches(0.85), Inches(0.45), Inches(0.08)
    for entry, png in zip(entries, pngs):
        slide = deck.slides.add_slide(deck.slide_layouts[5])  # "Title Only"
        heading = slide.shapes.title
        heading.left, heading.top = margin, Inches(0.15)
        heading.width, heading.height = width - 2 * margin, title_h
        heading.text = str(entry["title"])
        for paragraph in heading.text_frame.paragraphs:
            for run in paragraph.runs:
                run.font.size = Pt(28)
                run.font.bold = True
        # the picture: as large as fits between the title and the caption, at 16:9
        top = Inches(0.15) + title_h + gap
        body_h = height - top - caption_h - gap - Inches(0.1)
        pic_h = min(body_h, int((width - 2 * margin) * 9 / 16))
        pic_w = int(pic_h * 16 / 9)
        slide.shapes.add_picture(str(png), int((width - pic_w) / 2), top, pic_w, pic_h)
        caption = slide.shapes.add_textbox(int((width - pic_w) / 2), top + pic_h + gap, pic_w,
                                           caption_h)
        frame = caption.text_frame
        frame.word_wrap = True
        run = frame.paragraphs[0].add_run()
        run.text = str(entry["teaches"])
        run.font.size, run.font.italic = Pt(14), True
        run.font.color.rgb = muted
        slide.notes_slide.notes_text_frame.text = str(entry["teaches"])

    props = deck.core_properties
    props.title = title
    props.author = "kubesim"
    props.last_modified_by = "kubesim"
    props.revision = 1
    props.created = props.modified = props.last_printed = FIXED_DATETIME
    buffer = io.BytesIO()
    deck.save(buffer)
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(_deterministic_zip(buffer.getvalue()))
    return out
