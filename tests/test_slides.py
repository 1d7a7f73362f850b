"""`make slides` (simulator/presentation/slides.py): decks that work offline, styled, with the
code hidden and the figures as wide as the slide, checked in headless Chromium.

One deck is built here, notebook 01's (the notebook tests/test_notebooks.py already executes:
the execution is shared), with the reveal.js that `npm ci` installs (package.json). Chromium
runs with no network at all (every host name fails, and http(s) goes to a closed local port),
so anything the deck still needed from a CDN would be missing from what it shows:

* the HTML refers to no http(s) script, style sheet or image, and holds no code cell;
* a script added to a copy of the deck walks every slide through reveal.js's own API and
  reports what is on it: no slide is empty, the theme's typography is applied, and every
  figure is drawn at least 80 % of the slide's width (or 70 % of its height, a 16:9 figure under
  a heading) and not cut off by its bottom edge, a
  figure alone on a slide at its full width;
* a screenshot of the first slide is neither empty nor unstyled (:func:`slide_problems`), and
  the same check fails on the same deck rendered without its reveal.js (the failure this test
  is there to catch: a deck whose reveal.js did not load, as when it came from a CDN offline).
"""

from __future__ import annotations

import copy
import html
import json
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from simulator.presentation import slides
from tests.test_notebooks import SLIDE_NOTEBOOK, _chromium, executed

nbformat = pytest.importorskip("nbformat")
pytest.importorskip("nbconvert")
Image = pytest.importorskip("PIL.Image")

WIDTH, HEIGHT = slides.SLIDE_WIDTH, slides.SLIDE_HEIGHT
# every host name fails to resolve, and http(s) goes to a closed port (loopback included)
NO_NETWORK = ("--host-resolver-rules=MAP * ~NOTFOUND", "--proxy-server=127.0.0.1:9",
              "--proxy-bypass-list=<-loopback>")

# Reports, once reveal.js is ready, what every slide holds, into <pre id="kubesim-probe">
# (read back from Chromium's --dump-dom). The module id is the one the deck's own require()
# call loads, so this is the deck's reveal.js instance.
PROBE = """
<script>
(function () {
  function report(data) {
    var pre = document.createElement('pre');
    pre.id = 'kubesim-probe';
    pre.textContent = JSON.stringify(data);
    document.body.appendChild(pre);
  }
  function probe(Reveal) {
    var h1 = getComputedStyle(document.querySelector('.reveal .slides h1'));
    var out = {ready: Reveal.isReady(), h1: {transform: h1.textTransform, font: h1.fontFamily},
               slides: []};
    Reveal.configure({transition: 'none', backgroundTransition: 'none'});
    Reveal.getSlides().forEach(function (slide) {
      var at = Reveal.getIndices(slide);
      Reveal.slide(at.h, at.v);
      var box = slide.getBoundingClientRect();
      var frame = document.querySelector('.reveal .slides').getBoundingClientRect();
      var scale = frame.width / WIDTH;
      var info = {h: at.h, v: at.v, text: slide.innerText.trim().length, figures: []};
      slide.querySelectorAll('img').forEach(function (img) {
        var r = img.getBoundingClientRect();
        var ratio = img.naturalWidth / img.naturalHeight;
        // what object-fit: contain draws inside the element's box
        var w = Math.min(r.width, r.height * ratio), h = Math.min(r.height, r.width / ratio);
        info.figures.push({width: w / scale, height: h / scale,
                           bottom: (r.top + (r.height + h) / 2 - frame.top) / scale,
                           natural: img.naturalWidth});
      });
      info.alone = Array.prototype.filter.call(slide.querySelectorAll('.jp-Cell'), function (c) {
        return c.innerText.trim() !== '' || c.querySelector('img');
      }).length === 1;
      out.slides.push(info);
    });
    Reveal.slide(0, 0);
    report(out);
  }
  setTimeout(function () {  // virtual time: reported at once when reveal.js never gets ready
    if (!document.getElementById('kubesim-probe')) { report({ready: false, error: 'timeout'}); }
  }, 6000);
  if (!window.require) { report({ready: false, error: 'require.js did not load'}); return; }
  require(['REVEAL'], function (Reveal) {
    if (Reveal.isReady()) { probe(Reveal); } else { Reveal.on('ready', function () { probe(Reveal); }); }
  }, function (err) { report({ready: false, error: String(err)}); });
})();
</script>
"""


