"""prt.analysis.mixed: random-intercept LMM (REML/ML) with Satterthwaite df.

Known answers: the trial's published primary analysis (Ashar et al., JAMA Psychiatry 2022),
closed forms for balanced designs (one-way random-effects ANOVA; the paired and two-sample t tests
that a balanced pre/post design reduces to), and a brute-force dense implementation of the same
likelihood with finite-difference derivatives (independent of the Woodbury/analytic code).
"""

from __future__ import annotations

import doctest
import tracemalloc
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import stats

from prt.analysis import mixed
from prt.analysis.mixed import (
    ContrastTest,
    MixedModelResult,
    _satterthwaite_df,
    _varpar_covariance,
    design_primary,
    fit_random_intercept,
)
from prt.errors import ConvergenceWarning, InputError

# --------------------------------------------------------------------------- helpers


def _design(seed: int, n_groups: int = 20, max_size: int = 4, ratio: float = 1.0, singletons: bool = True):
    """Random unbalanced design: intercept, a continuous row covariate, a binary group covariate."""
    rng = np.random.default_rng(seed)
    low = 1 if singletons else 2
    sizes = rng.integers(low, max_size + 1, n_groups)
    sizes[0] = max(sizes[0], 2)
    groups = np.repeat(np.arange(n_groups), sizes)
    n = len(groups)
    X = np.column_stack([
        np.ones(n),
        rng.normal(size=n),
        rng.integers(0, 2, n_groups)[groups].astype(float),
    ])
    y = X @ np.array([1.0, 0.5, -0.3]) + np.sqrt(ratio) * rng.normal(size=n_groups)[groups] + rng.normal(size=n)
    return y, X, groups


def _dense_cov(groups, sigma2_u, sigma2_e):
    same = (np.asarray(groups)[:, None] == np.asarray(groups)[None, :]).astype(float)
    return sigma2_e * np.eye(len(groups)) + sigma2_u * same


def _dense_loglik(y, X, groups, sigma2_u, sigma2_e, reml):
    """-1/2 deviance by brute force with the n x n covariance (lme4's scale)."""
    V = _dense_cov(groups, sigma2_u, sigma2_e)
    Vi = np.linalg.inv(V)
    M = X.T @ Vi @ X
    beta = np.linalg.solve(M, X.T @ Vi @ y)
    r = y - X @ beta
    n, p = X.shape
    dev = np.linalg.slogdet(V)[1] + r @ Vi @ r
    if reml:
        dev += np.linalg.slogdet(M)[1] + (n - p) * np.log(2 * np.pi)
    else:
        dev += n * np.log(2 * np.pi)
    return -0.5 * dev, beta, np.linalg.inv(M)


def _dense_satterthwaite(y, X, groups, res: MixedModelResult, L, h=1e-4):
    """Satterthwaite df in the (sigma2_u, sigma2_e) parameterisation, finite differences."""
    vc = res.variance_components
    phi = np.array([vc["participant"], vc["residual"]])

    def deviance(v):
        return -2 * _dense_loglik(y, X, groups, v[0], v[1], res.reml)[0]

    def lcl(v):
        return L @ _dense_loglik(y, X, groups, v[0], v[1], res.reml)[2] @ L

    steps = h * phi
    hess = np.zeros((2, 2))
    grad = np.zeros(2)
    for i in range(2):
        ei = np.eye(2)[i] * steps[i]
        grad[i] = (lcl(phi + ei) - lcl(phi - ei)) / (2 * steps[i])
        for j in range(2):
            ej = np.eye(2)[j] * steps[j]
            hess[i, j] = (
                deviance(phi + ei + ej) - deviance(phi + ei - ej) - deviance(phi - ei + ej) + deviance(phi - ei - ej)
            ) / (4 * steps[i] * steps[j])
    A = 2 * np.linalg.inv(hess)
    return 2 * lcl(phi) ** 2 / (grad @ A @ grad)


# --------------------------------------------------------------------------- published result


def _primary_frame(path, outcome="pain_intensity"):
    from prt.data import read_trial

    trial = read_trial(path)
    m = trial.measures
    m = m[(m["outcome"] == outcome) & m["timepoint"].isin(["pre", "post"])]
    frame = m.merge(trial.participants[["arm", "age", "sex"]], left_on="participant", right_index=True)
    return frame.rename(columns={"timepoint": "time"})


@pytest.mark.shared_data
def test_reproduces_published_primary_itt_analysis(boulder_wide_path):
    """Ashar et al. 2022: t137.63 = 6.06 (vs placebo), t135.69 = 8.13 (vs usual care)."""
    y, X, groups, names = design_primary(_primary_frame(boulder_wide_path))
    res = fit_random_intercept(y, X, groups, names, reml=True)
    assert res.converged
    assert res.n_groups == 151  # every randomized participant has pre or post pain
    placebo = res.test("time:placebo")
    usual = res.test("time:usual_care")
    assert round(placebo.t, 2) == 6.06 and round(placebo.df, 2) == 137.63
    assert round(usual.t, 2) == 8.13 and round(usual.df, 2) == 135.69
    # lmerTest reproduces the paper to 4 decimals (trial protocol notes); so do we.
    assert placebo.t == pytest.approx(6.0595, abs=5e-5) and placebo.df == pytest.approx(137.6299, abs=5e-5)
    assert usual.t == pytest.approx(8.1340, abs=5e-5) and usual.df == pytest.approx(135.6859, abs=5e-5)
    assert placebo.p < 1e-7 and usual.p < 1e-12
    summary = res.summary()
    assert summary.loc["time:usual_care", "t"] == pytest.approx(usual.t, rel=1e-12)
    assert summary.loc["time:placebo", "df"] == pytest.approx(placebo.df, rel=1e-12)


