"""Power of the trial's primary analysis by simulation, with a Monte Carlo interval.

The primary analysis is the REML random-intercept model ``y ~ 1 + age + sex + time * arm + (1 | id)``
on pre and post, tested by the time x arm interaction with Satterthwaite df (Ashar et al., JAMA
Psychiatry 2022; :func:`prt.analysis.mixed.fit_random_intercept`). Each simulated trial has two
arms of ``per_arm`` participants (PRT and one control) and:

- pre ~ N(0, 1); post = rho * pre + sqrt(1 - rho^2) * e - D * [PRT], e ~ N(0, 1): both timepoints
  have SD 1, so D is the standardized difference in pre -> post change in units of the post SD;
- age and sex drawn as in the trial (mean 41, SD 15.6; 54% female), with no effect on the outcome
  (they are in the model as in the trial, costing their degrees of freedom);
- ``attrition``: round(F x per_arm) participants per arm, chosen at random, miss post (missing
  completely at random); they stay in the model with their pre value.

With rho = 0.5 (default) the change SD equals the post SD, so D is also the standardized effect
of the two-sample t test the trial's power calculation used (d = 0.62, 43 per arm for 80% at
alpha .05; the trial planned 50 per arm). Complete data (no attrition) are analysed in closed form,
vectorized over all simulations: the REML fit then separates into the within-participant changes
and the participant sums, the interaction is the difference in mean change with Satterthwaite
df = 2 per_arm - 2 (or, when the participant variance is estimated at 0, the OLS fit with df
n - p); this equals :func:`fit_random_intercept` to rounding (tests). With attrition each
simulated trial is fitted with :func:`fit_random_intercept` (about 8 ms each).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
from scipy import stats

from prt.errors import InputError
from prt.trial.inputs import check_seed

#: Covariate distribution of the simulated participants (the trial's Table 1: age 41.1 (15.6), 54% female).
AGE_MEAN, AGE_SD, FEMALE_SHARE = 41.1, 15.6, 0.54
INTERVALS = ("wilson", "clopper-pearson")
METHODS = ("auto", "closed-form", "mixed-model")
NAMES = ["intercept", "age", "sex", "time", "control", "time:control"]


@dataclass(frozen=True)
class PowerResult:
    """Estimated power with its Monte Carlo confidence interval, and what was simulated."""

    power: float
    ci_low: float
    ci_high: float
    simulations: int
    rejections: int
    per_arm: int
    effect: float
    alpha: float
    attrition: float
    correlation: float
    method: str
    interval: str

    def to_dict(self) -> dict:
        return asdict(self)


def wilson_interval(successes: int, trials: int, level: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion (Wilson, JASA 1927)."""
    if trials <= 0:
        raise InputError("trials: expected at least one simulation")
    z = stats.norm.ppf(0.5 + level / 2)
    p = successes / trials
    centre = (p + z * z / (2 * trials)) / (1 + z * z / trials)
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / (1 + z * z / trials)
    return float(max(0.0, centre - half)), float(min(1.0, centre + half))


def clopper_pearson_interval(successes: int, trials: int, level: float = 0.95) -> tuple[float, float]:
    """Exact (Clopper-Pearson) binomial interval (Clopper & Pearson, Biometrika 1934)."""
    if trials <= 0:
        raise InputError("trials: expected at least one simulation")
    a = (1 - level) / 2
    low = 0.0 if successes == 0 else float(stats.beta.ppf(a, successes, trials - successes + 1))
    high = 1.0 if successes == trials else float(stats.beta.ppf(1 - a, successes + 1, trials - successes))
    return low, high


#: Largest standardized effect accepted, in SD units: power is 1 long before (D = 3 already gives
#: power 1.000 with 20 per arm), and values of hundreds of SD are a unit error; at about 1e155 the
#: sums of squares overflow and the simulation would report power 0.
MAX_EFFECT = 100.0


def analytic_power(per_arm: int, effect: float, alpha: float = 0.05, correlation: float = 0.5) -> float:
    """Exact power of the complete-data primary test: noncentral t on the change scores.

    The change SD is sqrt(2 (1 - rho)), so the noncentrality is D / sqrt(2 (1 - rho)) x
    sqrt(per_arm / 2) with df = 2 per_arm - 2 (Cohen 1988, ch. 2).
    """
    _check(per_arm, effect, alpha, 0.0, correlation, 1)
    df = 2 * per_arm - 2
    ncp = effect / math.sqrt(2 * (1 - correlation)) * math.sqrt(per_arm / 2)
    crit = stats.t.ppf(1 - alpha / 2, df)
    return float(stats.nct.sf(crit, df, ncp) + stats.nct.cdf(-crit, df, ncp))


