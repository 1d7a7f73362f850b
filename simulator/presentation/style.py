"""One figure style for every kubesim chart.

Every figure kubesim draws, whether in a notebook, a PNG for a slide or an SVG for a document, goes
through this module, so that all of them look like one family (the SciencePlots idea):

* **Size.** 16:9, 12 × 6.75 in at 160 dpi, i.e. exactly 1920 × 1080 px: a full-screen slide.
  Fonts are sized for that page (17 pt body, 22 pt titles), which is still legible from the back
  of a room once the slide is projected; lines are 3 pt thick.
* **Colour.** The Okabe-Ito palette (Okabe & Ito, "Color Universal Design", 2008), which stays
  distinguishable under the common forms of colour-vision deficiency. Each runtime has ONE colour
  in every chart (:data:`RUNTIME_COLORS`); each process of a call chain has one colour in every
  hop-level chart (:data:`PROCESS_COLORS`), and a process named like a runtime shares that
  runtime's colour. CRI operations use Paul Tol's "muted" scheme (also colour-blind safe) so that
  they are never mistaken for runtimes. A name not listed gets a fallback colour derived from a
  checksum of the name, so it is the same on every run and every machine.
* **Themes.** ``"light"`` (white background, for documents and bright rooms) and ``"dark"``
  (for dark slide decks). The data colours are the same in both.
* **Determinism.** :func:`save_figure` writes PNG and SVG whose bytes depend only on the figure:
  no timestamp, no software version, a fixed SVG id salt. Figures can be regenerated and
  committed without spurious diffs.

Typical use::

    with figure_style("dark"):
        fig, ax = new_figure()
        ax.plot(x, y, color=runtime_color("containerd"))
    add_footnote(fig, "scenario default · seed 1 · 5 replications")
    save_figure(fig, "figures/my-chart")      # figures/my-chart.png and figures/my-chart.svg
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, cast

import matplotlib as mpl
from cycler import cycler
from matplotlib.figure import Figure
from matplotlib.layout_engine import ConstrainedLayoutEngine
from matplotlib.text import Text

__all__ = [
    "FIGSIZE_IN",
    "DPI",
    "THEMES",
    "OKABE_ITO",
    "RUNTIMES",
    "RUNTIME_COLORS",
    "PROCESS_ORDER",
    "PROCESS_COLORS",
    "OPERATION_ORDER",
    "OPERATION_COLORS",
    "runtime_color",
    "runtime_family",
    "runtime_sort_key",
    "process_color",
    "operation_color",
    "theme_colors",
    "figure_style",
    "literal_text",
    "new_figure",
    "add_footnote",
    "footnote_height",
    "save_figure",
]

FIGSIZE_IN = (12.0, 6.75)
"""Figure size in inches; with :data:`DPI` it gives 1920 × 1080 px (16:9)."""

DPI = 160

OKABE_ITO: Mapping[str, str] = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "bluish_green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish_purple": "#CC79A7",
}

RUNTIMES = ("dockershim", "containerd", "crio", "cri-dockerd")
"""The shipped call chains, in the order every chart lists them."""

RUNTIME_COLORS: Mapping[str, str] = {
    "dockershim": OKABE_ITO["vermillion"],
    "containerd": OKABE_ITO["blue"],
    "crio": OKABE_ITO["bluish_green"],
    "cri-dockerd": OKABE_ITO["reddish_purple"],
}

PROCESS_ORDER = (
    "kubelet",
    "dockershim",
    "cri-dockerd",
    "crio",
    "dockerd",
    "containerd",
    "containerd-shim",
    "conmon",
    "runc",
    "cni",
    "nsenter",
    "pinns",
)
"""Processes from the caller end of a chain to the far end: the default lane and stack order."""

# Processes named like a runtime keep that runtime's colour, so "the containerd colour" means the
# same thing on every chart. The helpers of a daemon get a lighter relative of its colour
# (sky blue for containerd's shim, a tint of green for CRI-O's conmon).
PROCESS_COLORS: Mapping[str, str] = {
    "kubelet": "#999999",
    "dockershim": RUNTIME_COLORS["dockershim"],
    "cri-dockerd": RUNTIME_COLORS["cri-dockerd"],
    "crio": RUNTIME_COLORS["crio"],
    "dockerd": OKABE_ITO["orange"],
    "containerd": RUNTIME_COLORS["containerd"],
    "containerd-shim": OKABE_ITO["sky_blue"],
    "conmon": "#80CEB9",
    "runc": OKABE_ITO["yellow"],
    "cni": "#882255",
    "nsenter": "#999933",
    "pinns": "#AA4499",
}

OPERATION_ORDER = (
    "run_podsandbox",
    "podsandbox_status",
    "image_status",
    "pull_image",
    "create_container",
    "start_container",
    "container_status",
    "list_podsandbox",
    "list_containers",
)
"""The kubelet's CRI operations in the order SyncPod first issues them."""

