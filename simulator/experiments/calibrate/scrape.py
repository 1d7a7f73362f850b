"""Reading a kubelet ``/metrics`` scrape: per-operation latencies and the node it describes.

The file is read with prometheus-client's parser of the text exposition format
(``prometheus_client.parser.text_string_to_metric_families``), never with regular expressions.
Two generations of the kubelet's latency metrics are understood:

* the old summaries ``kubelet_runtime_operations_latency_microseconds`` and
  ``kubelet_docker_operations_latency_microseconds`` (Kubernetes <= 1.13, deprecated in 1.14,
  gone in 1.16): the 0.5 and 0.9 quantiles as the kubelet computed them (microseconds; a
  quantile is NaN when the summary's sliding window, 10 minutes, holds no observation);
* the histograms ``kubelet_runtime_operations_duration_seconds`` and
  ``kubelet_docker_operations_duration_seconds`` (1.14 and later): quantiles by linear
  interpolation inside the bucket that holds the rank, as PromQL's ``histogram_quantile`` does
  (a rank in the +Inf bucket gives the highest finite bound).

When a scrape has both (1.14), the histogram is used: it counts every call since the kubelet
started, where the summary sees only its window. ``kubelet_runtime_operations_*`` are the CRI
calls as the kubelet timed them; ``kubelet_docker_operations_*`` are dockershim's calls to the
Docker Engine (present only when the node runs Docker through dockershim).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Optional

import numpy as np
from prometheus_client.parser import text_string_to_metric_families

from ...errors import ConfigError
from ...safe_load import read_text

__all__ = ["OpStat", "Scrape", "read_scrape", "parse_scrape", "histogram_quantile", "LEVELS"]

# metric family prefix -> the level it measures: the CRI calls, dockershim's Docker calls, and
# the network plugin's calls (CNI ADD = set_up_pod, DEL = tear_down_pod; not fitted: they
# describe the node's CNI, which the fit scenario takes from them)
LEVELS = {"cri": "kubelet_runtime_operations", "docker": "kubelet_docker_operations",
          "network": "kubelet_network_plugin_operations"}
_SUFFIXES = (("_duration_seconds", "histogram", 1.0), ("_latency_microseconds", "summary", 1e-6),
             ("_latency_seconds", "summary", 1.0))


@dataclass(frozen=True)
class OpStat:
    """One operation's latency as the scrape gives it (seconds)."""

    level: str            # "cri" (kubelet_runtime_operations_*), "docker" or "network"
    operation: str        # the operation_type label
    median: float         # NaN when the scrape has no quantile for it
    p90: float
    count: int            # observations since the kubelet started
    metric: str           # the metric family it was read from
    kind: str             # "histogram" or "summary"
    p90_open: bool = False     # the 0.9 rank fell in the +Inf bucket: p90 is a lower bound
    median_open: bool = False  # so did the 0.5 rank: the median is a lower bound only
    mean: float = math.nan     # _sum / _count (seconds)
    bounds: tuple[float, ...] = ()  # a histogram's bucket upper bounds (seconds, +Inf last)

    def quantile_of(self, q: float, durations) -> float:
        """The ``q`` quantile of a model's ``durations`` as this metric would report it: through
        the same buckets and interpolation for a histogram (so that model and measurement share
        the estimator's bias, which is large when the quantile falls in a wide first bucket),
        directly for a summary."""
        x = np.sort(np.asarray(durations, dtype=float))
        if not len(x):
            return math.nan
        if self.kind != "histogram" or not self.bounds:
            return float(np.quantile(x, q))
        counts = np.searchsorted(x, np.asarray(self.bounds), side="right")
        return histogram_quantile(q, zip(self.bounds, counts.astype(float)))[0]

    @property
    def has_data(self) -> bool:
        return not (math.isnan(self.median) or self.count <= 0)

    def cite(self, file: str) -> str:
        """The source string a fitted step carries."""
        how = ("histogram, quantiles interpolated in buckets" if self.kind == "histogram"
               else "summary quantiles")
        p90 = f"{'>=' if self.p90_open else ''}{_ms(self.p90)} ms"
        return (f"{file} {self.metric}{{operation_type=\"{self.operation}\"}} p50 {_ms(self.median)} ms, "
                f"p90 {p90} (n={self.count}; {how})")


