"""Time prt.analysis.mixed.fit_random_intercept on the trial's shape, and at scale (run by hand).

    .venv/bin/python benchmarks/bench_mixed.py [--fits 200] [--groups 151] [--obs 300]
    .venv/bin/python benchmarks/bench_mixed.py --scale [--groups 60000] [--per-participant 3]

Default: design ``y ~ 1 + age + sex + time * arm`` (8 coefficients), ``--groups`` participants with
pre/post rows, some participants missing one row so there are ``--obs`` rows in all (as in the
trial: 286 rows for 151 participants). Reports the median and 90th percentile time per fit
(fit + Satterthwaite summary of all coefficients).

``--scale``: one fit of the same model on ``--groups`` participants with ``--per-participant``
visits each (time 0, 1, 2, ...; default 60,000 x 3 = 180,000 rows), reporting the wall time, the
peak of memory allocated during the fit (tracemalloc, which sees numpy's arrays) and the process'
peak resident memory. A dense n x n matrix would need 8 n^2 bytes (259 GB for 180,000 rows).
Figures go in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import resource
import time
import tracemalloc

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


def repeated(rng: np.random.Generator, n_groups: int, per_participant: int):
    """The same model with every participant seen ``per_participant`` times (time 0, 1, ...)."""
    rows = np.repeat(np.arange(n_groups), per_participant)
    time_ = np.tile(np.arange(per_participant, dtype=float), n_groups)
    arm = rng.integers(0, 3, n_groups)[rows]
    placebo, usual = (arm == 1).astype(float), (arm == 2).astype(float)
    X = np.column_stack([np.ones(len(rows)), rng.normal(41, 15, n_groups)[rows],
                         rng.integers(0, 2, n_groups)[rows].astype(float), time_, placebo, usual,
                         time_ * placebo, time_ * usual])
    beta = np.array([4.0, 0.0, 0.4, -2.8, 0.0, 0.0, 1.8, 2.4])
    y = X @ beta + rng.normal(0, 1.1, n_groups)[rows] + rng.normal(0, 1.0, len(rows))
    return y, X, rows


def scale(n_groups: int, per_participant: int) -> None:
    rng = np.random.default_rng(2022)
    y, X, groups = repeated(rng, n_groups, per_participant)
    fit_random_intercept(*repeated(rng, 200, per_participant)).summary()  # warm-up (imports)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    tracemalloc.start()
    start = time.perf_counter()
    fit = fit_random_intercept(y, X, groups)
    summary = fit.summary()
    elapsed = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    data = (y.nbytes + X.nbytes + groups.nbytes) / 2**20
    print(f"{len(y):,} rows, {n_groups:,} participants, 8 coefficients; converged: {fit.converged}")
    print(f"fit + summary: {elapsed:.2f} s; peak allocated during the fit {peak / 2**20:.0f} MiB "
          f"(the data: {data:.0f} MiB); process peak RSS {after:.0f} MB (before the fit {before:.0f} MB)")
    print(f"a dense n x n matrix would need {8 * len(y) ** 2 / 1e9:,.0f} GB")
    print(summary.round(4).to_string())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fits", type=int, default=200)
    parser.add_argument("--groups", type=int, default=None)
    parser.add_argument("--obs", type=int, default=300)
    parser.add_argument("--scale", action="store_true", help="one large fit: time and memory")
    parser.add_argument("--per-participant", type=int, default=3)
    args = parser.parse_args()
    if args.scale:
        scale(args.groups or 60_000, args.per_participant)
        return
    groups = args.groups or 151
    rng = np.random.default_rng(2022)
    datasets = [trial_like(rng, groups, args.obs) for _ in range(args.fits)]
    fit_random_intercept(*datasets[0]).summary()  # warm-up (imports, caches)
    times = []
    for y, X, groups_ in datasets:
        start = time.perf_counter()
        fit_random_intercept(y, X, groups_).summary()
        times.append(time.perf_counter() - start)
    times_ms = 1e3 * np.array(times)
    print(f"{args.fits} fits, {args.obs} rows, {groups} participants, 8 coefficients")
    print(f"per fit: median {np.median(times_ms):.2f} ms, p90 {np.percentile(times_ms, 90):.2f} ms, "
          f"min {times_ms.min():.2f} ms")


if __name__ == "__main__":
    main()