# --------------------------------------------------------------------------- closed forms


def test_balanced_one_way_anova_closed_form():
    """y_ij = mu + u_i + e_ij, G groups of m: REML = ANOVA estimators, df(mu) = G - 1."""
    rng = np.random.default_rng(11)
    G, m = 12, 4
    groups = np.repeat(np.arange(G), m)
    y = 3.0 + 1.5 * rng.normal(size=G)[groups] + rng.normal(size=G * m)
    X = np.ones((G * m, 1))
    means = y.reshape(G, m).mean(axis=1)
    msb = m * np.sum((means - y.mean()) ** 2) / (G - 1)
    msw = np.sum((y.reshape(G, m) - means[:, None]) ** 2) / (G * (m - 1))
    assert msb > msw  # interior estimate for this seed

    res = fit_random_intercept(y, X, groups, ["mu"], reml=True)
    assert res.params["mu"] == pytest.approx(y.mean(), rel=1e-12)
    assert res.variance_components["residual"] == pytest.approx(msw, rel=1e-9)
    assert res.variance_components["participant"] == pytest.approx((msb - msw) / m, rel=1e-9)
    assert res.bse["mu"] == pytest.approx(np.sqrt(msb / (G * m)), rel=1e-9)
    assert res.test("mu").df == pytest.approx(G - 1, rel=1e-8)

    ml = fit_random_intercept(y, X, groups, ["mu"], reml=False)
    assert ml.variance_components["residual"] == pytest.approx(msw, rel=1e-9)
    assert ml.variance_components["participant"] == pytest.approx(((1 - 1 / G) * msb - msw) / m, rel=1e-9)
    assert ml.variance_components["participant"] < res.variance_components["participant"]
    assert ml.params["mu"] == pytest.approx(y.mean(), rel=1e-12)


def _balanced_pre_post(seed, n_per_arm=15):
    rng = np.random.default_rng(seed)
    G = 2 * n_per_arm
    arm = np.repeat([0.0, 1.0], n_per_arm)
    pre = 5 + 1.2 * rng.normal(size=G) + 0.2 * arm
    post = pre - 2 + 1.5 * arm + rng.normal(size=G)
    frame = pd.DataFrame({
        "participant": np.tile(np.arange(G), 2),
        "time": np.repeat([0.0, 1.0], G),
        "arm": np.tile(arm, 2),
        "value": np.concatenate([pre, post]),
    })
    X = np.column_stack([np.ones(2 * G), frame["time"], frame["arm"], frame["time"] * frame["arm"]])
    return frame["value"].to_numpy(), X, frame["participant"].to_numpy(), pre, post, arm


def test_balanced_pre_post_reduces_to_t_tests_on_change():
    """Complete pre/post data: the time:arm t is the pooled two-sample t on change (df G - 2)
    and, within one arm, the time t is the paired t test (df n - 1)."""
    y, X, groups, pre, post, arm = _balanced_pre_post(3)
    res = fit_random_intercept(y, X, groups, ["intercept", "time", "arm", "time:arm"])
    assert res.variance_components["participant"] > 0
    change = post - pre
    two_sample = stats.ttest_ind(change[arm == 1], change[arm == 0], equal_var=True)
    test = res.test("time:arm")
    assert test.estimate == pytest.approx(change[arm == 1].mean() - change[arm == 0].mean(), rel=1e-10)
    assert test.t == pytest.approx(two_sample.statistic, rel=1e-8)
    assert test.df == pytest.approx(len(change) - 2, rel=1e-7)
    assert test.p == pytest.approx(two_sample.pvalue, rel=1e-6)

    keep = np.isin(groups, np.flatnonzero(arm == 0))
    one = fit_random_intercept(y[keep], X[keep, :2], groups[keep], ["intercept", "time"])
    paired = stats.ttest_rel(post[arm == 0], pre[arm == 0])
    assert one.test("time").t == pytest.approx(paired.statistic, rel=1e-8)
    assert one.test("time").df == pytest.approx((arm == 0).sum() - 1, rel=1e-7)


# --------------------------------------------------------------------------- dense brute force


@pytest.mark.parametrize("reml", [True, False])
@pytest.mark.parametrize("seed,ratio", [(1, 1.0), (2, 0.1), (3, 8.0)])
def test_matches_dense_likelihood_and_finite_difference_satterthwaite(seed, ratio, reml):
    y, X, groups = _design(seed, n_groups=15, ratio=ratio)
    res = fit_random_intercept(y, X, groups, ["a", "b", "c"], reml=reml)
    vc = res.variance_components
    assert vc["participant"] > 0
    loglik, beta, m_inv = _dense_loglik(y, X, groups, vc["participant"], vc["residual"], reml)
    assert res.loglik == pytest.approx(loglik, rel=1e-10)
    np.testing.assert_allclose(res.params.to_numpy(), beta, rtol=1e-9)
    np.testing.assert_allclose(res.cov_params.to_numpy(), m_inv, rtol=1e-8, atol=1e-14)
    # The estimate is the maximum: any perturbation of the variances lowers the likelihood.
    for du, de in [(1.01, 1), (0.99, 1), (1, 1.01), (1, 0.99), (1.01, 0.99)]:
        assert _dense_loglik(y, X, groups, vc["participant"] * du, vc["residual"] * de, reml)[0] < res.loglik
    # Satterthwaite df in another parameterisation (sigma2_u, sigma2_e), finite differences:
    # invariant, so equal to the analytic (theta, sigma) result.
    for L in (np.array([0, 1.0, 0]), np.array([0, 0, 1.0]), np.array([1.0, 0.5, -2.0])):
        assert res.test(L).df == pytest.approx(_dense_satterthwaite(y, X, groups, res, L), rel=1e-4)


