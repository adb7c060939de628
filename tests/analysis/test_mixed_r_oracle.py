"""Differential tests of prt.analysis.mixed against R lme4 + lmerTest (oracle, not a dependency).

Frozen oracle (as statsmodels does with R results): ``tests/analysis/r/frozen/`` holds varied
designs (``designs/*.csv``, generated deterministically by ``r/freeze_oracle.py``: numbers of
participants from 8 to 1,000, unbalanced sizes 1-15, singletons, missing post values, continuous and
categorical covariates, within- and between-participant covariates, variance ratios from 0 (a
boundary fit) and 0.001 (near the boundary) to 25) and lmerTest's results on them (``lmer.json``:
estimates, SEs, t, Satterthwaite df, p, variance components, log-likelihood, contrasts), REML and
for some ML, plus the trial's primary design (results only; its data come from ../shared/data).
The frozen comparisons run everywhere, without R. When Rscript and lmerTest are installed (CI), the
live tests re-derive every result with ``r/fit_lmer.R`` and compare prt, and the frozen file, with
them. lmerTest differentiates numerically (df agree to ~1e-5 near the boundary, ~1e-8 elsewhere):
df are compared to 1e-4 relative, estimates, SEs and t to 1e-6, log-likelihoods to 1e-9.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from prt.analysis.mixed import fit_random_intercept
from tests.analysis.r.freeze_oracle import (
    DESIGNS,
    PRIMARY,
    RESULTS,
    lmer_jobs,
    primary_design,
    read_design,
    write_design,
)

FROZEN = json.loads(Path(RESULTS).read_text())
FITS = {(fit["design"], fit["reml"]): fit for fit in FROZEN["fits"]}
SYNTHETIC = sorted(key for key in FITS if key[0] != PRIMARY)


def _label(key):
    return f"{key[0]}-{'reml' if key[1] else 'ml'}"


def _design(name, request=None):
    """(y, X, groups, names) of a frozen design; the primary one from the shared data."""
    if name == PRIMARY:
        return primary_design(request.getfixturevalue("boulder_wide_path"))
    return read_design(DESIGNS / f"{name}.csv")


def _fit(key, request=None):
    y, X, groups, names = _design(key[0], request)
    return fit_random_intercept(y, X, groups, names, reml=key[1])


def _compare(ours, r):
    """prt's fit against one lmerTest result (frozen or live)."""
    summary = ours.summary()
    assert len(summary) == len(r["names"])  # R names the columns x0 .. x{p-1}
    scale = np.abs(np.asarray(r["estimate"])).max()
    np.testing.assert_allclose(summary["estimate"], r["estimate"], rtol=1e-6, atol=1e-8 * scale)
    np.testing.assert_allclose(summary["se"], r["se"], rtol=1e-6)
    np.testing.assert_allclose(summary["t"], r["t"], rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(summary["df"], r["df"], rtol=1e-4)
    np.testing.assert_allclose(summary["p"], r["p"], rtol=1e-3, atol=1e-12)
    assert ours.loglik == pytest.approx(r["loglik"], rel=1e-9)
    assert ours.variance_components["residual"] == pytest.approx(r["sigma2_e"], rel=1e-6)
    if r["sigma2_u"] == 0.0:
        assert ours.variance_components["participant"] == 0.0
    else:
        # Near the boundary the likelihood is flat in sigma2_u: lme4's optimiser stops ~1e-8 short
        # of the root of the score (near-boundary, ML), so the tolerance is also absolute.
        assert ours.variance_components["participant"] == pytest.approx(
            r["sigma2_u"], rel=1e-5, abs=1e-6 * r["sigma2_e"]
        )
    contrasts = r["contrasts"]
    for k, weights in enumerate(contrasts["weights"]):
        test = ours.test(np.asarray(weights))
        assert test.estimate == pytest.approx(contrasts["estimate"][k], rel=1e-6, abs=1e-9 * scale)
        assert test.se == pytest.approx(contrasts["se"][k], rel=1e-6)
        assert test.t == pytest.approx(contrasts["t"][k], rel=1e-6, abs=1e-7)
        assert test.df == pytest.approx(contrasts["df"][k], rel=1e-4)
        assert test.p == pytest.approx(contrasts["p"][k], rel=1e-3, abs=1e-12)


# --------------------------------------------------------------------------- frozen (no R)


def test_frozen_oracle_covers_the_designs_asked_for():
    """Guards the scenario set: REML and ML, the boundary, near it, large designs, and R's versions."""
    names = {name for name, _ in FITS}
    assert {"boundary", "near-boundary", "missing-post", "many-groups", "unbalanced-1-to-12", PRIMARY} <= names
    assert {reml for _, reml in FITS} == {True, False}
    assert set(FROZEN["versions"]) == {"R", "lme4", "lmerTest"}
    assert FITS[("boundary", True)]["sigma2_u"] == 0.0
    near = FITS[("near-boundary", False)]
    assert 0.0 < near["sigma2_u"] < 0.001 * near["sigma2_e"]  # interior, but barely
    y, X, groups, _ = read_design(DESIGNS / "many-groups.csv")
    assert len(set(groups)) == 1000
    y, X, groups, _ = read_design(DESIGNS / "missing-post.csv")
    sizes = np.unique(groups, return_counts=True)[1]
    assert set(sizes) == {1, 2} and (sizes == 1).sum() > 20  # participants with pre only or post only


@pytest.mark.parametrize("key", SYNTHETIC, ids=_label)
def test_matches_frozen_lmertest(key):
    ours = _fit(key)
    assert ours.converged, ours.convergence_message
    _compare(ours, FITS[key])


@pytest.mark.shared_data
@pytest.mark.parametrize("reml", [True, False], ids=["reml", "ml"])
def test_primary_design_matches_frozen_lmertest(reml, request):
    """The trial's primary model (Ashar et al. 2022) against lmerTest's frozen results."""
    key = (PRIMARY, reml)
    ours = _fit(key, request)
    assert ours.converged and ours.n_groups == 151
    _compare(ours, FITS[key])
    if reml:  # the paper: t137.63 = 6.06 (vs placebo), t135.69 = 8.13 (vs usual care)
        assert [round(v, 2) for v in FITS[key]["df"][6:]] == [137.63, 135.69]


# --------------------------------------------------------------------------- live R (re-derived)


@pytest.fixture(scope="module")
def lmer_live(rscript, tmp_path_factory, request):
    """Every frozen design re-fitted by R in one Rscript run: {(design, reml): R's result}. The
    primary design is left out when the shared data are absent (outside CI)."""
    paths = {name: DESIGNS / f"{name}.csv" for name, _ in FITS if name != PRIMARY}
    try:
        y, X, groups, _ = _design(PRIMARY, request)
    except pytest.skip.Exception:
        pass
    else:
        paths[PRIMARY] = tmp_path_factory.mktemp("lmer") / "primary.csv"  # never in the repository
        write_design(paths[PRIMARY], y, X, groups)
    keys = sorted((key for key in FITS if key[0] in paths), key=_label)
    jobs = [{"data": str(paths[name]), "reml": reml, "contrasts": FITS[(name, reml)]["contrasts"]["weights"]}
            for name, reml in keys]
    return dict(zip(keys, lmer_jobs(jobs, rscript=rscript, timeout=600)))


@pytest.mark.r_oracle
@pytest.mark.parametrize("key", sorted(FITS), ids=_label)
def test_matches_live_lmertest(key, lmer_live, request):
    if key not in lmer_live:
        pytest.skip("shared trial data not available for the primary design")
    live = lmer_live[key]
    live["contrasts"]["weights"] = FITS[key]["contrasts"]["weights"]
    _compare(_fit(key, request), live)
    # The frozen file still says what R says (it was produced by the same script).
    frozen = FITS[key]
    for field in ("estimate", "se", "t"):
        np.testing.assert_allclose(live[field], frozen[field], rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(live["df"], frozen["df"], rtol=1e-4)
    assert live["loglik"] == pytest.approx(frozen["loglik"], rel=1e-9)