def _ms(seconds: float) -> str:
    ms = seconds * 1000.0
    return f"{ms:.3g}" if ms < 100 else f"{ms:.0f}"


@dataclass
class Scrape:
    """What a scrape says: latencies per (level, operation) and the node it came from."""

    path: str
    ops: dict[tuple[str, str], OpStat] = field(default_factory=dict)
    running_pods: Optional[int] = None
    running_containers: Optional[int] = None
    kubernetes_version: Optional[str] = None   # "v1.21.2"
    docker: bool = False                       # kubelet_docker_operations_* present
    both_generations: bool = False             # histograms and summaries both present (1.14)

    @property
    def name(self) -> str:
        return Path(self.path).name

    def level(self, level: str) -> dict[str, OpStat]:
        return {op: s for (lv, op), s in self.ops.items() if lv == level}

    def describe(self) -> str:
        bits = [f"Kubernetes {self.kubernetes_version or '(version not in the scrape)'}",
                f"{self.running_pods if self.running_pods is not None else '?'} running pods",
                f"{self.running_containers if self.running_containers is not None else '?'} running containers",
                "Docker via dockershim" if self.docker else "no Docker metrics (a CRI runtime)"]
        return ", ".join(bits)


def histogram_quantile(q: float, buckets: Iterable[tuple[float, float]]) -> tuple[float, bool]:
    """PromQL ``histogram_quantile``: (value, rank fell in the +Inf bucket) from cumulative
    (upper bound, count) pairs; linear interpolation inside the bucket that holds the rank,
    from 0 for the first bucket."""
    b = sorted(buckets)
    if not b or b[-1][1] <= 0:
        return math.nan, False
    total = b[-1][1]
    rank = q * total
    lo_le, lo_n = 0.0, 0.0
    for le, n in b:
        if n >= rank:
            if math.isinf(le):
                finite = [x for x, _ in b if not math.isinf(x)]
                return (finite[-1] if finite else math.nan), True
            if n == lo_n:
                return le, False
            return lo_le + (le - lo_le) * (rank - lo_n) / (n - lo_n), False
        lo_le, lo_n = le, n
    return math.nan, False


def _read_text(path: Path) -> str:
    if not path.exists():
        raise ConfigError(f"--metrics {str(path)!r}: no such file; give the path of a saved kubelet "
                          "/metrics scrape (e.g. kubectl get --raw /api/v1/nodes/NODE/proxy/metrics > node.prom)")
    if path.is_dir():
        raise ConfigError(f"--metrics {str(path)!r} is a folder; give the path of one saved kubelet /metrics scrape")
    try:
        return read_text(path, "--metrics", "scrape")  # the input boundary: size, NUL, UTF-8
    except ConfigError as e:
        if "not a text file" not in str(e):
            raise
        raise ConfigError(f"{e}. Expected the Prometheus text exposition format a kubelet serves on "
                          "/metrics (a gzip-compressed or protobuf scrape must be decompressed or re-fetched "
                          "as text first)") from None


def _bad_line(text: str) -> tuple[int, str]:
    """The first line prometheus-client refuses on its own (for the error message)."""
    for i, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        try:
            list(text_string_to_metric_families(line + "\n"))
        except Exception:  # noqa: BLE001 - any refusal names the line
            return i, line
    return 0, ""


def _families(text: str, where: str) -> list:
    try:
        return list(text_string_to_metric_families(text))
    except Exception as e:  # the parser raises ValueError, IndexError... on malformed input
        n, line = _bad_line(text)
        at = f" at line {n} ({line[:80]!r})" if n else ""
        raise ConfigError(f"--metrics {where!r} could not be read as the Prometheus text exposition format"
                          f"{at}: {e}; expected a kubelet /metrics scrape (lines such as "
                          "'kubelet_runtime_operations_duration_seconds_bucket{operation_type=\"create_container\","
                          "le=\"0.1\"} 12')") from None


def _histograms(fam, unit: float) -> dict[str, tuple[list[tuple[float, float]], float, float]]:
    """operation -> (buckets, count, sum)."""
    out: dict[str, tuple[list[tuple[float, float]], float, float]] = {}
    for s in fam.samples:
        op = s.labels.get("operation_type")
        if op is None:
            continue
        buckets, count, total = out.get(op, ([], math.nan, math.nan))
        if s.name.endswith("_bucket"):
            buckets.append((float(s.labels["le"]) * unit, float(s.value)))
        elif s.name.endswith("_count"):
            count = float(s.value)
        elif s.name.endswith("_sum"):
            total = float(s.value) * unit
        out[op] = (buckets, count, total)
    return out


