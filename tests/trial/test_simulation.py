"""Simulated trials: exact design, instrument grain, calibration reproduced, published effects."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st

from prt.data import ARMS, BOULDER_MAPPING, read_trial, write_redcap
from prt.errors import InputError
from prt.trial.simulation import (
    SCALES,
    Scale,
    arm_counts,
    check_output,
    expected_effect,
    latent_moments,
    load_calibration,
    simulate_trial,
)

FOLLOW = ["post", "1mo", "2mo", "3mo", "6mo", "12mo"]


def hedges_g(trial, outcome, timepoint, arm, control):
    """The paper's g: change from baseline (mean of eligibility and pre), pooled SD, small-sample J."""
    w = trial.wide(outcome)
    change = w[timepoint] - w[["eligibility", "pre"]].mean(axis=1, skipna=False)
    x = change[trial.arms == arm].dropna()
    y = change[trial.arms == control].dropna()
    n1, n2 = len(x), len(y)
    sp = np.sqrt(((n1 - 1) * x.var() + (n2 - 1) * y.var()) / (n1 + n2 - 2))
    return (x.mean() - y.mean()) / sp * (1 - 3 / (4 * (n1 + n2) - 9))


@pytest.fixture(scope="module")
def big():
    return simulate_trial(9000, seed=11)


def test_same_seed_same_trial_and_other_seed_differs():
    a, b, c = simulate_trial(60, seed=3), simulate_trial(60, seed=3), simulate_trial(60, seed=4)
    pd.testing.assert_frame_equal(a.measures, b.measures)
    pd.testing.assert_frame_equal(a.participants, b.participants)
    assert not a.measures["value"].equals(c.measures["value"])


def test_arms_are_an_exact_block():
    trial = simulate_trial(151, seed=1)
    counts = trial.arms.value_counts()
    assert counts.sum() == 151 and sorted(counts.tolist()) == [50, 50, 51]
    rng = np.random.default_rng(0)
    assert arm_counts(100, (2, 1, 1), rng).tolist() == [50, 25, 25]
    assert arm_counts(7, (1, 1, 1), rng).sum() == 7


@settings(max_examples=15, deadline=None)
@given(n=st.integers(3, 40), seed=st.integers(0, 2**32 - 1))
def test_every_score_lies_on_its_instrument_grid(n, seed):
    trial = simulate_trial(n, seed=seed)
    for outcome, rows in trial.measures.groupby("outcome"):
        scale = SCALES[outcome]
        v = rows["value"].to_numpy()
        assert v.min() >= scale.minimum and v.max() <= scale.maximum
        steps = (v - scale.minimum) / scale.grain
        np.testing.assert_allclose(steps, np.round(steps), atol=1e-8)
    # both pre-randomization assessments for everyone (baseline = their mean)
    pain = trial.wide("pain_intensity")
    assert pain[["eligibility", "pre"]].notna().all().all()
    assert trial.participants["sex"].isin(["male", "female"]).all()
    assert trial.participants["age"].between(21, 70).all()


def test_grains_odi_steps_of_two_pain_integers():
    assert Scale(0, 100, 2).snap(np.array([-3, 1.2, 3.1, 101])).tolist() == [0, 2, 4, 100]
    assert Scale(0, 10, 1).snap(np.array([-0.4, 4.5, 12])).tolist() == [0, 4, 10]


def test_scale_ranges_agree_with_the_instrument_definitions():
    instruments = pytest.importorskip("prt.instruments")
    checked = 0
    for inst_id in instruments.ids():
        inst = instruments.get(inst_id)
        for score, field in inst.data_fields.items():
            outcome = BOULDER_MAPPING.outcome_of(field)
            rng = inst.range_of(score)
            if outcome in SCALES and rng is not None:
                assert (SCALES[outcome].minimum, SCALES[outcome].maximum) == tuple(rng), outcome
                checked += 1
    assert checked >= 12


def test_monotone_attrition_never_returns():
    trial = simulate_trial(400, seed=5)
    seen = trial.wide("pain_intensity")[FOLLOW].notna().to_numpy()
    # once missing, missing at every later follow-up
    assert not np.any(~seen[:, :-1] & seen[:, 1:])


