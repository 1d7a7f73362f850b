"""Drawing a sequence diagram on its :class:`~._sequence_layout.SequenceLayout`, piece by piece.

:func:`draw` draws the whole diagram of :func:`~.sequence.sequence_diagram` back to front; each
other function draws one kind of thing (operation bands, lanes, idle-wait breaks, activation
bars, call and return arrows, their labels, the time ticks). Every label is placed through the
layout's :class:`~._sequence_layout.Placer`, so that none overlaps what is already there.
"""

from __future__ import annotations

import numpy as np
from matplotlib.patches import Rectangle

from ..style import process_color
from ._chain_graph import cri_name
from ._draw import (
    FIG_W_PX,
    duration,
    ink_on,
    percent,
    slide_title,
    text_size_px,
)
from ._sequence_layout import Arrow, SequenceLayout

__all__ = ["draw", "LABEL_FONT_PT"]

LABEL_FONT_PT = 10.5


def draw(diag: SequenceLayout, title: str | None, with_footnote: bool) -> None:
    """The whole diagram, back to front: bands, lanes, breaks, bars, arrows, then the labels
    where they fit, the time axis, the title and the note on how to read it."""
    ax, c = diag.ax, diag.colors
    ax.set_xlim(diag.x_min, diag.x_max)
    ax.set_ylim(1.0, 0.0)
    ax.grid(False)
    for side in ("top", "right", "bottom"):
        ax.spines[side].set_visible(False)
    ax.tick_params(axis="x", bottom=False, labelbottom=False)
    draw_operation_bands(diag)
    draw_lanes(diag)
    draw_breaks(diag)
    draw_bars(diag)
    arrows = draw_arrows(diag)
    label_arrows(diag, arrows)
    label_bars(diag)
    time_ticks(diag)
    ax.set_ylabel(f"time ({diag.unit.name})", labelpad=2)
    runtime, pod = diag.spans["runtime"].iloc[0], diag.spans["pod"].iloc[0]
    n_processes = len(set(diag.spans["process"]) | set(diag.spans["caller"]))
    ops = diag.spans[diag.spans["depth"] == 0]
    took = (ops["end"] - ops["start"]).groupby(ops["operation"]).sum()
    longest = str(took.idxmax()) if len(took) else ""
    title = title or (f"{runtime}: {len(diag.calls)} calls across {n_processes} processes; "
                      f"{cri_name(longest)} is {percent(took.max() / max(diag.total, 1e-12))} of "
                      f"{duration(diag.total)}" if longest else
                      f"{runtime}: {len(diag.calls)} calls across {n_processes} processes")
    heading = slide_title(diag.fig, title, c)
    subtitle = f"pod {pod} · {duration(diag.total)}"
    x_px = 0.012 * FIG_W_PX + text_size_px(title, float(heading.get_fontsize()), "bold")[0] + 24
    if x_px + text_size_px(subtitle, 15)[0] < 0.99 * FIG_W_PX:
        diag.fig.text(x_px / FIG_W_PX, 0.968, subtitle, ha="left", va="top", fontsize=15,
                      color=c["muted"])
    note = "time to scale; calls too short to see are stretched" + (
        ", idle waits cut (≈)" if diag.warp.breaks else "") + (
        "; hatched: queued for a lock, a CPU or a slot" if (diag.spans["queued"] > 0).any()
        else "")
    diag.fig.text(0.99, 0.04 if with_footnote else 0.012, note, ha="right", va="bottom",
                  fontsize=11, color=c["muted"])


def draw_operation_bands(diag: SequenceLayout) -> None:
    """Alternating light bands behind each operation-level span, named in the left column."""
    c = diag.colors
    operations = diag.spans[diag.spans["depth"] == 0]
    for i, op in enumerate(operations.itertuples(index=False)):
        y0, y1 = diag.y(op.start), diag.y(op.end)
        if i % 2 == 0:
            diag.ax.axhspan(y0, y1, color=c["band"], zorder=0, linewidth=0)
        diag.ax.plot([diag.x_min, diag.x_max], [y0, y0], color=c["grid"], linewidth=1.0,
                     zorder=0)
        w, h = text_size_px(op.operation, diag.OPERATION_FONT_PT, "bold")
        box = (6.0, diag.px(0, y0)[1] + 2, 6.0 + w, diag.px(0, y0)[1] + 2 + h)
        if diag.placer.free(box):
            diag.placer.add(box)
            diag.ax.text(diag.x_min + 6 / diag.px_per_x, y0 + 2 / diag.h_px, op.operation,
                         ha="left", va="top", fontsize=diag.OPERATION_FONT_PT,
                         fontweight="bold", color=c["foreground"], zorder=2)