def test_random_effects_are_the_blups():
    y, X, groups = _design(4, n_groups=12)
    res = fit_random_intercept(y, X, groups, ["a", "b", "c"])
    vc = res.variance_components
    V = _dense_cov(groups, vc["participant"], vc["residual"])
    labels = np.unique(groups)
    Z = (groups[:, None] == labels[None, :]).astype(float)
    blup = vc["participant"] * Z.T @ np.linalg.solve(V, y - X @ res.params.to_numpy())
    np.testing.assert_allclose(res.random_effects.loc[labels].to_numpy(), blup, rtol=1e-8, atol=1e-12)


# --------------------------------------------------------------------------- boundary, ML vs REML


def _boundary_case():
    G = 40
    groups = np.repeat(np.arange(G), 3)
    n = len(groups)
    X = np.column_stack([np.ones(n), np.random.default_rng(5).normal(size=n)])
    y = X @ [1.0, 1.0] + np.random.default_rng(2).normal(size=n)  # no participant variance
    return y, X, groups


@pytest.mark.parametrize("reml", [True, False])
def test_boundary_zero_participant_variance_is_ols_with_residual_df(reml):
    y, X, groups = _boundary_case()
    res = fit_random_intercept(y, X, groups, ["a", "b"], reml=reml)
    n, p = X.shape
    assert res.converged
    assert res.variance_components["participant"] == 0.0
    beta, rss = np.linalg.lstsq(X, y, rcond=None)[:2]
    sigma2 = rss[0] / (n - p if reml else n)
    np.testing.assert_allclose(res.params.to_numpy(), beta, rtol=1e-10)
    assert res.variance_components["residual"] == pytest.approx(sigma2, rel=1e-10)
    np.testing.assert_allclose(res.cov_params.to_numpy(), sigma2 * np.linalg.inv(X.T @ X), rtol=1e-9)
    np.testing.assert_allclose(res.summary()["df"], n - p if reml else n, rtol=1e-12)
    assert np.all(res.random_effects == 0)


def test_ml_and_reml_differ_as_expected():
    y, X, groups = _design(7, n_groups=25)
    reml = fit_random_intercept(y, X, groups, ["a", "b", "c"], reml=True)
    ml = fit_random_intercept(y, X, groups, ["a", "b", "c"], reml=False)
    # ML shrinks the variances (it ignores the p df spent on beta) and so the SEs.
    assert ml.variance_components["residual"] < reml.variance_components["residual"]
    assert np.all(ml.bse < reml.bse)
    assert ml.reml is False and reml.reml is True
    # The ML log-likelihood is the ordinary normal likelihood at the ML estimate.
    vc = ml.variance_components
    V = _dense_cov(groups, vc["participant"], vc["residual"])
    direct = stats.multivariate_normal(mean=X @ ml.params.to_numpy(), cov=V).logpdf(y)
    assert ml.loglik == pytest.approx(direct, rel=1e-10)


def test_residual_variance_running_to_zero_is_reported_not_converged():
    groups = np.repeat(np.arange(10), 3)
    X = np.column_stack([np.ones(30), np.arange(30.0) % 3])
    y = X @ [1.0, 2.0] + np.random.default_rng(0).normal(size=10)[groups]  # no within noise
    with pytest.warns(ConvergenceWarning, match="did not converge: .*residual variance is not estimable"):
        res = fit_random_intercept(y, X, groups, ["a", "b"])
    assert res.converged is False
    assert "ran to the top of its range" in res.convergence_message


def test_converged_fit_says_so_and_warns_nothing():
    y, X, groups = _design(21)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any warning fails the test
        res = fit_random_intercept(y, X, groups, ["a", "b", "c"])
    assert res.converged is True and res.convergence_message == "converged"
    assert np.all(np.isfinite(res.summary()["df"]))


# A flat likelihood (found by solving score = curvature = third derivative = 0 in the variance
# ratio for two entries of y, from a design whose REML profile had two interior minima): the two
# minima have merged into one flat minimum near gamma = 2.919, so the variance-parameter Hessian is
# singular. lmerTest reports df ~5e-6 there without a warning; the old code reported df ~1e-11 and
# converged = True.
_FLAT_Y = [2.69, -0.51, 1.556661421084851, 1.6273461641221074, 0.65, -0.5, 0.27, -0.73, 0.53, 0.1,
           0.04, -0.07, -0.48]
_FLAT_X = [[-0.99, -0.64], [1.58, 1.08], [-1.29, -1.75], [0.25, 0.04], [1.53, -0.51], [0.11, -2.12],
           [-0.57, 0.33], [-0.5, 1.63], [-0.61, -0.71], [-1.49, 0.05], [2.07, 0.12], [0.29, 0.01],
           [0.86, -1.02]]
