"""`kubesim figures` regenerates the whole catalogue from scratch, byte for byte, and deletes
only the files it wrote itself (its manifest in the folder; issue 11)."""

import hashlib
import json

from simulator.cli import main


def _digest(folder):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def test_figures_twice_give_identical_files_and_an_index(tmp_path, capsys):
    out = tmp_path / "figures"
    out.mkdir()
    (out / "mine.png").write_bytes(b"the user's")  # not kubesim's: kept
    assert main(["figures", "--out", str(out), "--pptx", str(tmp_path / "deck.pptx")]) == 0
    first = _digest(out)
    deck = (tmp_path / "deck.pptx").read_bytes()
    assert first["mine.png"] == hashlib.sha256(b"the user's").hexdigest()
    pngs = [n for n in first if n.endswith(".png") and n != "mine.png"]
    assert len(pngs) >= 12 and all(n[:-4] + ".svg" in first for n in pngs)
    index = (out / "index.html").read_text()
    assert all(n in index for n in pngs)
    # a figure of an earlier catalogue, listed in kubesim's manifest: removed by the next run
    manifest = out / ".kubesim-manifest.json"
    doc = json.loads(manifest.read_text())
    (out / "old-figure.png").write_bytes(b"old")
    manifest.write_text(json.dumps({**doc, "files": doc["files"] + ["old-figure.png"]}))
    assert main(["figures", "--out", str(out), "--pptx", str(tmp_path / "deck.pptx")]) == 0
    assert _digest(out) == first
    assert (tmp_path / "deck.pptx").read_bytes() == deck
    capsys.readouterr()
