"""The field names of the kubelet's config file, ``KubeletConfiguration`` of
``kubelet.config.k8s.io/v1beta1``, as data: the names a pasted kubelet config may hold.

Source: ``config/v1beta1/types.go`` of k8s.io/kubelet (the staging copy of
kubernetes/kubernetes ``staging/src/k8s.io/kubelet/config/v1beta1/types.go``), the
``KubeletConfiguration`` struct's json names at every release tag: ``kubernetes-1.12.0`` to
``kubernetes-1.16.0`` and ``v0.17.0`` (Kubernetes 1.17) to ``v0.36.0`` (Kubernetes 1.36), plus the
fields on master after 1.36: ``defaultPodSysctls`` (k8s.io/kubelet master, commit 63b32497,
2026-07-23), ``draManagerReconcilePeriod`` (kubernetes/kubernetes types.go, commit 001332b0) and
``podHousekeepingPeriod`` (kubernetes/kubernetes pkg/kubelet/apis/config/v1beta1/defaults.go,
commit 030891da). The value is the first release whose types.go has the field ("1.12" = 1.12 or
earlier: v1beta1 exists from 1.10, and k8s.io/kubelet carries it from 1.12).

No field was ever removed from v1beta1 between 1.12 and 1.36 (each release's list contains the
previous one's), so a config written for an older kubelet holds only names listed here; fields
deprecated upstream ("no longer has any effect": ``streamingConnectionIdleTimeout``,
``iptablesMasqueradeBit``, ``iptablesDropBit``) are still fields and are listed.

``simulator.config.kubelet`` reads the fields the model uses; the others are accepted as they
are (their inner keys, e.g. ``authentication.webhook.cacheTTL``, are not checked) and named once
in a note; any other name is refused.
"""

from __future__ import annotations

__all__ = ["API_VERSION", "FIELDS", "FIRST_RELEASE", "KIND", "LAST_RELEASE"]

# the only apiVersion and kind of the kubelet's config file (k8s.io/kubelet config/v1beta1
# register.go: GroupName "kubelet.config.k8s.io", version "v1beta1"; kind KubeletConfiguration)
API_VERSION = "kubelet.config.k8s.io/v1beta1"
KIND = "KubeletConfiguration"
FIRST_RELEASE = "1.12"
LAST_RELEASE = "1.36"

