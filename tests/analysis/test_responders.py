"""Responders: >= 30% / >= 50% pain reduction from baseline and pain-free (0 or 1); missing = no."""

from __future__ import annotations

import numpy as np
import pandas as pd

from prt.analysis.responders import CRITERIA, responder_flags, responders
from prt.data import TrialData, read_trial


def test_flags_by_hand():
    baseline = np.array([10.0, 10.0, 10.0, 6.5, 4.0, np.nan, 5.0, 0.0])
    value = np.array([7.0, 7.1, 5.0, 4.55, 1.0, 0.0, np.nan, 0.0])
    flags = responder_flags(baseline, value)
    # exactly 30% counts (10 -> 7; 6.5 -> 4.55 despite rounding), 29% does not
    assert flags["reduction_30"].tolist() == [True, False, True, True, True, False, False, False]
    assert flags["reduction_50"].tolist() == [False, False, True, False, True, False, False, False]
    # pain-free needs only the value; a missing value is not a responder
    assert flags["pain_free"].tolist() == [False, False, False, False, True, True, False, True]


def _trial():
    participants = pd.DataFrame({
        "participant": [str(i) for i in range(1, 7)],
        "arm": ["prt", "prt", "prt", "placebo", "placebo", "usual_care"],
        "age": 50.0, "sex": "male",
    })
    rows = [(str(i), "pre", "pain_intensity", 6.0) for i in range(1, 7)]
    rows += [("1", "post", "pain_intensity", 1.0), ("2", "post", "pain_intensity", 4.0),
             ("4", "post", "pain_intensity", 3.0), ("6", "post", "pain_intensity", 6.0),
             ("1", "12mo", "pain_intensity", 2.0)]
    return TrialData.from_frames(participants, pd.DataFrame(rows, columns=["participant", "timepoint",
                                                                           "outcome", "value"]))


def test_denominators_are_all_randomized():
    records = responders(_trial())
    by_key = {(r["timepoint"], r["group"], r["criterion"]): r for r in records}
    assert len(records) == 2 * 3 * len(CRITERIA)
    assert by_key[("post", "prt", "reduction_30")] == {
        "timepoint": "post", "group": "prt", "criterion": "reduction_30", "responders": 2, "randomized": 3}
    assert by_key[("post", "prt", "pain_free")]["responders"] == 1
    assert by_key[("post", "placebo", "reduction_50")]["responders"] == 1
    assert by_key[("post", "placebo", "reduction_50")]["randomized"] == 2
    assert by_key[("12mo", "prt", "reduction_50")]["responders"] == 1
    assert by_key[("12mo", "placebo", "reduction_30")]["responders"] == 0


def test_published_pain_free_counts(boulder_wide_path):
    records = responders(read_trial(boulder_wide_path))
    by_key = {(r["timepoint"], r["group"], r["criterion"]): r for r in records}
    for group, k, n in (("prt", 33, 50), ("placebo", 10, 51), ("usual_care", 5, 50)):
        record = by_key[("post", group, "pain_free")]
        assert (record["responders"], record["randomized"]) == (k, n)
    for group in ("prt", "placebo", "usual_care"):
        for t in ("post", "12mo"):
            r30, r50 = by_key[(t, group, "reduction_30")], by_key[(t, group, "reduction_50")]
            assert r50["responders"] <= r30["responders"] <= r30["randomized"]
