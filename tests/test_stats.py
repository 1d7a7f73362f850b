"""Intervals across replications (simulator/experiments/stats.py)."""

import math

import numpy as np
from scipy import stats as st

from simulator.experiments.stats import percentiles, t_interval


def test_t_interval_is_students_interval_of_the_mean():
    values = [1.2, 1.5, 1.1, 1.4, 1.3]
    low, high = t_interval(values)
    half = st.t.ppf(0.975, 4) * np.std(values, ddof=1) / math.sqrt(5)
    assert math.isclose(low, np.mean(values) - half) and math.isclose(high, np.mean(values) + half)
    assert t_interval([2.0]) is None and t_interval([]) is None


def test_a_non_negative_statistic_never_gets_a_negative_bound():
    # two replications of a start-up time: t(0.975, 1) = 12.7 would put the bound below zero
    low, high = t_interval([0.5, 3.0])
    assert low == 0.0 and high > 3.0
    # values that can be negative keep the plain interval
    low, _ = t_interval([-0.5, 3.0])
    assert low < -0.5


def test_percentiles_skip_missing_values():
    assert percentiles([1.0, None, float("nan"), 3.0])["p50"] == 2.0
    assert percentiles([])["p99"] is None
