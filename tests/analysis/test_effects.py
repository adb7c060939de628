"""Hedges g of change scores, its bootstrap SE / percentile CI (scipy-identical draws) and p."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from prt.analysis import effects as E
from prt.data import TrialData, read_trial
from tests.factories import in_range


def test_hedges_g_by_hand():
    x1 = np.array([-3.0, -1.0, -2.0])      # mean -2, var 1
    x2 = np.array([0.0, 2.0, 1.0, 1.0])     # mean 1, var 2/3
    pooled = np.sqrt((2 * 1.0 + 3 * (2 / 3)) / 5)  # sqrt(4/5)
    j = 1 - 3 / (4 * 7 - 9)
    assert E.hedges_g(x1, x2) == pytest.approx(-3 / pooled * j, rel=1e-14)
    assert E.hedges_correction(3, 4) == pytest.approx(16 / 19)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), shift=st.floats(-50, 50), scale=st.floats(0.1, 20))
def test_g_antisymmetric_and_location_scale_invariant(seed, shift, scale):
    rng = np.random.default_rng(seed)
    x1, x2 = rng.normal(size=7), rng.normal(size=9)
    g = E.hedges_g(x1, x2)
    assert E.hedges_g(x2, x1) == pytest.approx(-g, abs=1e-12)
    assert E.hedges_g(shift + scale * x1, shift + scale * x2) == pytest.approx(g, rel=1e-8, abs=1e-9)


def test_pooled_t_p_is_student_t_test():
    rng = np.random.default_rng(1)
    x1, x2 = rng.normal(size=(3, 12)), rng.normal(0.5, size=(3, 15))
    expected = [stats.ttest_ind(a, b, equal_var=True).pvalue for a, b in zip(x1, x2)]
    np.testing.assert_allclose(E.pooled_t_p(x1, x2), expected, rtol=1e-12)


def test_resample_sums_in_blocks_equal_one_draw():
    values = np.random.default_rng(0).normal(size=(17, 3))
    sums = E.resample_sums(np.random.default_rng(8), values, 2100)
    counts = E.resample_counts(np.random.default_rng(8), 17, 2100)
    np.testing.assert_allclose(sums, counts @ values, rtol=1e-12, atol=1e-12)


def test_resample_counts_are_scipys_draws():
    n, B = 13, 50
    counts = E.resample_counts(np.random.default_rng(5), n, B)
    idx = np.random.default_rng(5).integers(0, n, (B, n))
    expected = np.stack([np.bincount(row, minlength=n) for row in idx])
    np.testing.assert_array_equal(counts, expected)
    assert (counts.sum(axis=1) == n).all()


def _group(k=3, n1=11, n2=14, seed=3):
    rng = np.random.default_rng(seed)
    return E.BootstrapGroup("prt_vs_placebo", "post", tuple(f"o{i}" for i in range(k)),
                            rng.normal(-2, 2, (k, n1)) * 10, rng.normal(0, 1.5, (k, n2)) * 10,
                            np.random.SeedSequence(7, spawn_key=(0, 0, 0, 0)))


def test_group_bootstrap_equals_scipy_bootstrap_per_cell():
    group = _group()
    B = 2500  # several blocks of draws
    theta = E.bootstrap_group(group, B)
    summary = E.summarize_distribution(theta)
    for k in range(len(group.outcomes)):
        ref = stats.bootstrap((group.x1[k], group.x2[k]), E.hedges_g, n_resamples=B, axis=-1,
                              vectorized=True, method="percentile", rng=group.rng())
        np.testing.assert_allclose(theta[k], ref.bootstrap_distribution, rtol=0, atol=1e-12)
        assert summary["se"][k] == pytest.approx(ref.standard_error, abs=1e-12)
        assert summary["ci_low"][k] == pytest.approx(ref.confidence_interval.low, abs=1e-12)
        assert summary["ci_high"][k] == pytest.approx(ref.confidence_interval.high, abs=1e-12)


def test_bootstrap_is_deterministic_per_seed():
    a = E.bootstrap_group(_group(), 200)
    b = E.bootstrap_group(_group(), 200)
    np.testing.assert_array_equal(a, b)


def _small_trial():
    rng = np.random.default_rng(11)
    ids = [str(i) for i in range(1, 31)]
    arms = ["prt"] * 10 + ["placebo"] * 10 + ["usual_care"] * 10
    participants = pd.DataFrame({"participant": ids, "arm": arms, "age": 40.0, "sex": "female"})
    rows = []
    for pid, arm in zip(ids, arms):
        base = rng.normal(5, 1)
        drop = {"prt": 3, "placebo": 1, "usual_care": 0}[arm]
        rows += [(pid, "eligibility", "pain_intensity", base + 0.2), (pid, "pre", "pain_intensity", base - 0.2),
                 (pid, "eligibility", "odi", 30.0 + base), (pid, "pre", "odi", 30.0 + base)]
        if pid != "3":  # one PRT participant misses post pain, so pain and odi form two groups
            rows.append((pid, "post", "pain_intensity", base - drop + rng.normal()))
        rows.append((pid, "post", "odi", 30 + base - 4 * drop + rng.normal()))
    measures = pd.DataFrame(rows, columns=["participant", "timepoint", "outcome", "value"])
    return TrialData.from_frames(participants, in_range(measures))


def test_plan_groups_cells_by_observed_participants():
    trial = _small_trial()
    plan = E.bootstrap_plan(trial, ["pain_intensity", "odi"], seed=0)
    prt_placebo = [g for g in plan if g.comparison == "prt_vs_placebo"]
    assert [g.outcomes for g in prt_placebo] == [("pain_intensity",), ("odi",)]
    assert prt_placebo[0].x1.shape == (1, 9) and prt_placebo[1].x1.shape == (1, 10)
    placebo_uc = [g for g in plan if g.comparison == "placebo_vs_usual_care"]
    assert [g.outcomes for g in placebo_uc] == [("pain_intensity", "odi")]


def test_effect_records_match_direct_computation():
    trial = _small_trial()
    records = E.effect_sizes(trial, ["pain_intensity", "odi"], n_resamples=300, seed=4)
    assert len(records) == 6
    rec = next(r for r in records if r["outcome"] == "odi" and r["comparison"] == "prt_vs_usual_care")
    wide = trial.wide("odi")
    change = wide["post"] - wide[["eligibility", "pre"]].mean(axis=1)
    arm = trial.participants["arm"]
    x1, x2 = change[arm == "prt"].to_numpy(), change[arm == "usual_care"].to_numpy()
    assert rec["g"] == pytest.approx(E.hedges_g(x1, x2), rel=1e-12)
    assert rec["p"] == pytest.approx(stats.ttest_ind(x1, x2).pvalue, rel=1e-10)
    assert rec["ci_low"] < rec["g"] < rec["ci_high"] and rec["se"] > 0
    assert rec["g"] < 0  # PRT's disability fell more
    no_boot = E.effect_sizes(trial, ["odi"], n_resamples=0, seed=4)
    assert all(np.isnan(r["se"]) for r in no_boot)


def test_outcome_summaries():
    trial = _small_trial()
    records = E.outcome_summaries(trial, ["pain_intensity"])
    post_prt = next(r for r in records if r["timepoint"] == "post" and r["group"] == "prt")
    assert post_prt["n"] == 9
    values = trial.wide("pain_intensity")["post"][trial.participants["arm"] == "prt"].dropna()
    assert post_prt["mean"] == pytest.approx(values.mean()) and post_prt["sd"] == pytest.approx(values.std())
    assert {r["timepoint"] for r in records} == {"baseline", "post"}


# ----------------------------------------------------------------------------- the trial's data
@pytest.fixture(scope="module")
def boulder_effects(boulder_wide_path):
    trial = read_trial(boulder_wide_path)
    records = E.effect_sizes(trial, ["pain_intensity", "tsk11"], n_resamples=2000, seed=0)
    return {(r["outcome"], r["timepoint"], r["comparison"]): r for r in records}


@pytest.mark.parametrize("outcome,timepoint,comparison,g,se", [
    ("pain_intensity", "post", "prt_vs_placebo", -1.14, 0.24),
    ("pain_intensity", "post", "prt_vs_usual_care", -1.75, None),
    ("pain_intensity", "12mo", "prt_vs_placebo", -0.70, None),
    ("pain_intensity", "12mo", "prt_vs_usual_care", -1.05, None),
    ("tsk11", "post", "prt_vs_placebo", -1.90, None),
    ("tsk11", "post", "prt_vs_usual_care", -1.67, None),
])
def test_published_hedges_g(boulder_effects, outcome, timepoint, comparison, g, se):
    record = boulder_effects[(outcome, timepoint, comparison)]
    assert round(record["g"], 2) == g
    if se is not None:
        assert abs(record["se"] - se) <= 0.03
