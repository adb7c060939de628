"""Power by simulation: intervals by hand, the closed form equals the mixed model, the trial's plan."""

from __future__ import annotations

import numpy as np
import pytest

from prt.errors import InputError
from prt.trial.power import (
    _simulate,
    analytic_power,
    clopper_pearson_interval,
    closed_form_tests,
    mixed_model_tests,
    simulate_power,
    wilson_interval,
)


def test_wilson_interval_by_hand():
    # 8 of 10: p = .8, z = 1.95996; centre (0.8 + 0.19208) / 1.38415, half-width 0.22617 / 1.38415
    low, high = wilson_interval(8, 10)
    assert low == pytest.approx(0.49016, abs=1e-4) and high == pytest.approx(0.94332, abs=1e-4)
    assert wilson_interval(0, 20)[0] == 0.0


def test_clopper_pearson_interval_known_values():
    low, high = clopper_pearson_interval(8, 10)
    assert low == pytest.approx(0.44390, abs=1e-4) and high == pytest.approx(0.97479, abs=1e-4)
    assert clopper_pearson_interval(0, 10) == (0.0, pytest.approx(0.30850, abs=1e-4))
    assert clopper_pearson_interval(10, 10)[1] == 1.0


def test_the_trials_power_calculation():
    # d = 0.62 needs 43 per arm for 80% power, two-sample t, alpha .05 (trial protocol)
    assert analytic_power(43, 0.62) == pytest.approx(0.811, abs=0.002)
    # (the exact noncentral t already reaches 0.802 at 42 per arm; 43 is the protocol's figure)
    assert analytic_power(41, 0.62) < 0.80 < analytic_power(43, 0.62)
    result = simulate_power(43, 0.62, simulations=4000, seed=1)
    assert result.ci_low < analytic_power(43, 0.62) < result.ci_high
    assert 0.78 < result.power < 0.84
    planned = simulate_power(50, 0.62, simulations=4000, seed=1)
    assert planned.power > result.power and planned.ci_low < analytic_power(50, 0.62) < planned.ci_high
    assert result.method == "closed-form" and result.simulations == 4000


def test_no_effect_rejects_at_alpha():
    result = simulate_power(30, 0.0, simulations=6000, seed=2)
    assert result.ci_low < 0.05 < result.ci_high


@pytest.mark.parametrize("correlation", [0.5, -0.4])
def test_closed_form_equals_the_mixed_model_fit(correlation):
    pytest.importorskip("prt.analysis.mixed")
    rng = np.random.default_rng(7)
    pre, post, observed, arm, age, female = _simulate(12, 0.5, correlation, 0.0, 60, rng)
    t1, df1 = closed_form_tests(pre, post, arm, age, female)
    t2, df2 = mixed_model_tests(pre, post, observed, arm, age, female)
    np.testing.assert_allclose(t1, t2, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(df1, df2, rtol=1e-7)
    if correlation < 0:  # some fits hit the boundary (participant variance 0): OLS df 2n - 6
        assert np.any(df1 == 2 * 24 - 6)


def test_attrition_uses_the_mixed_model_and_costs_power():
    pytest.importorskip("prt.analysis.mixed")
    full = simulate_power(20, 0.8, simulations=150, seed=3, method="mixed-model")
    lossy = simulate_power(20, 0.8, attrition=0.4, simulations=150, seed=3)
    assert lossy.method == "mixed-model" and lossy.attrition == 0.4
    assert lossy.power < full.power
    assert full.power == pytest.approx(analytic_power(20, 0.8), abs=0.12)


def test_same_seed_same_answer():
    assert simulate_power(25, 0.5, simulations=300, seed=9) == simulate_power(25, 0.5, simulations=300, seed=9)


@pytest.mark.parametrize(
    "kwargs, words",
    [
        ({"per_arm": 2, "effect": 0.5}, "per-arm"),
        ({"per_arm": 20, "effect": 0.5, "alpha": 1.5}, "alpha"),
        ({"per_arm": 20, "effect": 0.5, "attrition": 1.0}, "attrition"),
        ({"per_arm": 20, "effect": 0.5, "simulations": 0}, "simulations"),
        ({"per_arm": 20, "effect": float("nan")}, "effect"),
        # issue 12 round 2: D = 1e200 overflowed the sums of squares and reported power 0.000 (rc 0)
        ({"per_arm": 20, "effect": 1e200}, "effect: expected a standardized difference"),
        ({"per_arm": 20, "effect": -101.0}, "effect: expected a standardized difference"),
        ({"per_arm": 20, "effect": 0.5, "attrition": 0.2, "method": "closed-form"}, "closed-form"),
        ({"per_arm": 20, "effect": 0.5, "interval": "exact"}, "interval"),
    ],
)
def test_bad_arguments_raise_input_error(kwargs, words):
    with pytest.raises(InputError, match=words):
        simulate_power(**kwargs)


def test_the_largest_accepted_effect_gives_power_one():
    assert simulate_power(20, 100.0, simulations=20, seed=1).power == 1.0
    assert simulate_power(20, -100.0, simulations=20, seed=1).power == 1.0


def test_runs_too_large_to_hold_in_memory_are_refused():
    """Round-2 finding: --per-arm 1e8 or --simulations 1e10 were killed by the kernel, not refused."""
    from prt.errors import InputError
    from prt.trial.power import simulate_power

    with pytest.raises(InputError, match="too large"):
        simulate_power(per_arm=10_000, effect=0.5, simulations=1_000_000)
    with pytest.raises(InputError, match="too large"):
        simulate_power(per_arm=100_001, effect=0.5, simulations=1)
