"""Second-level brain imaging of a PRT trial (docs/imaging.md): pure functions, no web, no CLI state.

>>> import prt.imaging
>>> prt.imaging.permutation_test.__module__
'prt.imaging.permutation'

Entry points: :func:`open_dataset` (a BIDS-derivatives folder, checked), :func:`behaviour`,
:func:`localizer`, :func:`roi_effects`, :func:`connectivity` (the trial's four analyses),
:func:`permutation_test` (mass-univariate OLS with max-t and TFCE family-wise correction, the
statistics of nilearn's ``permuted_ols``, faster), :func:`tfce` and :class:`VoxelGraph`,
:func:`generate_demo` (synthetic data with planted effects). Names are imported on first use, so
``prt --help`` does not load numpy or nibabel.
"""

from prt._lazy import lazy_exports

_ENTRY_POINTS = {
    "open_dataset": "prt.imaging.dataset",
    "Dataset": "prt.imaging.dataset",
    "behaviour": "prt.imaging.analyses",
    "localizer": "prt.imaging.analyses",
    "roi_effects": "prt.imaging.analyses",
    "connectivity": "prt.imaging.analyses",
    "ClusterSet": "prt.imaging.analyses",
    "Mask": "prt.imaging.analyses",
    "permutation_test": "prt.imaging.permutation",
    "PermutationResult": "prt.imaging.permutation",
    "tfce": "prt.imaging.tfce",
    "VoxelGraph": "prt.imaging.tfce",
    "DemoSettings": "prt.imaging.demo",
}
_ENTRY_POINTS_RENAMED = {"generate_demo": ("prt.imaging.demo", "generate")}
__all__ = sorted([*_ENTRY_POINTS, *_ENTRY_POINTS_RENAMED])
_lazy_getattr, __dir__ = lazy_exports(__name__, _ENTRY_POINTS, globals())


def __getattr__(name: str):
    if name in _ENTRY_POINTS_RENAMED:
        import importlib

        module, attribute = _ENTRY_POINTS_RENAMED[name]
        value = getattr(importlib.import_module(module), attribute)
        globals()[name] = value
        return value
    return _lazy_getattr(name)
