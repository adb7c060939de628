"""Reading and writing NIfTI images with checks that name the file (nibabel underneath).

Every image an analysis combines must share one grid: the same shape and the same voxel-to-MNI
affine (to 1e-3 mm); nothing is resampled silently. A NaN inside the analysed voxels, an image that
is not NIfTI, a 4-D image where a 3-D one belongs and a mask that misses the data are refused with
an :class:`~prt.errors.InputError` naming the file. Images are written as gzipped NIfTI-1 through
:func:`prt.files.atomic_write` (whole or not at all).
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from prt.errors import InputError
from prt.files import atomic_write

#: Largest difference (mm) between two affines that still counts as the same grid.
AFFINE_TOLERANCE = 1e-3


@dataclass(frozen=True)
class Grid:
    """A voxel grid: shape (3-D) and the affine from voxel indices to MNI millimetres."""

    shape: tuple[int, int, int]
    affine: np.ndarray

    def mni(self, ijk: np.ndarray) -> np.ndarray:
        """MNI coordinates (mm) of voxel indices (..., 3)."""
        ijk = np.asarray(ijk, dtype=float)
        return ijk @ self.affine[:3, :3].T + self.affine[:3, 3]

    def voxel_volume(self) -> float:
        """Cubic millimetres of one voxel."""
        return float(abs(np.linalg.det(self.affine[:3, :3])))

    def same_as(self, other: "Grid") -> bool:
        return self.shape == other.shape and bool(np.allclose(self.affine, other.affine, atol=AFFINE_TOLERANCE))


def load(path: str | Path, what: str = "image", ndim: int | None = 3):
    """A NIfTI image (nibabel), checked to be ``ndim``-dimensional; InputError naming the file."""
    import nibabel as nib

    path = Path(path)
    if not path.is_file():
        raise InputError(f"{what} {path}: not found")
    try:
        img = nib.load(str(path))
    except Exception as exc:  # nibabel raises ImageFileError, EOFError, zlib errors, ValueError...
        raise InputError(f"{what} {path}: not a readable NIfTI image ({exc.__class__.__name__})") from None
    shape = img.shape
    if ndim == 3 and len(shape) == 4 and shape[3] == 1:
        shape = shape[:3]
    if ndim is not None and len(shape) != ndim:
        raise InputError(f"{what} {path}: expected a {ndim}-D image, got {len(img.shape)}-D {tuple(img.shape)}")
    return img


def grid_of(img) -> Grid:
    return Grid(shape=tuple(int(s) for s in img.shape[:3]), affine=np.asarray(img.affine, dtype=float))


def check_grid(img, path, reference: Grid, reference_path, what: str = "image") -> None:
    """InputError unless ``img`` lies on ``reference``'s grid (shape and affine)."""
    grid = grid_of(img)
    if grid.shape != reference.shape:
        raise InputError(f"{what} {path}: shape {grid.shape} differs from {reference.shape} of {reference_path}; "
                         "resample every image to one grid")
    if not np.allclose(grid.affine, reference.affine, atol=AFFINE_TOLERANCE):
        worst = float(np.max(np.abs(grid.affine - reference.affine)))
        raise InputError(f"{what} {path}: its affine (voxel-to-MNI mapping) differs from that of {reference_path} "
                         f"by up to {worst:.3g} mm; resample every image to one grid")


def read_3d(path, voxels: np.ndarray, reference: Grid, reference_path, what: str = "image") -> np.ndarray:
    """Values of a 3-D image at mask voxels (V, 3 indices), float64; errors name the file."""
    img = load(path, what, ndim=3)
    check_grid(img, path, reference, reference_path, what)
    data = np.asarray(img.dataobj, dtype=np.float64).reshape(reference.shape)
    values = data[tuple(voxels.T)]
    bad = ~np.isfinite(values)
    if bad.any():
        raise InputError(f"{what} {path}: {int(bad.sum())} voxel(s) in the analysis mask are NaN or infinite")
    return values


def read_4d(path, voxels: np.ndarray, reference: Grid, reference_path, what: str = "image") -> np.ndarray:
    """Time series (T, V) of a 4-D image at mask voxels, float64; errors name the file."""
    img = load(path, what, ndim=4)
    check_grid(img, path, reference, reference_path, what)
    data = np.asarray(img.dataobj, dtype=np.float32)
    series = data[tuple(voxels.T)].T.astype(np.float64)
    bad = ~np.isfinite(series)
    if bad.any():
        raise InputError(f"{what} {path}: NaN or infinite values in {int(bad.any(axis=0).sum())} voxel(s) of the "
                         "analysis mask")
    return series


def read_labels(path, what: str = "mask"):
    """A 3-D label image (0 = outside) as integers, with its grid; InputError for non-integer labels."""
    img = load(path, what, ndim=3)
    data = np.asarray(img.dataobj, dtype=np.float64).reshape(img.shape[:3])
    if not np.all(np.isfinite(data)) or np.any(data < 0) or np.any(data != np.round(data)):
        raise InputError(f"{what} {path}: expected whole non-negative labels (0 outside)")
    labels = data.astype(np.int32)
    if not labels.any():
        raise InputError(f"{what} {path}: no voxel is labelled (the mask is empty)")
    return labels, grid_of(img)


def nifti_bytes(data: np.ndarray, grid: Grid, dtype=None, tr: float | None = None) -> bytes:
    """A gzipped single-file NIfTI-1 of ``data`` on ``grid`` (fast gzip level: prt's outputs are big)."""
    import nibabel as nib

    array = np.asarray(data)
    if array.dtype == np.bool_:
        array = array.astype(np.uint8)
    img = nib.Nifti1Image(array, grid.affine)
    img.header.set_xyzt_units("mm", "sec")
    img.header.set_qform(grid.affine, code=4)  # 4: MNI152
    img.header.set_sform(grid.affine, code=4)
    if dtype is not None:
        img.set_data_dtype(dtype)
    if tr is not None and array.ndim == 4:
        zooms = list(img.header.get_zooms()[:3]) + [float(tr)]
        img.header.set_zooms(zooms)
    return gzip.compress(img.to_bytes(), compresslevel=1, mtime=0)


def write(path: str | Path, data: np.ndarray, grid: Grid, dtype=None, tr: float | None = None) -> Path:
    """Write ``data`` on ``grid`` as ``path`` (.nii.gz), atomically."""
    return atomic_write(path, nifti_bytes(data, grid, dtype, tr))


__all__ = ["AFFINE_TOLERANCE", "Grid", "check_grid", "grid_of", "load", "nifti_bytes", "read_3d", "read_4d",
           "read_labels", "write"]
