"""The notebooks in notebooks/: they run headless, are committed clean, and 01 is a slide deck.

* every notebook executes top to bottom in a fresh ``python3`` kernel (nbclient, cwd =
  notebooks/, 120 s per cell, any error fails), opens with "What you will learn" and closes
  with "Takeaways"; a kernel is there, so the sliders of notebook 02 are built (headless);
* every figure a notebook displays is 16:9 (the kubesim style's size, not cropped);
* every notebook teaches: "Predict, then run" prompts, and two or three exercises whose
  solutions (``<details>`` blocks) hold code that runs, after the notebook, in its kernel
  without error (each solution asserts the observation it states);
* the committed .ipynb files hold no outputs (each is paired with a Jupytext ``.py`` source:
  tests/test_notebook_sources.py checks the pairs are in sync);
* the slide notebook, once executed (so its figures are embedded), converts to a reveal.js deck
  with nbconvert's SlidesExporter whose ``<section>`` structure matches the notebook's slide
  metadata, both in the HTML nbconvert writes and in the DOM headless Chromium builds from it.
"""

from __future__ import annotations

import base64
import functools
import os
import re
import shutil
import struct
import subprocess
import time
from html.parser import HTMLParser
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

ROOT = Path(__file__).resolve().parents[1]
NB_DIR = ROOT / "notebooks"
NOTEBOOKS = sorted(NB_DIR.glob("*.ipynb"))
SLIDE_NOTEBOOK = NB_DIR / "01-tour-of-the-call-chains.ipynb"
CELL_TIMEOUT_S = 120


def _kernel_env() -> dict[str, str]:
    env = dict(os.environ)
    # kubesim importable even when it is not pip-installed (the notebooks also fall back to
    # the checkout); widgets off, so the headless fallback path is what runs, wherever pytest
    # itself was started (a Jupyter or VS Code terminal sets the variables they look for)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    return env


SOLUTION = re.compile(r"<details>\s*<summary>\s*Solution\s*</summary>(.*?)</details>", re.DOTALL)
CODE = re.compile(r"```python\n(.*?)```", re.DOTALL)


def solutions(nb) -> list[str]:
    """The code of every exercise solution: the python blocks of each ``<details>`` block."""
    out = []
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for block in SOLUTION.findall(_text(cell)):
                code = "\n".join(CODE.findall(block))
                assert code.strip(), f"a solution without code in {_text(cell)[:80]!r}"
                out.append(code)
    return out


@functools.lru_cache(maxsize=None)
def executed(path: Path) -> tuple[nbformat.NotebookNode, float, list]:
    """The notebook executed in a fresh kernel, the seconds it took, and the executed cells of
    its exercise solutions, run after it in the same kernel (cached per session)."""
    nb = nbformat.read(path, as_version=4)
    n = len(nb.cells)
    nb.cells += [nbformat.v4.new_code_cell(code) for code in solutions(nb)]
    done: dict[int, float] = {}
    client = nbclient.NotebookClient(
        nb, timeout=CELL_TIMEOUT_S, kernel_name="python3", allow_errors=False,
        resources={"metadata": {"path": str(NB_DIR)}},  # the kernel's cwd
        on_cell_executed=lambda cell, cell_index, execute_reply: done.__setitem__(cell_index, time.monotonic()),
    )
    start = time.monotonic()
    client.execute(env=_kernel_env())
    last = max(i for i in done if i < n)
    solved, nb.cells = nb.cells[n:], nb.cells[:n]
    return nb, done[last] - start, solved


def _text(cell) -> str:
    return cell.source if isinstance(cell.source, str) else "".join(cell.source)


def test_there_are_notebooks():
    assert len(NOTEBOOKS) >= 5, f"expected the five notebooks in {NB_DIR}, found {NOTEBOOKS}"
    assert SLIDE_NOTEBOOK in NOTEBOOKS


