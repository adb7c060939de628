"""Linear mixed model with a random intercept per participant, REML or ML, Satterthwaite df.

The trial's primary analysis is ``y ~ 1 + age + sex + time * group + (1 | id)`` fitted by REML with
Satterthwaite degrees of freedom (Ashar et al., JAMA Psychiatry 2022, MATLAB ``fitlme``; R's
lmerTest gives the same t and df). statsmodels has no Satterthwaite df, so this module fits the
model exactly in numpy/scipy.

Model: ``y = X beta + Z u + e`` with ``u ~ N(0, sigma2_u I)`` (one per participant) and
``e ~ N(0, sigma2_e I)``. With the variance ratio ``gamma = sigma2_u / sigma2_e`` the marginal
covariance is ``sigma2_e H``, ``H`` block diagonal with compound-symmetric blocks
``I + gamma 1 1'``; per participant ``i`` with ``n_i`` rows
``H_i^{-1} = I - gamma / (1 + n_i gamma) 1 1'`` and ``|H_i| = 1 + n_i gamma`` (Woodbury), so every
quadratic form splits into a within-participant part (fixed, computed once) plus a between part
weighted by ``a_i = n_i / (1 + n_i gamma)``. ``sigma2_e`` and ``beta`` are profiled out and only
``gamma`` is optimised (as lme4 does, Bates et al., J Stat Softw 2015;67(1)). A batched grid over
``gamma`` (0 and 1e-10 .. 1e15) finds every basin of the profiled deviance (it can have two), each
is refined by Newton on the analytic score (one QR of a ``(p + 1 + G) x (p + 1)`` matrix per
step), and the lowest wins.

Scale: nothing of size n x n (or G x G) is ever formed. The data enter once, through
per-participant sums and the QR of the participant-centred ``[X, y]`` (O(n p^2) time, O(n p)
memory); after that every likelihood, score, Hessian and Satterthwaite computation costs
O(G p^2). 180,000 rows from 60,000 participants fit in about a second, allocating under 100 MiB
(docs/benchmarks.md). ``y`` and each column of ``X`` are divided by a power of 2 near their largest
magnitude before fitting (exact in binary floating point) and the results are converted back, so
any units work alike.

Satterthwaite df for a contrast ``L`` follow lmerTest (Kuznetsova, Brockhoff & Christensen,
J Stat Softw 2017;82(13)): ``df = 2 (L C L')^2 / (g' A g)``, ``C = Var(beta_hat)``, ``g`` the
gradient of ``L C L'`` in the variance parameters ``(theta, sigma)`` with
``theta = sigma_u / sigma_e``, ``A = 2 H^{-1}`` with ``H`` the Hessian of the (REML or ML)
deviance in those parameters. All derivatives here are analytic. At an interior optimum the
result does not depend on the parameterisation.

Convergence is never silent (as statsmodels' ``MixedLM``): ``converged`` is True only when the
optimiser converged, the Hessian ``H`` is finite, positive definite and invertible, and every
coefficient's Satterthwaite df is finite; otherwise ``convergence_message`` says what failed, a
:class:`~prt.errors.ConvergenceWarning` is issued, and df (hence p) that cannot be computed are NaN,
never infinite (an infinite df would silently turn the t test into a z test).

Boundary behaviour (documented): when the participant variance is estimated as 0 (the profiled
deviance increases from ``gamma = 0``), ``sigma2_u = 0`` is reported; ``C`` depends on ``theta``
only through ``theta^2`` so its gradient in ``theta`` is 0 and the Satterthwaite df of every
contrast is ``n - p`` for REML (``n`` for ML), the ordinary least-squares residual df, which is
what lmerTest gives for such a singular fit; this counts as converged. When the residual variance
runs to 0 (the within-participant residuals are exactly 0) the estimates are not defined and the
fit is reported as not converged. A design with no within-participant residual df
(``n - G - rank(X_within) <= 0``, e.g. every participant seen once) cannot separate the two
variances and is refused (InputError), as is a ``y`` that ``X`` fits exactly.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import linalg, optimize, stats

from prt.errors import ConvergenceWarning, InputError
from prt.vocabulary import ARMS, SEXES

__all__ = [
    "PRIMARY_NAMES",
    "ContrastTest",
    "MixedModelResult",
    "design_primary",
    "fit_random_intercept",
]

# Grid of variance ratios gamma = sigma2_u / sigma2_e searched before the 1-D root refinement:
# 0 and 1e-10 .. 1e15 at 6 points per decade (gamma has no units, so the grid suits any y scale;
# beyond 1e15 sigma_e / sigma_u < 3e-8 and the residual variance is taken as not estimable).
_GAMMA_GRID = np.concatenate([[0.0], np.logspace(-10.0, 15.0, 151)])
_MAX_BASINS = 4  # local minima of the grid refined
_GRID_BLOCK_CELLS = 2**20  # gammas x participants evaluated together in the grid search (8 MB)
_NEWTON_STEPS = 200
# The variance-parameter Hessian, equilibrated to unit diagonal, counts as singular when its
# smallest eigenvalue is below this (condition number above ~7e7): its inverse, hence every df,
# would then carry less than half the digits of double precision.
_HESSIAN_TOL = float(np.sqrt(np.finfo(float).eps))


@dataclass(frozen=True)
class ContrastTest:
    """Test of one linear combination ``L beta`` against 0: Satterthwaite t test, two-sided p.

    ``df`` and ``p`` are NaN when the fit's variance-parameter Hessian could not be inverted
    (see ``MixedModelResult.convergence_message``).
    """

    estimate: float
    se: float
    t: float
    df: float
    p: float


@dataclass(frozen=True)
class _Stats:
    """Sufficient statistics of (y, X, groups) for the random-intercept model (O(G p + p^2))."""

    n: int
    p: int
    sizes: np.ndarray  # (G,) rows per participant
    xbar: np.ndarray  # (G, p) participant means of X
    ybar: np.ndarray  # (G,) participant means of y
    within_r: np.ndarray  # (p + 1, p + 1) R of the QR of the participant-centred [X, y]


@dataclass(frozen=True, eq=False)
class MixedModelResult:
    """A fitted random-intercept model (see module docstring).

    Attributes:
        params, bse: fixed-effect estimates and standard errors (index ``names``).
        cov_params: ``Var(beta_hat)`` at the estimate, ``sigma2_e (X' H^{-1} X)^{-1}``.
        variance_components: ``{"participant": sigma2_u, "residual": sigma2_e}``.
        loglik: maximised (REML or ML) log-likelihood, on lme4's scale.
        converged: True only when the optimiser converged, the variance-parameter Hessian is
            finite, positive definite and invertible, and every coefficient's df is finite.
        convergence_message: ``"converged"``, or what failed (also issued as a
            :class:`~prt.errors.ConvergenceWarning` by the fit).
        n_obs, n_groups: rows and participants used.
        reml: whether the fit is REML.
        random_effects: predicted participant intercepts (BLUPs), index participant.
    """

    params: pd.Series
    bse: pd.Series
    cov_params: pd.DataFrame
    variance_components: dict[str, float]
    loglik: float
    converged: bool
    convergence_message: str
    n_obs: int
    n_groups: int
    reml: bool
    random_effects: pd.Series
    # The Satterthwaite df are computed in the fit's internal units (y and the columns of X
    # divided by powers of 2, ``_coef_scale`` = those of X) so that no unit overflows: there
    # Var(beta) is ``_cov_internal``, its derivatives in (theta, sigma) ``_cov_jacobian``
    # (k, p, p), and ``_varpar_cov`` (k, k) the asymptotic covariance of those variance
    # parameters (NaN when the Hessian could not be inverted); k = 1 (sigma only) at theta = 0.
    _cov_internal: np.ndarray = field(repr=False)
    _cov_jacobian: np.ndarray = field(repr=False)
    _varpar_cov: np.ndarray = field(repr=False)
    _coef_scale: np.ndarray = field(repr=False)

    @property
    def names(self) -> list[str]:
        """Names of the fixed-effect coefficients, in column order of X."""
        return list(self.params.index)

    def _contrast_vector(self, contrast: Any) -> np.ndarray:
        names = self.names
        p = len(names)
        if isinstance(contrast, str):
            if contrast not in self.params.index:
                raise InputError(
                    f"contrast: no coefficient named {contrast!r}; expected one of {', '.join(names)}"
                )
            vector = np.zeros(p)
            vector[names.index(contrast)] = 1.0
            return vector
        if isinstance(contrast, (Mapping, pd.Series)):
            items = dict(contrast.items())
            unknown = [k for k in items if k not in self.params.index]
            if unknown:
                raise InputError(
                    f"contrast: no coefficient named {unknown[0]!r}; expected one of {', '.join(names)}"
                )
            vector = np.zeros(p)
            for key, weight in items.items():
                try:
                    vector[names.index(key)] = float(weight)
                except (TypeError, ValueError):
                    raise InputError(f"contrast: the weight of {key!r} is not a number") from None
        else:
            try:
                vector = np.asarray(contrast, dtype=float)
            except (TypeError, ValueError):
                raise InputError(
                    f"contrast: expected a coefficient name or {p} numeric weights ({', '.join(names)})"
                ) from None
            if vector.shape != (p,):
                raise InputError(
                    f"contrast: expected a coefficient name or {p} weights (one per coefficient: "
                    f"{', '.join(names)}), got shape {vector.shape}"
                )
        if not np.all(np.isfinite(vector)) or not np.any(vector):
            raise InputError("contrast: weights must be finite and not all 0")
        return vector

    def _satterthwaite(self, vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Variance ``L C L'`` and Satterthwaite df for each row ``L`` of ``vectors``.

        df is NaN, never infinite, where ``g' A g`` is not a positive finite number (the
        variance-parameter Hessian could not be inverted).
        """
        cov = self.cov_params.to_numpy()
        variance = np.einsum("ri,ij,rj->r", vectors, cov, vectors)
        internal = vectors / self._coef_scale  # L in the internal units (the y scale cancels)
        df = _satterthwaite_df(internal, self._cov_internal, self._cov_jacobian, self._varpar_cov)
        return variance, df

    def test(self, contrast: str | Sequence[float] | np.ndarray | Mapping[str, float]) -> ContrastTest:
        """Satterthwaite t test of ``L beta = 0`` (lmerTest ``contest1D``), two-sided p.

        ``contrast`` is a coefficient name, a vector of ``p`` weights, or a mapping name -> weight.
        """
        vector = self._contrast_vector(contrast)
        estimate = float(vector @ self.params.to_numpy())
        variance, df = self._satterthwaite(vector[None, :])
        se = float(np.sqrt(variance[0]))
        t = estimate / se if se > 0 else np.nan
        p = float(2.0 * stats.t.sf(abs(t), df[0])) if np.isfinite(t) and np.isfinite(df[0]) else np.nan
        return ContrastTest(estimate=estimate, se=se, t=float(t), df=float(df[0]), p=p)

    def summary(self) -> pd.DataFrame:
        """One row per coefficient: estimate, se, t, df (Satterthwaite), p (two-sided)."""
        vectors = np.eye(len(self.params))
        variance, df = self._satterthwaite(vectors)
        se = np.sqrt(variance)
        estimate = self.params.to_numpy()
        with np.errstate(divide="ignore", invalid="ignore"):
            t = estimate / se
        p = 2.0 * stats.t.sf(np.abs(t), df)
        return pd.DataFrame(
            {"estimate": estimate, "se": se, "t": t, "df": df, "p": p}, index=self.params.index
        )


# --------------------------------------------------------------------------- input checks


def _to_float(value: Any) -> float | None:
    """One entry as a float: NaN when missing (None, NA, NaN, a blank string), None when it is
    present but not a number."""
    if value is None or value is pd.NA or value is pd.NaT:
        return np.nan
    if isinstance(value, str) and not value.strip():
        return np.nan
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _floats(values: Any, what: str) -> tuple[np.ndarray, np.ndarray | None]:
    """``values`` as floats (missing -> NaN) and a mask of the entries that are not numbers (None
    when every entry is one); the slow path runs only when numpy cannot convert."""
    try:
        return np.asarray(values, dtype=float), None
    except (TypeError, ValueError):
        pass
    try:
        given = np.asarray(values, dtype=object)
    except ValueError:  # ragged nesting
        raise InputError(f"{what}: expected a regular array of numbers") from None
    converted = [_to_float(v) for v in given.ravel()]
    bad = np.array([v is None for v in converted], dtype=bool).reshape(given.shape)
    floats = np.array([np.nan if v is None else v for v in converted], dtype=float).reshape(given.shape)
    return floats, (bad if bad.any() else None)


def _power_of_two(magnitude: np.ndarray) -> np.ndarray:
    """A power of 2 within a factor 2 of each magnitude (1 for 0): exact divisors for units."""
    exponent = np.frexp(np.asarray(magnitude, dtype=float))[1]
    return np.where(magnitude > 0, np.ldexp(1.0, exponent - 1), 1.0)


@dataclass(frozen=True)
class _Inputs:
    """Checked inputs, ``y`` and ``X`` in internal units (divided by ``y_scale``, ``x_scale``)."""

    y: np.ndarray
    X: np.ndarray
    codes: np.ndarray
    labels: list
    names: list[str]
    y_scale: float
    x_scale: np.ndarray


def _check_inputs(y, X, groups, names) -> _Inputs:
    """Validate and convert; every message names the argument, and the row's participant."""
    if names is None and isinstance(X, pd.DataFrame):
        names = [str(c) for c in X.columns]
    X_float, X_bad = _floats(X, "X")
    y_float, y_bad = _floats(y, "y")
    if X_float.ndim != 2:
        raise InputError(f"X: expected a 2-D design matrix (rows x coefficients), got {X_float.ndim} dimension(s)")
    n, p = X_float.shape
    if names is None:
        names = [f"x{j}" for j in range(p)]
    names = [str(v) for v in names]
    if len(names) != p:
        raise InputError(f"names: expected {p} coefficient names (one per column of X), got {len(names)}")
    if len(set(names)) != p:
        dup = next(v for v in names if names.count(v) > 1)
        raise InputError(f"names: coefficient name {dup!r} is given more than once")
    if y_float.shape != (n,):
        raise InputError(f"y: expected {n} values (one per row of X), got shape {y_float.shape}")
    groups = groups.to_numpy() if isinstance(groups, pd.Series) else np.asarray(groups, dtype=object)
    if groups.shape != (n,):
        raise InputError(f"groups: expected {n} participant labels (one per row of X), got shape {groups.shape}")
    if n == 0:
        raise InputError("y: no observations")
    try:
        codes, labels = pd.factorize(pd.Series(groups, dtype=object), use_na_sentinel=True)
    except TypeError:
        raise InputError("groups: participant labels must be numbers or strings") from None
    if np.any(codes < 0):
        raise InputError(f"groups: row {np.flatnonzero(codes < 0)[0]} has no participant label")
    labels = list(labels)

    def where(row: int) -> str:
        return f"row {row} (participant {labels[codes[row]]})"

    if y_bad is not None:
        raise InputError(f"y: {where(np.flatnonzero(y_bad)[0])} is not a number")
    if X_bad is not None:
        row, col = np.argwhere(X_bad)[0]
        raise InputError(f"X: column {names[col]!r}, {where(row)} is not a number")
    bad_y = np.flatnonzero(~np.isfinite(y_float))
    if bad_y.size:
        raise InputError(f"y: {where(bad_y[0])} is missing or not finite (drop missing rows before fitting)")
    bad_x = np.argwhere(~np.isfinite(X_float))
    if bad_x.size:
        row, col = bad_x[0]
        raise InputError(f"X: column {names[col]!r}, {where(row)} is missing or not finite")
    n_groups = len(labels)
    if n_groups < 2:
        raise InputError(f"groups: the random intercept needs at least 2 participants, got {n_groups}")
    if n_groups >= n:
        raise InputError(
            f"groups: {n_groups} participants for {n} rows; the participant and residual variances "
            "are only separable when some participant has more than one row"
        )
    if n <= p:
        raise InputError(f"X: {p} coefficients need more than {p} rows, got {n}")
    y_scale = float(_power_of_two(np.max(np.abs(y_float))))
    x_scale = _power_of_two(np.max(np.abs(X_float), axis=0))
    X_internal = X_float / x_scale
    _check_rank(X_internal, names)
    return _Inputs(y_float / y_scale, X_internal, codes, labels, names, y_scale, x_scale)


def _check_rank(X: np.ndarray, names: list[str]) -> None:
    """Raise InputError naming the columns of X involved in a linear dependence."""
    norms = np.linalg.norm(X, axis=0)
    zero = [names[j] for j in np.flatnonzero(norms == 0)]
    if zero:
        raise InputError(f"X: column(s) {', '.join(map(repr, zero))} are all 0 (rank-deficient design)")
    scaled = X / norms
    _, sv, vt = np.linalg.svd(scaled, full_matrices=False)
    tol = max(X.shape) * np.finfo(float).eps * sv[0]
    null = vt[sv <= tol]
    if null.shape[0]:
        involved = np.flatnonzero(np.any(np.abs(null) > 1e-8, axis=0))
        cols = ", ".join(repr(names[j]) for j in involved)
        raise InputError(
            f"X: rank-deficient design (rank {X.shape[1] - null.shape[0]} < {X.shape[1]} columns): "
            f"columns {cols} are linearly dependent"
        )


# --------------------------------------------------------------------------- the model


def _sufficient_stats(y: np.ndarray, X: np.ndarray, codes: np.ndarray, n_groups: int) -> _Stats:
    n, p = X.shape
    sizes = np.bincount(codes, minlength=n_groups).astype(float)
    yx = np.column_stack([X, y])
    sums = np.column_stack([np.bincount(codes, weights=col, minlength=n_groups) for col in yx.T])
    means = sums / sizes[:, None]
    centred = yx - means[codes]
    within_r = linalg.qr(centred, mode="r", check_finite=False)[0][: p + 1]
    if within_r.shape[0] < p + 1:  # fewer rows than columns: pad with zero rows
        within_r = np.vstack([within_r, np.zeros((p + 1 - within_r.shape[0], p + 1))])
    return _Stats(n=n, p=p, sizes=sizes, xbar=means[:, :p], ybar=means[:, p], within_r=within_r)


def _check_within_df(st: _Stats, X: np.ndarray, n_groups: int) -> None:
    """The residual variance needs within-participant residual df: ``n - G - rank(X_within) > 0``.

    Otherwise the within-participant rows are fitted exactly by the within-participant columns and
    the two variances cannot be separated (the likelihood runs to sigma2_e = 0).
    """
    norms = np.linalg.norm(X, axis=0)
    within_x = st.within_r[: st.p, : st.p] / np.where(norms > 0, norms, 1.0)
    sv = np.linalg.svd(within_x, compute_uv=False)
    rank = int(np.sum(sv > 1e-9 * max(1.0, float(sv.max(initial=0.0)))))
    within_df = st.n - n_groups - rank
    if within_df <= 0:
        raise InputError(
            f"groups: no within-participant residual df ({st.n} rows - {n_groups} participants - "
            f"{rank} within-participant column(s) = {within_df}); the residual and participant "
            "variances cannot be separated"
        )


def _weights(sizes: np.ndarray, gamma) -> np.ndarray:
    """``a_i = n_i / (1 + n_i gamma)``: the between-participant weight of participant ``i``."""
    gamma = np.asarray(gamma, dtype=float)
    return sizes / (1.0 + np.multiply.outer(gamma, sizes))


def _factor(st: _Stats, gamma) -> np.ndarray:
    """R factor(s) of ``[X, y]' H^{-1} [X, y]`` for one gamma or a vector of them (batched).

    ``R[:p, :p]`` is the Cholesky factor of ``M = X' H^{-1} X``, ``R[:p, p]`` solves for beta and
    ``R[p, p]^2`` is the generalised residual sum of squares ``Q``.
    """
    root_a = np.sqrt(_weights(st.sizes, gamma))  # (..., G)
    between = root_a[..., None] * np.column_stack([st.xbar, st.ybar])  # (..., G, p + 1)
    within = np.broadcast_to(st.within_r, between.shape[:-2] + st.within_r.shape)
    stacked = np.concatenate([within, between], axis=-2)
    return np.linalg.qr(stacked, mode="r")


def _profiled_deviance(st: _Stats, gammas: np.ndarray, reml: bool) -> np.ndarray:
    """-2 log-likelihood with beta and sigma2_e profiled out, up to a constant, for many gammas.

    Used for the global grid search only, a block of gammas at a time (at most
    ``_GRID_BLOCK_CELLS`` weights, so memory stays O(G p^2) whatever the grid), through the normal equations
    ``[X, y]' H^{-1} [X, y] = W + sum_i a_i [xbar_i, ybar_i]' [xbar_i, ybar_i]`` (one matrix product
    and a batched Cholesky per block); the refinement uses the QR form, which is more accurate.
    """
    between = np.column_stack([st.xbar, st.ybar])
    k = st.p + 1
    outer = (between[:, :, None] * between[:, None, :]).reshape(len(between), k * k)
    within = st.within_r.T @ st.within_r
    size = max(1, _GRID_BLOCK_CELLS // len(between))
    blocks = []
    for start in range(0, len(gammas), size):
        block = gammas[start : start + size]
        gram = within + (_weights(st.sizes, block) @ outer).reshape(len(block), k, k)
        blocks.append(_profiled_deviance_gram(st, block, gram, reml))
    return np.concatenate(blocks)


def _profiled_deviance_gram(st: _Stats, gammas: np.ndarray, gram: np.ndarray, reml: bool) -> np.ndarray:
    """The profiled deviance at each gamma from its ``[X, y]' H^{-1} [X, y]`` (batched Cholesky)."""
    scale = np.sqrt(np.diagonal(gram, axis1=-2, axis2=-1))  # equilibrate before factorising
    scale = np.where(scale > 0, scale, 1.0)
    gram = gram / scale[:, :, None] / scale[:, None, :]
    try:
        chol = np.linalg.cholesky(gram)
    except np.linalg.LinAlgError:  # numerically singular (y fitted exactly): the QR form per gamma
        return np.array([_profiled_deviance_qr(st, g, reml) for g in gammas])
    diag = np.diagonal(chol, axis1=-2, axis2=-1) * scale
    with np.errstate(divide="ignore"):
        log_q = 2.0 * np.log(diag[:, st.p])
        log_det_m = 2.0 * np.sum(np.log(diag[:, : st.p]), axis=-1)
    log_det_h = np.sum(np.log1p(np.multiply.outer(gammas, st.sizes)), axis=-1)
    out = (st.n - st.p) * log_q + log_det_h + log_det_m if reml else st.n * log_q + log_det_h
    return np.where(np.isfinite(out), out, np.inf)


def _profiled_deviance_qr(st: _Stats, gamma: float, reml: bool) -> float:
    """The profiled deviance at one gamma through the QR form (accurate)."""
    r = _factor(st, gamma)
    diag = np.abs(np.diag(r))
    with np.errstate(divide="ignore"):
        log_q = 2.0 * np.log(diag[st.p])
        log_det_m = 2.0 * np.sum(np.log(diag[: st.p]))
    log_det_h = np.sum(np.log1p(gamma * st.sizes))
    out = (st.n - st.p) * log_q + log_det_h + log_det_m if reml else st.n * log_q + log_det_h
    return float(out) if np.isfinite(out) else np.inf


@dataclass(frozen=True)
class _Point:
    """Everything at one gamma needed for the estimates and their derivatives."""

    gamma: float
    a: np.ndarray  # (G,)
    beta: np.ndarray  # (p,)
    q: float  # generalised residual sum of squares
    log_det_m: float
    m_inv: np.ndarray  # (p, p)
    resid_mean: np.ndarray  # (G,) participant means of y - X beta
    leverage: np.ndarray  # (G,) xbar_i' M^{-1} xbar_i


def _point(st: _Stats, gamma: float) -> _Point:
    r = _factor(st, gamma)
    p = st.p
    r_x = r[:p, :p]
    r_inv = np.linalg.inv(r_x)  # p x p upper triangular; one LAPACK call for beta and M^{-1}
    beta = r_inv @ r[:p, p]
    m_inv = r_inv @ r_inv.T
    half = st.xbar @ r_inv  # rows: R^{-T} xbar_i
    return _Point(
        gamma=gamma,
        a=_weights(st.sizes, gamma),
        beta=beta,
        q=float(r[p, p] ** 2),
        log_det_m=float(2.0 * np.sum(np.log(np.abs(np.diag(r_x))))),
        m_inv=m_inv,
        resid_mean=st.ybar - st.xbar @ beta,
        leverage=np.einsum("gi,gi->g", half, half),
    )


def _dof(st: _Stats, reml: bool) -> int:
    return st.n - st.p if reml else st.n


def _profiled_slope_curvature(st: _Stats, gamma: float, reml: bool) -> tuple[float, float]:
    """First and second derivative in gamma of the profiled deviance (analytic).

    Along the profile ``s = Q / dof`` the full deviance has ``D_s = 0``, so the slope is ``D_g``
    and the curvature ``D_gg - D_gs^2 / D_ss`` (see :func:`_deviance_derivatives`).
    """
    pt = _point(st, gamma)
    d = _deviance_derivatives(st, pt, pt.q / _dof(st, reml), reml)
    return d["g"], d["gg"] - d["gs"] ** 2 / d["ss"]


def _check_not_exact(st: _Stats) -> None:
    """Refuse a ``y`` that ``X`` fits exactly (least-squares residual 0 to rounding): both variances
    would be 0 and nothing is estimable (lme4 fails there too)."""
    y_norm = np.sqrt(np.sum(st.within_r[:, st.p] ** 2) + np.sum(st.sizes * st.ybar**2))
    residual = abs(_factor(st, 0.0)[st.p, st.p])
    if residual <= st.n * np.finfo(float).eps * y_norm:
        raise InputError(
            "y: the columns of X fit y exactly (every least-squares residual is 0 to rounding); "
            "there is no variance to estimate"
        )


def _newton(st: _Stats, lo: float, hi: float, start: float, reml: bool) -> tuple[float, bool]:
    """Root of the score in ``[lo, hi]`` (score < 0 at lo, > 0 at hi): Newton, kept in the
    bracket by bisection (geometric when ``lo > 0``, gamma spans decades). Returns
    ``(gamma, converged)``; not converged when ``_NEWTON_STEPS`` steps did not meet the tolerance."""
    gamma = start
    for _ in range(_NEWTON_STEPS):
        slope, curvature = _profiled_slope_curvature(st, gamma, reml)
        if not np.isfinite(slope):
            return float(gamma), False
        if slope == 0.0:
            return gamma, True
        if slope < 0.0:
            lo = gamma
        else:
            hi = gamma
        step = -slope / curvature if curvature > 0 else np.nan
        new = gamma + step
        if not lo < new < hi:
            new = np.sqrt(lo * hi) if lo > 0 else 0.5 * (lo + hi)
        if abs(new - gamma) <= 1e-13 * new or hi - lo <= 1e-15 * hi:
            return float(new), True
        gamma = new
    return float(gamma), False


def _optimise_gamma(st: _Stats, reml: bool) -> tuple[float, str | None]:
    """Global grid search, then Newton on the analytic score; returns ``(gamma, problem)``,
    ``problem`` None when the optimiser converged, else what went wrong (for the message).

    The profiled deviance can have more than one local minimum (small designs), so each local
    minimum of the fast batched grid (at most ``_MAX_BASINS``, the lowest in the accurate QR form)
    is refined, the boundary ``gamma = 0`` competes whenever the score there is >= 0, and the
    lowest refined deviance wins.
    """
    grid = _GAMMA_GRID
    deviance = _profiled_deviance(st, grid, reml)
    left = np.concatenate([[np.inf], deviance[:-1]])
    right = np.concatenate([deviance[1:], [np.inf]])
    local = np.flatnonzero((deviance <= left) & (deviance <= right) & np.isfinite(deviance))
    if local.size == 0:
        local = np.array([int(np.argmin(deviance))])
    if local.size > _MAX_BASINS:
        accurate = np.array([_profiled_deviance_qr(st, float(grid[k]), reml) for k in local])
        local = local[np.argsort(accurate)[:_MAX_BASINS]]
    candidates: list[tuple[float, str | None]] = []
    if _profiled_slope_curvature(st, 0.0, reml)[0] >= 0.0:
        candidates.append((0.0, None))  # the boundary sigma2_u = 0 is a local minimum
    for k in local:
        if k == len(grid) - 1:
            candidates.append((float(grid[-1]), (
                f"the participant-to-residual variance ratio ran to the top of its range "
                f"({grid[-1]:.0e}): the residual variance is not estimable (the within-participant "
                "residuals are 0 to rounding)"
            )))
            continue
        lo, hi = (float(grid[k - 1]) if k > 0 else 0.0), float(grid[k + 1])
        if _profiled_slope_curvature(st, lo, reml)[0] < 0.0 < _profiled_slope_curvature(st, hi, reml)[0]:
            gamma, ok = _newton(st, lo, hi, float(grid[k]) if k > 0 else 0.5 * hi, reml)
            candidates.append((gamma, None if ok else (
                f"Newton's method on the score did not converge in {_NEWTON_STEPS} steps "
                f"(variance ratio between {lo:.3g} and {hi:.3g})"
            )))
        elif k > 0:
            # No sign change inside the bracket (flat score): minimise the deviance directly.
            found = optimize.minimize_scalar(
                lambda g: _profiled_deviance_qr(st, g, reml),
                bounds=(lo, hi),
                method="bounded",
                options={"xatol": 1e-14 * hi},
            )
            candidates.append((float(found.x), None if found.success else (
                f"the bounded 1-D search of the deviance did not converge ({found.message}; "
                f"variance ratio between {lo:.3g} and {hi:.3g})"
            )))
    if not candidates:
        candidates.append((0.0, None))
    values = [_profiled_deviance_qr(st, g, reml) for g, _ in candidates]
    return candidates[int(np.argmin(values))]


def _deviance_derivatives(st: _Stats, pt: _Point, s: float, reml: bool) -> dict[str, Any]:
    """Derivatives of the full deviance in (gamma, s = sigma2_e), all analytic.

    Full deviance for REML: ``D = (n - p) log s + log|H| + log|M| + Q / s``; for ML drop
    ``log|M|`` and use ``n``. From ``dH_i^{-1}``: ``dM/dgamma = -sum a_i^2 xbar_i xbar_i'``,
    ``d2M = 2 sum a_i^3 xbar_i xbar_i'``, ``dQ = -sum a_i^2 rbar_i^2`` (envelope theorem) and
    ``d2Q = 2 sum a_i^3 rbar_i^2 - 2 u' M^{-1} u`` with ``u = sum a_i^2 rbar_i xbar_i``.
    """
    a, xbar, rbar, m_inv = pt.a, st.xbar, pt.resid_mean, pt.m_inv
    q = pt.q
    dof = _dof(st, reml)
    a2 = a**2
    a3 = a2 * a
    xa2 = xbar * a2[:, None]
    dm = -xa2.T @ xbar
    dq = -np.sum(a2 * rbar**2)
    u = xa2.T @ rbar
    d2q = 2.0 * np.sum(a3 * rbar**2) - 2.0 * u @ m_inv @ u
    d_g = np.sum(a) + dq / s
    d_gg = -np.sum(a2) + d2q / s
    if reml:
        mdm = m_inv @ dm
        d_g += np.trace(mdm)
        d_gg += 2.0 * np.sum(a3 * pt.leverage) - np.sum(mdm * mdm.T)
    return {
        "g": float(d_g),
        "s": float(dof / s - q / s**2),
        "gg": float(d_gg),
        "gs": float(-dq / s**2),
        "ss": float(-dof / s**2 + 2.0 * q / s**3),
        "dm": dm,
    }


def _derivatives(
    st: _Stats, pt: _Point, sigma2: float, reml: bool
) -> tuple[np.ndarray, np.ndarray, str | None]:
    """Jacobian of Var(beta), asymptotic covariance of (theta, sigma), both analytic, and the
    reason (or None) why that covariance could not be computed.

    ``Var(beta) = s M^{-1}``: ``dV/dgamma = -s M^{-1} (dM/dgamma) M^{-1}``, ``dV/ds = M^{-1}``; then
    the chain rule to ``theta = sqrt(gamma)``, ``sigma = sqrt(s)`` (lmerTest's parameters), whose
    Hessian adds the first-derivative terms ``2 D_gamma`` and ``2 D_s`` on the diagonal.
    """
    d = _deviance_derivatives(st, pt, sigma2, reml)
    m_inv, s = pt.m_inv, sigma2
    dcov_gamma = -s * m_inv @ d["dm"] @ m_inv
    dcov_s = m_inv
    theta, sigma = np.sqrt(pt.gamma), np.sqrt(s)
    if theta == 0.0:
        # Boundary: Var(beta) depends on theta through theta^2 only, so its theta-gradient is 0;
        # only sigma carries information.
        hess = np.array([[(2 * sigma) ** 2 * d["ss"] + 2.0 * d["s"]]])
        jac = (2 * sigma * dcov_s)[None]
    else:
        j = np.diag([2 * theta, 2 * sigma])
        hess_gs = np.array([[d["gg"], d["gs"]], [d["gs"], d["ss"]]])
        hess = j @ hess_gs @ j + np.diag([2.0 * d["g"], 2.0 * d["s"]])
        jac = np.stack([2 * theta * dcov_gamma, 2 * sigma * dcov_s])
    varpar_cov, problem = _varpar_covariance(hess)
    return jac, varpar_cov, problem


def _varpar_covariance(hess: np.ndarray) -> tuple[np.ndarray, str | None]:
    """``2 H^{-1}`` (lmerTest's ``A``), or NaN and the reason when ``H`` cannot be inverted.

    ``H`` must be finite and positive definite (the estimate a minimum of the deviance) and not
    numerically singular: the eigenvalues of ``H`` equilibrated to unit diagonal (invariant to the
    units of theta and sigma) must all exceed ``_HESSIAN_TOL`` times the largest.
    """
    what = "the Hessian of the deviance in the variance parameters (theta = sigma_u / sigma_e, sigma_e)"
    nan = np.full(hess.shape, np.nan)
    if not np.all(np.isfinite(hess)):
        return nan, f"{what} is not finite"
    diag = np.diag(hess)
    if np.any(diag <= 0.0):
        return nan, f"{what} is not positive definite (the estimate is not a minimum of the deviance)"
    root = np.sqrt(diag)
    eigen = np.linalg.eigvalsh(hess / root[:, None] / root[None, :])
    if eigen[0] <= 0.0:
        return nan, f"{what} is not positive definite (the estimate is not a minimum of the deviance)"
    if eigen[0] < _HESSIAN_TOL * eigen[-1]:
        return nan, (
            f"{what} is singular (condition number {eigen[-1] / eigen[0]:.1e} after equilibration): "
            "the variance parameters are not identified"
        )
    return 2.0 * np.linalg.inv(hess), None


def _satterthwaite_df(
    internal: np.ndarray, cov: np.ndarray, jacobian: np.ndarray, varpar_cov: np.ndarray
) -> np.ndarray:
    """Satterthwaite df ``2 (L C L')^2 / (g' A g)`` of each row ``L`` of ``internal`` (all in the
    fit's internal units); NaN, never infinite, where ``g' A g`` is not a positive finite number."""
    variance = np.einsum("ri,ij,rj->r", internal, cov, internal)
    grad = np.einsum("ri,kij,rj->rk", internal, jacobian, internal)
    denom = np.einsum("rk,kl,rl->r", grad, varpar_cov, grad)
    ok = np.isfinite(denom) & (denom > 0)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        return np.where(ok, 2.0 * variance**2 / np.where(ok, denom, 1.0), np.nan)


def fit_random_intercept(
    y: Any,
    X: Any,
    groups: Any,
    names: Sequence[str] | None = None,
    reml: bool = True,
) -> MixedModelResult:
    """Fit ``y = X beta + u_participant + e`` by REML (default) or ML, exactly.

    Same model and estimates as R ``lmer(y ~ 0 + X + (1 | groups), REML=reml)`` with lmerTest's
    Satterthwaite df (Kuznetsova et al., J Stat Softw 2017). ``y`` (n,), ``X`` (n, p) with
    the intercept column included, ``groups`` (n,) any hashable labels, ``names`` the p
    coefficient names (default: the columns of a DataFrame ``X``). Rows must be complete: drop
    missing ones first. Raises InputError naming the argument, row and participant of a missing
    or non-numeric value, the columns of a rank-deficient ``X``; also for fewer than 2
    participants, no within-participant residual df (e.g. every participant seen once) or a ``y``
    that ``X`` fits exactly. When the fit did not converge (see the module docstring) it issues a
    :class:`~prt.errors.ConvergenceWarning` and ``converged`` is False. Time and memory grow
    linearly with the rows (no n x n matrix).

    Example (simulated): 30 participants before and after, a fall of 2 points. With complete
    pre/post data the time test is the paired t test, so its df are exactly 30 - 1.

    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> groups = np.repeat(np.arange(30), 2)
    >>> time = np.tile([0.0, 1.0], 30)
    >>> y = 5.0 - 2.0 * time + rng.normal(size=30)[groups] + 0.5 * rng.normal(size=60)
    >>> X = np.column_stack([np.ones(60), time])
    >>> fit = fit_random_intercept(y, X, groups, ["intercept", "time"])
    >>> test = fit.test("time")
    >>> print(f"{test.estimate:.2f} (SE {test.se:.2f}), t{test.df:.2f} = {test.t:.1f}")
    -1.96 (SE 0.13), t29.00 = -14.8
    >>> fit.converged, fit.convergence_message
    (True, 'converged')
    """
    inputs = _check_inputs(y, X, groups, names)
    labels, names = inputs.labels, inputs.names
    n_groups = len(labels)
    st = _sufficient_stats(inputs.y, inputs.X, inputs.codes, n_groups)
    _check_within_df(st, inputs.X, n_groups)
    _check_not_exact(st)
    gamma, optimiser_problem = _optimise_gamma(st, reml)
    pt = _point(st, gamma)
    dof = _dof(st, reml)
    sigma2 = pt.q / dof
    cov = sigma2 * pt.m_inv
    cov = 0.5 * (cov + cov.T)
    jac, varpar_cov, hessian_problem = _derivatives(st, pt, sigma2, reml)
    df = _satterthwaite_df(np.eye(st.p), cov, jac, varpar_cov)
    problems = [m for m in (optimiser_problem, hessian_problem) if m]
    if hessian_problem is None and not np.all(np.isfinite(df)):
        bad = ", ".join(repr(names[j]) for j in np.flatnonzero(~np.isfinite(df)))
        problems.append(f"the Satterthwaite df of {bad} could not be computed")

    # Back to the units of y and X (exact powers of 2).
    y_scale, unit = inputs.y_scale, inputs.y_scale / inputs.x_scale
    with np.errstate(over="ignore", invalid="ignore"):
        beta = pt.beta * unit
        cov_out = cov * unit[:, None] * unit[None, :]
        sigma2_e = sigma2 * y_scale * y_scale
        sigma2_u = gamma * sigma2 * y_scale * y_scale
        blup = gamma * pt.a * pt.resid_mean * y_scale
    tiny = np.finfo(float).tiny
    representable = (
        np.all(np.isfinite(cov_out)) and np.all(np.isfinite(beta)) and np.all(np.diag(cov_out) >= tiny)
        and np.isfinite(sigma2_u) and tiny <= sigma2_e < np.inf
    )
    if not representable:
        raise InputError(
            "y, X: the estimates or their variances overflow or underflow double precision in the "
            "units given; rescale y or the columns of X"
        )
    log_det_h = float(np.sum(np.log1p(gamma * st.sizes)))
    deviance = dof * (1.0 + np.log(2.0 * np.pi * sigma2) + 2.0 * np.log(y_scale)) + log_det_h
    if reml:
        deviance += pt.log_det_m + 2.0 * float(np.sum(np.log(inputs.x_scale)))

    converged = not problems
    message = "converged" if converged else "; ".join(problems)
    if not converged:
        consequence = "; Satterthwaite df and p are NaN" if not np.all(np.isfinite(df)) else ""
        warnings.warn(f"the mixed model did not converge: {message}{consequence}", ConvergenceWarning, stacklevel=2)
    index = pd.Index(names)
    return MixedModelResult(
        params=pd.Series(beta, index=index, name="estimate"),
        bse=pd.Series(np.sqrt(np.diag(cov_out)), index=index, name="se"),
        cov_params=pd.DataFrame(cov_out, index=index, columns=index),
        variance_components={"participant": float(sigma2_u), "residual": float(sigma2_e)},
        loglik=float(-0.5 * deviance),
        converged=converged,
        convergence_message=message,
        n_obs=st.n,
        n_groups=n_groups,
        reml=bool(reml),
        random_effects=pd.Series(blup, index=pd.Index(labels, name="participant"), name="intercept"),
        _cov_internal=cov,
        _cov_jacobian=jac,
        _varpar_cov=varpar_cov,
        _coef_scale=inputs.x_scale,
    )


# --------------------------------------------------------------------------- the trial's design

_TIMES = ("pre", "post")
PRIMARY_NAMES = (
    "intercept", "age", "sex", "time", "placebo", "usual_care", "time:placebo", "time:usual_care",
)


def _column_floats(column: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """A column as floats (missing -> NaN) and the mask of entries present but not numbers."""
    if pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_complex_dtype(column):
        return column.to_numpy(dtype=float, na_value=np.nan), np.zeros(len(column), dtype=bool)
    converted = [_to_float(v) for v in column.to_numpy(dtype=object)]
    bad = np.array([v is None for v in converted], dtype=bool)
    return np.array([np.nan if v is None else v for v in converted], dtype=float), bad


def design_primary(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
    """The trial's primary design ``y ~ 1 + age + sex + time * arm`` (Ashar et al. 2022).

    ``frame`` is long: columns participant, arm (prt/placebo/usual_care), time (pre/post), age,
    sex (male/female), value; rows with a missing value are dropped (every participant with any
    data stays in, as in the ITT analysis). Reference coding: PRT, pre and male are the
    references, so ``sex`` = 1 for female, ``time`` = 1 at post, ``placebo`` / ``usual_care`` are
    arm indicators, and ``time:placebo`` / ``time:usual_care`` are the differences in pre-to-post
    change from PRT (positive = the control arm improved less). Returns ``(y, X, groups, names)``.

    Raises InputError naming the record (participant) and column of a value that is not a finite
    number, an unknown arm, time or sex, a missing or non-numeric age, an arm, age or sex that
    differs between a participant's rows, two values at one time, or a row without a participant.
    """
    needed = ("participant", "arm", "time", "age", "sex", "value")
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise InputError(f"design_primary: missing column(s) {', '.join(missing)}; expected {', '.join(needed)}")
    value, value_bad = _column_floats(frame["value"])
    keep = ~np.isnan(value) | value_bad
    rows = frame.loc[keep, list(needed)]
    value, value_bad = value[keep], value_bad[keep]
    if rows.empty:
        raise InputError("design_primary: no rows with a value")
    no_id = rows["participant"].isna().to_numpy()
    if no_id.any():
        raise InputError(f"design_primary: row {rows.index[no_id][0]} has a value but no participant")
    people = rows["participant"].to_numpy(object)

    def record(mask: np.ndarray) -> str:
        return f"record {people[np.flatnonzero(mask)[0]]}"

    if value_bad.any():
        raise InputError(f"{record(value_bad)}: value is not a number")
    if not np.all(np.isfinite(value)):
        raise InputError(f"{record(~np.isfinite(value))}: value is not finite")
    for column, allowed in (("arm", ARMS), ("time", _TIMES), ("sex", SEXES)):
        bad = ~rows[column].isin(allowed).to_numpy()
        if bad.any():
            raise InputError(f"{record(bad)}: {column} is missing or not one of {', '.join(allowed)}")
    age, age_bad = _column_floats(rows["age"])
    bad = age_bad | ~np.isfinite(age)
    if bad.any():
        raise InputError(f"{record(bad)}: age is missing or not a number")
    per_person = pd.DataFrame({"participant": people, "arm": rows["arm"].to_numpy(object),
                               "sex": rows["sex"].to_numpy(object), "age": age})
    counts = per_person.groupby("participant", sort=False)[["arm", "age", "sex"]].nunique()
    for column in ("arm", "age", "sex"):
        differs = counts.index[counts[column].to_numpy() > 1]
        if len(differs):
            raise InputError(
                f"record {differs[0]}: {column} differs between the participant's rows "
                f"(one {column} per participant)"
            )
    dup = rows.duplicated(["participant", "time"]).to_numpy()
    if dup.any():
        i = np.flatnonzero(dup)[0]
        raise InputError(f"record {people[i]}: more than one value at {rows['time'].iloc[i]}")
    time = (rows["time"] == "post").to_numpy(float)
    placebo = (rows["arm"] == "placebo").to_numpy(float)
    usual = (rows["arm"] == "usual_care").to_numpy(float)
    X = np.column_stack([
        np.ones(len(rows)),
        age,
        (rows["sex"] == "female").to_numpy(float),
        time,
        placebo,
        usual,
        time * placebo,
        time * usual,
    ])
    return value, X, people, list(PRIMARY_NAMES)
