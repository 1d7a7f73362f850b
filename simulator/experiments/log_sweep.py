"""Log costs against log rate: the sweep behind the ``log-pipeline`` figure.

``log_rate_sweep`` runs a scenario with every chatty container at each of a list of rates, for
each series (a runtime, and for Docker its log-opt mode), and keeps one row of the ``logs``
summary (``experiments/logs.py``) per run.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from ..config import apply_overrides, scenario_from_dict
from .runner import compare

__all__ = ["log_rate_sweep", "RATE_SERIES", "SWEEP_COLUMNS"]


# (label, runtime, Docker's log-opt mode) of the rate sweep's series: Docker blocking and
# non-blocking, containerd, CRI-O (cri-dockerd's log path is dockershim's)
RATE_SERIES = (("dockershim", "dockershim", "blocking"),
               ("dockershim non-blocking", "dockershim", "non-blocking"),
               ("containerd", "containerd", "blocking"),
               ("crio", "crio", "blocking"))
SWEEP_COLUMNS = ["series", "runtime", "mode", "lines_per_second", "node_lines_per_second",
                 "runtime_cpu_cores", "kubelet_cpu_cores", "blocked_share", "dropped_share",
                 "rotation_lost_share", "largest_file_mb", "pod_startup_p50"]


def log_rate_sweep(scenario: Any, rates: list[float], seed: int = 1,
                   series: tuple = RATE_SERIES) -> pd.DataFrame:
    """Run ``scenario`` with every chatty container at each of ``rates`` lines per second, for
    each series (runtime and Docker log-opt mode): one row of log costs per run."""
    base = scenario.model_dump(mode="json", by_alias=True)
    rows = []
    for rate in rates:
        data = apply_overrides(base, {})
        for t in data["workload"]["templates"]:
            for c in t["spec"]["initContainers"] + t["spec"]["containers"]:
                if c.get("logs"):
                    c["logs"]["linesPerSecond"] = rate
        for label, runtime, mode in series:
            d = apply_overrides(data, {"logging.dockerLogOpts.mode": mode})
            sc = scenario_from_dict(d, f"log rate sweep ({label}, {rate:g} lines/s)")
            comp = compare(sc, runtimes=[runtime], seed=seed)
            doc = comp.summary()["runtimes"][runtime]
            logs = doc.get("logs") or {}
            written = logs.get("lines_written", 0.0)
            rows.append({
                "series": label, "runtime": runtime, "mode": mode, "lines_per_second": float(rate),
                "node_lines_per_second": float(rate) * logs.get("containers", 0.0),
                "runtime_cpu_cores": logs.get("runtime_cpu_cores", 0.0),
                "kubelet_cpu_cores": logs.get("kubelet_cpu_cores", 0.0),
                "blocked_share": logs.get("blocked_share", 0.0),
                "dropped_share": logs.get("dropped_share", 0.0),
                "rotation_lost_share": logs.get("rotation_lost_lines", 0.0) / written if written else 0.0,
                "largest_file_mb": logs.get("largest_file_mb", 0.0),
                "pod_startup_p50": doc["pod_startup_seconds"]["p50"],
            })
    return pd.DataFrame(rows, columns=SWEEP_COLUMNS)
