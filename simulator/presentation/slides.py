"""`make slides`: every notebook as an executed reveal.js deck that works offline.

For each ``notebooks/NN-topic.ipynb`` (committed without outputs), this module

1. executes it top to bottom in a fresh kernel (nbclient; the ``python3`` kernel that
   ``make`` registers in ``.venv``; cwd ``notebooks/``; figures drawn by matplotlib's inline
   backend; ipywidgets off, so the static fallback cells are what the deck shows);
2. gives it slide metadata when it has none (only notebook 01 is written as a deck; see
   :func:`default_slides`);
3. exports it with nbconvert's SlidesExporter and kubesim's template
   (``slides_template/kubesim-reveal``): code cells and prompts hidden, 1920x1080 slides,
   figures as wide as the slide;
4. writes ``OUT/NN-topic.slides.html`` and, once, ``OUT/_assets/`` with the reveal.js,
   require.js and jQuery the decks load, copied from ``node_modules/`` (``npm ci`` installs the
   versions pinned in ``package.json``), plus ``OUT/index.html`` linking the decks.

Every deck loads its scripts and style sheets from ``_assets/`` by relative URL; a deck that
still refers to an ``http(s)://`` script or style sheet is refused (:func:`external_references`),
so the folder can be opened from disk, copied to a laptop, or served, with no network.

nbconvert, nbclient and nbformat come with the ``notebooks`` extra (``pip install -e
'.[notebooks]'``); this module imports them only when it runs.
"""

from __future__ import annotations

import argparse
import html
import os
import re
import shutil
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK_DIR = ROOT / "notebooks"
NODE_MODULES = ROOT / "node_modules"
TEMPLATE_DIR = Path(__file__).resolve().parent / "slides_template"
TEMPLATE = "kubesim-reveal"
ASSETS = "_assets"
# 16:9 at the size of kubesim's figures (simulator/presentation/style.py draws 1920x1080).
SLIDE_WIDTH, SLIDE_HEIGHT = 1920, 1080
CELL_TIMEOUT_S = 300  # ASSUMPTION: 2.5x the slowest cell test_notebooks.py allows (120 s)
INLINE_BACKEND = "module://matplotlib_inline.backend_inline"

# What the decks load, as (file or folder under node_modules/, where it goes under _assets/).
# The source maps (several MB) and the ES-module build are not needed and not copied.
ASSET_FILES = (
    ("reveal.js/dist/reveal.js", "reveal.js/dist/reveal.js"),
    ("reveal.js/dist/reveal.css", "reveal.js/dist/reveal.css"),
    ("reveal.js/dist/reset.css", "reveal.js/dist/reset.css"),
    ("reveal.js/dist/theme", "reveal.js/dist/theme"),
    ("reveal.js/plugin/notes/notes.js", "reveal.js/plugin/notes/notes.js"),
    ("reveal.js/LICENSE", "reveal.js/LICENSE"),
    ("requirejs/require.js", "require.js"),
    ("jquery/dist/jquery.min.js", "jquery.min.js"),
)

_EXTERNAL = re.compile(
    r"""<(?:script|link|img|iframe)\b[^>]*?\b(?:src|href)\s*=\s*["']?\s*((?:https?:)?//[^"'\s>]+)"""
    r"""|@import\s+(?:url\()?\s*["']?((?:https?:)?//[^"')\s]+)"""
    r"""|\bimport\s+[\w{}\s,*]+\s+from\s+["']((?:https?:)?//[^"']+)""",
    re.IGNORECASE,
)


class SlidesError(RuntimeError):
    """A deck could not be built, or would not work offline."""


def external_references(page: str) -> list[str]:
    """The URLs of scripts, style sheets, images, frames and ES-module imports that ``page``
    would fetch from another host (``http://``, ``https://`` or protocol-relative ``//``).
    Plain links (``<a href>``) and URLs in text are not fetched and do not count."""
    return sorted({next(g for g in m.groups() if g) for m in _EXTERNAL.finditer(page)})


def missing_assets(node_modules: Path = NODE_MODULES) -> list[str]:
    """The files of :data:`ASSET_FILES` that are not under ``node_modules`` (empty when the
    decks can be built)."""
    return [src for src, _ in ASSET_FILES if not (node_modules / src).exists()]


def copy_assets(out: Path, node_modules: Path = NODE_MODULES) -> Path:
    """Copy what the decks load into ``out/_assets`` (replacing what was there)."""
    missing = missing_assets(node_modules)
    if missing:
        raise SlidesError(
            f"reveal.js, require.js or jQuery not found under {node_modules} (missing: "
            f"{', '.join(missing)}): run `npm ci` in the repository (or `make slides`, which does).")
    assets = out / ASSETS
    if assets.exists():
        shutil.rmtree(assets)
    for src, dst in ASSET_FILES:
        target = assets / dst
        target.parent.mkdir(parents=True, exist_ok=True)
        if (node_modules / src).is_dir():
            shutil.copytree(node_modules / src, target)
        else:
            shutil.copy2(node_modules / src, target)
    return assets


