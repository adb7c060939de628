"""Single-level mediation with bootstrap BCa p values and CIs (Wager lab MediationToolbox method).

Model (Ashar et al., JAMA Psychiatry 2022; protocol notes "Analysis methods"): X = PRT (1) vs a
comparator (0); M = the baseline-to-posttreatment change in the mediator; Y = the outcome at a
follow-up; covariate = the baseline of the outcome; M and Y standardized (z scores, SD with
ddof 1, over the participants in the model). Paths as in MediationToolbox ``mediation.m``
(``fast_ols_ab``; github.com/canlab/MediationToolbox): with the covariate and an intercept in
every equation, ``a``: M ~ X; ``b`` and ``c'``: Y ~ M + X; ``c``: Y ~ X; ``ab = a * b``.

Inference follows the toolbox's bootstrap branch: rows (participants) resampled with replacement
``B`` times; the acceleration from the leave-one-out jackknife (score = -(jstat - mean),
``a = sum(score^3) / sum(score^2)^1.5 / 6``); the bias ``z0 = norminv(mean(bstat < stat))``;
p values from ``bootbca_pval_onetail.m`` (the two one-tailed BCa p values, tail proportions kept
within [1/B, 1 - 1/B], ``p = min(p_pos, 1 - p_pos) + min(p_neg, 1 - p_neg)``) and 95% CIs from
``bootbca_ci.m`` (BCa-adjusted percentiles, MATLAB ``prctile`` interpolation = numpy "hazen").
Differences from the toolbox, documented: a fixed number of resamples (the toolbox may add
samples when p is small, ``add_boot_samples_needed``), and the path estimates reported are the
full-sample OLS values (the toolbox prints the bootstrap mean; we give it as ``boot_mean``).

Resampling draws ``rng.integers(0, n, (B, n))`` per model from
``default_rng(SeedSequence(seed, spawn_key=(1, comparison, direction, mediator, timepoint)))``:
the draws ``scipy.stats.bootstrap(..., paired=True)`` makes with that generator. All resamples
of a model are fitted at once from resample-count weighted cross-product matrices.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
from scipy import special

from prt.analysis.baseline import with_baseline
from prt.analysis.effects import resample_sums, small_matrix_blas
from prt.vocabulary import BELIEFS, FOLLOW_UPS, PRIMARY_OUTCOME, PRT_COMPARISONS

PATHS = ("a", "b", "c_prime", "c", "ab")
MEDIATION_COMPARISONS = tuple((c.name, c.second) for c in PRT_COMPARISONS)
DIRECTIONS = ("belief_mediates_pain", "pain_mediates_belief")
ALPHA = 0.025  # two-sided 95% interval, as bootbca_ci(.025, ...)
_STREAM_MEDIATION = 1

# columns of the variable matrix V = [M, X, 1, cov, Y]
_M, _X, _ONE, _COV, _Y = range(5)


def _norminv(p):
    return special.ndtri(p)


def _normcdf(z):
    return special.ndtr(z)


def cross_products(V: np.ndarray) -> np.ndarray:
    """Per-row outer products of V's columns, (n, 25): weights @ this = weighted V'V."""
    return (V[:, :, None] * V[:, None, :]).reshape(V.shape[0], 25)


def path_coefficients(V: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Paths (a, b, c', c, ab) of weighted OLS fits, one row per weight vector: (R, 5).

    ``V`` (n, 5) holds columns M, X, 1, covariate, Y; ``weights`` (R, n) are resample counts
    (bootstrap), 0/1 (jackknife) or ones (the sample itself).
    """
    return paths_from_cross_products(weights @ cross_products(V))


