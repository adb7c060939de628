"""Minimization: hand-computed imbalance scores for each measure, probabilities, draws, binning,
the arm-size rule of Xiao et al. (2012), the trial's default config, and factor value checks."""

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
    parse_factor_args,
    parse_number,
)
from prt.vocabulary import outcome_range

SEX = Factor("sex", ("female", "male"))
PAIN = Factor("pain", ("0-3", "4-5", "6-7", "8-10"), cuts=(4.0, 6.0, 8.0))


def small(measure="range", weights=(1.0, 1.0), ratios=None, **kw) -> MinimizationConfig:
    kw.setdefault("max_arm_difference", None)
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


# ----------------------------------------------------------------------------- KL by hand, three arms
def test_kl_three_arms_by_hand():
    """Arms A, B, C; sex only; A holds one female, B one male, C nobody; a female arrives (smoothing 0.5).

    Level distributions (female, male) and J(p, q) = (p1 - q1) ln(p1 q2 / (q1 p2)) for two levels:
    to A: A (5/6, 1/6), B (1/4, 3/4), C (1/2, 1/2): J_AB = 7/12 ln 15, J_AC = 1/3 ln 5, J_BC = 1/4 ln 3;
    to B: A (3/4, 1/4), B (1/2, 1/2), C (1/2, 1/2): J_AB = J_AC = 1/4 ln 3, J_BC = 0;
    to C: A (3/4, 1/4), B (1/4, 3/4), C (3/4, 1/4): J_AB = ln 3, J_AC = 0, J_BC = ln 3.
    """
    config = MinimizationConfig(arms=("A", "B", "C"), factors=(SEX,), measure="kl", kl_smoothing=0.5)
    m = Minimization(config)
    m.record((0,), "A")
    m.record((1,), "B")
    proposal = m.propose({"sex": "female"})
    log = math.log
    expected = (7 / 12 * log(15) + log(5) / 3 + log(3) / 4, log(3) / 2, 2 * log(3))
    assert proposal.scores == pytest.approx(expected, abs=1e-12)
    # the trial's coin: the minimizing arm 0.8, the others 0.1 each (Xiao et al.'s P_k for three arms)
    assert proposal.probabilities == pytest.approx((0.1, 0.8, 0.1))


def test_kl_weights_scale_and_ratios_do_not_enter_the_divergence():
    base = MinimizationConfig(arms=("A", "B", "C"), factors=(SEX,), measure="kl")
    counts = np.zeros((1, 1, 2, 3), dtype=np.int64)
    counts[0, 0, 0, 0] = counts[0, 0, 1, 1] = 1
    scores = imbalance_scores(base, counts, np.array([[0]]))[0]
    heavy = dataclasses.replace(base, factors=(dataclasses.replace(SEX, weight=2.5),))
    assert imbalance_scores(heavy, counts, np.array([[0]]))[0] == pytest.approx(2.5 * scores)
    ratio = dataclasses.replace(base, ratios=(2, 1, 1))   # KL compares distributions, not sizes
    assert imbalance_scores(ratio, counts, np.array([[0]]))[0] == pytest.approx(scores)


# ----------------------------------------------------------------------------- arm-size rule
def test_arm_size_rule_by_hand():
    """Xiao et al.: sizes differing by D(n) = 4 or more send the newcomer to the smallest arm with
    p_D(n) = 0.9; the rest of that coin (0.05 per other arm) falls through to the KL coin."""
    config = small(max_arm_difference=4, p_smaller_arm=0.9)
    scores = np.array([[1.0, 0.0, 2.0]])                       # KL coin alone: (0.1, 0.8, 0.1)
    below = allocation_probabilities(config, scores, 10, arm_totals=np.array([[4, 1, 1]]))
    assert below[0] == pytest.approx((0.1, 0.8, 0.1))          # a difference of 3: no rule
    one = allocation_probabilities(config, scores, 10, arm_totals=np.array([[5, 3, 1]]))
    assert one[0] == pytest.approx((0.1 * 0.1, 0.1 * 0.8, 0.9 + 0.1 * 0.1))
    # B and C tie as smallest: Q = 0.9 + 0.05 shared by both, the KL coin gets 1 - Q = 0.05
    two = allocation_probabilities(config, scores, 10, arm_totals=np.array([[5, 1, 1]]))
    assert two[0] == pytest.approx((0.05 * 0.1, 0.475 + 0.05 * 0.8, 0.475 + 0.05 * 0.1))
    assert two.sum() == pytest.approx(1.0)


