"""The ``kubectl exec`` path side by side, chain by chain.

What it teaches: where the bytes of an exec session go on each chain, and what each hop pays
for them. One column per chain, the client at the top and the container at the bottom: every box
is a process the bytes cross (its CPU per MB beside it, the way the bytes reach it beside the
arrow), the node's processes inside the node's band. The redirect of the 1.10-era kubelet
(and of the 1.11-1.19 ``--redirect-container-streaming`` flag) is the dashed arrow that skips
the kubelet, drawn for the chains whose releases could redirect. Under each column: the CPU one
MB costs the node, the set-up calls the exec makes (CRI request and the stream server's connect
steps) and their time on an idle node, and where the stream server listens (a warning when the
listener is routable, as cri-dockerd's is by default).

What it draws: chain data only (each chain's ``streaming:`` section, ``chains/streaming.py``) and
the path outside the runtime from the scenario's ``streams:`` section (its defaults when the
scenario has none): no simulation. The set-up time is the sum of the steps' medians plus the
network and TLS constants, an idle-node estimate (``kubesim compare`` with ``streams:`` measures
it under load).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

from ...config import StreamsConfig
from ...config.streams import streaming_mode
from ...config.versions import profile
from ...model.dist import dist_median_s
from ...model.streams import data_path
from ..style import DPI, FIGSIZE_IN, figure_style, process_color, runtime_color
from ._draw import (
    FIG_H_PX,
    FIG_W_PX,
    finish,
    fit_text,
    ink_on,
    shrink_to_fit,
    text_width_px,
    wrap,
)

if TYPE_CHECKING:
    from .data import FigureData

__all__ = ["stream_paths", "path_stats", "from_data"]

WARN = "#C0392B"


@dataclass(frozen=True)
class PathStats:
    """What a column says under its boxes."""

    node_ms_per_mb: float
    setup_calls: int  # calls that cross from one process to another (request + connect)
    setup_processes: int
    setup_ms: float  # sum of medians + the path's constants: an idle-node estimate
    can_redirect: bool


def _setup_ms(cfg: StreamsConfig, scenario: Any) -> float:
    """The path outside the runtime on an idle node (model/streams.py): the apiserver's request
    CPU and latency, TCP + TLS to the kubelet, the request, the kubelet's handler, the 101 and
    the client's streams."""
    rtt = cfg.apiserverToNodeRttMs
    return (cfg.apiserverRequestCpuMs + dist_median_s(scenario.apiserver.requestLatency) * 1000 + 2 * rtt
            + cfg.tlsHandshakeCpuMs + rtt / 2 + cfg.kubeletHandlerCpuMs + rtt / 2 + rtt)


def path_stats(chain: Any, cfg: StreamsConfig, scenario: Any) -> PathStats:
    spec = chain.streaming
    ks = spec.kind(cfg.kind)
    mode = streaming_mode(scenario.kubernetesVersion, cfg.redirectContainerStreaming)
    listen = spec.server.effective(mode == "redirect", cfg.streamServerAddress, cfg.streamServerTLS)
    hops = data_path(spec, cfg, mode, listen)
    calls, procs, ms = 0, {"kubelet"}, _setup_ms(cfg, scenario)

    def walk(ss: Sequence[Any], caller: str) -> None:
        nonlocal calls, ms
        for s in ss:
            calls += s.process != caller
            procs.add(s.process)
            if s.service is not None:
                ms += dist_median_s(s.service) * 1000
            walk(s.calls, s.process)

    walk(ks.request if ks is not None else [], "kubelet")
    walk(ks.connect if ks is not None else [], "kubelet")
    era = chain.kubernetes
    can_redirect = era is None or any(profile((1, m))["containerStreaming"] != "proxy" and era.contains((1, m))
                                      for m in range(6, 20))
    return PathStats(sum(h.cpuMsPerMB for h, api in hops if not api), calls, len(procs), ms, can_redirect)


