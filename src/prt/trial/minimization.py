"""Minimization over several arms: symmetric KL divergence (the trial's method) or Pocock-Simon.

Sources of the rules: Pocock & Simon, Biometrics 1975;31:103-15 (marginal imbalance, weighted over
factors, biased coin); Han, Enas & McEntegart, Stat Med 2009;28:3329-46 (unequal target ratios:
imbalance on counts divided by the ratio); Endo, Nagatani, Hamada & Yoshimura, Contemp Clin Trials
2006;27:420-31 (minimize the symmetric Kullback-Leibler divergence between the arms' covariate
distributions); Xiao, Yank & Ma, Comput Methods Programs Biomed 2012;108:1185-90 (the trial's cited
method: Endo's divergence for two or more arms, Efron's biased coin over the arms ordered by
imbalance, and a biased coin towards the smallest arm once arm sizes differ by ``D(n)``).

Everything here is pure and vectorized over simulated trials: the same functions
(:func:`imbalance_scores`, :func:`allocation_probabilities`, :func:`arm_from_draw`) serve one live
allocation (a batch of one) and thousands of simulated trials at once, so the allocation log,
its replay and the simulation all share one implementation.

The rule for one participant, with arms ``1..K``, target ratios ``r``, factor weights ``w``:

1. Bin each factor (continuous ones by cut-points, intervals closed on the left).
2. For each candidate arm ``k``: add the participant to arm ``k`` in the counts of the levels
   they belong to, and score the whole table: ``G_k = sum_f w_f D_f(k)``.
   ``kl`` (default): ``D_f(k)`` is the sum over pairs of arms ``i < j`` of the symmetric KL
   divergence ``J(p_i, p_j) = sum_l (p_il - p_jl)(log p_il - log p_jl)`` between the arms'
   distributions over the levels of factor ``f`` (counts plus ``kl_smoothing`` per level).
   ``range`` / ``variance`` (divisor K - 1) / ``sd`` (Pocock-Simon): ``D_f(k) =
   measure(n_f1 / r_1, ..., n_fK / r_K)`` on the counts at the participant's level.
3. Arm-size rule (Xiao et al.; off when ``max_arm_difference`` is None): when the ratio-adjusted
   arm sizes ``n_k / r_k`` differ by ``max_arm_difference`` or more, the smallest arm is drawn
   with probability ``p_smaller_arm`` (the rest of the coin, ``(1 - p_smaller_arm) / (K - 1)``
   per other arm, goes to step 4's rule, as in the authors' program: ``Q = p_smaller_arm +
   (m - 1)(1 - p_smaller_arm)/(K - 1)`` is shared by the ``m`` tied smallest arms and step 4's
   probabilities are scaled by ``1 - Q``).
4. The arms with the smallest ``G`` (within 1e-9) are the minimizing set ``T``. If every arm ties,
   or fewer than ``burn_in`` participants have been allocated, allocate with probability
   proportional to the target ratios. Otherwise the preferred arm is drawn uniformly from ``T``
   and receives probability ``p_preferred``; the rest ``1 - p_preferred`` is split over the
   other arms in proportion to their target ratios (equal ratios: the Efron coin of Xiao et al.,
   ``P_k = (0.8, 0.1, 0.1)`` for three arms, ties sharing their coins equally).
5. One uniform draw ``u`` in [0, 1) picks the arm: arm ``i`` iff ``c_{i-1} <= u < c_i`` with
   ``c`` the cumulative probabilities in arm order. Recording ``u`` makes replay exact.

Checked against the method's authors' R program (``randomization_KLD.R``, L. Xiao 2010): the
categorical divergence term, the ordered coin with ties and the arm-size rule are theirs. Kept
different on purpose, see docs/trial.md: smoothing instead of their ``+1e-12`` inside the logs (so
empty arms need no block burn-in); the imbalance of the whole table after the hypothetical
allocation (Endo's criterion) where their program sums only the pairs that involve the candidate
arm, which balances three arms far worse (simulation in docs/trial.md).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from prt.errors import InputError

#: Imbalance measures understood by :func:`imbalance_scores`.
MEASURES = ("kl", "range", "variance", "sd")

#: Two scores closer than this count as tied (scores are sums of small rationals).
TIE_TOLERANCE = 1e-9

_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")


def parse_number(value: Any, where: str) -> float:
    """A finite number from a JSON/CSV value; strings must be plain decimals (``45``, ``6.5``).

    Why strict: Python's ``float``/``int`` also read ``4_5`` (as 45), ``1e2``, ``inf`` and
    non-ASCII digits, none of which a screening form produces. ``where`` names the record/field.
    """
    if isinstance(value, bool) or value is None:
        raise InputError(f"{where}: expected a number")
    if isinstance(value, (int, np.integer)) and not -10 ** 300 < value < 10 ** 300:
        number = math.inf  # an integer float() cannot hold (OverflowError): refused below
    elif isinstance(value, (int, float, np.integer, np.floating)):
        number = float(value)
    elif isinstance(value, str) and _NUMBER.fullmatch(value.strip()):
        number = float(value.strip())
    else:
        raise InputError(f"{where}: expected a number (digits with an optional decimal point)")
    if not math.isfinite(number):
        raise InputError(f"{where}: expected a finite number")
    return number


def _span(bounds: tuple[float, float]) -> str:
    return f"{bounds[0]:g}-{bounds[1]:g}"


@dataclass(frozen=True)
class Factor:
    """One minimization factor: categorical (``levels``) or continuous binned by ``cuts``.

    A continuous factor with cut-points ``c_1 < ... < c_m`` has ``m + 1`` levels:
    ``(-inf, c_1), [c_1, c_2), ..., [c_m, inf)``; ``levels`` names them. ``bounds`` is the range a
    continuous value must lie in (outside: an error, never binned); ``field`` the screening answer
    that holds the value (default: the factor's name).
    """

    name: str
    levels: tuple[str, ...]
    cuts: tuple[float, ...] | None = None
    weight: float = 1.0
    bounds: tuple[float, float] | None = None
    field: str | None = None

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
        if self.bounds is not None:
            if self.cuts is None:
                raise InputError(f"minimization factor {self.name!r}: bounds apply to a factor with cuts")
            low, high = self.bounds
            if not (math.isfinite(low) and math.isfinite(high) and low <= high):
                raise InputError(f"minimization factor {self.name!r}: bounds must be two finite numbers, min <= max")
        if self.field is not None and not self.field.strip():
            raise InputError(f"minimization factor {self.name!r}: field must be a non-empty name")

    @property
    def continuous(self) -> bool:
        return self.cuts is not None

    @property
    def source_field(self) -> str:
        """The screening answer that holds this factor's value."""
        return self.field or self.name

    def value_of(self, value: Any, participant: str = "?") -> float | str:
        """The checked value: a number within ``bounds`` or one of ``levels``; InputError otherwise.

        The message names the participant and factor, never the value (patient data).
        """
        where = f"participant {participant!r}, factor {self.name!r}"
        if value is None or (isinstance(value, float) and math.isnan(value)) or (
                isinstance(value, str) and not value.strip()):
            raise InputError(f"{where}: value missing (minimization needs every factor)")
        if self.continuous:
            number = parse_number(value, where)
            if self.bounds is not None and not self.bounds[0] <= number <= self.bounds[1]:
                raise InputError(f"{where}: outside the factor's range {_span(self.bounds)}")
            return number
        text = str(value).strip() if isinstance(value, str) else value
        if not isinstance(text, str) or text not in self.levels:
            raise InputError(f"{where}: expected one of {', '.join(self.levels)}")
        return text

    def level_of(self, value: Any, participant: str = "?") -> int:
        """Index of the level ``value`` falls in; InputError naming participant and factor otherwise."""
        checked = self.value_of(value, participant)
        if self.continuous:
            return int(np.searchsorted(np.asarray(self.cuts, dtype=float), checked, side="right"))
        return self.levels.index(checked)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "levels": list(self.levels), "weight": self.weight}
        if self.cuts is not None:
            out["cuts"] = list(self.cuts)
        if self.bounds is not None:
            out["bounds"] = list(self.bounds)
        if self.field is not None:
            out["field"] = self.field
        return out


