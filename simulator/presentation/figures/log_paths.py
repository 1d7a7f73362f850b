"""Container logs side by side, chain by chain: the writing path and who reads it back.

What it teaches: on Docker a line crosses the shim and dockerd's copier and JSON driver before
it reaches Docker's own file, which Docker rotates; on containerd and CRI-O the shim or conmon
and the runtime write the CRI format straight under /var/log/pods, and the kubelet rotates.
Every chain's ``kubectl logs`` is the kubelet reading that file (decoding JSON on Docker), and a
log agent set up for Docker's path finds nothing on the others.

What it draws: chain data only (each chain's ``logs:`` section, ``chains/logs.py``) and the
scenario's logging settings: no simulation. One column per chain: the container at the bottom,
the processes a line crosses (their CPU per 1,000 lines of the scenario's line size beside
them), the file with its format; above it the kubelet reading it for ``kubectl logs``. Under the
column: the writing CPU per 1,000 lines, who rotates, whether ``kubectl logs -f`` survives a
rotation, and what an agent tailing Docker's path finds.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

from ..logs import _FOLLOW_FIX, cpu_per_thousand_lines
from ..style import DPI, FIGSIZE_IN, figure_style, process_color, runtime_color
from ._draw import (
    FIG_H_PX,
    FIG_W_PX,
    finish,
    fit_text,
    ink_on,
    line_height_px,
    shrink_to_fit,
    text_width_px,
    wrap,
)

if TYPE_CHECKING:
    from .data import FigureData

__all__ = ["log_paths", "from_data"]

WARN = "#C0392B"
DOCKER_GLOB = "/var/lib/docker/containers/*/*.log"


def _bytes_per_line(scenario: Any) -> float:
    """The line size of the scenario's chatty containers (200 B when none writes logs)."""
    for t in scenario.workload.templates:
        for c in t.spec.initContainers + t.spec.containers:
            if c.logs is not None:
                return float(c.logs.bytesPerLine)
    return 200.0


def _path(chain: Any, bytes_per_line: float) -> list[tuple[str, str, float]]:
    """(process, what it does, ms per 1,000 lines) for each process a line crosses, in order."""
    spec = chain.logs
    out: list[tuple[str, str, float]] = []
    for h in spec.hops:
        ms = h.cpuUsPerLine + bytes_per_line / 1e6 * h.cpuMsPerMB * 1000.0
        if out and out[-1][0] == h.process:
            proc, what, prev = out[-1]
            out[-1] = (proc, what, prev + ms)
        else:
            what = "writes the file" if h.process == spec.writer else "copies the pipe"
            out.append((h.process, what, ms))
    return out


def log_paths(chains: Sequence[Any], scenario: Any, title: str | None = None, footnote: str | None = None,
              *, theme: str = "light") -> Figure:
    chains = [c for c in chains if c.logs is not None]
    if not chains:
        raise ValueError("none of these chains models container logs")
    bpl = _bytes_per_line(scenario)
    totals = [sum(cpu_per_thousand_lines(c, bpl).values()) for c in chains]
    if title is None:
        docker = [c.name for c in chains if c.logs.rotation.owner == "docker"]
        others = [c.name for c in chains if c.logs.rotation.owner != "docker"]
        title = "Container logs: Docker writes its own JSON file and rotates it"
        if others:
            title += f"; {'/'.join(others)} write /var/log/pods and the kubelet rotates"
        if not docker:
            title = "Container logs: the runtime writes /var/log/pods, the kubelet rotates and reads"
    n = len(chains)
    margin, gutter = 10.0, 22.0
    col_w = (FIG_W_PX - 2 * margin) / n - gutter
    with figure_style(theme) as colors:
        fig = Figure(figsize=FIGSIZE_IN, dpi=DPI)
        ax = fig.add_axes((0.0, 0.0, 1.0, 1.0))
        ax.set_xlim(0, FIG_W_PX)
        ax.set_ylim(FIG_H_PX, 0)
        ax.set_axis_off()
        size = shrink_to_fit(title, FIG_W_PX - 40, 22.0, "bold")
        fig.text(0.012, 0.975, fit_text(title, FIG_W_PX - 40, size, "bold"), ha="left", va="top", fontsize=size,
                 fontweight="bold", color=colors["foreground"])
        sub = (f"beside each process: ms of CPU per 1,000 lines of {bpl:g} B (kubesim explain logs) "
               "· kubectl logs: the kubelet reads the file")
        ax.text(24, 60, fit_text(sub, FIG_W_PX - 48, 12.5), ha="left", va="top", fontsize=12.5, color=colors["muted"])
        for i, (chain, total) in enumerate(zip(chains, totals)):
            x0 = margin + gutter / 2 + i * (col_w + gutter)
            if i:
                ax.plot([x0 - gutter / 2] * 2, [96, 1000], color=colors["grid"], linewidth=1.2)
            _column(ax, chain, _path(chain, bpl), total, scenario, x0, col_w, colors)
    return finish(fig, footnote)


def _line_px(size_pt: float) -> float:
    """The height of one line of text of ``size_pt`` on the figure's pixel grid."""
    return line_height_px(size_pt, 1.2)


def _wrap_path(path: str, width_px: float, size_pt: float) -> list[str]:
    """A file path broken after its slashes to fit ``width_px`` (DejaVu Sans Mono is 0.6 em
    per character)."""
    per_char = 0.6 * size_pt * DPI / 72
    lines = [""]
    for part in path.replace("/", "/\0").split("\0"):
        if lines[-1] and (len(lines[-1]) + len(part)) * per_char > width_px:
            lines.append(part)
        else:
            lines[-1] += part
    return lines