def test_arm_size_rule_uses_ratio_adjusted_sizes_and_is_never_skipped():
    config = small(ratios=(2, 1, 1), max_arm_difference=4, p_smaller_arm=1.0)
    scores = np.array([[0.0, 1.0, 2.0]])
    # A 8 of ratio 2 is 4 per unit: no difference with B and C at 4
    assert allocation_probabilities(config, scores, 12, arm_totals=np.array([[8, 4, 4]]))[0] == pytest.approx(
        (0.8, 0.1, 0.1))
    assert allocation_probabilities(config, scores, 12, arm_totals=np.array([[16, 4, 8]]))[0] == pytest.approx(
        (0, 1, 0))
    with pytest.raises(ValueError, match="arm_totals"):
        allocation_probabilities(config, scores, 12)


def test_the_arm_size_rule_stops_kl_from_drifting():
    """Regression: KL on within-arm distributions alone lets arm sizes drift apart (a newcomer moves
    a big arm's distribution least); with the rule the trial's config keeps them close."""
    from prt.trial.randomization_simulation import compare_schemes

    drift = compare_schemes(dataclasses.replace(TRIAL_CONFIG, max_arm_difference=None), 151, 60, seed=5,
                            schemes=("minimization",))["minimization"]
    kept = compare_schemes(TRIAL_CONFIG, 151, 60, seed=5, schemes=("minimization",))["minimization"]
    assert drift.arm_range_mean > 10
    assert kept.arm_range_mean < 4 and kept.marginal_max_mean < 5


def test_trial_config_is_the_cited_kl_method():
    assert TRIAL_CONFIG.measure == "kl" and TRIAL_CONFIG.p_preferred == 0.8
    assert (TRIAL_CONFIG.max_arm_difference, TRIAL_CONFIG.p_smaller_arm) == (4, 0.9)
    age, sex, pain, opioid = TRIAL_CONFIG.factors
    assert pain.bounds == outcome_range("pain_intensity") and pain.source_field == "pain_avg_week"
    assert age.bounds == (0, 120) and sex.source_field == "sex"
    assert MinimizationConfig(arms=("a", "b"), factors=(SEX,)).measure == "kl"   # the defaults are the trial's
    assert load_config(None).to_dict()["measure"] == "kl"


# ----------------------------------------------------------------------------- factor values
@pytest.mark.parametrize("value", ["4_5", "1e1", "inf", "nan", "\u0664\u0665", "45 years", "", True, None,
                                   float("inf")])
def test_numbers_are_plain_decimals(value):
    with pytest.raises(InputError, match="'p9'"):
        TRIAL_CONFIG.factors[0].level_of(value, "p9")


@pytest.mark.parametrize("text, number", [("45", 45.0), (" 45 ", 45.0), ("6.5", 6.5), ("-0", 0.0), (".5", 0.5),
                                          (7, 7.0), (7.25, 7.25)])
def test_plain_decimals_parse(text, number):
    assert parse_number(text, "x") == number


def test_out_of_range_factors_are_errors_without_the_value():
    age, _, pain, _ = TRIAL_CONFIG.factors
    with pytest.raises(InputError, match="'p9', factor 'age': outside the factor's range 0-120") as exc:
        age.level_of("200", "p9")
    assert "200" not in str(exc.value)
    with pytest.raises(InputError, match="'pain'.*0-10"):
        pain.level_of(15, "p9")
    assert pain.level_of(10, "p9") == 3 and age.level_of(0, "p9") == 0


def test_factor_values_come_from_the_screening_record():
    record = {"age": 50, "sex": "female", "pain_avg_week": 5, "opioid": "no"}
    assert TRIAL_CONFIG.factor_values("p1", record) == {"age": 50, "sex": "female", "pain": 5, "opioid": "no"}
    # a value given must agree (numbers compare as numbers); it fills a factor the record lacks
    assert TRIAL_CONFIG.factor_values("p1", record, {"age": "50.0", "sex": " female "})["age"] == 50
    partial = {"age": 50, "pain_avg_week": 5.5}
    assert TRIAL_CONFIG.factor_values("p1", partial, {"sex": "male", "opioid": "yes"}) == {
        "age": 50, "sex": "male", "pain": 5.5, "opioid": "yes"}
    for name, value in (("age", "200"), ("age", "51"), ("sex", "male"), ("pain", "15")):
        with pytest.raises(InputError, match=f"'p1', factor '{name}'") as exc:
            TRIAL_CONFIG.factor_values("p1", record, {name: value})
        assert value not in str(exc.value)
    with pytest.raises(InputError, match="'p1', factor 'opioid': no value"):
        TRIAL_CONFIG.factor_values("p1", partial, {"sex": "male"})
    with pytest.raises(InputError, match="unknown factor.*weight"):
        TRIAL_CONFIG.factor_values("p1", record, {"weight": "80"})


