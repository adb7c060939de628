"""Simulated PRT trials calibrated to the Boulder Back Pain Study's published summary figures.

A simulated trial is plain :class:`prt.data.TrialData`, so the analysis engine, the REDCap writer
and the report run on it unchanged (it is prt's embedded demo data). The generating model:

- arms: an exact block of ``n`` in the given ratio (largest remainder), randomly permuted;
- covariates: age and back-pain duration by inverse-CDF interpolation of the trial's deciles,
  sex, education, ethnicity, employment, marital status and opioid use by the trial's shares;
- outcomes: per participant a multivariate normal over the outcome's timepoints with the
  arm x timepoint means and SDs of the trial (Ashar et al., JAMA Psychiatry 2022, Table 2) and
  the trial's pooled within-arm correlation across timepoints; outcomes are linked through the
  trial's baseline cross-outcome correlation (see :func:`_latent_scores`);
- each score is rounded to its grain and clipped to the range its instrument definition declares
  (:data:`SCALES`); the
  latent normal's mean and SD are solved so that the rounded, clipped score has the published
  mean and SD (:func:`latent_moments`), so floor effects (PRT's post-treatment pain near 0) do
  not bias the effects;
- attrition per arm x timepoint from the trial's completion counts of the primary outcome;
  ``"monotone"`` (default): once a participant misses a follow-up, every later one is missing,
  retention being the running minimum of the trial's completion rates; ``"observed"``: the trial's
  own counts per timepoint (it had returners: 124 at 12 months after 110 at 2 months), nested so
  that the participants present at a timepoint are those most likely to stay.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import optimize, stats

from prt.data import TrialData
from prt.data.mapping import SIMULATED_FIELD
from prt.errors import InputError
from prt.trial.inputs import check_seed
from prt.vocabulary import ARMS, BASELINE_SOURCES, PRIMARY_OUTCOME, outcome_ranges

# PRIMARY_OUTCOME (prt.vocabulary): its completion counts define visit attendance.
# BASELINE_SOURCES (prt.vocabulary): the two pre-randomization assessments everyone attended.
ATTRITION_PATTERNS = ("monotone", "observed")
CORRELATIONS = ("arm", "pooled")


@dataclass(frozen=True)
class Scale:
    """Range and grain of a scored outcome (the protocol notes' measures table)."""

    minimum: float
    maximum: float
    grain: float

    def grid(self) -> np.ndarray:
        steps = int(round((self.maximum - self.minimum) / self.grain))
        return self.minimum + self.grain * np.arange(steps + 1)

    def snap(self, values: np.ndarray) -> np.ndarray:
        """Round to the grain and clip to the range."""
        steps = np.round((np.asarray(values, dtype=float) - self.minimum) / self.grain)
        top = round((self.maximum - self.minimum) / self.grain)
        snapped = self.minimum + self.grain * np.clip(steps, 0, top)
        return np.round(snapped, 10)


#: Grain of each simulated outcome as the trial's REDCap data hold it (protocol notes, "Measures"):
#: BPI items 0-10 (severity = mean of 4, interference = mean of 7), ODI in steps of 2, sums of
#: integer items, sliders in whole points. Ranges come from the instrument definitions.
GRAINS: dict[str, float] = {
    "pain_intensity": 1, "bpi_intensity": 0.25, "bpi_interference": 1 / 7, "odi": 2,
    "promis_depression": 1, "promis_anger": 1, "promis_anxiety": 1, "promis_sleep": 1,
    "tsk11": 1, "pcs": 1, "sopa_emotion": 1, "panas_positive": 1, "panas_negative": 1,
    "pgic": 1, "ceq": 1, "tx_satisfaction": 1,
}


def _scales() -> dict[str, Scale]:
    """Each outcome's grain with the range its instrument declares (:func:`prt.vocabulary.outcome_ranges`)."""
    ranges = outcome_ranges()
    missing = sorted(set(GRAINS) - set(ranges))
    if missing:  # a definition lost its data_fields: fail loudly rather than simulate unclipped
        raise RuntimeError(f"no instrument declares the range of {', '.join(missing)}")
    return {outcome: Scale(*ranges[outcome], grain) for outcome, grain in GRAINS.items()}


#: Range (from the instrument definitions) and grain of each simulated outcome.
SCALES: dict[str, Scale] = _scales()


# --------------------------------------------------------------------------- calibration
@functools.lru_cache(maxsize=4)
def load_calibration(name: str = "boulder") -> dict:
    """The packaged calibration figures ``prt/trial/calibration/<name>.yaml`` (aggregates only)."""
    try:
        text = resources.files("prt.trial.calibration").joinpath(f"{name}.yaml").read_text(encoding="utf-8")
    except (FileNotFoundError, IsADirectoryError):
        raise InputError(f"calibration {name!r}: no such packaged calibration (expected {name}.yaml)") from None
    from prt.files import loads_yaml

    return loads_yaml(text, f"calibration {name}.yaml")


def _discrete_moments(mu: np.ndarray, sigma: np.ndarray, scale: Scale) -> tuple[np.ndarray, np.ndarray]:
    """Mean and SD of ``snap(N(mu, sigma))``: exact, from the normal's mass on each grid cell."""
    grid = scale.grid()
    edges = np.concatenate([[-np.inf], (grid[:-1] + grid[1:]) / 2, [np.inf]])
    cdf = stats.norm.cdf((edges[None, :] - mu[:, None]) / sigma[:, None])
    mass = np.diff(cdf, axis=1)
    mean = mass @ grid
    var = mass @ grid**2 - mean**2
    return mean, np.sqrt(np.maximum(var, 0.0))



#: The largest synthetic trial (held in memory at once; a real trial is far smaller).
MAX_PARTICIPANTS = 1_000_000


@functools.lru_cache(maxsize=4096)
def latent_moments(outcome: str, mean: float, sd: float) -> tuple[float, float]:
    """Latent normal (mean, SD) whose rounded and clipped draws have the target mean and SD.

    Solved by least squares on the exact discrete moments; a target no distribution on the scale
    can reach (e.g. an SD too large for the range) gets the closest attainable one.
    """
    scale = SCALES.get(outcome)
    if scale is None or not np.isfinite(mean) or not np.isfinite(sd) or sd <= 0:
        return float(mean), float(sd)

    def residual(params):
        m, s = _discrete_moments(np.array([params[0]]), np.array([np.exp(params[1])]), scale)
        return [m[0] - mean, s[0] - sd]

    span = scale.maximum - scale.minimum
    start = [mean, np.log(max(sd, scale.grain / 4))]
    fit = optimize.least_squares(
        residual, start, bounds=([scale.minimum - 2 * span, np.log(scale.grain / 10)],
                                 [scale.maximum + 2 * span, np.log(4 * span)]),
        xtol=1e-10, ftol=1e-10,
    )
    return float(fit.x[0]), float(np.exp(fit.x[1]))


def _correlation_factor(matrix: Sequence[Sequence[float]], name: str) -> np.ndarray:
    corr = np.asarray(matrix, dtype=float)
    try:
        return np.linalg.cholesky(corr)
    except np.linalg.LinAlgError:
        raise InputError(f"calibration: correlation matrix of {name} is not positive definite") from None


# --------------------------------------------------------------------------- design pieces
def arm_counts(n: int, ratio: Sequence[float], rng: np.random.Generator) -> np.ndarray:
    """Exact arm sizes for ``n`` in ``ratio`` (largest remainder; ties broken at random)."""
    ratio = np.asarray(ratio, dtype=float)
    if ratio.shape != (len(ARMS),) or np.any(ratio < 0) or ratio.sum() <= 0:
        raise InputError(f"ratio: expected {len(ARMS)} non-negative weights ({', '.join(ARMS)}), got {list(ratio)}")
    exact = n * ratio / ratio.sum()
    counts = np.floor(exact).astype(int)
    remainder = exact - counts
    order = np.lexsort((rng.random(len(ratio)), -remainder))
    counts[order[: n - counts.sum()]] += 1
    return counts


def _from_deciles(deciles: Sequence[float], size: int, rng: np.random.Generator) -> np.ndarray:
    """Draws by linear interpolation of the inverse CDF through the deciles."""
    return np.interp(rng.random(size), np.linspace(0, 1, len(deciles)), deciles)


def _from_shares(shares: Mapping, size: int, rng: np.random.Generator) -> np.ndarray:
    codes = [np.nan if k == "missing" else float(k) for k in shares]
    p = np.asarray(list(shares.values()), dtype=float)
    return rng.choice(np.asarray(codes), size=size, p=p / p.sum())


def _covariates(n: int, calibration: dict, rng: np.random.Generator) -> dict[str, np.ndarray]:
    cov = calibration["covariates"]
    out: dict[str, np.ndarray] = {
        "age": np.round(_from_deciles(cov["age"]["deciles"], n, rng)),
        "sex": np.where(rng.random(n) < cov["sex"]["female"], "female", "male"),
    }
    for name, spec in cov.items():
        if name in ("age", "sex"):
            continue
        if "shares" in spec:
            out[name] = _from_shares(spec["shares"], n, rng)
        elif "deciles" in spec:
            out[name] = np.round(2 * _from_deciles(spec["deciles"], n, rng)) / 2
    return out


def _latent_scores(
    calibration: dict, outcomes: Sequence[str], arms: np.ndarray, correlation: str, rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """Standard-normal scores per outcome (n x timepoints), correlated within and across outcomes.

    Outcome o's scores are ``E_o @ L_o.T`` with ``L_o`` the Cholesky factor of its correlation over
    timepoints (the participant's arm's own, or the pooled within-arm one); the innovations
    ``E_o[:, k]`` of all outcomes share the baseline cross-outcome correlation ``C`` at every k.
    The joint covariance is a linear map of a Gaussian, hence valid; each outcome keeps exactly its
    correlation over time, and two outcomes correlate exactly ``C`` at eligibility and at baseline
    (mean of eligibility and pre) when their eligibility-pre correlations are equal, closely otherwise.
    """
    n = len(arms)
    cross = calibration.get("baseline_cross_correlation", {"outcomes": [], "matrix": []})
    linked = [o for o in cross["outcomes"] if o in outcomes]
    width = max(len(calibration["outcomes"][o]["timepoints"]) for o in outcomes)
    innovations: dict[str, np.ndarray] = {}
    if linked:
        index = [cross["outcomes"].index(o) for o in linked]
        c = np.asarray(cross["matrix"], dtype=float)[np.ix_(index, index)]
        chol = _correlation_factor(c, "baseline cross-outcome correlation")
        draws = rng.standard_normal((n, width, len(linked))) @ chol.T
        for j, o in enumerate(linked):
            innovations[o] = draws[:, :, j]
    scores = {}
    for o in outcomes:
        spec = calibration["outcomes"][o]
        k = len(spec["timepoints"])
        e = innovations[o][:, :k] if o in innovations else rng.standard_normal((n, k))
        if k > 1:
            by_arm = spec.get("correlation_by_arm") if correlation == "arm" else None
            out = np.empty_like(e)
            for arm in ARMS:
                rows = arms == arm
                matrix = by_arm[arm] if by_arm else spec["correlation"]
                out[rows] = e[rows] @ _correlation_factor(matrix, f"{o} ({arm})").T
            e = out
        scores[o] = e
    return scores


def _attendance(
    calibration: dict, arms: np.ndarray, timepoints: Sequence[str], pattern: str, rng: np.random.Generator
) -> np.ndarray:
    """Boolean n x timepoints: who attended each assessment (baseline events always attended).

    Counts per arm x timepoint are the trial's completion rates of the primary outcome times the
    arm's size, rounded; participants are ranked by one random propensity, so attendance sets are
    nested (``"monotone"`` uses the running minimum of the rates: no one returns after missing).
    """
    spec = calibration["outcomes"][PRIMARY_OUTCOME]
    arm_n = calibration["arms"]
    present = np.ones((len(arms), len(timepoints)), dtype=bool)
    propensity = rng.random(len(arms))
    for arm in ARMS:
        members = np.flatnonzero(arms == arm)
        if len(members) == 0:
            continue
        rank = np.empty(len(members), dtype=int)
        rank[np.argsort(propensity[members])] = np.arange(len(members))
        retained = 1.0
        for j, t in enumerate(timepoints):
            if t in BASELINE_SOURCES:
                continue
            rate = spec["arms"][arm][t]["n"] / arm_n[arm] if t in spec["arms"][arm] else 1.0
            retained = min(retained, rate) if pattern == "monotone" else rate
            keep = int(round(retained * len(members)))
            present[members, j] = rank < keep
    return present


# --------------------------------------------------------------------------- public API
def simulate_trial(
    n: int = 151,
    seed: int | None = None,
    *,
    ratio: Sequence[float] = (1, 1, 1),
    attrition: str = "monotone",
    outcomes: Sequence[str] | None = None,
    correlation: str = "arm",
    calibration: dict | str = "boulder",
) -> TrialData:
    """A synthetic PRT trial of ``n`` participants calibrated to the Boulder study's summaries.

    Args:
        n: participants randomized (at least one per arm with a positive ratio weight).
        seed: random seed, a non-negative integer (numpy's rule) or None; the same seed gives the same trial.
        ratio: allocation weights for (prt, placebo, usual_care); an exact block of ``n``.
        attrition: ``"monotone"`` (no return after a missed follow-up) or ``"observed"``
            (the trial's own counts per timepoint, which had returners).
        outcomes: which calibrated outcomes to generate (default: all, see :data:`SCALES`).
        correlation: ``"arm"`` (default): each arm's own correlation over timepoints, which keeps
            each arm's change-score SD and so the published effects (PRT's post-treatment scores
            pile up near 0 and decouple from baseline); ``"pooled"``: one within-arm correlation.
        calibration: a packaged calibration name or an already loaded calibration dict.

    >>> trial = simulate_trial(30, seed=1)
    >>> trial.arms.value_counts().sort_index().to_dict()
    {'placebo': 10, 'prt': 10, 'usual_care': 10}
    >>> trial.timepoints
    ('eligibility', 'pre', 'post', '1mo', '2mo', '3mo', '6mo', '12mo')
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or not 3 <= n <= MAX_PARTICIPANTS:
        raise InputError(f"n: expected an integer from 3 to {MAX_PARTICIPANTS:,} participants, got {n!r}")
    if correlation not in CORRELATIONS:
        raise InputError(f"correlation: expected one of {', '.join(CORRELATIONS)}, got {correlation!r}")
    if attrition not in ATTRITION_PATTERNS:
        raise InputError(f"attrition: expected one of {', '.join(ATTRITION_PATTERNS)}, got {attrition!r}")
    cal = load_calibration(calibration) if isinstance(calibration, str) else calibration
    known = list(cal["outcomes"])
    outcomes = list(known if outcomes is None else outcomes)
    unknown = [o for o in outcomes if o not in cal["outcomes"]]
    if unknown or not outcomes:
        raise InputError(f"outcomes: {unknown or 'none given'} not calibrated; known: {', '.join(known)}")
    rng = np.random.default_rng(check_seed(seed))

    counts = arm_counts(int(n), ratio, rng)
    arms = rng.permutation(np.repeat(np.asarray(ARMS), counts))
    ids = np.array([str(i + 1) for i in range(n)])
    covariates = _covariates(n, cal, rng)
    participants = pd.DataFrame({"participant": ids, "arm": arms, **covariates}).set_index("participant")
    participants[SIMULATED_FIELD] = 1.0  # marks the data as synthetic in every layout it is written to

    all_timepoints = list(dict.fromkeys(t for o in outcomes for t in cal["outcomes"][o]["timepoints"]))
    attend = _attendance(cal, arms, all_timepoints, attrition, rng)
    column = {t: j for j, t in enumerate(all_timepoints)}
    scores = _latent_scores(cal, outcomes, arms, correlation, rng)
    arm_index = {a: arms == a for a in ARMS}

    pieces = []
    for o in outcomes:
        spec = cal["outcomes"][o]
        tps = spec["timepoints"]
        mu = np.empty((n, len(tps)))
        sd = np.empty((n, len(tps)))
        for arm, mask in arm_index.items():
            for j, t in enumerate(tps):
                cell = spec["arms"][arm][t]
                mu[mask, j], sd[mask, j] = latent_moments(o, float(cell["mean"]), float(cell["sd"]))
        values = mu + sd * scores[o]
        if o in SCALES:
            values = SCALES[o].snap(values)
        seen = attend[:, [column[t] for t in tps]]
        rows, cols = np.nonzero(seen)
        pieces.append(pd.DataFrame({
            "participant": ids[rows],
            "timepoint": np.asarray(tps)[cols],
            "outcome": o,
            "value": values[rows, cols],
        }))
    measures = pd.concat(pieces, ignore_index=True)
    return TrialData.from_frames(participants, measures)


def check_output(path) -> Path:
    """The file ``prt simulate`` may write: a new file, or a previous simulation, never real data.

    An existing file is replaced only when its header names :data:`SIMULATED_FIELD` (written by
    ``prt simulate``): synthetic participants must never replace a trial's own export (developers'
    guide: no stored data is lost). Its folder must exist (:func:`prt.trial.inputs.output_file`).
    """
    from prt.files import decode_text
    from prt.trial.inputs import output_file

    target = output_file(path)
    if not target.exists():
        return target
    try:
        with open(target, "rb") as handle:
            head = handle.read(1 << 20).split(b"\n", 1)[0]
        columns = {c.strip().strip('"') for c in decode_text(head, str(target)).split(",")}
    except (OSError, InputError):
        columns = set()
    if SIMULATED_FIELD not in columns:
        raise InputError(f"--out {target}: exists and is not a previous prt simulation (no {SIMULATED_FIELD} "
                         "column); prt simulate replaces only its own files - choose a new file name")
    return target


def expected_effect(
    outcome: str, timepoint: str, arm: str, control: str, *, correlation: str = "arm",
    calibration: dict | str = "boulder",
) -> float:
    """Population Hedges-type g implied by the calibration for change from baseline at ``timepoint``.

    Baseline is the mean of eligibility and pre (the paper's definition); the change SD of each arm
    follows from its SDs and correlation (its own or the pooled one); the two arms' change variances
    are averaged.
    Used to check that the calibration reproduces the published effects before any sampling.
    """
    cal = load_calibration(calibration) if isinstance(calibration, str) else calibration
    spec = cal["outcomes"][outcome]
    tps = spec["timepoints"]
    idx = [tps.index("eligibility"), tps.index("pre"), tps.index(timepoint)]
    weights = np.array([-0.5, -0.5, 1.0])
    changes, variances = [], []
    for a in (arm, control):
        cells = [spec["arms"][a][t] for t in ("eligibility", "pre", timepoint)]
        mean = np.array([c["mean"] for c in cells])
        sd = np.array([c["sd"] for c in cells])
        changes.append(weights @ mean)
        matrix = spec["correlation_by_arm"][a] if correlation == "arm" else spec["correlation"]
        corr = np.asarray(matrix, dtype=float)[np.ix_(idx, idx)]
        variances.append(weights @ (np.outer(sd, sd) * corr) @ weights)
    return float((changes[0] - changes[1]) / np.sqrt(np.mean(variances)))