def paths_from_cross_products(flat: np.ndarray) -> np.ndarray:
    """Paths (a, b, c', c, ab) from weighted cross-product matrices V'WV given as (R, 25)."""
    G = flat.reshape(-1, 5, 5)

    def solve(predictors, target):
        P = list(predictors)
        lhs = G[:, P][:, :, P]
        rhs = G[:, P, target][..., None]
        try:
            return np.linalg.solve(lhs, rhs)[..., 0]
        except np.linalg.LinAlgError:
            return (np.linalg.pinv(lhs) @ rhs)[..., 0]

    a = solve((_X, _ONE, _COV), _M)[:, 0]
    bc = solve((_M, _X, _ONE, _COV), _Y)
    c = solve((_X, _ONE, _COV), _Y)[:, 0]
    b, c_prime = bc[:, 0], bc[:, 1]
    return np.column_stack([a, b, c_prime, c, a * b])


def bca_acceleration(jstat: np.ndarray) -> np.ndarray:
    """Acceleration from jackknife values (n, k) as in bootbca_pval.m / bootbca_ci.m."""
    score = -(jstat - jstat.mean(axis=0))
    with np.errstate(invalid="ignore", divide="ignore"):
        return (score ** 3).sum(axis=0) / (score ** 2).sum(axis=0) ** 1.5 / 6.0


def bca_p(bstat: np.ndarray, stat: np.ndarray, accel: np.ndarray, testvalue: float = 0.0) -> np.ndarray:
    """Two-tailed BCa p values as MediationToolbox ``bootbca_pval_onetail.m`` (its p_2tail).

    ``bstat`` (B, k), ``stat`` (k,), ``accel`` (k,).
    """
    B = bstat.shape[0]
    with np.errstate(divide="ignore", invalid="ignore"):
        z0 = _norminv((bstat < stat).sum(axis=0) / B)
        lower = (bstat < testvalue).sum(axis=0) / B
        upper = (bstat > testvalue).sum(axis=0) / B
        lower = np.minimum(np.maximum(lower, 1.0 / B), 1.0 - 1.0 / B)
        upper = np.minimum(np.maximum(upper, 1.0 / B), 1.0 - 1.0 / B)
        zl = _norminv(lower) - z0
        zu = _norminv(upper) - z0
        z_lower = (zl * (1.0 - accel * z0) - z0) / (1.0 + accel * zl)
        z_upper = (zu * (1.0 - accel * z0) - z0) / (1.0 + accel * zu)
        p_pos = _normcdf(z_lower)
        p_neg = _normcdf(z_upper)
        return np.minimum(p_pos, 1.0 - p_pos) + np.minimum(p_neg, 1.0 - p_neg)


def bca_ci(bstat: np.ndarray, stat: np.ndarray, accel: np.ndarray, alpha: float = ALPHA) -> tuple:
    """BCa interval as MediationToolbox ``bootbca_ci.m`` (percentiles by MATLAB prctile)."""
    B = bstat.shape[0]
    with np.errstate(divide="ignore", invalid="ignore"):
        z0 = _norminv((bstat < stat).sum(axis=0) / B)
        z1, z2 = _norminv(alpha), _norminv(1.0 - alpha)
        a1 = _normcdf(z0 + (z0 + z1) / (1.0 - accel * (z0 + z1)))
        a2 = _normcdf(z0 + (z0 + z2) / (1.0 - accel * (z0 + z2)))
    low, high = np.full(len(stat), np.nan), np.full(len(stat), np.nan)
    for j in range(len(stat)):
        if np.isfinite(a1[j]) and np.isfinite(a2[j]):
            low[j] = np.quantile(bstat[:, j], a1[j], method="hazen")
            high[j] = np.quantile(bstat[:, j], a2[j], method="hazen")
    return low, high


@dataclass(frozen=True)
class MediationModel:
    """One model's data: V = [M, X, 1, covariate, Y] (M and Y standardized) and its stream."""

    mediator: str
    outcome: str
    timepoint: str
    comparison: str
    direction: str
    V: np.ndarray
    seed: np.random.SeedSequence

    def rng(self) -> np.random.Generator:
        return np.random.default_rng(self.seed)


def _zscore(x: np.ndarray) -> np.ndarray:
    sd = x.std(ddof=1)
    return (x - x.mean()) / sd if sd > 0 else x - x.mean()