#: Every simulated trial is held in memory at once (vectorized): bounds that keep a run well inside
#: a laptop's memory (2e7 participants per arm in all is about 1 GB of working arrays).
MAX_PER_ARM, MAX_SIMULATIONS, MAX_CELLS = 100_000, 1_000_000, 20_000_000


def _check(per_arm, effect, alpha, attrition, correlation, simulations) -> None:
    if isinstance(per_arm, bool) or not isinstance(per_arm, (int, np.integer)) or per_arm < 3:
        raise InputError(f"per-arm: expected an integer of at least 3 participants per arm, got {per_arm!r}")
    if not np.isfinite(effect):
        raise InputError(f"effect: expected a finite standardized difference, got {effect!r}")
    if abs(effect) > MAX_EFFECT:  # D = 1e200 overflowed the sums of squares and gave power 0.000
        raise InputError(f"effect: expected a standardized difference (in SD units) from -{MAX_EFFECT:g} to "
                         f"{MAX_EFFECT:g}, got {effect!r}")
    if not 0 < alpha < 1:
        raise InputError(f"alpha: expected a level between 0 and 1, got {alpha!r}")
    if not 0 <= attrition < 1:
        raise InputError(f"attrition: expected a fraction in [0, 1), got {attrition!r}")
    if not -1 < correlation < 1:
        raise InputError(f"correlation: expected a pre-post correlation in (-1, 1), got {correlation!r}")
    if isinstance(simulations, bool) or not isinstance(simulations, (int, np.integer)) or simulations < 1:
        raise InputError(f"simulations: expected a positive integer, got {simulations!r}")
    if per_arm > MAX_PER_ARM or simulations > MAX_SIMULATIONS or per_arm * simulations > MAX_CELLS:
        raise InputError(f"per-arm {per_arm} x simulations {simulations}: too large to simulate at once "
                         f"(at most {MAX_PER_ARM:,} per arm, {MAX_SIMULATIONS:,} simulations and "
                         f"{MAX_CELLS:,} simulated participants per arm in all); split the run by seed")
    if attrition and per_arm - round(attrition * per_arm) < 2:
        raise InputError(f"attrition: {attrition} leaves fewer than 2 completers per arm of {per_arm}")


def _simulate(per_arm, effect, correlation, attrition, simulations, rng):
    """Arrays (simulations x 2 per_arm): pre, post, observed-post mask; plus arm, age, sex."""
    n = 2 * per_arm
    arm = np.repeat([1.0, 0.0], per_arm)  # 1 = PRT
    age = AGE_MEAN + AGE_SD * rng.standard_normal((simulations, n))
    female = (rng.random((simulations, n)) < FEMALE_SHARE).astype(float)
    pre = rng.standard_normal((simulations, n))
    post = correlation * pre + math.sqrt(1 - correlation**2) * rng.standard_normal((simulations, n))
    post = post - effect * arm
    observed = np.ones((simulations, n), dtype=bool)
    lost = int(round(attrition * per_arm))
    if lost:
        for block in (slice(0, per_arm), slice(per_arm, n)):
            order = np.argsort(rng.random((simulations, per_arm)), axis=1)[:, :lost]
            sub = observed[:, block]
            np.put_along_axis(sub, order, False, axis=1)
            observed[:, block] = sub
    return pre, post, observed, arm, age, female


def _residual_ss(y: np.ndarray, X: np.ndarray) -> np.ndarray:
    """Residual sum of squares of y (sims x n) on per-simulation designs X (sims x n x p)."""
    beta = np.linalg.solve(np.einsum("snp,snq->spq", X, X), np.einsum("snp,sn->sp", X, y)[..., None])[..., 0]
    resid = y - np.einsum("snp,sp->sn", X, beta)
    return np.einsum("sn,sn->s", resid, resid)


