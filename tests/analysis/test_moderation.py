"""Moderation of the arm effect on pain change by age and sex (arm x moderator OLS)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from prt.analysis.moderation import moderation, ols
from prt.data import TrialData


def _trial(seed=0, n=60):
    rng = np.random.default_rng(seed)
    ids = [str(i) for i in range(3 * n)]
    arms = np.repeat(["prt", "placebo", "usual_care"], n)
    age = rng.uniform(20, 70, 3 * n)
    sex = rng.choice(["male", "female"], 3 * n)
    participants = pd.DataFrame({"participant": ids, "arm": arms, "age": age, "sex": sex})
    # PRT's drop grows by 0.05 per year of age; controls: no age effect; sex has no effect
    drop = np.where(arms == "prt", 2.0 + 0.05 * (age - 45), np.where(arms == "placebo", 1.0, 0.0))
    post = 6.0 - drop + rng.normal(0, 0.3, 3 * n)
    rows = [(i, "pre", "pain_intensity", 6.0) for i in ids] + [(i, "post", "pain_intensity", v)
                                                                for i, v in zip(ids, post)]
    measures = pd.DataFrame(rows, columns=["participant", "timepoint", "outcome", "value"])
    return TrialData.from_frames(participants, measures)


def test_recovers_an_age_interaction():
    records = moderation(_trial())
    by = {(r["moderator"], r["comparison"]): r for r in records}
    age = by[("age", "prt_vs_placebo")]
    # PRT minus control change = -(drop difference): falls by 0.05 per year
    assert age["estimate"] == pytest.approx(-0.05, abs=0.01)
    assert age["p"] < 1e-6 and age["df"] == 180 - 6 and age["n"] == 180
    assert by[("sex", "prt_vs_usual_care")]["p"] > 0.001
    assert len(records) == 4


def test_ols_matches_lstsq_and_standard_errors():
    rng = np.random.default_rng(3)
    X = np.column_stack([np.ones(40), rng.normal(size=(40, 2))])
    y = X @ [1.0, 2.0, -1.0] + rng.normal(size=40)
    beta, cov, df = ols(y, X)
    np.testing.assert_allclose(beta, np.linalg.lstsq(X, y, rcond=None)[0])
    resid = y - X @ beta
    np.testing.assert_allclose(np.diag(cov), resid @ resid / 37 * np.diag(np.linalg.inv(X.T @ X)))
    assert df == 37