_FLAT_SIZES = [2, 1, 2, 2, 2, 1, 1, 2]


def test_singular_variance_hessian_gives_nan_df_and_a_warning():
    y = np.array(_FLAT_Y)
    X = np.column_stack([np.ones(13), np.array(_FLAT_X)])
    groups = np.repeat(np.arange(8), _FLAT_SIZES)
    with pytest.warns(ConvergenceWarning, match=r"Hessian .* is singular .*df and p are NaN"):
        res = fit_random_intercept(y, X, groups, ["a", "b", "c"])
    assert res.converged is False
    assert "variance parameters are not identified" in res.convergence_message
    vc = res.variance_components
    gamma = vc["participant"] / vc["residual"]
    assert gamma == pytest.approx(2.9187, rel=1e-3)
    # The design really is flat there: +-1% in gamma moves the likelihood by < 1e-9 (a quartic
    # minimum), while +-30% moves it clearly; and the fit is that maximum.
    top = _dense_profiled_loglik(y, X, groups, gamma, True)
    assert top == pytest.approx(res.loglik, rel=1e-12)
    for factor in (0.99, 1.01):
        assert 0 <= top - _dense_profiled_loglik(y, X, groups, gamma * factor, True) < 1e-9
    for factor in (0.7, 1.3):
        assert top - _dense_profiled_loglik(y, X, groups, gamma * factor, True) > 1e-5
    # Estimates and SEs are still the GLS ones at those variances; df and p are NaN, never inf.
    loglik, beta, m_inv = _dense_loglik(y, X, groups, vc["participant"], vc["residual"], True)
    np.testing.assert_allclose(res.params.to_numpy(), beta, rtol=1e-9)
    summary = res.summary()
    assert summary["df"].isna().all() and summary["p"].isna().all()
    assert np.all(np.isfinite(summary["t"]))
    test = res.test("b")
    assert np.isnan(test.df) and np.isnan(test.p) and np.isfinite(test.t)


@pytest.mark.parametrize(
    "hess, problem",
    [
        (np.array([[np.inf, 0.0], [0.0, 1.0]]), "is not finite"),
        (np.array([[np.nan]]), "is not finite"),
        (np.array([[-1.0, 0.0], [0.0, 1.0]]), "not positive definite"),
        (np.array([[1.0, 2.0], [2.0, 1.0]]), "not positive definite"),
        (np.array([[1.0, 1.0], [1.0, 1.0 + 1e-12]]), "singular"),
        (np.array([[1e20, 1e10 * (1 - 1e-10)], [1e10 * (1 - 1e-10), 1.0]]), "singular"),
        (np.array([[0.0]]), "not positive definite"),
    ],
)
def test_variance_hessian_that_cannot_be_inverted_is_named(hess, problem):
    cov, message = _varpar_covariance(hess)
    assert np.all(np.isnan(cov)) and cov.shape == hess.shape
    assert problem in message and "Hessian" in message


def test_variance_hessian_inverse_is_unit_invariant():
    """Badly scaled but well-conditioned after equilibration (theta and sigma in any units): inverted."""
    hess = np.array([[4e12, 1e6], [1e6, 3.0]])
    cov, message = _varpar_covariance(hess)
    assert message is None
    np.testing.assert_allclose(cov, 2.0 * np.linalg.inv(hess), rtol=1e-12)


def test_satterthwaite_df_is_nan_never_inf():
    cov = np.eye(2)
    jac = np.stack([np.eye(2), np.eye(2)])
    good = _satterthwaite_df(np.eye(2), cov, jac, np.eye(2))
    np.testing.assert_allclose(good, [1.0, 1.0])  # 2 * 1^2 / (1 + 1)
    for varpar in (np.full((2, 2), np.nan), np.zeros((2, 2)), -np.eye(2), np.full((2, 2), np.inf)):
        df = _satterthwaite_df(np.eye(2), cov, jac, varpar)
        assert np.all(np.isnan(df))


def _dense_profiled_loglik(y, X, groups, gamma, reml):
    """Log-likelihood maximised over sigma2_e at a fixed ratio gamma, by brute force."""
    n, p = X.shape
    H = _dense_cov(groups, gamma, 1.0)
    Hi = np.linalg.inv(H)
    M = X.T @ Hi @ X
    r = y - X @ np.linalg.solve(M, X.T @ Hi @ y)
    sigma2 = (r @ Hi @ r) / (n - p if reml else n)
    return _dense_loglik(y, X, groups, gamma * sigma2, sigma2, reml)[0]


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 100_000),
    n_groups=st.integers(3, 15),
    max_size=st.integers(2, 5),
    ratio=st.sampled_from([0.0, 0.01, 0.3, 3.0, 100.0]),
    reml=st.booleans(),
)
def test_estimate_is_the_global_maximum(seed, n_groups, max_size, ratio, reml):
    y, X, groups = _design(seed, n_groups=n_groups, max_size=max_size, ratio=ratio)
    try:
        res = fit_random_intercept(y, X, groups, ["a", "b", "c"], reml=reml)
    except InputError as err:  # tiny designs: a constant covariate, or no within-participant df
        assert any(k in str(err) for k in ("within-participant residual df", "rank-deficient"))
        return
    assert res.converged
    for gamma in np.concatenate([[0.0], np.logspace(-4, 4, 41)]):
        assert _dense_profiled_loglik(y, X, groups, gamma, reml) <= res.loglik + 1e-9 * abs(res.loglik)


