"""Time prt.analysis.mixed.fit_random_intercept on the trial's shape (run by hand).

    .venv/bin/python benchmarks/bench_mixed.py [--fits 200] [--groups 151] [--obs 300]

Design: ``y ~ 1 + age + sex + time * arm`` (8 coefficients), ``--groups`` participants with
pre/post rows, some participants missing one row so there are ``--obs`` rows in all (as in the
trial: 286 rows for 151 participants). Reports the median and 90th percentile time per fit
(fit + Satterthwaite summary of all coefficients). Figures go in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from prt.analysis.mixed import fit_random_intercept


def trial_like(rng: np.random.Generator, n_groups: int, n_obs: int):
    """Simulated primary-analysis data with ``n_obs`` of the ``2 n_groups`` rows kept."""
    arm = rng.integers(0, 3, n_groups)
    age = rng.normal(41, 15, n_groups)
    female = rng.integers(0, 2, n_groups).astype(float)
    u = rng.normal(0, 1.1, n_groups)
    rows = np.repeat(np.arange(n_groups), 2)
    time_ = np.tile([0.0, 1.0], n_groups)
    keep = np.sort(rng.choice(2 * n_groups, size=n_obs, replace=False))
    rows, time_ = rows[keep], time_[keep]
    placebo = (arm[rows] == 1).astype(float)
    usual = (arm[rows] == 2).astype(float)
    X = np.column_stack([np.ones(len(rows)), age[rows], female[rows], time_, placebo, usual,
                         time_ * placebo, time_ * usual])
    beta = np.array([4.0, 0.0, 0.4, -2.8, 0.0, 0.0, 1.8, 2.4])
    y = X @ beta + u[rows] + rng.normal(0, 1.0, len(rows))
    return y, X, rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fits", type=int, default=200)
    parser.add_argument("--groups", type=int, default=151)
    parser.add_argument("--obs", type=int, default=300)
    args = parser.parse_args()
    rng = np.random.default_rng(2022)
    datasets = [trial_like(rng, args.groups, args.obs) for _ in range(args.fits)]
    fit_random_intercept(*datasets[0]).summary()  # warm-up (imports, caches)
    times = []
    for y, X, groups in datasets:
        start = time.perf_counter()
        fit_random_intercept(y, X, groups).summary()
        times.append(time.perf_counter() - start)
    times_ms = 1e3 * np.array(times)
    print(f"{args.fits} fits, {args.obs} rows, {args.groups} participants, 8 coefficients")
    print(f"per fit: median {np.median(times_ms):.2f} ms, p90 {np.percentile(times_ms, 90):.2f} ms, "
          f"min {times_ms.min():.2f} ms")


if __name__ == "__main__":
    main()
