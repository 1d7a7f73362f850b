"""The figure catalogue (latency against load, waterfall, chains side by side, resources by
process), publishing (HTML index, PowerPoint deck) and the registry of figures.

Every figure test builds its own small synthetic DataFrames shaped like the model's outputs
(docs/DESIGN.md, "Outputs"; ``load_curve``'s table); only the chain diagram reads the shipped chain
files, which are plain data. Only the registry tests at the end run the simulation: a small
comparison, whose figures they replace with stubs, to check that ``index.html``, the deck and
the report take every title and caption from the registry.
"""

from __future__ import annotations

import re
import struct
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote

import matplotlib
import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure

from simulator.chains import load_chain
from simulator.presentation.figures import registry
from simulator.presentation.figures.chains_side_by_side import (
    chain_edges,
    chains_side_by_side,
)
from simulator.presentation.figures.latency_vs_load import latency_vs_load
from simulator.presentation.figures.resources import resources_by_process
from simulator.presentation.figures.waterfall import waterfall
from simulator.presentation.publish import write_index, write_pptx
from simulator.presentation.style import save_figure

matplotlib.use("Agg")

RUNTIMES = ["dockershim", "containerd", "crio"]


# --------------------------------------------------------------------------------------------
# synthetic inputs


def make_curve(replications: int = 3) -> pd.DataFrame:
    """``load_curve``'s table: p50/p99 growing with load, CIs NaN with one replication."""
    rows = []
    for k, runtime in enumerate(RUNTIMES):
        for load in (10, 20, 40, 80):
            p50 = (0.6 + 0.3 * k) * load / 10
            p99 = 2.0 * p50
            half = 0.1 * p50 if replications > 1 else np.nan
            rows.append({"runtime": runtime, "load": load, "replications": replications,
                         "p50": p50, "p50_lo": p50 - half, "p50_hi": p50 + half,
                         "p99": p99, "p99_lo": p99 - 2 * half, "p99_hi": p99 + 2 * half,
                         "running_share": 1.0 if load < 80 else 0.95})
    return pd.DataFrame(rows)


def make_pod_spans(runtime: str = "dockershim", pod: str = "pod-00007") -> pd.DataFrame:
    """One pod's spans: RunPodSandbox through the chain, ImageStatus, a PullImage from the image
    puller, CreateContainer and StartContainer; one hop queued for a lock."""
    rows: list[dict] = []

    def span(parent: int, depth: int, operation: str, step: str, process: str, caller: str,
             transport: str, start: float, end: float, queued: float = 0.0,
             source: str = "sync") -> int:
        sid = len(rows) + 1
        rows.append({"span_id": sid, "parent_id": parent, "depth": depth, "pod": pod,
                     "operation": operation, "step": step, "process": process,
                     "caller": caller, "transport": transport, "start": start, "end": end,
                     "queued": queued, "outcome": "ok", "source": source,
                     "runtime": runtime, "node": "node-1"})
        return sid

    op = span(-1, 0, "run_podsandbox", "RunPodSandbox", "kubelet", "kubelet", "in-process",
              10.00, 10.35)
    shim = span(op, 1, "run_podsandbox", "RunPodSandbox", "dockershim", "kubelet", "grpc",
                10.001, 10.35)
    start = span(shim, 2, "run_podsandbox", "POST /containers/{id}/start", "dockerd",
                 "dockershim", "http", 10.01, 10.25, queued=0.05)
    task = span(start, 3, "run_podsandbox", "tasks.Create", "containerd", "dockerd", "grpc",
                10.10, 10.22)
    cshim = span(task, 4, "run_podsandbox", "Create", "containerd-shim", "containerd",
                 "ttrpc", 10.12, 10.21)
    span(cshim, 5, "run_podsandbox", "runc create", "runc", "containerd-shim", "exec",
         10.13, 10.20)
    span(shim, 2, "run_podsandbox", "CNI ADD pod network", "cni", "dockershim", "exec",
         10.26, 10.34)
    op = span(-1, 0, "image_status", "ImageStatus", "kubelet", "kubelet", "in-process",
              10.35, 10.353)
    span(op, 1, "image_status", "ImageStatus", "dockershim", "kubelet", "grpc", 10.35, 10.353)
    op = span(-1, 0, "pull_image", "PullImage", "kubelet", "kubelet", "in-process", 10.353,
              12.9, source="puller")
    pull = span(op, 1, "pull_image", "PullImage", "dockershim", "kubelet", "grpc", 10.353,
                12.9, source="puller")
    span(pull, 2, "pull_image", "POST /images/create", "dockerd", "dockershim", "http",
         10.36, 12.89, source="puller")
    op = span(-1, 0, "create_container", "CreateContainer", "kubelet", "kubelet",
              "in-process", 13.9, 13.99)
    span(op, 1, "create_container", "CreateContainer", "dockershim", "kubelet", "grpc",
         13.901, 13.99)
    op = span(-1, 0, "start_container", "StartContainer", "kubelet", "kubelet", "in-process",
              13.99, 14.2)
    span(op, 1, "start_container", "StartContainer", "dockershim", "kubelet", "grpc",
         13.991, 14.2)
    return pd.DataFrame(rows)


