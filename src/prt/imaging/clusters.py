"""Clusters of significant voxels: connected pieces within one region, with peak MNI coordinates.

A cluster is a set of significant voxels connected through the mask's neighbour pairs (face
connectivity, as TFCE's clusters) that lie in one region of the label image: a piece of
significance that spans two regions is reported as two clusters, so each cluster has one anatomical
name and can serve as a seed. Clusters smaller than ``min_voxels`` are dropped. The table gives the
region, size (voxels and mm^3), the peak (largest statistic) in MNI millimetres, the peak statistic
and the smallest corrected p; clusters are numbered by size, largest first.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.sparse import csgraph

from prt.imaging.tfce import VoxelGraph
from prt.imaging.volumes import Grid

#: Columns of a cluster table, in order.
COLUMNS = ("cluster", "name", "region", "voxels", "volume_mm3", "peak_x", "peak_y", "peak_z", "peak_stat",
           "min_p")


def find_clusters(significant: np.ndarray, stat: np.ndarray, p: np.ndarray, graph: VoxelGraph,
                  region_of: np.ndarray, region_names: dict[int, str], grid: Grid,
                  min_voxels: int = 1) -> tuple[pd.DataFrame, np.ndarray]:
    """Clusters of ``significant`` voxels (V,) on ``graph``: (table, label of each voxel, 0 = none).

    ``stat`` (V,) picks each cluster's peak (largest value; pass ``-t`` for negative clusters),
    ``p`` (V,) gives ``min_p``, ``region_of`` (V,) each voxel's region label (0 = unnamed).
    """
    significant = np.asarray(significant, dtype=bool)
    n = graph.n_voxels
    a, b = graph.pairs[:, 0], graph.pairs[:, 1]
    keep = significant[a] & significant[b] & (region_of[a] == region_of[b])
    adjacency = sparse.coo_matrix((np.ones(int(keep.sum())), (a[keep], b[keep])), shape=(n, n)).tocsr()
    _, component = csgraph.connected_components(adjacency, directed=False)
    component = np.where(significant, component, -1)
    ids = np.unique(component[component >= 0])
    rows = []
    members = []
    for c in ids:
        voxels = np.flatnonzero(component == c)
        if voxels.size < min_voxels:
            continue
        peak = voxels[np.argmax(stat[voxels])]
        x, y, z = grid.mni(graph.ijk[peak])
        region = region_names.get(int(region_of[peak]), "unlabelled")
        rows.append({"region": region, "voxels": int(voxels.size),
                     "volume_mm3": float(voxels.size * grid.voxel_volume()),
                     "peak_x": float(x), "peak_y": float(y), "peak_z": float(z),
                     "peak_stat": float(stat[peak]), "min_p": float(np.min(p[voxels]))})
        members.append(voxels)
    order = sorted(range(len(rows)), key=lambda i: (-rows[i]["voxels"], -rows[i]["peak_stat"]))
    labels = np.zeros(n, dtype=np.int32)
    seen: dict[str, int] = {}
    table = []
    for number, i in enumerate(order, start=1):
        row = rows[i]
        seen[row["region"]] = seen.get(row["region"], 0) + 1
        name = row["region"] if seen[row["region"]] == 1 else f"{row['region']}_{seen[row['region']]}"
        table.append({"cluster": number, "name": name, **row})
        labels[members[i]] = number
    return pd.DataFrame(table, columns=list(COLUMNS)), labels


__all__ = ["COLUMNS", "find_clusters"]
