"""Container logs in words and tables, from the chains' ``logs:`` sections and the summary.

* :func:`logs_comparison`: the chains side by side (paths, format, who writes, the copy path
  and its CPU, what a slow writer does, who rotates and at what limits, who serves
  ``kubectl logs``, whether ``kubectl logs -f`` survives a rotation, what a log agent finds):
  ``kubesim explain logs``, the report. Every cell is computed from chain data and the
  scenario's settings, none is written by hand.
* :func:`chain_logs_section`: one chain's logs with the source of every number
  (``kubesim explain RUNTIME``).
* :func:`log_rows`: the rows the ``kubesim compare`` table adds when containers write logs.
"""

from __future__ import annotations

import textwrap
from typing import Callable, Optional

from ..chains import Chain, load_chain
from ..chains.logs import LOG_FORMATS
from ..config import Scenario
from ..config.logging import LoggingConfig, quantity_bytes
from ..config.versions import CHANGES

__all__ = ["logs_columns", "logs_comparison", "chain_logs_section", "log_rows", "cpu_per_thousand_lines"]

_DOCKER_PATH = "/var/lib/docker/containers/*/*.log"
_KUBELET_LINKS = "/var/log/containers/*.log"
_FOLLOW_FIX = next(c for c in CHANGES if c.key == "logFollowAcrossRotation").values[-1][0]


def cpu_per_thousand_lines(chain: Chain, bytes_per_line: float = 200.0) -> dict[str, float]:
    """Milliseconds of CPU per process to write 1,000 lines of ``bytes_per_line`` (the chain's
    log hops, blocking mode)."""
    spec = chain.logs
    assert spec is not None
    out: dict[str, float] = {}
    for h in spec.hops:
        ms = h.cpuUsPerLine + bytes_per_line / 1e6 * h.cpuMsPerMB * 1000.0
        out[h.process] = out.get(h.process, 0.0) + ms
    return out


def _reopen_failure(chain: Chain) -> Optional[str]:
    op = chain.operations.get("reopen_container_log")
    if op is None:
        return None
    for s in op.steps:
        for f in s.failures:
            if f.probability >= 1.0:
                return f"{s.process}: {f.reason}"
    return None


def _mib(n: float) -> str:
    return f"{n / 2**20:g} MiB"