def _two_basin_design():
    """52 participants, 53 rows, intercept only: the ML profile has local minima at gamma = 0
    and near gamma = 1.29 (found by a random search); the interior one is lower by 2e-4."""
    rng = np.random.default_rng(669)
    n_groups = int(rng.integers(2, 60))
    sizes = rng.integers(1, int(rng.integers(2, 12)), n_groups)
    sizes[0] = max(2, sizes[0])
    groups = np.repeat(np.arange(n_groups), sizes)
    n = len(groups)
    p = int(rng.integers(1, 5))
    X = np.column_stack([np.ones(n)] + [rng.normal(size=n) * 10 ** rng.uniform(-3, 3) for _ in range(p - 1)])
    ratio = 10 ** rng.uniform(-4, 3) if rng.random() < 0.8 else 0
    y = X @ rng.normal(size=p) + np.sqrt(ratio) * rng.normal(size=n_groups)[groups]
    y = y + rng.normal(size=n) * 10 ** rng.uniform(-3, 3)
    return y, X, groups


def test_two_local_maxima_the_global_one_wins():
    y, X, groups = _two_basin_design()
    assert X.shape == (53, 1) and len(np.unique(groups)) == 52
    res = fit_random_intercept(y, X, groups, ["mu"], reml=False)
    gamma = res.variance_components["participant"] / res.variance_components["residual"]
    assert gamma == pytest.approx(1.288, abs=0.01)
    boundary = _dense_profiled_loglik(y, X, groups, 0.0, False)
    assert res.loglik - boundary == pytest.approx(2.18e-4 / 2, rel=0.05)  # deviance gap 2.18e-4
    for g in np.linspace(0.5, 3.0, 26):
        assert _dense_profiled_loglik(y, X, groups, g, False) <= res.loglik + 1e-12


def test_no_within_participant_df_is_refused():
    """One participant with 2 rows and a within-participant covariate: nothing left for sigma2_e."""
    groups = np.concatenate([[0, 0], np.arange(1, 20)])
    rng = np.random.default_rng(1)
    X = np.column_stack([np.ones(21), rng.normal(size=21)])
    y = rng.normal(size=21)
    with pytest.raises(InputError, match=r"no within-participant residual df \(21 rows - 20 participants - 1"):
        fit_random_intercept(y, X, groups, ["a", "b"])
    # Without the within-participant covariate one within df remains: it fits.
    assert fit_random_intercept(y, X[:, :1], groups, ["a"]).converged


# --------------------------------------------------------------------------- invariances


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10_000),
    scale=st.floats(0.01, 100.0),
    shift=st.floats(-50.0, 50.0),
    ratio=st.sampled_from([0.05, 1.0, 20.0]),
)
def test_invariant_to_units_row_order_labels_and_column_basis(seed, scale, shift, ratio):
    y, X, groups = _design(seed, n_groups=12, ratio=ratio)
    names = ["a", "b", "c"]
    base = fit_random_intercept(y, X, groups, names)
    base_summary = base.summary()

    # Units of y: estimates scale, t/df/p do not (shift only moves the intercept).
    res = fit_random_intercept(scale * y + shift, X, groups, names)
    s = res.summary()
    np.testing.assert_allclose(s["t"].iloc[1:], base_summary["t"].iloc[1:], rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(s["df"], base_summary["df"], rtol=1e-5)
    assert res.variance_components["residual"] == pytest.approx(
        scale**2 * base.variance_components["residual"], rel=1e-6
    )

    # Row order and participant labels do not matter.
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(y))
    relabel = np.array([f"p{g * 7 + 3}" for g in groups], dtype=object)
    res = fit_random_intercept(y[order], X[order], relabel[order], names)
    np.testing.assert_allclose(res.summary().to_numpy(), base_summary.to_numpy(), rtol=1e-7, atol=1e-12)

    # A new basis for the columns (X T): the same model, so L beta tests agree when L -> T^-1 ...
    T = np.array([[1.0, 0.3, -2.0], [0.0, 2.0, 0.5], [0.0, 0.0, -1.5]])
    res = fit_random_intercept(y, X @ T, groups, names)
    for L in (np.array([0, 1.0, 0]), np.array([1.0, -1.0, 2.0])):
        # L' beta under X equals (T^-1 ... ) : beta_new = T^-1 beta, so L' beta = (T' L)' beta_new
        a, b = base.test(L), res.test(T.T @ L)
        assert b.estimate == pytest.approx(a.estimate, rel=1e-7, abs=1e-10)
        assert b.t == pytest.approx(a.t, rel=1e-6, abs=1e-8)
        assert b.df == pytest.approx(a.df, rel=1e-5)


# --------------------------------------------------------------------------- interface


