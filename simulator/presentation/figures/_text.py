"""Text measured without a renderer, to fit labels and titles while a figure is drawn: widths
and line heights at the figures' DPI (matplotlib's ``TextToPath``, DejaVu Sans), cutting,
wrapping and shrinking to a width, and takeaway titles fitted to the figure (one line shrunk
down to 15 pt, else two balanced lines). Re-exported by ``_draw``.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

from matplotlib.font_manager import FontProperties
from matplotlib.textpath import TextToPath

from ..style import DPI

__all__ = ["text_width_px", "line_height_px", "text_size_px", "truncate", "fit_text", "wrap",
           "largest_size", "shrink_to_fit", "TITLE_PT", "title_size", "fitted_title"]

_TEXT_PATH = TextToPath()


@lru_cache(maxsize=8192)
def text_width_px(text: str, size_pt: float, weight: str = "normal") -> float:
    """Width of a one-line text in pixels at the figures' DPI, measured without a renderer."""
    prop = FontProperties(family="DejaVu Sans", size=size_pt, weight=weight)
    width, _, _ = _TEXT_PATH.get_text_width_height_descent(text, prop, ismath=False)
    return width * DPI / 72


def line_height_px(size_pt: float, spacing: float = 1.25) -> float:
    """Height of one line of text in pixels: ``spacing`` × the font size (ascent, descent and
    pad at 1.25; the heatmap's cells pack lines at 1.22)."""
    return size_pt * spacing * DPI / 72


def text_size_px(text: str, size_pt: float, weight: str = "normal") -> tuple[float, float]:
    """Width and line height (ascent + descent + pad) of a one-line text in pixels."""
    return text_width_px(text, size_pt, weight), line_height_px(size_pt)


def truncate(text: str, max_chars: int) -> str:
    """``text`` cut to at most ``max_chars`` characters, the last one an ellipsis."""
    return text if len(text) <= max_chars else text[: max_chars - 1].rstrip() + "…"


def fit_text(text: str, width_px: float, size_pt: float, weight: str = "normal", *,
             ellipsis_counts: bool = False) -> str:
    """``text`` if it is no wider than ``width_px``, else the longest cut of it with an
    ellipsis that is, else ``""``.

    A cut keeps ``n`` characters and adds the ellipsis, ``n`` from ``len(text) - 1`` down to 1.
    With ``ellipsis_counts`` the ellipsis takes the place of a character, as in
    :func:`truncate` (``n`` from ``len(text) - 2`` down to 0): the sequence diagram's labels.
    """
    if text_width_px(text, size_pt, weight) <= width_px:
        return text
    skip = 1 if ellipsis_counts else 0
    for n in range(len(text) - 1 - skip, -skip, -1):
        short = text[:n].rstrip() + "…"
        if text_width_px(short, size_pt, weight) <= width_px:
            return short
    return ""


def wrap(text: str, width_px: float, size_pt: float, weight: str = "normal") -> list[str]:
    """Greedy word wrap to ``width_px`` (a word wider than the line is cut with an ellipsis)."""
    lines: list[str] = []
    for word in text.split(" "):
        trial = f"{lines[-1]} {word}" if lines else word
        if lines and text_width_px(trial, size_pt, weight) <= width_px:
            lines[-1] = trial
        else:
            lines.append(fit_text(word, width_px, size_pt, weight))
    return lines


def largest_size(text: str, width_px: float, sizes: Sequence[float], weight: str = "normal"
                 ) -> float | None:
    """The largest size of ``sizes`` at which every line of ``text`` fits ``width_px``."""
    for size in sizes:
        if all(text_width_px(line, size, weight) <= width_px for line in text.split("\n")):
            return size
    return None


def shrink_to_fit(text: str, width_px: float, size_pt: float, weight: str = "normal") -> float:
    """``size_pt``, less half a point at a time (down to 10 pt) until ``text`` fits."""
    while size_pt > 10 and text_width_px(text, size_pt, weight) > width_px:
        size_pt -= 0.5
    return size_pt


TITLE_PT = 22.0


def title_size(text: str, width_px: float, size_pt: float = TITLE_PT, smallest: float = 15.0) -> float:
    """The size (``size_pt`` down to ``smallest``) at which a bold one-line title fits
    ``width_px``: a takeaway computed from the data can be longer than a fixed title."""
    return max(shrink_to_fit(text, width_px, size_pt, "bold"), smallest)


def fitted_title(text: str, width_px: float, smallest: float = 15.0) -> tuple[str, float]:
    """A bold title and its size so that it fits ``width_px``: one line, shrunk down to
    ``smallest``; if it is still too long, two lines: broken after a comma, colon or semicolon
    when such a break fits (the most balanced of them), else at the most balanced word boundary."""
    size = shrink_to_fit(text, width_px, TITLE_PT, "bold")
    if size >= smallest:
        return text, size
    words = text.split(" ")
    splits = [(" ".join(words[:i]), " ".join(words[i:])) for i in range(1, len(words))]
    if not splits:  # one word: only shrinking can help
        return text, smallest

    def widest(pair: tuple[str, str]) -> float:
        return max(text_width_px(pair[0], smallest, "bold"), text_width_px(pair[1], smallest, "bold"))

    clause = [p for p in splits if p[0].endswith((",", ":", ";")) and widest(p) <= width_px]
    a, b = min(clause or splits, key=widest)  # a clause break when one fits, else the most balanced
    size = min(shrink_to_fit(a, width_px, TITLE_PT, "bold"), shrink_to_fit(b, width_px, TITLE_PT, "bold"))
    return f"{a}\n{b}", max(size, 10.0)
