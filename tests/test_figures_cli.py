"""`kubesim figures` regenerates the whole catalogue from scratch, byte for byte."""

import hashlib

from simulator.cli import main


def _digest(folder):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def test_figures_twice_give_identical_files_and_an_index(tmp_path, capsys):
    out = tmp_path / "figures"
    out.mkdir()
    (out / "stale.png").write_bytes(b"old")  # from scratch: removed
    assert main(["figures", "--out", str(out), "--pptx", str(tmp_path / "deck.pptx")]) == 0
    first = _digest(out)
    deck = (tmp_path / "deck.pptx").read_bytes()
    assert "stale.png" not in first
    pngs = [n for n in first if n.endswith(".png")]
    assert len(pngs) >= 12 and all(n[:-4] + ".svg" in first for n in pngs)
    index = (out / "index.html").read_text()
    assert all(n in index for n in pngs)
    assert main(["figures", "--out", str(out), "--pptx", str(tmp_path / "deck.pptx")]) == 0
    assert _digest(out) == first
    assert (tmp_path / "deck.pptx").read_bytes() == deck
    capsys.readouterr()
