"""The ``kubelet:`` section: the ``KubeletConfiguration`` fields the model reads, under their
real names and with the defaults of Kubernetes 1.23 (Go durations such as ``2m`` accepted).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, field_validator, model_validator

from ..schema import OPT_IN, Duration, Qps, QpsOrUnlimited, StrictModel
from .logging import quantity_bytes

__all__ = ["KubeletConfig", "DEFAULT_RUNTIME_REQUEST_TIMEOUT", "DEFAULT_SYNC_FREQUENCY"]

# KL-1.23 pkg/kubelet/apis/config/v1beta1/defaults.go SetDefaults_KubeletConfiguration: a zero
# RuntimeRequestTimeout becomes 2m and a zero SyncFrequency 1m, so "0s" in a pasted kubelet
# config means the default, and is read as such here (the saved scenario shows the value used).
DEFAULT_RUNTIME_REQUEST_TIMEOUT = 120.0
DEFAULT_SYNC_FREQUENCY = 60.0
# ASSUMPTION: a pod worker re-syncs every syncFrequency; below 1 s the per-pod sync events swamp a
# run (and no kubelet is run that way: the fastest loops it has, PLEG relist and housekeeping, are
# 1 s and 2 s).
MIN_SYNC_FREQUENCY = 1.0


class KubeletConfig(StrictModel):
    """The ``KubeletConfiguration`` fields the model uses, with their defaults. Defaults that
    changed across releases (``kubeAPIQPS``/``kubeAPIBurst``) are left unset here and filled in
    from the scenario's ``kubernetesVersion`` (``config/versions.py``)."""

    # facts §0 / §1.10; cal. row 45: 5/10 through 1.26, 50/100 from 1.27 (PR #116121);
    # None = the default of the scenario's kubernetesVersion.
    kubeAPIQPS: Qps | None = None
    kubeAPIBurst: Annotated[int, Field(ge=0)] | None = None
    # facts §0; KL-1.23 config/v1beta1/types.go SerializeImagePulls "Default: true".
    serializeImagePulls: bool = True
    # facts §0: added in 1.27; None = no limit when serializeImagePulls is false.
    maxParallelImagePulls: Annotated[int, Field(ge=1)] | None = None
    # facts §0, §1.5 (throttleImagePulling, TryAccept): 5/10; 0 = unlimited.
    registryPullQPS: QpsOrUnlimited = 5
    registryBurst: Annotated[int, Field(ge=0)] = 10
    # facts §0, §1.7: 2m; RunPodSandbox gets 2x. 0 = the default (SetDefaults, above).
    runtimeRequestTimeout: Duration = DEFAULT_RUNTIME_REQUEST_TIMEOUT
    # facts §0: 110.
    maxPods: Annotated[int, Field(ge=1)] = 110
    # facts §0, §1.2: 1m, jittered by up to +50%. 0 = the default (SetDefaults, above).
    syncFrequency: Duration = DEFAULT_SYNC_FREQUENCY
    # facts §0 / §1.10: separate event client, 5/10 (events do not block pod start).
    eventRecordQPS: QpsOrUnlimited = 5
    eventBurst: Annotated[int, Field(ge=0)] = 10
    # KL-1.23 config/v1beta1/types.go: ContainerLogMaxSize "Default: 10Mi" (a quantity; negative
    # turns CRI log rotation off), ContainerLogMaxFiles "Default: 5" (> 1: container_log_manager.go
    # NewContainerLogManager); used for remote runtimes from 1.11 (config/versions.py logRotation)
    containerLogMaxSize: str = Field(default="10Mi", json_schema_extra=OPT_IN)
    containerLogMaxFiles: Annotated[int, Field(ge=2)] = Field(default=5, json_schema_extra=OPT_IN)

    @field_validator("runtimeRequestTimeout")
    @classmethod
    def _timeout(cls, v: float) -> float:
        return DEFAULT_RUNTIME_REQUEST_TIMEOUT if v == 0 else v

    @field_validator("syncFrequency")
    @classmethod
    def _sync(cls, v: float) -> float:
        if v == 0:
            return DEFAULT_SYNC_FREQUENCY
        if v < MIN_SYNC_FREQUENCY:
            raise ValueError(f"must be 0 (the default, 1m) or at least {MIN_SYNC_FREQUENCY:g}s")
        return v

    @field_validator("containerLogMaxSize")
    @classmethod
    def _log_size(cls, v: str) -> str:
        quantity_bytes(v)
        return v

    @model_validator(mode="after")
    def _parallel_pulls(self) -> "KubeletConfig":
        if self.serializeImagePulls and self.maxParallelImagePulls not in (None, 1):
            raise ValueError(
                "maxParallelImagePulls > 1 needs serializeImagePulls: false "
                "(the kubelet refuses this combination; KM pkg/kubelet/apis/config/validation)"
            )
        return self
