"""The attribution analysis: known answers on a synthetic trial, and the study's numbers on the
shared data (protocol notes "Pain attributions": PRT 7.3% -> 53.8%, placebo 10.5% -> 9.8%,
usual care 9.3% -> 6.4%; Hedges g of the change about 1.95 vs placebo and 2.07 vs usual care)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from prt.analysis.effects import hedges_g
from prt.attribution.analysis import (
    SCORE,
    attribution_results,
    category_shares,
    codes_from,
    compare_codings,
    effects,
    mediation,
    pain_correlations,
    regression,
    score_table,
    scores,
    shares,
)
from prt.attribution.answers import answers_from_trial
from prt.errors import InputError


@pytest.fixture(scope="module")
def small(small_trial):
    answers = answers_from_trial(small_trial, require_categories=True)
    return small_trial, codes_from(answers)


def test_scores_count_mind_brain_answers_and_need_all_three():
    codes = pd.DataFrame({"participant": ["1"] * 5, "timepoint": ["pre"] * 3 + ["post"] * 2,
                          "slot": [1, 2, 3, 1, 2],
                          "category": ["stress", "brain", "injury", "psychological", "age"]})
    table = scores(codes).set_index("timepoint")
    assert table.loc["pre", SCORE] == 2 and table.loc["pre", "answers"] == 3
    assert np.isnan(table.loc["post", SCORE])  # two answers only: no score (the study's rule)


def test_shares_known_answers(small):
    trial, codes = small
    got = shares(trial, codes).set_index(["arm", "timepoint"])
    assert got.loc[("prt", "pre"), "share_mind_brain"] == 0
    assert got.loc[("prt", "post"), "share_mind_brain"] == pytest.approx(19 / 30)
    assert got.loc[("placebo", "post"), "share_mind_brain"] == pytest.approx(1 / 30)
    assert got.loc[("usual_care", "post"), "share_mind_brain"] == 0
    assert got.loc[("prt", "post"), "participants_any"] == 10 and got.loc[("placebo", "post"), "participants_any"] == 1
    assert (got["n"] == 10).all()


def test_category_shares_sum_to_one_per_bar(small):
    trial, codes = small
    table = category_shares(trial, codes)
    assert np.allclose(table.groupby(["arm", "timepoint"])["share"].sum(), 1.0)
    assert set(table["category"]) == set(__import__("prt.attribution.scheme", fromlist=["x"]).SCHEME.categories_12)
    assert len(category_shares(trial, codes, merged=False)["category"].unique()) == 17


def test_effects_are_the_engines_hedges_g_of_the_change(small):
    trial, codes = small
    table = score_table(trial, codes)
    got = effects(trial, codes, n_resamples=200, seed=1).set_index("comparison")
    for comparison, first, second in (("prt_vs_placebo", "prt", "placebo"), ("prt_vs_usual_care", "prt", "usual_care")):
        x1 = table.loc[table["arm"] == first, "change"].dropna().to_numpy()
        x2 = table.loc[table["arm"] == second, "change"].dropna().to_numpy()
        assert got.loc[comparison, "g"] == pytest.approx(float(hedges_g(x1, x2)))
        assert got.loc[comparison, "g"] > 1 and got.loc[comparison, "ci_low"] < got.loc[comparison, "g"]
    assert (got["n1"] == 10).all()


def test_regression_recovers_a_known_arm_effect(small):
    trial, codes = small
    table = regression(trial, codes).set_index("term")
    # PRT rose by 1-3, controls by 0 (one placebo participant by 1): both arm terms strongly negative
    assert table.loc["placebo", "estimate"] < -1.5 and table.loc["usual_care", "estimate"] < -1.5
    assert table.loc["placebo", "p"] < 1e-4 and table.loc["placebo", "n"] == 30
    assert table.loc["placebo", "df"] == 30 - 5


def test_correlations_and_mediation_run_on_the_score(small):
    trial, codes = small
    corr = pain_correlations(trial, codes)
    assert set(corr["group"]) == {"prt", "placebo", "usual_care"} and (corr["x"] == SCORE).all()
    med = mediation(trial, codes, n_resamples=200)
    assert set(med["comparison"]) == {"prt_vs_placebo", "prt_vs_usual_care", "prt_vs_controls"}
    assert (med["timepoint"] == "12mo").all() and (med["direction"] == "belief_mediates_pain").all()
    assert med.set_index("comparison").loc["prt_vs_controls", "n"] == 30


def test_results_are_plain_json(small):
    trial, codes = small
    results = attribution_results(trial, codes, bootstrap=100, mediation_bootstrap=50)
    text = json.dumps(results, allow_nan=False)
    assert {"scores", "shares", "categories", "effects", "regression", "correlations", "mediation", "meta"} <= set(results)
    assert "NaN" not in text and results["meta"]["n_with_both"] == 30


def test_codes_for_participants_outside_the_trial_are_refused(small):
    trial, codes = small
    stranger = codes.copy()
    stranger.loc[0, "participant"] = "999"
    with pytest.raises(InputError, match="record 999"):
        effects(trial, stranger, n_resamples=10)


@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")  # placebo vs usual care: all changes 0
def test_compare_codings_puts_codings_side_by_side(small):
    trial, codes = small
    flipped = codes.assign(category=codes["category"].replace({"brain": "injury"}))
    table = compare_codings(trial, {"human": codes, "other": flipped}, bootstrap=50)
    assert list(table.columns) == ["human", "other"]
    assert table.loc["share prt post", "human"] > table.loc["share prt post", "other"]


# ---------------------------------------------------------------------------- the shared data
@pytest.fixture(scope="module")
def boulder(boulder_wide_path):
    from prt.attribution.answers import read_answers

    answers, trial = read_answers(boulder_wide_path, require_categories=True)
    return trial, answers


@pytest.mark.shared_data
def test_the_studys_shares_from_the_human_codes(boulder):
    trial, answers = boulder
    got = shares(trial, codes_from(answers)).set_index(["arm", "timepoint"])
    expected = {("prt", "pre"): 7.3, ("prt", "post"): 53.8, ("placebo", "pre"): 10.5,
                ("placebo", "post"): 9.8, ("usual_care", "pre"): 9.3, ("usual_care", "post"): 6.4}
    for key, percent in expected.items():
        assert round(100 * got.loc[key, "share_mind_brain"], 1) == percent, key
    assert got.xs("pre", level="timepoint")["n"].tolist() == [50, 51, 50]  # 151 pretreatment
    assert got.xs("post", level="timepoint")["n"].sum() == 135


@pytest.mark.shared_data
def test_the_studys_effect_sizes_from_the_human_codes(boulder):
    trial, answers = boulder
    got = effects(trial, codes_from(answers), n_resamples=2000).set_index("comparison")
    assert round(got.loc["prt_vs_placebo", "g"], 2) == 1.95
    assert round(got.loc["prt_vs_usual_care", "g"], 2) == 2.07
    assert got.loc["prt_vs_placebo", "ci_low"] > 1


@pytest.mark.shared_data
def test_reattribution_goes_with_pain_relief_within_prt(boulder):
    trial, answers = boulder
    corr = pain_correlations(trial, codes_from(answers)).set_index("group")
    assert -0.4 < corr.loc["prt", "r"] < -0.2  # "r about -0.3" (protocol notes)
    reg = regression(trial, codes_from(answers)).set_index("term")
    assert reg.loc["placebo", "estimate"] < -1 and reg.loc["usual_care", "p"] < 1e-10
