"""Container logs in a scenario: what a container writes (``ContainerLogs``, a container's
``logs:``), how Docker writes it (``logging.dockerLogOpts``, daemon.json's ``log-opts``), who
reads it (``logging.kubectlLogs``, ``logging.agents``), and the sizes they are given in.

Everything here is opt-in: a scenario whose containers write nothing has no ``logging:``
section, its containers no ``logs:``, and the model adds nothing to its runs. The kubelet's own
rotation settings are KubeletConfiguration fields (``kubelet.containerLogMaxSize``,
``kubelet.containerLogMaxFiles``, ``config/kubelet.py``).
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator

from ..schema import PosSeconds, Rate, StrictModel

__all__ = ["ContainerLogs", "DockerLogOpts", "KubectlLogs", "LogAgent", "LoggingConfig",
           "docker_size_bytes", "quantity_bytes", "logging_problems"]

_DOCKER_SIZE = re.compile(r"^(\d+(?:\.\d+)?) ?([kmgtp])?i?b?$", re.IGNORECASE)
_QUANTITY = re.compile(r"^([+-]?\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|k|M|G|T)?$")
_BINARY = {"k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40, "p": 1 << 50}
_QUANTITY_UNITS = {None: 1, "Ki": 1 << 10, "Mi": 1 << 20, "Gi": 1 << 30, "Ti": 1 << 40,
                   "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12}


def docker_size_bytes(text: str) -> int:
    """A Docker size (``10m``, ``1g``, ``500k``, ``1048576``): binary multiples, as Docker's
    ``units.RAMInBytes`` reads log-opts (moby daemon/logger/jsonfilelog New)."""
    m = _DOCKER_SIZE.match(str(text).strip())
    if not m:
        raise ValueError(f"expected a Docker size such as '10m', '1g' or '500k' (k, m, g = 1024, "
                         f"1024², 1024³ bytes), got {text!r}")
    value = float(m.group(1)) * _BINARY.get((m.group(2) or "").lower(), 1)
    return int(value)


def quantity_bytes(text: str) -> int:
    """A Kubernetes quantity (``10Mi``, ``50M``, ``1Gi``, a plain number of bytes), as the
    kubelet reads containerLogMaxSize (resource.ParseQuantity); negative: rotation off."""
    m = _QUANTITY.match(str(text).strip())
    if not m:
        raise ValueError(f"expected a Kubernetes quantity such as '10Mi', '50M' or '1Gi' "
                         f"(Ki/Mi/Gi binary, k/M/G decimal), got {text!r}")
    return int(float(m.group(1)) * _QUANTITY_UNITS[m.group(2)])


class ContainerLogs(StrictModel):
    """What one container writes to stdout, as a steady stream."""

    # ASSUMPTION: at most 1,000,000 lines/s: Docker's json-file copier and containerd's CRI
    # logger write a few 100,000 short lines/s per container at best
    linesPerSecond: Annotated[Rate, Field(le=1_000_000)]
    # lines longer than 16 KiB are split into partial lines by Docker's copier (copier.go
    # bufSize) and containerd (max_container_log_line_size 16384): not modelled, so refused
    bytesPerLine: int = Field(
        default=200, ge=2, le=16384,
        description="ASSUMPTION: a structured application log line (a time stamp, a level, a logger "
        "name, a message and a few key=value fields), newline included")


class DockerLogOpts(StrictModel):
    """daemon.json ``log-opts`` of the json-file driver (the keys as daemon.json spells them).
    Docker's defaults: never rotate (max-size -1), one file, blocking mode."""

    maxSize: str | None = Field(default=None, alias="max-size")
    maxFile: Annotated[int, Field(ge=1)] = Field(default=1, alias="max-file")
    mode: Literal["blocking", "non-blocking"] = "blocking"
    # moby daemon/logger/ring.go defaultRingMaxSize = 1e6 ("1MB"); counted in line bytes
    maxBufferSize: str = Field(default="1000000", alias="max-buffer-size")

    @field_validator("maxSize", "maxBufferSize")
    @classmethod
    def _size(cls, v: str | None) -> str | None:
        if v is not None:
            docker_size_bytes(v)
        return v

    def max_size_bytes(self) -> int | None:
        return None if self.maxSize is None else docker_size_bytes(self.maxSize)

    def buffer_bytes(self) -> int:
        return docker_size_bytes(self.maxBufferSize)


class KubectlLogs(StrictModel):
    """Users (or tools) reading every chatty container's logs through the kubelet."""

    # one ``kubectl logs -f`` per chatty container, from its start to its end
    follow: bool = False
    # a ``kubectl logs`` (the whole file being written) per chatty container every N s
    everySeconds: PosSeconds | None = None


class LogAgent(StrictModel):
    """A log-collection DaemonSet: the files it tails and the format it parses."""

    name: str = "log-agent"
    # the glob it tails, e.g. /var/lib/docker/containers/*/*.log or /var/log/containers/*.log
    path: str = Field(min_length=1)
    # docker-json: a JSON parser (fluentd's `format json`); cri: a CRI regex parser; auto: both
    parser: Literal["docker-json", "cri", "auto"] = "auto"
    # the node pools it runs on (its nodeSelector); empty: every node
    pools: list[str] = Field(default_factory=list)


class LoggingConfig(StrictModel):
    """How the node's runtimes write container logs and who reads them."""

    dockerLogOpts: DockerLogOpts = Field(default_factory=DockerLogOpts)
    kubectlLogs: KubectlLogs | None = None
    agents: list[LogAgent] = Field(default_factory=list)


def logging_problems(scenario: Any) -> list[str]:
    """What a scenario's logging settings name that the scenario does not have."""
    cfg = scenario.logging
    if cfg is None:
        return []
    pools = [p.name for p in scenario.cluster.pools] if scenario.cluster is not None else []
    out = []
    for i, agent in enumerate(cfg.agents):
        unknown = [p for p in agent.pools if p not in pools]
        if unknown:
            where = f"pools: {pools}" if pools else "the scenario has one node and no cluster: pools"
            out.append(f"logging.agents[{i}].pools names unknown pools {unknown} ({where}); leave "
                       "pools empty for an agent on every node")
    return out