def stream_paths(chains: Sequence[Any], scenario: Any, title: str | None = None, footnote: str | None = None,
                 *, theme: str = "light") -> Figure:
    """The exec path (``streams.kind``: exec unless the scenario says otherwise) of each chain."""
    if not chains:
        raise ValueError("no chains to draw")
    cfg = scenario.streams or StreamsConfig(sessionsPerSecond=1.0)
    mode = streaming_mode(scenario.kubernetesVersion, cfg.redirectContainerStreaming)
    stats = [path_stats(c, cfg, scenario) for c in chains]
    n = len(chains)
    margin, gutter = 10.0, 22.0
    col_w = (FIG_W_PX - 2 * margin) / n - gutter
    paths = []
    for c in chains:
        listen = c.streaming.server.effective(mode == "redirect", cfg.streamServerAddress, cfg.streamServerTLS)
        paths.append((data_path(c.streaming, cfg, mode, listen), listen))
    rows = max(len(p) for p, _ in paths) + 2  # + the client and the container
    top, bottom = 252.0, 732.0
    pitch = min(80.0, (bottom - top) / (rows - 1))
    kind = {"exec": "kubectl exec", "attach": "kubectl attach", "portForward": "kubectl port-forward",
            "logsFollow": "kubectl logs -f"}[cfg.kind]
    if title is None:
        groups: dict[str, list[str]] = {}
        for c, st in zip(chains, stats):
            groups.setdefault(f"{st.node_ms_per_mb:.1f}", []).append(c.name)
        parts = [f"{v} ms on {'/'.join(names)}" for v, names in groups.items()]
        title = f"{kind}: each MB costs the node's CPU " + ", ".join(parts)
    with figure_style(theme) as colors:
        fig = Figure(figsize=FIGSIZE_IN, dpi=DPI)
        ax = fig.add_axes((0.0, 0.0, 1.0, 1.0))
        ax.set_xlim(0, FIG_W_PX)
        ax.set_ylim(FIG_H_PX, 0)
        ax.set_axis_off()
        size = shrink_to_fit(title, FIG_W_PX - 40, 22.0, "bold")
        fig.text(0.012, 0.975, fit_text(title, FIG_W_PX - 40, size, "bold"), ha="left", va="top", fontsize=size,
                 fontweight="bold", color=colors["foreground"])
        sub = [f"Kubernetes {scenario.kubernetesVersion}: "
               + ("the kubelet proxies every stream · dashed: the redirect that skips the kubelet (< 1.11, or the "
                  "1.11-1.19 flag)" if mode == "proxy" else
                  "the kubelet redirects, so the apiserver connects to the stream server: no kubelet on the path"),
               "ms/MB: CPU per MB each hop copies (ASSUMPTIONs: kubesim explain) · set-up: medians + network + TLS"]
        for k, line in enumerate(sub):
            ax.text(24, 60 + 28 * k, fit_text(line, FIG_W_PX - 48, 12.5), ha="left", va="top", fontsize=12.5,
                    color=colors["muted"])
        for i, (chain, st, (path, listen)) in enumerate(zip(chains, stats, paths)):
            x0 = margin + gutter / 2 + i * (col_w + gutter)
            if i:
                ax.plot([x0 - gutter / 2] * 2, [124, 1000], color=colors["grid"], linewidth=1.2)
            _column(ax, chain, st, path, listen, x0, col_w, top, pitch, colors, mode == "proxy")
    return finish(fig, footnote)


