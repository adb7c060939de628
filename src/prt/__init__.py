"""prt: run, deliver and analyse Pain Reprocessing Therapy (PRT) trials.

Domain packages are pure Python over plain data; the ``prt`` command line is the edge that does
I/O. The entry points most people need are importable from here::

    import prt
    trial = prt.read_trial("export.csv")          # REDCap flat/long export or tidy CSV
    results = prt.run_analysis(trial)             # AnalysisResults: DataFrames, summary(), to_json()
    print(results.summary())

Packages: :mod:`prt.data` (the one reader), :mod:`prt.instruments` (questionnaires and scoring),
:mod:`prt.trial` (eligibility, minimization, schedule, CONSORT, simulation), :mod:`prt.analysis`
(the paper's statistics and report), :mod:`prt.program` (the PRT curriculum, practice records,
fidelity), :mod:`prt.attribution` (coding what patients believe causes their pain),
:mod:`prt.imaging` (the fMRI second-level analyses), :mod:`prt.vocabulary` (arms, timepoints, comparisons,
outcomes: defined once), :mod:`prt.errors` (the error and warning hierarchy).
"""

__version__ = "0.1.0"

from prt._lazy import lazy_exports  # noqa: E402

#: Public names -> the module that defines them; imported on first use (PEP 562), so that
#: ``prt --help`` and ``import prt.errors`` stay fast.
_ENTRY_POINTS = {
    **{name: f"prt.{name}" for name in ("analysis", "attribution", "data", "errors", "imaging", "instruments",
                                        "program", "trial", "vocabulary")},
    "AnalysisResults": "prt.analysis.results",
    "run_analysis": "prt.analysis.engine",
    "TrialData": "prt.data.model",
    "read_trial": "prt.data.reader",
    "InputError": "prt.errors",
    "LogIntegrityError": "prt.errors",
    "PrtError": "prt.errors",
    "score": "prt.instruments",
    "simulate_trial": "prt.trial.simulation",
}
__all__ = ["__version__", *_ENTRY_POINTS]
__getattr__, __dir__ = lazy_exports(__name__, _ENTRY_POINTS, globals())