def test_interface_types_and_contrast_forms():
    y, X, groups = _design(8)
    frame = pd.DataFrame(X, columns=["intercept", "x", "z"])
    res = fit_random_intercept(y, frame, list(groups))  # names from the DataFrame
    assert isinstance(res, MixedModelResult)
    assert res.names == ["intercept", "x", "z"]
    assert isinstance(res.params, pd.Series) and isinstance(res.bse, pd.Series)
    assert res.cov_params.shape == (3, 3) and list(res.cov_params.columns) == res.names
    assert set(res.variance_components) == {"participant", "residual"}
    assert res.n_obs == len(y) and res.n_groups == len(np.unique(groups))
    by_name = res.test("x")
    assert isinstance(by_name, ContrastTest)
    assert res.test([0, 1, 0]) == by_name
    assert res.test({"x": 1.0}) == by_name
    assert by_name.se == pytest.approx(res.bse["x"], rel=1e-12)
    assert by_name.t == pytest.approx(res.params["x"] / res.bse["x"], rel=1e-12)
    summary = res.summary()
    assert list(summary.columns) == ["estimate", "se", "t", "df", "p"]
    assert summary.loc["x", "p"] == pytest.approx(by_name.p, rel=1e-12)
    diff = res.test({"x": 1.0, "z": -1.0})
    cov = res.cov_params
    assert diff.se == pytest.approx(np.sqrt(cov.loc["x", "x"] + cov.loc["z", "z"] - 2 * cov.loc["x", "z"]))
    assert 0 < diff.p < 1 and diff.df > 0


@pytest.mark.parametrize(
    "contrast, match",
    [("nope", "no coefficient named 'nope'"), ([1, 0], "3 weights"), ([0, 0, 0], "not all 0"),
     ({"w": 1}, "no coefficient named 'w'")],
)
def test_bad_contrasts_raise(contrast, match):
    y, X, groups = _design(9)
    res = fit_random_intercept(y, X, groups, ["a", "b", "c"])
    with pytest.raises(InputError, match=match):
        res.test(contrast)


def test_rank_deficient_design_names_the_columns():
    y, X, groups = _design(10)
    Xd = np.column_stack([X, X[:, 1] * 2 - X[:, 2], np.random.default_rng(0).normal(size=len(y))])
    with pytest.raises(InputError, match=r"rank-deficient.*'b', 'c', 'd'") as err:
        fit_random_intercept(y, Xd, groups, ["a", "b", "c", "d", "e"])
    assert "'a'" not in str(err.value) and "'e'" not in str(err.value)
    Xz = np.column_stack([X, np.zeros(len(y))])
    with pytest.raises(InputError, match="'zero'.*all 0"):
        fit_random_intercept(y, Xz, groups, ["a", "b", "c", "zero"])


def test_bad_inputs_raise_input_error():
    y, X, groups = _design(12)
    names = ["a", "b", "c"]
    y_nan = y.copy()
    y_nan[4] = np.nan
    label = np.array([f"r{g}" for g in groups], dtype=object)  # participant (record) ids
    with pytest.raises(InputError, match=rf"y: row 4 \(participant {label[4]}\) is missing or not finite"):
        fit_random_intercept(y_nan, X, label, names)
    X_nan = X.copy()
    X_nan[2, 1] = np.inf
    with pytest.raises(InputError, match=rf"X: column 'b', row 2 \(participant {label[2]}\) is missing"):
        fit_random_intercept(y, X_nan, label, names)
    with pytest.raises(InputError, match="expected 3 coefficient names"):
        fit_random_intercept(y, X, groups, ["a", "b"])
    with pytest.raises(InputError, match="given more than once"):
        fit_random_intercept(y, X, groups, ["a", "b", "a"])
    with pytest.raises(InputError, match="y: expected"):
        fit_random_intercept(y[:-1], X, groups, names)
    with pytest.raises(InputError, match="groups: expected"):
        fit_random_intercept(y, X, groups[:-1], names)
    with pytest.raises(InputError, match="at least 2 participants"):
        fit_random_intercept(y, X[:, :2], np.zeros(len(y)), names[:2])
    with pytest.raises(InputError, match="more than one row"):
        fit_random_intercept(y, X, np.arange(len(y)), names)
    g_none = groups.astype(object)
    g_none[3] = None
    with pytest.raises(InputError, match="row 3 has no participant label"):
        fit_random_intercept(y, X, g_none, names)
    with pytest.raises(InputError, match="2-D"):
        fit_random_intercept(y, X[:, 0], groups, names)


def test_non_numbers_are_named_by_argument_row_participant_and_column():
    y, X, groups = _design(14)
    label = np.array([f"r{g}" for g in groups], dtype=object)
    y_text = y.astype(object)
    y_text[5] = "n/a"
    with pytest.raises(InputError, match=rf"^y: row 5 \(participant {label[5]}\) is not a number$"):
        fit_random_intercept(y_text, X, label, ["a", "b", "c"])
    y_na = y.astype(object)
    y_na[6] = pd.NA  # missing, not "not a number"
    with pytest.raises(InputError, match=rf"y: row 6 \(participant {label[6]}\) is missing"):
        fit_random_intercept(y_na, X, label, ["a", "b", "c"])
    frame = pd.DataFrame(X, columns=["a", "b", "c"]).astype(object)
    frame.loc[7, "c"] = "high"
    with pytest.raises(InputError, match=rf"^X: column 'c', row 7 \(participant {label[7]}\) is not a number$"):
        fit_random_intercept(y, frame, label)
    with pytest.raises(InputError, match="groups: participant labels must be numbers or strings"):
        fit_random_intercept(y, X, [{"id": g} for g in groups], ["a", "b", "c"])
    with pytest.raises(InputError, match=r"^X: column 'x1', row 51 \(participant 19\) is not a number"):
        fit_random_intercept(y, [[1.0, 2.0]] * (len(y) - 1) + [[1.0, [2.0, 3.0]]], groups)
    with pytest.raises(InputError, match="^y: expected a regular array"):
        fit_random_intercept([np.zeros(2), np.zeros((2, 2))], X[:2], groups[:2])


