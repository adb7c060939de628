"""Threshold-free cluster enhancement (TFCE) of many maps at once, over all thresholds in one pass.

TFCE (Smith & Nichols, NeuroImage 2009;44:83-98) gives voxel ``v`` of a statistic map the sum over
thresholds ``h`` of ``extent(h, v)**E * h**H``, ``extent(h, v)`` the size of the cluster of voxels
``>= h`` that holds ``v``. The thresholds are nilearn's (``nilearn.mass_univariate._utils.
calculate_tfce`` with ``dh="auto"``, after fslmaths): 100 steps ``linspace(0, max, 101)[1:]`` of
the map's own maximum (of ``|t|`` when two-sided), ``E = 0.5``, ``H = 2``, no ``dh`` factor, clusters
by face connectivity (6 neighbours); two-sided maps get negative values where ``t < 0``. The values
here equal nilearn's to rounding (the same sums in the same order).

nilearn labels the whole volume once per threshold (100 labellings per sign per map). Here the
clusters of all thresholds come from one sweep, from the highest threshold down: the clusters at
level ``k`` are those of level ``k + 1`` joined by the voxels that enter at ``k`` and the
neighbour pairs whose lower voxel enters at ``k``. Each sweep step is one connected-components call
(``scipy.sparse.csgraph``) on a small graph - the previous level's clusters and the new voxels -
for a whole block of maps at once, so every voxel and every neighbour pair is handled once per map
instead of once per threshold. Each cluster of each level becomes a node of the cluster tree
(parent: the cluster one level down that contains it); a voxel's TFCE is the sum of
``size**E * h**H`` along its node's path to the lowest level, accumulated from the lowest level up
(nilearn's order of summation). Voxels are the mask's: nothing outside the mask is ever touched.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.sparse import csgraph

from prt.errors import InputError

#: nilearn's (and fslmaths') TFCE parameters: 100 thresholds, extent power E, height power H.
STEPS = 100
E = 0.5
H = 2.0

#: Neighbour offsets of the three connectivities a 3-D grid supports (faces, + edges, + corners).
_CONNECTIVITY = {6: 1, 18: 2, 26: 3}


@dataclass(frozen=True)
class VoxelGraph:
    """The mask's voxels and their neighbour pairs on the grid (what TFCE's clusters are made of).

    Attributes:
        ijk: (V, 3) grid indices of the mask's voxels, in C order of the grid (as ``mask[mask]``).
        shape: the grid's shape.
        pairs: (P, 2) indices into the voxels of every neighbouring pair, each pair once.
        connectivity: 6 (faces, nilearn's and FSL's), 18 or 26.
        fills_grid: whether the mask is the whole grid (else the grid has background voxels at 0,
            which nilearn's threshold maximum includes).
        neighbours: (V, D) each voxel's neighbours (indices into the voxels), -1 padding; D = 6,
            18 or 26.
    """

    ijk: np.ndarray
    shape: tuple[int, int, int]
    pairs: np.ndarray
    connectivity: int
    fills_grid: bool
    neighbours: np.ndarray

    @property
    def n_voxels(self) -> int:
        return int(self.ijk.shape[0])

    @classmethod
    def from_mask(cls, mask: np.ndarray, connectivity: int = 6) -> "VoxelGraph":
        """The graph of a boolean 3-D mask; InputError for an empty or non-3-D mask."""
        mask = np.asarray(mask)
        if mask.ndim != 3:
            raise InputError(f"mask: expected a 3-D array, got {mask.ndim} dimension(s)")
        if connectivity not in _CONNECTIVITY:
            raise InputError(f"connectivity: expected 6, 18 or 26, got {connectivity!r}")
        mask = mask.astype(bool)
        ijk = np.argwhere(mask)
        if ijk.shape[0] == 0:
            raise InputError("mask: no voxel is in the mask")
        index = np.full(mask.shape, -1, dtype=np.int64)
        index[mask] = np.arange(ijk.shape[0])
        rank = _CONNECTIVITY[connectivity]
        pairs = []
        for offset in np.ndindex(3, 3, 3):
            d = np.array(offset) - 1
            if not 0 < np.abs(d).sum() <= rank or tuple(d) <= (0, 0, 0):
                continue  # each pair once: only the "forward" half of the offsets
            other = ijk + d
            inside = np.all((other >= 0) & (other < np.array(mask.shape)), axis=1)
            src = np.flatnonzero(inside)
            dst = index[tuple(other[inside].T)]
            keep = dst >= 0
            pairs.append(np.column_stack([src[keep], dst[keep]]))
        pairs_arr = np.concatenate(pairs) if pairs else np.empty((0, 2), dtype=np.int64)
        dtype = np.int32 if ijk.shape[0] < 2**31 else np.int64
        both = np.concatenate([pairs_arr, pairs_arr[:, ::-1]])
        both = both[np.lexsort((both[:, 1], both[:, 0]))]
        degree = np.bincount(both[:, 0], minlength=ijk.shape[0])
        column = np.arange(both.shape[0]) - np.repeat(np.cumsum(degree) - degree, degree)
        neighbours = np.full((ijk.shape[0], connectivity), -1, dtype=dtype)
        neighbours[both[:, 0], column] = both[:, 1]
        return cls(ijk=ijk, shape=tuple(int(s) for s in mask.shape), pairs=pairs_arr.astype(dtype),
                   connectivity=connectivity, fills_grid=bool(mask.all()), neighbours=neighbours)

    def to_volume(self, values: np.ndarray, fill: float = 0.0) -> np.ndarray:
        """Voxel values (V,) or (..., V) back on the grid: shape ``grid`` or ``(..., *grid)``."""
        values = np.asarray(values)
        out = np.full(values.shape[:-1] + self.shape, fill, dtype=np.result_type(values.dtype, type(fill)))
        out[(Ellipsis, *self.ijk.T)] = values
        return out


def thresholds(maps: np.ndarray, two_sided: bool, fills_grid: bool = False, steps: int = STEPS) -> np.ndarray:
    """nilearn's TFCE thresholds of each map: ``linspace(0, max, steps + 1)[1:]`` -> (M, steps).

    ``max`` is the map's largest ``|t|`` (two-sided) or ``t``; a grid with background voxels (at 0)
    counts them, as nilearn's maximum over the whole volume does. A map whose maximum is not
    positive has no cluster (its TFCE is 0).
    """
    maps = np.atleast_2d(maps)
    top = np.max(np.abs(maps) if two_sided else maps, axis=1)
    if not fills_grid:
        top = np.maximum(top, 0.0)
    top = np.where(top > 0, top, 0.0)
    return np.linspace(0.0, top, steps + 1, axis=1)[:, 1:]


def levels(values: np.ndarray, heights: np.ndarray) -> np.ndarray:
    """How many thresholds of each row's ``heights`` (ascending) each value reaches: (M, V) uint8.

    Exactly ``#{k: heights[m, k] <= values[m, v]}`` (nilearn keeps a voxel at a threshold when its
    value is not below it), computed from the even spacing and corrected against the real floats.
    """
    values = np.asarray(values, dtype=float)
    steps = heights.shape[1]
    top = heights[:, -1:]
    with np.errstate(divide="ignore", invalid="ignore"):
        guess = np.where(top > 0, np.floor(values / top * steps), 0.0)
    lv = np.clip(guess, 0, steps).astype(np.int16)
    padded = np.concatenate([np.full((heights.shape[0], 1), -np.inf), heights,
                             np.full((heights.shape[0], 1), np.inf)], axis=1)
    for _ in range(steps + 1):  # the guess is off by at most one; loop until exact
        above = np.take_along_axis(padded, lv.astype(np.intp) + 1, axis=1) <= values  # next threshold reached
        below = np.take_along_axis(padded, lv.astype(np.intp), axis=1) > values  # current one not reached
        if not (above.any() or below.any()):
            break
        lv = lv + above.astype(np.int16) - below.astype(np.int16)
    lv[top[:, 0] <= 0] = 0
    return lv.astype(np.uint8)


def tfce(maps: np.ndarray, graph: VoxelGraph, *, two_sided: bool = True, steps: int = STEPS,
         extent: float = E, height: float = H) -> np.ndarray:
    """TFCE of each row of ``maps`` (M, V) on ``graph``'s voxels: (M, V), signed when two-sided.

    Same values as nilearn's ``calculate_tfce(..., two_sided_test=two_sided)`` on the maps put back
    on the grid (module docstring). ``maps`` must be finite.
    """
    maps = np.atleast_2d(np.asarray(maps, dtype=float))
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or not 1 <= steps <= 255:
        raise InputError(f"steps: expected a whole number of thresholds from 1 to 255, got {steps!r}")
    if maps.shape[1] != graph.n_voxels:
        raise InputError(f"maps: {maps.shape[1]} values per map, the mask has {graph.n_voxels} voxels")
    if not np.all(np.isfinite(maps)):
        raise InputError("maps: TFCE needs finite values (a NaN or infinite statistic)")
    heights = thresholds(maps, two_sided, graph.fills_grid, steps)
    magnitude = np.abs(maps) if two_sided else maps
    lv = levels(magnitude, heights)
    if two_sided:
        sign = np.sign(maps).astype(np.int8)
    else:
        sign = np.ones(maps.shape, dtype=np.int8)
    sums = _sweep(lv, sign, heights**height, graph, extent)
    return np.where(sign < 0, -sums, sums) if two_sided else sums


def _sweep(lv: np.ndarray, sign: np.ndarray, weight: np.ndarray, graph: VoxelGraph, extent: float) -> np.ndarray:
    """The one-pass cluster tree and TFCE sums (unsigned) of maps with levels ``lv`` (M, V).

    ``sign`` (M, V) keeps clusters of one sign apart (two neighbours of opposite sign are never in
    one cluster); ``weight`` (M, steps) is ``h**H`` of each map's thresholds.

    Layout: the block's active voxels sorted by entry level, highest first, so the voxels present
    at level ``k`` are a prefix ``[0, count[k])`` of that order and ``comp[p]`` (the cluster of the
    voxel at position ``p`` at the current level) is updated by one gather over the prefix through
    the level's small table of labels.
    """
    n_maps, n_vox = lv.shape
    steps = weight.shape[1]
    flat_lv = lv.ravel()
    order = np.argsort(np.uint8(steps) - flat_lv, kind="stable")  # level descending; 0 (never present) last
    per_level = np.bincount(flat_lv, minlength=steps + 1)
    count = np.zeros(steps + 2, dtype=np.int64)  # count[k]: voxels present at level k
    count[1:steps + 1] = np.cumsum(per_level[:0:-1])[::-1]
    n_active = int(count[1])
    order = order[:n_active]
    index = np.int32 if n_maps * n_vox < 2**31 - 1 else np.int64
    order = order.astype(index)
    position = np.full(n_maps * n_vox, -1, dtype=index)  # -1: never present
    position[order] = np.arange(n_active, dtype=index)
    map_of = order // index(n_vox)
    # Each neighbour pair is handled once, by its voxel that comes later in the order (the one
    # entering at the lower level): ``earlier[p]`` lists the positions of the neighbours of the
    # voxel at position ``p`` that come before it and have its sign (-1 elsewhere).
    flat_sign = sign.ravel()
    voxel = order - map_of * n_vox
    neighbour = graph.neighbours[voxel]  # (n_active, D)
    missing = neighbour < 0
    flat_neighbour = (order - voxel)[:, None] + neighbour
    flat_neighbour[missing] = 0
    earlier = position[flat_neighbour]
    earlier[missing] = -1
    earlier[flat_sign[flat_neighbour] != flat_sign[order][:, None]] = -1
    earlier[earlier >= np.arange(n_active, dtype=index)[:, None]] = -1
    del neighbour, missing, flat_neighbour, voxel

    comp = np.empty(n_active, dtype=index)  # cluster (local label) at the current level
    entry = np.empty(n_active, dtype=index)  # cluster at the voxel's own entry level
    contributions: list[np.ndarray] = [np.empty(0)] * (steps + 2)  # per level: size**E * h**H
    down: list[np.ndarray] = [np.empty(0, dtype=np.int64)] * (steps + 2)  # level k+1 cluster -> level k
    prev_size = np.empty(0)
    prev_map = np.empty(0, dtype=index)
    for k in range(steps, 0, -1):
        lo, hi = int(count[k + 1]), int(count[k])
        n_old, n_new = prev_size.shape[0], hi - lo
        n_nodes = n_old + n_new
        if n_nodes == 0:
            continue
        comp[lo:hi] = np.arange(n_old, n_nodes, dtype=index)
        block = earlier[lo:hi]
        joined = block >= 0
        m = int(np.count_nonzero(joined))
        if m:
            indptr = np.zeros(n_nodes + 1, dtype=index)
            np.cumsum(joined.sum(axis=1), out=indptr[n_old + 1:])
            graph_k = sparse.csr_matrix((np.ones(m), comp[block[joined]], indptr), shape=(n_nodes, n_nodes))
            n_comp, labels = csgraph.connected_components(graph_k, directed=True, connection="weak")
            labels = labels.astype(index, copy=False)
            comp[:hi] = labels[comp[:hi]]
            sizes = np.concatenate([prev_size, np.ones(n_new)])
            new_size = np.bincount(labels, weights=sizes, minlength=n_comp)
            new_map = np.empty(n_comp, dtype=index)
            new_map[labels] = np.concatenate([prev_map, map_of[lo:hi]])
            down[k + 1] = labels[:n_old]
        else:  # nothing joins: the old clusters keep their labels, each new voxel is its own
            n_comp = n_nodes
            new_size = np.concatenate([prev_size, np.ones(n_new)])
            new_map = np.concatenate([prev_map, map_of[lo:hi]])
            down[k + 1] = np.arange(n_old, dtype=index)
        entry[lo:hi] = comp[lo:hi]
        contributions[k] = (new_size**extent) * weight[new_map, k - 1]
        prev_size, prev_map = new_size, new_map
    # Sums from the lowest level up (nilearn's order): a cluster's value is its contribution plus
    # that of the cluster one level down that contains it; a voxel takes its entry cluster's value.
    out_sorted = np.empty(n_active)
    total = np.empty(0)
    for k in range(1, steps + 1):
        if contributions[k].shape[0] == 0:
            break
        total = contributions[k] if k == 1 else contributions[k] + total[down[k]]
        lo, hi = int(count[k + 1]), int(count[k])
        out_sorted[lo:hi] = total[entry[lo:hi]]
    out = np.zeros(n_maps * n_vox)
    out[order] = out_sorted
    return out.reshape(n_maps, n_vox)


__all__ = ["E", "H", "STEPS", "VoxelGraph", "levels", "tfce", "thresholds"]
