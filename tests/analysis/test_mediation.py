"""Mediation paths, bootstrap draws (as scipy's paired bootstrap) and MediationToolbox BCa p / CI."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import special, stats

from prt.analysis import effects as E
from prt.analysis import mediation as M
from prt.data import TrialData
from tests.factories import in_range


def _V(seed=0, n=120, a=0.8, b=0.6, c_prime=0.2):
    rng = np.random.default_rng(seed)
    x = np.repeat([1.0, 0.0], n // 2)
    cov = rng.normal(5, 2, n)
    m = a * x + 0.1 * cov + rng.normal(size=n)
    y = b * m + c_prime * x + 0.3 * cov + rng.normal(size=n)
    return np.column_stack([M._zscore(m), x, np.ones(n), cov, M._zscore(y)])


def test_paths_equal_separate_least_squares():
    V = _V()
    m, x, one, cov, y = V.T
    a = np.linalg.lstsq(np.column_stack([x, one, cov]), m, rcond=None)[0][0]
    b, cp = np.linalg.lstsq(np.column_stack([m, x, one, cov]), y, rcond=None)[0][:2]
    c = np.linalg.lstsq(np.column_stack([x, one, cov]), y, rcond=None)[0][0]
    paths = M.path_coefficients(V, np.ones((1, len(V))))[0]
    np.testing.assert_allclose(paths, [a, b, cp, c, a * b], rtol=1e-10)
    # OLS identity of the single-mediator model: c = c' + a b
    assert paths[3] == pytest.approx(paths[2] + paths[4], rel=1e-10)


def test_weighted_fits_equal_fits_on_resampled_rows():
    V = _V(n=40)
    rng = np.random.default_rng(2)
    idx = rng.integers(0, 40, (5, 40))
    counts = E.resample_counts(np.random.default_rng(2), 40, 5)
    weighted = M.path_coefficients(V, counts)
    for row, i in zip(weighted, idx):
        np.testing.assert_allclose(row, M.path_coefficients(V[i], np.ones((1, 40)))[0], rtol=1e-9)
    jack = M.path_coefficients(V, 1.0 - np.eye(40))
    np.testing.assert_allclose(jack[3], M.path_coefficients(np.delete(V, 3, axis=0), np.ones((1, 39)))[0],
                               rtol=1e-9)


def test_bootstrap_distribution_is_scipys_paired_bootstrap():
    V = _V(n=30)
    model = M.MediationModel("m", "y", "1mo", "prt_vs_placebo", "belief_mediates_pain", V,
                             np.random.SeedSequence(3, spawn_key=(1, 0, 0, 0, 0)))
    B = 1500  # more than one block of draws
    mine = M.paths_from_cross_products(M.resample_sums(model.rng(), M.cross_products(V), B))[:, 4]
    assert M.fit_model(model, B)["se"] == pytest.approx(mine.std(ddof=1), rel=1e-12)

    def ab(i, axis=-1):
        return np.array([M.path_coefficients(V[row], np.ones((1, 30)))[0, 4] for row in np.atleast_2d(i)])

    ref = stats.bootstrap((np.arange(30),), ab, paired=True, n_resamples=B, method="percentile",
                          vectorized=True, rng=model.rng())
    np.testing.assert_allclose(mine, ref.bootstrap_distribution, rtol=1e-9, atol=1e-12)


def test_bca_reduces_to_percentiles_without_bias_or_acceleration():
    bstat = np.linspace(-1, 1, 1000)[:, None]  # symmetric around 0: prop_less = 0.5 -> z0 = 0
    low, high = M.bca_ci(bstat, np.array([0.0]), np.array([0.0]))
    assert low[0] == pytest.approx(np.quantile(bstat, 0.025, method="hazen"))
    assert high[0] == pytest.approx(np.quantile(bstat, 0.975, method="hazen"))
    # p for testvalue 0 of a distribution centred on 0: both tails ~ 0.5 -> p ~ 1
    assert M.bca_p(bstat, np.array([0.0]), np.array([0.0]))[0] == pytest.approx(1.0, abs=0.01)


def test_bca_p_formula_by_hand():
    rng = np.random.default_rng(0)
    bstat = rng.normal(0.5, 0.2, (2000, 1))
    stat, accel = np.array([0.48]), np.array([0.03])
    B = 2000
    z0 = special.ndtri((bstat[:, 0] < 0.48).mean())
    lower = min(max((bstat[:, 0] < 0).mean(), 1 / B), 1 - 1 / B)
    upper = min(max((bstat[:, 0] > 0).mean(), 1 / B), 1 - 1 / B)
    zl, zu = special.ndtri(lower) - z0, special.ndtri(upper) - z0
    pl = special.ndtr((zl * (1 - 0.03 * z0) - z0) / (1 + 0.03 * zl))
    pu = special.ndtr((zu * (1 - 0.03 * z0) - z0) / (1 + 0.03 * zu))
    expected = min(pl, 1 - pl) + min(pu, 1 - pu)
    assert M.bca_p(bstat, stat, accel)[0] == pytest.approx(expected, rel=1e-12)
    assert 0 < expected < 0.05


def test_bca_ci_close_to_scipy_bca():
    # scipy's BCa differs only in percentile interpolation (linear vs MATLAB's hazen)
    rng = np.random.default_rng(4)
    x = rng.exponential(size=60)
    B = 4000
    ref = stats.bootstrap((x,), np.mean, n_resamples=B, method="BCa", rng=np.random.default_rng(9))
    bstat = ref.bootstrap_distribution[:, None]
    jack = np.array([np.delete(x, i).mean() for i in range(60)])[:, None]
    low, high = M.bca_ci(bstat, np.array([x.mean()]), M.bca_acceleration(jack))
    spread = bstat.std()
    assert low[0] == pytest.approx(ref.confidence_interval.low, abs=0.02 * spread)
    assert high[0] == pytest.approx(ref.confidence_interval.high, abs=0.02 * spread)


def _trial(seed=1, n=40):
    """PRT lowers fear (tsk11) and the fear change carries the pain change at follow-ups."""
    rng = np.random.default_rng(seed)
    ids = [str(i) for i in range(3 * n)]
    arms = np.repeat(["prt", "placebo", "usual_care"], n)
    participants = pd.DataFrame({"participant": ids, "arm": arms, "age": 40.0, "sex": "female"})
    fear0 = rng.normal(30, 4, 3 * n)
    fear_post = fear0 - np.where(arms == "prt", 8.0, 0.0) + rng.normal(0, 2, 3 * n)
    pain0 = rng.normal(6, 1, 3 * n)
    rows = []
    for i, pid in enumerate(ids):
        rows += [(pid, "pre", "tsk11", fear0[i]), (pid, "post", "tsk11", fear_post[i]),
                 (pid, "pre", "pain_intensity", pain0[i]),
                 (pid, "post", "pain_intensity", pain0[i] + rng.normal(0, 1))]
        for t in ("1mo", "12mo"):
            rows.append((pid, t, "pain_intensity", pain0[i] + 0.3 * (fear_post[i] - fear0[i]) + rng.normal(0, 1)))
            rows.append((pid, t, "tsk11", fear_post[i] + rng.normal(0, 2)))
    return TrialData.from_frames(participants, in_range(pd.DataFrame(rows, columns=["participant", "timepoint",
                                                                                    "outcome", "value"])))


def test_mediation_on_a_trial_finds_the_built_in_path():
    trial = _trial()
    records = M.mediation(trial, n_resamples=1000, seed=0)
    keys = {(r["mediator"], r["outcome"], r["timepoint"], r["comparison"], r["direction"]) for r in records}
    assert ("tsk11", "pain_intensity", "1mo", "prt_vs_placebo", "belief_mediates_pain") in keys
    assert ("pain_intensity", "tsk11", "12mo", "prt_vs_usual_care", "pain_mediates_belief") in keys
    assert len(records) == 2 * 2 * 2  # 2 comparisons x 2 directions x 2 follow-ups (tsk11 only)
    forward = next(r for r in records if r["direction"] == "belief_mediates_pain"
                   and r["timepoint"] == "1mo" and r["comparison"] == "prt_vs_placebo")
    assert forward["a"] < 0 and forward["b"] > 0 and forward["indirect"] < 0
    assert forward["ci_low"] < forward["indirect"] < forward["ci_high"] < 0
    assert forward["p"] < 0.01 and forward["n"] == 80
    again = M.mediation(trial, n_resamples=1000, seed=0)
    assert again == records