def kernel_env(root: Path = ROOT) -> dict[str, str]:
    """The kernel's environment: kubesim importable from ``root`` even when not installed,
    matplotlib's inline backend (``make test`` exports MPLBACKEND=Agg, which a kernel would
    otherwise inherit)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(root), env.get("PYTHONPATH", "")) if p)
    env["MPLBACKEND"] = INLINE_BACKEND
    return env


def execute(path: Path, kernel_name: str = "python3") -> Any:
    """``path`` executed top to bottom in a fresh kernel (cwd: its folder); any error fails."""
    import nbclient
    import nbformat

    nb = nbformat.read(path, as_version=4)
    # a deck has no kernel to drive widgets: the notebooks draw their static figures instead
    nb.cells.insert(0, nbformat.v4.new_code_cell(
        "from simulator.presentation import notebook as _kubesim_notebook\n_kubesim_notebook.STATIC = True"))
    client = nbclient.NotebookClient(
        nb, timeout=CELL_TIMEOUT_S, kernel_name=kernel_name, allow_errors=False,
        store_widget_state=False, resources={"metadata": {"path": str(path.parent)}})
    client.execute(env=kernel_env())
    del nb.cells[0]
    return nb


def _slide_type(cell: Any) -> str | None:
    slideshow = cell.metadata.get("slideshow")
    return slideshow.get("slide_type") if isinstance(slideshow, dict) else None


def default_slides(nb: Any) -> Any:
    """Give an executed notebook slide metadata when none of its cells has any (a notebook
    written as a deck, like 01, is left as it is). The code is hidden on a slide, so: a
    markdown cell that opens with a heading starts a slide; a code cell's output (a figure, a
    table, printed text) gets a slide of its own below it (a subslide), so a figure can be as
    wide as the slide; other markdown continues the slide it follows, or starts a subslide
    after an output; a code cell with no output is skipped. Changes ``nb`` and returns it."""
    if any(_slide_type(c) for c in nb.cells):
        return nb
    after_output = False
    for cell in nb.cells:
        if cell.cell_type == "code":
            kind = "subslide" if cell.get("outputs") else "skip"
            after_output = kind == "subslide" or after_output
        elif cell.cell_type == "markdown" and cell.source.lstrip().startswith("#"):
            kind, after_output = "slide", False
        else:
            kind = "subslide" if after_output else "-"
            after_output = False
        cell.metadata["slideshow"] = {"slide_type": kind}
    return nb


def exporter(assets_url: str = ASSETS, theme: str = "white") -> Any:
    """nbconvert's SlidesExporter set up for kubesim's decks: kubesim's template, code and
    prompts hidden, every URL the template loads pointing under ``assets_url``."""
    from nbconvert.exporters import SlidesExporter

    exp = SlidesExporter(
        extra_template_basedirs=[str(TEMPLATE_DIR)], template_name=TEMPLATE,
        exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True,
        reveal_theme=theme, reveal_width=str(SLIDE_WIDTH), reveal_height=str(SLIDE_HEIGHT),
        reveal_url_prefix=f"{assets_url}/reveal.js",
        require_js_url=f"{assets_url}/require.js", jquery_url=f"{assets_url}/jquery.min.js",
    )
    return exp


def export(nb: Any, name: str, assets_url: str = ASSETS) -> str:
    """The deck's HTML; :class:`SlidesError` when it would fetch anything from another host."""
    body, _ = exporter(assets_url).from_notebook_node(nb, resources={"metadata": {"name": name}})
    external = external_references(body)
    if external:
        raise SlidesError(f"the deck {name} would load {', '.join(external)} from the network; "
                          f"every script and style sheet must come from {assets_url}/")
    return str(body)


def _index(decks: list[Path]) -> str:
    items = "\n".join(f'<li><a href="{html.escape(d.name)}">{html.escape(d.stem)}</a></li>'
                      for d in decks)
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<title>kubesim slides</title></head>\n<body><h1>kubesim slides</h1>\n"
            f"<ul>\n{items}\n</ul>\n</body></html>\n")


def build(notebooks: list[Path], out: Path, node_modules: Path = NODE_MODULES) -> list[Path]:
    """Execute and export ``notebooks`` into ``out``; the decks written, in order."""
    out.mkdir(parents=True, exist_ok=True)
    copy_assets(out, node_modules)
    decks = []
    for path in notebooks:
        print(f"executing {path.name} ...", flush=True)
        nb = default_slides(execute(path))
        deck = out / f"{path.stem}.slides.html"
        deck.write_text(export(nb, path.stem), encoding="utf-8")
        decks.append(deck)
        print(f"  wrote {deck}", flush=True)
    (out / "index.html").write_text(_index(decks), encoding="utf-8")
    return decks


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m simulator.presentation.slides",
        description="Execute the notebooks and write them as reveal.js decks that work offline.")
    parser.add_argument("notebooks", nargs="*", type=Path,
                        help="the notebooks (default: notebooks/*.ipynb)")
    parser.add_argument("--out", type=Path, default=ROOT / "out" / "slides",
                        help="where the decks go (default: out/slides)")
    parser.add_argument("--node-modules", type=Path, default=NODE_MODULES,
                        help="where `npm ci` put reveal.js, requirejs and jquery")
    args = parser.parse_args(argv)
    notebooks = args.notebooks or sorted(NOTEBOOK_DIR.glob("*.ipynb"))
    try:
        decks = build(notebooks, args.out, args.node_modules)
    except SlidesError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"{len(decks)} decks in {args.out}: open {args.out / 'index.html'} (works offline)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
