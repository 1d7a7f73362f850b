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
           "(plugin/pkg/admission/serviceaccount/admission.go; docs/model/version-profiles.md rows 1-2)"),
    Change("secretStrategy", "how the kubelet fetches a pod's Secrets and ConfigMaps",
           (((1, 0), "Cache"), ((1, 12), "Watch")),
           "1.10-1.11: the TTL cache manager (a GET at the first mount and at each remount, TTL 0 in "
           "clusters of <= 100 nodes: pkg/kubelet/util/manager/cache_based_manager.go); 1.12: "
           "configMapAndSecretChangeDetectionStrategy, default Watch (PR #64752)"),
    Change("statusCoalescing", "status manager: how queued status versions reach the API",
           (((1, 0), "every-version"), ((1, 18), "drain-on-batch"), ((1, 27), "latest")),
           "pkg/kubelet/status/status_manager.go: <= 1.17 a FIFO of versions, each sent; 1.18-1.26 the "
           "10 s batch first discards the queued ones; 1.27 a 1-slot signal, only each pod's latest "
           "(PR #116615 in #115331); docs/model/version-profiles.md row 6"),
    Change("parallelPullLimit", "maxParallelImagePulls exists (a bound on parallel pulls)",
           (((1, 0), False), ((1, 27), True)),
           "KEP-3673; kubernetes/kubernetes PR #115220"),
    Change("dockershim", "the in-tree dockershim (Docker through the kubelet)",
           (((1, 0), True), ((1, 24), False)),
           "KEP-2221 remove dockershim: deprecated 1.20, removed 1.24 (use cri-dockerd)"),
    Change("priorityAndFairness", "apiserver: API priority and fairness (queue) instead of max-inflight 429s",
           (((1, 0), False), ((1, 20), True)),
           "KEP-1040 APIPriorityAndFairness: beta, on by default in 1.20"),
    Change("heartbeatClient", "node status (and later the lease) through a separate, unthrottled client",
           (((1, 0), False), ((1, 9), True)),
           "PR #52176 (1.9): cmd/kubelet/app/server.go heartbeat client, QPS -1"),
    Change("nodeLease", "node heartbeat Lease renewed every 10 s",
           (((1, 0), "none"), ((1, 14), "get-put"), ((1, 16), "put")),
           "NodeLease: alpha 1.12, beta and on 1.14, GA 1.17 (PR #66257); GET + PUT until 1.15, PUT only "
           "from 1.16 (PR #81174); nodelease/controller.go"),
    Change("nodeStatusReportSeconds", "how often the Node object is patched when nothing changed",
           (((1, 0), 10.0), ((1, 13), 60.0), ((1, 17), 300.0)),
           "kubelet_node_status.go: every 10 s in 1.10; nodeStatusReportFrequency 1 m (PR #69753, 1.13), "
           "5 m from 1.17 (PR #84007)"),
    Change("housekeepingLists", "runtime listings per 2 s housekeeping pass",
           (((1, 0), "direct+cached"), ((1, 27), "one")),
           "HandlePodCleanups: a direct GetPods(false) and the runtime cache's (2 s TTL) until 1.26; one "
           "forced refresh from 1.27 (PR #113145); kubelet_pods.go"),
    Change("logRotation", "CRI container log rotation (remote runtimes: ListContainers + ContainerStatus "
           "per running container every 10 s)",
           (((1, 0), False), ((1, 11), True)),
           "feature gate CRIContainerLogRotation: alpha/off 1.10, beta/on 1.11, GA 1.21 "
           "(pkg/kubelet/logs/container_log_manager.go rotateLogs)"),
    Change("logFollowAcrossRotation", "kubectl logs -f keeps following a container's log across the "
           "kubelet's CRI log rotation",
           (((1, 0), False), ((1, 29), True)),
           "kubernetes#115701, #108678: before the fix the follower reopens the path while the runtime "
           "has not created the new file yet and stays on the rotated one; PR #115702 (merged for 1.29) "
           "waits for the new file (pkg/kubelet/kuberuntime/logs/logs.go ReadLogs)"),
    Change("etcHostsUsageFork", "the stats summary measures each pod's etc-hosts with forked du + find",
           (((1, 0), False), ((1, 20), True), ((1, 22), False)),
           "pkg/kubelet/stats/host_stats_provider.go (1.21: fork of nice du and find per pod and summary; "
           "absent in 1.19.3, an in-process walk by 1.22.6); 1.20 assumed like 1.21"),
    Change("containerStreaming", "exec/attach/port-forward: the kubelet redirects the apiserver to the "
           "runtime's stream server, or proxies the stream itself",
           (((1, 0), "redirect"), ((1, 11), "proxy-default"), ((1, 20), "proxy")),
           "KEP-1558 (keps/sig-node/1558-streaming-proxy-redirects): the kubelet proxies by default from "
           "1.11 (kubernetes PR #64006), --redirect-container-streaming brings the redirect back, deprecated "
           "1.18, cannot be enabled from 1.20, removed 1.24; before 1.11 a 302 to the stream server "
           "(K1.10 pkg/kubelet/server/server.go getExec); docs/model/version-profiles.md row 15"),
    Change("criNotFoundIsSuccess", "killing a pod: a CRI NotFound from StopContainer or StopPodSandbox "
           "counts as stopped (before: a KillContainerError, retried forever)",
           (((1, 0), False), ((1, 24), True)),
           "kubernetes/kubernetes PR #107670 (merged 2022-01, in 1.24.0; kuberuntime_container.go killContainer "
           "and kuberuntime_manager.go killPodWithSyncResult check crierror.IsNotFound); later 1.23 patch "
           "releases carry it (the 1.23.15 code does, 1.22.6 does not): set faults[].notFoundIsSuccess for one"),
    Change("pleg", "PLEG",
           (((1, 0), "generic"),),
           "pkg/kubelet/pleg/generic.go; evented PLEG (KEP-3386) is behind a feature gate that is off by "
           "default in every release (alpha 1.26, beta-off 1.27-1.28, alpha again later): not modelled"),
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