def draw_lanes(diag: SequenceLayout) -> None:
    """Dashed lifelines under a header box in each process's colour.

    Header names shrink from 15 pt to 13 pt to fit their lane; a name still too wide is
    broken after its last hyphen (``containerd-`` / ``shim``), and only then shrunk further.
    """
    c = diag.colors
    room = diag.px_per_x - 24

    def fits(text: str, size: float) -> bool:
        return all(text_size_px(line, size, "bold")[0] <= room for line in text.split("\n"))

    def wrapped(name: str) -> str:
        head, dash, tail = name.rpartition("-")
        return f"{head}-\n{tail}" if dash and not fits(name, 13) else name

    size = next((sz for sz in (15, 14.5, 14, 13.5, 13)
                 if all(fits(n, sz) for n in diag.lanes)), 13)
    names = {name: wrapped(name) for name in diag.lanes}
    while size > 10 and not all(fits(n, size) for n in names.values()):
        size -= 0.5
    for name, x in diag.lane_x.items():
        diag.ax.plot([x, x], [0, 1], color=c["muted"], linewidth=1.2,
                     linestyle=(0, (2, 4)), zorder=1)
        diag.ax.text(x, -0.012, names[name], ha="center", va="bottom", fontsize=size,
                     fontweight="bold", linespacing=1.0, color=ink_on(process_color(name)),
                     clip_on=False, zorder=5,
                     bbox=dict(boxstyle="round,pad=0.35", facecolor=process_color(name),
                               edgecolor=c["foreground"], linewidth=1.2))


def draw_breaks(diag: SequenceLayout) -> None:
    """Cut idle waits: a blank band, ≈ on the axis, and the wait's true length."""
    c = diag.colors
    for t_from, t_to in diag.warp.breaks:
        y0, y1 = diag.y(t_from), diag.y(t_to)
        diag.ax.axhspan(y0, y1, color=c["background"], zorder=2, linewidth=0)
        for y in (y0, y1):
            diag.ax.plot([diag.x_min, diag.x_max], [y, y], color=c["muted"], linewidth=1.0,
                         linestyle=(0, (1, 3)), zorder=2)
        diag.ax.text(-0.4, (y0 + y1) / 2,
                     f"≈ {duration(t_to - t_from)} without a CRI call for this pod",
                     ha="left", va="center", fontsize=13, fontstyle="italic",
                     color=c["muted"], zorder=2)
        diag.ax.text(diag.x_min, (y0 + y1) / 2, "≈", ha="center", va="center", fontsize=22,
                     color=c["muted"], clip_on=False, zorder=6,
                     bbox=dict(boxstyle="square,pad=0", facecolor=c["background"],
                               edgecolor="none"))
        diag.placer.add((0.0, diag.px(0, y0)[1], diag.w_px, diag.px(0, y1)[1]))


def draw_bars(diag: SequenceLayout) -> None:
    """An activation bar per span, hatched while the span waited (queued for a lock, a CPU
    or a slot); each bar is an obstacle for labels."""
    half = diag.bar_w / 2
    for span in diag.spans.itertuples(index=False):
        x = diag.bar_x(span.span_id)
        y0, y1 = diag.y(span.start), diag.y(span.end)
        color = process_color(span.process)
        diag.ax.add_patch(Rectangle((x - half, y0), diag.bar_w, max(y1 - y0, 0.002),
                                    facecolor=color, edgecolor=diag.colors["foreground"],
                                    linewidth=0.8, zorder=3))
        if span.queued > 0:
            y_wait = diag.y(min(span.start + span.queued, span.end))
            diag.ax.add_patch(Rectangle((x - half, y0), diag.bar_w, y_wait - y0,
                                        facecolor=color, hatch="////", linewidth=0,
                                        zorder=3))
        diag.placer.add((*diag.px(x - half, y0), *diag.px(x + half, y1)))


def draw_arrows(diag: SequenceLayout) -> list[Arrow]:
    """Call arrows (solid) and return arrows (dashed; bold when the call failed)."""
    c = diag.colors
    arrows = []
    for span in diag.calls.itertuples(index=False):
        parent_x = (diag.bar_x(span.parent_id) if diag.process_of.get(span.parent_id)
                    == span.caller else diag.lane_x[span.caller])
        child_x = diag.bar_x(span.span_id)
        direction = 1.0 if child_x >= parent_x else -1.0
        arrow = Arrow(span, parent_x + direction * diag.bar_w / 2,
                      child_x - direction * diag.bar_w / 2,
                      diag.y(span.start), diag.y(span.end))
        failed = span.outcome != "ok"
        diag.ax.annotate("", xy=(arrow.x_callee, arrow.y_call),
                         xytext=(arrow.x_caller, arrow.y_call), zorder=4,
                         arrowprops=dict(arrowstyle="-|>,head_length=0.4,head_width=0.16",
                                         color=c["foreground"], linewidth=1.6,
                                         shrinkA=0, shrinkB=0))
        diag.ax.annotate("", xy=(arrow.x_caller, arrow.y_return),
                         xytext=(arrow.x_callee, arrow.y_return), zorder=4,
                         arrowprops=dict(arrowstyle="->,head_length=0.35,head_width=0.14",
                                         color=c["foreground"] if failed else c["muted"],
                                         linewidth=2.4 if failed else 1.1,
                                         linestyle=(0, (3, 2)), shrinkA=0, shrinkB=0))
        # the shafts, and the heads (at the callee for a call, at the caller for a return)
        for y, head_x in ((arrow.y_call, arrow.x_callee), (arrow.y_return, arrow.x_caller)):
            (x0, y0) = diag.px(min(arrow.x_caller, arrow.x_callee), y)
            (x1, _) = diag.px(max(arrow.x_caller, arrow.x_callee), y)
            diag.placer.add((x0, y0 - 1.5, x1, y0 + 1.5))
            hx = diag.px(head_x, y)[0]
            tail = -1.0 if hx > (x0 + x1) / 2 else 1.0  # the head points away from here
            length, half = diag.HEAD
            diag.placer.add((min(hx, hx + tail * length), y0 - half,
                             max(hx, hx + tail * length), y0 + half))
        arrows.append(arrow)
    return arrows


