"""The node and what it talks to: the node's size and links, the CNI plugin, the apiserver and
the scheduler as the node sees them.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from ..schema import Dist, LognormalDist, NonNeg, Pos, StrictModel

__all__ = ["NodeConfig", "CniConfig", "ApiServerConfig", "SchedulerConfig"]


class NodeConfig(StrictModel):
    """The node's size and its links."""

    name: str = "node-1"
    # DESIGN.md default modern node; n1-standard-1 (1 vCPU) in the density preset.
    cpuCores: Annotated[float, Field(gt=0, le=1024)] = 4
    memoryGiB: Annotated[float, Field(gt=0)] = 16
    # ASSUMPTION: a 1 Gbit/s cloud NIC shared by all pulls (~118 MB/s of payload); no
    # published per-node registry bandwidth for these experiments exists.
    registryBandwidthMBps: Pos = 100.0
    # ASSUMPTION: one layer download is one HTTPS stream from the registry's blob store, which
    # alone rarely fills the NIC; ~30 MB/s per stream is typical of cloud registries.
    registryConnectionMBps: Pos = 30.0
    # ASSUMPTION: writing unpacked layers to a cloud persistent SSD (~200 MB/s sustained),
    # shared by concurrent unpacks; cal. row 54 reports SSD vs HDD start times but no MB/s.
    diskWriteMBps: Pos = 200.0
    # CPU to gunzip + untar one MB, on one core. ASSUMPTION: ~10 ms/MB (gzip inflates at
    # roughly 100 MB/s per core).
    unpackCpuMsPerMB: NonNeg = 10.0


class CniConfig(StrictModel):
    """The CNI plugin. Where it runs (kubelet or runtime daemon) is a property of the chain."""

    plugin: str = "bridge"
    # cal. rows 32-33: bridge/kubenet execution < 20 ms (2017) and < 100 ms with DAD disabled
    # (plugins PR #688). Median 40 ms, p90 90 ms sits inside that published range.
    add: Dist = Field(default_factory=lambda: LognormalDist(medianMs=40, p90Ms=90))
    # the loopback ADD dockershim makes before the pod network (facts §2.2 step 6).
    # ASSUMPTION: the loopback plugin only sets lo up: a few ms of fork/exec.
    loopbackAdd: Dist = Field(default_factory=lambda: LognormalDist(medianMs=4, p90Ms=8))
    # CNI DEL at StopPodSandbox: delete the veth, release the IP. ASSUMPTION: 20 ms median for
    # bridge + host-local; the one published DEL (realdata 1.21 tear_down_pod, aws-vpc-cni, n=1)
    # took ~75 ms.
    delete: Dist = Field(default_factory=lambda: LognormalDist(medianMs=20, p90Ms=60))
    # Fraction of CNI ADD that is CPU on the node (fork/exec, netlink). ASSUMPTION.
    cpuShare: Annotated[float, Field(ge=0, le=1)] = 0.5
    # IPs in the node's pod CIDR (host-local range); a /24 gives 254 (issue 3 uses it).
    ipRangeSize: Annotated[int, Field(ge=1)] = 254


class ApiServerConfig(StrictModel):
    """The apiserver as the kubelet and observers see it."""

    # ASSUMPTION: median 5 ms for a GET or PATCH of a pod on a healthy control plane; the only
    # published bound is the SLO 'mutating API calls p99 <= 1 s' (kubernetes/community
    # sig-scalability/slos/api_call_latency.md).
    requestLatency: Dist = Field(default_factory=lambda: LognormalDist(medianMs=5, p90Ms=15))
    # ASSUMPTION: watch event delivery (etcd -> apiserver watch cache -> client), tens of ms.
    watchDelay: Dist = Field(default_factory=lambda: LognormalDist(medianMs=20, p90Ms=60))
    # Watch fan-out: the watch cache dispatches each pod event, one at a time, to its
    # watchers: the pod's kubelet (indexed by spec.nodeName) plus the unfiltered ones
    # (scheduler, controller-manager, a test's observer). ASSUMPTION: 50 us per watcher.
    unfilteredWatchers: Annotated[int, Field(ge=0)] = 3
    dispatchPerWatcherMs: NonNeg = 0.05


class SchedulerConfig(StrictModel):
    """kube-scheduler: one pod at a time, binding through its own rate-limited client."""

    # false for node e2e tests: pods are created with spec.nodeName already set.
    enabled: bool = True
    # ASSUMPTION: scheduling-cycle time per pod for a small cluster (filter + score), a few ms.
    cycle: Dist = Field(default_factory=lambda: LognormalDist(medianMs=3, p90Ms=8))
    # kube-scheduler clientConnection qps/burst 50/100 (k8s pkg/scheduler/apis/config/v1beta2/
    # defaults.go SetDefaults_KubeSchedulerConfiguration).
    clientQPS: NonNeg = 50
    clientBurst: Annotated[int, Field(ge=0)] = 100
    # Unschedulable pods retry with podInitialBackoffSeconds 1 doubling to
    # podMaxBackoffSeconds 10 (KubeSchedulerConfiguration defaults).
    initialBackoffSeconds: Pos = 1.0
    maxBackoffSeconds: Pos = 10.0