def make_resources() -> pd.DataFrame:
    """Two runtimes, two replications, samples every second for 100 s; every value is 10x
    higher before t = 70 than after, so steady state (the last 30 %) is easy to tell."""
    procs = {
        "dockershim": [("kubelet", "kubelet", 0.02, 70.0), ("dockershim", "kubelet", 0.01, 15.0),
                       ("dockerd", "runtime", 0.03, 60.0), ("containerd", "runtime", 0.01, 55.0),
                       ("containerd-shim", "runtime", 0.0, 420.0), ("runc", "runtime", 0.0, 0.0)],
        "containerd": [("kubelet", "kubelet", 0.02, 70.0), ("containerd", "runtime", 0.01, 60.0),
                       ("containerd-shim", "runtime", 0.0, 160.0)],
    }
    rows = []
    for runtime, plist in procs.items():
        for rep in (0, 1):
            for t in range(1, 101):
                boost = 10.0 if t < 70 else 1.0
                for process, group, cpu, rss in plist:
                    rows.append((runtime, "node-1", float(t), process, group, "cpu_cores",
                                 cpu * boost, rep))
                    rows.append((runtime, "node-1", float(t), process, group, "pss_mb", rss, rep))
                rows.append((runtime, "node-1", float(t), "cpu", "node", "queue", 3.0, rep))
    return pd.DataFrame(rows, columns=["runtime", "node", "time", "process", "group", "metric",
                                       "value", "replication"])


def chains():
    return [load_chain(n) for n in ("dockershim", "cri-dockerd", "containerd", "crio")]


# --------------------------------------------------------------------------------------------
# helpers


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def all_text(fig: Figure) -> str:
    texts = [t.get_text() for t in fig.findobj(matplotlib.text.Text)]
    return "\n".join(texts)


FIGURES = {
    "latency-vs-load": lambda theme: latency_vs_load(make_curve(), footnote="synthetic",
                                                     theme=theme),
    "latency-vs-load-1rep": lambda theme: latency_vs_load(make_curve(1), theme=theme),
    "waterfall": lambda theme: waterfall(make_pod_spans(), footnote="synthetic", theme=theme),
    "chains": lambda theme: chains_side_by_side(chains(), footnote="synthetic", theme=theme),
    "resources": lambda theme: resources_by_process(make_resources(), footnote="synthetic",
                                                    theme=theme),
}


# --------------------------------------------------------------------------------------------
# every figure: 1920 x 1080, deterministic bytes


@pytest.mark.parametrize("theme", ["light", "dark"])
@pytest.mark.parametrize("name", sorted(FIGURES))
def test_figure_is_1920x1080_and_deterministic(tmp_path: Path, name: str, theme: str) -> None:
    written = []
    for run in ("a", "b"):
        fig = FIGURES[name](theme)
        assert isinstance(fig, Figure)
        written.append(save_figure(fig, tmp_path / run / name))
    (png_a, svg_a), (png_b, svg_b) = written
    assert png_size(png_a) == (1920, 1080)
    assert png_a.read_bytes() == png_b.read_bytes()
    assert svg_a.read_bytes() == svg_b.read_bytes()


# --------------------------------------------------------------------------------------------
# latency against load


def test_latency_vs_load_draws_bands_with_replications() -> None:
    fig = latency_vs_load(make_curve(3))
    ax = fig.axes[0]
    assert len([c for c in ax.collections if isinstance(c, PolyCollection)]) == 2 * len(RUNTIMES)
    assert "95 % CI over 3 replications" in all_text(fig)
    assert ax.get_xscale() == "log"  # 10 .. 80: a doubling series
    # the SLO line at 5 s is drawn and in view
    assert ax.get_ylim()[0] <= 5.0 <= ax.get_ylim()[1]


def test_latency_vs_load_handles_nan_intervals() -> None:
    curve = make_curve(1)
    assert curve["p50_lo"].isna().all()
    fig = latency_vs_load(curve)
    ax = fig.axes[0]
    assert not [c for c in ax.collections if isinstance(c, PolyCollection)]
    assert "no confidence band" in all_text(fig)
    # the lines are still there, and no NaN leaked into the axis limits
    assert all(np.isfinite(ax.get_ylim()))


