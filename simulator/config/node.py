"""The node and what it talks to: the node's size and links, the CNI plugin, the apiserver and
the scheduler as the node sees them.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from ..schema import OPT_IN, Dist, LognormalDist, Ms, NonNeg, Pos, PosSeconds, QpsOrUnlimited, Seconds, StrictModel
from .costs import assumption

__all__ = ["NodeConfig", "CniConfig", "ApiServerConfig", "SchedulerConfig"]


class NodeConfig(StrictModel):
    """The node's size and its links."""

    name: str = "node-1"
    # DESIGN.md default modern node; n1-standard-1 (1 vCPU) in the density preset.
    cpuCores: Annotated[float, Field(gt=0, le=1024)] = 4
    # ASSUMPTION: at most 64 TiB, beyond the largest cloud VMs (24-32 TiB)
    memoryGiB: Annotated[float, Field(gt=0, le=65536)] = 16
    registryBandwidthMBps: Pos = assumption(
        100.0, "a 1 Gbit/s cloud NIC shared by all pulls (~118 MB/s of payload); no published "
        "per-node registry bandwidth for these experiments exists")
    registryConnectionMBps: Pos = assumption(
        30.0, "one layer download is one HTTPS stream from the registry's blob store, which alone "
        "rarely fills the NIC; ~30 MB/s per stream is typical of cloud registries")
    # cal. row 54 reports SSD vs HDD start times but no MB/s.
    diskWriteMBps: Pos = assumption(
        200.0, "writing unpacked layers to a cloud persistent SSD (~200 MB/s sustained), shared by "
        "concurrent unpacks")
    # Round trip to the image registry, paid per registry request of a pull (token, manifest,
    # config, one or two per layer; chain ``imagePull``).
    registryRttMs: Ms = assumption(
        20.0, "20 ms per registry request, a registry in another region or a CDN edge (same-zone "
        "registries are ~1-5 ms, Docker Hub from a cloud VM tens of ms); no published per-request "
        "figure for these experiments")
    # CPU to gunzip + untar one MB, on one core.
    unpackCpuMsPerMB: NonNeg = assumption(
        10.0, "~10 ms of CPU per MB to gunzip + untar (gzip inflates at roughly 100 MB/s per core)")
    # An unclean reboot (faults: nodeReboot, clean: false) loses each image layer unpacked less
    # than layerWritebackSeconds before it with this probability: the runtime fsyncs its
    # snapshot metadata but leaves the unpacked files to the kernel's writeback (containerd
    # #5854, commit 23278c81 of PR #9401; moby #44909). 0: the data was synced (containerd 2.0
    # with image_pull_with_sync_fs = true) or the filesystem keeps it; no published rate.
    unsyncedLayerLossProbability: Annotated[float, Field(ge=0, le=1, json_schema_extra=OPT_IN)] = 0.0
    # Linux vm.dirty_expire_centisecs = 3000 (dirty data older than 30 s is written back) plus
    # one vm.dirty_writeback_centisecs = 500 wake-up of the flusher threads (kernel
    # Documentation/admin-guide/sysctl/vm.rst defaults).
    layerWritebackSeconds: Seconds = Field(default=35.0, json_schema_extra=OPT_IN)


class CniConfig(StrictModel):
    """The CNI plugin. Where it runs (kubelet or runtime daemon) is a property of the chain."""

    plugin: str = "bridge"
    # cal. rows 32-33: bridge/kubenet execution < 20 ms (2017) and < 100 ms with DAD disabled
    # (plugins PR #688). Median 40 ms, p90 90 ms sits inside that published range.
    add: Dist = Field(default_factory=lambda: LognormalDist(medianMs=40, p90Ms=90))
    # the loopback ADD dockershim makes before the pod network (facts §2.2 step 6).
    loopbackAdd: Dist = Field(
        default_factory=lambda: LognormalDist(medianMs=4, p90Ms=8),
        description="ASSUMPTION: the loopback plugin only sets lo up: a few ms of fork/exec")
    # CNI DEL at StopPodSandbox: delete the veth, release the IP.
    delete: Dist = Field(
        default_factory=lambda: LognormalDist(medianMs=20, p90Ms=60),
        description="ASSUMPTION: 20 ms median for bridge + host-local; the one published DEL "
        "(realdata 1.21 tear_down_pod, aws-vpc-cni, n=1) took ~75 ms")
    # Fraction of CNI ADD that is CPU on the node (fork/exec, netlink).
    cpuShare: Annotated[float, Field(ge=0, le=1)] = assumption(
        0.5, "half of a CNI ADD is CPU on the node (fork/exec, netlink), half waiting")
    # IPs in the node's pod CIDR (host-local range); a /24 gives 254 (issue 3 uses it).
    ipRangeSize: Annotated[int, Field(ge=1)] = 254
    # What the component that runs CNI on this node (the chain's ``cniConfig``: the kubelet's
    # dockershim, containerd's CRI plugin, CRI-O) finds in its configured directories:
    # ``installed``; ``missing-config``: no network config in its conf dir, so the runtime
    # reports NetworkReady=false and the node is NotReady; ``missing-binaries``: the config is
    # there but its plugin binaries are not in the bin dir, so every CNI ADD fails
    # (docs/model/migration.md).
    install: Literal["installed", "missing-config", "missing-binaries"] = Field(
        default="installed", json_schema_extra=OPT_IN)