def test_observed_attrition_reproduces_the_trial_counts():
    cal = load_calibration()
    trial = simulate_trial(151, seed=8, attrition="observed")
    pain = trial.wide("pain_intensity")
    for arm in ARMS:
        size = int((trial.arms == arm).sum())
        for t in FOLLOW:
            want = round(cal["outcomes"]["pain_intensity"]["arms"][arm][t]["n"] / cal["arms"][arm] * size)
            assert int(pain.loc[trial.arms == arm, t].notna().sum()) == want


def test_latent_moments_undo_rounding_and_floor_clipping():
    # PRT pain at post: mean 1.18, SD 1.24 on 0-10 integers; the latent mean lies below it
    mu, sd = latent_moments("pain_intensity", 1.1818, 1.244)
    assert mu < 1.1818
    draws = SCALES["pain_intensity"].snap(np.random.default_rng(0).normal(mu, sd, 400_000))
    assert abs(draws.mean() - 1.1818) < 0.01 and abs(draws.std() - 1.244) < 0.01


def test_large_trial_reproduces_calibrated_means_and_sds(big):
    cal = load_calibration()
    for outcome in ("pain_intensity", "odi", "promis_depression", "pcs", "pgic"):
        spec = cal["outcomes"][outcome]
        w = big.wide(outcome, spec["timepoints"])
        for arm in ARMS:
            part = w[big.arms == arm]
            for t in spec["timepoints"]:
                cell = spec["arms"][arm][t]
                se = cell["sd"] / np.sqrt(part[t].notna().sum())
                assert abs(part[t].mean() - cell["mean"]) < 5 * se + 0.02 * cell["sd"], (outcome, arm, t)
                assert abs(part[t].std() / cell["sd"] - 1) < 0.06, (outcome, arm, t)


def test_large_trial_reproduces_correlations(big):
    cal = load_calibration()
    spec = cal["outcomes"]["pain_intensity"]
    w = big.wide("pain_intensity", spec["timepoints"])
    for arm in ARMS:
        r = w[big.arms == arm].corr().to_numpy()
        want = np.asarray(spec["correlation_by_arm"][arm])
        # rounding to integers attenuates correlations a little
        assert np.max(np.abs(r - want)) < 0.1, arm
    cross = cal["baseline_cross_correlation"]
    base = {o: big.wide(o)[["eligibility", "pre"]].mean(axis=1) for o in ("pain_intensity", "odi", "promis_anxiety")}
    z = pd.DataFrame(base).groupby(big.arms).transform(lambda s: (s - s.mean()) / s.std())
    got = z.corr()
    for a, b in (("pain_intensity", "odi"), ("odi", "promis_anxiety")):
        want = cross["matrix"][cross["outcomes"].index(a)][cross["outcomes"].index(b)]
        assert abs(got.loc[a, b] - want) < 0.07, (a, b)


def test_calibration_and_large_trial_give_the_published_effects(big):
    published = load_calibration()["published_effects"]["pain_intensity"]
    for t, effects in published.items():
        for comparison, g in effects.items():
            control = comparison.split("_vs_")[1]
            assert abs(expected_effect("pain_intensity", t, "prt", control) - g) < 0.08
            # the trial's g used completers, whose attrition was not random: within 0.12
            assert abs(hedges_g(big, "pain_intensity", t, "prt", control) - g) < 0.12, (t, comparison)


def test_engine_on_the_demo_trial_gives_effects_near_published():
    engine = pytest.importorskip("prt.analysis.engine")
    trial = simulate_trial(151, seed=2022)
    result = engine.run_analysis(trial, bootstrap=200, seed=1)
    effects = pd.DataFrame(result.effects if hasattr(result, "effects") else result["effects"])  # results object or dict
    pain = effects[effects["outcome"] == "pain_intensity"].set_index(["timepoint", "comparison"])["g"]
    for (t, comparison), g in {("post", "prt_vs_placebo"): -1.14, ("post", "prt_vs_usual_care"): -1.75}.items():
        assert abs(pain[(t, comparison)] - g) < 0.45  # about 2 SE of g at 50 per arm


