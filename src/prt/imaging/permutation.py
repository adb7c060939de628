"""Mass-univariate OLS with permutation inference (max-t and TFCE, family-wise corrected).

The statistics are nilearn's ``permuted_ols(tested, data, covariates, tfce=True)`` (one tested
regressor): the data and the tested regressor are normalised and residualised on the covariates
(orthonormalised; an intercept is added unless the tested regressor is itself constant), the
t statistic of each voxel is ``b sqrt((dof - 1) / (1 - a2 - b^2))`` with ``b`` the tested
regressor's and ``a2`` the covariates' projections of the unit-norm residuals, ``dof = n -
#covariates``. Null distributions come from Freedman & Lane (J Bus Econ Stat 1983;1:292-8): the
residuals of the reduced (covariates-only) model are permuted - here, equivalently, the rows of
the residualised design are - or, when the tested regressor is the intercept (a one-sample test),
their signs are flipped (Winkler et al., NeuroImage 2014;92:381-97). Each permutation's maximum
``|t|`` (two-sided) or ``t`` and maximum TFCE give the family-wise corrected p of each voxel,
``(1 + #{null maxima >= observed}) / (1 + n_permutations)``, nilearn's rule.

Speed: the permutations of a block are one matrix product ``(B (1 + q), n) @ (n, V)`` (BLAS,
threaded), TFCE of the block's maps is :func:`prt.imaging.tfce.tfce` (all thresholds in one
sweep, clusters by connected components of the mask's voxel graph), and only the block's maps are
held: memory is bounded by the block size, whatever the number of permutations. Random
permutations are drawn in fixed chunks from ``numpy.random.default_rng(seed)``, so a seed gives
the same result for any block size.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from prt.errors import InputError
from prt.imaging.tfce import VoxelGraph, tfce as tfce_maps

#: ``progress(done, total)``: called after each block of permutations.
Progress = Callable[[int, int], None]

#: More permutations than this change no reported digit (p resolution 1e-6) and only cost hours.
MAX_PERMUTATIONS = 1_000_000
#: Bytes of the block's projections ``(B, 1 + q, V)`` the engine aims to stay under.
BLOCK_BYTES = 48 * 2**20
#: Voxel-maps per TFCE sweep (a sweep's arrays then stay in the processor's caches).
TFCE_CELLS = 2**19
#: Random permutations are drawn this many at a time (results do not depend on the block size).
_DRAW_CHUNK = 1024


@dataclass(frozen=True)
class PermutationResult:
    """Observed maps, family-wise corrected p maps and null maxima of a permutation test.

    Attributes:
        t: (V,) t statistic of the tested regressor at each voxel.
        tfce: (V,) TFCE of the t map (signed when two-sided), or None without TFCE.
        p_t: (V,) family-wise corrected p from the maximum t (voxel-level FWE).
        p_tfce: (V,) family-wise corrected p from the maximum TFCE, or None.
        null_max_t, null_max_tfce: (n_permutations,) the maxima of each permutation, in order.
        n_permutations: permutations done (the observed data are not counted among them).
        scheme: ``"freedman-lane permutation"`` or ``"sign flipping"`` (one-sample tests).
        df: residual degrees of freedom of the t statistic, ``n - 1 - #covariates``.
        two_sided: whether ``|t|`` was tested.
    """

    t: np.ndarray
    tfce: np.ndarray | None
    p_t: np.ndarray
    p_tfce: np.ndarray | None
    null_max_t: np.ndarray
    null_max_tfce: np.ndarray | None
    n_permutations: int
    scheme: str
    df: int
    two_sided: bool


@dataclass(frozen=True)
class _Model:
    """The residualised, unit-norm data and design (nilearn's normalised design)."""

    data: np.ndarray  # (n, V) residuals of the data on the covariates, unit norm per voxel
    design: np.ndarray  # (n, 1 + q): residualised tested regressor, then orthonormal covariates
    sign_flip: bool
    dof: int  # n - q (nilearn's), the t's df is dof - 1


def _as_matrix(values, name: str, rows: int | None = None) -> np.ndarray:
    try:
        array = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        raise InputError(f"{name}: expected numbers") from None
    if array.ndim == 1:
        array = array[:, None]
    if array.ndim != 2:
        raise InputError(f"{name}: expected a 1-D or 2-D array, got {array.ndim} dimensions")
    if rows is not None and array.shape[0] != rows:
        raise InputError(f"{name}: {array.shape[0]} rows, the data have {rows} (one per image)")
    if not np.all(np.isfinite(array)):
        bad = np.argwhere(~np.isfinite(array))[0]
        raise InputError(f"{name}: row {bad[0]} has a value that is not a finite number (NaN or infinite)")
    return array


def _unit_columns(matrix: np.ndarray) -> np.ndarray:
    norm = np.sqrt(np.sum(matrix**2, axis=0))
    return matrix / norm


def prepare(data, tested, covariates=None) -> _Model:
    """Check the inputs and build the normalised model (see the module docstring)."""
    data = _as_matrix(data, "data")
    n, n_vox = data.shape
    tested = _as_matrix(tested, "tested", n)
    if tested.shape[1] != 1:
        raise InputError(f"tested: one regressor expected, got {tested.shape[1]} columns")
    sign_flip = bool(np.ptp(tested[:, 0]) == 0)
    if sign_flip and tested[0, 0] == 0:
        raise InputError("tested: the regressor is 0 everywhere")
    columns = []
    if covariates is not None:
        cov = _as_matrix(covariates, "covariates", n)
        constant = [j for j in range(cov.shape[1]) if np.ptp(cov[:, j]) == 0]
        if constant:
            raise InputError(f"covariates: column {constant[0]} is constant; the intercept is added for you "
                             "(or is the tested regressor)")
        columns.append(cov)
    if not sign_flip:
        columns.append(np.ones((n, 1)))
    if columns:
        z = np.hstack(columns)
        u, s, _ = np.linalg.svd(z, full_matrices=False)
        if s[-1] <= s[0] * 1e-10:
            raise InputError("covariates: the covariates (with the intercept) are collinear; drop a column")
        basis = u
    else:
        basis = np.zeros((n, 0))
    q = basis.shape[1]
    if n - q - 1 < 1:
        raise InputError(f"data: {n} images cannot estimate {q + 1} regressors with a residual df left")
    scale = np.sqrt(np.sum(data**2, axis=0))
    if np.any(scale == 0):
        raise InputError(f"data: {int(np.sum(scale == 0))} voxel(s) are 0 in every image (outside the data's "
                         "coverage?); restrict the mask to voxels with data")
    y = data / scale
    if q:
        y = y - basis @ (basis.T @ y)
    resid = np.sqrt(np.sum(y**2, axis=0))
    flat = resid <= 1e-10
    if np.any(flat):
        raise InputError(f"data: {int(flat.sum())} voxel(s) do not vary across images once the covariates "
                         "are removed; restrict the mask to voxels with data")
    y = y / resid
    x = _unit_columns(tested)
    if q:
        x = x - basis @ (basis.T @ x)
        norm = float(np.sqrt(np.sum(x**2)))
        if norm <= 1e-10:
            raise InputError("tested: the tested regressor is explained by the covariates (collinear)")
        x = x / norm
    design = np.hstack([x, basis])
    return _Model(data=np.ascontiguousarray(y), design=np.ascontiguousarray(design), sign_flip=sign_flip,
                  dof=n - q)


def _t_maps(model: _Model, designs: np.ndarray) -> np.ndarray:
    """t maps (B, V) for a block of row-permuted or sign-flipped designs (B, n, 1 + q)."""
    n_perm, n, width = designs.shape
    proj = (designs.transpose(0, 2, 1).reshape(n_perm * width, n) @ model.data).reshape(n_perm, width, -1)
    b = proj[:, 0, :]
    rss = 1.0 - b**2
    if width > 1:
        rss = 1.0 - np.sum(proj[:, 1:, :] ** 2, axis=1) - b**2
    return b * np.sqrt((model.dof - 1.0) / rss)


def _check_count(n_permutations) -> int:
    if isinstance(n_permutations, bool) or not isinstance(n_permutations, (int, np.integer)):
        raise InputError(f"n_permutations: expected a whole number, got {n_permutations!r}")
    if not 0 <= n_permutations <= MAX_PERMUTATIONS:
        raise InputError(f"n_permutations: expected 0 to {MAX_PERMUTATIONS:,}, got {n_permutations}")
    return int(n_permutations)


def _draws(model: _Model, n_permutations: int, seed, permutations):
    """Yield successive arrays of permutations: row orders (int) or signs (+1/-1), (k, n)."""
    n = model.data.shape[0]
    if permutations is not None:
        given = np.asarray(permutations)
        if given.ndim != 2 or given.shape[1] != n:
            raise InputError(f"permutations: expected an array (n_permutations, {n})")
        if model.sign_flip:
            if not np.all(np.isin(given, (-1, 1))):
                raise InputError("permutations: a one-sample test flips signs; expected rows of +1 and -1")
        elif not np.all(np.sort(given, axis=1) == np.arange(n)):
            raise InputError(f"permutations: each row must be an ordering of 0..{n - 1}")
        yield given[:n_permutations]
        return
    rng = np.random.default_rng(seed)
    done = 0
    while done < n_permutations:
        k = min(_DRAW_CHUNK, n_permutations - done)
        if model.sign_flip:
            yield rng.integers(0, 2, size=(_DRAW_CHUNK, n), dtype=np.int8)[:k] * 2 - 1
        else:
            yield rng.permuted(np.tile(np.arange(n), (_DRAW_CHUNK, 1)), axis=1)[:k]
        done += k


def _blocks(draws, block: int):
    """Regroup the drawn chunks into blocks of ``block`` permutations."""
    pending = []
    size = 0
    for chunk in draws:
        pending.append(chunk)
        size += chunk.shape[0]
        while size >= block:
            joined = np.concatenate(pending)
            yield joined[:block]
            pending, size = [joined[block:]], joined.shape[0] - block
    if size:
        yield np.concatenate(pending)


def _max_tfce(maps: np.ndarray, graph: VoxelGraph, two_sided: bool) -> np.ndarray:
    chunk = int(np.clip(TFCE_CELLS // max(graph.n_voxels, 1), 1, 256))
    out = np.empty(maps.shape[0])
    for i in range(0, maps.shape[0], chunk):
        out[i: i + chunk] = np.max(np.abs(tfce_maps(maps[i: i + chunk], graph, two_sided=two_sided)), axis=1)
    return out


def _fwe_p(observed: np.ndarray, null: np.ndarray) -> np.ndarray:
    """``(1 + #{null >= observed}) / (1 + len(null))`` for each voxel (nilearn's rank rule)."""
    below = np.searchsorted(np.sort(null), observed, side="left")  # #{null < observed}
    return (null.shape[0] + 1.0 - below) / (null.shape[0] + 1.0)


def permutation_test(data, tested, covariates=None, *, graph: VoxelGraph | None = None, tfce: bool = True,
                     n_permutations: int = 5000, two_sided: bool = True, seed=0, permutations=None,
                     block_size: int | None = None, progress: Progress | None = None) -> PermutationResult:
    """Permutation test of one regressor at every voxel, family-wise corrected by max-t and TFCE.

    ``data`` (n images, V voxels), ``tested`` (n,) the regressor (a constant makes it a one-sample
    test by sign flipping), ``covariates`` (n, c) without an intercept (it is added), ``graph`` the
    mask's :class:`~prt.imaging.tfce.VoxelGraph` (needed for TFCE), ``permutations`` optional
    explicit row orders or sign vectors (n_permutations, n). Same statistics as nilearn's
    ``permuted_ols(tested, data, covariates, model_intercept=True, two_sided_test=two_sided,
    tfce=tfce, masker=...)``; InputError for mismatched shapes, NaNs, voxels without variation,
    collinear covariates, a count out of range.

    >>> import numpy as np
    >>> rng = np.random.default_rng(1)
    >>> group = np.repeat([0.0, 1.0], 10)
    >>> data = rng.normal(size=(20, 30)); data[:, :5] += 3.0 * group[:, None]
    >>> r = permutation_test(data, group, tfce=False, n_permutations=200, seed=0)
    >>> bool(np.all(r.p_t[:5] < 0.05)), bool(np.all(r.p_t[5:] > 0.05))
    (True, True)
    """
    model = prepare(data, tested, covariates)
    n_permutations = _check_count(n_permutations)
    if permutations is not None:
        n_permutations = min(n_permutations, len(permutations)) if n_permutations else len(permutations)
    n, n_vox = model.data.shape
    if tfce:
        if graph is None:
            raise InputError("graph: TFCE needs the mask's voxel graph (VoxelGraph.from_mask)")
        if graph.n_voxels != n_vox:
            raise InputError(f"data: {n_vox} voxels per image, the mask has {graph.n_voxels}")
    width = model.design.shape[1]
    if block_size is None:
        block_size = int(np.clip(BLOCK_BYTES // (8 * width * n_vox), 1, 1024))
    elif isinstance(block_size, bool) or not isinstance(block_size, (int, np.integer)) or block_size < 1:
        raise InputError(f"block_size: expected a whole number of at least 1, got {block_size!r}")

    observed_t = _t_maps(model, model.design[None])[0]
    observed_tfce = tfce_maps(observed_t[None], graph, two_sided=two_sided)[0] if tfce else None
    null_t = np.empty(n_permutations)
    null_tfce = np.empty(n_permutations) if tfce else None
    done = 0
    if n_permutations:
        for block in _blocks(_draws(model, n_permutations, seed, permutations), block_size):
            if model.sign_flip:
                designs = model.design[None, :, :] * block[:, :, None].astype(float)
            else:
                designs = model.design[block]
            maps = _t_maps(model, designs)
            k = maps.shape[0]
            null_t[done: done + k] = np.max(np.abs(maps) if two_sided else maps, axis=1)
            if tfce:
                null_tfce[done: done + k] = _max_tfce(maps, graph, two_sided)
            done += k
            if progress is not None:
                progress(done, n_permutations)
    stat_t = np.abs(observed_t) if two_sided else observed_t
    p_t = _fwe_p(stat_t, null_t) if n_permutations else np.ones(n_vox)
    p_tfce = None
    if tfce:
        p_tfce = _fwe_p(np.abs(observed_tfce), null_tfce) if n_permutations else np.ones(n_vox)
    return PermutationResult(
        t=observed_t, tfce=observed_tfce, p_t=p_t, p_tfce=p_tfce, null_max_t=null_t, null_max_tfce=null_tfce,
        n_permutations=n_permutations, scheme="sign flipping" if model.sign_flip else "freedman-lane permutation",
        df=model.dof - 1, two_sided=bool(two_sided),
    )


__all__ = ["MAX_PERMUTATIONS", "PermutationResult", "permutation_test", "prepare"]