# field name -> the first release whose types.go has it, in types.go's order
FIELDS: dict[str, str] = {
    "staticPodPath": "1.12",
    "syncFrequency": "1.12",
    "fileCheckFrequency": "1.12",
    "httpCheckFrequency": "1.12",
    "staticPodURL": "1.12",
    "staticPodURLHeader": "1.12",
    "address": "1.12",
    "port": "1.12",
    "readOnlyPort": "1.12",
    "tlsCertFile": "1.12",
    "tlsPrivateKeyFile": "1.12",
    "tlsCipherSuites": "1.12",
    "tlsMinVersion": "1.12",
    "rotateCertificates": "1.12",
    "serverTLSBootstrap": "1.12",
    "authentication": "1.12",
    "authorization": "1.12",
    "registryPullQPS": "1.12",
    "registryBurst": "1.12",
    "eventRecordQPS": "1.12",
    "eventBurst": "1.12",
    "enableDebuggingHandlers": "1.12",
    "enableContentionProfiling": "1.12",
    "healthzPort": "1.12",
    "healthzBindAddress": "1.12",
    "oomScoreAdj": "1.12",
    "clusterDomain": "1.12",
    "clusterDNS": "1.12",
    "streamingConnectionIdleTimeout": "1.12",
    "nodeStatusUpdateFrequency": "1.12",
    "nodeStatusReportFrequency": "1.13",
    "nodeLeaseDurationSeconds": "1.12",
    "imageMinimumGCAge": "1.12",
    "imageGCHighThresholdPercent": "1.12",
    "imageGCLowThresholdPercent": "1.12",
    "volumeStatsAggPeriod": "1.12",
    "kubeletCgroups": "1.12",
    "systemCgroups": "1.12",
    "cgroupRoot": "1.12",
    "cgroupsPerQOS": "1.12",
    "cgroupDriver": "1.12",
    "cpuManagerPolicy": "1.12",
    "cpuManagerReconcilePeriod": "1.12",
    "topologyManagerPolicy": "1.16",
    "qosReserved": "1.12",
    "runtimeRequestTimeout": "1.12",
    "hairpinMode": "1.12",
    "maxPods": "1.12",
    "podCIDR": "1.12",
    "podPidsLimit": "1.12",
    "resolvConf": "1.12",
    "cpuCFSQuota": "1.12",
    "cpuCFSQuotaPeriod": "1.12",
    "maxOpenFiles": "1.12",
    "contentType": "1.12",
    "kubeAPIQPS": "1.12",
    "kubeAPIBurst": "1.12",
    "serializeImagePulls": "1.12",
    "evictionHard": "1.12",
    "evictionSoft": "1.12",
    "evictionSoftGracePeriod": "1.12",
    "evictionPressureTransitionPeriod": "1.12",
    "evictionMaxPodGracePeriod": "1.12",
    "evictionMinimumReclaim": "1.12",
    "podsPerCore": "1.12",
    "enableControllerAttachDetach": "1.12",
    "protectKernelDefaults": "1.12",
    "makeIPTablesUtilChains": "1.12",
    "iptablesMasqueradeBit": "1.12",
    "iptablesDropBit": "1.12",
    "featureGates": "1.12",
    "failSwapOn": "1.12",
    "containerLogMaxSize": "1.12",
    "containerLogMaxFiles": "1.12",
    "configMapAndSecretChangeDetectionStrategy": "1.12",
    "systemReserved": "1.12",
    "kubeReserved": "1.12",
    "reservedSystemCPUs": "1.17",
    "systemReservedCgroup": "1.12",
    "kubeReservedCgroup": "1.12",
    "enforceNodeAllocatable": "1.12",
    "allowedUnsafeSysctls": "1.16",
    "showHiddenMetricsForVersion": "1.18",
    "enableServer": "1.19",
    "runOnce": "1.19",
    "nodeStatusMaxImages": "1.19",
    "volumePluginDir": "1.19",
    "providerID": "1.19",
    "kernelMemcgNotification": "1.19",
    "logging": "1.19",
    "enableSystemLogHandler": "1.19",
    "topologyManagerScope": "1.20",
    "shutdownGracePeriod": "1.20",
    "shutdownGracePeriodCriticalPods": "1.20",
    "memoryManagerPolicy": "1.21",
    "reservedMemory": "1.21",
    "enableProfilingHandler": "1.21",
    "enableDebugFlagsHandler": "1.21",
    "cpuManagerPolicyOptions": "1.22",
    "memorySwap": "1.22",
    "seccompDefault": "1.22",
    "memoryThrottlingFactor": "1.22",
    "shutdownGracePeriodByPodPriority": "1.23",
    "registerWithTaints": "1.23",
    "registerNode": "1.23",
    "tracing": "1.25",
    "localStorageCapacityIsolation": "1.25",
    "topologyManagerPolicyOptions": "1.26",
    "maxParallelImagePulls": "1.27",
    "enableSystemLogQuery": "1.27",
    "containerRuntimeEndpoint": "1.27",
    "imageServiceEndpoint": "1.27",
    "imageMaximumGCAge": "1.29",
    "podLogsDir": "1.30",
    "containerLogMaxWorkers": "1.30",
    "containerLogMonitorInterval": "1.30",
    "failCgroupV1": "1.31",
    "singleProcessOOMKill": "1.32",
    "crashLoopBackOff": "1.32",
    "imagePullCredentialsVerificationPolicy": "1.33",
    "preloadedImagesVerificationAllowlist": "1.33",
    "mergeDefaultEvictionSettings": "1.33",
    "userNamespaces": "1.33",
    "tlsCurvePreferences": "1.36",
    "memoryReservationPolicy": "1.36",
    "defaultPodSysctls": "master",
    "draManagerReconcilePeriod": "master",
    "podHousekeepingPeriod": "master",
}
