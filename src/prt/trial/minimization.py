"""Pocock-Simon minimization over several arms, with target ratios, weights and a biased coin.

Source of the rules: Pocock & Simon, Biometrics 1975;31:103-15 (marginal imbalance, weighted over
factors, biased coin); Han, Enas & McEntegart, Stat Med 2009;28:3329-46 (unequal target ratios:
imbalance on counts divided by the ratio); Xiao, Yank & Ma, Comput Methods Programs Biomed
2012;108:1185-90 (the trial's cited method: minimize the symmetric Kullback-Leibler divergence
between the arms' covariate distributions, Efron's biased coin, two or more arms).

Everything here is pure and vectorized over simulated trials: the same functions
(:func:`imbalance_scores`, :func:`allocation_probabilities`, :func:`arm_from_draw`) serve one live
allocation (a batch of one) and thousands of simulated trials at once, so the allocation log,
its replay and the simulation all share one implementation.

The rule for one participant, with arms ``1..K``, target ratios ``r``, factor weights ``w``:

1. Bin each factor (continuous ones by cut-points, intervals closed on the left).
2. For each candidate arm ``k``: add the participant to arm ``k`` in the counts of the levels
   they belong to; imbalance of factor ``f`` is ``D_f(k) = measure(n_f1 / r_1, ..., n_fK / r_K)``
   (``range``, ``variance`` (divisor K - 1) or ``sd``); ``G_k = sum_f w_f D_f(k)``. With ``kl``,
   ``D_f(k)`` is the symmetric KL divergence summed over pairs of arms between the arms' whole
   level distributions of factor ``f``, counts smoothed by ``kl_smoothing`` per level.
3. The arms with the smallest ``G`` (within 1e-9) are the minimizing set ``T``. If every arm ties,
   or fewer than ``burn_in`` participants have been allocated, allocate with probability
   proportional to the target ratios. Otherwise the preferred arm is drawn uniformly from ``T``
   and receives probability ``p_preferred``; the rest ``1 - p_preferred`` is split over the
   other arms in proportion to their target ratios (equal ratios: equally, as in Xiao et al.).
   Averaging over the preferred-arm draw gives one probability vector per participant.
4. One uniform draw ``u`` in [0, 1) picks the arm: arm ``i`` iff ``c_{i-1} <= u < c_i`` with
   ``c`` the cumulative probabilities in arm order. Recording ``u`` makes replay exact.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from prt.errors import InputError

#: Imbalance measures understood by :func:`imbalance_scores`.
MEASURES = ("range", "variance", "sd", "kl")

#: Two scores closer than this count as tied (scores are sums of small rationals).
TIE_TOLERANCE = 1e-9


@dataclass(frozen=True)
class Factor:
    """One minimization factor: categorical (``levels``) or continuous binned by ``cuts``.

    A continuous factor with cut-points ``c_1 < ... < c_m`` has ``m + 1`` levels:
    ``(-inf, c_1), [c_1, c_2), ..., [c_m, inf)``; ``levels`` names them.
    """

    name: str
    levels: tuple[str, ...]
    cuts: tuple[float, ...] | None = None
    weight: float = 1.0

    def __post_init__(self) -> None:
        if not self.name:
            raise InputError("minimization factor: a factor needs a name")
        if len(self.levels) < 2 or len(set(self.levels)) != len(self.levels):
            raise InputError(f"minimization factor {self.name!r}: needs two or more distinct levels")
        if self.cuts is not None:
            if len(self.cuts) != len(self.levels) - 1:
                raise InputError(
                    f"minimization factor {self.name!r}: {len(self.cuts)} cut-points need "
                    f"{len(self.cuts) + 1} level names, got {len(self.levels)}"
                )
            if any(not math.isfinite(c) for c in self.cuts) or list(self.cuts) != sorted(set(self.cuts)):
                raise InputError(f"minimization factor {self.name!r}: cut-points must be finite and increasing")
        if not (math.isfinite(self.weight) and self.weight >= 0):
            raise InputError(f"minimization factor {self.name!r}: weight must be a number >= 0")

    @property
    def continuous(self) -> bool:
        return self.cuts is not None

    def level_of(self, value: Any, participant: str = "?") -> int:
        """Index of the level ``value`` falls in; InputError naming participant and factor otherwise."""
        where = f"participant {participant!r}, factor {self.name!r}"
        if value is None or (isinstance(value, float) and math.isnan(value)) or value == "":
            raise InputError(f"{where}: value missing (minimization needs every factor)")
        if self.continuous:
            try:
                number = float(value)
            except (TypeError, ValueError):
                raise InputError(f"{where}: expected a number") from None
            if not math.isfinite(number):
                raise InputError(f"{where}: expected a finite number")
            return int(np.searchsorted(np.asarray(self.cuts, dtype=float), number, side="right"))
        text = str(value).strip()
        if text not in self.levels:
            raise InputError(f"{where}: expected one of {', '.join(self.levels)}")
        return self.levels.index(text)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "levels": list(self.levels), "weight": self.weight}
        if self.cuts is not None:
            out["cuts"] = list(self.cuts)
        return out


@dataclass(frozen=True)
class MinimizationConfig:
    """Arms, target ratios, factors and the allocation rule (see the module docstring)."""

    arms: tuple[str, ...]
    factors: tuple[Factor, ...]
    ratios: tuple[int, ...] | None = None
    measure: str = "range"
    p_preferred: float = 0.8
    burn_in: int = 0
    kl_smoothing: float = 0.5

    def __post_init__(self) -> None:
        if len(self.arms) < 2 or len(set(self.arms)) != len(self.arms):
            raise InputError("minimization config: needs two or more distinct arms")
        ratios = self.ratios if self.ratios is not None else (1,) * len(self.arms)
        object.__setattr__(self, "ratios", tuple(ratios))
        if len(self.ratios) != len(self.arms) or any(
            not isinstance(r, (int, np.integer)) or isinstance(r, bool) or r < 1 for r in self.ratios
        ):
            raise InputError("minimization config: ratios must be one positive integer per arm")
        if not self.factors:
            raise InputError("minimization config: needs at least one factor")
        names = [f.name for f in self.factors]
        if len(set(names)) != len(names):
            raise InputError("minimization config: factor names must be distinct")
        if self.measure not in MEASURES:
            raise InputError(f"minimization config: measure must be one of {', '.join(MEASURES)}")
        if not (0.0 <= self.p_preferred <= 1.0):
            raise InputError("minimization config: p_preferred must lie in [0, 1]")
        if not isinstance(self.burn_in, int) or self.burn_in < 0:
            raise InputError("minimization config: burn_in must be an integer >= 0")
        if not (self.kl_smoothing > 0 and math.isfinite(self.kl_smoothing)):
            raise InputError("minimization config: kl_smoothing must be > 0")

    @property
    def n_levels(self) -> int:
        return max(len(f.levels) for f in self.factors)

    def levels_of(self, factors: Mapping[str, Any], participant: str = "?") -> tuple[int, ...]:
        """Level index per factor for one participant's raw factor values (all required)."""
        missing = [f.name for f in self.factors if f.name not in factors]
        if missing:
            raise InputError(f"participant {participant!r}: factor(s) missing: {', '.join(missing)}")
        unknown = sorted(set(factors) - {f.name for f in self.factors})
        if unknown:
            raise InputError(f"participant {participant!r}: unknown factor(s): {', '.join(unknown)}")
        return tuple(f.level_of(factors[f.name], participant) for f in self.factors)

    def to_dict(self) -> dict[str, Any]:
        return {
            "arms": list(self.arms),
            "ratios": list(self.ratios),
            "factors": [f.to_dict() for f in self.factors],
            "measure": self.measure,
            "p_preferred": self.p_preferred,
            "burn_in": self.burn_in,
            "kl_smoothing": self.kl_smoothing,
        }

    @classmethod
    def from_dict(cls, spec: Mapping[str, Any], source: str = "<config>") -> "MinimizationConfig":
        if not isinstance(spec, Mapping):
            raise InputError(f"{source}: expected a mapping with arms and factors")
        known = {"arms", "ratios", "factors", "measure", "p_preferred", "burn_in", "kl_smoothing"}
        unknown = sorted(set(spec) - known)
        if unknown:
            raise InputError(f"{source}: unknown key(s) {', '.join(unknown)}")
        try:
            factors = []
            for i, f in enumerate(spec.get("factors") or ()):
                if not isinstance(f, Mapping) or "name" not in f or "levels" not in f:
                    raise InputError(f"{source}: factor {i + 1} needs name and levels")
                cuts = f.get("cuts")
                factors.append(Factor(
                    name=str(f["name"]),
                    levels=tuple(str(v) for v in f["levels"]),
                    cuts=None if cuts is None else tuple(float(c) for c in cuts),
                    weight=float(f.get("weight", 1.0)),
                ))
            ratios = spec.get("ratios")
            return cls(
                arms=tuple(str(a) for a in spec.get("arms") or ()),
                factors=tuple(factors),
                ratios=None if ratios is None else tuple(ratios),
                measure=str(spec.get("measure", "range")),
                p_preferred=float(spec.get("p_preferred", 0.8)),
                burn_in=spec.get("burn_in", 0),
                kl_smoothing=float(spec.get("kl_smoothing", 0.5)),
            )
        except InputError:
            raise
        except (TypeError, ValueError) as exc:
            raise InputError(f"{source}: {exc}") from None