def test_y_fitted_exactly_is_refused():
    y, X, groups = _design(15)
    with pytest.raises(InputError, match="^y: the columns of X fit y exactly"):
        fit_random_intercept(X @ [1.0, 2.0, -1.0], X, groups, ["a", "b", "c"])
    with pytest.raises(InputError, match="^y: the columns of X fit y exactly"):
        fit_random_intercept(np.zeros(len(y)), X, groups, ["a", "b", "c"])


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 1000),
    y_exp=st.integers(-70, 70),
    x_exp=st.integers(-70, 70),
    reml=st.booleans(),
)
def test_any_units_give_the_same_tests(seed, y_exp, x_exp, reml):
    """Units of y and of a column of X (10^-70 .. 10^70 each): t, df, p unchanged; estimates, SEs,
    variances scale; log-likelihood shifts by the Jacobian of the change of units."""
    y, X, groups = _design(seed, n_groups=12, ratio=1.0)
    names = ["a", "b", "c"]
    base = fit_random_intercept(y, X, groups, names, reml=reml)
    cy, cx = 10.0**y_exp, 10.0**x_exp
    res = fit_random_intercept(y * cy, X * [1.0, cx, 1.0], groups, names, reml=reml)
    assert res.converged == base.converged
    np.testing.assert_allclose(res.summary()[["t", "df", "p"]], base.summary()[["t", "df", "p"]], rtol=1e-8)
    np.testing.assert_allclose(res.params, base.params * cy / [1.0, cx, 1.0], rtol=1e-9)
    np.testing.assert_allclose(res.bse, base.bse * cy / [1.0, cx, 1.0], rtol=1e-9)
    assert res.variance_components["residual"] == pytest.approx(base.variance_components["residual"] * cy**2, rel=1e-9)
    n, p = X.shape
    shift = -(n - p if reml else n) * np.log(cy) - (np.log(cx) if reml else 0.0)
    assert res.loglik == pytest.approx(base.loglik + shift, rel=1e-9, abs=1e-8)


@pytest.mark.parametrize("factor", [1e160, 1e-170])
def test_units_beyond_double_precision_are_refused(factor):
    y, X, groups = _design(16)
    with pytest.raises(InputError, match="overflow or underflow double precision"):
        fit_random_intercept(y * factor, X, groups, ["a", "b", "c"])


def test_memory_is_linear_in_the_rows():
    """40,000 rows from 20,000 participants: a dense n x n matrix would need 12.8 GB (and G x G
    3.2 GB); the fit stays within a few times the data (1.9 MB per column)."""
    rng = np.random.default_rng(17)
    n_groups = 20_000
    groups = np.repeat(np.arange(n_groups), 2)
    time = np.tile([0.0, 1.0], n_groups)
    arm = rng.integers(0, 2, n_groups)[groups].astype(float)
    X = np.column_stack([np.ones(2 * n_groups), time, arm, time * arm])
    y = X @ [1.0, -1.0, 0.2, 0.5] + rng.normal(size=n_groups)[groups] + rng.normal(size=2 * n_groups)
    tracemalloc.start()
    try:
        res = fit_random_intercept(y, X, groups, ["intercept", "time", "arm", "time:arm"])
        res.summary()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert res.converged and res.n_obs == 40_000
    assert peak < 64 * 2**20, f"peak {peak / 2**20:.0f} MiB"


_CELLS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True, width=64),
    st.integers(-5, 5),
    st.sampled_from([None, "", "x", "1.5", pd.NA, True]),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    y_cells=st.lists(_CELLS, min_size=0, max_size=12),
    x_cells=st.lists(_CELLS, min_size=0, max_size=24),
    group_cells=st.lists(st.one_of(st.integers(0, 3), st.none(), st.text(max_size=2)), min_size=0, max_size=12),
)
def test_fuzzed_inputs_fit_or_raise_input_error(y_cells, x_cells, group_cells):
    """Any mixture of numbers, infinities, missing values, text and odd shapes: a result or an
    InputError naming the argument (y, X, groups or names), never another exception."""
    n = len(y_cells)
    x_cells = (x_cells + [1.0] * (2 * n))[: 2 * n]
    X = np.array(x_cells, dtype=object).reshape(n, 2) if n else np.empty((0, 2))
    groups = (group_cells + [0] * n)[:n]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            res = fit_random_intercept(y_cells, X, groups, ["a", "b"])
    except InputError as err:
        assert str(err).split(":")[0] in {"y", "X", "groups", "names", "y, X"}
    else:
        assert isinstance(res, MixedModelResult) and res.n_obs == n


def test_docstring_example_runs():
    assert doctest.testmod(mixed, optionflags=doctest.ELLIPSIS).failed == 0


# --------------------------------------------------------------------------- design_primary


def _toy_frame():
    rows = []
    for i, (arm, age, sex) in enumerate([("prt", 40, "female"), ("placebo", 55, "male"), ("usual_care", 30, "female")]):
        for time, value in (("pre", 5.0 + i), ("post", 3.0 + i)):
            rows.append({"participant": f"r{i}", "arm": arm, "time": time, "age": age, "sex": sex, "value": value})
    return pd.DataFrame(rows)


