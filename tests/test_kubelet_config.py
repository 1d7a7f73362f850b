"""A whole KubeletConfiguration (kubelet.config.k8s.io/v1beta1) as the kubelet: section or a
--kubelet-config file: the real configs of kubeadm, kOps, EKS and GKE (tests/data/kubelet-configs)
load, the fields the model uses change the run as the kubelet would, the others are named once,
unknown keys and other documents are refused, and zero values mean the kubelet's defaults."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from simulator.cli import main
from simulator.config import (
    ConfigError,
    KubeletConfig,
    load_scenario,
    not_modelled_note,
    read_kubelet_config,
)
from simulator.config.kubelet_fields import FIELDS
from simulator.experiments.runner import compare
from simulator.presets import preset_data
from simulator.safe_load import load_document

DATA = Path(__file__).resolve().parent / "data" / "kubelet-configs"
CONFIGS = {
    "kubeadm.yaml": [],
    "kubeadm-one-line.yaml": [],
    "kops.yaml": [],
    "eks.json": [],
    # GKE sets maxParallelImagePulls (from 1.27) and runs containerd
    "gke.yaml": ["kubernetesVersion='1.29'", "runtimes=[containerd]"],
}
KUBEADM_NOT_MODELLED = (
    "authentication", "authorization", "cgroupDriver", "clusterDNS", "clusterDomain", "containerRuntimeEndpoint",
    "cpuManagerReconcilePeriod", "evictionPressureTransitionPeriod", "fileCheckFrequency", "healthzBindAddress",
    "healthzPort", "httpCheckFrequency", "imageMaximumGCAge", "imageMinimumGCAge", "logging", "memorySwap",
    "nodeStatusReportFrequency", "nodeStatusUpdateFrequency", "resolvConf", "rotateCertificates",
    "shutdownGracePeriod", "shutdownGracePeriodCriticalPods", "staticPodPath", "streamingConnectionIdleTimeout",
    "volumeStatsAggPeriod")


def _run(overrides: list[str], kubelet_config: str | None = None) -> dict:
    scenario = load_scenario("default", ["runtimes=[containerd]", *overrides],
                             kubelet_config=None if kubelet_config is None else DATA / kubelet_config)
    return compare(scenario, replications=1, seed=1).summary()["runtimes"]["containerd"]


# --------------------------------------------------------------------------- every config loads
@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_each_real_config_loads_as_a_file_and_pasted(name):
    by_file = load_scenario("default", CONFIGS[name], kubelet_config=DATA / name)
    data = preset_data("default")
    data["kubelet"] = load_document(DATA / name, "kubelet config file")  # pasted under kubelet:
    pasted = load_scenario(data, CONFIGS[name])
    assert by_file.kubelet == pasted.kubelet
    assert by_file.kubelet.notModelled == pasted.kubelet.notModelled
    assert by_file.kubelet.notModelled  # every real config holds fields the model does not use
    assert set(by_file.kubelet.notModelled) <= set(FIELDS)


def test_kubeadm_fields_not_modelled_are_named_once_in_one_line():
    scenario = load_scenario("default", kubelet_config=DATA / "kubeadm.yaml")
    assert scenario.kubelet.notModelled == KUBEADM_NOT_MODELLED
    note = not_modelled_note(scenario.kubelet)
    assert note is not None and "\n" not in note and note.startswith("kubelet: 25 KubeletConfiguration fields")
    assert all(note.count(name) >= 1 for name in KUBEADM_NOT_MODELLED)
    one_line = load_scenario("default", kubelet_config=DATA / "kubeadm-one-line.yaml")
    assert one_line.kubelet == scenario.kubelet and one_line.kubelet.notModelled == KUBEADM_NOT_MODELLED
    assert not_modelled_note(load_scenario("default").kubelet) is None


def test_cli_prints_the_note_once_on_stderr(capsys):
    assert main(["compare", "--json", "--runtimes", "containerd", "--pods", "2",
                 "--kubelet-config", str(DATA / "kubeadm-one-line.yaml")]) == 0
    out, err = capsys.readouterr()
    assert err.count("kubesim: note: kubelet: 25 KubeletConfiguration fields") == 1 and err.count("\n") == 1
    assert '"runtimes"' in out and "unknown key" not in err


def test_every_modelled_field_is_a_real_kubelet_field():
    # the kubelet: section uses the real names, so a pasted config's values reach the model
    modelled = set(KubeletConfig.model_fields) - {"apiVersion", "kind"}
    assert modelled <= set(FIELDS), modelled - set(FIELDS)


# --------------------------------------------------------------------------- the run changes as expected
def test_kubeadm_config_runs_as_the_defaults():
    # kubeadm sets no field the model uses; its runtimeRequestTimeout/syncFrequency 0s are the defaults
    assert _run([], "kubeadm.yaml") == _run([])


def test_kops_max_pods_caps_the_node():
    workload = ["workload.pods=80"]
    default, kops = _run(workload), _run(workload, "kops.yaml")
    assert (default["running"], default["pending"]) == (80, 0)
    assert (kops["running"], kops["pending"]) == (60, 20)  # kOps maxPods: 60
    k = load_scenario("default", kubelet_config=DATA / "kops.yaml").kubelet
    assert (k.serializeImagePulls, k.registryPullQPS, k.containerLogMaxSize, k.containerLogMaxFiles) == (
        False, 10, "50Mi", 3)


def test_eks_max_pods_and_api_qps():
    default, eks = _run([]), _run([], "eks.json")
    assert (default["running"], default["pending"]) == (40, 0)
    assert (eks["running"], eks["pending"]) == (29, 11)  # m5.large: maxPods 29 (eni-max-pods.txt)
    # a burst of 29 pods: EKS's kubeAPIQPS 10 / kubeAPIBurst 20 (bootstrap.sh, 1.22-1.26) against
    # 1.23's 5/10 gets statuses out sooner
    burst = ["workload.intervalSeconds=0.05", "workload.pods=29"]
    base, fast = _run(burst), _run(burst, "eks.json")
    assert fast["pod_startup_seconds"]["p50"] < 0.8 * base["pod_startup_seconds"]["p50"]
    # --set applies after the file: with 1.23's 5/10, serialized pulls and maxPods 110 again, the
    # run is the default one (EKS's other fields do not change it)
    back = ["kubelet.kubeAPIQPS=5", "kubelet.kubeAPIBurst=10", "kubelet.serializeImagePulls=true", "kubelet.maxPods=0"]
    assert _run([*burst, *back], "eks.json") == base


def test_gke_max_pods_and_parallel_pulls():
    over = ["kubernetesVersion='1.29'", "workload.pods=80"]
    gke = _run(over, "gke.yaml")
    assert (gke["running"], gke["pending"]) == (64, 16)
    k = load_scenario("default", CONFIGS["gke.yaml"], kubelet_config=DATA / "gke.yaml").kubelet
    assert (k.serializeImagePulls, k.maxParallelImagePulls, k.maxPods) == (False, 3, 64)


# --------------------------------------------------------------------------- refused
def test_unknown_field_gets_did_you_mean(tmp_path):
    f = tmp_path / "k.yaml"
    f.write_text("apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\nmaxPod: 30\n"
                 "registryPullQps: 2\n")
    with pytest.raises(ConfigError) as e:
        load_scenario("default", kubelet_config=f)
    msg = str(e.value)  # several unknown keys: one line each, with its value and closest name
    lines = msg.splitlines()
    assert len(lines) == 2 and all(f"(given by --kubelet-config {f})" in line for line in lines)
    assert "'kubelet.maxPod'" in lines[0] and "= 30" in lines[0] and "did you mean 'maxPods'" in lines[0]
    assert "'kubelet.registryPullQps'" in lines[1] and "'registryPullQPS'" in lines[1]
    assert all(line.count("allowed:") == 1 and f"its {len(FIELDS)} fields" in line for line in lines)
    with pytest.raises(ConfigError) as e:
        load_scenario("default", ["kubelet.maxPod=30"])
    msg = str(e.value)
    assert "field 'kubelet.maxPod'" in msg and "= 30" in msg and "unknown key" in msg
    assert "did you mean 'maxPods'" in msg and "(given by --set kubelet.maxPod=30)" not in msg  # no flags given


@pytest.mark.parametrize("key,value", [("apiVersion", "kubelet.config.k8s.io/v1"),
                                       ("apiVersion", "kubeadm.k8s.io/v1beta3"),
                                       ("kind", "KubeProxyConfiguration"), ("kind", "InitConfiguration")])
def test_another_document_is_refused(key, value):
    with pytest.raises(ConfigError) as e:
        load_scenario("default", [f"kubelet.{key}={value}"])
    msg = str(e.value)
    assert f"field 'kubelet.{key}'" in msg and value in msg and "kubelet.config.k8s.io/v1beta1" in msg


def test_a_file_that_is_not_one_mapping_is_refused(tmp_path):
    f = tmp_path / "k.yaml"
    f.write_text("- maxPods: 10\n")
    with pytest.raises(ConfigError, match="must hold one KubeletConfiguration mapping"):
        read_kubelet_config(f)
    with pytest.raises(ConfigError, match="does not exist"):
        load_scenario("default", kubelet_config=tmp_path / "nope.yaml")


# --------------------------------------------------------------------------- zero values
@pytest.mark.parametrize("version,given,field,expected", [
    ("1.23", {"runtimeRequestTimeout": "0s"}, "runtimeRequestTimeout", 120.0),
    ("1.23", {"syncFrequency": "0s"}, "syncFrequency", 60.0),
    ("1.23", {"maxPods": 0}, "maxPods", 110),
    ("1.23", {"maxPods": None}, "maxPods", 110),
    ("1.23", {"kubeAPIBurst": 0}, "kubeAPIBurst", 10),     # SetDefaults: the release's default
    ("1.27", {"kubeAPIBurst": 0}, "kubeAPIBurst", 100),
    ("1.23", {"kubeAPIQPS": 0}, "kubeAPIQPS", 5.0),        # client-go DefaultQPS, every release
    ("1.27", {"kubeAPIQPS": 0}, "kubeAPIQPS", 5.0),
    ("1.27", {"kubeAPIQPS": None}, "kubeAPIQPS", 50.0),    # null = unset: the release's default
    ("1.23", {"registryBurst": 0}, "registryBurst", 10),
    ("1.23", {"eventBurst": 0}, "eventBurst", 10),
    ("1.23", {"registryPullQPS": 0}, "registryPullQPS", 0.0),  # 0 = no limit (types.go)
    ("1.23", {"containerLogMaxSize": ""}, "containerLogMaxSize", "10Mi"),
])
def test_zero_values_mean_the_kubelet_defaults(version, given, field, expected):
    data = preset_data("default")
    data["kubernetesVersion"] = version
    data["runtimes"] = ["containerd"]
    data["kubelet"] = {"apiVersion": "kubelet.config.k8s.io/v1beta1", "kind": "KubeletConfiguration", **given}
    assert getattr(load_scenario(data).kubelet, field) == expected


def test_precedence_scenario_then_file_then_set(tmp_path):
    f = tmp_path / "k.json"
    f.write_text('{"maxPods": 50, "kubeAPIQPS": 7}')
    data = preset_data("default")
    data["kubelet"] = {"maxPods": 20, "kubeAPIQPS": 9, "registryPullQPS": 2}
    k = load_scenario(data, ["kubelet.kubeAPIQPS=8"], kubelet_config=f).kubelet
    assert (k.registryPullQPS, k.maxPods, k.kubeAPIQPS) == (2, 50, 8)


def test_sweep_takes_the_file_as_overrides_before_set():
    from simulator.cli.sweep import spec_from_args

    args = argparse.Namespace(sweep_file=None, grid=["node.cpuCores=1,2"], set=["kubelet.maxPods=40"],
                              kubelet_config=str(DATA / "eks.json"), runtimes=None, preset=None,
                              replications=None, seed=None)
    spec = spec_from_args(args)
    assert spec.overrides["kubelet.maxPods"] == 40 and spec.overrides["kubelet.kubeAPIQPS"] == 10
    assert load_scenario(spec.preset, dict(spec.overrides)).kubelet.maxPods == 40


def test_pods_per_core_caps_the_node_by_its_cores():
    # nodestatus/setters.go: pods capacity = min(cores x podsPerCore, maxPods); 0 = no limit
    four = _run(["kubelet.podsPerCore=5"])  # the default node: 4 cores, 40 pods
    assert (four["running"], four["pending"]) == (20, 20)
    eight = _run(["kubelet.podsPerCore=5", "node.cpuCores=8"])
    assert (eight["running"], eight["pending"]) == (40, 0)
    capped = _run(["kubelet.podsPerCore=5", "node.cpuCores=8", "kubelet.maxPods=30"])
    assert (capped["running"], capped["pending"]) == (30, 10)
    assert _run(["kubelet.podsPerCore=0"]) == _run([])
    assert "podsPerCore" not in load_scenario("default", ["kubelet.podsPerCore=5"]).kubelet.notModelled
