"""Baseline = mean of the eligibility and pretreatment assessments (mean of those present)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from prt.analysis.baseline import change_from_baseline, participant_order, with_baseline
from prt.data import TrialData
from prt.errors import InputError


def _trial(rows, participants=None):
    measures = pd.DataFrame(rows, columns=["participant", "timepoint", "outcome", "value"])
    if participants is None:
        ids = sorted({r[0] for r in rows}, key=str)
        participants = pd.DataFrame({"participant": ids, "arm": "prt", "age": 40.0, "sex": "female"})
    return TrialData.from_frames(participants, measures)


def test_mean_of_both_one_or_none():
    participants = pd.DataFrame({"participant": ["1", "2", "3", "4"], "arm": "prt", "age": 30.0, "sex": "male"})
    trial = _trial([
        ("1", "eligibility", "pain_intensity", 6.0), ("1", "pre", "pain_intensity", 5.0),
        ("1", "post", "pain_intensity", 2.0),
        ("2", "pre", "pain_intensity", 7.0),
        ("3", "eligibility", "pain_intensity", 4.0),
        ("4", "post", "pain_intensity", 3.0),
    ], participants)
    table = with_baseline(trial, "pain_intensity")
    assert list(table.columns[:4]) == ["baseline", "eligibility", "pre", "post"]
    assert table.loc["1", "baseline"] == 5.5
    assert table.loc["2", "baseline"] == 7.0
    assert table.loc["3", "baseline"] == 4.0
    assert math.isnan(table.loc["4", "baseline"])
    change = change_from_baseline(trial, "pain_intensity", "post")
    assert change["1"] == -3.5 and math.isnan(change["2"]) and math.isnan(change["4"])


def test_every_participant_in_canonical_order_with_trial_timepoints():
    participants = pd.DataFrame({"participant": ["10", "9", "b", "a", "100"], "arm": "prt", "age": 30.0,
                                 "sex": "male"})
    trial = _trial([("10", "pre", "odi", 20.0), ("9", "12mo", "odi", 10.0)], participants)
    table = with_baseline(trial, "odi")
    assert list(table.index) == ["9", "10", "100", "a", "b"]
    assert list(table.columns) == ["baseline", "eligibility", "pre", "12mo"]


def test_unknown_outcome_is_an_input_error():
    trial = _trial([("1", "pre", "odi", 20.0)])
    with pytest.raises(InputError, match="pain_intensity"):
        with_baseline(trial, "pain_intensity")


def test_participant_order_numeric_by_value():
    assert list(participant_order(pd.Index(["2", "10", "1"]))) == ["1", "2", "10"]


@settings(max_examples=60, deadline=None)
@given(
    elig=st.one_of(st.none(), st.floats(0, 10, allow_nan=False)),
    pre=st.one_of(st.none(), st.floats(0, 10, allow_nan=False)),
)
def test_baseline_lies_between_the_two_assessments(elig, pre):
    rows = [("1", "post", "pain_intensity", 1.0)]
    if elig is not None:
        rows.append(("1", "eligibility", "pain_intensity", elig))
    if pre is not None:
        rows.append(("1", "pre", "pain_intensity", pre))
    value = with_baseline(_trial(rows), "pain_intensity").loc["1", "baseline"]
    present = [v for v in (elig, pre) if v is not None]
    if not present:
        assert math.isnan(value)
    else:
        assert min(present) - 1e-12 <= value <= max(present) + 1e-12
        assert value == pytest.approx(np.mean(present))
