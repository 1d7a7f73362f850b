"""The ``kubelet:`` section: the ``KubeletConfiguration`` fields the model reads, under their
real names and with the defaults of Kubernetes 1.23 (Go durations such as ``2m`` accepted).

The section takes a whole ``kubelet.config.k8s.io/v1beta1`` document as kubeadm, kOps, EKS or
GKE write it (``read_document``): ``apiVersion`` and ``kind`` are checked, the fields the model
uses are read, the other ``KubeletConfiguration`` fields (``config/kubelet_fields.py``) are
accepted as they are and named in ``notModelled`` (one note, ``not_modelled_note``), any other
key is refused. A zero or null value means what the kubelet makes of it (``_kubelet_zeros``).
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar

from pydantic import (
    Field,
    ModelWrapValidatorHandler,
    PrivateAttr,
    field_validator,
    model_validator,
)

from ..schema import OPT_IN, Duration, Qps, QpsOrUnlimited, StrictModel
from .kubelet_fields import API_VERSION, FIELDS, FIRST_RELEASE, KIND, LAST_RELEASE
from .logging import quantity_bytes

__all__ = [
    "DEFAULT_RUNTIME_REQUEST_TIMEOUT",
    "DEFAULT_SYNC_FREQUENCY",
    "KubeletConfig",
    "not_modelled_note",
    "pod_capacity",
    "read_document",
]

# KL-1.23 pkg/kubelet/apis/config/v1beta1/defaults.go SetDefaults_KubeletConfiguration: a zero
# RuntimeRequestTimeout becomes 2m and a zero SyncFrequency 1m, so "0s" in a pasted kubelet
# config means the default, and is read as such here (the saved scenario shows the value used).
DEFAULT_RUNTIME_REQUEST_TIMEOUT = 120.0
DEFAULT_SYNC_FREQUENCY = 60.0
# ASSUMPTION: a pod worker re-syncs every syncFrequency; below 1 s the per-pod sync events swamp a
# run (and no kubelet is run that way: the fastest loops it has, PLEG relist and housekeeping, are
# 1 s and 2 s).
MIN_SYNC_FREQUENCY = 1.0
# client-go rest/config.go RESTClientFor: a client whose QPS is 0 gets DefaultQPS = 5 (and Burst 0
# DefaultBurst = 10). kubeAPIQPS is a pointer (k8s.io/kubelet config/v1beta1 types.go), so
# SetDefaults_KubeletConfiguration (pkg/kubelet/apis/config/v1beta1/defaults.go) fills in 5 or 50
# only when it is absent; an explicit 0 reaches cmd/kubelet/app/server.go kubeClientConfigOverrides
# (clientConfig.QPS = float32(s.KubeAPIQPS)) and client-go turns it into 5, in every release.
CLIENT_GO_DEFAULT_QPS = 5.0


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
    # KL config/v1beta1 types.go PodsPerCore "the maximum number of pods per core. Cannot exceed
    # maxPods... If 0, there is no limit", "Default: 0"; pkg/kubelet/nodestatus/setters.go
    # MachineInfo: pods capacity = min(NumCores x podsPerCore, maxPods) (``pod_capacity``).
    podsPerCore: Annotated[int, Field(ge=0)] = Field(default=0, json_schema_extra=OPT_IN)

    # A pasted document's apiVersion and kind: checked, never saved (exclude) or used.
    apiVersion: Any = Field(default=None, exclude=True)
    kind: Any = Field(default=None, exclude=True)
    # The other KubeletConfiguration fields given (accepted as they are, not used by the model).
    _not_modelled: tuple[str, ...] = PrivateAttr(default=())
    # for the error of an unknown key (simulator.errors.format_validation_error)
    known_keys: ClassVar[tuple[str, ...]] = ("apiVersion", "kind", *FIELDS)
    unknown_key_note: ClassVar[str] = (
        f"unknown key: not a field of {KIND} ({API_VERSION}, Kubernetes {FIRST_RELEASE} to "
        f"{LAST_RELEASE} and master){{did_you_mean}}; allowed: its {len(FIELDS)} fields (listed in "
        "simulator/config/kubelet_fields.py), apiVersion and kind")

    @model_validator(mode="wrap")
    @classmethod
    def _document(cls, data: Any, handler: ModelWrapValidatorHandler[KubeletConfig]) -> KubeletConfig:
        rest: tuple[str, ...] = ()
        if isinstance(data, dict):
            data, rest = read_document(data, frozenset(cls.model_fields))
        config = handler(data)
        if rest:
            config._not_modelled = rest
        return config

    @property
    def notModelled(self) -> tuple[str, ...]:
        """The ``KubeletConfiguration`` fields given that the model does not use, sorted: they
        were accepted as they are and do not change the run."""
        return self._not_modelled

    @field_validator("apiVersion")
    @classmethod
    def _api_version(cls, v: Any) -> Any:
        if v is not None and v != API_VERSION:
            raise ValueError(f"not the kubelet's config file: the kubelet section takes a {KIND} of apiVersion "
                             f"{API_VERSION} (the only version of it)")
        return v

    @field_validator("kind")
    @classmethod
    def _kind(cls, v: Any) -> Any:
        if v is not None and v != KIND:
            raise ValueError(f"not the kubelet's config file: the kubelet section takes kind {KIND} "
                             f"(apiVersion {API_VERSION}), not another component's configuration")
        return v

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


def read_document(data: dict, modelled: frozenset[str]) -> tuple[dict, tuple[str, ...]]:
    """``data`` (a ``kubelet:`` section or a kubelet config file) without the known fields the model does not use (returned, sorted), its zero
    values replaced as the kubelet would (``_kubelet_zeros``). Unknown keys are left in, for the
    schema to refuse."""
    data = dict(data)
    rest = sorted(k for k in data if isinstance(k, str) and k in FIELDS and k not in modelled)
    for k in rest:
        del data[k]
    _kubelet_zeros(data, modelled)
    return data, tuple(rest)


def _zero(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value == 0


def _kubelet_zeros(data: dict, modelled: frozenset[str]) -> None:
    """Zero and null values as the kubelet reads them: SetDefaults_KubeletConfiguration
    (pkg/kubelet/apis/config/v1beta1/defaults.go) replaces a zero (or absent) non-pointer field
    and an absent (nil) pointer field by its default; a pointer field given as 0 keeps 0, which
    means what the field's doc (k8s.io/kubelet config/v1beta1 types.go) or its user says."""
    for key in [k for k in data if k in modelled and data[k] is None]:
        del data[key]  # null = not set (Go decodes null into the zero value or a nil pointer)
    # kubeAPIBurst, registryBurst, eventBurst, maxPods: int32, not pointers; SetDefaults: "if
    # obj.X == 0 { obj.X = default }" (kubeAPIBurst's default is the release's, config/versions.py).
    for key in ("kubeAPIBurst", "registryBurst", "eventBurst", "maxPods"):
        if _zero(data.get(key)):
            del data[key]
    # containerLogMaxSize: a string; SetDefaults: "" -> "10Mi".
    if data.get("containerLogMaxSize") == "":
        del data["containerLogMaxSize"]
    # kubeAPIQPS: *int32; an explicit 0 becomes client-go's DefaultQPS (CLIENT_GO_DEFAULT_QPS).
    if _zero(data.get("kubeAPIQPS")):
        data["kubeAPIQPS"] = CLIENT_GO_DEFAULT_QPS
    # registryPullQPS (*int32) 0 = no limit (types.go "Setting it to 0 means no limit"), as the
    # field's type reads it; eventRecordQPS likewise (types.go "If 0, there is no limit enforced").
    # runtimeRequestTimeout and syncFrequency 0: the field validators above.
    # serializeImagePulls absent with maxParallelImagePulls >= 2: the kubelet's master defaults.go
    # makes it false, but since which release is not established here, so the combination is
    # still refused with its explanation (``_parallel_pulls``) rather than guessed.


def pod_capacity(config: KubeletConfig, cpu_cores: float) -> int:
    """The node's pods capacity, what admission and the scheduler count against: ``maxPods``,
    or min(cores x ``podsPerCore``, ``maxPods``) when ``podsPerCore`` is set (nodestatus/setters.go
    MachineInfo, NumCores from cAdvisor). ASSUMPTION: a fractional ``cpuCores`` (a what-if; cAdvisor
    counts whole logical CPUs) counts as its whole cores, at least 1."""
    if config.podsPerCore <= 0:
        return config.maxPods
    return min(max(1, int(cpu_cores)) * config.podsPerCore, config.maxPods)


def not_modelled_note(config: KubeletConfig) -> str | None:
    """One line naming the ``KubeletConfiguration`` fields given that the model does not use,
    or None when there are none."""
    names = config.notModelled
    if not names:
        return None
    what = f"1 {KIND} field is" if len(names) == 1 else f"{len(names)} {KIND} fields are"
    return (f"kubelet: {what} accepted but not modelled (they do not change the run): "
            + ", ".join(names))
