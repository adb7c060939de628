"""The PRT intervention as data and plain functions: curriculum, practice records, fidelity.

Pure Python over plain data, no Django (the web app for issue 14 calls these and stores the
records). Sources: the trial's protocol as summarised in shared/docs/trial-protocol-notes.md;
every rule prt adds where the trial published none is declared in the curriculum with its source.

- Curriculum (:mod:`prt.program.curriculum`): :func:`default_curriculum`, :func:`load_curriculum`
  (a site's file changes it), :class:`Curriculum` with ``from_dict`` / ``with_site`` / ``to_dict``.
- Evidence sheet (:mod:`prt.program.evidence`): :class:`EvidenceSheet`, :func:`summarize_evidence`.
- Somatic tracking and home practice (:mod:`prt.program.tracking`): :func:`tracking_cues`,
  :func:`phase_at`, :func:`tool_for_pain`, :class:`Practice`, :func:`summarize_practice`.
- Graded exposure (:mod:`prt.program.exposure`): :class:`Hierarchy`, :class:`ExposureAttempt`,
  :func:`exposure_progress`.
- Fidelity (:mod:`prt.program.fidelity`): :class:`SessionRating`, :func:`read_ratings`,
  :func:`fidelity_summary`, :func:`fidelity_sample`, :func:`verify_sample`.
- Physician evaluation (:mod:`prt.program.evaluation`): :class:`PhysicianEvaluation`,
  :func:`evaluate`.
- REDCap export (:mod:`prt.program.export`): :class:`ParticipantProgram`, :func:`export_tables`,
  :func:`write_export`.

>>> import prt.program
>>> prt.program.tool_for_pain(8).tool
'calm_first'

Details: docs/program.md.
"""

from prt._lazy import lazy_exports

_ENTRY_POINTS = {
    **{name: "prt.program.curriculum" for name in (
        "Curriculum", "default_curriculum", "load_curriculum", "is_site_file", "ASSIGNMENT_KINDS", "PHASES")},
    **{name: "prt.program.evidence" for name in ("EvidenceSheet", "EvidenceSummary", "summarize_evidence")},
    **{name: "prt.program.tracking" for name in (
        "Practice", "PracticeSummary", "summarize_practice", "tracking_cues", "phase_at", "tool_for_pain")},
    **{name: "prt.program.exposure" for name in (
        "Hierarchy", "ExposureAttempt", "ExposureProgress", "exposure_progress", "SUGGESTIONS")},
    **{name: "prt.program.fidelity" for name in (
        "SessionRating", "FidelitySummary", "FidelitySample", "fidelity_summary", "fidelity_sample",
        "verify_sample", "read_ratings", "ratings_from_rows")},
    **{name: "prt.program.evaluation" for name in (
        "PhysicianEvaluation", "EvaluationResult", "evaluate", "FORMULATIONS", "REFERRALS")},
    **{name: "prt.program.export" for name in (
        "ParticipantProgram", "export_tables", "program_dictionary", "program_records", "write_export")},
}
__all__ = sorted(_ENTRY_POINTS)
__getattr__, __dir__ = lazy_exports(__name__, _ENTRY_POINTS, globals())
