"""The input boundary (``simulator.safe_load``) and the ranges of the schemas, piece by piece;
the whole-CLI cases are in ``test_bad_inputs.py``."""

from __future__ import annotations

import math
import time
from pathlib import Path

import pytest
import yaml

from simulator import safe_load
from simulator.chains import CHAIN_DIR, known_chains
from simulator.config import ConfigError, load_scenario
from simulator.errors import shown
from simulator.safe_load import finite_or_none, load_document, parse_yaml, read_text


def test_runtime_request_timeout_zero_means_the_kubelets_default():
    # issue 11: "runtimeRequestTimeout: 0" hung; the kubelet's SetDefaults reads 0 as 2m (and a
    # zero syncFrequency as 1m), so a pasted kubelet config with 0s runs as the kubelet would
    sc = load_scenario("default", ["kubelet.runtimeRequestTimeout=0", "kubelet.syncFrequency=0s"])
    assert sc.kubelet.runtimeRequestTimeout == 120.0 and sc.kubelet.syncFrequency == 60.0
    assert sc.resolved()["kubelet"]["runtimeRequestTimeout"] == "2m"


def test_shown_is_bounded_for_shared_and_self_referencing_values():
    leaf: list = ["lol"] * 9
    for _ in range(12):  # 9**13 leaves if expanded
        leaf = [leaf] * 9
    start = time.process_time()
    text = shown(leaf)
    assert len(text) <= 80 and text.endswith("...")
    loop: list = [1]
    loop.append(loop)
    assert shown(loop) == "[1, [...]]"
    assert "digits" in shown(10 ** 5000)
    assert shown(math.inf) == ".inf" and shown(math.nan) == ".nan"
    assert time.process_time() - start < 5  # generous: expansion would never finish


def test_the_shipped_files_pass_the_boundary():
    for name in known_chains():
        assert isinstance(load_document(CHAIN_DIR / f"{name}.yaml", "chain file"), dict)


def test_merge_keys_may_be_overridden_but_keys_not_repeated():
    assert parse_yaml("base: &b {x: 1, y: 2}\nc:\n  <<: *b\n  x: 3\n", "t")["c"] == {"x": 3, "y": 2}
    with pytest.raises(ConfigError, match="'t' line 1: key \"x\" appears twice"):
        parse_yaml("{x: 1, x: 2}", "'t'")


def test_alias_expansion_limit_is_exact(monkeypatch):
    monkeypatch.setattr(safe_load, "MAX_NODES", 12)
    # a: 1 mapping + 2 keys + list (1) + 3 items = ... count what the limit is checked against
    ok = "a: &x [1, 2]\nb: *x\n"  # root 1, a 1, list 1+2, b 1, alias list 1+2 -> 9
    assert parse_yaml(ok, "t") == {"a": [1, 2], "b": [1, 2]}
    with pytest.raises(ConfigError, match="expand to more than 12 values"):
        parse_yaml("a: &x [1, 2, 3]\nb: *x\nc: *x\n", "t")


def test_size_limit_is_exact(tmp_path, monkeypatch):
    monkeypatch.setitem(safe_load.LIMITS, "yaml", 10)
    p = tmp_path / "f.yaml"
    p.write_text("a: 1234567")  # 10 bytes
    assert read_text(p, "scenario file") == "a: 1234567"
    p.write_text("a: 12345678")
    with pytest.raises(ConfigError, match="is 11 bytes; the limit for a scenario file is 10 bytes"):
        read_text(p, "scenario file")


def test_a_scenario_files_relative_trace_is_next_to_it(tmp_path, monkeypatch):
    # issue 11: a relative traceFile was resolved against the current directory
    (tmp_path / "study").mkdir()
    (tmp_path / "study" / "t.csv").write_text("time,template\n0,web\n")
    sc = yaml.safe_load((Path(__file__).parent.parent / "simulator/presets/default.yaml").read_text())
    sc["workload"] = {"kind": "trace", "traceFile": "t.csv", "pods": 1,
                      "templates": [{"name": "web", "spec": {"containers": [{"name": "n", "image": "nginx"}]}}]}
    (tmp_path / "study" / "s.yaml").write_text(yaml.safe_dump(sc))
    monkeypatch.chdir(tmp_path)
    loaded = load_scenario("study/s.yaml")
    assert loaded.workload.traceFile == str(Path("study") / "t.csv")


def test_finite_or_none_for_json_writers():
    doc = {"a": [1.0, math.inf, {"b": math.nan}], "c": -math.inf, "d": "inf"}
    assert finite_or_none(doc) == {"a": [1.0, None, {"b": None}], "c": None, "d": "inf"}