def _chromium_run(binary: str, profile: Path, *args: str) -> subprocess.CompletedProcess:
    cmd = [binary, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           "--disable-dev-shm-usage", "--hide-scrollbars", "--force-device-scale-factor=1",
           f"--user-data-dir={profile}", *NO_NETWORK,
           "--virtual-time-budget=8000",  # reveal.js loads and lays out (virtual time: fast)
           f"--window-size={WIDTH},{HEIGHT}", *args]
    return subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=90)


def slide_problems(png: Path) -> list[str]:
    """What is wrong with a screenshot of a deck's first slide: empty, or not styled by
    reveal.js (empty list when neither).

    Thresholds, from 1920x1080 renders of notebook 01's title slide (a heading, a subheading
    and four bullets): the styled slide inks about 4 % of the pixels, in some 275 colours
    (antialiased text); a blank page inks 0 % in 1 colour. Hence
    "empty" below 0.3 % ink or 16 colours. "Styled" is what reveal.js and its theme do to the
    page, and nbconvert's own CSS alone does not: one slide at a time, centred on a 16:9 stage
    (so the ink starts well below the top edge and ends well above the bottom one; the
    unstyled page is every slide one after the other from the top-left corner down, past the
    bottom edge), and reveal.js's progress bar, whose grey track spans the top 3 px (on the
    first slide the bar itself is empty, so no animation is caught half-way; the arrow
    controls fade in, and are not checked for that reason).
    """
    img = Image.open(png).convert("RGB")
    if img.size != (WIDTH, HEIGHT):
        return [f"screenshot is {img.size}, not {(WIDTH, HEIGHT)}"]
    px = np.asarray(img, dtype=np.int16)
    colours, counts = np.unique(px.reshape(-1, 3), axis=0, return_counts=True)
    background = colours[counts.argmax()]
    inked = np.abs(px - background).max(axis=2) > 48
    share = float(inked.mean())
    problems = []
    if share < 0.003 or len(colours) < 16:
        problems.append(f"empty: {share:.2%} of the pixels inked, {len(colours)} colours")
        return problems
    # rows with ink, leaving out 8 px at the edges (the progress bar) and the column of the
    # controls' corner
    rows = 8 + np.flatnonzero(inked[8:HEIGHT - 8, 8:WIDTH - 160].any(axis=1))
    top, bottom = rows[0] / HEIGHT, rows[-1] / HEIGHT
    if top < 0.10 or bottom > 0.90:
        problems.append(f"not a centred slide: ink from {top:.0%} to {bottom:.0%} of the height")
    track = inked[:3].mean(axis=1)  # reveal.js's progress bar: its track spans the top 3 px
    if track.min() < 0.95:
        problems.append(f"no reveal.js progress bar along the top edge ({track.min():.0%} of its width)")
    return problems


@pytest.fixture(scope="module")
def deck(tmp_path_factory) -> tuple[Path, str]:
    missing = slides.missing_assets()
    if missing:
        pytest.skip(f"reveal.js not installed ({', '.join(missing)} missing): `npm ci` or "
                    "`make node` installs it (`make test` does)")
    nb, _, _ = executed(SLIDE_NOTEBOOK)
    nb = slides.default_slides(copy.deepcopy(nb))  # 01 has its own slide metadata: unchanged
    out = tmp_path_factory.mktemp("slides")
    slides.copy_assets(out)
    body = slides.export(nb, SLIDE_NOTEBOOK.stem)
    path = out / f"{SLIDE_NOTEBOOK.stem}.slides.html"
    path.write_text(body, encoding="utf-8")
    return path, body


def test_external_references_are_found():
    page = ('<script src="https://unpkg.com/reveal.js@4.0.2/dist/reveal.js"></script>'
            "<link rel=stylesheet href='//cdn.example/x.css'><style>@import url(http://f.test/a.css);"
            "</style><script type=module>import m from 'https://cdn.test/m.mjs';</script>"
            '<script src="_assets/require.js"></script><a href="https://github.com/">a link</a>')
    assert slides.external_references(page) == [
        "//cdn.example/x.css", "http://f.test/a.css", "https://cdn.test/m.mjs",
        "https://unpkg.com/reveal.js@4.0.2/dist/reveal.js"]