def _cells(chain: Chain, scenario: Scenario) -> dict[str, str]:
    spec = chain.logs
    assert spec is not None
    cfg = scenario.logging or LoggingConfig()
    opts = cfg.dockerLogOpts
    hops: list[str] = []
    path: list[str] = []
    for h in spec.hops:
        if not path or path[-1] != h.process:
            path.append(h.process)
    cpu = cpu_per_thousand_lines(chain)
    for proc in path:
        hops.append(f"{proc} {cpu[proc]:.2f}")
    kubelet_runs = chain.family != "dockershim"
    fail = _reopen_failure(chain)
    if spec.rotation.owner == "docker":
        size = opts.max_size_bytes()
        limits = (f"Docker at every write: max-size {_mib(size)}, max-file {opts.maxFile}" if size
                  else "Docker: never (no max-size in log-opts: Docker's default)")
        if not kubelet_runs:
            kub = "none (the in-tree dockershim has no CRI log rotation)"
        else:
            kub = "tries every 10 s over containerLogMaxSize"
            if fail:
                kub += f"; ReopenContainerLog fails ({fail})"
            mx = quantity_bytes(scenario.kubelet.containerLogMaxSize)
            if size and 0 <= mx and size <= mx:
                kub = f"never over containerLogMaxSize: Docker's max-size keeps the file under it ({kub})"
        follow = "follows (Docker creates the new file as it renames the old)"
    else:
        mx = quantity_bytes(scenario.kubelet.containerLogMaxSize)
        limits = (f"the kubelet every 10 s: containerLogMaxSize {scenario.kubelet.containerLogMaxSize}, "
                  f"containerLogMaxFiles {scenario.kubelet.containerLogMaxFiles}, older files gzipped"
                  if mx >= 0 else "never (containerLogMaxSize negative)")
        kub = "rename, then ReopenContainerLog (from Kubernetes 1.11)"
        follow = f"stops at the first rotation before {_FOLLOW_FIX[0]}.{_FOLLOW_FIX[1]}, follows from then"
    slow = f"the container blocks once {spec.pipeBufferKiB:g} KiB of pipes are full"
    if "non-blocking" in spec.modes:
        slow += (f"; mode non-blocking: a {opts.buffer_bytes() / 1e6:g} MB ring buffer, then lines are "
                 f"dropped (now: {opts.mode})")
    reader = spec.reader
    finds = []
    for glob in (_DOCKER_PATH, _KUBELET_LINKS):
        finds.append(f"{glob} finds {'them' if spec.has_path(glob) else 'nothing'}")
    return {
        "file": spec.file,
        "format (bytes added per line)": f"{spec.format} (+{spec.overheadBytesPerLine} B)",
        "written by": spec.writer,
        "copy path, CPU ms per 1,000 lines of 200 B": " -> ".join(hops),
        "when the writer is slow": slow,
        "rotated by": limits,
        "the kubelet's CRI log rotation": kub,
        "kubectl logs served by": (f"the {reader.process}, reading the file and parsing its {spec.format} "
                                   f"lines at {reader.cpuUsPerLine:g} us each"),
        "kubectl logs returns": "every file" if reader.rotatedFiles else "the file being written only",
        "kubectl logs -f across a rotation": follow,
        "a log agent tailing": "; ".join(finds),
    }


def _wrap(text: str, width: int) -> list[str]:
    """Wrap at spaces, and inside a path too long for a line at its slashes."""
    words: list[str] = []
    for word in text.split(" "):
        while len(word) > width and "/" in word[1:width]:
            cut = word.rindex("/", 1, width) + 1
            words.append(word[:cut] + "\0")
            word = word[cut:]
        words.append(word)
    lines: list[str] = []
    for word in words:
        glued = bool(lines) and lines[-1].endswith("\0")
        cur = lines[-1].rstrip("\0") if lines else ""
        sep = "" if glued else " "
        if lines and len(cur) + len(sep) + len(word.rstrip("\0")) <= width:
            lines[-1] = cur + sep + word
        else:
            if lines:
                lines[-1] = cur
            lines.append(word)
    return [ln.rstrip("\0") for ln in lines] or [""]


def logs_columns(runtimes: list[str], scenario: Scenario) -> list[tuple[str, dict[str, str]]]:
    """(chain name, attribute -> text) of each chain that models container logs."""
    chains = [load_chain(rt) for rt in runtimes]
    return [(c.name, _cells(c, scenario)) for c in chains if c.logs is not None]


def logs_comparison(runtimes: list[str], scenario: Optional[Scenario] = None, width: int = 24,
                    markdown: bool = False) -> str:
    """The chains' container logs side by side: attributes as rows, chains as columns."""
    from ..config import load_scenario

    scenario = scenario or load_scenario("default")
    cols = logs_columns(runtimes, scenario)
    if not cols:
        return "None of these chains models container logs."
    attrs = list(cols[0][1])
    if markdown:
        lines = ["| | " + " | ".join(f"`{n}`" for n, _ in cols) + " |",
                 "|---" * (len(cols) + 1) + "|"]
        for a in attrs:
            lines.append(f"| {a} | " + " | ".join(c[a].replace("|", "/") for _, c in cols) + " |")
        return "\n".join(lines)
    label_w = max(len(a) for a in attrs)
    head = (f"Container logs across the chains (each chain's logs: section and the scenario "
            f"'{scenario.name}'; kubesim explain RUNTIME gives the sources)")
    out = textwrap.wrap(head, label_w + 2 + (width + 2) * len(cols)) + [""]
    out.append(" " * label_w + "  " + "  ".join(n.ljust(width) for n, _ in cols))
    out.append("-" * (label_w + (width + 2) * len(cols)))
    for a in attrs:
        wrapped = [_wrap(c[a], width) for _, c in cols]
        for i in range(max(len(w) for w in wrapped)):
            label = a if i == 0 else ""
            out.append(label.ljust(label_w) + "  " + "  ".join(
                (w[i] if i < len(w) else "").ljust(width) for w in wrapped).rstrip())
    return "\n".join(out)


