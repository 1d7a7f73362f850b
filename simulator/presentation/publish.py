"""Publishing a set of figures: an HTML index page and a PowerPoint deck.

Both take the same ``entries``: a list of dicts ``{"file_stem": ..., "title": ..., "teaches": ...}``
where ``file_stem`` names a figure saved by :func:`~simulator.presentation.style.save_figure`
without its extension (``figures/time-by-hop`` for ``figures/time-by-hop.png`` and ``.svg``),
``title`` is what the figure shows and ``teaches`` is one line on what it teaches. ``kubesim
figures`` takes them from the figure registry (:mod:`simulator.presentation.figures.registry`).

* :func:`write_index` writes a self-contained HTML page (inline style, no script, no external
  asset) that lists every figure with its title, what it teaches, a thumbnail and links to its
  PNG and SVG by relative paths, so the folder can be moved or served as it is.
* :func:`write_pptx` (:mod:`.deck`) writes a 16:9 deck in the figures' theme: a title slide,
  section slides, one slide per figure (the figure carries its own title; the "teaches" line is
  its caption and speaker notes) and a closing sources-and-assumptions slide.

Both write deterministic bytes: the same entries (and PNGs) give the same file.
"""

from __future__ import annotations

import html
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from urllib.parse import quote

from .deck import FIXED_DATETIME, write_pptx
from .deck import check_entries as _check

__all__ = ["write_index", "write_pptx", "FIXED_DATETIME"]


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