def _summaries(fam) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    for s in fam.samples:
        op = s.labels.get("operation_type")
        if op is None:
            continue
        d = out.setdefault(op, {})
        if "quantile" in s.labels:
            d[s.labels["quantile"]] = float(s.value)
        elif s.name.endswith("_count"):
            d["count"] = float(s.value)
        elif s.name.endswith("_sum"):
            d["sum"] = float(s.value)
    return out


def _stats(fam, level: str, kind: str, unit: float) -> dict[str, OpStat]:
    stats: dict[str, OpStat] = {}
    if kind == "histogram":
        for op, (buckets, count, total) in _histograms(fam, unit).items():
            med, med_open = histogram_quantile(0.5, buckets)
            p90, p90_open = histogram_quantile(0.9, buckets)
            n = count if not math.isnan(count) else (max(c for _, c in buckets) if buckets else 0)
            stats[op] = OpStat(level, op, med, p90, int(n), fam.name, kind, p90_open, med_open,
                               total / n if n > 0 else math.nan, tuple(sorted(le for le, _ in buckets)))
    else:
        for op, d in _summaries(fam).items():
            med = d.get("0.5", math.nan) * unit
            p90 = d.get("0.9", math.nan) * unit
            n = int(d.get("count", 0))
            stats[op] = OpStat(level, op, med, p90, n, fam.name, kind,
                               mean=d["sum"] * unit / n if n > 0 and "sum" in d else math.nan)
    return stats


def _gauge(fams: dict, *names: str, label: Optional[tuple[str, str]] = None) -> Optional[int]:
    for name in names:
        fam = fams.get(name)
        if fam is None:
            continue
        for s in fam.samples:
            if label is None or s.labels.get(label[0]) == label[1]:
                return int(s.value)
    return None


def parse_scrape(text: str, path: str = "<text>") -> Scrape:
    """A scrape's text -> ``Scrape``; ``ConfigError`` when it is not a kubelet scrape."""
    fams_list = _families(text, path)
    fams: dict = {}
    for f in fams_list:
        fams.setdefault(f.name, f)
    scrape = Scrape(path=path)
    found_kinds: dict[str, set[str]] = {}
    for level, prefix in LEVELS.items():
        chosen: dict[str, OpStat] = {}
        for suffix, kind, unit in _SUFFIXES:  # histograms first: they win over summaries
            fam = fams.get(prefix + suffix)
            if fam is None or fam.type != kind:
                continue
            found_kinds.setdefault(level, set()).add(kind)
            for op, st in _stats(fam, level, kind, unit).items():
                if op not in chosen or (not chosen[op].has_data and st.has_data):
                    chosen[op] = st
        for op, st in chosen.items():
            scrape.ops[(level, op)] = st
    if not scrape.level("cri"):
        raise ConfigError(
            f"--metrics {path!r} holds no kubelet runtime-operation latencies "
            "(kubelet_runtime_operations_duration_seconds or kubelet_runtime_operations_latency_microseconds, "
            f"by operation_type); it has {len(fams)} metric families. Is it a kubelet's /metrics? "
            "(cAdvisor's /metrics/cadvisor, the apiserver's and node-exporter's have none)")
    scrape.docker = bool(scrape.level("docker"))
    scrape.both_generations = any(len(k) > 1 for k in found_kinds.values())
    scrape.running_pods = _gauge(fams, "kubelet_running_pods", "kubelet_running_pod_count")
    scrape.running_containers = (_gauge(fams, "kubelet_running_containers", label=("container_state", "running"))
                                 if "kubelet_running_containers" in fams
                                 else _gauge(fams, "kubelet_running_container_count"))
    info = fams.get("kubernetes_build_info")
    if info is not None and info.samples:
        labels = info.samples[0].labels
        scrape.kubernetes_version = labels.get("git_version") or labels.get("gitVersion")
    return scrape


def read_scrape(path: str | Path) -> Scrape:
    """Read and parse a saved kubelet ``/metrics`` scrape (``ConfigError`` on bad input)."""
    p = Path(path)
    return parse_scrape(_read_text(p), str(path))
