"""Pain attributions: code what patients believe causes their back pain, and analyse the shift.

The IPQ-R causal item asks for the three most important causes of one's pain, in free text, before
and after treatment. The trial's secondary analysis (Ashar et al., JAMA Network Open 2023) coded
every answer by hand into 17 categories; psychological, stress and brain count as mind-brain.
This package holds that scheme as data (``scheme.yaml``), three automatic coders (word lists,
n-gram and sentence-embedding classifiers) with a confidence and a human review queue, their
cross-validated agreement with the hand codes, and the study's analysis on prt's engine.
Details: docs/attribution.md.

>>> from prt.attribution import LemmaCoder
>>> LemmaCoder().code(["Stress at work", "car accident"])[["category", "mind_brain"]]
  category  mind_brain
0   stress        True
1   injury       False

Pure: no Django, no network (the embedding model comes from an installed registry package).
Names are imported on first use, so ``prt --help`` does not load numpy.
"""

from prt._lazy import lazy_exports

_ENTRY_POINTS = {
    "SCHEME": "prt.attribution.scheme",
    "Scheme": "prt.attribution.scheme",
    "load_scheme": "prt.attribution.scheme",
    "clean_answer": "prt.attribution.answers",
    "answers_frame": "prt.attribution.answers",
    "answers_from_trial": "prt.attribution.answers",
    "read_answers": "prt.attribution.answers",
    "LemmaCoder": "prt.attribution.coders",
    "NgramCoder": "prt.attribution.coders",
    "EmbeddingCoder": "prt.attribution.coders",
    "get_coder": "prt.attribution.coders",
    "train": "prt.attribution.coders",
    "save_model": "prt.attribution.coders",
    "load_model": "prt.attribution.coders",
    "evaluate": "prt.attribution.evaluation",
    "cross_validate": "prt.attribution.evaluation",
    "agreement_table": "prt.attribution.evaluation",
    "apply_reviews": "prt.attribution.review",
    "codes_from": "prt.attribution.analysis",
    "scores": "prt.attribution.analysis",
    "shares": "prt.attribution.analysis",
    "category_shares": "prt.attribution.analysis",
    "attribution_results": "prt.attribution.analysis",
    "compare_codings": "prt.attribution.analysis",
    "fig_categories": "prt.attribution.figures",
    "fig_scores": "prt.attribution.figures",
}
__all__ = sorted(_ENTRY_POINTS)
__getattr__, __dir__ = lazy_exports(__name__, _ENTRY_POINTS, globals())
