"""One pod's creation as a waterfall: one row per CRI call, to scale in time.

What it teaches: where one pod's time goes, call by call. Each bar is one CRI call (and each
image pull) placed at its start and as long as it took, split into the self time of every
process it crossed, from the kubelet to the far end: which calls dominate, which process does
the work inside them, what waits on a lock, a CPU or a slot (hatched), and how long the pod sits
between calls.

What it draws: the model's ``spans`` of ONE pod of ONE runtime, its SyncPod and image puller
spans (``source`` ``sync`` and ``puller``). The catalogue draws dockershim's simplest pod that
ran.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from ..style import DPI, PROCESS_ORDER, figure_style, new_figure, process_color
from ._draw import (
    FIG_W_PX,
    SPAN_COLUMNS,
    axes_title,
    duration,
    finish,
    ink_on,
    legend_below_figure,
    line_height_px,
    one_pod,
    ordered,
    percent,
    self_seconds,
    text_width_px,
    unit_for,
)

if TYPE_CHECKING:
    from .data import FigureData

__all__ = ["waterfall", "from_data"]

_SPAN_COLUMNS = tuple(c for c in SPAN_COLUMNS if c != "outcome")  # outcomes are not drawn
_MS_BELOW = 1.0  # a waterfall's durations: milliseconds below one second


def _self_times(spans: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Each span's self time (duration minus the union of its children) and its queued part."""
    self_s = self_seconds(spans)
    queued = np.clip(spans["queued"].to_numpy(dtype=float), 0.0, None)
    queued = np.where(queued > 1e-9, np.minimum(queued, self_s), 0.0)
    return self_s, queued


def _roots(spans: pd.DataFrame) -> np.ndarray:
    """The operation-level (depth 0) ancestor of each span."""
    parent = dict(zip(spans["span_id"].astype(int), spans["parent_id"].astype(int)))
    out = []
    for sid in spans["span_id"].astype(int):
        seen = 0
        while parent.get(sid, -1) in parent and seen < 1000:
            sid, seen = parent[sid], seen + 1
        out.append(sid)
    return np.array(out, dtype=np.int64)