def _column(ax: Axes, chain: Any, st: PathStats, path: list, listen: Any, x0: float, col_w: float,
            top: float, pitch: float, c: Mapping[str, str], proxied: bool) -> None:
    color = runtime_color(chain.name)
    ax.text(x0, 124, chain.name, ha="left", va="top", fontsize=20, fontweight="bold", color=color)
    ax.text(x0, 170, "\n".join(wrap(str(chain.title), col_w, 11.5)[:2]), ha="left", va="top", fontsize=11.5,
            color=c["muted"], linespacing=1.15)
    # client at the top, then the path from the apiserver down to the container
    boxes = [("kubectl", None, "", "client")] + [(h.label, h, h.via, "api" if api else "node")
                                                 for h, api in reversed(path)] + [("container", None, "", "pod")]
    box_w, box_h = min(232.0, col_w * 0.5), min(46.0, pitch * 0.55)
    cx = x0 + 30 + box_w / 2
    ys = [top + k * pitch for k in range(len(boxes))]
    node_rows = [k for k, b in enumerate(boxes) if b[3] in ("node", "pod")]
    if node_rows:  # the node's band
        y_a, y_b = ys[node_rows[0]] - box_h / 2 - 10, ys[node_rows[-1]] + box_h / 2 + 10
        ax.add_patch(FancyBboxPatch((x0 + 4, y_a), col_w - 8, y_b - y_a, boxstyle="round,pad=0,rounding_size=10",
                                    facecolor=c["band"], edgecolor=c["grid"], linewidth=1.2, zorder=1))
        ax.text(x0 + col_w - 12, y_b - 6, "the node", ha="right", va="bottom", fontsize=11.5, fontstyle="italic",
                color=c["muted"], zorder=2)
    right = x0 + col_w - 8
    for k, (label, hop, via, where) in enumerate(boxes):
        y = ys[k]
        proc = hop.process if hop is not None else label
        plain = where in ("client", "pod")
        fill = c["background"] if plain else process_color(proc)
        ax.add_patch(FancyBboxPatch((cx - box_w / 2, y - box_h / 2), box_w, box_h,
                                    boxstyle="round,pad=0,rounding_size=8", facecolor=fill,
                                    edgecolor=c["foreground"], linewidth=1.3,
                                    linestyle=(0, (3, 2)) if plain else "solid", zorder=4))
        ink = c["foreground"] if plain else ink_on(fill)
        size = shrink_to_fit(label, box_w - 14, 13.0, "bold")
        ax.text(cx, y, fit_text(label, box_w - 10, size, "bold"), ha="center", va="center", fontsize=size,
                fontweight="bold", color=ink, zorder=5)
        if hop is not None:
            ax.text(cx + box_w / 2 + 12, y, f"{hop.cpuMsPerMB:g} ms/MB", ha="left", va="center", fontsize=14,
                    fontweight="bold", color=c["foreground"], zorder=5)
        if k + 1 < len(boxes):  # the bytes flow up: from the box below to this one
            y0, y1 = ys[k + 1] - box_h / 2, y + box_h / 2
            ax.add_patch(FancyArrowPatch((cx, y0), (cx, y1), arrowstyle="-|>,head_length=0.45,head_width=0.22",
                                         color=c["foreground"], linewidth=1.8, mutation_scale=18, shrinkA=0,
                                         shrinkB=0, zorder=3))
            if via:
                room = right - (cx + 12)
                size = shrink_to_fit(via, room, 11.0)
                ax.text(cx + 12, (y0 + y1) / 2, fit_text(via, room, size), ha="left", va="center", fontsize=size,
                        fontstyle="italic", color=c["muted"], zorder=5)
    # the redirect: the apiserver straight to the stream server, skipping the kubelet
    server = chain.streaming.server.process
    labels = [b[0] for b in boxes]
    if proxied and st.can_redirect and server in labels and "kube-apiserver" in labels:
        a, b = ys[labels.index("kube-apiserver")], ys[labels.index(server)]
        xl = cx - box_w / 2
        ax.add_patch(FancyArrowPatch((xl, a), (xl, b), connectionstyle="arc3,rad=0.5",
                                     arrowstyle="-|>,head_length=0.45,head_width=0.22", color=c["muted"],
                                     linewidth=1.8, linestyle=(0, (4, 3)), mutation_scale=18, zorder=2))
    # what sits under the column
    base = top + 6 * pitch + box_h / 2 + 30
    number = f"{st.node_ms_per_mb:.1f}"
    ax.text(x0, base + 44, number, ha="left", va="baseline", fontsize=36, fontweight="bold", color=color)
    nx = x0 + text_width_px(number, 36, "bold") + 12
    for text, dy in (("ms of node CPU", 10), ("per MB", 44)):  # 34 px apart: one 13 pt line each
        ax.text(nx, base + dy, text, ha="left", va="baseline", fontsize=13, fontweight="bold", color=c["foreground"])
    setup = f"set-up ≈{st.setup_ms:.0f} ms, idle node"
    calls = f"{st.setup_calls} calls between {st.setup_processes} processes"
    ax.text(x0, base + 68, fit_text(setup, col_w - 4, 13.5, "bold"), ha="left", va="top", fontsize=13.5,
            fontweight="bold", color=c["foreground"])
    ax.text(x0, base + 104, fit_text(calls, col_w - 4, 12.5), ha="left", va="top", fontsize=12.5, color=c["muted"])
    exposed = listen.routable
    where = (f"{'⚠ exposed: ' if exposed else ''}stream server on {listen.address()}")
    lines = wrap(where, col_w - 4, 12.5, "bold" if exposed else "normal")[:2]
    ax.text(x0, base + 140, "\n".join(lines), ha="left", va="top", fontsize=12.5,
            fontweight="bold" if exposed else "normal", color=WARN if exposed else c["muted"], linespacing=1.25)


def from_data(data: "FigureData") -> Figure:
    """The catalogue's figure: the comparison's chains, on its scenario's release."""
    return stream_paths(data.chains_with("streaming"), data.comp.scenario, footnote="kubesim · chain data",
                        theme=data.theme)
