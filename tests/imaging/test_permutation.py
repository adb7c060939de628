"""The permutation engine: nilearn's statistics exactly, p within Monte Carlo error, bounded blocks."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import ndimage, stats

from prt.errors import InputError
from prt.imaging.permutation import permutation_test
from prt.imaging.tfce import VoxelGraph

SHAPE = (10, 12, 8)


def _problem(seed=3, n=24, effect=0.5):
    rng = np.random.default_rng(seed)
    mask = np.zeros(SHAPE, dtype=bool)
    mask[1:9, 1:11, 1:7] = True
    volumes = ndimage.gaussian_filter(rng.normal(size=(n,) + SHAPE), (0, 1.2, 1.2, 1.2))
    group = np.repeat([0.0, 1.0], n // 2)
    age = rng.normal(40, 10, n)
    volumes[:, 3:7, 3:7, 2:5] += effect * group[:, None, None, None]
    return mask, volumes[:, mask], group, age


def nilearn_draws(random_state, n, n_perm, sign_flip):
    """The permutations nilearn's permuted_ols(n_jobs=1, random_state=...) applies, in order."""
    rng = np.random.RandomState(random_state)
    inner = np.random.RandomState(rng.randint(1, np.iinfo(np.int32).max - 1))
    out, cumulative = [], (np.ones(n, dtype=int) if sign_flip else np.arange(n))
    for _ in range(n_perm):
        if sign_flip:
            cumulative = cumulative * (inner.randint(2, size=(n, 1)) * 2 - 1)[:, 0]
        else:
            cumulative = cumulative[inner.permutation(n)]
        out.append(cumulative.copy())
    return np.array(out)


def _nilearn(tested, data, covariates, mask, n_perm, two_sided, random_state=5):
    nib = pytest.importorskip("nibabel")
    pytest.importorskip("nilearn")
    from nilearn.maskers import NiftiMasker
    from nilearn.mass_univariate import permuted_ols

    masker = NiftiMasker(nib.Nifti1Image(mask.astype(np.int8), np.diag([3.0, 3, 3, 1]))).fit()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return permuted_ols(tested[:, None], data, covariates, n_perm=n_perm, two_sided_test=two_sided,
                            random_state=random_state, n_jobs=1, masker=masker, tfce=True)


CASES = [("group+age", True), ("group", False), ("one-sample", True), ("one-sample+age", False)]


