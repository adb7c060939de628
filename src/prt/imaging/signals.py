"""Time-series helpers: the canonical haemodynamic response, task regressors, nuisance removal.

The rest scans carry a rating every minute; its evoked response is regressed out before
connectivity (trial protocol notes, "fMRI tasks"). The response model is SPM's canonical
double-gamma HRF (peak 6 s, undershoot 16 s, ratio 1/6; Friston et al., NeuroImage 1998;7:30-40),
the regressor its convolution with the rating periods (boxcar) sampled at each volume's start,
as SPM and nilearn do with ``hrf_model="spm"``.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from prt.errors import InputError

#: Fine time steps per repetition time for the convolution (SPM's default microtime resolution).
OVERSAMPLING = 16


def spm_hrf(dt: float, length: float = 32.0) -> np.ndarray:
    """SPM's canonical HRF sampled every ``dt`` seconds over ``length`` seconds, unit sum."""
    t = np.arange(0.0, length, dt)
    hrf = stats.gamma.pdf(t, 6.0) - stats.gamma.pdf(t, 16.0) / 6.0
    return hrf / hrf.sum()


def task_regressor(onsets, durations, tr: float, n_volumes: int) -> np.ndarray:
    """The task's predicted response at each volume: boxcar of (onset, duration) periods * HRF."""
    if not tr > 0:
        raise InputError(f"repetition time: expected a positive number of seconds, got {tr!r}")
    dt = tr / OVERSAMPLING
    n_fine = n_volumes * OVERSAMPLING
    boxcar = np.zeros(n_fine)
    for onset, duration in zip(onsets, durations):
        start = int(round(onset / dt))
        stop = max(start + 1, int(round((onset + duration) / dt)))
        boxcar[max(start, 0): max(min(stop, n_fine), 0)] = 1.0
    response = np.convolve(boxcar, spm_hrf(dt))[:n_fine]
    return response[::OVERSAMPLING]


def residualise(series: np.ndarray, regressors: np.ndarray) -> np.ndarray:
    """Residuals of each column of ``series`` (T, V) on ``regressors`` (T, k) plus an intercept and a
    linear trend (least squares)."""
    n = series.shape[0]
    trend = np.linspace(-1.0, 1.0, n)
    design = np.column_stack([np.ones(n), trend, regressors]) if regressors.size else np.column_stack(
        [np.ones(n), trend])
    coef, *_ = np.linalg.lstsq(design, series, rcond=None)
    return series - design @ coef


def seed_correlation(seed: np.ndarray, voxels: np.ndarray) -> np.ndarray:
    """Pearson r of a seed series (T,) with each voxel series (T, V); both already residualised."""
    s = seed - seed.mean()
    v = voxels - voxels.mean(axis=0)
    denom = np.sqrt(np.sum(s**2) * np.sum(v**2, axis=0))
    with np.errstate(invalid="ignore", divide="ignore"):
        return (s @ v) / denom


def fisher_z(r: np.ndarray) -> np.ndarray:
    """Fisher's z = atanh(r), r clipped to +-(1 - 1e-7) so a perfect correlation stays finite."""
    return np.arctanh(np.clip(r, -1 + 1e-7, 1 - 1e-7))


__all__ = ["OVERSAMPLING", "fisher_z", "residualise", "seed_correlation", "spm_hrf", "task_regressor"]