def mediation_plan(trial, seed: int, beliefs: Sequence[str] = BELIEFS, outcome: str = PRIMARY_OUTCOME,
                   follow_ups: Sequence[str] = FOLLOW_UPS) -> list[MediationModel]:
    """Every model: beliefs mediating pain at each follow-up, and pain mediating each belief."""
    present = set(trial.outcomes)
    if outcome not in present:
        return []
    tables = {name: with_baseline(trial, name) for name in [outcome, *beliefs] if name in present}
    index = tables[outcome].index
    arm = trial.participants["arm"].reindex(index).to_numpy(object)
    models = []
    for ci, (comparison, control) in enumerate(MEDIATION_COMPARISONS):
        x = np.where(arm == "prt", 1.0, np.where(arm == control, 0.0, np.nan))
        for di, direction in enumerate(DIRECTIONS):
            for mi, belief in enumerate(beliefs):
                if belief not in tables:
                    continue
                if direction == "belief_mediates_pain":
                    mediator, target = belief, outcome
                else:
                    mediator, target = outcome, belief
                med, tgt = tables[mediator].reindex(index), tables[target].reindex(index)
                if "post" not in med.columns:
                    continue
                m = (med["post"] - med["baseline"]).to_numpy(float)
                cov = tgt["baseline"].to_numpy(float)
                for ti, timepoint in enumerate(follow_ups):
                    if timepoint not in tgt.columns:
                        continue
                    y = tgt[timepoint].to_numpy(float)
                    ok = np.isfinite(x) & np.isfinite(m) & np.isfinite(y) & np.isfinite(cov)
                    xs = x[ok]
                    if ok.sum() < 8 or xs.min() == xs.max():
                        continue
                    V = np.column_stack([_zscore(m[ok]), xs, np.ones(ok.sum()), cov[ok], _zscore(y[ok])])
                    seq = np.random.SeedSequence(seed, spawn_key=(_STREAM_MEDIATION, ci, di, mi, ti))
                    models.append(MediationModel(mediator, target, timepoint, comparison, direction, V, seq))
    return models


def fit_model(model: MediationModel, n_resamples: int) -> dict:
    """Paths, bootstrap SE, BCa CI and p of one model: one record."""
    n = model.V.shape[0]
    stat = path_coefficients(model.V, np.ones((1, n)))[0]
    record = {
        "mediator": model.mediator, "outcome": model.outcome, "timepoint": model.timepoint,
        "comparison": model.comparison, "direction": model.direction, "n": int(n),
        "indirect": float(stat[4]),
    }
    for name, value in zip(PATHS, stat):
        record[name] = float(value)
    if n_resamples <= 0:
        for name in PATHS:
            record[f"p_{name}"] = float("nan")
        record.update(ci_low=float("nan"), ci_high=float("nan"), p=float("nan"), se=float("nan"),
                      boot_mean=float("nan"))
        return record
    with small_matrix_blas():
        bstat = paths_from_cross_products(resample_sums(model.rng(), cross_products(model.V), n_resamples))
        jack = path_coefficients(model.V, 1.0 - np.eye(n))
    accel = bca_acceleration(jack)
    p = bca_p(bstat, stat, accel)
    low, high = bca_ci(bstat, stat, accel)
    for j, name in enumerate(PATHS):
        record[f"p_{name}"] = float(p[j])
    record.update(
        ci_low=float(low[4]), ci_high=float(high[4]), p=float(p[4]),
        se=float(bstat[:, 4].std(ddof=1)), boot_mean=float(bstat[:, 4].mean()),
    )
    return record


def mediation(trial, *, n_resamples: int = 5000, seed: int = 0, progress=None) -> list[dict]:
    """Records ``{mediator, outcome, timepoint, comparison, indirect, ci_low, ci_high, p, ...}``.

    Extra fields: direction, n, paths a, b, c_prime, c, ab and their BCa p (``p_a`` ...), the
    bootstrap SE and mean of ab.
    """
    records = []
    for model in mediation_plan(trial, seed):
        records.append(fit_model(model, n_resamples))
        if progress is not None:
            progress(1)
    return records