#: The Boulder trial's factors (protocol notes): age by decade (REDCap ``age_decile``), sex,
#: baseline pain in the REDCap ``pain_decile`` bins 0-3, 4-5, 6-7, 8-10, current opioid use.
#: The trial's own measure, coin and burn-in were not published; these defaults are ours.
TRIAL_CONFIG = MinimizationConfig(
    arms=("prt", "placebo", "usual_care"),
    factors=(
        Factor("age", ("20s", "30s", "40s", "50s", "60s-70s"), cuts=(30.0, 40.0, 50.0, 60.0)),
        Factor("sex", ("female", "male")),
        Factor("pain", ("0-3", "4-5", "6-7", "8-10"), cuts=(4.0, 6.0, 8.0)),
        Factor("opioid", ("no", "yes")),
    ),
    measure="range",
    p_preferred=0.8,
)


def load_config(path: str | Path | None = None) -> MinimizationConfig:
    """The minimization config in a YAML/JSON file, or :data:`TRIAL_CONFIG` when ``path`` is None."""
    if path is None:
        return TRIAL_CONFIG
    import yaml

    try:
        spec = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"minimization config {path}: cannot read ({exc.strerror})") from None
    except yaml.YAMLError as exc:
        raise InputError(f"minimization config {path}: not valid YAML ({exc})") from None
    return MinimizationConfig.from_dict(spec, source=f"minimization config {path}")


