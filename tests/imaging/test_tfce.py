"""TFCE over all thresholds at once equals nilearn's per-threshold labelling, value for value."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy import ndimage

from prt.errors import InputError
from prt.imaging.tfce import STEPS, VoxelGraph, levels, tfce, thresholds


def _smooth_maps(rng, shape, n, scale=3.0):
    maps = ndimage.gaussian_filter(rng.normal(size=(n,) + shape), (0, 1.2, 1.2, 1.2))
    return scale * maps / maps.std()


def _irregular_mask(rng, shape):
    mask = np.zeros(shape, dtype=bool)
    mask[1:-1, 1:-1, 1:-1] = True
    return mask & (ndimage.gaussian_filter(rng.normal(size=shape), 1.5) > -0.1)


@pytest.mark.parametrize("two_sided", [True, False])
@pytest.mark.parametrize("connectivity", [6, 18, 26])
def test_equals_nilearn_calculate_tfce(two_sided, connectivity):
    nilearn_utils = pytest.importorskip("nilearn.mass_univariate._utils")
    rng = np.random.default_rng(connectivity + two_sided)
    shape = (11, 13, 9)
    mask = _irregular_mask(rng, shape)
    graph = VoxelGraph.from_mask(mask, connectivity=connectivity)
    structure = ndimage.generate_binary_structure(3, {6: 1, 18: 2, 26: 3}[connectivity])
    volumes = _smooth_maps(rng, shape, 6)
    volumes[:, ~mask] = 0.0
    ours = tfce(volumes[:, mask], graph, two_sided=two_sided)
    for i in range(volumes.shape[0]):
        reference = nilearn_utils.calculate_tfce(volumes[i][..., None], structure, two_sided_test=two_sided)[..., 0]
        np.testing.assert_allclose(ours[i], reference[mask], rtol=1e-12, atol=1e-12)
        assert not reference[~mask].any()


def test_a_single_voxel_and_a_plateau_have_the_known_values():
    # One voxel of height 1 on a background of 0: thresholds 0.01..1.00, each adds 1**0.5 * h**2.
    mask = np.ones((3, 3, 3), dtype=bool)
    graph = VoxelGraph.from_mask(mask)
    one = np.zeros(27)
    one[13] = 1.0
    expected = np.sum(np.linspace(0, 1, STEPS + 1)[1:] ** 2)
    assert tfce(one, graph)[0, 13] == pytest.approx(expected, rel=1e-12)
    # A flat plateau of 27 voxels at 2: every voxel gets sqrt(27) * sum(h**2) over h up to 2.
    flat = np.full(27, 2.0)
    expected = np.sqrt(27) * np.sum(np.linspace(0, 2, STEPS + 1)[1:] ** 2)
    np.testing.assert_allclose(tfce(flat, graph)[0], expected, rtol=1e-12)


def test_clusters_of_opposite_sign_never_merge():
    mask = np.ones((1, 1, 4), dtype=bool)
    graph = VoxelGraph.from_mask(mask)
    values = np.array([[2.0, 2.0, -2.0, -2.0]])
    out = tfce(values, graph, two_sided=True)[0]
    single = np.sqrt(2) * np.sum(np.linspace(0, 2, STEPS + 1)[1:] ** 2)
    np.testing.assert_allclose(out, [single, single, -single, -single], rtol=1e-12)
    one_sided = tfce(values, graph, two_sided=False)[0]
    np.testing.assert_allclose(one_sided, [single, single, 0, 0], rtol=1e-12)


def test_a_map_without_positive_values_has_zero_tfce():
    graph = VoxelGraph.from_mask(np.ones((2, 2, 2), dtype=bool))
    assert not tfce(np.zeros(8), graph).any()
    assert not tfce(-np.ones(8), graph, two_sided=False).any()


def test_each_map_of_a_block_is_computed_as_if_alone():
    rng = np.random.default_rng(7)
    mask = _irregular_mask(rng, (9, 9, 9))
    graph = VoxelGraph.from_mask(mask)
    maps = _smooth_maps(rng, (9, 9, 9), 5)[:, mask]
    together = tfce(maps, graph)
    for i in range(5):
        np.testing.assert_array_equal(together[i], tfce(maps[i], graph)[0])


@settings(max_examples=60, deadline=None)
@given(arrays(np.float64, st.integers(1, 40), elements=st.floats(-1e6, 1e6, allow_nan=False)))
def test_levels_count_the_thresholds_reached_exactly(values):
    heights = thresholds(values[None], two_sided=False)
    got = levels(values[None], heights)[0]
    expected = (heights[0][None, :] <= values[:, None]).sum(axis=1) if heights[0, -1] > 0 else np.zeros(values.size)
    np.testing.assert_array_equal(got, expected)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**31), st.integers(1, 4), st.booleans())
def test_random_masks_and_maps_match_a_per_threshold_labelling(seed, size, two_sided):
    """Fuzz: random masks and maps against a plain per-threshold labelling (nilearn's method)."""
    rng = np.random.default_rng(seed)
    shape = (size + 2, size + 3, size + 1)
    mask = rng.random(shape) < 0.7
    if not mask.any():
        mask[0, 0, 0] = True
    graph = VoxelGraph.from_mask(mask)
    values = np.round(rng.normal(size=graph.n_voxels) * 3, 1)  # ties on purpose
    ours = tfce(values, graph, two_sided=two_sided)[0]
    volume = graph.to_volume(values)
    top = np.abs(values).max() if two_sided else max(values.max(), 0.0 if not graph.fills_grid else values.max())
    expected = np.zeros(shape)
    if top > 0:
        for sign in ((-1, 1) if two_sided else (1,)):
            for h in np.linspace(0, top, STEPS + 1)[1:]:
                labelled, _ = ndimage.label(sign * volume >= h)
                sizes = np.bincount(labelled.ravel())
                sizes[0] = 0
                expected += sign * sizes[labelled] ** 0.5 * h**2
    np.testing.assert_allclose(ours, expected[mask], rtol=1e-9, atol=1e-9)


def test_graph_errors_name_what_is_wrong():
    with pytest.raises(InputError, match="no voxel"):
        VoxelGraph.from_mask(np.zeros((2, 2, 2)))
    with pytest.raises(InputError, match="3-D"):
        VoxelGraph.from_mask(np.ones((2, 2)))
    with pytest.raises(InputError, match="6, 18 or 26"):
        VoxelGraph.from_mask(np.ones((2, 2, 2)), connectivity=8)
    graph = VoxelGraph.from_mask(np.ones((2, 2, 2)))
    with pytest.raises(InputError, match="8 voxels"):
        tfce(np.zeros(7), graph)
    with pytest.raises(InputError, match="finite"):
        tfce(np.full(8, np.nan), graph)


def test_neighbour_pairs_are_the_grid_faces():
    graph = VoxelGraph.from_mask(np.ones((2, 3, 4), dtype=bool))
    # faces of a 2x3x4 block: 1*3*4 + 2*2*4 + 2*3*3
    assert graph.pairs.shape[0] == 12 + 16 + 18
    assert (graph.neighbours >= 0).sum() == 2 * graph.pairs.shape[0]