def _box(ax: Axes, cx: float, y: float, w: float, h: float, label: str, fill: str, edge: str, ink: str,
         dashed: bool = False) -> None:
    ax.add_patch(FancyBboxPatch((cx - w / 2, y - h / 2), w, h, boxstyle="round,pad=0,rounding_size=8",
                                facecolor=fill, edgecolor=edge, linewidth=1.3,
                                linestyle=(0, (3, 2)) if dashed else "solid", zorder=4))
    size = shrink_to_fit(label, w - 14, 13.0, "bold")
    ax.text(cx, y, fit_text(label, w - 10, size, "bold"), ha="center", va="center", fontsize=size,
            fontweight="bold", color=ink, zorder=5)


def _arrow(ax: Axes, x: float, y0: float, y1: float, color: str) -> None:
    ax.add_patch(FancyArrowPatch((x, y0), (x, y1), arrowstyle="-|>,head_length=0.45,head_width=0.22",
                                 color=color, linewidth=1.8, mutation_scale=18, shrinkA=0, shrinkB=0, zorder=3))


def _column(ax: Axes, chain: Any, path: list[tuple[str, str, float]], total: float, scenario: Any,
            x0: float, col_w: float, c: Mapping[str, str]) -> None:
    spec = chain.logs
    color = runtime_color(chain.name)
    ax.text(x0, 96, chain.name, ha="left", va="top", fontsize=20, fontweight="bold", color=color)
    box_w, box_h, pitch = min(232.0, col_w * 0.52), 46.0, 76.0
    cx = x0 + 24 + box_w / 2
    # top to bottom: kubectl logs, the kubelet reading, the file, the writing path, the container
    rows: list[tuple[str, str, str]] = [("kubectl logs", "client", ""),
                                        (f"{spec.reader.process} (reads)", "reader",
                                         f"{spec.reader.cpuUsPerLine:g}"),
                                        ("log file", "file", spec.format)]
    rows += [(proc, "hop", f"{ms:.2f}") for proc, _what, ms in reversed(path)]
    rows.append(("container", "pod", "stdout"))
    top = 168.0
    ys = [top + k * pitch for k in range(len(rows))]
    # the node's band: from the reader down
    ax.add_patch(FancyBboxPatch((x0 + 2, ys[1] - box_h / 2 - 10), col_w - 4, ys[-1] - ys[1] + box_h + 20,
                                boxstyle="round,pad=0,rounding_size=10", facecolor=c["band"],
                                edgecolor=c["grid"], linewidth=1.2, zorder=1))
    for k, (label, kind, note) in enumerate(rows):
        y = ys[k]
        if kind in ("client", "pod"):
            _box(ax, cx, y, box_w, box_h, label, c["background"], c["foreground"], c["foreground"], dashed=True)
        elif kind == "file":
            _box(ax, cx, y, box_w, box_h, label, c["background"], c["foreground"], c["foreground"])
        else:
            proc = label.split(" ")[0]
            fill = process_color(proc)
            _box(ax, cx, y, box_w, box_h, label, fill, c["foreground"], ink_on(fill))
        if kind in ("hop", "reader"):
            ax.text(cx + box_w / 2 + 10, y, note, ha="left", va="center", fontsize=14, fontweight="bold",
                    color=c["foreground"] if kind == "hop" else c["muted"], zorder=5)
        elif kind == "file":
            ax.text(cx + box_w / 2 + 10, y, note, ha="left", va="center", fontsize=13, fontweight="bold",
                    color=c["foreground"], zorder=5)
        if k + 1 < len(rows):
            _arrow(ax, cx, ys[k + 1] - box_h / 2, y + box_h / 2, c["foreground"])
    # the file's path, under the column's boxes
    base = ys[-1] + box_h / 2 + 22
    path_lines = _wrap_path(spec.file, col_w - 8, 10.5)
    ax.text(x0, base, "\n".join(path_lines), ha="left", va="top", fontsize=10.5, color=c["muted"],
            family="monospace", linespacing=1.2)
    base += _line_px(10.5) * len(path_lines) + 28
    number = f"{total:.1f}"
    ax.text(x0, base + 38, number, ha="left", va="baseline", fontsize=34, fontweight="bold", color=color)
    nx = x0 + text_width_px(number, 34, "bold") + 12
    for text, dy in (("ms of CPU to write", 4), ("1,000 lines", 38)):  # 34 px apart: one 13 pt line each
        ax.text(nx, base + dy, text, ha="left", va="baseline", fontsize=13, fontweight="bold",
                color=c["foreground"])
    rotated = ("rotated by Docker (log-opts)" if spec.rotation.owner == "docker"
               else "rotated by the kubelet every 10 s")
    follow = ("kubectl logs -f follows a rotation" if spec.rotation.owner == "docker"
              else f"kubectl logs -f stops at a rotation before {_FOLLOW_FIX[0]}.{_FOLLOW_FIX[1]}")
    finds = spec.has_path(DOCKER_GLOB)
    agent = "an agent on Docker's path finds the logs" if finds else "⚠ an agent on Docker's path finds nothing"
    y = base + 64
    for text, bold, warn in ((rotated, True, False), (follow, False, False), (agent, not finds, not finds)):
        lines = wrap(text, col_w - 4, 12.5, "bold" if bold else "normal")[:2]
        ax.text(x0, y, "\n".join(lines), ha="left", va="top", fontsize=12.5, fontweight="bold" if bold else "normal",
                color=WARN if warn else (c["foreground"] if bold else c["muted"]), linespacing=1.15)
        y += _line_px(12.5) * 1.15 * len(lines) + 8


def from_data(data: "FigureData") -> Figure:
    """The catalogue's figure: the comparison's chains, with its scenario's logging settings."""
    return log_paths(data.chains_with("logs"), data.comp.scenario, footnote="kubesim · chain data",
                     theme=data.theme)
