"""Minimization: hand-computed imbalance scores for each measure, probabilities, draws, binning."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from prt.errors import InputError
from prt.trial.minimization import (
    TRIAL_CONFIG,
    Factor,
    Minimization,
    MinimizationConfig,
    allocation_probabilities,
    arm_from_draw,
    imbalance_scores,
    load_config,
)

SEX = Factor("sex", ("female", "male"))
PAIN = Factor("pain", ("0-3", "4-5", "6-7", "8-10"), cuts=(4.0, 6.0, 8.0))


def small(measure="range", weights=(1.0, 1.0), ratios=None, **kw) -> MinimizationConfig:
    return MinimizationConfig(
        arms=("A", "B", "C"),
        factors=(dataclasses.replace(SEX, weight=weights[0]), dataclasses.replace(PAIN, weight=weights[1])),
        ratios=ratios, measure=measure, **kw)


def run_history(config):
    """p1 female/5 -> A, p2 male/7 -> B, p3 female/4.5 -> C, p4 female/5 -> A; propose female/5."""
    m = Minimization(config)
    for sex, pain, arm in (("female", 5, "A"), ("male", 7, "B"), ("female", 4.5, "C"), ("female", 5, "A")):
        m.record(m.propose({"sex": sex, "pain": pain}).levels, arm)
    return m, m.propose({"sex": "female", "pain": 5})


# At sex=female and pain 4-5 the counts are A 2, B 0, C 1 for both factors. Adding the newcomer to
# A gives (3,0,1), to B (2,1,1), to C (2,0,2).
def test_range_scores_by_hand():
    _, proposal = run_history(small("range"))
    assert proposal.scores == (6.0, 2.0, 4.0)          # 2*3, 2*1, 2*2
    assert proposal.probabilities == pytest.approx((0.1, 0.8, 0.1))


def test_variance_scores_by_hand():
    # (3,0,1): sum of squares about 4/3 = 42/9, / (K-1) = 7/3; (2,1,1): 1/3; (2,0,2): 4/3
    _, proposal = run_history(small("variance"))
    assert proposal.scores == pytest.approx((14 / 3, 2 / 3, 8 / 3), abs=1e-12)


def test_sd_scores_by_hand():
    _, proposal = run_history(small("sd"))
    assert proposal.scores == pytest.approx((2 * math.sqrt(7 / 3), 2 * math.sqrt(1 / 3), 2 * math.sqrt(4 / 3)))


def test_factor_weights():
    _, proposal = run_history(small("range", weights=(1.0, 2.0)))
    assert proposal.scores == (9.0, 3.0, 6.0)


def test_unequal_ratios_divide_counts():
    # ratios 2:1:1 -> x = n / r: to A (1.5,0,1) range 1.5; to B (1,1,1) 0; to C (1,0,2) 2
    _, proposal = run_history(small("range", ratios=(2, 1, 1)))
    assert proposal.scores == (3.0, 0.0, 4.0)
    # B preferred 0.8; the other 0.2 split over A and C in proportion 2:1
    assert proposal.probabilities == pytest.approx((0.2 * 2 / 3, 0.8, 0.2 / 3))


def test_kl_two_arms_by_hand():
    # one factor, arms A, B; A has one female, B one male; a female arrives; smoothing 0.5:
    # to A: p_A = (5/6, 1/6), p_B = (1/4, 3/4): J = 7/12 ln 15; to B: (3/4, 1/4) vs (1/2, 1/2): J = ln 3 / 4
    config = MinimizationConfig(arms=("A", "B"), factors=(SEX,), measure="kl", kl_smoothing=0.5)
    m = Minimization(config)
    m.record((0,), "A")
    m.record((1,), "B")
    proposal = m.propose({"sex": "female"})
    assert proposal.scores == pytest.approx((7 / 12 * math.log(15), math.log(3) / 4), abs=1e-12)
    assert proposal.probabilities == pytest.approx((0.2, 0.8))


def _kl_reference(config, counts, levels):
    """Straight loops over candidate arms, factors and pairs of arms."""
    k = len(config.arms)
    out = np.zeros(k)
    for cand in range(k):
        for f, fac in enumerate(config.factors):
            n = counts[f, : len(fac.levels), :].astype(float).copy()
            n[levels[f], cand] += 1
            p = (n + config.kl_smoothing) / (n + config.kl_smoothing).sum(axis=0)
            total = 0.0
            for i in range(k):
                for j in range(i + 1, k):
                    total += sum((p[l, i] - p[l, j]) * math.log(p[l, i] / p[l, j]) for l in range(len(fac.levels)))
            out[cand] += fac.weight * total
    return out


def test_kl_matches_loop_reference_with_three_arms_and_padded_levels():
    config = dataclasses.replace(TRIAL_CONFIG, measure="kl")
    rng = np.random.default_rng(3)
    counts = np.zeros((1, 4, 5, 3), dtype=np.int64)
    for f, fac in enumerate(config.factors):
        counts[0, f, : len(fac.levels)] = rng.integers(0, 6, size=(len(fac.levels), 3))
    levels = np.array([[2, 1, 3, 0]])
    got = imbalance_scores(config, counts, levels)[0]
    assert got == pytest.approx(_kl_reference(config, counts[0], levels[0]), rel=1e-12)


def test_ties_split_the_preferred_probability():
    probs = allocation_probabilities(small(), np.array([[2.0, 2.0, 5.0]]), n_allocated=10)[0]
    assert probs == pytest.approx((0.45, 0.45, 0.1))


def test_all_tied_and_burn_in_follow_target_ratios():
    config = small(ratios=(2, 1, 1), burn_in=3)
    assert allocation_probabilities(config, np.array([[1.0, 1.0, 1.0]]), 10)[0] == pytest.approx((0.5, 0.25, 0.25))
    assert allocation_probabilities(config, np.array([[9.0, 0.0, 1.0]]), 2)[0] == pytest.approx((0.5, 0.25, 0.25))
    assert allocation_probabilities(config, np.array([[9.0, 0.0, 1.0]]), 3)[0] == pytest.approx(
        (0.2 * 2 / 3, 0.8, 0.2 / 3))


@pytest.mark.parametrize("u, arm", [(0.0, 0), (0.0999, 0), (0.1, 1), (0.8999, 1), (0.9, 2), (0.999999, 2)])
def test_draw_picks_arm_by_cumulative_probability(u, arm):
    assert arm_from_draw(np.array([[0.1, 0.8, 0.1]]), u)[0] == arm


def test_draw_never_picks_an_arm_with_zero_probability():
    assert arm_from_draw(np.array([[0.0, 1.0, 0.0]]), 0.9999999999)[0] == 1
    assert arm_from_draw(np.array([[0.3, 0.7, 0.0]]), 1 - 2**-53)[0] == 1


@settings(max_examples=60, deadline=None)
@given(scores=st.lists(st.floats(0, 20, allow_nan=False), min_size=3, max_size=3),
       p=st.floats(0.34, 1.0), ratios=st.lists(st.integers(1, 4), min_size=3, max_size=3))
def test_probabilities_are_a_distribution_favouring_the_minimum(scores, p, ratios):
    config = small(ratios=tuple(ratios), p_preferred=p)
    probs = allocation_probabilities(config, np.array([scores]), 5)[0]
    assert probs.sum() == pytest.approx(1.0)
    assert (probs >= 0).all()
    best = np.flatnonzero(np.asarray(scores) <= min(scores) + 1e-9)
    if len(best) < 3:
        assert probs[best].min() >= p / len(best) - 1e-12


def test_batch_scores_equal_one_at_a_time():
    config = TRIAL_CONFIG
    rng = np.random.default_rng(5)
    counts = rng.integers(0, 5, size=(7, 4, 5, 3))
    levels = np.stack([rng.integers(0, len(f.levels), size=7) for f in config.factors], axis=1)
    batch = imbalance_scores(config, counts, levels)
    for s in range(7):
        assert imbalance_scores(config, counts[s : s + 1], levels[s : s + 1])[0] == pytest.approx(batch[s])


@pytest.mark.parametrize("age, label", [(21, "20s"), (29.99, "20s"), (30, "30s"), (59, "50s"), (60, "60s-70s"),
                                        (70, "60s-70s")])
def test_age_bins(age, label):
    f = TRIAL_CONFIG.factors[0]
    assert f.levels[f.level_of(age)] == label


@pytest.mark.parametrize("pain, label", [(0, "0-3"), (3.5, "0-3"), (4, "4-5"), (5.5, "4-5"), (6, "6-7"),
                                         (8, "8-10"), (10, "8-10")])
def test_pain_bins_are_the_redcap_pain_deciles(pain, label):
    f = TRIAL_CONFIG.factors[2]
    assert f.levels[f.level_of(pain)] == label


def test_missing_or_bad_factor_names_the_participant():
    with pytest.raises(InputError, match="'p9'.*opioid"):
        TRIAL_CONFIG.levels_of({"age": 40, "sex": "male", "pain": 5}, "p9")
    with pytest.raises(InputError, match="'p9'.*'sex'.*female, male"):
        TRIAL_CONFIG.levels_of({"age": 40, "sex": "x", "pain": 5, "opioid": "no"}, "p9")
    with pytest.raises(InputError, match="'p9'.*'age'.*missing"):
        TRIAL_CONFIG.levels_of({"age": float("nan"), "sex": "male", "pain": 5, "opioid": "no"}, "p9")
    with pytest.raises(InputError, match="'age'.*number"):
        TRIAL_CONFIG.levels_of({"age": "old", "sex": "male", "pain": 5, "opioid": "no"}, "p9")


def test_bad_configs_are_refused():
    with pytest.raises(InputError, match="measure"):
        small("entropy")
    with pytest.raises(InputError, match="ratios"):
        small(ratios=(1, 0, 1))
    with pytest.raises(InputError, match="p_preferred"):
        small(p_preferred=1.5)
    with pytest.raises(InputError, match="cut-points"):
        Factor("age", ("a", "b"), cuts=(3.0, 4.0))


def test_config_round_trips_through_yaml(tmp_path):
    import yaml

    config = small("variance", weights=(1.0, 2.5), ratios=(2, 1, 1), p_preferred=0.9, burn_in=6)
    path = tmp_path / "m.yaml"
    path.write_text(yaml.safe_dump(config.to_dict()))
    assert load_config(path) == config
    assert load_config(None) == TRIAL_CONFIG
    path.write_text("arms: [a, b]\nfactors: []\ncolour: red\n")
    with pytest.raises(InputError, match="colour"):
        load_config(path)
