"""The project's masks: the localizer's regions of interest and the connectivity targets, drawn on any grid.

No atlas can be downloaded here and none ships with our dependencies, so the regions are
ellipsoids around published MNI coordinates, drawn on the grid of the data (any voxel size or
orientation), inside the brain mask. Regions follow the trial's localizer (Ashar et al., JAMA
Psychiatry 2022, fMRI supplement): medial prefrontal, posteromedial, insula, cingulate and
somatosensory cortices, amygdala and nucleus accumbens; targets: four S1 subregions (left/right,
dorsal/ventral postcentral gyrus) and the midline default-mode regions (precuneus, posterior
cingulate, medial prefrontal). Centres and extents are rough textbook MNI positions of these
structures, chosen by hand: good enough for synthetic data and a first look, not an atlas. A
trial's own masks (the same layout: a label image and a TSV of names) replace them.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from prt.imaging.volumes import Grid


class Region(NamedTuple):
    """An ellipsoid in MNI space: centre (mm) and semi-axes (mm) along x, y, z."""

    name: str
    centre: tuple[float, float, float]
    radii: tuple[float, float, float]


#: The localizer's regions of interest (label = position + 1).
LOCALIZER = (
    Region("medial_prefrontal", (0, 50, 6), (12, 16, 16)),
    Region("posteromedial", (0, -56, 32), (10, 16, 14)),
    Region("insula_left", (-38, 4, 2), (8, 22, 14)),
    Region("insula_right", (38, 4, 2), (8, 22, 14)),
    Region("cingulate", (0, 14, 36), (9, 26, 11)),
    Region("somatosensory_left", (-40, -30, 54), (14, 12, 16)),
    Region("somatosensory_right", (40, -30, 54), (14, 12, 16)),
    Region("amygdala_left", (-22, -4, -18), (7, 7, 7)),
    Region("amygdala_right", (22, -4, -18), (7, 7, 7)),
    Region("accumbens_left", (-10, 12, -8), (6, 6, 6)),
    Region("accumbens_right", (10, 12, -8), (6, 6, 6)),
)

#: Connectivity targets: four S1 subregions and the midline default-mode regions.
TARGETS = (
    Region("s1_left_dorsal", (-30, -36, 64), (12, 10, 10)),
    Region("s1_left_ventral", (-54, -22, 36), (10, 10, 12)),
    Region("s1_right_dorsal", (30, -36, 64), (12, 10, 10)),
    Region("s1_right_ventral", (54, -22, 36), (10, 10, 12)),
    Region("precuneus", (0, -62, 44), (10, 14, 12)),
    Region("posterior_cingulate", (0, -44, 28), (8, 12, 10)),
    Region("medial_prefrontal_dmn", (0, 54, -4), (10, 14, 12)),
)

#: The brain: an ellipsoid enclosing MNI152's cortex (centre and semi-axes in mm).
BRAIN = Region("brain", (0, -18, 16), (70, 100, 74))


def mni_coordinates(grid: Grid) -> np.ndarray:
    """MNI coordinates (mm) of every voxel of the grid: shape ``grid.shape + (3,)``."""
    ijk = np.stack(np.meshgrid(*[np.arange(s) for s in grid.shape], indexing="ij"), axis=-1)
    return grid.mni(ijk)


def ellipsoid(grid: Grid, region: Region) -> np.ndarray:
    """Boolean mask of the voxels whose centres lie inside the region's ellipsoid."""
    xyz = mni_coordinates(grid)
    scaled = (xyz - np.asarray(region.centre)) / np.asarray(region.radii)
    return np.sum(scaled**2, axis=-1) <= 1.0


def brain_mask(grid: Grid) -> np.ndarray:
    return ellipsoid(grid, BRAIN)


def label_image(grid: Grid, regions=LOCALIZER) -> tuple[np.ndarray, dict[int, str]]:
    """Labels (int32, 0 outside) of ``regions`` inside the brain; an earlier region wins an overlap."""
    labels = np.zeros(grid.shape, dtype=np.int32)
    inside = brain_mask(grid)
    for index in range(len(regions), 0, -1):
        labels[ellipsoid(grid, regions[index - 1]) & inside] = index
    return labels, {i + 1: r.name for i, r in enumerate(regions)}


def mni_grid(voxel_size: float, bounds=((-72, 72), (-108, 72), (-36, 84))) -> Grid:
    """An MNI-aligned grid of ``voxel_size`` mm covering ``bounds`` (mm), x flipped (radiological
    storage, as MNI152 templates are)."""
    size = float(voxel_size)
    shape = tuple(int(np.floor((hi - lo) / size)) + 1 for lo, hi in bounds)
    affine = np.array([
        [-size, 0, 0, bounds[0][1]],
        [0, size, 0, bounds[1][0]],
        [0, 0, size, bounds[2][0]],
        [0, 0, 0, 1],
    ], dtype=float)
    return Grid(shape=shape, affine=affine)


__all__ = ["BRAIN", "LOCALIZER", "Region", "TARGETS", "brain_mask", "ellipsoid", "label_image", "mni_coordinates",
           "mni_grid"]
