"""Running a PRT trial: eligibility, minimization with a signed allocation log, schedule, CONSORT,
simulation, power, REDCap project files.

>>> import prt
>>> answers = {"age": 45, "back_pain_half_days_6mo": "yes", "pain_avg_week": 6, "back_pain_intensity": 6,
...            "leg_pain_intensity": 2, "mri_safe": "yes", "autoimmune_condition": "no",
...            "metastatic_cancer_history": "no"}
>>> prt.trial.screen("P001", answers).status
'eligible'
>>> result = prt.trial.screen("P002", {**answers, "age": 19, "pain_avg_week": 2})
>>> result.status, result.reasons
('ineligible', ('age_out_of_range', 'pain_intensity_below_4'))

Entry points (names imported on first use, so ``prt --help`` stays fast): :func:`screen`,
:func:`screen_table`, :func:`load_rules`, :func:`allocate`, :func:`create_log`,
:func:`verify_log`, :func:`replay_log`, :func:`create_key`, :func:`load_config`,
:class:`Schedule`, :func:`schedule_report`, :func:`consort_counts`, :func:`write_consort`,
:func:`simulate_trial`, :func:`simulate_power`, :func:`compare_schemes`, :func:`convert_trial`.
Details: docs/trial.md, docs/simulation.md.
"""

from prt._lazy import lazy_exports

_ENTRY_POINTS = {
    **{name: "prt.trial.eligibility" for name in (
        "screen", "screen_table", "load_rules", "default_rules", "RuleSet", "ScreeningResult",
        "ScreeningLog", "read_screening_log", "append_screenings", "record_enrolment")},
    **{name: "prt.trial.minimization" for name in (
        "MinimizationConfig", "Factor", "load_config", "TRIAL_CONFIG", "parse_factor_args")},
    **{name: "prt.trial.allocation_log" for name in (
        "allocate", "create_log", "create_key", "load_key", "verify_log", "replay_log", "Allocation",
        "LogVerification")},
    **{name: "prt.trial.schedule" for name in ("Schedule", "load_schedule", "schedule_report")},
    **{name: "prt.trial.consort" for name in (
        "consort_counts", "write_consort", "read_flows", "ParticipantFlow", "ConsortCounts")},
    "simulate_trial": "prt.trial.simulation",
    "simulate_power": "prt.trial.power",
    "PowerResult": "prt.trial.power",
    "compare_schemes": "prt.trial.randomization_simulation",
    "population_from_trial": "prt.trial.randomization_simulation",
    "convert_trial": "prt.trial.convert",
    "project_tables": "prt.trial.redcap_dictionary",
}
__all__ = sorted(_ENTRY_POINTS)
__getattr__, __dir__ = lazy_exports(__name__, _ENTRY_POINTS, globals())
