"""Writing a comparison to disk: data (CSV + Parquet), the JSON summary, figures, traces.

Every file is written to a temporary name in its folder and renamed into place, so an
interrupted run never leaves a half-written file behind; a whole output folder is written in a
staging folder and moved into place only when every file is written (:mod:`.outfolder`), so an
error leaves the folder as it was. Names that come from input (chain file paths, pod names) are
made safe file names, and only the files of the folder's manifest are ever deleted.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Callable, Optional, Sequence

import pandas as pd

from ..config import load_scenario
from ..experiments.runner import DEFAULT_REPLICATIONS, Comparison, compare
from .figures.data import (
    FigureData,
    footnote_for,
    lanes_for_runtime,
    pick_pod,
    pod_spans,
)
from .figures.sequence import sequence_diagram, sequence_text
from ..safe_load import finite_or_none
from .outfolder import atomic_write, safe_name, staged
from .style import save_figure
from .trace import to_chrome_trace

__all__ = ["save_validation_figure", "write_outputs", "write_trace", "write_failures", "write_figures",
           "atomic_write",
           "footnote_for", "lanes_for_runtime", "pick_pod", "pod_spans"]


def _write_text(path: Path, text: str) -> Path:
    return atomic_write(path, lambda p: p.write_text(text, encoding="utf-8"))


def _write_frame(df: pd.DataFrame, base: Path) -> list[Path]:
    csv = atomic_write(base.with_suffix(".csv"), lambda p: df.to_csv(p, index=False))
    pq = atomic_write(base.with_suffix(".parquet"), lambda p: df.to_parquet(p, index=False))
    return [csv, pq]


def _save(fig, base: Path) -> list[Path]:
    out = []
    for ext in ("png", "svg"):
        target = base.with_name(base.name + "." + ext)
        tmpdir = Path(tempfile.mkdtemp(dir=base.parent, prefix=".fig."))
        try:
            png, svg = save_figure(fig, tmpdir / base.name)
            os.replace(png if ext == "png" else svg, target)
        finally:
            for f in tmpdir.iterdir():
                f.unlink()
            tmpdir.rmdir()
        out.append(target)
    return out


def write_outputs(comp: Comparison, out: Path, theme: str = "light") -> list[Path]:
    """The comparison's data, summary and figures in ``out`` (all or nothing)."""
    with staged(out) as stage:
        written = _write_outputs(comp, stage, theme)
    return [out / p.relative_to(stage) for p in written]


def _write_outputs(comp: Comparison, out: Path, theme: str) -> list[Path]:
    written = [_write_text(out / "summary.json", json.dumps(finite_or_none(comp.summary()), indent=2, allow_nan=False) + "\n")]
    for name in ("pods", "spans", "resources", "events"):
        written += _write_frame(getattr(comp, name), out / name)
    for name in ("streams", "stream_hops"):  # only when the scenario has stream sessions
        if not getattr(comp, name).empty:
            written += _write_frame(getattr(comp, name), out / name)
    if not comp.logs.empty:  # one row per chatty container (model/logs)
        written += _write_frame(comp.logs, out / "logs")
    if not comp.pods.empty:  # no pod at all: nothing to draw
        written += _figures(comp, out / "figures", theme)
    return written


def _figures(comp: Comparison, out: Path, theme: str) -> list[Path]:
    """The figures of the registry any comparison is drawn as (one per runtime where so)."""
    from .figures import registry

    out.mkdir(parents=True, exist_ok=True)
    data = FigureData(comp, theme=theme)
    written = []
    for drawing in registry.comparison(data):
        if drawing.runtime is not None and not data.has_pod(drawing.runtime):
            continue  # no pod ran on this chain: no one-pod figure (a failure study)
        written += _save(drawing.draw(data), out / safe_name(drawing.stem))
    return written


def save_validation_figure(results: pd.DataFrame, base: Path, theme: str = "light") -> list[Path]:
    """``kubesim validate``'s predicted-vs-measured figure (PNG and SVG, written atomically)."""
    from .figures.validation import validation_figure

    base.parent.mkdir(parents=True, exist_ok=True)
    base = base.with_name(safe_name(base.name))
    return _save(validation_figure(results, footnote="kubesim validate", theme=theme), base)


def write_trace(comp: Comparison, runtime: str, pod: Optional[str], out: Path) -> tuple[str, list[Path]]:
    """One pod's sequence diagram (text, PNG, SVG) and the Chrome trace of ``runtime``, in ``out``
    (all or nothing). Without a pod that ran, the first pod created is traced (a failure study:
    its calls up to the failure); without any pod, only the Chrome trace is written."""
    rt_name = safe_name(runtime, "runtime")
    with staged(out) as stage:
        trace = to_chrome_trace(comp.spans[comp.spans.replication == 0]) if not comp.spans.empty else {
            "traceEvents": [], "displayTimeUnit": "ms"}
        written = [_write_text(stage / f"trace-{rt_name}.json", json.dumps(trace) + "\n")]
        pods = comp.pods
        mine = pods[(pods.runtime == runtime) & (pods.replication == 0)] if not pods.empty else pods
        if mine.empty:
            text = f"{runtime}: no pod was created before the horizon; nothing to draw"
        else:
            if not pod and not (mine.outcome == "running").any():
                pod = str(mine.sort_values("created").pod.iloc[0])
            pod = pick_pod(comp, runtime, pod)
            spans = pod_spans(comp, runtime, pod)
            lanes = lanes_for_runtime(runtime)
            seq = sequence_text(spans, lanes)
            base = f"sequence-{rt_name}-{safe_name(pod, 'pod')}"
            written.insert(0, _write_text(stage / f"{base}.txt", seq + "\n"))
            fig = sequence_diagram(spans, lanes, footnote=footnote_for(comp))
            written[1:1] = _save(fig, stage / base)
            outcome = str(mine[mine.pod == pod].outcome.iloc[0])
            text = (f"{runtime}: pod {pod} ({outcome}), every hop visit in time order (ms from the "
                    f"pod's first call)\n" + seq)
    return text, [out / p.relative_to(stage) for p in written]