_CONFIG_KEYS = {"arms", "ratios", "factors", "measure", "p_preferred", "burn_in", "kl_smoothing",
                "max_arm_difference", "p_smaller_arm"}
_FACTOR_KEYS = {"name", "levels", "cuts", "weight", "bounds", "field"}


@dataclass(frozen=True)
class MinimizationConfig:
    """Arms, target ratios, factors and the allocation rule (see the module docstring).

    The defaults are the trial's cited method (Xiao, Yank & Ma 2012): ``kl`` with Efron's coin 0.8
    and the arm-size rule; the trial's own ``D(n)`` and ``p_D(n)`` were not published, so 4 and 0.9
    are the values of the authors' program's example.
    """

    arms: tuple[str, ...]
    factors: tuple[Factor, ...]
    ratios: tuple[int, ...] | None = None
    measure: str = "kl"
    p_preferred: float = 0.8
    burn_in: int = 0
    kl_smoothing: float = 0.5
    max_arm_difference: float | None = 4
    p_smaller_arm: float = 0.9

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
        if not isinstance(self.burn_in, int) or isinstance(self.burn_in, bool) or self.burn_in < 0:
            raise InputError("minimization config: burn_in must be an integer >= 0")
        if not (self.kl_smoothing > 0 and math.isfinite(self.kl_smoothing)):
            raise InputError("minimization config: kl_smoothing must be > 0")
        if self.max_arm_difference is not None and (
                isinstance(self.max_arm_difference, bool) or not math.isfinite(self.max_arm_difference)
                or self.max_arm_difference <= 0):
            raise InputError("minimization config: max_arm_difference must be a number > 0 (or null: no rule)")
        if not (0.0 <= self.p_smaller_arm <= 1.0):
            raise InputError("minimization config: p_smaller_arm must lie in [0, 1]")

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
            "max_arm_difference": self.max_arm_difference,
            "p_smaller_arm": self.p_smaller_arm,
        }

    @classmethod
    def from_dict(cls, spec: Mapping[str, Any], source: str = "<config>") -> "MinimizationConfig":
        """A config from a mapping (YAML, a log header); keys left out take the trial's defaults."""
        if not isinstance(spec, Mapping):
            raise InputError(f"{source}: expected a mapping with arms and factors")
        unknown = sorted(set(spec) - _CONFIG_KEYS)
        if unknown:
            raise InputError(f"{source}: unknown key(s) {', '.join(map(str, unknown))}")
        defaults = {f: getattr(_DEFAULTS, f) for f in ("measure", "p_preferred", "burn_in", "kl_smoothing",
                                                       "max_arm_difference", "p_smaller_arm")}
        try:
            factors = []
            raw_factors = spec.get("factors") or ()
            if not isinstance(raw_factors, (list, tuple)):
                raise InputError(f"{source}: factors must be a list")
            for i, f in enumerate(raw_factors):
                if not isinstance(f, Mapping) or "name" not in f or "levels" not in f:
                    raise InputError(f"{source}: factor {i + 1} needs name and levels")
                extra = sorted(set(f) - _FACTOR_KEYS)
                if extra:
                    raise InputError(f"{source}: factor {i + 1}: unknown key(s) {', '.join(map(str, extra))}")
                cuts, bounds = f.get("cuts"), f.get("bounds")
                if bounds is not None and (not isinstance(bounds, (list, tuple)) or len(bounds) != 2):
                    raise InputError(f"{source}: factor {i + 1}: bounds must be [min, max]")
                factors.append(Factor(
                    name=_name(f["name"], f"factor {i + 1} name", source),
                    levels=_names(f["levels"], f"factor {i + 1} levels", source),
                    cuts=None if cuts is None else tuple(_plain_number(c, source) for c in cuts),
                    weight=_plain_number(f.get("weight", 1.0), source),
                    bounds=None if bounds is None else tuple(_plain_number(b, source) for b in bounds),
                    field=f.get("field") if f.get("field") is None or isinstance(f["field"], str)  # '' refused
                    else _name(f["field"], f"factor {i + 1} field", source),                     # by Factor
                ))
            ratios = spec.get("ratios")
            dn = spec.get("max_arm_difference", defaults["max_arm_difference"])
            return cls(
                arms=_names(spec.get("arms", ()), "arms", source),
                factors=tuple(factors),
                ratios=None if ratios is None else tuple(ratios),
                measure=str(spec.get("measure", defaults["measure"])),
                p_preferred=_plain_number(spec.get("p_preferred", defaults["p_preferred"]), source),
                burn_in=spec.get("burn_in", defaults["burn_in"]),
                kl_smoothing=_plain_number(spec.get("kl_smoothing", defaults["kl_smoothing"]), source),
                max_arm_difference=None if dn is None else _plain_number(dn, source),
                p_smaller_arm=_plain_number(spec.get("p_smaller_arm", defaults["p_smaller_arm"]), source),
            )
        except InputError as exc:
            if str(exc).startswith(source):
                raise
            raise InputError(f"{source}: {exc}") from None
        except (TypeError, ValueError) as exc:
            raise InputError(f"{source}: {exc}") from None

    def factor_values(self, participant: str, recorded: Mapping[str, Any] | None,
                      given: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Each factor's value for ``participant``, checked: the screening record's answer
        (``recorded``, by each factor's ``field``), else the value ``given`` (command line).

        A value given that disagrees with the screening record is an InputError naming the factor
        (a participant screened 50/female/pain 5 cannot be allocated as 200/male/15); so is a
        value outside the factor's range or levels, and a missing factor.
        """
        recorded = recorded or {}
        given = dict(given or {})
        unknown = sorted(set(given) - {f.name for f in self.factors})
        if unknown:
            raise InputError(f"participant {participant!r}: unknown factor(s): {', '.join(unknown)} "
                             f"(the factors are {', '.join(f.name for f in self.factors)})")
        values: dict[str, Any] = {}
        for factor in self.factors:
            record = recorded.get(factor.source_field)
            has_record = not _blank(record)
            if factor.name in given:
                value = factor.value_of(given[factor.name], participant)
                if has_record and factor.value_of(record, participant) != value:
                    raise InputError(
                        f"participant {participant!r}, factor {factor.name!r}: the value given does not agree "
                        f"with the screening record (field {factor.source_field!r}); allocation uses the "
                        "screening answers")
            elif has_record:
                value = factor.value_of(record, participant)
            else:
                raise InputError(f"participant {participant!r}, factor {factor.name!r}: no value in the screening "
                                 f"record (field {factor.source_field!r}) and none given")
            values[factor.name] = int(value) if isinstance(value, float) and value.is_integer() else value
        return values


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or (
        isinstance(value, str) and not value.strip())


def _plain_number(value: Any, source: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InputError(f"{source}: expected a number, got {type(value).__name__}")
    try:
        return float(value)
    except OverflowError:  # an integer with hundreds of digits
        raise InputError(f"{source}: expected a finite number") from None


def _names(value: Any, what: str, source: str) -> tuple[str, ...]:
    """A list of names (arms, levels) as text. A bare string would be read letter by letter
    (``arms: prt`` as arms p, r, t) and YAML reads ``yes``/``no`` as true/false: both refused."""
    if not isinstance(value, (list, tuple)):
        raise InputError(f"{source}: {what} must be a list of names, got {_kind(value)}")
    return tuple(_name(v, f"{what}[{i}]", source) for i, v in enumerate(value))


def _name(value: Any, what: str, source: str) -> str:
    if isinstance(value, bool):
        raise InputError(f"{source}: {what} is true/false; quote it (YAML reads yes/no as true/false)")
    if not isinstance(value, (str, int)) or not str(value).strip():
        raise InputError(f"{source}: {what} must be a name, got {_kind(value)}")
    return str(value)


def _kind(value: Any) -> str:
    if isinstance(value, str):
        return "text" if value.strip() else "nothing"
    return "nothing" if value is None else {dict: "a mapping", list: "a list"}.get(type(value), type(value).__name__)


_DEFAULTS = MinimizationConfig(arms=("a", "b"), factors=(Factor("f", ("x", "y")),))


def parse_factor_args(items: Iterable[str]) -> dict[str, str]:
    """``NAME=VALUE`` strings (``--factor age=45``) as a mapping; InputError for a malformed or
    repeated name. Values are checked later against the factor (:meth:`MinimizationConfig.factor_values`)."""
    factors: dict[str, str] = {}
    for item in items:
        name, sep, value = str(item).partition("=")
        name = name.strip()
        if not sep or not name:
            raise InputError(f"--factor {item!r}: expected NAME=VALUE")
        if name in factors:
            raise InputError(f"--factor {name!r} given twice")
        factors[name] = value.strip()
    return factors


def _trial_config() -> MinimizationConfig:
    from prt.vocabulary import outcome_range

    pain = outcome_range("pain_intensity")
    return MinimizationConfig(
        arms=("prt", "placebo", "usual_care"),
        factors=(
            Factor("age", ("20s", "30s", "40s", "50s", "60s-70s"), cuts=(30.0, 40.0, 50.0, 60.0),
                   bounds=(0.0, 120.0)),
            Factor("sex", ("female", "male")),
            Factor("pain", ("0-3", "4-5", "6-7", "8-10"), cuts=(4.0, 6.0, 8.0),
                   bounds=None if pain is None else (float(pain[0]), float(pain[1])), field="pain_avg_week"),
            Factor("opioid", ("no", "yes")),
        ),
        measure="kl",
        p_preferred=0.8,
        max_arm_difference=4,
        p_smaller_arm=0.9,
    )


#: The Boulder trial's factors (protocol notes): age by decade (REDCap ``age_decile``; plausible
#: 0-120), sex, baseline pain (screening ``pain_avg_week``, range from the BPI definition) in the
#: REDCap ``pain_decile`` bins 0-3, 4-5, 6-7, 8-10, current opioid use; the trial's cited rule (KL,
#: Efron's coin 0.8/0.1/0.1, arm-size rule). The trial's own D(n), p_D(n) and burn-in were not
#: published: 4, 0.9 and 0 are ours.
TRIAL_CONFIG = _trial_config()


def load_config(path: str | Path | None = None) -> MinimizationConfig:
    """The minimization config in a YAML/JSON file, or :data:`TRIAL_CONFIG` when ``path`` is None."""
    if path is None:
        return TRIAL_CONFIG
    from prt.files import load_yaml

    spec = load_yaml(path, "minimization config")
    return MinimizationConfig.from_dict(spec, source=f"minimization config {path}")


def empty_counts(config: MinimizationConfig, n_trials: int = 1) -> np.ndarray:
    """Zero counts, shape ``(n_trials, n_factors, n_levels, n_arms)``."""
    return np.zeros((n_trials, len(config.factors), config.n_levels, len(config.arms)), dtype=np.int64)


def arm_totals(counts: np.ndarray) -> np.ndarray:
    """Participants per arm (S, K) from counts (S, F, L, K): every participant has one level of factor 0."""
    return np.asarray(counts)[:, 0].sum(axis=1)


def _level_mask(config: MinimizationConfig) -> np.ndarray:
    mask = np.zeros((len(config.factors), config.n_levels), dtype=bool)
    for i, f in enumerate(config.factors):
        mask[i, : len(f.levels)] = True
    return mask


def _kl_scores(config: MinimizationConfig, counts: np.ndarray, levels: np.ndarray) -> np.ndarray:
    """``D_f(k)`` (S, F, K) for ``kl``: the symmetric divergence summed over all pairs of arms after
    adding the participant to arm ``k``.

    Only arm ``k``'s distribution changes, so ``D_f(k) = T - sum_j J(p_k, p_j) + sum_j J(p_k', p_j)``
    with ``T`` the current total and ``p_k'`` arm ``k``'s distribution with the participant: one
    (K, K) matrix of pairs per factor for the current table and one for the candidates, not one per
    candidate. Padded levels (beyond a factor's own) have zero mass and contribute nothing.
    """
    mask = _level_mask(config)[None, :, :, None]                                     # (1,F,L,1)
    n_lev = counts.shape[2]
    onehot = (np.arange(n_lev)[None, None, :] == levels[:, :, None])[..., None]       # (S,F,L,1)
    current = np.where(mask, counts + config.kl_smoothing, 0.0)                       # (S,F,L,K)
    added = current + onehot                                                          # column k: arm k + newcomer
    p = current / current.sum(axis=2, keepdims=True)
    q = added / added.sum(axis=2, keepdims=True)
    logp = np.log(np.where(mask, p, 1.0))
    logq = np.log(np.where(mask, q, 1.0))
    # J(a_i, b_j) summed over levels: (S,F,K,K) = sum_l a_i log a_i - a_i log b_j - b_j log a_i + b_j log b_j
    pt, qt = np.swapaxes(p, -1, -2), np.swapaxes(q, -1, -2)                           # (S,F,K,L)
    a_loga = (p * logp).sum(axis=2)                                                   # (S,F,K)
    cross = pt @ logp                                                                 # [i, j] = sum_l p_i log p_j
    cur = a_loga[..., :, None] + a_loga[..., None, :] - cross - np.swapaxes(cross, -1, -2)
    q_logq = (q * logq).sum(axis=2)
    new = q_logq[..., :, None] + a_loga[..., None, :] - qt @ logp - np.swapaxes(pt @ logq, -1, -2)
    k = counts.shape[-1]
    off = ~np.eye(k, dtype=bool)
    total = np.where(off, cur, 0.0).sum(axis=(-2, -1)) / 2.0                          # (S,F)
    return total[..., None] - np.where(off, cur, 0.0).sum(axis=-1) + np.where(off, new, 0.0).sum(axis=-1)


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
        d = _kl_scores(config, counts, levels)                   # (S,F,Kc)
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


def allocation_probabilities(config: MinimizationConfig, scores: np.ndarray, n_allocated: int,
                             arm_totals: np.ndarray | None = None) -> np.ndarray:
    """Probability of each arm from the imbalance ``scores`` (S, K), per the module's steps 3-4.

    ``arm_totals`` (S, K): participants per arm so far, needed by the arm-size rule (a ValueError
    when the config has one and they are not given: the rule must never be skipped silently).
    """
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
    probs = np.where(n_tied == k, by_ratio, probs)
    if config.max_arm_difference is None:
        return probs
    if arm_totals is None:
        raise ValueError("allocation_probabilities: this config's arm-size rule needs arm_totals")
    adjusted = np.atleast_2d(np.asarray(arm_totals, dtype=float)) / r             # (S,K)
    low = adjusted.min(axis=1, keepdims=True)
    trigger = adjusted.max(axis=1, keepdims=True) - low >= config.max_arm_difference - TIE_TOLERANCE
    smallest = adjusted <= low + TIE_TOLERANCE
    m = smallest.sum(axis=1, keepdims=True)
    q = config.p_smaller_arm + (m - 1) * (1.0 - config.p_smaller_arm) / (k - 1)
    return np.where(trigger, smallest * (q / m) + (1.0 - q) * probs, probs)


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
        probs = allocation_probabilities(self.config, scores, self.n_allocated, arm_totals(self.counts))
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