def empty_counts(config: MinimizationConfig, n_trials: int = 1) -> np.ndarray:
    """Zero counts, shape ``(n_trials, n_factors, n_levels, n_arms)``."""
    return np.zeros((n_trials, len(config.factors), config.n_levels, len(config.arms)), dtype=np.int64)


def _level_mask(config: MinimizationConfig) -> np.ndarray:
    mask = np.zeros((len(config.factors), config.n_levels), dtype=bool)
    for i, f in enumerate(config.factors):
        mask[i, : len(f.levels)] = True
    return mask


def _pairwise_symmetric_kl(p: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Sum over pairs of arms i < j of J(p_i, p_j) = sum_l (p_il - p_jl)(log p_il - log p_jl).

    ``p``: (..., L, K) level distributions per arm; padded levels (``mask`` False) contribute 0.
    """
    logp = np.log(np.where(mask[..., None], p, 1.0))
    diff_p = p[..., :, None] - p[..., None, :]            # (..., L, K, K)
    diff_log = logp[..., :, None] - logp[..., None, :]
    j = (diff_p * diff_log).sum(axis=-3)                    # (..., K, K)
    return j.sum(axis=(-2, -1)) / 2.0                        # each pair counted twice


def imbalance_scores(config: MinimizationConfig, counts: np.ndarray, levels: np.ndarray) -> np.ndarray:
    """Total imbalance ``G_k`` were the next participant given arm ``k``, for each trial.

    Args:
        counts: (S, F, L, K) allocations so far per factor level and arm.
        levels: (S, F) the next participant's level index per factor.
    Returns:
        (S, K) weighted imbalance per candidate arm.
    """
    counts = np.asarray(counts)
    levels = np.asarray(levels, dtype=np.int64)
    s, f, n_lev, k = counts.shape
    weights = np.array([fac.weight for fac in config.factors], dtype=float)
    eye = np.eye(k, dtype=np.int64)                           # candidate arm -> one more in that arm
    if config.measure == "kl":
        mask = _level_mask(config)
        onehot = (np.arange(n_lev)[None, None, :] == levels[:, :, None]).astype(np.int64)  # (S,F,L)
        hyp = counts[:, :, None, :, :] + onehot[:, :, None, :, None] * eye[None, None, :, None, :]
        smoothed = np.where(mask[None, :, None, :, None], hyp + config.kl_smoothing, 0.0)
        p = smoothed / smoothed.sum(axis=-2, keepdims=True)   # (S,F,Kc,L,K)
        d = _pairwise_symmetric_kl(p, mask[None, :, None, :])  # (S,F,Kc)
    else:
        at_level = np.take_along_axis(counts, levels[:, :, None, None], axis=2)[:, :, 0, :]  # (S,F,K)
        hyp = at_level[:, :, None, :] + eye[None, None, :, :]   # (S,F,Kc,K)
        x = hyp / np.asarray(config.ratios, dtype=float)
        if config.measure == "range":
            d = x.max(axis=-1) - x.min(axis=-1)
        else:
            var = x.var(axis=-1, ddof=1)
            d = var if config.measure == "variance" else np.sqrt(var)
    return np.einsum("sfk,f->sk", d, weights)


def allocation_probabilities(config: MinimizationConfig, scores: np.ndarray, n_allocated: int) -> np.ndarray:
    """Probability of each arm from the imbalance ``scores`` (S, K), per the module's step 3."""
    scores = np.atleast_2d(np.asarray(scores, dtype=float))
    s, k = scores.shape
    r = np.asarray(config.ratios, dtype=float)
    by_ratio = np.broadcast_to(r / r.sum(), (s, k)).copy()
    if n_allocated < config.burn_in:
        return by_ratio
    tied = scores <= scores.min(axis=1, keepdims=True) + TIE_TOLERANCE   # (S,K) minimizing set
    n_tied = tied.sum(axis=1, keepdims=True)
    # Given preferred arm a: p to a, (1 - p) r_i / (R - r_a) to each other arm i.
    rest = (1.0 - config.p_preferred) * r[None, :] / (r.sum() - r)[:, None]   # (a, i)
    np.fill_diagonal(rest, config.p_preferred)
    probs = (tied.astype(float) @ rest) / n_tied
    return np.where(n_tied == k, by_ratio, probs)


def arm_from_draw(probabilities: np.ndarray, draws: np.ndarray | float) -> np.ndarray:
    """Arm index chosen by uniform draw(s) ``u``: arm i iff c_(i-1) <= u < c_i (c cumulative)."""
    probabilities = np.atleast_2d(probabilities)
    cum = np.cumsum(probabilities, axis=1)
    u = np.broadcast_to(np.asarray(draws, dtype=float).reshape(-1, 1), (cum.shape[0], 1))
    chosen = (u >= cum).sum(axis=1)
    # u < 1 always; rounding may leave cum[-1] a hair under 1, so clip to the last arm with p > 0
    last = probabilities.shape[1] - 1 - np.argmax(probabilities[:, ::-1] > 0, axis=1)
    return np.minimum(chosen, last)


@dataclass(frozen=True)
class Proposal:
    """What minimization proposes for one participant before the draw."""

    levels: tuple[int, ...]
    scores: tuple[float, ...]
    probabilities: tuple[float, ...]


@dataclass
class Minimization:
    """A running minimization for one trial: counts so far, proposals and recorded allocations."""

    config: MinimizationConfig
    counts: np.ndarray = field(init=False)
    n_allocated: int = field(init=False, default=0)

    def __post_init__(self) -> None:
        self.counts = empty_counts(self.config)

    def propose(self, factors: Mapping[str, Any], participant: str = "?") -> Proposal:
        levels = self.config.levels_of(factors, participant)
        scores = imbalance_scores(self.config, self.counts, np.array([levels]))
        probs = allocation_probabilities(self.config, scores, self.n_allocated)
        return Proposal(levels, tuple(float(x) for x in scores[0]), tuple(float(x) for x in probs[0]))

    def decide(self, proposal: Proposal, draw: float) -> str:
        if not (0.0 <= draw < 1.0):
            raise InputError("allocation draw must lie in [0, 1)")
        return self.config.arms[int(arm_from_draw(np.array([proposal.probabilities]), draw)[0])]

    def record(self, levels: Sequence[int], arm: str) -> None:
        k = self.config.arms.index(arm)
        for f, level in enumerate(levels):
            self.counts[0, f, level, k] += 1
        self.n_allocated += 1

    def arm_totals(self) -> dict[str, int]:
        return {a: int(self.counts[0, 0, :, k].sum()) for k, a in enumerate(self.config.arms)}
