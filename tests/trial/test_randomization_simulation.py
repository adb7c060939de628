"""Simulation: minimization balances the trial's factors better than permuted blocks; guess rates."""

from __future__ import annotations

import numpy as np
import pytest

from prt.errors import InputError
from prt.trial.minimization import TRIAL_CONFIG, Minimization, arm_from_draw
from prt.trial.randomization_simulation import (
    _block_sequences,
    compare_schemes,
    load_population,
    population_from_trial,
    resampled_factor_levels,
    simulate_scheme,
    synthetic_factor_levels,
)

# Level shares near the Boulder trial's (age by decade, 54% female, pain mostly 4-5, 6% on opioids).
TRIAL_LIKE = {"age": (0.30, 0.20, 0.15, 0.20, 0.15), "sex": (0.54, 0.46), "pain": (0.25, 0.55, 0.18, 0.02),
              "opioid": (0.94, 0.06)}


@pytest.fixture(scope="module")
def results():
    return compare_schemes(TRIAL_CONFIG, n_participants=151, n_trials=200, seed=2022,
                           level_probabilities=TRIAL_LIKE)


def test_minimization_beats_permuted_blocks_on_every_factor(results):
    m, b, s = results["minimization"], results["blocks"], results["simple"]
    assert m.marginal_max_mean < b.marginal_max_mean / 2
    assert m.marginal_total_mean < b.marginal_total_mean / 2
    for name in ("age", "sex", "pain", "opioid"):
        assert m.factor_range_mean[name] < b.factor_range_mean[name]
    assert b.marginal_max_mean < s.marginal_max_mean
    assert m.arm_range_mean < s.arm_range_mean


def test_guess_rates(results):
    # simple randomization cannot be guessed: every strategy hits 1/3 on average
    assert results["simple"].guess_minimization == pytest.approx(1 / 3, abs=0.01)
    assert results["simple"].guess_convergence == pytest.approx(1 / 3, abs=0.01)
    # blocks of 3 or 6 are exposed to the fewest-so-far guess; minimization to its own favourite
    assert results["blocks"].guess_convergence > 0.5
    assert results["minimization"].guess_minimization == pytest.approx(0.7, abs=0.06)