def test_latency_vs_load_log_y_for_wide_ranges() -> None:
    curve = make_curve(3)
    curve.loc[curve["load"] == 80, ["p99", "p99_lo", "p99_hi"]] *= 100
    assert latency_vs_load(curve).axes[0].get_yscale() == "log"
    narrow = make_curve(3)
    narrow = narrow[narrow["load"] >= 40]  # about one decade: linear
    assert latency_vs_load(narrow).axes[0].get_yscale() == "linear"


def test_latency_vs_load_requires_columns() -> None:
    with pytest.raises(KeyError, match="p99_hi"):
        latency_vs_load(make_curve().drop(columns="p99_hi"))


# --------------------------------------------------------------------------------------------
# waterfall


def test_waterfall_rows_and_pull() -> None:
    spans = make_pod_spans()
    fig = waterfall(spans)
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == ["RunPodSandbox", "ImageStatus", "PullImage (image puller)",
                      "CreateContainer", "StartContainer"]
    text = all_text(fig)
    assert "2.5 s" in text  # the pull's total
    assert re.search(r"^1.0 s(, no CRI call)?$", text, re.M)  # the wait before CreateContainer
    # each bar's segments add up to the call's duration (in the axis unit, seconds here)
    ops = spans[spans["depth"] == 0].sort_values("start")
    for i, (start, end) in enumerate(zip(ops["start"], ops["end"])):
        widths = [p.get_width() for p in ax.patches
                  if hasattr(p, "get_y") and abs(p.get_y() + p.get_height() / 2 - i) < 1e-9
                  and p.get_zorder() == 3]
        assert sum(widths) == pytest.approx(end - start, rel=1e-6)


def test_waterfall_self_time_by_process() -> None:
    fig = waterfall(make_pod_spans())
    # RunPodSandbox: dockerd's self time is 0.24 - 0.12 (its child) = 0.12 of 0.35 s
    assert "dockerd 34 %" in all_text(fig)


def test_waterfall_refuses_two_pods() -> None:
    spans = pd.concat([make_pod_spans(pod="a"), make_pod_spans(pod="b")])
    with pytest.raises(ValueError, match="one pod"):
        waterfall(spans)


# --------------------------------------------------------------------------------------------
# chains side by side


def test_chain_edges_follow_the_chain_data() -> None:
    edges = chain_edges(load_chain("dockershim"))
    assert edges[0][:3] == ("kubelet", "dockershim", "grpc")
    pairs = {(a, b): n for a, b, _, n in edges}
    assert pairs[("dockershim", "dockerd")] >= 4
    assert ("dockershim", "cni") in pairs
    assert ("containerd", "cni") in {(a, b) for a, b, _, _ in chain_edges(load_chain("containerd"))}


def test_chains_side_by_side_counts_crossings() -> None:
    fig = chains_side_by_side(chains())
    text = all_text(fig)
    numbers = [int(t.get_text()) for t in fig.findobj(matplotlib.text.Text)
               if re.fullmatch(r"\d+", t.get_text())]
    assert len(numbers) == 4
    docker, cri_dockerd, containerd, crio = numbers
    # the trainer's message: the Docker chains cross more boundaries than containerd and CRI-O
    assert min(docker, cri_dockerd) > max(containerd, crio)
    assert cri_dockerd == docker + 1  # the kubelet -> cri-dockerd hop leaves the kubelet
    assert "kubelet process" in text  # dockershim drawn inside the kubelet
    for transport in ("gRPC", "HTTP", "ttrpc", "fork/exec"):
        assert transport in text


# --------------------------------------------------------------------------------------------
# resources by process


def test_resources_use_steady_state() -> None:
    fig = resources_by_process(make_resources())
    text = all_text(fig)
    # dockershim at steady state: 0.02 + 0.01 + 0.03 + 0.01 = 0.07 cores = 70 millicores
    assert "70 millicores" in text
    assert "30 millicores" in text  # containerd
    assert "kubelet 30 · runtime 40" in text
    assert "620 MB" in text and "290 MB" in text
    # with since=0 the early, 10x higher samples count too
    assert "70 millicores" not in all_text(resources_by_process(make_resources(), since=0))


def test_resources_require_cpu_or_memory() -> None:
    res = make_resources()
    with pytest.raises(ValueError, match="cpu_cores or pss_mb"):
        resources_by_process(res[res["metric"] == "queue"])


