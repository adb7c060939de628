"""The whole engine: output contract, published figures, identical results across layouts."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from prt.analysis.engine import jsonable, primary_frame, run_analysis
from prt.data import ARMS, OUTCOMES, TrialData, read_trial, write_redcap, write_tidy
from prt.errors import InputError

TIMEPOINT_NAMES = {"baseline", "pre", "post", "1mo", "2mo", "3mo", "6mo", "12mo"}
COMPARISONS = {"prt_vs_placebo", "prt_vs_usual_care", "placebo_vs_usual_care"}


def synthetic_trial(seed=0, n=20) -> TrialData:
    rng = np.random.default_rng(seed)
    ids = [str(i + 1) for i in range(3 * n)]
    arms = np.repeat(list(ARMS), n)
    participants = pd.DataFrame({"participant": ids, "arm": arms, "age": rng.uniform(20, 70, 3 * n),
                                 "sex": rng.choice(["male", "female"], 3 * n)})
    effect = {"prt": 3.0, "placebo": 1.0, "usual_care": 0.3}
    rows = []
    for pid, arm in zip(ids, arms):
        base = rng.normal(6, 1)
        fear = rng.normal(30, 4)
        for t in ("eligibility", "pre"):
            rows += [(pid, t, "pain_intensity", base + rng.normal(0, 0.3)),
                     (pid, t, "tsk11", fear + rng.normal(0, 1)), (pid, t, "odi", 30 + rng.normal(0, 5))]
        for t in ("post", "1mo", "12mo"):
            if rng.random() < 0.1:
                continue
            rows += [(pid, t, "pain_intensity", base - effect[arm] + rng.normal(0, 1)),
                     (pid, t, "tsk11", fear - 2 * effect[arm] + rng.normal(0, 2)),
                     (pid, t, "odi", 30 - 4 * effect[arm] + rng.normal(0, 5))]
    measures = pd.DataFrame(rows, columns=["participant", "timepoint", "outcome", "value"])
    return TrialData.from_frames(participants, measures)


@pytest.fixture(scope="module")
def small_results():
    return run_analysis(synthetic_trial(), bootstrap=300, mediation_bootstrap=200, seed=1)


def test_output_contract(small_results):
    r = small_results
    assert set(r) == {"primary", "outcomes", "effects", "responders", "correlations", "mediation",
                      "moderation", "meta"}
    assert [p["comparison"] for p in r["primary"]] == ["prt_vs_placebo", "prt_vs_usual_care"]
    for p in r["primary"]:
        assert {"comparison", "estimate", "se", "t", "df", "p"} <= set(p) and p["t"] > 0
    for o in r["outcomes"]:
        assert {"outcome", "timepoint", "group", "mean", "sd", "n"} <= set(o)
        assert o["outcome"] in OUTCOMES and o["timepoint"] in TIMEPOINT_NAMES and o["group"] in ARMS
    assert {e["comparison"] for e in r["effects"]} == COMPARISONS
    for e in r["effects"]:
        assert {"outcome", "timepoint", "comparison", "g", "se", "ci_low", "ci_high", "p"} <= set(e)
        assert e["timepoint"] in TIMEPOINT_NAMES
    for x in r["responders"]:
        assert x["criterion"] in {"reduction_30", "reduction_50", "pain_free"} and x["randomized"] == 20
    assert all(c["y"] == "pain_intensity" for c in r["correlations"])
    for m in r["mediation"]:
        assert {"mediator", "outcome", "timepoint", "comparison", "indirect", "ci_low", "ci_high", "p"} <= set(m)
    assert {m["moderator"] for m in r["moderation"]} == {"age", "sex"}
    assert r["meta"] == {"dataset": "boulder-back-pain-study", "n_randomized": 60, "bootstrap": 300,
                         "mediation_bootstrap": 200, "seed": 1, "version": r["meta"]["version"],
                         "layout": "frames"}


def test_json_is_valid_with_nan_as_null():
    text = json.dumps(jsonable({"a": [float("nan"), np.float64(1.5), np.int64(2)], "b": float("inf")}),
                      allow_nan=False)
    assert json.loads(text) == {"a": [None, 1.5, 2], "b": None}


def test_results_are_reproducible_and_seed_dependent(small_results):
    again = run_analysis(synthetic_trial(), bootstrap=300, mediation_bootstrap=200, seed=1)
    assert jsonable(again) == jsonable(small_results)
    other = run_analysis(synthetic_trial(), bootstrap=300, mediation_bootstrap=200, seed=2)
    assert other["effects"][0]["g"] == small_results["effects"][0]["g"]
    assert other["effects"][0]["se"] != small_results["effects"][0]["se"]


def test_progress_bar_goes_to_stderr_only_when_asked(capsys):
    run_analysis(synthetic_trial(), bootstrap=20, mediation_bootstrap=20, progress=False)
    assert capsys.readouterr().err == ""
    run_analysis(synthetic_trial(), bootstrap=20, mediation_bootstrap=20, progress=True)
    captured = capsys.readouterr()
    assert "bootstrap" in captured.err and captured.out == ""


def test_without_post_pain_there_is_no_primary_model():
    trial = synthetic_trial()
    m = trial.measures
    keep = ~((m["outcome"] == "pain_intensity") & (m["timepoint"] == "post"))
    result = run_analysis(TrialData.from_frames(trial.participants, m[keep]), bootstrap=10, mediation_bootstrap=0)
    assert result["primary"] == []
    assert not [e for e in result["effects"] if e["outcome"] == "pain_intensity" and e["timepoint"] == "post"]


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
    return run_analysis(boulder, bootstrap=2000, mediation_bootstrap=500, seed=0)


def test_primary_reproduces_the_paper(boulder_results):
    by = {p["comparison"]: p for p in boulder_results["primary"]}
    assert (round(by["prt_vs_placebo"]["t"], 2), round(by["prt_vs_placebo"]["df"], 2)) == (6.06, 137.63)
    assert (round(by["prt_vs_usual_care"]["t"], 2), round(by["prt_vs_usual_care"]["df"], 2)) == (8.13, 135.69)
    assert by["prt_vs_placebo"]["n_participants"] == 151


def test_trial_outputs(boulder_results):
    r = boulder_results
    assert r["meta"]["n_randomized"] == 151 and r["meta"]["dataset"] == "boulder-back-pain-study"
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
        result = jsonable(run_analysis(trial, bootstrap=200, mediation_bootstrap=100, seed=3))
        assert result["meta"].pop("layout") == name
        runs[name] = result
    assert runs["flat"] == runs["long"] == runs["tidy"]


@pytest.mark.slow
def test_full_size_run(boulder):
    r = run_analysis(boulder)  # 10,000 and 5,000 resamples
    effect = {(e["outcome"], e["timepoint"], e["comparison"]): e for e in r["effects"]}
    assert abs(effect[("pain_intensity", "post", "prt_vs_placebo")]["se"] - 0.24) <= 0.03
    assert not any(math.isnan(m["p"]) for m in r["mediation"])
