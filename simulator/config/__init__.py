"""Scenario configuration: one validated object per run.

A scenario says which node, which kubelet settings, which CNI plugin, which workload. It is a
pydantic model so that every key is typed, every unknown key is refused and every value is
checked before time zero. Keys are camelCase as in Kubernetes objects; the ``kubelet:`` section
uses the real ``KubeletConfiguration`` field names and Go duration strings
(``runtimeRequestTimeout: 2m``) so that values can be pasted from a real kubelet config.

Every default names its source beside it: an upstream file, a fact-sheet section ("facts §N"),
a calibration row ("cal. row N"), or, where no published number exists, the word ASSUMPTION
with the reasoning. ``kubesim explain`` and the docs show these sources to users.

The package, one module per section:

* ``kubelet``: ``KubeletConfig`` (the ``kubelet:`` section, a whole ``KubeletConfiguration``
  accepted; ``kubelet_fields``: the names of its fields);
* ``node``: the node, CNI, apiserver and scheduler sections;
* ``workload``: images, pod specs, templates and the workload;
* ``faults``: the fault kinds;
* ``scenario``: the simulation and cluster sections and ``Scenario`` itself;
* ``loading``: presets, files, ``--set`` overrides, and the check against the chains.
"""

from ..errors import ConfigError, format_validation_error
from ..schema import Dist, format_duration, parse_duration
from .costs import KubeletCosts
from .faults import Fault, RegistryFault
from .kubelet import KubeletConfig, not_modelled_note
from .loading import (
    apply_overrides,
    check_against_chains,
    check_fault_targets,
    load_scenario,
    parse_override,
    read_kubelet_config,
    read_scenario_file,
    scenario_from_dict,
)
from .node import ApiServerConfig, CniConfig, NodeConfig, SchedulerConfig
from .scenario import (
    ClusterConfig,
    DindConfig,
    MigrationConfig,
    NodePool,
    Scenario,
    SimulationConfig,
)
from .streams import StreamsConfig
from .workload import ContainerSpec, ImageSpec, PodSpec, PodTemplate, WorkloadConfig

__all__ = [
    "ApiServerConfig",
    "ClusterConfig",
    "CniConfig",
    "ConfigError",
    "ContainerSpec",
    "Dist",
    "Fault",
    "ImageSpec",
    "KubeletConfig",
    "KubeletCosts",
    "DindConfig",
    "MigrationConfig",
    "NodeConfig",
    "NodePool",
    "PodSpec",
    "PodTemplate",
    "RUNTIMES",
    "RegistryFault",
    "Scenario",
    "SchedulerConfig",
    "SimulationConfig",
    "StreamsConfig",
    "WorkloadConfig",
    "apply_overrides",
    "check_against_chains",
    "check_fault_targets",
    "format_duration",
    "format_validation_error",
    "load_scenario",
    "parse_duration",
    "parse_override",
    "not_modelled_note",
    "read_kubelet_config",
    "read_scenario_file",
    "scenario_from_dict",
]

# The four chains of the comparison (built-in era variants are listed by ``known_chains()``).
RUNTIMES = ("dockershim", "containerd", "crio", "cri-dockerd")