def test_permuted_blocks_are_exactly_balanced_at_block_ends():
    rng = np.random.default_rng(1)
    seq = _block_sequences(TRIAL_CONFIG, 50, 150, (1,), rng)
    for t in range(3, 151, 3):
        counts = np.stack([(seq[:, :t] == k).sum(axis=1) for k in range(3)], axis=1)
        assert (counts == t // 3).all()
    seq = _block_sequences(TRIAL_CONFIG, 50, 150, (1, 2), rng)   # blocks of 3 or 6
    running = np.stack([np.cumsum(seq == k, axis=1) for k in range(3)], axis=2)
    spread = running.max(axis=2) - running.min(axis=2)
    assert spread.max() <= 2 and (spread[:, 5::6] == 0).mean() < 1   # not all block ends at 6, 12, ...
    ratio_config = TRIAL_CONFIG.__class__(arms=TRIAL_CONFIG.arms, factors=TRIAL_CONFIG.factors, ratios=(2, 1, 1))
    seq = _block_sequences(ratio_config, 10, 40, (1,), rng)
    assert ((seq == 0).sum(axis=1) == 20).all()


def test_vectorized_minimization_equals_the_sequential_one():
    rng = np.random.default_rng(9)
    levels = synthetic_factor_levels(TRIAL_CONFIG, 3, 40, rng)
    summary = simulate_scheme(TRIAL_CONFIG, levels, "minimization", np.random.default_rng(77))
    draws = np.random.default_rng(77).random((40, 3))      # the same stream, one row per step
    ranges = []
    for s in range(3):
        m = Minimization(TRIAL_CONFIG)
        for t in range(40):
            lev = tuple(int(x) for x in levels[s, t])
            scores = m.propose({f.name: (f.levels[lev[i]] if f.cuts is None else
                                         ([0] + list(f.cuts))[lev[i]]) for i, f in enumerate(TRIAL_CONFIG.factors)})
            assert scores.levels == lev
            arm = TRIAL_CONFIG.arms[int(arm_from_draw(np.array([scores.probabilities]), draws[t, s])[0])]
            m.record(lev, arm)
        totals = list(m.arm_totals().values())
        ranges.append(max(totals) - min(totals))
    assert summary.arm_range_mean == pytest.approx(np.mean(ranges))


def test_resampling_uses_only_the_population_levels():
    pop = [{"participant": "x", "age": 25, "sex": "male", "pain": 9, "opioid": "yes"}]
    levels = resampled_factor_levels(TRIAL_CONFIG, pop, 2, 5, np.random.default_rng(0))
    assert (levels == np.array([0, 1, 3, 1])).all()
    with pytest.raises(InputError, match="'y'.*opioid"):
        resampled_factor_levels(TRIAL_CONFIG, [{"participant": "y", "age": 25, "sex": "male", "pain": 9}], 1, 1,
                                np.random.default_rng(0))


def test_same_seed_same_results():
    a = compare_schemes(TRIAL_CONFIG, 30, 20, seed=4)
    b = compare_schemes(TRIAL_CONFIG, 30, 20, seed=4)
    assert a == b
    with pytest.raises(InputError):
        compare_schemes(TRIAL_CONFIG, 0, 5)


def _small_trial(opioid=(1, 0, 0, 0)):
    import pandas as pd

    from prt.data import TrialData

    people = pd.DataFrame({"participant": ["1", "2", "3", "4"], "arm": ["prt", "placebo", "usual_care", "prt"],
                           "age": [25, 45, 61, 33], "sex": ["female", "male", "female", None],
                           "current_opioid_use": list(opioid)})
    pain = pd.DataFrame({"participant": ["1", "1", "2", "3", "3", "4"],
                         "timepoint": ["eligibility", "pre", "eligibility", "pre", "eligibility", "pre"],
                         "outcome": "pain_intensity", "value": [5, 7, 4, 3, 6, 8]})
    return TrialData.from_frames(people, pain)


def test_population_uses_the_one_baseline_definition():
    """Baseline pain = mean of eligibility and pre where present (prt.analysis.baseline.with_baseline):
    participant 2 has eligibility only and is kept with that value; 4 has no sex and is left out."""
    population = population_from_trial(_small_trial(), TRIAL_CONFIG)
    assert population == [
        {"participant": "1", "age": 25.0, "sex": "female", "pain": 6.0, "opioid": "yes"},
        {"participant": "2", "age": 45.0, "sex": "male", "pain": 4.0, "opioid": "no"},
        {"participant": "3", "age": 61.0, "sex": "female", "pain": 4.5, "opioid": "no"},
    ]
    levels = resampled_factor_levels(TRIAL_CONFIG, population[:1], 1, 1, np.random.default_rng(0))
    assert levels.tolist() == [[[0, 0, 2, 1]]]          # 20s, female, pain 6-7, opioid yes


def test_population_refuses_unknown_codes_and_other_factors():
    with pytest.raises(InputError, match="record '?3'?.*current_opioid_use"):    # refused on reading or here
        population_from_trial(_small_trial(opioid=(1, 0, 3, 0)), TRIAL_CONFIG)
    other = TRIAL_CONFIG.__class__(arms=TRIAL_CONFIG.arms, factors=TRIAL_CONFIG.factors[:2])
    with pytest.raises(InputError, match="the config has age, sex"):
        population_from_trial(_small_trial(), other)


def test_population_of_the_shared_data(boulder_wide_path):
    from prt.analysis.baseline import with_baseline
    from prt.data import read_trial

    population = load_population(boulder_wide_path, TRIAL_CONFIG)
    baseline = with_baseline(read_trial(boulder_wide_path), "pain_intensity")["baseline"]
    assert len(population) == 143                      # 151 less the 8 without opioid use recorded
    assert all(row["pain"] == baseline[row["participant"]] for row in population)
    assert sum(row["opioid"] == "yes" for row in population) == 9


def test_a_negative_seed_is_an_input_error():
    with pytest.raises(InputError, match="seed: expected a non-negative integer"):
        compare_schemes(TRIAL_CONFIG, 5, 2, seed=-1)
