"""`kubesim figures` regenerates the whole catalogue from scratch, byte for byte, and deletes
only the files it wrote itself (its manifest in the folder; issue 11).

Two independent runs, one in a forked process, go side by side (the catalogue takes a minute or
two; the CI machine has two cores): one into a fresh folder holding a file of the user's, one
into a folder holding an earlier catalogue's manifest that lists a figure since gone."""

import hashlib
import json
import multiprocessing

from simulator.cli import main


def _digest(folder):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def _figures(out, deck):
    return main(["figures", "--quiet", "--out", str(out), "--pptx", str(deck)])


def test_figures_twice_give_identical_files_and_an_index(tmp_path, capsys):
    first_out, again_out = tmp_path / "figures", tmp_path / "again"
    first_out.mkdir()
    again_out.mkdir()
    (first_out / "mine.png").write_bytes(b"the user's")  # not kubesim's: kept
    # an earlier catalogue's manifest listing a figure it wrote: removed by the next run
    (again_out / "old-figure.png").write_bytes(b"old")
    (again_out / ".kubesim-manifest.json").write_text(json.dumps({"files": ["old-figure.png"]}))
    other = multiprocessing.get_context("fork").Process(
        target=lambda: _figures(again_out, tmp_path / "again.pptx"))
    other.start()
    assert _figures(first_out, tmp_path / "deck.pptx") == 0
    other.join()
    assert other.exitcode == 0
    first = _digest(first_out)
    assert first["mine.png"] == hashlib.sha256(b"the user's").hexdigest()
    pngs = [n for n in first if n.endswith(".png") and n != "mine.png"]
    assert len(pngs) >= 12 and all(n[:-4] + ".svg" in first for n in pngs)
    index = (first_out / "index.html").read_text()
    assert all(n in index for n in pngs)
    again = _digest(again_out)
    assert "old-figure.png" not in again
    assert again == {n: d for n, d in first.items() if n != "mine.png"}
    assert (tmp_path / "again.pptx").read_bytes() == (tmp_path / "deck.pptx").read_bytes()
    capsys.readouterr()