# Paul Tol's "muted" scheme: colour-blind safe and visibly a different family from Okabe-Ito.
OPERATION_COLORS: Mapping[str, str] = {
    "run_podsandbox": "#332288",
    "podsandbox_status": "#88CCEE",
    "image_status": "#DDCC77",
    "pull_image": "#999933",
    "create_container": "#44AA99",
    "start_container": "#CC6677",
    "container_status": "#AA4499",
    "list_podsandbox": "#117733",
    "list_containers": "#882255",
}

# For names no table lists (a user's chain with crun, kata...): muted tones that none of the
# colours above resembles, so an unknown process is never mistaken for a known one.
_FALLBACK_COLORS = ("#9C755F", "#5D6D7E", "#BAB0AC")

THEMES: Mapping[str, Mapping[str, str]] = {
    "light": {
        "background": "#FFFFFF",
        "foreground": "#222222",
        "muted": "#666666",
        "grid": "#DDDDDD",
        "band": "#EEF1F5",
    },
    "dark": {
        "background": "#14181D",
        "foreground": "#E8E8E8",
        "muted": "#A0A0A0",
        "grid": "#3A4048",
        "band": "#222A33",
    },
}

_FOOTNOTE_FONTSIZE_PT = 11
_FOOTNOTE_COLOR = "#8A8A8A"  # mid grey: readable on both the light and the dark background
# text stays text in the SVG (svg.fonttype "none"), so a trainer can edit a label or a title in
# a vector editor or a slide tool; the font asked for is DejaVu Sans (falling back to sans-serif).
# A "$" in a user's name is a dollar sign, not mathtext.
_SAVE_RC = {"svg.hashsalt": "kubesim", "svg.fonttype": "none", "text.parse_math": False}
_NO_METADATA = {
    "png": {"Software": None},
    "svg": {"Date": None, "Creator": None},
}


def _fallback_color(name: str) -> str:
    # crc32, not hash(): Python salts str hashes per process, and colours must not change.
    return _FALLBACK_COLORS[zlib.crc32(name.encode("utf-8")) % len(_FALLBACK_COLORS)]


_VERSION_SUFFIX = re.compile(r"-\d+(\.\d+)*$")


def runtime_family(runtime: str) -> str:
    """The shipped chain a runtime belongs to: ``dockershim-1.10`` is a ``dockershim``."""
    return _VERSION_SUFFIX.sub("", runtime)


def runtime_sort_key(runtime: str) -> tuple[int, str]:
    """Orders runtimes as :data:`RUNTIMES` does, era variants beside their family."""
    family = runtime_family(runtime)
    return (RUNTIMES.index(family) if family in RUNTIMES else len(RUNTIMES), runtime)


def runtime_color(runtime: str) -> str:
    """The runtime's fixed colour, shared by its era variants (``containerd-1.1``); a
    deterministic fallback for a user-defined chain."""
    return RUNTIME_COLORS.get(runtime_family(runtime)) or _fallback_color(runtime)


def process_color(process: str) -> str:
    """The process's fixed colour (a deterministic fallback for an unknown process)."""
    return PROCESS_COLORS.get(process) or _fallback_color(process)


def operation_color(operation: str) -> str:
    """The CRI operation's fixed colour (a deterministic fallback for an unknown operation)."""
    return OPERATION_COLORS.get(operation) or _fallback_color(operation)


def theme_colors(theme: str) -> Mapping[str, str]:
    """The named colours (background, foreground, muted, grid, band) of a theme."""
    try:
        return THEMES[theme]
    except KeyError:
        raise ValueError(f"unknown theme {theme!r}; allowed: {', '.join(THEMES)}") from None


def _rc(theme: str) -> dict[str, Any]:
    c = theme_colors(theme)
    return {
        "figure.figsize": FIGSIZE_IN,
        "figure.dpi": DPI,
        "figure.facecolor": c["background"],
        "figure.edgecolor": c["background"],
        "savefig.dpi": DPI,
        "savefig.facecolor": c["background"],
        "savefig.edgecolor": c["background"],
        "font.family": "DejaVu Sans",  # ships with matplotlib: identical glyphs on every machine
        "font.size": 17,
        "figure.titlesize": 24,
        "figure.titleweight": "bold",
        "axes.titlesize": 22,
        "axes.titleweight": "bold",
        "axes.titlelocation": "left",
        "axes.titlepad": 14,
        "axes.labelsize": 18,
        "axes.labelcolor": c["foreground"],
        "axes.labelpad": 8,
        "axes.facecolor": c["background"],
        "axes.edgecolor": c["muted"],
        "axes.linewidth": 1.4,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.grid": True,
        "axes.axisbelow": True,
        "axes.prop_cycle": cycler(color=list(RUNTIME_COLORS.values())),
        "grid.color": c["grid"],
        "grid.linewidth": 1.0,
        "text.color": c["foreground"],
        # names come from users (scenario, chain, template and step names): a "$" is a dollar
        # sign, never the start of mathtext ("cost $\\alpha^$" would not parse); no kubesim
        # figure uses mathtext
        "text.parse_math": False,
        "xtick.color": c["muted"],
        "ytick.color": c["muted"],
        "xtick.labelcolor": c["foreground"],
        "ytick.labelcolor": c["foreground"],
        "xtick.labelsize": 16,
        "ytick.labelsize": 16,
        "xtick.major.width": 1.4,
        "ytick.major.width": 1.4,
        "xtick.major.size": 6,
        "ytick.major.size": 6,
        "lines.linewidth": 3.0,
        "lines.markersize": 10,
        "patch.linewidth": 1.0,
        "legend.fontsize": 15,
        "legend.title_fontsize": 15,
        "legend.frameon": False,
        "legend.labelcolor": c["foreground"],
        "hatch.color": c["background"],
        "hatch.linewidth": 1.6,
    }