def test_parse_factor_args():
    assert parse_factor_args(["age=45", " sex = female ", "note=a=b"]) == {"age": "45", "sex": "female",
                                                                          "note": "a=b"}
    with pytest.raises(InputError, match="NAME=VALUE"):
        parse_factor_args(["age"])
    with pytest.raises(InputError, match="NAME=VALUE"):
        parse_factor_args(["=45"])
    with pytest.raises(InputError, match="'age' given twice"):
        parse_factor_args(["age=45", "age=46"])


@settings(max_examples=200, deadline=None)
@given(args=st.lists(st.text(max_size=12), max_size=6),
       record=st.dictionaries(st.sampled_from(["age", "sex", "pain_avg_week", "opioid", "x"]),
                              st.one_of(st.none(), st.booleans(), st.integers(-300, 300),
                                        st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=8))))
def test_factor_input_surface_fuzz(args, record):
    """Whatever the command line and screening record hold: a checked mapping or an InputError."""
    try:
        values = TRIAL_CONFIG.factor_values("p", record, parse_factor_args(args))
    except InputError:
        return
    assert TRIAL_CONFIG.levels_of(values, "p")


def test_config_files_are_strict(tmp_path):
    path = tmp_path / "m.yaml"
    path.write_text("arms: [a, b]\nfactors:\n  - {name: sex, levels: [f, m], colour: red}\n")
    with pytest.raises(InputError, match="factor 1: unknown key.*colour"):
        load_config(path)
    path.write_text("arms: [a, b]\narms: [c, d]\nfactors: [{name: sex, levels: [f, m]}]\n")
    with pytest.raises(InputError, match="more than once"):
        load_config(path)
    path.write_text("arms: [a, b]\nfactors: [{name: age, levels: [y, o], cuts: [40], bounds: [0]}]\n")
    with pytest.raises(InputError, match="bounds"):
        load_config(path)
    path.write_text("arms: [a, b]\nmax_arm_difference: null\nfactors: [{name: sex, levels: [f, m]}]\n")
    assert load_config(path).max_arm_difference is None
    with pytest.raises(InputError, match="max_arm_difference"):
        small(max_arm_difference=0)
    with pytest.raises(InputError, match="p_smaller_arm"):
        small(p_smaller_arm=1.5)


@pytest.mark.parametrize(("spec", "message"), [
    # issue 12 round 2: each of these was accepted silently or raised a traceback
    ({"arms": "prt", "factors": [{"name": "sex", "levels": ["female", "male"]}]}, "arms must be a list of names"),
    ({"arms": ["a", "b"], "factors": [{"name": "opioid", "levels": [True, False]}]}, r"levels\[0\] is true/false"),
    ({"arms": ["a", "b"], "factors": [{"name": "sex", "levels": "fm"}]}, "levels must be a list of names"),
    ({"arms": ["a", "b"], "factors": [{"name": None, "levels": ["f", "m"]}]}, "factor 1 name must be a name"),
    ({"arms": ["a", "b"], "factors": [{"name": "s", "levels": ["f", "m"], "weight": 10 ** 400}]}, "finite number"),
    ({"arms": ["a", "b"], "factors": [{"name": "s", "levels": ["f", "m"]}], "p_preferred": 10 ** 400}, "finite number"),
])
def test_config_files_are_read_strictly(spec, message):
    with pytest.raises(InputError, match=message):
        MinimizationConfig.from_dict(spec, "m.yaml")


def test_a_huge_integer_answer_is_an_input_error_not_a_traceback():
    """A screening log is JSON: an age of 10**400 reached float() as an int (OverflowError)."""
    with pytest.raises(InputError, match="finite number"):
        parse_number(10 ** 400, "record 'p1', field 'age'")
    with pytest.raises(InputError, match="'age'"):
        TRIAL_CONFIG.factor_values("p1", {"age": 10 ** 400, "sex": "female", "pain_avg_week": 5, "opioid": "no"})