def waterfall(
    spans: pd.DataFrame,
    title: str | None = None,
    footnote: str | None = None,
    *,
    theme: str = "light",
) -> Figure:
    """One pod's creation as a waterfall: one row per CRI call, to scale in time.

    ``spans`` are the spans of ONE pod of ONE runtime (``source`` ``sync`` and ``puller``).
    Each row is an operation-level span (depth 0), placed at its start and as long as it took;
    the bar is split into the *self time* of each process the call crossed (a span's duration
    minus its children's), in chain order from the kubelet to the far end (not in time order),
    with the time queued for a lock, a CPU or a slot hatched. After each bar: its total and the
    process that took the largest share. Waits with no CRI call for the pod are marked.
    """
    spans = one_pod(spans, _SPAN_COLUMNS, names_as_text=True)
    self_s, queued = _self_times(spans)
    spans = spans.assign(work_s=self_s - queued, queued_s=queued, root=_roots(spans))
    rows = spans[spans["span_id"].isin(spans["root"])].reset_index(drop=True)
    runtime, pod = str(spans["runtime"].iloc[0]), str(spans["pod"].iloc[0])
    t0 = float(rows["start"].min())
    total = float(rows["end"].max()) - t0
    unit = unit_for(total)
    per = unit.per_second
    processes = ordered(spans["process"].unique(), PROCESS_ORDER)
    sums = spans.groupby(["root", "process"])[["work_s", "queued_s"]].sum()
    roots_with_parts = set(sums.index.get_level_values("root"))

    # per row: (process, seconds, hatched) segments, scaled so that they fill the bar exactly
    # (concurrent children could make self times add up to more than the duration)
    bars: list[tuple[float, float, list[tuple[str, float, bool]], str]] = []
    for row in rows.itertuples(index=False):
        start, end = float(row.start) - t0, float(row.end) - t0
        segs: list[tuple[str, float, bool]] = []
        top = ""
        if int(row.span_id) in roots_with_parts:
            parts = sums.xs(int(row.span_id), level="root")
            for p in processes:
                if p in parts.index:
                    w, q = float(parts.loc[p, "work_s"]), float(parts.loc[p, "queued_s"])
                    segs += [(p, w, False)] * (w > 0) + [(p, q, True)] * (q > 0)
            by_p = parts["work_s"] + parts["queued_s"]
            if by_p.sum() > 0:
                top = f"{by_p.idxmax()} {float(by_p.max()) / float(by_p.sum()):.0%}"
                top = top.replace("%", " %")
        s = sum(v for _, v, _ in segs)
        k = (end - start) / s if s > 0 else 0.0
        bars.append((start, end, [(p, v * k, h) for p, v, h in segs], top))

    labels = [str(step) + (" (image puller)" if src == "puller" else "")
              for step, src in zip(rows["step"], rows["source"])]
    with figure_style(theme) as colors:
        fig, ax = new_figure()
        n = len(rows)
        bar_h = 0.62
        ax.set_yticks(np.arange(n), labels)
        ax.set_ylim(n - 0.5, -0.5 - 0.3)
        ax.grid(axis="y", visible=False)
        ax.tick_params(axis="y", length=0)
        xlabel = f"time since the pod's first CRI call ({unit.name})"
        ax.set_xlabel(xlabel)
        axes_title(ax, title or _takeaway(runtime, labels, bars, total))
        # a queued share too thin to see (< 2 px at a rough 80 % axes width) is not announced
        visible = 2.0 * total / (0.8 * FIG_W_PX) if total > 0 else 0.0
        hatched = any(h and v >= visible for _, _, segs, _ in bars for _, v, h in segs)
        handles = [Patch(facecolor=process_color(p), label=p) for p in processes]
        if hatched:
            handles.append(Patch(facecolor=colors["muted"], hatch="///",
                                 edgecolor=colors["background"], label="queued (lock, CPU, slot)"))
        legend_below_figure(fig, handles)
        ax.set_xlim(0, total * per if total > 0 else 1.0)
        # the geometry is known only after layout: lay out once, then fit labels in pixels
        fig.draw_without_rendering()
        width_px = ax.get_window_extent().width
        pad_px = 10.0
        totals = [(duration(end - start, _MS_BELOW), top) for start, end, _, top in bars]
        need = 0.0
        for (start, end, _, _), (text, top) in zip(bars, totals):
            label_px = text_width_px(text, 15, "bold") + (text_width_px("  " + top, 13)
                                                          if top else 0.0)
            need = max(need, end * per / (1 - min((label_px + pad_px + 8) / width_px, 0.8)))
        x_max = max(need, total * per * 1.02, 1e-9)
        x_min = -0.008 * x_max
        ax.set_xlim(x_min, x_max)
        px_per = width_px / (x_max - x_min)
        min_w = 3.0 / px_per  # a call too short to see still gets a visible sliver
        for i, ((start, end, segs, top), (text, _)) in enumerate(zip(bars, totals)):
            left = start * per
            if (end - start) * per < min_w:
                sliver = process_color(top.rsplit(" ", 2)[0]) if top else colors["muted"]
                ax.barh(i, min_w, left=left, height=bar_h, color=sliver, zorder=2)
            for p, v, h in segs:
                w = v * per
                color = process_color(p)
                # a segment too thin for a border is drawn without one, or the border hides it
                ax.barh(i, w, left=left, height=bar_h, color=color, hatch="///" if h else None,
                        edgecolor=colors["background"],
                        linewidth=0.8 if w * px_per > 4 else 0.0, zorder=3)
                for candidate in (f"{p} {duration(v, _MS_BELOW)}", duration(v, _MS_BELOW)):
                    if not h and w * px_per > text_width_px(candidate, 13) + 24:
                        ax.text(left + w / 2, i, candidate, ha="center", va="center",
                                fontsize=13, color=ink_on(color), zorder=4)
                        break
                left += w
            x_end = max(end * per, start * per + min_w)
            ax.annotate(text, (x_end, i), xytext=(pad_px * 72 / DPI, 0),
                        textcoords="offset points", ha="left", va="center", fontsize=15,
                        fontweight="bold", color=colors["foreground"], zorder=5)
            if top:
                ax.annotate("  " + top, (x_end, i),
                            xytext=((pad_px + text_width_px(text, 15, "bold")) * 72 / DPI, -1),
                            textcoords="offset points", ha="left", va="center", fontsize=13,
                            color=colors["muted"], zorder=5)
        # what the pod took, and how to read a bar: top right, where a waterfall leaves room
        # (bottom left if the first rows reach that far)
        note = (f"{pod}: {duration(total, _MS_BELOW)} from its first CRI call to its last\n"
                "bars: self time per process, not in time order")
        note_px = max(text_width_px(line, 13) for line in note.split("\n"))
        pitch_px = ax.get_window_extent().height / (n + 0.3)
        # rows under the note
        covered = int(np.ceil((2 * line_height_px(13) * 1.1 + 12) / pitch_px))
        first_px = max(((end * per - x_min) * px_per + pad_px + text_width_px(text, 15, "bold")
                        + (text_width_px("  " + top, 13) if top else 0.0))
                       for (_, end, _, top), (text, _) in list(zip(bars, totals))[:covered])
        last_px = min((start * per - x_min) * px_per for start, _, _, _ in bars[n - covered:])
        if first_px + note_px + 30 < width_px:
            ax.text(0.995, 0.995, note, transform=ax.transAxes, ha="right", va="top",
                    fontsize=13, color=colors["muted"], linespacing=1.35, zorder=6)
        elif note_px + 40 < last_px:
            ax.text(0.015, 0.025, note, transform=ax.transAxes, ha="left", va="bottom",
                    fontsize=13, color=colors["muted"], linespacing=1.35, zorder=6)
        else:  # no corner is free: under the legend's title instead
            legend = fig.legends[0]
            legend.set_title(note.replace("\n", " · "))
        # waits between calls, when long enough to matter
        ends = np.array([e for _, e, _, _ in bars]) * per
        starts = np.array([s for s, _, _, _ in bars]) * per
        for i in range(1, n):
            before = float(ends[:i].max())
            gap = float(starts[i]) - before
            if gap * px_per > 60 and gap > 0.05 * total * per:
                ax.plot([before, starts[i]], [i - 0.5, i - 0.5], color=colors["muted"],
                        linewidth=1.4, linestyle=(0, (1, 2.5)), zorder=2)
                # the long label only where the dotted line still shows on both sides of it
                for text, room in ((f"{duration(gap / per, _MS_BELOW)}, no CRI call", 90.0),
                                   (duration(gap / per, _MS_BELOW), 12.0)):
                    if text_width_px(text, 12) + room < gap * px_per:
                        ax.text((before + starts[i]) / 2, i - 0.5, text, ha="center",
                                va="center", fontsize=12, fontstyle="italic",
                                color=colors["muted"], zorder=4,
                                bbox=dict(boxstyle="square,pad=0.15",
                                          facecolor=colors["background"], edgecolor="none"))
                        break
    return finish(fig, footnote)


def _takeaway(runtime: str, labels: list[str], bars: list[tuple[float, float, list, str]],
              total: float) -> str:
    """The title: the call that takes the largest share of the pod's time, and which process
    does most of it."""
    if not bars or total <= 0:
        return f"{runtime}: one pod's CRI calls"
    i = max(range(len(bars)), key=lambda k: bars[k][1] - bars[k][0])
    text = f"{runtime}: {labels[i]} is {percent((bars[i][1] - bars[i][0]) / total)} of one pod's {duration(total)}"
    if bars[i][3]:
        process, share = bars[i][3].split(" ", 1)
        text += f", {share} of it in {process}"
    return text


def from_data(data: FigureData, runtime: str) -> Figure:
    """The catalogue's waterfall for ``runtime``: its simplest pod that ran."""
    return waterfall(data.pod_spans(runtime), footnote=data.note, theme=data.theme)
