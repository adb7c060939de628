"""The whole engine: output contract, published figures, identical results across layouts."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from prt.analysis.engine import jsonable, primary_frame, run_analysis
from prt.analysis.results import COLUMNS, AnalysisResults, load_results
from prt.data import ARMS, OUTCOMES, TrialData, read_trial, write_redcap, write_tidy
from prt.errors import AnalysisSkippedWarning
from tests.factories import make_trial
from prt.errors import InputError

TIMEPOINT_NAMES = {"baseline", "pre", "post", "1mo", "2mo", "3mo", "6mo", "12mo"}
COMPARISONS = {"prt_vs_placebo", "prt_vs_usual_care", "placebo_vs_usual_care"}


def synthetic_trial(seed=0, n=20) -> TrialData:
    return make_trial(n, seed, outcomes=("pain_intensity", "tsk11", "odi"), integer=False, dropout=0.1)


@pytest.fixture(scope="module")
def small_results():
    return run_analysis(synthetic_trial(), bootstrap=300, mediation_bootstrap=200, seed=1)


def test_output_contract(small_results):
    r = small_results
    assert isinstance(r, AnalysisResults)
    for name, columns in COLUMNS.items():  # every documented table with its documented columns
        assert list(getattr(r, name).columns) == list(columns), name
    assert list(r.primary["comparison"]) == ["prt_vs_placebo", "prt_vs_usual_care"]
    assert (r.primary["t"] > 0).all() and r.primary["converged"].all()
    assert set(r.outcomes["outcome"]) <= set(OUTCOMES) and set(r.outcomes["timepoint"]) <= TIMEPOINT_NAMES
    assert set(r.outcomes["group"]) == set(ARMS)
    assert set(r.effects["comparison"]) == COMPARISONS and set(r.effects["timepoint"]) <= TIMEPOINT_NAMES
    assert set(r.responders["criterion"]) == {"reduction_30", "reduction_50", "pain_free"}
    assert (r.responders["randomized"] == 20).all()
    assert (r.correlations["y"] == "pain_intensity").all()
    assert set(r.moderation["moderator"]) == {"age", "sex"}
    assert dict(r.meta) == {"dataset": "custom", "n_randomized": 60, "bootstrap": 300,
                            "mediation_bootstrap": 200, "seed": 1, "version": r.meta["version"],
                            "layout": "frames", "warnings": list(r.warnings)}
    assert r.primary_model is not None and r.primary_model.converged
    with pytest.raises(Exception):
        r.primary = None  # frozen


def test_json_round_trip_is_the_results_contract(small_results):
    data = json.loads(small_results.to_json())
    assert set(data) == set(COLUMNS) | {"meta"}
    for name, columns in COLUMNS.items():
        assert all(list(record) == list(columns) for record in data[name]), name
    back = AnalysisResults.from_dict(data)
    assert back.to_dict() == data


def test_results_files_are_read_back_strictly(small_results, tmp_path):
    path = tmp_path / "results.json"
    path.write_text(small_results.to_json())
    assert load_results(path).to_json() == small_results.to_json()
    data = json.loads(small_results.to_json())
    data["effects"][0]["surprise"] = 1
    path.write_text(json.dumps(data))
    with pytest.raises(InputError, match="effects.*surprise"):
        load_results(path)
    path.write_text('{"primary": [], "primary": []}')
    with pytest.raises(InputError, match="more than once"):
        load_results(path)
    assert all(isinstance(e["n1"], int) for e in data["effects"])  # counts stay integers


def test_pre_timepoint_is_reported_beside_baseline(small_results):
    """Issue 11: outcomes give the pretreatment assessment (timepoint pre) beside baseline."""
    pain = small_results.outcomes.query("outcome == 'pain_intensity'")
    assert {"baseline", "pre"} <= set(pain["timepoint"])
    trial = synthetic_trial()
    pre = trial.wide("pain_intensity", ["pre"])["pre"]
    prt_pre = pre[trial.participants["arm"] == "prt"]
    row = pain.query("timepoint == 'pre' and group == 'prt'").iloc[0]
    assert row["n"] == prt_pre.notna().sum() and row["mean"] == pytest.approx(prt_pre.mean())


def test_summary_reads_in_a_terminal(small_results):
    text = small_results.summary()
    first = small_results.primary.iloc[0]
    assert "PRT vs placebo" in text and f"{first['t']:.2f}" in text and f"{first['df']:.2f}" in text
    assert "Pretreatment" in text and "Hedges g" in text and "Responders" in text
    assert max(len(line) for line in text.splitlines()) <= 100
    assert "custom" in repr(small_results)


def test_json_is_valid_with_nan_as_null():
    text = json.dumps(jsonable({"a": [float("nan"), np.float64(1.5), np.int64(2)], "b": float("inf")}),
                      allow_nan=False)
    assert json.loads(text) == {"a": [None, 1.5, 2], "b": None}


def test_results_are_reproducible_and_seed_dependent(small_results):
    again = run_analysis(synthetic_trial(), bootstrap=300, mediation_bootstrap=200, seed=1)
    assert again.to_json() == small_results.to_json()
    other = run_analysis(synthetic_trial(), bootstrap=300, mediation_bootstrap=200, seed=2)
    assert other.effects["g"].iloc[0] == small_results.effects["g"].iloc[0]
    assert other.effects["se"].iloc[0] != small_results.effects["se"].iloc[0]


def test_progress_callback_counts_every_group_and_model(capsys):
    calls = []
    r = run_analysis(synthetic_trial(), bootstrap=20, mediation_bootstrap=20, progress=lambda d, t: calls.append((d, t)))
    total = calls[0][1]
    assert [d for d, _ in calls] == list(range(1, total + 1)) and {t for _, t in calls} == {total}
    assert total >= len(r.mediation) + 1
    assert capsys.readouterr() == ("", "")  # the engine itself prints nothing


def test_without_post_pain_there_is_no_primary_model():
    trial = synthetic_trial()
    m = trial.measures
    keep = ~((m["outcome"] == "pain_intensity") & (m["timepoint"] == "post"))
    with pytest.warns(AnalysisSkippedWarning, match="primary analysis skipped"):
        result = run_analysis(TrialData.from_frames(trial.participants, m[keep]), bootstrap=10, mediation_bootstrap=0)
    assert result.primary.empty and list(result.primary.columns) == list(COLUMNS["primary"])
    assert result.effects.query("outcome == 'pain_intensity' and timepoint == 'post'").empty
    assert any("primary analysis skipped" in w and "post" in w for w in result.warnings)
    assert any("primary analysis skipped" in w for w in result.meta["warnings"])


def test_gaps_are_warned_never_silent():
    """Issue 11: skipped analyses give a warning naming what was missing, not an empty list."""
    trial = synthetic_trial()
    p = trial.participants.copy()
    p.loc[p["arm"] == "usual_care", "sex"] = None  # usual care cannot enter the primary model
    with pytest.warns(AnalysisSkippedWarning) as record:
        result = run_analysis(TrialData.from_frames(p, trial.measures), bootstrap=10, mediation_bootstrap=0)
    messages = [str(w.message) for w in record]
    assert any("20 participant(s)" in m and "no male/female sex" in m for m in messages)
    assert any("arm usual_care" in m for m in messages)
    assert result.primary.empty


def test_primary_frame_keeps_everyone_with_any_data():
    trial = synthetic_trial()
    frame = primary_frame(trial)
    assert set(frame["time"]) == {"pre", "post"}
    assert frame["participant"].nunique() == 60
    assert len(frame) == trial.wide("pain_intensity", ["pre", "post"]).notna().to_numpy().sum()


def test_no_pain_outcome_is_an_input_error():
    trial = synthetic_trial()
    measures = trial.measures[trial.measures["outcome"] != "pain_intensity"]
    bad = TrialData.from_frames(trial.participants, measures)
    with pytest.raises(InputError, match="pain_intensity"):
        run_analysis(bad, bootstrap=10, mediation_bootstrap=10)


def test_no_baseline_is_an_input_error():
    trial = synthetic_trial()
    measures = trial.measures[~trial.measures["timepoint"].isin(["eligibility", "pre"])]
    with pytest.raises(InputError, match="baseline"):
        run_analysis(TrialData.from_frames(trial.participants, measures), bootstrap=10, mediation_bootstrap=10)


# ----------------------------------------------------------------------------- the trial's data
@pytest.fixture(scope="module")
def boulder(boulder_wide_path):
    return read_trial(boulder_wide_path)


@pytest.fixture(scope="module")
def boulder_results(boulder):
    return run_analysis(boulder, bootstrap=2000, mediation_bootstrap=500, seed=0).to_dict()


def test_primary_reproduces_the_paper(boulder_results):
    by = {p["comparison"]: p for p in boulder_results["primary"]}
    assert (round(by["prt_vs_placebo"]["t"], 2), round(by["prt_vs_placebo"]["df"], 2)) == (6.06, 137.63)
    assert (round(by["prt_vs_usual_care"]["t"], 2), round(by["prt_vs_usual_care"]["df"], 2)) == (8.13, 135.69)
    assert by["prt_vs_placebo"]["n_participants"] == 151


def test_trial_outputs(boulder_results):
    r = boulder_results
    assert r["meta"]["n_randomized"] == 151 and r["meta"]["dataset"] == "boulder-back-pain-study"
    assert r["meta"]["warnings"] == [] or all("correlation" in w or "Hedges" in w for w in r["meta"]["warnings"])
    pre = {(o["timepoint"], o["group"]): o["n"] for o in r["outcomes"] if o["outcome"] == "pain_intensity"}
    assert pre[("pre", "prt")] > 0 and pre[("baseline", "prt")] == 50
    effect = {(e["outcome"], e["timepoint"], e["comparison"]): e for e in r["effects"]}
    e = effect[("pain_intensity", "post", "prt_vs_placebo")]
    assert round(e["g"], 2) == -1.14 and abs(e["se"] - 0.24) <= 0.03 and e["ci_low"] < e["g"] < e["ci_high"]
    assert ("pcs", "1mo", "prt_vs_placebo") not in effect  # PCS measured at baseline and post only
    assert ("panas_positive", "post", "placebo_vs_usual_care") in effect
    assert len({(e["outcome"], e["timepoint"]) for e in r["effects"]}) == 9 * 6 + 3
    summary = {(o["outcome"], o["timepoint"], o["group"]): o for o in r["outcomes"]}
    assert summary[("pain_intensity", "baseline", "prt")]["n"] == 50
    assert summary[("pain_intensity", "post", "prt")]["n"] == 44
    assert len(r["mediation"]) == 50
    assert all(m["ci_low"] <= m["ci_high"] for m in r["mediation"])


def test_same_results_from_flat_long_and_tidy(boulder, tmp_path):
    write_redcap(boulder, tmp_path / "long.csv", layout="long")
    write_tidy(boulder, tmp_path / "tidy.csv")
    runs = {}
    for name, trial in (("flat", boulder), ("long", read_trial(tmp_path / "long.csv")),
                        ("tidy", read_trial(tmp_path / "tidy.csv"))):
        assert trial.layout == name
        result = run_analysis(trial, bootstrap=200, mediation_bootstrap=100, seed=3).to_dict()
        assert result["meta"].pop("layout") == name
        runs[name] = result
    assert runs["flat"] == runs["long"] == runs["tidy"]


@pytest.mark.slow
def test_full_size_run(boulder):
    r = run_analysis(boulder).to_dict()  # 10,000 and 5,000 resamples
    effect = {(e["outcome"], e["timepoint"], e["comparison"]): e for e in r["effects"]}
    assert abs(effect[("pain_intensity", "post", "prt_vs_placebo")]["se"] - 0.24) <= 0.03
    assert not any(math.isnan(m["p"]) for m in r["mediation"])


@given(st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
                    lambda c: st.lists(c, max_size=3) | st.dictionaries(st.sampled_from(
                        ["primary", "effects", "meta", "warnings", "g", "outcome", "n1", "x"]), c, max_size=4),
                    max_leaves=15))
@settings(max_examples=200, deadline=None)
def test_any_json_is_read_as_results_or_refused(value):
    """The results.json input surface: arbitrary JSON gives AnalysisResults or one InputError."""
    try:
        results = AnalysisResults.from_dict(value)
    except InputError:
        return
    assert set(results.to_dict()) == set(COLUMNS) | {"meta"}


def test_a_covariate_without_variation_skips_the_primary_model_with_a_note():
    """Round-2 finding: one sex for everyone failed the whole analysis instead of skipping the model."""
    trial = synthetic_trial()
    people = trial.participants.assign(sex="female")
    with pytest.warns(AnalysisSkippedWarning, match="same sex"):
        result = run_analysis(TrialData.from_frames(people, trial.measures), bootstrap=10, mediation_bootstrap=0)
    assert result.primary.empty and not result.effects.empty


def test_resample_counts_are_bounded():
    with pytest.raises(InputError, match="from 0 to 1,000,000"):
        run_analysis(synthetic_trial(), bootstrap=10**9)