def chain_logs_section(chain: Chain, width: int = 100) -> list[str]:
    """``kubesim explain RUNTIME``'s container-logs section, with every number's source."""
    spec = chain.logs
    if spec is None:
        return []
    w = textwrap.TextWrapper(width=width, initial_indent="  ", subsequent_indent="    ")
    lines = ["", "Container logs (the chain's logs: section):"]
    lines += w.wrap(f"Format {spec.format}: {LOG_FORMATS[spec.format]}; {spec.overheadBytesPerLine} "
                    f"bytes added per line. Source: {spec.formatSource}")
    lines += w.wrap(f"File {spec.file}, written by {spec.writer}; links: {', '.join(spec.links)}. "
                    f"Source: {spec.pathSource}")
    for i, h in enumerate(spec.hops, 1):
        lines += w.wrap(f"{i}. {h.process}: {h.name} [{h.stage}; {h.cpuUsPerLine:g} us per line + "
                        f"{h.cpuMsPerMB:g} ms per MB]. Source: {h.source}")
    lines += w.wrap(f"A slow writer backs up into {spec.pipeBufferKiB:g} KiB of pipes; modes: "
                    f"{', '.join(spec.modes)}. Sources: {spec.pipeSource}; {spec.modesSource}")
    lines += w.wrap(f"Rotation by {spec.rotation.owner}. Source: {spec.rotation.source}")
    r = spec.reader
    lines += w.wrap(f"kubectl logs: {r.via} [{r.cpuUsPerLine:g} us per line + {r.cpuMsPerMB:g} ms "
                    f"per MB in {r.process}; rotated files {'read' if r.rotatedFiles else 'not read'}]. "
                    f"Source: {r.source}")
    lines += [f"  * {n}" for n in spec.notes]
    return lines


def log_rows() -> list[tuple[str, Callable[[dict], str]]]:
    """The ``kubesim compare`` rows for a runtime's ``logs`` summary (shown when present)."""
    def g(d: dict) -> dict:
        return d.get("logs") or {}

    def pct(x: Optional[float]) -> str:
        return "-" if x is None else f"{100 * x:.1f} %"

    def lost(d: dict) -> str:
        agents = g(d).get("agents", {})
        n = sum(p["lost_lines"] for a in agents.values() for p in a.values())
        return f"{n / 1e6:.2f} M" if agents else "-"

    return [
        ("logs: lines written (M)", lambda d: f"{g(d).get('lines_written', 0) / 1e6:.2f}" if g(d) else "-"),
        ("logs: runtime / kubelet CPU (cores)",
         lambda d: f"{g(d)['runtime_cpu_cores']:.3f} / {g(d)['kubelet_cpu_cores']:.3f}" if g(d) else "-"),
        ("logs: blocked / dropped", lambda d: f"{pct(g(d).get('blocked_share'))} / {pct(g(d).get('dropped_share'))}"
         if g(d) else "-"),
        ("logs: rotations / largest file (MB)",
         lambda d: f"{sum(g(d)['rotations'].values()):.0f} / {g(d)['largest_file_mb']:.1f}" if g(d) else "-"),
        ("logs: lost at rotation (kubectl logs -f)",
         lambda d: f"{g(d)['rotation_lost_lines'] / 1e6:.2f} M" if g(d) else "-"),
        ("logs: lost by log agents", lambda d: lost(d) if g(d) else "-"),
    ]