# --------------------------------------------------------------------------------------------
# publishing


ENTRIES = [
    {"file_stem": "latency-vs-load", "title": "Latency & load", "teaches": "p99 grows <faster>."},
    {"file_stem": "sub dir/waterfall", "title": "One pod", "teaches": "A pull dwarfs the rest."},
    {"file_stem": "chains", "title": "Chains", "teaches": "Docker chains cross more processes."},
]


def write_figures(folder: Path) -> None:
    makers = {"latency-vs-load": FIGURES["latency-vs-load"], "sub dir/waterfall":
              FIGURES["waterfall"], "chains": FIGURES["chains"]}
    for stem, make in makers.items():
        save_figure(make("light"), folder / stem)


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.refs: list[str] = []
        self.external: list[str] = []

    def handle_starttag(self, tag, attrs):
        for key, value in attrs:
            if key in ("href", "src") and value:
                self.refs.append(value)
            if tag in ("script", "link"):
                self.external.append(tag)


def test_index_lists_every_entry_with_existing_relative_files(tmp_path: Path) -> None:
    write_figures(tmp_path)
    index = write_index(ENTRIES, tmp_path / "index.html")
    page = index.read_text(encoding="utf-8")
    for entry in ENTRIES:
        assert entry["title"].replace("&", "&amp;") in page
        assert entry["teaches"].replace("<", "&lt;").replace(">", "&gt;") in page
    parser = _Links()
    parser.feed(page)
    assert not parser.external
    assert parser.refs
    for ref in parser.refs:
        assert "://" not in ref and not ref.startswith("/")
        assert (tmp_path / unquote(ref)).is_file(), ref
    assert {Path(unquote(r)).suffix for r in parser.refs} == {".png", ".svg"}
    # deterministic bytes
    again = write_index(ENTRIES, tmp_path / "again.html")
    assert again.read_bytes() == index.read_bytes()


def test_pptx_has_a_slide_per_entry_and_a_title_slide(tmp_path: Path) -> None:
    from pptx import Presentation

    write_figures(tmp_path)
    deck = write_pptx(ENTRIES, tmp_path, tmp_path / "deck.pptx", title="kubesim test")
    prs = Presentation(str(deck))
    slides = list(prs.slides)
    assert len(slides) == len(ENTRIES) + 1  # no section, no sources given: none of their slides
    assert slides[0].shapes.title.text == "kubesim test"
    assert prs.slide_width * 9 == prs.slide_height * 16
    for slide, entry in zip(slides[1:], ENTRIES):
        assert slide.shapes.title is None  # the figure carries its title
        pictures = [s for s in slide.shapes if s.shape_type == 13]
        assert len(pictures) == 1
        assert pictures[0].width * 9 == pytest.approx(pictures[0].height * 16, rel=1e-3)
        assert pictures[0]._element.nvPicPr.cNvPr.get("descr") == entry["title"]
        assert [s.text_frame.text for s in slide.shapes if s.has_text_frame] == [entry["teaches"]]
        assert slide.notes_slide.notes_text_frame.text == f"{entry['title']}\n\n{entry['teaches']}"
    # two writes, identical bytes (fixed core properties and zip timestamps)
    import zipfile

    assert {i.date_time for i in zipfile.ZipFile(deck).infolist()} == {(2000, 1, 1, 0, 0, 0)}
    again = write_pptx(ENTRIES, tmp_path, tmp_path / "again.pptx", title="kubesim test")
    assert again.read_bytes() == deck.read_bytes()


