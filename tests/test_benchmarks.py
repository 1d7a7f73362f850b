"""The benchmarks measure what they say (their speed is not tested: that is their output)."""

import simpy

from benchmarks._common import parse_sizes
from benchmarks.bench_density import counters, hop_visits, queued_events
from benchmarks.floor import floor_chain
from simulator.config import load_scenario
from simulator.model.simulation import simulate


def test_floor_visits_every_hop_of_every_pod_and_is_reproducible():
    a = floor_chain(pods=40, nodes=3, hops=5, seed=7)
    b = floor_chain(pods=40, nodes=3, hops=5, seed=7)
    assert a.hop_visits == 40 * 5
    # per hop: the grant of the request, the service timeout and the release (plus the start
    # of each process and the arrival timeouts)
    assert 3 * 40 * 5 <= a.events <= 3 * 40 * 5 + 3 * 40 + 2
    assert (a.events, a.simulated_seconds) == (b.events, b.simulated_seconds)
    assert floor_chain(pods=40, nodes=3, hops=5, seed=8).simulated_seconds != a.simulated_seconds


def test_counters_count_hop_visits_and_events_and_undo_their_patches():
    original = simpy.Environment
    scenario = load_scenario("node-e2e-density-105")  # records every span (recordSpans: true)
    with counters() as (envs, recorders, alarms):
        result = simulate(scenario, "containerd-1.1", seed=1)
    assert simpy.Environment is original
    assert hop_visits(result, recorders) == int((result.spans.depth > 0).sum()) > 0
    assert len(envs) == 1 and next(envs[0]._eid) > hop_visits(result, recorders)
    assert alarms and sum(a.places for a in alarms) > sum(a.wakeups for a in alarms) > 0


def test_queued_events_are_the_events_simpy_processes(monkeypatch):
    """queued_events (ids drawn, corrected for the places alarms reserve) equals the events an
    instrumented environment pops from its queue plus those left in it at the end."""
    popped = []

    class Popping(simpy.Environment):
        def step(self) -> None:
            popped.append(1)
            super().step()

    monkeypatch.setattr(simpy, "Environment", Popping)
    scenario = load_scenario("node-e2e-density-105")
    with counters() as (envs, _recorders, alarms):
        simulate(scenario, "containerd-1.1", seed=1)
    assert len(envs) == 1
    assert queued_events(envs, alarms) == len(popped) + len(envs[0]._queue) > 0


def test_sizes_are_read_as_people_write_them():
    assert parse_sizes("1k,10k, 30k,150000") == [1000, 10_000, 30_000, 150_000]
    for bad in ("1k,", "ten", "0", "1.5"):
        try:
            parse_sizes(bad)
        except SystemExit as e:
            assert "pod count" in str(e) or "whole number" in str(e)
        else:
            raise AssertionError(f"{bad!r} was accepted")
