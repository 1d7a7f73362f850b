"""Several problems found at once are printed one per line, each naming the field, the value and
what is allowed; a mistyped key, command, option or choice gets "did you mean" (issue 12)."""

import pytest
import yaml

from simulator.cli import main
from simulator.config import ConfigError, Scenario, load_scenario
from simulator.errors import allowed_keys
from simulator.presets import preset_path


def _three_problems() -> str:
    """The default preset with a mistyped key, a word for a number and a negative horizon."""
    doc = yaml.safe_load(preset_path("default").read_text())
    doc.setdefault("kubelet", {})["kubeAPIQSP"] = 60
    doc["node"]["cpuCores"] = "lots"
    doc.setdefault("simulation", {})["horizonSeconds"] = -5
    return yaml.safe_dump(doc)


def _refused(argv, capsys) -> list[str]:
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert captured.err.endswith("\n") and all(ln.startswith("kubesim: error: ") for ln in lines)
    return lines


def test_three_problems_three_lines(tmp_path, capsys):
    f = tmp_path / "s.yaml"
    f.write_text(_three_problems())
    lines = _refused(["compare", "--preset", str(f)], capsys)
    assert len(lines) == 3, lines
    key, cores, horizon = sorted(lines)
    assert "field 'kubelet.kubeAPIQSP' = 60" in key and "did you mean 'kubeAPIQPS'" in key
    assert "allowed: its 128 fields" in key  # the kubelet section: KubeletConfiguration's
    assert "field 'node.cpuCores' = \"lots\"" in cores and "valid number" in cores
    assert "field 'simulation.horizonSeconds' = -5" in horizon and "greater than" in horizon


def test_set_keys_get_did_you_mean_and_name_the_flag(capsys):
    lines = _refused(["compare", "--set", "workload.podz=3", "--set",
                      "workload.templates.0.spec.containers.0.imag=x"], capsys)
    assert len(lines) == 2
    assert any("(given by --set workload.podz=3)" in ln and "did you mean 'pods'" in ln for ln in lines)
    assert any("did you mean 'image'" in ln and "allowed: name, image" in ln for ln in lines)


def test_an_unknown_key_with_nothing_close_lists_what_is_allowed():
    with pytest.raises(ConfigError) as e:
        load_scenario("default", ["simulation.zzz=1"])
    msg = str(e.value)
    assert "did you mean" not in msg and "allowed: horizonSeconds" in msg and "\n" not in msg


def test_allowed_keys_follow_lists_and_tagged_unions():
    assert "image" in allowed_keys(Scenario, ("workload", "templates", 0, "spec", "containers", 0))
    crash = allowed_keys(Scenario, ("faults", 0, "shimCrash"))
    assert "at" in crash and "slowdown" not in crash  # the shimCrash fault's fields only
    assert allowed_keys(Scenario, ("workload", "no-such-section", 3)) == []


@pytest.mark.parametrize("argv, hint", [
    (["compar"], "did you mean 'compare'?"),
    (["figures", "--theme", "drak"], "did you mean 'dark'?"),
    (["compare", "--replicatons", "3"], "did you mean '--replications'?"),
    (["sweep", "--out", "x", "--grid", "a=1", "--schedular", "tcp://h:1"], "did you mean '--scheduler'?"),
    (["compare", "--preset", "defualt"], "did you mean 'default'?"),
    (["compare", "--runtimes", "containrd"], "did you mean 'containerd'"),
    (["validate", "--case", "ctd-2024-runtime-rss-10pod"], "did you mean 'ctd-2024-runtime-rss-10pods'"),
    (["sensitivity", "--output", "batch_second"], "did you mean 'batch_seconds'?"),
])
def test_mistyped_names_get_a_suggestion(argv, hint, capsys):
    lines = _refused(argv, capsys)
    assert len(lines) == 1 and hint in lines[0], lines