@pytest.mark.parametrize("case,two_sided", CASES)
def test_same_statistics_as_nilearn_with_the_same_permutations(case, two_sided):
    mask, data, group, age = _problem()
    tested = np.ones(len(group)) if case.startswith("one-sample") else group
    covariates = age[:, None] if case.endswith("age") else None
    reference = _nilearn(tested, data, covariates, mask, 150, two_sided)
    perms = nilearn_draws(5, len(group), 150, case.startswith("one-sample"))
    ours = permutation_test(data, tested, covariates, graph=VoxelGraph.from_mask(mask), n_permutations=150,
                            two_sided=two_sided, permutations=perms)
    assert ours.scheme == ("sign flipping" if case.startswith("one-sample") else "freedman-lane permutation")
    np.testing.assert_allclose(ours.t, reference["t"][0], rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(ours.tfce, reference["tfce"][0], rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(ours.null_max_t, reference["h0_max_t"][0], rtol=1e-9)
    np.testing.assert_allclose(ours.null_max_tfce, reference["h0_max_tfce"][0], rtol=1e-9)
    np.testing.assert_allclose(-np.log10(ours.p_t), reference["logp_max_t"][0], atol=1e-12)
    np.testing.assert_allclose(-np.log10(ours.p_tfce), reference["logp_max_tfce"][0], atol=1e-12)


def test_corrected_p_agrees_with_nilearn_within_monte_carlo_error():
    """Independent random permutations (ours and nilearn's own): p differ only by sampling error."""
    mask, data, group, age = _problem(seed=11, effect=0.45)
    n_perm = 1000
    reference = _nilearn(group, data, age[:, None], mask, n_perm, True, random_state=0)
    ours = permutation_test(data, group, age[:, None], graph=VoxelGraph.from_mask(mask), n_permutations=n_perm,
                            seed=123)
    p_ref = 10 ** -reference["logp_max_tfce"][0]
    # Each p is a binomial proportion over n_perm draws: the difference of two has SD
    # sqrt(2 p (1 - p) / n_perm); 4.5 SD (plus a few steps of the 1/(n+1) resolution) leaves room
    # for every voxel.
    sd = np.sqrt(2 * p_ref * (1 - p_ref) / n_perm)
    assert np.all(np.abs(ours.p_tfce - p_ref) <= 4.5 * sd + 3.0 / (n_perm + 1))
    assert (ours.p_tfce < 0.05).sum() > 0  # the planted effect is found by both
    assert ((ours.p_tfce < 0.05) == (p_ref < 0.05)).mean() > 0.97
    # The null distributions of the maxima: a two-sample KS test does not tell them apart.
    assert stats.ks_2samp(ours.null_max_tfce, reference["h0_max_tfce"][0]).pvalue > 0.001


def test_t_is_the_ordinary_least_squares_t_of_the_tested_regressor():
    sm = pytest.importorskip("statsmodels.api")
    mask, data, group, age = _problem(n=20)
    ours = permutation_test(data[:, :15], group, age[:, None], tfce=False, n_permutations=0)
    design = np.column_stack([group, age, np.ones(20)])
    expected = [sm.OLS(data[:, j], design).fit().tvalues[0] for j in range(15)]
    np.testing.assert_allclose(ours.t, expected, rtol=1e-9)
    assert ours.df == 20 - 3


def test_one_sample_t_is_the_one_sample_t_test():
    rng = np.random.default_rng(2)
    data = rng.normal(0.3, 1, size=(15, 10))
    ours = permutation_test(data, np.ones(15), tfce=False, n_permutations=0)
    np.testing.assert_allclose(ours.t, stats.ttest_1samp(data, 0).statistic, rtol=1e-10)


def test_the_result_does_not_depend_on_the_block_size_and_progress_is_reported():
    mask, data, group, age = _problem()
    graph = VoxelGraph.from_mask(mask)
    calls = []
    small = permutation_test(data, group, age[:, None], graph=graph, n_permutations=300, seed=9, block_size=7,
                             progress=lambda d, t: calls.append((d, t)))
    large = permutation_test(data, group, age[:, None], graph=graph, n_permutations=300, seed=9, block_size=300)
    # The same permutations; only BLAS's blocking of the matrix product can move the last bit.
    np.testing.assert_allclose(small.null_max_tfce, large.null_max_tfce, rtol=1e-12)
    np.testing.assert_allclose(small.p_tfce, large.p_tfce, atol=1.5 / 301)
    assert calls[-1] == (300, 300) and len(calls) == 43
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)


def test_memory_is_bounded_by_the_block_not_the_permutation_count():
    import tracemalloc

    rng = np.random.default_rng(0)
    data = rng.normal(size=(30, 4000))
    group = np.repeat([0.0, 1.0], 15)
    peaks = []
    for n_perm in (200, 2000):
        tracemalloc.start()
        permutation_test(data, group, tfce=False, n_permutations=n_perm, block_size=50)
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
    assert peaks[1] < 1.3 * peaks[0] + 2**20  # 10x the permutations, about the same peak


def test_planted_effect_is_found_and_the_null_is_not():
    mask, data, group, age = _problem(effect=1.0)
    result = permutation_test(data, group, age[:, None], graph=VoxelGraph.from_mask(mask), n_permutations=500)
    inside = np.zeros(SHAPE, dtype=bool)
    inside[3:7, 3:7, 2:5] = True
    found = result.p_tfce < 0.05
    assert found[inside[mask]].mean() > 0.8
    assert found[~inside[mask]].mean() < 0.2


def test_input_errors_name_the_argument():
    mask, data, group, age = _problem()
    graph = VoxelGraph.from_mask(mask)
    bad = data.copy()
    bad[3, 5] = np.nan
    with pytest.raises(InputError, match="data: row 3"):
        permutation_test(bad, group, graph=graph, n_permutations=10)
    with pytest.raises(InputError, match="tested: 23 rows"):
        permutation_test(data, group[:-1], graph=graph)
    with pytest.raises(InputError, match="voxels per image"):
        permutation_test(data[:, :-1], group, graph=graph)
    with pytest.raises(InputError, match="graph"):
        permutation_test(data, group)
    flat = data.copy()
    flat[:, 0] = 0.0
    with pytest.raises(InputError, match="1 voxel"):
        permutation_test(flat, group, graph=graph)
    with pytest.raises(InputError, match="collinear"):
        permutation_test(data, group, np.column_stack([age, 2 * age]), graph=graph)
    with pytest.raises(InputError, match="explained by the covariates"):
        permutation_test(data, group, group[:, None] * 3 + 1, graph=graph, tfce=False)
    with pytest.raises(InputError, match="constant"):
        permutation_test(data, group, np.ones((24, 1)), graph=graph)
    for count in (-1, 1.5, True, 10**7):
        with pytest.raises(InputError, match="n_permutations"):
            permutation_test(data, group, graph=graph, n_permutations=count)
    with pytest.raises(InputError, match="ordering"):
        permutation_test(data, group, graph=graph, permutations=np.zeros((3, 24), dtype=int))
    with pytest.raises(InputError, match="signs"):
        permutation_test(data, np.ones(24), graph=graph, permutations=np.zeros((3, 24), dtype=int))
    with pytest.raises(InputError, match="block_size"):
        permutation_test(data, group, graph=graph, block_size=0)
    with pytest.raises(InputError, match="residual df"):
        permutation_test(data[11:13], group[11:13], tfce=False)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(3, 12), st.integers(1, 30), st.integers(0, 2), st.booleans(), st.integers(0, 2**32 - 1))
def test_fuzz_any_design_gives_valid_p_or_a_clear_error(n, n_vox, n_cov, one_sample, seed):
    rng = np.random.default_rng(seed)
    data = rng.normal(size=(n, n_vox)) * 10.0 ** rng.integers(-3, 4)
    tested = np.ones(n) if one_sample else rng.integers(0, 2, n).astype(float)
    covariates = rng.normal(size=(n, n_cov)) if n_cov else None
    mask = np.zeros((n_vox, 1, 1), dtype=bool)
    mask[:, 0, 0] = True
    try:
        result = permutation_test(data, tested, covariates, graph=VoxelGraph.from_mask(mask), n_permutations=20,
                                  seed=seed)
    except InputError:
        return
    assert np.all(np.isfinite(result.t))
    for p in (result.p_t, result.p_tfce):
        assert np.all((p >= 1 / 21) & (p <= 1))
    assert result.null_max_t.shape == (20,)
