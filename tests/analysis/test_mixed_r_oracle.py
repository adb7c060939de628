"""Differential tests of prt.analysis.mixed against R lme4 + lmerTest (oracle, not a dependency).

Varied random designs (numbers of participants, unbalanced sizes, singletons, continuous and
categorical covariates, within- and between-participant covariates, small and large variance
ratios, a boundary fit) are written to a temporary CSV; ``tests/analysis/r/fit_lmer.R`` fits
``lmer(y ~ 0 + x0 + ... + (1 | g))`` and prints estimates, SEs, Satterthwaite df, t, variance
components and log-likelihood as JSON. lmerTest differentiates numerically, so df agree to ~1e-6;
we assert 1e-3 relative (brief), estimates and SEs to 1e-6.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from prt.analysis.mixed import fit_random_intercept

R_SCRIPT = Path(__file__).parent / "r" / "fit_lmer.R"

pytestmark = pytest.mark.r_oracle


def _design(seed, n_groups, sizes, ratio, kind):
    """(y, X, groups) for one scenario; ``sizes`` (low, high) rows per participant."""
    rng = np.random.default_rng(seed)
    size = rng.integers(sizes[0], sizes[1] + 1, n_groups)
    size[:2] = np.maximum(size[:2], 2)
    groups = np.repeat(np.arange(n_groups), size)
    n = len(groups)
    columns = [np.ones(n)]
    if kind in ("mixed", "trial"):
        columns.append(rng.normal(45, 12, n_groups)[groups])  # age-like, per participant
        columns.append(rng.integers(0, 2, n_groups)[groups].astype(float))  # sex-like
    if kind == "trial":  # time x 3-level arm, reference coding, as the primary analysis
        arm = rng.integers(0, 3, n_groups)[groups]
        time = np.concatenate([np.arange(k) % 2 for k in size]).astype(float)
        placebo, usual = (arm == 1).astype(float), (arm == 2).astype(float)
        columns += [time, placebo, usual, time * placebo, time * usual]
    if kind == "mixed":  # a within-participant continuous covariate and a 3-level category
        columns.append(rng.normal(size=n))
        cat = rng.integers(0, 3, n)
        columns += [(cat == 1).astype(float), (cat == 2).astype(float)]
    X = np.column_stack(columns)
    beta = rng.normal(size=X.shape[1]) / np.maximum(1, np.abs(X).mean(axis=0))
    y = X @ beta + np.sqrt(ratio) * rng.normal(size=n_groups)[groups] + rng.normal(size=n)
    return y, X, groups


SCENARIOS = {
    "trial-151-singletons": dict(seed=1, n_groups=151, sizes=(1, 2), ratio=1.2, kind="trial"),
    "small-unbalanced": dict(seed=2, n_groups=8, sizes=(2, 15), ratio=0.7, kind="mixed"),
    "large-ratio": dict(seed=3, n_groups=30, sizes=(1, 5), ratio=25.0, kind="mixed"),
    "small-ratio": dict(seed=4, n_groups=60, sizes=(2, 4), ratio=0.05, kind="mixed"),
    "intercept-only": dict(seed=5, n_groups=20, sizes=(1, 6), ratio=1.0, kind="intercept"),
    "trial-balanced-pairs": dict(seed=6, n_groups=45, sizes=(2, 2), ratio=3.0, kind="trial"),
    "boundary": dict(seed=7, n_groups=40, sizes=(2, 4), ratio=0.0, kind="mixed"),
}


def _write_job(tmp_path, key, y, X, groups, reml, contrasts=None):
    data = pd.DataFrame({"y": y, "g": [f"p{g}" for g in groups]})
    for j in range(X.shape[1]):
        data[f"x{j}"] = X[:, j]
    job = {"data": str(tmp_path / f"{key}.csv"), "reml": reml}
    data.to_csv(job["data"], index=False, float_format="%.17g")
    if contrasts is not None:
        job["contrasts"] = str(tmp_path / f"{key}-contrasts.csv")
        pd.DataFrame(contrasts, columns=[f"x{j}" for j in range(X.shape[1])]).to_csv(
            job["contrasts"], index=False, float_format="%.17g"
        )
    return job


def _contrasts(p):
    rng = np.random.default_rng(0)
    rows = [rng.normal(size=p)]
    if p > 1:
        rows.append(np.eye(p)[-1] - np.eye(p)[p // 2])
    return np.vstack(rows)


ML_SCENARIOS = ("trial-151-singletons", "small-unbalanced", "boundary")


@pytest.fixture(scope="module")
def lmer_fits(rscript, tmp_path_factory):
    """Every scenario fitted by R in one Rscript run: {(name, reml): R's JSON result}."""
    tmp_path = tmp_path_factory.mktemp("lmer")
    keys, jobs = [], []
    for name, spec in SCENARIOS.items():
        y, X, groups = _design(**spec)
        for reml in (True, False) if name in ML_SCENARIOS else (True,):
            contrasts = _contrasts(X.shape[1]) if reml else None
            keys.append((name, reml))
            jobs.append(_write_job(tmp_path, f"job{len(jobs)}", y, X, groups, reml, contrasts))
    jobs_path = tmp_path / "jobs.json"
    jobs_path.write_text(json.dumps(jobs))
    done = subprocess.run([rscript, str(R_SCRIPT), str(jobs_path)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return dict(zip(keys, json.loads(done.stdout)))


def _compare(ours, r, boundary=False):
    summary = ours.summary()
    scale = np.abs(np.asarray(r["estimate"])).max()
    np.testing.assert_allclose(summary["estimate"], r["estimate"], rtol=1e-6, atol=1e-8 * scale)
    np.testing.assert_allclose(summary["se"], r["se"], rtol=1e-6)
    np.testing.assert_allclose(summary["t"], r["t"], rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(summary["df"], r["df"], rtol=1e-3)
    assert ours.loglik == pytest.approx(r["loglik"], rel=1e-9)
    assert ours.variance_components["residual"] == pytest.approx(r["sigma2_e"], rel=1e-6)
    if boundary:
        assert ours.variance_components["participant"] == 0.0 == r["sigma2_u"]
    else:
        assert ours.variance_components["participant"] == pytest.approx(r["sigma2_u"], rel=1e-5)


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_reml_matches_lmertest(name, lmer_fits):
    y, X, groups = _design(**SCENARIOS[name])
    ours = fit_random_intercept(y, X, groups, [f"x{j}" for j in range(X.shape[1])], reml=True)
    assert ours.converged
    r = lmer_fits[(name, True)]
    _compare(ours, r, boundary=name == "boundary")
    for k, L in enumerate(_contrasts(X.shape[1])):
        test = ours.test(L)
        assert test.estimate == pytest.approx(r["contrasts"]["estimate"][k], rel=1e-6, abs=1e-9)
        assert test.se == pytest.approx(r["contrasts"]["se"][k], rel=1e-6)
        assert test.df == pytest.approx(r["contrasts"]["df"][k], rel=1e-3)


@pytest.mark.parametrize("name", ML_SCENARIOS)
def test_ml_matches_lmertest(name, lmer_fits):
    y, X, groups = _design(**SCENARIOS[name])
    ours = fit_random_intercept(y, X, groups, [f"x{j}" for j in range(X.shape[1])], reml=False)
    assert ours.converged
    _compare(ours, lmer_fits[(name, False)], boundary=name == "boundary")


def test_boundary_scenario_is_on_the_boundary():
    """Guards the scenario set: the 'boundary' design really has sigma2_u estimated as 0."""
    y, X, groups = _design(**SCENARIOS["boundary"])
    ours = fit_random_intercept(y, X, groups, [f"x{j}" for j in range(X.shape[1])])
    assert ours.variance_components["participant"] == 0.0
