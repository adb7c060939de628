"""Within-arm Pearson correlations of belief change with pain change."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from prt.analysis.correlations import belief_pain_correlations, pearson
from prt.data import TrialData, read_trial


def test_pearson_known_answer_and_missing_pairs():
    x = np.array([1.0, 2.0, 3.0, 4.0, np.nan])
    y = np.array([2.0, 4.0, 5.0, 4.0, 1.0])
    r, df, p = pearson(x, y)
    # by hand: x dev -1.5,-.5,.5,1.5; y dev -1.75,.25,1.25,.25 -> sxy 3.5, sxx 5, syy 4.75
    assert r == pytest.approx(3.5 / np.sqrt(5 * 4.75))
    assert df == 2 and 0 < p < 1
    assert math.isnan(pearson([1.0, 2.0], [3.0, 4.0])[0])
    assert math.isnan(pearson([1.0, 1.0, 1.0], [3.0, 4.0, 5.0])[0])


def test_records_per_arm_and_belief():
    participants = pd.DataFrame({"participant": [str(i) for i in range(8)],
                                 "arm": ["prt"] * 4 + ["placebo"] * 4, "age": 30.0, "sex": "male"})
    rows = []
    for i in range(8):
        rows += [(str(i), "pre", "pain_intensity", 5.0), (str(i), "post", "pain_intensity", 5.0 - i % 4),
                 (str(i), "pre", "tsk11", 30.0), (str(i), "post", "tsk11", 30.0 - 2 * (i % 4))]
    trial = TrialData.from_frames(participants, pd.DataFrame(rows, columns=["participant", "timepoint",
                                                                            "outcome", "value"]))
    records = belief_pain_correlations(trial)
    assert [(r["x"], r["group"]) for r in records] == [("tsk11", "prt"), ("tsk11", "placebo"),
                                                       ("tsk11", "usual_care")]
    assert records[0]["r"] == pytest.approx(1.0) and records[0]["df"] == 2
    assert records[0]["y"] == "pain_intensity"
    assert math.isnan(records[2]["r"])


def test_published_tsk11_correlation(boulder_wide_path):
    records = belief_pain_correlations(read_trial(boulder_wide_path))
    rec = next(r for r in records if r["x"] == "tsk11" and r["group"] == "prt")
    assert (round(rec["r"], 2), rec["df"], round(rec["p"], 3)) == (0.44, 42, 0.003)
    assert {r["x"] for r in records} == {"tsk11", "pcs", "sopa_emotion"}
