"""What the benchmarks share: the machine they ran on, sizes as people write them, table output."""

from __future__ import annotations

import os
import platform
import re
from typing import Any, Sequence

__all__ = ["machine_info", "machine_lines", "parse_sizes", "markdown_table", "mark"]


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine_info() -> dict[str, Any]:
    import simpy

    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        usable = os.cpu_count() or 1
    try:
        load = "/".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        load = "unknown"
    return {"cpu": _cpu_model(), "cores": os.cpu_count(), "usable_cores": usable,
            "python": platform.python_version(), "simpy": simpy.__version__,
            "platform": platform.platform(terse=True), "load_average_1_5_15min": load}


def machine_lines(info: dict[str, Any]) -> list[str]:
    return [f"Machine: {info['cpu']}, {info['cores']} cores ({info['usable_cores']} usable), "
            f"{info['platform']}; Python {info['python']}, SimPy {info['simpy']}; "
            f"load average at start {info['load_average_1_5_15min']} (1/5/15 min)."]


_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kKmM]?)\s*$")


def parse_sizes(text: str) -> list[int]:
    """``"1k,10k,30k"`` -> ``[1000, 10000, 30000]``; a clear error for anything else."""
    out = []
    for piece in text.split(","):
        m = _SIZE.match(piece)
        if not m:
            raise SystemExit(f"benchmark sizes {text!r}: {piece!r} is not a pod count; give "
                             "whole numbers with an optional k (thousands) or m suffix, e.g. 1k,10k,30k")
        n = float(m.group(1)) * {"": 1, "k": 1_000, "m": 1_000_000}[m.group(2).lower()]
        if n < 1 or not float(n).is_integer():
            raise SystemExit(f"benchmark sizes {text!r}: {piece!r} must be a whole number of pods >= 1")
        out.append(int(n))
    return out


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return lines


def mark(ok: bool | None) -> str:
    return "n/a" if ok is None else ("PASS" if ok else "MISS")