def test_pptx_refuses_missing_png(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no PNG"):
        write_pptx(ENTRIES, tmp_path, tmp_path / "deck.pptx")


# --------------------------------------------------------------------------------------------
# the registry: the one source of every figure's module, name, title and caption

FIGURES_DIR = Path(registry.__file__).parent
CATALOGUE_RUNTIMES = ("dockershim", "containerd", "crio", "cri-dockerd")  # write_figures'


def expected_drawings(entries, runtimes, report=False) -> list[tuple[str, str, str]]:
    """(file stem, title, caption) of every figure, straight from the registry's fields."""
    out = []
    for e in entries:
        if report and not e.report_caption:
            continue
        title, caption = ((e.report_title or e.title, e.report_caption) if report
                          else (e.title, e.caption))
        if not e.runtimes:
            out.append((e.name, title, caption))
            continue
        for rt in runtimes if e.runtimes == registry.EACH else e.runtimes:
            out.append(tuple(t.format(runtime=rt) for t in (e.name, title, caption)))
    return out


def stub_figures(monkeypatch) -> None:
    """Every registry figure drawn as a small blank figure: the pages are under test here."""
    from importlib import import_module

    def blank(data, runtime=None):
        return Figure(figsize=(1.6, 0.9))

    for entry in registry.FIGURES:
        module = import_module(f"simulator.presentation.figures.{entry.module}")
        monkeypatch.setattr(module, "from_data", blank)


def test_every_registry_entry_has_its_own_figure_module() -> None:
    from importlib import import_module

    names = [e.name for e in registry.FIGURES]
    assert len(names) == len(set(names))
    for entry in registry.FIGURES:
        path = FIGURES_DIR / f"{entry.module}.py"
        assert path.is_file() and not entry.module.startswith("_"), entry
        module = import_module(f"simulator.presentation.figures.{entry.module}")
        assert entry.build is module.from_data
        doc = module.__doc__ or ""
        assert "What it teaches" in doc and "What it draws" in doc, entry.module
        assert entry.title and entry.caption
    # and every figure module is in the registry: one module per figure
    modules = {p.stem for p in FIGURES_DIR.glob("*.py")
               if not p.stem.startswith("_") and p.stem not in ("registry", "data")}
    assert modules == {e.module for e in registry.FIGURES}


class _Page(HTMLParser):
    """The titles, captions and PNG links of ``write_index``'s page."""

    def __init__(self) -> None:
        super().__init__()
        self.titles: list[str] = []
        self.captions: list[str] = []
        self.pngs: list[str] = []
        self._in: str | None = None
        self._text = ""

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "h2" or (tag == "p" and attrs.get("class") == "teaches"):
            self._in, self._text = tag, ""
        if tag == "a" and attrs.get("href", "").endswith(".png") and attrs["href"] not in self.pngs:
            self.pngs.append(attrs["href"])

    def handle_data(self, data):
        if self._in:
            self._text += data

    def handle_endtag(self, tag):
        if tag == self._in == "h2":
            self.titles.append(self._text.split(". ", 1)[1])  # "<span>3.</span> Title"
        elif tag == self._in == "p":
            self.captions.append(self._text)
        if tag == self._in:
            self._in = None


def test_index_and_deck_take_titles_and_captions_from_the_registry(tmp_path, monkeypatch) -> None:
    from pptx import Presentation

    from simulator.presentation.outputs import write_figures

    stub_figures(monkeypatch)
    out = tmp_path / "figures"
    write_figures(out, pptx=tmp_path / "deck.pptx")
    expected = expected_drawings(registry.FIGURES, CATALOGUE_RUNTIMES)
    page = _Page()
    page.feed((out / "index.html").read_text(encoding="utf-8"))
    assert page.titles == [t for _, t, _ in expected]
    assert page.captions == [c for _, _, c in expected]
    assert page.pngs == [f"{stem}.png" for stem, _, _ in expected]
    # the deck: the same figures, grouped by section (registry.SECTIONS), each after its section
    rank: list[int] = []  # each drawing's section
    for e in registry.FIGURES:
        n = 1 if not e.runtimes else len(CATALOGUE_RUNTIMES if e.runtimes == registry.EACH else e.runtimes)
        rank += [registry.section_of(e)[0]] * n
    grouped = [x for _, _, x in sorted(zip(rank, range(len(expected)), expected))]
    slides = [s for s in Presentation(str(tmp_path / "deck.pptx")).slides
              if any(p.shape_type == 13 for p in s.shapes)]
    assert [s.shapes[0]._element.nvPicPr.cNvPr.get("descr") for s in slides] == [t for _, t, _ in grouped]
    assert [s.notes_slide.notes_text_frame.text for s in slides] == [f"{t}\n\n{c}" for _, t, c in grouped]


def test_report_takes_titles_and_captions_from_the_registry(monkeypatch) -> None:
    import html

    from simulator.config import load_scenario
    from simulator.experiments.runner import compare
    from simulator.presentation.report import render_report

    stub_figures(monkeypatch)
    runtimes = ["dockershim", "containerd"]
    comp = compare(load_scenario("default", ["workload.pods=4"]), runtimes=runtimes, seed=1)
    page = render_report(comp)
    shown = [(html.unescape(t), html.unescape(c)) for t, c in re.findall(
        r"<figure><img alt='([^']*)' src='data:image/png;base64,[^']*'>"
        r"<figcaption class='muted'>([^<]*)</figcaption></figure>", page)]
    expected = expected_drawings(registry.FIGURES, runtimes, report=True)
    assert shown == [(t, c) for _, t, c in expected]
    assert len(shown) == 4 + len(runtimes)  # cdf, by operation, by hop, what binds + a sequence each
