"""Hedges g of the change from baseline between arms, with bootstrap SE and percentile 95% CI.

Method (Ashar et al., JAMA Psychiatry 2022, Table 2; protocol notes "Analysis methods"):
``g = (mean change arm 1 - mean change arm 2) / pooled SD of the change scores
x (1 - 3 / (4 (n1 + n2) - 9))``; SE (SD of the bootstrap distribution) and 95% percentile CI from
resamples drawn within each arm independently. ``g < 0``: the first arm's score fell more.

p value (our documented choice): the two-sided pooled-variance (Student) t test of the change
scores, ``t = (m1 - m2) / (s_p sqrt(1/n1 + 1/n2))`` on ``n1 + n2 - 2`` df. It is the exact test of
the same standardized difference g estimates (same pooled SD), so it has no resampling noise.

Resampling design (vectorized, and identical to ``scipy.stats.bootstrap``): cells are grouped by
(comparison, timepoint) and, within that, by the exact set of participants observed in both arms
(normally every outcome measured at a visit shares it). Each group gets its own generator,
``numpy.random.default_rng(SeedSequence(seed, spawn_key=(0, comparison, timepoint, group)))``, and
draws ``idx1 = integers(0, n1, (B, n1))`` then ``idx2 = integers(0, n2, (B, n2))``, exactly the
draws ``scipy.stats.bootstrap((x1, x2), hedges_g, axis=-1, method="percentile")`` makes with that
generator; all outcomes of the group are resampled with those index matrices at once (as
resample-count matrices, turned into resample means and variances by matrix products). So one
scipy call per cell with the group's generator reproduces every number to floating-point rounding
(``benchmarks/bench_analysis.py`` and the tests check it).
Sharing draws across outcomes measured on the same people is valid: each outcome's bootstrap
distribution is still that of an independent within-arm resample.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from prt.analysis.baseline import with_baseline
from prt.vocabulary import ARMS, BASELINE, COMPARISONS, EFFECT_TIMEPOINTS  # (name, first, second); g < 0: first fell more
CONFIDENCE = 0.95
_STREAM_EFFECTS = 0  # first spawn_key entry: keeps effect and mediation streams apart


def hedges_correction(n1, n2):
    """Small-sample correction J = 1 - 3 / (4 (n1 + n2) - 9) (Hedges 1981; Ashar et al. 2022)."""
    return 1.0 - 3.0 / (4.0 * (np.asarray(n1, float) + np.asarray(n2, float)) - 9.0)


def hedges_g(x1: np.ndarray, x2: np.ndarray, axis: int = -1) -> np.ndarray:
    """Hedges g of ``x1`` vs ``x2`` along ``axis`` (vectorized; the statistic scipy's bootstrap calls).

    ``(mean1 - mean2) / s_pooled x J``, ``s_pooled`` from the two sample variances (ddof 1).
    """
    x1 = np.moveaxis(np.asarray(x1, float), axis, -1)
    x2 = np.moveaxis(np.asarray(x2, float), axis, -1)
    n1, n2 = x1.shape[-1], x2.shape[-1]
    m1, m2 = x1.mean(axis=-1), x2.mean(axis=-1)
    v1, v2 = x1.var(axis=-1, ddof=1), x2.var(axis=-1, ddof=1)
    pooled = np.sqrt(((n1 - 1) * v1 + (n2 - 1) * v2) / (n1 + n2 - 2))
    with np.errstate(invalid="ignore", divide="ignore"):
        return (m1 - m2) / pooled * hedges_correction(n1, n2)


def pooled_t_p(x1: np.ndarray, x2: np.ndarray) -> np.ndarray:
    """Two-sided p of the pooled-variance t test of x1 vs x2 along the last axis (vectorized)."""
    x1, x2 = np.asarray(x1, float), np.asarray(x2, float)
    n1, n2 = x1.shape[-1], x2.shape[-1]
    df = n1 + n2 - 2
    if n1 < 2 or n2 < 2:
        return np.full(x1.shape[:-1], np.nan)
    pooled = (((n1 - 1) * x1.var(axis=-1, ddof=1) + (n2 - 1) * x2.var(axis=-1, ddof=1)) / df)
    with np.errstate(invalid="ignore", divide="ignore"):
        t = (x1.mean(axis=-1) - x2.mean(axis=-1)) / np.sqrt(pooled * (1.0 / n1 + 1.0 / n2))
    return 2.0 * stats.t.sf(np.abs(t), df)


@dataclass(frozen=True)
class BootstrapGroup:
    """Cells sharing one pair of index matrices: same comparison, timepoint and participants.

    ``x1`` (k, n1) and ``x2`` (k, n2): change scores of the k ``outcomes`` in the two arms;
    ``seed`` the SeedSequence whose generator draws the resamples.
    """

    comparison: str
    timepoint: str
    outcomes: tuple[str, ...]
    x1: np.ndarray
    x2: np.ndarray
    seed: np.random.SeedSequence

    def rng(self) -> np.random.Generator:
        return np.random.default_rng(self.seed)


def change_scores(trial, outcomes: Iterable[str], timepoints: Sequence[str] = EFFECT_TIMEPOINTS) -> dict:
    """``{outcome: DataFrame}`` of change from baseline (participant x timepoint), NaN where missing."""
    out = {}
    for outcome in outcomes:
        table = with_baseline(trial, outcome)
        cols = [t for t in timepoints if t in table.columns]
        out[outcome] = table[cols].sub(table["baseline"], axis=0)
    return out


def bootstrap_plan(trial, outcomes: Sequence[str], seed: int,
                   timepoints: Sequence[str] = EFFECT_TIMEPOINTS) -> list[BootstrapGroup]:
    """The resampling groups for every (outcome, timepoint, comparison) cell with >= 2 per arm."""
    changes = change_scores(trial, outcomes, timepoints)
    groups: list[BootstrapGroup] = []
    if not changes:
        return groups
    index = next(iter(changes.values())).index
    arm = trial.participants["arm"].reindex(index).to_numpy(object)
    for ci, (name, first, second) in enumerate(COMPARISONS):
        in1, in2 = arm == first, arm == second
        for ti, timepoint in enumerate(EFFECT_TIMEPOINTS):
            if timepoint not in timepoints:
                continue
            patterns: dict[bytes, list[str]] = {}
            masks: dict[bytes, tuple[np.ndarray, np.ndarray]] = {}
            for outcome in outcomes:
                frame = changes[outcome]
                if timepoint not in frame.columns:
                    continue
                seen = np.isfinite(frame[timepoint].to_numpy(float))
                m1, m2 = seen & in1, seen & in2
                if m1.sum() < 2 or m2.sum() < 2:
                    continue
                key = m1.tobytes() + m2.tobytes()
                patterns.setdefault(key, []).append(outcome)
                masks[key] = (m1, m2)
            for gi, (key, members) in enumerate(patterns.items()):
                m1, m2 = masks[key]
                x1 = np.vstack([changes[o][timepoint].to_numpy(float)[m1] for o in members])
                x2 = np.vstack([changes[o][timepoint].to_numpy(float)[m2] for o in members])
                seq = np.random.SeedSequence(seed, spawn_key=(_STREAM_EFFECTS, ci, ti, gi))
                groups.append(BootstrapGroup(name, timepoint, tuple(members), x1, x2, seq))
    return groups


def resample_counts(rng: np.random.Generator, n: int, n_resamples: int) -> np.ndarray:
    """How often each of ``n`` rows appears in each of ``n_resamples`` resamples, (B, n) float.

    Draws ``rng.integers(0, n, (B, n))``: the same draws ``scipy.stats.bootstrap`` makes for a
    sample of size n, so a statistic written in terms of these counts sees scipy's resamples.
    """
    idx = rng.integers(0, n, (n_resamples, n))
    idx += np.arange(0, n_resamples * n, n)[:, None]  # row offsets: one bincount for all rows
    return np.bincount(idx.ravel(), minlength=n_resamples * n).reshape(n_resamples, n).astype(float)


def small_matrix_blas():
    """Context: BLAS on one thread while the many small resample matrix products run.

    The products here are tiny (resamples x ~50 by ~50 x 2k); a multi-threaded BLAS only adds
    synchronisation cost, and on a busy machine much more. Uses threadpoolctl when installed.
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # optional: results are identical either way
        from contextlib import nullcontext

        return nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


#: Resamples processed per block: keeps the block's index and count matrices in cache. Drawing
#: ``integers(0, n, (B, n))`` block by block gives the same numbers as one call (the bit
#: generator buffers the 32-bit halves it hands out), so blocks change nothing but speed.
_BLOCK = 1024


def resample_sums(rng: np.random.Generator, values: np.ndarray, n_resamples: int) -> np.ndarray:
    """``counts @ values`` for the resample-count matrix of :func:`resample_counts`: (B, m).

    ``values`` (n, m); the draws are ``rng.integers(0, n, (B, n))`` (scipy's), taken in blocks.
    """
    n, m = values.shape
    out = np.empty((n_resamples, m))
    offsets = np.arange(0, _BLOCK * n, n)[:, None]
    for start in range(0, n_resamples, _BLOCK):
        size = min(_BLOCK, n_resamples - start)
        idx = rng.integers(0, n, (size, n))
        idx += offsets[:size]
        counts = np.bincount(idx.ravel(), minlength=size * n).reshape(size, n).astype(float)
        out[start:start + size] = counts @ values
    return out


def _moments(x: np.ndarray, rng: np.random.Generator, n_resamples: int) -> tuple[np.ndarray, np.ndarray]:
    """Resample means and variances (ddof 1) of the k rows of ``x`` (k, n): each (k, B).

    Sufficient statistics by matrix products (counts @ [c, c^2]) on values ``c`` centred at
    their sample mean, which keeps the one-pass variance as accurate as the two-pass one.
    """
    k, n = x.shape
    centre = x.mean(axis=-1, keepdims=True)
    c = x - centre
    sums = resample_sums(rng, np.concatenate([c, c * c]).T, n_resamples).T
    s1, s2 = sums[:k], sums[k:]
    mean_c = s1 / n
    var = (s2 - s1 * mean_c) / (n - 1)
    return mean_c + centre, np.maximum(var, 0.0)


def bootstrap_group(group: BootstrapGroup, n_resamples: int) -> np.ndarray:
    """Bootstrap distribution (k, B) of g for every outcome of the group, all at once.

    Equals, to floating-point rounding, ``hedges_g`` applied to scipy.stats.bootstrap's resamples
    drawn with ``group.rng()`` (one integer matrix per arm, first arm first).
    """
    rng = group.rng()
    n1, n2 = group.x1.shape[-1], group.x2.shape[-1]
    m1, v1 = _moments(group.x1, rng, n_resamples)  # arm 1's draws first, as scipy
    m2, v2 = _moments(group.x2, rng, n_resamples)
    pooled = np.sqrt(((n1 - 1) * v1 + (n2 - 1) * v2) / (n1 + n2 - 2))
    with np.errstate(invalid="ignore", divide="ignore"):
        return (m1 - m2) / pooled * hedges_correction(n1, n2)


def summarize_distribution(theta: np.ndarray) -> dict[str, np.ndarray]:
    """SE (ddof 1) and percentile CI of a (k, B) bootstrap distribution, as scipy.stats.bootstrap."""
    alpha = (1.0 - CONFIDENCE) / 2.0
    ci = stats.quantile(theta, np.asarray([alpha, 1.0 - alpha]), axis=-1)
    return {"se": np.std(theta, ddof=1, axis=-1), "ci_low": ci[..., 0], "ci_high": ci[..., 1]}


def effect_sizes(trial, outcomes: Sequence[str], *, n_resamples: int = 10_000, seed: int = 0,
                 timepoints: Sequence[str] = EFFECT_TIMEPOINTS, progress=None) -> list[dict]:
    """Records ``{outcome, timepoint, comparison, g, se, ci_low, ci_high, p, n1, n2}``.

    ``progress``: optional callable advanced by one per resampling group.
    """
    groups = bootstrap_plan(trial, outcomes, seed, timepoints)
    return effects_from_plan(groups, outcomes, n_resamples, progress=progress)


def effects_from_plan(groups: Sequence[BootstrapGroup], outcomes: Sequence[str], n_resamples: int,
                      progress=None) -> list[dict]:
    """The effect records of a :func:`bootstrap_plan` (see :func:`effect_sizes`)."""
    records = []
    with small_matrix_blas():
        for group in groups:
            records += _group_records(group, n_resamples)
            if progress is not None:
                progress(1)
    return _sorted_records(records, outcomes)


def _group_records(group: BootstrapGroup, n_resamples: int) -> list[dict]:
    records = []
    g = hedges_g(group.x1, group.x2, axis=-1)
    if n_resamples > 0:
        summary = summarize_distribution(bootstrap_group(group, n_resamples))
    else:
        nan = np.full(len(group.outcomes), np.nan)
        summary = {"se": nan, "ci_low": nan, "ci_high": nan}
    p = pooled_t_p(group.x1, group.x2)
    for k, outcome in enumerate(group.outcomes):
        records.append({
            "outcome": outcome,
            "timepoint": group.timepoint,
            "comparison": group.comparison,
            "g": float(g[k]),
            "se": float(summary["se"][k]),
            "ci_low": float(summary["ci_low"][k]),
            "ci_high": float(summary["ci_high"][k]),
            "p": float(p[k]),
            "n1": int(group.x1.shape[-1]),
            "n2": int(group.x2.shape[-1]),
        })
    return records


def _sorted_records(records: list[dict], outcomes: Sequence[str]) -> list[dict]:
    o = {name: i for i, name in enumerate(outcomes)}
    t = {name: i for i, name in enumerate(EFFECT_TIMEPOINTS)}
    c = {name: i for i, (name, _, _) in enumerate(COMPARISONS)}
    return sorted(records, key=lambda r: (o[r["outcome"]], t[r["timepoint"]], c[r["comparison"]]))


def outcome_summaries(trial, outcomes: Sequence[str],
                      timepoints: Sequence[str] = (BASELINE,) + EFFECT_TIMEPOINTS) -> list[dict]:
    """Records ``{outcome, timepoint, group, mean, sd, n}`` per arm where the outcome was measured."""
    arms = trial.participants["arm"]
    records = []
    for outcome in outcomes:
        table = with_baseline(trial, outcome)
        arm = arms.reindex(table.index)
        for timepoint in timepoints:
            if timepoint not in table.columns or table[timepoint].notna().sum() == 0:
                continue
            for group in ARMS:
                values = table.loc[arm == group, timepoint].dropna().to_numpy(float)
                n = len(values)
                records.append({
                    "outcome": outcome, "timepoint": timepoint, "group": group,
                    "mean": float(values.mean()) if n else float("nan"),
                    "sd": float(values.std(ddof=1)) if n > 1 else float("nan"),
                    "n": int(n),
                })
    return records


def as_frame(records: list[dict]) -> pd.DataFrame:
    """Records as a DataFrame (for display and tests)."""
    return pd.DataFrame.from_records(records)