def closed_form_tests(pre, post, arm, age, female) -> tuple[np.ndarray, np.ndarray]:
    """Satterthwaite t and df of time x arm for complete pre/post data, all simulations at once.

    Under the random-intercept model the changes d = post - pre (variance 2 s2_e) and the sums
    s = pre + post (variance 2 s2_e + 4 s2_u) are independent with separate mean parameters, so the
    REML estimates are the two regressions' residual mean squares: MS_d on (1, arm) with n - 2 df,
    MS_s on (1, arm, age, sex) with n - 4 df. If MS_s >= MS_d, t = (mean change difference) /
    sqrt(MS_d (1/n1 + 1/n2)), df = n - 2; otherwise s2_u = 0 (boundary) and the pooled OLS residual
    variance (SS_d + SS_s) / 2 / (2n - 6) is used with df = 2n - 6.
    """
    sims, n = pre.shape
    d = post - pre
    s = post + pre
    is_prt = arm == 1
    n1, n0 = int(is_prt.sum()), int((~is_prt).sum())
    mean1 = d[:, is_prt].mean(axis=1)
    mean0 = d[:, ~is_prt].mean(axis=1)
    ss_d = ((d[:, is_prt] - mean1[:, None]) ** 2).sum(axis=1) + ((d[:, ~is_prt] - mean0[:, None]) ** 2).sum(axis=1)
    centred_age = age - age.mean(axis=1, keepdims=True)  # same fit, better conditioned
    Xs = np.stack([np.ones((sims, n)), np.broadcast_to(arm, (sims, n)), centred_age, female], axis=2)
    ss_s = _residual_ss(s, Xs)
    ms_d = ss_d / (n - 2)
    ms_s = ss_s / (n - 4)
    interior = ms_s >= ms_d
    var_d = np.where(interior, ms_d, (ss_d + ss_s) / (2 * n - 6))
    df = np.where(interior, n - 2.0, 2.0 * n - 6.0)
    t = (mean1 - mean0) / np.sqrt(var_d * (1 / n1 + 1 / n0))
    return t, df


def mixed_model_tests(pre, post, observed, arm, age, female) -> tuple[np.ndarray, np.ndarray]:
    """Satterthwaite t and df of time x arm by :func:`fit_random_intercept`, one trial at a time."""
    from prt.analysis.mixed import fit_random_intercept

    sims, n = pre.shape
    ids = np.arange(n)
    t = np.empty(sims)
    df = np.empty(sims)
    for k in range(sims):
        keep = observed[k]
        groups = np.concatenate([ids, ids[keep]])
        time = np.concatenate([np.zeros(n), np.ones(int(keep.sum()))])
        y = np.concatenate([pre[k], post[k, keep]])
        a = arm[groups]
        X = np.column_stack([np.ones_like(y), age[k, groups], female[k, groups], time, a, time * a])
        test = fit_random_intercept(y, X, groups, NAMES).test("time:control")
        t[k], df[k] = test.t, test.df
    return t, df


def simulate_power(
    per_arm: int,
    effect: float,
    *,
    alpha: float = 0.05,
    attrition: float = 0.0,
    correlation: float = 0.5,
    simulations: int = 1000,
    seed: int | None = None,
    method: str = "auto",
    interval: str = "wilson",
    level: float = 0.95,
) -> PowerResult:
    """Power of the primary LMM test (PRT vs one control) by simulation (module docstring).

    ``method``: ``"auto"`` uses the closed form for complete data and the mixed-model fit with
    attrition; ``"mixed-model"`` forces the fit; ``"closed-form"`` requires ``attrition = 0``.
    ``interval``: Monte Carlo interval for the power, ``"wilson"`` or ``"clopper-pearson"``.
    ``seed``: a non-negative integer (numpy's rule) or None; anything else is an InputError.
    """
    _check(per_arm, effect, alpha, attrition, correlation, simulations)
    if method not in METHODS:
        raise InputError(f"method: expected one of {', '.join(METHODS)}, got {method!r}")
    if interval not in INTERVALS:
        raise InputError(f"interval: expected one of {', '.join(INTERVALS)}, got {interval!r}")
    if method == "closed-form" and attrition:
        raise InputError("method closed-form needs complete data: use attrition 0 or method mixed-model")
    rng = np.random.default_rng(check_seed(seed))
    pre, post, observed, arm, age, female = _simulate(per_arm, effect, correlation, attrition, simulations, rng)
    chosen = method if method != "auto" else ("mixed-model" if attrition else "closed-form")
    if chosen == "closed-form":
        t, df = closed_form_tests(pre, post, arm, age, female)
    else:
        t, df = mixed_model_tests(pre, post, observed, arm, age, female)
    p = 2 * stats.t.sf(np.abs(t), df)
    rejections = int(np.sum(p < alpha))
    bounds = wilson_interval if interval == "wilson" else clopper_pearson_interval
    low, high = bounds(rejections, simulations, level)
    return PowerResult(
        power=rejections / simulations, ci_low=float(low), ci_high=float(high), simulations=int(simulations),
        rejections=rejections, per_arm=int(per_arm), effect=float(effect), alpha=float(alpha),
        attrition=float(attrition), correlation=float(correlation), method=chosen, interval=interval,
    )