def label_arrows(diag: SequenceLayout, arrows: list[Arrow]) -> None:
    """Name each call with its step, and each failed call's error, where there is room.

    Errors go first (on their return arrow), then the kubelet's CRI calls, then the longest
    hops.
    """
    ranked = sorted(arrows, key=lambda a: (a.span.depth > 1, a.span.start - a.span.end))
    requests = [(a, a.y_return, f"✗ {a.span.outcome}") for a in arrows
                if a.span.outcome != "ok"]
    requests += [(a, a.y_call, str(a.span.step)) for a in ranked]
    for arrow, y, text in requests:
        label_arrow(diag, arrow, y, text)


def label_arrow(diag: SequenceLayout, arrow: Arrow, y: float, text: str) -> None:
    """Put ``text`` on the arrow at height ``y``: above it, else below, near its middle.

    A label wider than its arrow may run on past the callee by half a lane (never back over
    the caller, whose bar is busy for the whole call). Failing that, the text is shortened
    to the arrow's length, or left out.
    """
    size = LABEL_FONT_PT
    (pa, py), (pb, _) = diag.px(arrow.x_caller, y), diag.px(arrow.x_callee, y)
    lo, hi = min(pa, pb) + 6, max(pa, pb) - 6
    # the whole label, else its name without the parenthesis: never cut in the middle of a word
    for candidate in dict.fromkeys([text, _head(text)]):
        w, h = text_size_px(candidate, size)
        spill = diag.px_per_x / 2
        first, last = (lo, hi - w + spill) if pb > pa else (lo - spill, hi - w)
        xs = np.arange(first, last + 1e-9, 6.0)
        xs = xs[np.argsort(np.abs(xs - (lo + hi - w) / 2), kind="stable")]
        gap = diag.LABEL_GAP_PX
        box = diag.placer.first_free(
            (x0, y0, x0 + w, y0 + h) for y0 in (py - h - gap, py + gap) for x0 in xs)
        if box is not None:
            diag.placer.add(box)
            diag.text_px(box[0], box[1], candidate, size, diag.colors["foreground"])
            return


def label_bars(diag: SequenceLayout) -> None:
    """Beside a bar: the step of an in-process call, or the duration of a tall bar."""
    size = LABEL_FONT_PT - 1
    for span in diag.spans.itertuples(index=False):
        if span.depth == 0:
            continue
        x_px = diag.px(diag.bar_x(span.span_id) + diag.bar_w / 2, 0)[0] + 4
        top, bottom = diag.px(0, diag.y(span.start))[1], diag.px(0, diag.y(span.end))[1]
        took = duration(span.end - span.start)
        in_process = span.caller == span.process
        # an in-process step: its whole name, else the name without its parenthesis, else
        # only the time (never a name cut short)
        texts = ([f"{span.step} · {took}", f"{_head(span.step)} · {took}", took] if in_process
                 else [took])
        for text in dict.fromkeys(texts):
            w, h = text_size_px(text, size)
            if not in_process and bottom - top < 1.6 * h:
                break
            y_px = top if in_process else (top + bottom - h) / 2
            box = (x_px, y_px, x_px + w, y_px + h)
            if diag.placer.free(box):
                diag.placer.add(box)
                diag.text_px(x_px, y_px, text, size, diag.colors["muted"], italic=in_process)
                break


def _head(label: str) -> str:
    """A label without its trailing parenthesis: ``CreateRWLayer (init + rw)`` →
    ``CreateRWLayer``."""
    return label.split(" (")[0]


def time_ticks(diag: SequenceLayout) -> None:
    """Ticks at the start of each operation and at the end, at least 42 px apart (a 14 pt
    label is about 36 px tall: two never touch).

    Where two are closer, or would read the same, the later one wins, so that the last
    tick always gives the whole duration.
    """
    per_s = diag.unit.per_second
    ops = diag.spans.loc[diag.spans["depth"] == 0, "start"]
    ticks: list[tuple[float, str]] = []  # (y, label)
    for t in sorted(set(ops) | {float(diag.spans["end"].max())}):
        y = diag.y(t)
        label = f"{(t - diag.t0) * per_s:.0f}" if per_s > 1 else f"{t - diag.t0:.2f}"
        if ticks and ((y - ticks[-1][0]) * diag.h_px < 42 or label == ticks[-1][1]):
            ticks.pop()
        ticks.append((y, label))
    diag.ax.set_yticks([y for y, _ in ticks], [label for _, label in ticks])
    diag.ax.tick_params(axis="y", labelsize=14)
