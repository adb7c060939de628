"""Balance and predictability of minimization vs simple and permuted-block randomization.

Why: a minimization design is justified by simulation (Pocock & Simon 1975; McEntegart, Controlled
Clin Trials 2003;24:S49) and its predictability must be reported against the usual alternatives
(Kahan & Morris, BMJ 2012;345:e5840; Blackwell & Hodges, Ann Math Stat 1957 for the guessing
observer). All simulated trials advance together, one participant at a time: numpy arrays carry
every trial's counts, so a step costs a few vectorized operations whatever the number of trials.

Schemes: ``minimization`` (the config's rule: :mod:`prt.trial.minimization`), ``simple`` (each arm
with probability proportional to its target ratio), ``blocks`` (permuted blocks, unstratified,
block length drawn uniformly from ``block_multiples`` times the ratio sum; a block holds each arm
``multiple * r_k`` times).

Metrics per simulated trial, then averaged (and the 95th percentile where useful):

* ``arm_range``: max - min over arms of ratio-adjusted arm sizes at the end.
* ``marginal_max``: the largest ratio-adjusted range over all factor levels (the marginal
  imbalance minimization targets); ``marginal_total``: the same ranges summed over levels.
* ``guess_minimization``: share of allocations an observer guesses right who knows the factors,
  the history and the rule, and guesses the arm minimization favours (uniformly among ties).
* ``guess_convergence``: the same for an observer who guesses the arm with the fewest
  ratio-adjusted allocations so far (the convergence strategy that defeats permuted blocks).
Guesses count as expected hits: 1/|T| when the true arm is among the |T| tied favourites.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Mapping, Sequence

import numpy as np

from prt.errors import InputError
from prt.trial.inputs import check_seed
from prt.trial.minimization import (
    TIE_TOLERANCE,
    MinimizationConfig,
    allocation_probabilities,
    arm_from_draw,
    empty_counts,
    imbalance_scores,
)

SCHEMES = ("minimization", "simple", "blocks")
#: The factors :func:`population_from_trial` fills from trial data (the trial's minimization factors).
POPULATION_FACTORS = ("age", "sex", "pain", "opioid")
#: ``current_opioid_use`` codes: the data dictionary's 1 yes / 2 no, and 0 for no as the shared export holds it.
OPIOID_CODES = {1.0: "yes", 0.0: "no", 2.0: "no"}


@dataclass(frozen=True)
class SchemeSummary:
    """Averages over simulated trials for one scheme (see the module docstring)."""

    scheme: str
    n_trials: int
    n_participants: int
    arm_range_mean: float
    arm_range_p95: float
    marginal_max_mean: float
    marginal_max_p95: float
    marginal_total_mean: float
    factor_range_mean: dict[str, float]
    guess_minimization: float
    guess_convergence: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def synthetic_factor_levels(config: MinimizationConfig, n_trials: int, n_participants: int,
                            rng: np.random.Generator,
                            level_probabilities: Mapping[str, Sequence[float]] | None = None) -> np.ndarray:
    """Independent factor levels, shape (S, N, F); uniform over levels unless probabilities given."""
    levels = np.empty((n_trials, n_participants, len(config.factors)), dtype=np.int64)
    level_probabilities = level_probabilities or {}
    for f, factor in enumerate(config.factors):
        p = level_probabilities.get(factor.name)
        if p is None:
            p = np.full(len(factor.levels), 1.0 / len(factor.levels))
        p = np.asarray(p, dtype=float)
        if p.shape != (len(factor.levels),) or (p < 0).any() or not np.isclose(p.sum(), 1.0):
            raise InputError(f"factor {factor.name!r}: level probabilities must be {len(factor.levels)} "
                             "non-negative numbers summing to 1")
        levels[:, :, f] = rng.choice(len(factor.levels), size=(n_trials, n_participants), p=p)
    return levels


def resampled_factor_levels(config: MinimizationConfig, population: Sequence[Mapping[str, Any]],
                            n_trials: int, n_participants: int, rng: np.random.Generator) -> np.ndarray:
    """Levels of participants drawn with replacement from ``population`` (rows of factor values)."""
    if not population:
        raise InputError("simulation: the population to resample is empty")
    names = [f.name for f in config.factors]
    table = np.array([config.levels_of({n: row.get(n) for n in names}, str(row.get("participant", i)))
                      for i, row in enumerate(population)], dtype=np.int64)
    return table[rng.integers(0, len(table), size=(n_trials, n_participants))]


def _block_sequences(config: MinimizationConfig, n_trials: int, n_participants: int,
                     block_multiples: Sequence[int], rng: np.random.Generator) -> np.ndarray:
    """(S, N) arm indices from permuted blocks, all trials at once."""
    ratios = np.asarray(config.ratios)
    base = np.repeat(np.arange(len(ratios)), ratios)                   # one ratio-unit block
    multiples = np.asarray(block_multiples, dtype=np.int64)
    if multiples.size == 0 or (multiples < 1).any():
        raise InputError("simulation: block multiples must be positive integers")
    min_len = base.size * multiples.min()
    n_blocks = -(-n_participants // min_len)
    out = np.empty((n_trials, n_blocks * base.size * multiples.max()), dtype=np.int64)
    pos = np.zeros(n_trials, dtype=np.int64)
    rows = np.arange(n_trials)
    for _ in range(n_blocks):
        m = multiples[rng.integers(0, multiples.size, size=n_trials)]   # block multiple per trial
        for mult in np.unique(m):
            sel = rows[m == mult]
            block = np.tile(base, mult)
            perm = rng.permuted(np.broadcast_to(block, (sel.size, block.size)), axis=1)
            cols = pos[sel, None] + np.arange(block.size)[None, :]
            out[sel[:, None], cols] = perm
        pos += m * base.size
    return out[:, :n_participants]


def _expected_hits(favoured: np.ndarray, arm: np.ndarray) -> np.ndarray:
    hit = favoured[np.arange(arm.size), arm]
    return hit / favoured.sum(axis=1)


def simulate_scheme(config: MinimizationConfig, levels: np.ndarray, scheme: str,
                    rng: np.random.Generator, block_multiples: Sequence[int] = (1, 2)) -> SchemeSummary:
    """Run ``scheme`` on factor levels (S, N, F) for all S trials at once and summarize."""
    if scheme not in SCHEMES:
        raise InputError(f"simulation: scheme must be one of {', '.join(SCHEMES)}")
    s, n, f = levels.shape
    k = len(config.arms)
    ratios = np.asarray(config.ratios, dtype=float)
    counts = empty_counts(config, s)
    totals = np.zeros((s, k), dtype=np.int64)
    rows = np.arange(s)
    fidx = np.arange(f)
    blocks = _block_sequences(config, s, n, block_multiples, rng) if scheme == "blocks" else None
    guess_min = np.zeros(s)
    guess_conv = np.zeros(s)
    by_ratio = ratios / ratios.sum()
    for t in range(n):
        lev = levels[:, t, :]
        scores = imbalance_scores(config, counts, lev)
        favoured = scores <= scores.min(axis=1, keepdims=True) + TIE_TOLERANCE
        if scheme == "minimization":
            probs = allocation_probabilities(config, scores, t, arm_totals=totals)
            arm = arm_from_draw(probs, rng.random(s))
        elif scheme == "simple":
            arm = arm_from_draw(np.broadcast_to(by_ratio, (s, k)), rng.random(s))
        else:
            arm = blocks[:, t]
        adjusted = totals / ratios
        fewest = adjusted <= adjusted.min(axis=1, keepdims=True) + TIE_TOLERANCE
        guess_min += _expected_hits(favoured, arm)
        guess_conv += _expected_hits(fewest, arm)
        counts[rows[:, None], fidx[None, :], lev, arm[:, None]] += 1
        totals[rows, arm] += 1
    adjusted_counts = counts / ratios                                   # (S,F,L,K)
    level_range = adjusted_counts.max(axis=-1) - adjusted_counts.min(axis=-1)   # (S,F,L); padded = 0
    arm_range = (totals / ratios).max(axis=1) - (totals / ratios).min(axis=1)
    marginal_max = level_range.max(axis=(1, 2))
    factor_range = {fac.name: float(level_range[:, i, :].max(axis=1).mean())
                    for i, fac in enumerate(config.factors)}
    return SchemeSummary(
        scheme=scheme, n_trials=s, n_participants=n,
        arm_range_mean=float(arm_range.mean()), arm_range_p95=float(np.percentile(arm_range, 95)),
        marginal_max_mean=float(marginal_max.mean()), marginal_max_p95=float(np.percentile(marginal_max, 95)),
        marginal_total_mean=float(level_range.sum(axis=(1, 2)).mean()),
        factor_range_mean=factor_range,
        guess_minimization=float(guess_min.sum() / (s * n)),
        guess_convergence=float(guess_conv.sum() / (s * n)),
    )


def compare_schemes(config: MinimizationConfig, n_participants: int = 151, n_trials: int = 1000,
                    seed: int | None = None, population: Sequence[Mapping[str, Any]] | None = None,
                    level_probabilities: Mapping[str, Sequence[float]] | None = None,
                    schemes: Sequence[str] = SCHEMES,
                    block_multiples: Sequence[int] = (1, 2)) -> dict[str, SchemeSummary]:
    """Every scheme on the same simulated participants (common random numbers), by scheme name.

    Participants are resampled from ``population`` (rows with the config's factor names) when
    given, else drawn with independent factor levels (``level_probabilities``, default uniform).
    """
    if n_participants < 1 or n_trials < 1:
        raise InputError("simulation: participants and trials must be >= 1")
    rng = np.random.default_rng(check_seed(seed))
    if population is not None:
        levels = resampled_factor_levels(config, population, n_trials, n_participants, rng)
    else:
        levels = synthetic_factor_levels(config, n_trials, n_participants, rng, level_probabilities)
    streams = rng.spawn(len(schemes))
    return {name: simulate_scheme(config, levels, name, stream, block_multiples)
            for name, stream in zip(schemes, streams)}


def population_from_trial(trial, config: MinimizationConfig, source: str = "population") -> list[dict[str, Any]]:
    """Each participant's minimization factors from trial data, to resample in simulations.

    Factors: ``age``, ``sex``, ``pain`` = baseline pain intensity by the one baseline definition,
    :func:`prt.analysis.baseline.with_baseline` (mean of eligibility and pre where present; Ashar
    et al. 2022), and ``opioid`` (``current_opioid_use`` 1 -> ``yes``; 0 or 2 -> ``no``). A
    participant with any factor missing is left out: the trial never allocates without every factor.
    The config must use exactly these factors; any other code is an InputError naming the record.
    """
    import pandas as pd

    from prt.analysis.baseline import with_baseline

    names = {f.name for f in config.factors}
    if names != set(POPULATION_FACTORS):
        raise InputError(f"{source}: fills the factors {', '.join(POPULATION_FACTORS)}; the config has "
                         f"{', '.join(sorted(names))}")
    p = trial.participants
    if "current_opioid_use" not in p.columns:
        raise InputError(f"{source}: no current_opioid_use field (the opioid factor)")
    pain = with_baseline(trial, "pain_intensity")["baseline"]
    frame = pd.DataFrame({"age": p["age"], "sex": p["sex"], "pain": pain.reindex(p.index),
                          "opioid": pd.to_numeric(p["current_opioid_use"], errors="coerce")}, index=p.index)
    given = p["current_opioid_use"].notna() & (p["current_opioid_use"].astype(str).str.strip() != "")
    unknown = given & ~frame["opioid"].isin(list(OPIOID_CODES))
    if unknown.any():
        raise InputError(f"{source}: record {str(frame.index[unknown][0])!r}, field current_opioid_use: "
                         "expected 1 (yes), 0 or 2 (no)")
    complete = frame.dropna()
    complete = complete.assign(opioid=complete["opioid"].map(OPIOID_CODES))
    return [{"participant": str(pid), **row} for pid, row in zip(complete.index, complete.to_dict("records"))]


def load_population(path, config: MinimizationConfig) -> list[dict[str, Any]]:
    """:func:`population_from_trial` of a trial export file (REDCap flat/long or tidy CSV)."""
    from prt.trial.inputs import read_trial_file

    label = f"--population {path}"
    return population_from_trial(read_trial_file(path, "--population"), config, label)
