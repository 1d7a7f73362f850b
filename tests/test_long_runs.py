"""Long runs: a pod the scheduler can never place retries for hours without overflow (issue 11)."""

from __future__ import annotations

from simulator.config import load_scenario
from simulator.model.simulation import simulate


def test_regression_scheduler_backoff_does_not_overflow_after_1024_retries():
    """Before the fix, ``initialBackoffSeconds * 2**k`` raised OverflowError after ~1,024
    retries (~2.8 simulated hours at the 10 s cap) of any unschedulable pod."""
    scenario = load_scenario("default", [
        "workload.kind=batch", "workload.pods=1",
        "workload.templates=[{name: t, spec: {nodeSelector: {zone: nowhere}, containers: [{name: c, image: nginx}]}}]",
        "scheduler.enabled=true", "scheduler.initialBackoffSeconds=0.5",
        "scheduler.maxBackoffSeconds=0.5", "simulation.horizonSeconds=700", "simulation.steadyStateSeconds=0"])
    result = simulate(scenario, "containerd", 1)
    assert result.end_time >= 700  # well past 1,024 retries of 0.5 s
    pod = result.pods.iloc[0]
    assert pod.outcome == "pending"
    assert pod.failure_reason
