"""The trial's statistics and report (Ashar et al., JAMA Psychiatry 2022), as a library.

>>> import prt
>>> r = prt.analysis.run_analysis(prt.simulate_trial(n=45, seed=3), bootstrap=100, mediation_bootstrap=50)
>>> list(r.primary.columns) == list(prt.analysis.COLUMNS["primary"])
True

Entry points: :func:`run_analysis` (returns :class:`AnalysisResults`: documented DataFrames,
``summary()``, ``to_json()``), :func:`write_analysis` (results.json, tables, figures, report.html,
all or nothing), :func:`fit_random_intercept` (REML mixed model, Satterthwaite df),
:func:`hedges_g`, :func:`with_baseline`, :func:`load_results`. Details: docs/analysis.md.
Names are imported on first use, so ``prt --help`` does not load numpy.
"""

from prt._lazy import lazy_exports

_ENTRY_POINTS = {
    "AnalysisResults": "prt.analysis.results",
    "COLUMNS": "prt.analysis.results",
    "load_results": "prt.analysis.results",
    "run_analysis": "prt.analysis.engine",
    "primary_analysis": "prt.analysis.engine",
    "write_analysis": "prt.analysis.report",
    "fit_random_intercept": "prt.analysis.mixed",
    "design_primary": "prt.analysis.mixed",
    "MixedModelResult": "prt.analysis.mixed",
    "hedges_g": "prt.analysis.effects",
    "with_baseline": "prt.analysis.baseline",
    "change_from_baseline": "prt.analysis.baseline",
}
__all__ = sorted(_ENTRY_POINTS)
__getattr__, __dir__ = lazy_exports(__name__, _ENTRY_POINTS, globals())
