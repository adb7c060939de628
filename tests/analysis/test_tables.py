"""Table 1 and Table 2: right rows and columns, numbers formatted as documented, known answers.

Also home of the small synthetic trial and results dict the report and figure tests share
(numbers from Ashar et al., JAMA Psychiatry 2022, so the rendered report looks realistic).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from hypothesis import given, strategies as st

from prt.analysis import tables
from prt.analysis.tables import (
    TABLE1_COLUMNS,
    fmt_ci,
    fmt_count,
    fmt_mean_sd,
    fmt_number,
    fmt_p,
    table1,
    table2,
    table2_columns,
)
from prt.data import ARMS, TrialData, read_trial
from tests.factories import make_trial

TIMES = ("eligibility", "pre", "post", "1mo", "2mo", "3mo", "6mo", "12mo")


# ------------------------------------------------------------------------------------ samples
def sample_trial(per_arm: int = 12, seed: int = 7) -> TrialData:
    """A small synthetic trial: pain falls most with PRT; some visits missed; ids look secret."""
    return make_trial(per_arm, seed, follow_ups=TIMES[2:], dropout=0.12, id_format="SECRET-{arm}-{i:03d}",
                      covariates=True)


def _g(outcome, timepoint, comparison, g, se, p):
    return {"outcome": outcome, "timepoint": timepoint, "comparison": comparison, "g": g, "se": se,
            "ci_low": g - 1.96 * se, "ci_high": g + 1.96 * se, "p": p}


def sample_results() -> dict:
    """A results dict in the engine's shapes with the paper's headline numbers."""
    pain = {  # mean, sd, n per arm and timepoint (approximately the paper's Figure 2)
        "baseline": ((4.22, 1.21, 50), (4.16, 1.33, 51), (3.91, 1.24, 50)),
        "post": ((1.18, 1.19, 50), (2.84, 1.72, 48), (3.13, 1.56, 47)),
        "1mo": ((1.47, 1.36, 47), (2.65, 1.69, 46), (3.17, 1.49, 46)),
        "2mo": ((1.41, 1.43, 46), (2.71, 1.68, 45), (3.04, 1.55, 45)),
        "3mo": ((1.51, 1.39, 45), (2.62, 1.76, 45), (2.93, 1.48, 45)),
        "6mo": ((1.66, 1.55, 44), (2.67, 1.70, 44), (2.96, 1.60, 44)),
        "12mo": ((1.78, 1.58, 43), (2.71, 1.85, 44), (3.04, 1.77, 43)),
    }
    outcomes = []
    for t, cells in pain.items():
        for arm, (mean, sd, n) in zip(ARMS, cells):
            outcomes.append({"outcome": "pain_intensity", "timepoint": t, "group": arm, "mean": mean, "sd": sd, "n": n})
    for t, cells in {"baseline": ((23.6, 5.5, 50), (23.1, 4.6, 51), (23.9, 4.7, 50)),
                     "post": ((17.9, 4.6, 50), (22.4, 5.0, 48), (23.0, 5.1, 47))}.items():
        for arm, (mean, sd, n) in zip(ARMS, cells):
            outcomes.append({"outcome": "tsk11", "timepoint": t, "group": arm, "mean": mean, "sd": sd, "n": n})
    outcomes.append({"outcome": "odi", "timepoint": "post", "group": "prt", "mean": 12.1, "sd": None, "n": 50})
    effects = [
        _g("pain_intensity", "post", "prt_vs_placebo", -1.14, 0.24, 0.00001),
        _g("pain_intensity", "post", "prt_vs_usual_care", -1.75, 0.26, 0.00001),
        _g("pain_intensity", "post", "placebo_vs_usual_care", -0.41, 0.21, 0.049),
        _g("pain_intensity", "12mo", "prt_vs_placebo", -0.70, 0.22, 0.0012),
        _g("pain_intensity", "12mo", "prt_vs_usual_care", -1.05, 0.23, 0.00003),
        _g("pain_intensity", "12mo", "placebo_vs_usual_care", -0.30, 0.21, 0.16),
        _g("tsk11", "post", "prt_vs_placebo", -1.90, 0.25, 0.00001),
        _g("tsk11", "post", "prt_vs_usual_care", -1.67, 0.24, 0.00001),
        {"outcome": "odi", "timepoint": "post", "comparison": "prt_vs_placebo", "g": -0.62, "se": None,
         "ci_low": None, "ci_high": None, "p": None},
    ]
    responders = []
    for t, counts in {"post": ((33, 10, 5), (36, 17, 10), (42, 24, 16)),
                      "12mo": ((25, 12, 9), (30, 17, 13), (38, 26, 18))}.items():
        for criterion, ks in zip(("pain_free", "reduction_50", "reduction_30"), counts):
            for arm, k, n in zip(ARMS, ks, (50, 51, 50)):
                responders.append({"timepoint": t, "group": arm, "criterion": criterion, "responders": k, "randomized": n})
    return {
        "primary": [
            {"comparison": "prt_vs_placebo", "estimate": 1.51, "se": 0.249, "t": 6.06, "df": 137.63, "p": 1.2e-8},
            {"comparison": "prt_vs_usual_care", "estimate": 2.03, "se": 0.250, "t": 8.13, "df": 135.69, "p": 2.3e-13},
        ],
        "outcomes": outcomes,
        "effects": effects,
        "responders": responders,
        "correlations": [
            {"x": "tsk11", "y": "pain_intensity", "group": "prt", "r": 0.44, "df": 42, "p": 0.003},
            {"x": "pcs", "y": "pain_intensity", "group": "prt", "r": 0.31, "df": 41, "p": 0.04},
            {"x": "tsk11", "y": "pain_intensity", "group": "placebo", "r": 0.12, "df": 45, "p": 0.42},
        ],
        "mediation": [
            {"mediator": "tsk11", "outcome": "pain_intensity", "timepoint": "12mo", "comparison": "prt_vs_placebo",
             "indirect": -0.18, "ci_low": -0.33, "ci_high": -0.06, "p": 0.004, "a": -0.9, "b": 0.2,
             "c": -0.6, "c_prime": -0.42, "direction": "belief_mediates_pain"},
        ],
        "moderation": [
            {"moderator": "age", "term": "arm x age", "comparison": "prt_vs_placebo", "estimate": 0.01, "se": 0.02,
             "t": 0.5, "df": 139.2, "p": 0.62},
            {"moderator": "sex", "term": "arm x sex", "comparison": "prt_vs_placebo", "estimate": -0.2, "se": 0.5,
             "t": -0.4, "df": 139.0, "p": None},
        ],
        "meta": {"dataset": "custom", "n_randomized": 151, "bootstrap": 10000, "mediation_bootstrap": 5000,
                 "seed": 0, "version": "0.1.0", "layout": "flat"},
    }


def tiny_trial() -> TrialData:
    """Two participants per arm with hand-checkable values."""
    participants = pd.DataFrame({
        "participant": ["a1", "a2", "b1", "b2", "c1", "c2"],
        "arm": ["prt", "prt", "placebo", "placebo", "usual_care", "usual_care"],
        "age": [30.0, 40.0, 50.0, 50.0, 20.0, np.nan],
        "sex": ["female", "male", "female", "female", "male", None],
        "education": [2.0, 3.0, 3.0, 3.0, 2.0, 3.0],
        "current_opioid_use": [1.0, 0.0, 0.0, np.nan, 0.0, 0.0],
        "is_patient": [1.0] * 6,
    })
    measures = pd.DataFrame(
        [("a1", "eligibility", "pain_intensity", 4.0), ("a1", "pre", "pain_intensity", 6.0),
         ("a2", "pre", "pain_intensity", 3.0),
         ("b1", "eligibility", "pain_intensity", 5.0), ("b1", "pre", "pain_intensity", 5.0),
         ("b2", "eligibility", "pain_intensity", 2.0), ("b2", "pre", "pain_intensity", 3.0),
         ("c1", "eligibility", "pain_intensity", 7.0), ("c2", "pre", "pain_intensity", 8.0),
         ("a1", "post", "pain_intensity", 1.0)],
        columns=["participant", "timepoint", "outcome", "value"],
    )
    return TrialData.from_frames(participants, measures)


# ------------------------------------------------------------------------------------ formats
def test_formats_follow_the_documented_rules():
    assert fmt_number(1.005, 2) in {"1.00", "1.01"}  # binary rounding, but always 2 decimals
    assert fmt_number(-0.001) == "0.00"  # no negative zero
    assert fmt_number(None) == "-" and fmt_number(float("nan")) == "-"
    assert fmt_p(0.0004) == "<0.001" and fmt_p(0.003) == "0.003" and fmt_p(0.5) == "0.500"
    assert fmt_p(None) == "-"
    assert fmt_mean_sd(4.222, 1.214) == "4.22 (1.21)"
    assert fmt_mean_sd(None, 1.0) == "-"
    assert fmt_mean_sd(4.0, None) == "4.00 (-)"
    assert fmt_count(81, 151) == "81 (53.6%)"
    assert fmt_ci(-1.14, -1.6204, -0.6696) == "-1.14 [-1.62, -0.67]"
    assert fmt_ci(-0.62, None, None) == "-0.62"
    assert fmt_ci(None, 1, 2) == "-"


@given(st.floats(min_value=-1e6, max_value=1e6, allow_nan=False), st.integers(min_value=0, max_value=4))
def test_fmt_number_round_trips_within_half_a_unit(value, digits):
    text = fmt_number(value, digits)
    assert not text.startswith("-0") or float(text) != 0 or text == "-" or "." in text
    assert abs(float(text) - value) <= 0.5 * 10 ** -digits + 1e-9 * max(1.0, abs(value))
    assert len(text.split(".")[1]) == digits if digits else "." not in text


@given(st.floats(min_value=0, max_value=1, allow_nan=False))
def test_fmt_p_is_three_decimals_or_below_threshold(p):
    text = fmt_p(p)
    if p < 0.001:
        assert text == "<0.001"
    else:
        assert text == f"{p:.3f}"


# ------------------------------------------------------------------------------------ Table 1
def test_table1_known_answers_on_a_tiny_trial():
    frame = table1(tiny_trial())
    assert tuple(frame.columns) == TABLE1_COLUMNS
    rows = {(r.characteristic, r.level): r for r in frame.itertuples(index=False)}
    count = rows[("Participants randomized", "n")]
    assert (count.prt, count.placebo, count.usual_care, count.overall) == ("2", "2", "2", "6")
    age = rows[("Age, years", "mean (SD)")]
    assert age.prt == "35.00 (7.07)"  # mean 35, SD sqrt(50)
    assert age.placebo == "50.00 (0.00)"
    assert age.usual_care == "20.00 (-)"  # one value: SD undefined
    assert age.overall == "38.00 (13.04)"  # 30, 40, 50, 50, 20: SD sqrt(680 / 4)
    assert rows[("Age, years", "missing, n")].usual_care == "1"
    female = rows[("Sex", "Female, n (%)")]
    assert (female.prt, female.placebo, female.usual_care, female.overall) == (
        "1 (50.0%)", "2 (100.0%)", "0 (0.0%)", "3 (50.0%)")
    assert rows[("Sex", "missing, n (%)")].overall == "1 (16.7%)"
    # the Boulder codebook's labels; every declared level is counted, in the codebook's order
    education = [level for c, level in rows if c == "Education"]
    assert education == ["High school or less, n (%)", "Some college or vocational school, n (%)",
                         "College graduate, n (%)"]
    assert rows[("Education", "High school or less, n (%)")].overall == "0 (0.0%)"
    assert rows[("Education", "Some college or vocational school, n (%)")].overall == "2 (33.3%)"
    assert rows[("Education", "College graduate, n (%)")].overall == "4 (66.7%)"
    assert rows[("Current opioid use", "Yes, n (%)")].prt == "1 (50.0%)"  # stored 1/0, REDCap 1/2
    assert rows[("Current opioid use", "No, n (%)")].overall == "4 (66.7%)"
    assert rows[("Current opioid use", "missing, n (%)")].placebo == "1 (50.0%)"
    # baseline = mean of eligibility and pre, of those present (a1 5, a2 3, b1 5, b2 2.5, c1 7, c2 8)
    pain = rows[("Baseline Pain intensity (BPI average pain, 0-10)", "mean (SD)")]
    assert pain.prt == "4.00 (1.41)"
    assert pain.placebo == "3.75 (1.77)"
    assert pain.usual_care == "7.50 (0.71)"
    assert pain.overall == fmt_mean_sd(np.mean([5, 3, 5, 2.5, 7, 8]), np.std([5, 3, 5, 2.5, 7, 8], ddof=1))
    assert not any("is patient" in c.lower() for c in frame["characteristic"])  # constant column skipped


def test_table1_shows_other_fields_generically_and_skips_absent_ones():
    trial = sample_trial()
    frame = table1(trial)
    characteristics = list(dict.fromkeys(frame["characteristic"]))
    assert characteristics[:7] == [
        "Participants randomized", "Age, years", "Sex", "Education", "Employment status",
        "Back pain duration, years", "Current opioid use",
    ]
    assert "Baseline Tampa Scale of Kinesiophobia (TSK-11, 11-44)" in characteristics
    assert not any("ODI" in c or "Oswestry" in c for c in characteristics)  # not in the data
    # every percentage column sums to the arm's count for each categorical characteristic
    for name in ("Sex", "Education", "Employment status", "Current opioid use"):
        block = frame[frame["characteristic"] == name]
        for arm in ARMS:
            total = sum(int(cell.split(" ")[0]) for cell in block[arm])
            assert total == (trial.participants["arm"] == arm).sum()


def test_table1_on_the_shared_data_matches_the_paper(boulder_wide_path):
    frame = table1(read_trial(boulder_wide_path))
    rows = {(r.characteristic, r.level): r for r in frame.itertuples(index=False)}
    count = rows[("Participants randomized", "n")]
    assert (count.prt, count.placebo, count.usual_care, count.overall) == ("50", "51", "50", "151")
    # Ashar et al. 2022, Table 1: age 41.1 (15.6); 81 (54%) women; baseline pain 4.10 (1.26)
    assert rows[("Age, years", "mean (SD)")].overall == "41.07 (15.61)"
    assert rows[("Sex", "Female, n (%)")].overall == "81 (53.6%)"
    assert rows[("Baseline Pain intensity (BPI average pain, 0-10)", "mean (SD)")].overall == "4.10 (1.26)"
    assert ("Back pain duration, years", "mean (SD)") in rows
    assert ("Current opioid use", "Yes, n (%)") in rows
    # every coded field carries the codebook's labels and every number its unit: no "code N"
    assert not frame["level"].str.contains("code").any()
    assert rows[("Education", "College graduate, n (%)")].overall == "110 (72.8%)"
    assert rows[("Married or living as married", "Yes, n (%)")].overall == "81 (53.6%)"
    assert rows[("Ethnicity", "White (not of Hispanic origin), n (%)")].overall == "134 (88.7%)"
    assert ("Weight, pounds", "mean (SD)") in rows
    assert ("Subjective socioeconomic status, ladder rung (1-10)", "mean (SD)") in rows


def test_table1_labels_and_units_come_from_the_data_mapping():
    """A project's own codebook (a mapping file's choices and units) labels Table 1; undeclared
    codes fall back to ``code N``; sex "other" is a level of its own."""
    from prt.data import Mapping

    mapping = Mapping.from_dict({"base": "boulder", "choices": {"education": {2: "Some college", 3: "Degree"}},
                                 "units": {"weight": "kg"}}, "project.yaml")
    participants = tiny_trial().participants.assign(
        sex=["female", "other", "female", "female", "male", None],
        weight=[60.0, 70.0, 80.0, 90.0, 100.0, 110.0], site=[1.0, 2.0, 1.0, 2.0, 1.0, 2.0])
    trial = TrialData.from_frames(participants, tiny_trial().measures, mapping=mapping)
    frame = table1(trial)
    rows = {(r.characteristic, r.level): r for r in frame.itertuples(index=False)}
    assert [level for c, level in rows if c == "Education"] == ["Some college, n (%)", "Degree, n (%)"]
    assert rows[("Sex", "Other, n (%)")].prt == "1 (50.0%)"
    assert rows[("Weight, kg", "mean (SD)")].overall == "85.00 (18.71)"
    assert [level for c, level in rows if c == "Site"] == ["code 1, n (%)", "code 2, n (%)"]


# ------------------------------------------------------------------------------------ Table 2
def test_table2_rows_columns_and_formats():
    frame = table2(sample_results())
    assert list(frame.columns) == table2_columns()
    keys = list(zip(frame["outcome"], frame["timepoint"]))
    assert keys == [
        ("pain_intensity", t) for t in ("baseline", "post", "1mo", "2mo", "3mo", "6mo", "12mo")
    ] + [("odi", "post"), ("tsk11", "baseline"), ("tsk11", "post")]  # paper's outcome order
    row = frame.set_index(["outcome", "timepoint"]).loc[("pain_intensity", "post")]
    assert row["measure"] == "Pain intensity (BPI average pain, 0-10)"
    assert row["prt_mean_sd"] == "1.18 (1.19)" and row["prt_n"] == "50"
    assert row["placebo_n"] == "48"
    assert row["prt_vs_placebo_g_ci"] == "-1.14 [-1.61, -0.67]"
    assert row["prt_vs_placebo_p"] == "<0.001"
    assert row["placebo_vs_usual_care_p"] == "0.049"
    baseline = frame.set_index(["outcome", "timepoint"]).loc[("pain_intensity", "baseline")]
    assert baseline["prt_vs_placebo_g_ci"] == "-" and baseline["prt_vs_placebo_p"] == "-"
    odi = frame.set_index(["outcome", "timepoint"]).loc[("odi", "post")]
    assert odi["prt_mean_sd"] == "12.10 (-)"  # SD None
    assert odi["placebo_mean_sd"] == "-" and odi["placebo_n"] == "-"  # no record
    assert odi["prt_vs_placebo_g_ci"] == "-0.62" and odi["prt_vs_placebo_p"] == "-"


def test_table2_of_empty_results_has_the_columns_and_no_rows():
    for results in ({}, {"outcomes": [], "effects": []}, {"outcomes": None}):
        frame = table2(results)
        assert list(frame.columns) == table2_columns()
        assert frame.empty


def test_other_tables_render_none_as_dash():
    results = sample_results()
    primary = tables.primary_table(results)
    assert list(primary["comparison"]) == ["PRT vs placebo", "PRT vs usual care"]
    assert list(primary["t"]) == ["6.06", "8.13"] and list(primary["df"]) == ["137.63", "135.69"]
    responders = tables.responders_table(results)
    post = responders[(responders["timepoint"] == "Posttreatment")
                      & (responders["criterion"] == tables.CRITERION_LABELS["pain_free"])].iloc[0]
    assert (post["prt"], post["placebo"], post["usual_care"]) == ("33/50 (66%)", "10/51 (20%)", "5/50 (10%)")
    moderation = tables.generic_table(results["moderation"])
    assert list(moderation.columns) == ["moderator", "term", "comparison", "estimate", "se", "t", "df", "p"]
    assert moderation.loc[1, "p"] == "-" and moderation.loc[0, "p"] == "0.620"
    assert moderation.loc[0, "comparison"] == "PRT vs placebo"


def test_label_helpers_fall_back_to_readable_names():
    assert tables.outcome_label("ceq") == "Expected improvement (CEQ, 0-100)"  # from the instrument YAML
    assert tables.outcome_label("week_3_rating") == "week 3 rating"
    assert tables.timepoint_label("week3") == "week3"
    assert tables.comparison_label("prt_vs_usual_care") == "PRT vs usual care"
    assert math.isnan(float("nan")) and tables.is_missing(float("nan")) and tables.is_missing(None)
    assert not tables.is_missing(0.0) and not tables.is_missing("x")


def test_table1_tabulates_few_text_categories_but_never_free_text():
    from prt.data import TrialData

    participants = pd.concat([tiny_trial().participants] * 2)
    participants.index = pd.Index([f"p{i}" for i in range(12)], name="participant")
    participants["site"] = ["north", "south"] * 6
    participants["nickname"] = [f"name-{i}" for i in range(12)]  # free text: 12 distinct values
    frame = table1(TrialData.from_frames(participants, tiny_trial().measures.iloc[0:0]))
    rows = set(zip(frame["characteristic"], frame["level"]))
    assert ("Site", "north, n (%)") in rows and ("Site", "south, n (%)") in rows
    assert not frame["level"].str.contains("name-").any()
    assert not frame["characteristic"].str.contains("Nickname").any()