def test_design_primary_reference_coding():
    frame = _toy_frame()
    frame.loc[5, "value"] = np.nan  # missing post for r2: row dropped
    y, X, groups, names = design_primary(frame)
    assert names == ["intercept", "age", "sex", "time", "placebo", "usual_care", "time:placebo", "time:usual_care"]
    assert list(groups) == ["r0", "r0", "r1", "r1", "r2"]
    np.testing.assert_array_equal(y, [5, 3, 6, 4, 7])
    expected = np.array([
        [1, 40, 1, 0, 0, 0, 0, 0],
        [1, 40, 1, 1, 0, 0, 0, 0],
        [1, 55, 0, 0, 1, 0, 0, 0],
        [1, 55, 0, 1, 1, 0, 1, 0],
        [1, 30, 1, 0, 0, 1, 0, 0],
    ], dtype=float)
    np.testing.assert_array_equal(X, expected)


@pytest.mark.parametrize(
    "column, value, match",
    [("arm", "waitlist", "record r1: arm"), ("time", "1mo", "record r1: time"),
     ("sex", None, "record r1: sex"), ("age", None, "record r1: age")],
)
def test_design_primary_rejects_bad_rows(column, value, match):
    frame = _toy_frame()
    frame[column] = frame[column].astype(object)
    frame.loc[2, column] = value
    with pytest.raises(InputError, match=match):
        design_primary(frame)


def test_design_primary_rejects_missing_columns_and_duplicates():
    with pytest.raises(InputError, match="missing column"):
        design_primary(_toy_frame().drop(columns="sex"))
    frame = _toy_frame()
    frame.loc[1, "time"] = "pre"
    with pytest.raises(InputError, match="^record r0: more than one value at pre$"):
        design_primary(frame)


@pytest.mark.parametrize(
    "row, column, value, match",
    [
        (3, "value", "seven", "^record r1: value is not a number$"),
        (3, "value", np.inf, "^record r1: value is not finite$"),
        (2, "participant", None, "^design_primary: row 2 has a value but no participant$"),
        (3, "arm", "prt", "^record r1: arm differs between the participant's rows"),
        (3, "age", 56, "^record r1: age differs between the participant's rows"),
        (3, "sex", "female", "^record r1: sex differs between the participant's rows"),
        (3, "age", "fifty", "^record r1: age is missing or not a number$"),
        (3, "age", np.inf, "^record r1: age is missing or not a number$"),
    ],
)
def test_design_primary_names_the_record_and_column(row, column, value, match):
    frame = _toy_frame()
    frame[column] = frame[column].astype(object)
    frame.loc[row, column] = value
    with pytest.raises(InputError, match=match):
        design_primary(frame)


def test_design_primary_drops_blank_values_like_missing_ones():
    frame = _toy_frame()
    frame["value"] = frame["value"].astype(object)
    frame.loc[5, "value"] = "  "
    frame.loc[4, "value"] = "7"  # numeric text is a number
    y, X, groups, _ = design_primary(frame)
    assert list(groups) == ["r0", "r0", "r1", "r1", "r2"]
    np.testing.assert_array_equal(y, [5, 3, 6, 4, 7])


_FRAME_CELLS = {
    "participant": st.sampled_from(["r0", "r1", "r2", 7, None]),
    "arm": st.sampled_from(["prt", "placebo", "usual_care", "waitlist", None]),
    "time": st.sampled_from(["pre", "post", "1mo", None]),
    "age": st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.sampled_from(["40", "old", None])),
    "sex": st.sampled_from(["male", "female", "other", None]),
    "value": st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.sampled_from(["3", "", "x", None])),
}


@settings(max_examples=80, deadline=None)
@given(rows=st.lists(st.fixed_dictionaries(_FRAME_CELLS), min_size=0, max_size=8))
def test_fuzzed_frames_give_a_design_or_a_named_error(rows):
    frame = pd.DataFrame(rows, columns=list(_FRAME_CELLS))
    try:
        y, X, groups, names = design_primary(frame)
    except InputError as err:
        assert str(err).startswith(("record ", "design_primary: "))
    else:
        assert X.shape == (len(y), len(names)) == (len(groups), 8)
        assert np.all(np.isfinite(X)) and np.all(np.isfinite(y))
        assert set(np.unique(X[:, 3])) <= {0.0, 1.0}


def test_missing_arm_in_data_is_a_named_rank_deficiency():
    rng = np.random.default_rng(0)
    frame = pd.concat([_toy_frame().assign(participant=lambda f, k=k: f["participant"] + f"-{k}",
                                           value=lambda f: f["value"] + rng.normal(size=len(f)))
                       for k in range(6)])
    frame = frame[frame["arm"] != "usual_care"]
    y, X, groups, names = design_primary(frame)
    with pytest.raises(InputError, match="'usual_care'"):
        fit_random_intercept(y, X, groups, names)


# --------------------------------------------------------------------------- statsmodels (optional)


def test_agrees_with_statsmodels_mixedlm_when_installed():
    sm = pytest.importorskip("statsmodels.api")
    y, X, groups = _design(13, n_groups=40)
    res = fit_random_intercept(y, X, groups, ["a", "b", "c"])
    other = sm.MixedLM(y, X, groups).fit(reml=True)
    np.testing.assert_allclose(res.params.to_numpy(), other.fe_params, rtol=1e-4)
    assert res.variance_components["residual"] == pytest.approx(other.scale, rel=1e-4)