@pytest.fixture(scope="module", autouse=True)
def _executed_two_at_a_time():
    """The notebooks executed two at a time before this module's tests read them (each runs in a
    kernel process of its own; the CI machine has two cores). A notebook that fails here is run
    again, alone, by its own test, which reports the failure."""
    from concurrent.futures import ThreadPoolExecutor

    def attempt(path: Path) -> None:
        try:
            executed(path)
        except Exception:  # noqa: BLE001 - its test runs it again and says what failed
            pass

    with ThreadPoolExecutor(2) as pool:
        list(pool.map(attempt, NOTEBOOKS))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_executes(path: Path):
    nb, seconds, _ = executed(path)
    first, last = nb.cells[0], nb.cells[-1]
    assert first.cell_type == "markdown" and "What you will learn" in _text(first)
    assert last.cell_type == "markdown" and "Takeaways" in _text(last)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.execution_count is not None for c in code), "a code cell did not run"
    outputs = [o for c in code for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert images, "the notebook drew no figure"
    # "well under a minute" on a 2-core machine; the bound leaves room for a slow CI host
    assert seconds < 150, f"{path.name} took {seconds:.0f} s"


def _png_size(data: str) -> tuple[int, int]:
    raw = base64.b64decode(data)
    assert raw[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", raw[16:24])
    return width, height


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_figures_are_16_9(path: Path):
    nb, _, _ = executed(path)
    sizes = [_png_size(o["data"]["image/png"]) for c in nb.cells if c.cell_type == "code"
             for o in c.outputs if "image/png" in o.get("data", {})]
    assert sizes
    odd = [(w, h) for w, h in sizes if abs(w / h / (16 / 9) - 1) > 0.01]
    assert not odd, f"{path.name}: figures not 16:9 (px): {odd}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_teaches(path: Path):
    """'Predict, then run' prompts, each followed by a code cell; 2-3 exercises with solutions
    that run in the notebook's kernel (executed() raises if one fails)."""
    nb, _, solved = executed(path)
    cells = nb.cells
    prompts = [i for i, c in enumerate(cells) if c.cell_type == "markdown" and "Predict, then run" in _text(c)]
    assert 1 <= len(prompts) <= 3, f"{path.name}: {len(prompts)} 'Predict, then run' prompts"
    for i in prompts:
        assert any(c.cell_type == "code" for c in cells[i + 1:i + 3]), f"cell {i}: a prompt with no cell to run"
    assert 2 <= len(solved) <= 3, f"{path.name}: {len(solved)} exercise solutions"
    unchecked = [c.source[:60] for c in solved if "assert " not in c.source]
    assert not unchecked, f"{path.name}: solutions that do not check their claim: {unchecked}"
    assert all(c.execution_count is not None and not [o for o in c.outputs if o.output_type == "error"]
               for c in solved)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_committed_without_outputs(path: Path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, f"{path.name} cell {i} has outputs"


# ------------------------------------------------------------------------------------------
# the slide deck


def _expected_slides(nb) -> tuple[int, int]:
    """(horizontal slides, slides shown) from the cells' slideshow metadata, as nbconvert reads
    it: the first visible cell always starts a slide; every "slide" cell starts a horizontal
    slide and every "subslide" cell a vertical one inside it."""
    kinds = [c.metadata.get("slideshow", {}).get("slide_type", "-") for c in nb.cells]
    first = next(i for i, k in enumerate(kinds) if k not in ("skip", "notes"))
    kinds[first] = "slide"
    slides, subslides = kinds.count("slide"), kinds.count("subslide")
    return slides, slides + subslides


class _Sections(HTMLParser):
    """Counts the ``<section>`` elements of ``div.slides``: top level (horizontal slides) and
    leaves (the slides one pages through: a section with no section inside)."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[list[bool]] = []  # per open section: [has a child section]
        self.top = self.leaves = self.total = 0
        self.classes: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag != "section":
            return
        if self.stack:
            self.stack[-1][0] = True
        else:
            self.top += 1
        self.total += 1
        self.classes.append(dict(attrs).get("class") or "")
        self.stack.append([False])

    def handle_endtag(self, tag):
        if tag == "section" and self.stack:
            if not self.stack.pop()[0]:
                self.leaves += 1


def _sections(html: str) -> _Sections:
    parser = _Sections()
    parser.feed(html)
    parser.close()
    assert not parser.stack, "unbalanced <section> tags"
    return parser


def _local_reveal() -> dict[str, str]:
    """file:// URLs of a local reveal.js 4 (+ require.js and jQuery when found), or {}.

    Looked for in $KUBESIM_REVEAL_DIR (a reveal.js folder or a node_modules folder), then in
    node_modules/ of the repository, of notebooks/ and of the global npm prefixes, e.g. after
    ``npm install reveal.js@4 requirejs jquery``.
    """
    roots = [Path(os.environ["KUBESIM_REVEAL_DIR"])] if os.environ.get("KUBESIM_REVEAL_DIR") else []
    roots += [ROOT / "node_modules", NB_DIR / "node_modules", Path("/usr/lib/node_modules"),
              Path("/usr/local/lib/node_modules")]
    for root in roots:
        for reveal in (root, root / "reveal.js"):
            if (reveal / "dist" / "reveal.js").is_file() and (reveal / "plugin" / "notes" / "notes.js").is_file():
                modules = reveal.parent
                urls = {"reveal_url_prefix": reveal.resolve().as_uri()}
                require = modules / "requirejs" / "require.js"
                jquery = modules / "jquery" / "dist" / "jquery.min.js"
                if require.is_file():
                    urls["require_js_url"] = require.resolve().as_uri()
                if jquery.is_file():
                    urls["jquery_url"] = jquery.resolve().as_uri()
                return urls
    return {}


def _chromium() -> str | None:
    if Path("/usr/bin/chromium").is_file():
        return "/usr/bin/chromium"
    return shutil.which("chromium")


def _chromium_run(binary: str, profile: Path, *args: str) -> subprocess.CompletedProcess:
    cmd = [
        binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--disable-dev-shm-usage", f"--user-data-dir={profile}",
        # No network here (and none wanted in a test): every host name fails at once instead
        # of waiting for DNS, so CDN <script>s fail fast and deterministically.
        "--host-resolver-rules=MAP * ~NOTFOUND",
        # let the page's scripts (reveal.js, when it is available locally) run before dumping
        "--virtual-time-budget=5000",
        *args,
    ]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=90)


def test_slide_deck(tmp_path: Path):
    from nbconvert.exporters import SlidesExporter

    nb, _, _ = executed(SLIDE_NOTEBOOK)
    slides, shown = _expected_slides(nb)
    assert slides >= 4 and shown > slides, "the slide notebook should have slides and subslides"

    # as `jupyter nbconvert --to slides --execute --SlidesExporter.reveal_scroll=True` makes it
    exporter = SlidesExporter(reveal_scroll=True)
    local = _local_reveal()
    for trait, url in local.items():
        setattr(exporter, trait, url)
    body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": SLIDE_NOTEBOOK.stem}})
    deck = tmp_path / f"{SLIDE_NOTEBOOK.stem}.slides.html"
    deck.write_text(body, encoding="utf-8")

    # the HTML as nbconvert wrote it
    written = _sections(body)
    assert (written.top, written.leaves) == (slides, shown)
    assert 'class="reveal"' in body and 'class="slides"' in body
    assert f"{local.get('reveal_url_prefix', 'https://unpkg.com/reveal.js')}" in body
    figures = sum("image/png" in o.get("data", {}) for c in nb.cells if c.cell_type == "code"
                  and c.metadata.get("slideshow", {}).get("slide_type") != "skip" for o in c.outputs)
    assert figures >= 3 and body.count("data:image/png;base64,") >= figures, "figures not embedded"
    assert "What you will learn" in body and "Takeaways" in body

    binary = _chromium()
    if binary is None:
        pytest.skip("Chromium not found (/usr/bin/chromium or `chromium` on PATH; `make chromium` "
                    "installs Debian's): the deck was checked structurally only")
    # The DOM Chromium builds from the file. Without a local reveal.js the deck's scripts come
    # from a CDN and cannot load here (no network), so reveal.js never initialises; the slides
    # are still the <section> elements nbconvert wrote, and the parsed DOM must hold all of
    # them. With a local reveal.js it does initialise: it marks the deck "ready" and the
    # current slide "present", and leaves the section structure as it was.
    run = _chromium_run(binary, tmp_path / "profile", "--dump-dom", deck.as_uri())
    assert run.returncode == 0, run.stderr[-2000:]
    dom = _sections(run.stdout)
    assert (dom.top, dom.leaves, dom.total) == (written.top, written.leaves, written.total), (
        f"Chromium's DOM has {dom.top} slides / {dom.leaves} shown, the deck {slides} / {shown}")
    assert "What you will learn" in run.stdout and "Takeaways" in run.stdout
    if "require_js_url" in local:
        assert any("present" in c.split() for c in dom.classes), "reveal.js did not initialise"

    shot = tmp_path / "deck.png"
    run = _chromium_run(binary, tmp_path / "profile", f"--screenshot={shot}", "--window-size=1280,720",
                        deck.as_uri())
    assert run.returncode == 0 and shot.is_file(), run.stderr[-2000:]
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 5_000