def test_default_slides_for_a_notebook_without_slide_metadata():
    v4 = nbformat.v4
    nb = v4.new_notebook(cells=[
        v4.new_markdown_cell("# Title\n\ntext"), v4.new_code_cell("x = 1"),
        v4.new_markdown_cell("Before the figure"),
        v4.new_code_cell("plot()", outputs=[v4.new_output("display_data", {"image/png": "iVBOR"})]),
        v4.new_markdown_cell("What the figure shows"), v4.new_markdown_cell("## Next"),
    ])
    kinds = [c.metadata["slideshow"]["slide_type"] for c in slides.default_slides(nb).cells]
    assert kinds == ["slide", "skip", "-", "subslide", "subslide", "slide"]
    nb.cells[1].metadata["slideshow"] = {"slide_type": "fragment"}  # authored: left alone
    assert slides.default_slides(nb).cells[1].metadata["slideshow"]["slide_type"] == "fragment"


def test_deck_html_is_offline_and_shows_no_code(deck):
    path, body = deck
    assert slides.external_references(body) == []
    assert 'src="_assets/require.js"' in body and 'href="_assets/reveal.js/dist/theme/white.css"' in body
    for asset in re.findall(r'(?:src|href)="(_assets/[^"]+)"', body) + [
            "_assets/reveal.js/dist/reveal.js", "_assets/reveal.js/plugin/notes/notes.js"]:
        assert (path.parent / asset).is_file(), f"{asset} is not next to the deck"
    assert "class=\"jp-CodeMirrorEditor" not in body and "class=\"jp-InputPrompt" not in body, "code is shown"
    assert f"width: {WIDTH}" in body and f"height: {HEIGHT}" in body


def _probe(binary: str, deck: Path, profile: Path) -> dict:
    page = deck.read_text(encoding="utf-8")
    script = PROBE.replace("REVEAL", f"{slides.ASSETS}/reveal.js/dist/reveal.js").replace(
        "WIDTH", str(WIDTH))
    probed = deck.with_name("probe.html")
    probed.write_text(page.replace("</body>", script + "</body>"), encoding="utf-8")
    run = _chromium_run(binary, profile, "--dump-dom", probed.as_uri())
    assert run.returncode == 0, run.stderr[-2000:]
    found = re.search(r'<pre id="kubesim-probe">(.*?)</pre>', run.stdout, flags=re.DOTALL)
    assert found, "the probe did not report (reveal.js never became ready)"
    return json.loads(html.unescape(found.group(1)))


def test_deck_in_chromium(deck, tmp_path):
    binary = _chromium()
    if binary is None:
        pytest.skip("Chromium not found (`make chromium` installs Debian's)")
    path, _ = deck
    # the first slide as a person sees it, and the same deck without its reveal.js
    shot = tmp_path / "styled.png"
    run = _chromium_run(binary, tmp_path / "profile", f"--screenshot={shot}", path.as_uri())
    assert run.returncode == 0 and shot.is_file(), run.stderr[-2000:]
    assert slide_problems(shot) == []

    bare = tmp_path / "bare"
    bare.mkdir()
    shutil.copy(path, bare / path.name)  # no _assets/ next to it: reveal.js does not load
    unstyled = tmp_path / "unstyled.png"
    run = _chromium_run(binary, tmp_path / "profile", f"--screenshot={unstyled}", (bare / path.name).as_uri())
    assert run.returncode == 0 and unstyled.is_file(), run.stderr[-2000:]
    assert slide_problems(unstyled), "the check does not tell an unstyled deck from a styled one"

    blank = tmp_path / "blank.png"
    Image.new("RGB", (WIDTH, HEIGHT), "white").save(blank)
    assert slide_problems(blank)[0].startswith("empty")

    report = _probe(binary, path, tmp_path / "profile")
    assert report["ready"], report
    assert report["h1"]["transform"] == "uppercase", report["h1"]  # reveal.js's "white" theme
    assert "Source Sans Pro" in report["h1"]["font"], report["h1"]
    shown = report["slides"]
    assert len(shown) >= 10
    empty = [(s["h"], s["v"]) for s in shown if not s["text"] and not s["figures"]]
    assert not empty, f"empty slides at (h, v) {empty}"
    figures = [(s, f) for s in shown for f in s["figures"]]
    assert len(figures) >= 3
    for s, f in figures:
        # as large as the slide allows: 80 % of its width, or, for a 16:9 figure under a heading
        # (limited by the height left: about 1390 x 780 px), 70 % of its height
        assert f["width"] >= 0.80 * WIDTH or f["height"] >= 0.70 * HEIGHT, \
            f"figure on slide {s['h']}/{s['v']} drawn {f['width']:.0f} x {f['height']:.0f} px"
        assert f["bottom"] <= HEIGHT + 1, f"figure on slide {s['h']}/{s['v']} cut off at the bottom"
    alone = [f for s, f in figures if s["alone"]]
    assert alone and all(f["width"] >= 0.98 * WIDTH for f in alone), alone