class ApiServerConfig(StrictModel):
    """The apiserver as the kubelet and observers see it.

    A request holds one of the apiserver's in-flight seats while its CPU work runs on the
    apiserver's cores (processor-shared: latency grows with the requests in flight) and then
    waits out the rest (network, etcd). With priority and fairness (default from 1.20) a request
    over the limit waits for a seat; before it, the request is refused with 429 and client-go
    retries after the Retry-After second."""

    # The only published bound is the SLO 'mutating API calls p99 <= 1 s'
    # (kubernetes/community sig-scalability/slos/api_call_latency.md).
    requestLatency: Dist = Field(
        default_factory=lambda: LognormalDist(medianMs=4, p90Ms=12),
        description="ASSUMPTION: median 4 ms of network + etcd time for a GET or PATCH of a pod "
        "on a healthy control plane (plus the CPU below: ~5 ms in all)")
    requestCpuMs: Ms = assumption(
        1.0, "1 ms of apiserver CPU per pod-sized request (decode, admission, encode, etcd "
        "client); a 4-core control plane then serves ~4000 such requests/s before queueing")
    # kube-up sizes masters by node count: cluster/gce/util.sh get-master-size, 1-5 nodes ->
    # n1-standard-1 ... >500 -> 32 cores.
    cpuCores: Annotated[float, Field(gt=0, le=1024)] = assumption(4.0, "a 4-core control-plane VM")
    # kube-apiserver --max-requests-inflight 400 + --max-mutating-requests-inflight 200
    # (staging/src/k8s.io/apiserver/pkg/server/options/server_run_options.go defaults).
    maxInflight: Annotated[int, Field(ge=1)] = 600
    # APIPriorityAndFairness: beta and on by default from 1.20 (KEP-1040); before it the
    # apiserver answers 429 over the limit and client-go retries after Retry-After: 1 s.
    priorityAndFairness: bool | None = None  # None: from kubernetesVersion (>= 1.20)
    watchDelay: Dist = Field(
        default_factory=lambda: LognormalDist(medianMs=20, p90Ms=60),
        description="ASSUMPTION: watch event delivery (etcd -> apiserver watch cache -> client), "
        "tens of ms")
    # Watch fan-out: the watch cache dispatches each pod event, one at a time, to its
    # watchers: the pod's kubelet (indexed by spec.nodeName) plus the unfiltered ones
    # (scheduler, controller-manager, a test's observer).
    unfilteredWatchers: Annotated[int, Field(ge=0)] = 3
    dispatchPerWatcherMs: Ms = assumption(
        0.05, "50 us for the watch cache to dispatch one pod event to one watcher")


class SchedulerConfig(StrictModel):
    """kube-scheduler: one pod at a time, binding through its own rate-limited client."""

    # false for node e2e tests: pods are created with spec.nodeName already set.
    enabled: bool = True
    cycle: Dist = Field(
        default_factory=lambda: LognormalDist(medianMs=3, p90Ms=8),
        description="ASSUMPTION: scheduling-cycle time per pod for a small cluster (filter + "
        "score), a few ms")
    # kube-scheduler clientConnection qps/burst 50/100 (k8s pkg/scheduler/apis/config/v1beta2/
    # defaults.go SetDefaults_KubeSchedulerConfiguration).
    clientQPS: QpsOrUnlimited = 50  # 0: no limit
    clientBurst: Annotated[int, Field(ge=0)] = 100
    # Unschedulable pods retry with podInitialBackoffSeconds 1 doubling to
    # podMaxBackoffSeconds 10 (KubeSchedulerConfiguration defaults).
    initialBackoffSeconds: PosSeconds = 1.0
    maxBackoffSeconds: PosSeconds = 10.0
