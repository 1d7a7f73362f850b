"""Bad input is refused with one paragraph naming the field, the value and what is allowed."""


import pytest

from simulator.cli import main
from simulator.config import ConfigError, load_scenario, parse_duration


@pytest.mark.parametrize("override,field,words", [
    ("kubelet.kubeAPIQSP=60", "kubelet.kubeAPIQSP", "unknown key"),
    ("kubelet.kubeAPIQPS=fast", "kubelet.kubeAPIQPS", "number"),
    ("kubelet.kubeAPIQPS=-3", "kubelet.kubeAPIQPS", "greater than 0"),
    ("kubelet.runtimeRequestTimeout=-2m", "kubelet.runtimeRequestTimeout", "duration"),
    ("kubelet.runtimeRequestTimeout=2 minutes", "kubelet.runtimeRequestTimeout", "Go duration"),
    ("node.cpuCores=0", "node.cpuCores", "greater than 0"),
    ("runtimes=[docker]", "runtimes", "unknown runtime 'docker'"),
    ("workload.kind=burst", "workload.kind", "'churn' or 'trace'"),
    ("cni.add={dist: lognormal, medianMs: 50, p90Ms: 10}", "cni.add", "p90Ms"),
    ("workload.templates.0.spec.containers.0.image=nope", "", "image 'nope', which is not in images"),
])
def test_bad_values_name_the_field(override, field, words):
    with pytest.raises(ConfigError) as e:
        load_scenario("default", [override])
    msg = str(e.value)
    assert (f"field '{field}'" in msg if field else "field" not in msg) and words in msg, msg
    assert "\n" not in msg


def test_impossible_combination_is_refused():
    with pytest.raises(ConfigError, match="maxParallelImagePulls > 1 needs serializeImagePulls: false"):
        load_scenario("default", ["kubelet.maxParallelImagePulls=4"])


def test_unknown_preset_lists_the_known_ones():
    with pytest.raises(ConfigError, match="unknown preset 'nope'.*node-e2e-density-105"):
        load_scenario("nope")


@pytest.mark.parametrize("text,seconds", [("2m", 120), ("1m30s", 90), ("500ms", 0.5), ("0", 0), (3, 3), ("1h", 3600)])
def test_go_durations(text, seconds):
    assert parse_duration(text) == pytest.approx(seconds)


def test_resolved_scenario_round_trips(default_scenario):
    data = default_scenario.resolved()
    assert data["kubelet"]["runtimeRequestTimeout"] == "2m"
    again = load_scenario(data)
    assert again.resolved() == data


@pytest.mark.parametrize("argv,words", [
    (["compare", "--set", "kubelet.kubeAPIQSP=60"], "kubelet.kubeAPIQSP"),
    (["compare", "--runtimes", "docker"], "unknown runtime 'docker'"),
    (["compare", "--pods", "0"], "--pods"),
    (["compare", "--replications", "0"], "--replications"),
    (["compare", "--set", "kubelet"], "key.path=value"),
    (["explain", "rkt"], "unknown runtime 'rkt'"),
    (["compare", "--bogus"], "unrecognized arguments"),
    (["run", "missing.yaml"], "does not exist"),
])
def test_cli_prints_one_paragraph_and_exits_nonzero(argv, words, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code = main(argv)
    out, err = capsys.readouterr()
    assert code == 2
    assert out == ""
    assert words in err and "Traceback" not in err
    assert err.startswith("kubesim: error: ")
    assert list(tmp_path.iterdir()) == []  # nothing half-written


def test_malformed_scenario_file(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("kubelet: [unclosed\n")
    assert main(["run", str(bad)]) == 2
    assert "could not be parsed" in capsys.readouterr().err


def test_toml_scenario_file(tmp_path, capsys):
    f = tmp_path / "s.toml"
    f.write_text('name = "toml"\n[kubelet]\nkubeAPIQPS = 50\n[workload]\npods = 3\n'
                 '[[workload.templates]]\nname = "p"\n[workload.templates.spec]\n'
                 'containers = [{name = "c", image = "pause"}]\n')
    sc = load_scenario(str(f))
    assert sc.kubelet.kubeAPIQPS == 50 and sc.workload.pods == 3


@pytest.mark.parametrize("fault,words", [
    ("{kind: meteor, at: [5]}", "does not match any of the expected tags"),
    ("{kind: daemonRestart}", "needs at least one of at, every, ratePerHour"),
    ("{kind: stepError, probability: 1.5}", "less than or equal to 1"),
    ("{kind: slowStep, step: runc creat, extraSeconds: 5}", "did you mean one of ['runc create']"),
    ("{kind: stepError, process: dockre}", "'dockre' is not a process"),
    ("{kind: stepError, operation: RunPodSandbox}", "not a CRI operation"),
    ("{kind: registry, slowdown: 0.5}", "greater than or equal to 1"),
    ("{kind: shimCrash, at: [-1]}", "greater than or equal to 0"),
])
def test_bad_fault_specs_are_refused_naming_the_field(fault, words):
    with pytest.raises(ConfigError) as e:
        load_scenario("default", [f"faults=[{fault}]"])
    msg = str(e.value)
    assert "faults" in msg and words in msg, msg
    assert "\n" not in msg


@pytest.mark.parametrize("argv, suggestion", [
    (["compare", "--preset", "defualt"], "did you mean 'default'?"),
    (["compare", "--runtimes", "containrd"], "did you mean 'containerd'"),
    (["explain", "crio-1"], "did you mean 'crio'"),
])
def test_a_mistyped_name_gets_a_suggestion(argv, suggestion, capsys):
    from simulator.cli import main

    assert main(argv) == 2
    err = capsys.readouterr().err
    assert suggestion in err and "Traceback" not in err


def test_nothing_close_gets_no_suggestion(capsys):
    from simulator.cli import main

    assert main(["compare", "--preset", "zzzzzz"]) == 2
    assert "did you mean" not in capsys.readouterr().err


def test_version(capsys):
    from simulator.cli import main

    with pytest.raises(SystemExit) as e:
        main(["--version"])
    assert e.value.code == 0 and capsys.readouterr().out.startswith("kubesim ")