def write_failures(df: pd.DataFrame, out: Path, scenario, load_key: str, seed: int) -> tuple[str, list[Path]]:
    """The failure-point table (CSV, Parquet, text) and heatmap of a load ramp (all or nothing)."""
    with staged(out) as stage:
        text, written = _write_failures(df, stage, scenario, load_key, seed)
    return text, [out / p.relative_to(stage) for p in written]


def _write_failures(df: pd.DataFrame, out: Path, scenario, load_key: str, seed: int) -> tuple[str, list[Path]]:
    from .figures.failures import failure_heatmap, failure_table

    written = _write_frame(df, out / "failures")
    table = failure_table(df)
    text = (f"Failures and stalls by hop as {load_key} grows (scenario '{scenario.name}', seed {seed}).\n"
            "F = pods failed, P = pods pending at the horizon, E = transient errors retried, "
            "S = seconds the node was NotReady (PLEG)\n\n" + table.to_string())
    written.append(_write_text(out / "failures.txt", text + "\n"))
    note = f"kubesim · scenario '{scenario.name}' · seed {seed} · load = {load_key}"
    written += _save(failure_heatmap(df, footnote=note), out / "failures-by-hop")
    return text, written


def write_figures(out: Path, preset: str = "default", seed: int = 1, theme: str = "light",
                  pptx: Path | None = None, overrides: Sequence[str] = (),
                  replications: int = DEFAULT_REPLICATIONS,
                  progress: Optional[Callable[[str, int], object]] = None) -> list[Path]:
    """Regenerate the whole figure catalogue from scratch: PNG (1920x1080) and SVG of every
    figure of the registry (:mod:`.figures.registry`), an index page listing each with what it
    teaches, and optionally a PowerPoint deck. Everything is computed from fixed seeds, so a
    second run writes the same bytes. Figures of an earlier catalogue that kubesim wrote (its
    manifest in ``out``) are deleted; any other file in ``out`` is left alone.

    ``overrides`` (``--set``) change the scenario of ``preset``: the comparison every chain
    figure draws and the figures that run that scenario again (latency against load, the
    tornado); the figures of a preset of their own (the failure ramp, the migration, the log
    pipeline, the validation cases) are left as they are. ``progress(next, total)`` is called
    after the comparison and after each figure, with what runs next and the number of steps."""
    from .figures import registry
    from .outfolder import check_file_target
    from .publish import write_index, write_pptx
    from .sources import kubesim_version, sources_and_assumptions

    if pptx is not None:
        check_file_target(Path(pptx), "--pptx")
    all_rt = ["dockershim", "containerd", "crio", "cri-dockerd"]
    scenario = load_scenario(preset, list(overrides)) if overrides else load_scenario(preset)
    comp = compare(scenario, runtimes=all_rt, seed=seed, replications=replications)
    data = FigureData(comp, theme=theme, preset=preset, runtimes=all_rt, overrides=tuple(overrides))
    drawings = registry.catalogue(data)
    following = [safe_name(d.stem) for d in drawings[1:]] + ["index"]
    if progress is not None:
        progress(safe_name(drawings[0].stem) if drawings else "index", len(drawings) + 1)
    entries: list[dict] = []
    order: list[tuple[int, int]] = []  # the deck's: by section, then the catalogue's
    with staged(out) as stage:
        written: list[Path] = []
        for drawing, upcoming in zip(drawings, following):
            stem = safe_name(drawing.stem)
            fig = drawing.draw(data)
            written.extend(_save(fig, stage / stem))
            place, section = registry.section_of(drawing.entry)
            entries.append({**drawing.page_entry(fig), "file_stem": stem, "section": section})
            order.append((place, len(order)))
            if progress is not None:
                progress(upcoming, len(drawings) + 1)
        index = stage / "index.html"
        atomic_write(index, lambda p: write_index(entries, p, title="kubesim figures"))
        written.append(index)
        if pptx is not None:  # from the staged PNGs, before they move
            slides = [entries[k] for _, k in sorted(order)]
            provenance = sources_and_assumptions(
                comp.scenario, all_rt, seed=seed, replications=comp.replications, preset=preset,
                screening=data.memo("sensitivity-tornado", lambda: None))  # the tornado's, if drawn
            subtitle = (f"The catalogue's {len(entries)} figures · preset '{preset}' · seed {seed} · "
                        f"kubesim {kubesim_version()}")
            atomic_write(Path(pptx), lambda p: write_pptx(slides, stage, p, title="kubesim", subtitle=subtitle,
                                                          theme=theme, provenance=provenance))
    result = [out / p.relative_to(stage) for p in written]
    if pptx is not None:
        result.append(Path(pptx))
    return result
