"""The notebooks are paired Jupytext sources: every ``notebooks/NN-topic.ipynb`` has a
percent-format ``notebooks/NN-topic.py`` next to it (notebook metadata ``jupytext.formats:
ipynb,py:percent``), and the two hold the same cells. Either side can be edited; then
``jupytext --sync notebooks/*.ipynb`` brings the other up to date. A one-sided edit fails here.

"The same cells" means, cell by cell: the type, the source and the cell metadata that the
percent format keeps (``slideshow`` for notebook 01's deck, for instance), compared after the
.ipynb has been through the same filter ``jupytext --sync`` applies (so what Jupyter adds on
its own, e.g. execution timings, does not count); and, for the notebook, the kernelspec and
the pairing. Cell ids, outputs and ``language_info`` live in the .ipynb only.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

jupytext = pytest.importorskip("jupytext")
nbformat = pytest.importorskip("nbformat")

NB_DIR = Path(__file__).resolve().parents[1] / "notebooks"
NOTEBOOKS = sorted(NB_DIR.glob("*.ipynb"))
PAIRING = "ipynb,py:percent"
FIX = "edit either side, then run `jupytext --sync notebooks/*.ipynb`"


def _cells(nb) -> list[tuple[str, str, dict]]:
    return [(c.cell_type, c.source, dict(c.metadata)) for c in nb.cells]


def pair_differences(ipynb: Path) -> list[str]:
    """What differs between ``ipynb`` and its paired ``.py`` (empty when they are in sync)."""
    py = ipynb.with_suffix(".py")
    if not py.is_file():
        return [f"{ipynb.name} has no paired {py.name}"]
    nb, text = jupytext.read(ipynb), jupytext.read(py, fmt="py:percent")
    problems = []
    for name, side in ((ipynb.name, nb), (py.name, text)):
        formats = side.metadata.get("jupytext", {}).get("formats")
        if formats != PAIRING:
            problems.append(f"{name}: jupytext formats {formats!r}, expected {PAIRING!r}")
    if nb.metadata.get("kernelspec") != text.metadata.get("kernelspec"):
        problems.append(f"kernelspec {nb.metadata.get('kernelspec')} in {ipynb.name}, "
                        f"{text.metadata.get('kernelspec')} in {py.name}")
    # the .ipynb's cells as the .py would hold them (jupytext's own metadata filter applied)
    expected = _cells(jupytext.reads(jupytext.writes(nb, fmt="py:percent"), fmt="py:percent"))
    actual = _cells(text)
    if len(expected) != len(actual):
        problems.append(f"{len(expected)} cells in {ipynb.name}, {len(actual)} in {py.name}")
    for i, (a, b) in enumerate(zip(expected, actual)):
        for what, x, y in zip(("type", "source", "metadata"), a, b):
            if x != y:
                problems.append(f"cell {i} {what} differs:\n  {ipynb.name}: {x!r}\n  {py.name}: {y!r}")
                break
    return problems


def test_every_notebook_has_a_source_and_every_source_a_notebook():
    assert len(NOTEBOOKS) >= 5
    assert {p.stem for p in NB_DIR.glob("*.py")} == {p.stem for p in NOTEBOOKS}, (
        "notebooks/ should hold NN-topic.ipynb and NN-topic.py pairs only")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_and_source_are_in_sync(path: Path):
    problems = pair_differences(path)
    assert not problems, f"{path.name} and its .py are out of sync ({FIX}):\n" + "\n".join(problems)


@pytest.mark.parametrize("side", ["py", "ipynb"])
@pytest.mark.parametrize("change", ["source", "slide metadata", "new cell"])
def test_a_one_sided_edit_is_caught(tmp_path: Path, side: str, change: str):
    """The check above fails when only one side of a pair was edited (on a scratch pair made
    from notebook 01 the way ``jupytext --sync`` makes it)."""
    src = NB_DIR / "01-tour-of-the-call-chains.ipynb"
    ipynb = tmp_path / src.name
    shutil.copy(src, ipynb)
    jupytext.write(jupytext.read(ipynb), ipynb.with_suffix(".py"), fmt="py:percent")
    assert pair_differences(ipynb) == []

    if side == "ipynb":
        nb = nbformat.read(ipynb, as_version=4)
        cell = next(c for c in nb.cells if c.cell_type == "code" and "slideshow" in c.metadata)
        if change == "source":
            cell.source += "\nprint('edited')"
        elif change == "slide metadata":
            cell.metadata["slideshow"]["slide_type"] = "fragment"
        else:
            nb.cells.append(nbformat.v4.new_markdown_cell("An extra cell"))
        nbformat.write(nb, ipynb)
    else:
        py = ipynb.with_suffix(".py")
        text = py.read_text(encoding="utf-8")
        if change == "source":
            edited = text.replace("# # A tour of the container-runtime call chains",
                                  "# # A tour of the call chains", 1)
        elif change == "slide metadata":
            edited = text.replace('slideshow={"slide_type": "subslide"}', 'slideshow={"slide_type": "-"}', 1)
        else:
            edited = text + "\n# %%\nprint('an extra cell')\n"
        assert edited != text
        py.write_text(edited, encoding="utf-8")
    assert pair_differences(ipynb), f"a {change} edit of the .{side} side went unnoticed"
