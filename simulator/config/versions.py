"""What changed across Kubernetes releases, as data: the kubelet (and control-plane) behaviour
that ``kubernetesVersion`` selects.

Each ``Change`` is one behaviour with its value per release range and the release, PR or KEP
that changed it; ``profile(version)`` is the behaviour of one release. ``kubesim explain``
prints the table, ``docs/model/version-profiles.md`` explains each row, and the scenario and
the model read the profile (the kubelet's API client defaults, the volumes a default pod gets,
the status manager's coalescing, whether the in-tree dockershim exists...).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..schema import parse_kubernetes_version

__all__ = ["Change", "CHANGES", "Profile", "profile", "version_text"]

Version = tuple[int, int]


@dataclass(frozen=True)
class Change:
    key: str
    what: str
    # (first release with the value, value), oldest first; the first entry starts at 1.0
    values: tuple[tuple[Version, Any], ...]
    source: str

    def at(self, version: Version) -> Any:
        value = self.values[0][1]
        for since, v in self.values:
            if version >= since:
                value = v
        return value


CHANGES: tuple[Change, ...] = (
    Change("kubeAPIQPS", "kubelet API client QPS default (kubeAPIQPS)",
           (((1, 0), 5.0), ((1, 27), 50.0)),
           "kubernetes/kubelet config/v1beta1/types.go kubernetes-1.26.0 vs 1.27.0; kubernetes/kubernetes PR #116121"),
    Change("kubeAPIBurst", "kubelet API client burst default (kubeAPIBurst)",
           (((1, 0), 10), ((1, 27), 100)),
           "same as kubeAPIQPS (PR #116121)"),
    Change("serviceAccountVolume", "the volume a pod gets for its service-account token",
           (((1, 0), "secret"), ((1, 21), "projected")),
           "KEP-1205 BoundServiceAccountTokenVolume: beta and on by default in 1.21, GA 1.22 "
           "(projected token: one TokenRequest per pod; before: the service account's token Secret)"),
    Change("secretStrategy", "how the kubelet fetches a pod's Secrets and ConfigMaps "
           "(configMapAndSecretChangeDetectionStrategy)",
           (((1, 0), "Cache"), ((1, 12), "Watch")),
           "pkg/kubelet/util/manager (cache_based_manager.go: RegisterPod invalidates, the next Get is a GET; "
           "watch_based_manager.go: one reflector LIST + WATCH per object); KubeletConfiguration default Watch"),
    Change("statusCoalescing", "status manager: what one update sends",
           (((1, 0), "every-version"),),
           "pkg/kubelet/status/status_manager.go (syncPod per queued version, syncBatch every 10 s sends the latest)"),
    Change("parallelPullLimit", "maxParallelImagePulls exists (a bound on parallel pulls)",
           (((1, 0), False), ((1, 27), True)),
           "KEP-3673; kubernetes/kubernetes PR #115220"),
    Change("dockershim", "the in-tree dockershim (Docker through the kubelet)",
           (((1, 0), True), ((1, 24), False)),
           "KEP-2221 remove dockershim: deprecated 1.20, removed 1.24 (use cri-dockerd)"),
    Change("priorityAndFairness", "apiserver: API priority and fairness (queue) instead of max-inflight 429s",
           (((1, 0), False), ((1, 20), True)),
           "KEP-1040 APIPriorityAndFairness: beta, on by default in 1.20"),
    Change("nodeLease", "node heartbeat: a Lease renewed every 10 s, the Node patched only on change "
           "or every nodeStatusReportFrequency (before: the Node patched every 10 s)",
           (((1, 0), False), ((1, 14), True)),
           "KEP-0009 node heartbeat (NodeLease: alpha 1.12, beta and on by default 1.14, GA 1.17)"),
    Change("heartbeatClient", "node status and lease through a separate, unthrottled client",
           (((1, 0), False), ((1, 11), True)),
           "kubelet heartbeat client (cmd/kubelet/app/server.go heartbeatClient); see docs/model/version-profiles.md"),
    Change("pleg", "PLEG",
           (((1, 0), "generic"),),
           "pkg/kubelet/pleg/generic.go; evented PLEG (KEP-3386) is behind a feature gate that is off by "
           "default in every release (alpha 1.25/1.26, beta-off 1.27, alpha again 1.30): not modelled"),
)


@dataclass(frozen=True)
class Profile:
    version: Version
    values: dict[str, Any]

    def __getitem__(self, key: str) -> Any:
        return self.values[key]


def profile(version: str | Version) -> Profile:
    v = version if isinstance(version, tuple) else parse_kubernetes_version(version)
    return Profile(v, {c.key: c.at(v) for c in CHANGES})


def version_text(v: Version) -> str:
    return f"{v[0]}.{v[1]}"