def test_simulated_trial_round_trips_through_redcap_layouts(tmp_path):
    trial = simulate_trial(40, seed=9)
    for layout in ("flat", "long"):
        path = tmp_path / f"{layout}.csv"
        write_redcap(trial, path, layout=layout)
        back = read_trial(path)
        pd.testing.assert_frame_equal(back.measures, trial.measures)
        pd.testing.assert_frame_equal(back.participants, trial.participants, check_dtype=False)


def test_calibration_holds_aggregates_only():
    cal = load_calibration()
    assert set(cal) == {"provenance", "arms", "published_effects", "outcomes", "baseline_cross_correlation", "covariates"}
    assert cal["provenance"]["participants"] == 151 and len(cal["provenance"]["source_sha256"]) == 64
    for spec in cal["outcomes"].values():
        assert set(spec) <= {"timepoints", "arms", "correlation", "correlation_by_arm", "baseline"}


def test_calibration_equals_figures_derived_from_the_shared_data(boulder_wide_path):
    from prt.trial.calibration.derive import derive

    fresh = derive(boulder_wide_path)
    packaged = load_calibration()
    assert fresh["outcomes"] == packaged["outcomes"]
    assert fresh["covariates"] == packaged["covariates"]
    assert fresh["provenance"]["source_sha256"] == packaged["provenance"]["source_sha256"]
    # the published Table 2 figures for pain (Ashar et al. 2022): baseline and post means
    pain = packaged["outcomes"]["pain_intensity"]
    assert [round(pain["baseline"][a]["mean"], 2) for a in ARMS] == [4.22, 4.16, 3.91]
    assert [round(pain["arms"][a]["post"]["mean"], 2) for a in ARMS] == [1.18, 2.84, 3.13]
    assert [round(pain["arms"][a]["12mo"]["mean"], 2) for a in ARMS] == [1.51, 2.79, 3.00]


@pytest.mark.parametrize(
    "kwargs, words",
    [
        ({"n": 2}, "n:"),
        ({"n": 30, "attrition": "sometimes"}, "attrition"),
        ({"n": 30, "outcomes": ["nope"]}, "nope"),
        ({"n": 30, "ratio": (1, 1)}, "ratio"),
        ({"n": 30, "correlation": "none"}, "correlation"),
    ],
)
def test_bad_arguments_raise_input_error(kwargs, words):
    with pytest.raises(InputError, match=words):
        simulate_trial(**kwargs)


def test_scales_and_outcomes_come_from_the_vocabulary():
    from prt.trial.calibration.derive import SIMULATED_OUTCOMES
    from prt.vocabulary import OUTCOME_SCORES, outcome_ranges

    assert {o: (s.minimum, s.maximum) for o, s in SCALES.items()} == {o: outcome_ranges()[o] for o in SCALES}
    assert set(SIMULATED_OUTCOMES) == set(SCALES) == set(OUTCOME_SCORES)


def test_simulation_never_replaces_a_real_export(tmp_path):
    """Issue 12 round 2: ``prt simulate --out redcap_wide.csv`` replaced the trial's export with
    synthetic participants (rc 0). Only a previous simulation (its marker column) is replaced."""
    from prt.cli import main

    real = tmp_path / "redcap_wide.csv"
    real.write_text("id,group,age,gender,pain_avg_t1_arm_1\n1,1,34,2,6\n", encoding="utf-8")
    before = real.read_bytes()
    with pytest.raises(InputError, match="not a previous prt simulation"):
        check_output(real)
    assert main(["simulate", "--n", "12", "--seed", "1", "--out", str(real)]) == 2
    assert real.read_bytes() == before
    demo = tmp_path / "demo.csv"
    assert check_output(demo) == demo  # a new file
    assert main(["simulate", "--n", "12", "--seed", "1", "--out", str(demo)]) == 0
    assert main(["simulate", "--n", "12", "--seed", "2", "--out", str(demo), "--layout", "tidy"]) == 0  # its own


def test_a_trial_too_large_to_hold_is_refused():
    from prt.errors import InputError
    from prt.trial.simulation import simulate_trial

    with pytest.raises(InputError, match="from 3 to 1,000,000"):
        simulate_trial(100_000_000, seed=1)