@contextmanager
def figure_style(theme: str = "light") -> Iterator[Mapping[str, str]]:
    """Apply the kubesim style within a ``with`` block; yields the theme's colours.

    Matplotlib reads most style settings when an artist is created, so build and draw the whole
    figure inside the block; saving may happen outside it (:func:`save_figure` sets what saving
    needs itself).
    """
    colors = theme_colors(theme)
    with mpl.rc_context(cast(Any, _rc(theme))):
        yield colors


def new_figure(nrows: int = 1, ncols: int = 1, **subplots_kw: Any) -> tuple[Figure, Any]:
    """A 1920 × 1080 px figure with a constrained layout, and its axes (like ``plt.subplots``).

    Uses the object API (no pyplot state), so it works headless and never leaks figures. Call it
    inside :func:`figure_style`.
    """
    fig = Figure(figsize=FIGSIZE_IN, dpi=DPI, layout="constrained")
    return fig, fig.subplots(nrows, ncols, squeeze=True, **subplots_kw)


def add_footnote(fig: Figure, text: str) -> None:
    """Write a small footnote at the bottom-left (scenario, seed, replications...).

    With a constrained layout the axes are shrunk to leave room for it; with a manual layout the
    caller must keep the bottom ~4 % of the figure free.
    """
    height = footnote_height(fig, text.count("\n") + 1)
    fig.text(
        0.008,
        0.006,
        text,
        ha="left",
        va="bottom",
        fontsize=_FOOTNOTE_FONTSIZE_PT,
        color=_FOOTNOTE_COLOR,
    )
    engine = fig.get_layout_engine()
    if isinstance(engine, ConstrainedLayoutEngine):
        keys = [leg for leg in fig.legends if getattr(leg, KEY_ABOVE_FOOTNOTE, None) is not None]
        if keys:  # a key kept above the footnote (legend_below_figure): lift it over this one
            for leg in keys:
                leg.set_bbox_to_anchor((0.5, height), transform=fig.transFigure)
            height += max(getattr(leg, KEY_ABOVE_FOOTNOTE) for leg in keys)
        engine.set(rect=(0.0, height, 1.0, 1.0 - height))


def literal_text(fig: Figure) -> Figure:
    """Every text of ``fig`` shown as written: a ``$`` in a user's name (scenario, chain,
    template, step) is a dollar sign, not mathtext, which would fail to parse ("cost $5 or $")."""
    for text in fig.findobj(Text):
        text.set_parse_math(False)
    return fig


KEY_ABOVE_FOOTNOTE = "_kubesim_key_height"
"""The attribute a figure legend kept above the footnote carries: its height (figure fraction)."""


def footnote_height(fig: Figure, lines: int = 1) -> float:
    """The share of ``fig``'s height a footnote of ``lines`` lines takes at the bottom."""
    return (lines * _FOOTNOTE_FONTSIZE_PT * 1.35 / 72 * fig.dpi + 12) / fig.bbox.height


def save_figure(fig: Figure, path_without_ext: str | Path) -> tuple[Path, Path]:
    """Write ``<path>.png`` (exactly 1920 × 1080 px) and ``<path>.svg``; return both paths.

    The bytes depend only on the figure: no date, no software version, a fixed SVG hash salt,
    and no tight bounding box (which would change the pixel size).
    """
    base = Path(path_without_ext)
    base.parent.mkdir(parents=True, exist_ok=True)
    literal_text(fig)
    written = []
    with mpl.rc_context(cast(Any, _SAVE_RC)):
        for fmt in ("png", "svg"):
            out = base.with_name(base.name + "." + fmt)
            fig.savefig(
                out,
                format=fmt,
                dpi=DPI,
                facecolor=fig.get_facecolor(),
                edgecolor=fig.get_facecolor(),
                bbox_inches=None,
                metadata=_NO_METADATA[fmt],
            )
            written.append(out)
    return written[0], written[1]
