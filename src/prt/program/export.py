"""Program data in REDCap's layouts: a data dictionary and a records file to import.

Two forms, built from the curriculum so a site's changes (more sessions, another fidelity element)
carry through:

- ``prt_program`` (one per participant): the physician evaluation's outcome, sessions attended
  (a checkbox, exported as ``prt_sessions___1`` ... ``___8``), home-practice totals, graded
  exposure progress, and the patient's fidelity mean;
- ``prt_fidelity`` (a repeating instrument, one instance per rated session): therapist, session,
  rater, each element yes/no, and the score.

Names start with ``prt_`` so they sit beside the trial project's fields
(:mod:`prt.trial.redcap_dictionary`, whose dictionary format, field-name check and event names
are reused here). The records file is REDCap's import layout: ``record_id``, then
``redcap_event_name`` in a longitudinal project, ``redcap_repeat_instrument`` and
``redcap_repeat_instance`` (blank on the participant's own row), then the fields. Nothing here is
free text from a patient: counts, codes, means and dates only.

Column names (all ``prt_``): ``eval_done``, ``eval_red_flag``, ``eval_factors``,
``eval_formulation`` (1 centralized, 2 mixed, 3 structural), ``eval_referral`` (1 refer,
2 blocked, 3 not indicated, 4 incomplete); ``sessions___N``, ``sessions_n``; ``practice_n``,
``practice_min``, ``practice_days``, ``track_rated``, ``track_pain_chg``, ``track_fear_chg``
(after minus before); ``exp_steps``, ``exp_attempts``, ``exp_mastered``, ``exp_suggest`` (1 start,
2 repeat, 3 advance, 4 hold off, 5 complete), ``exp_pain_surp`` (expected minus actual pain);
``fid_n``, ``fid_mean``; per rated session ``fid_therapist``, ``fid_session``, ``fid_rater``,
``fe_<element>`` (fidelity element), ``fid_score``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

from prt.errors import InputError
from prt.program.curriculum import Curriculum, default_curriculum
from prt.program.evaluation import FORMULATIONS, REFERRALS, PhysicianEvaluation, evaluate
from prt.program.exposure import SUGGESTIONS, ExposureAttempt, Hierarchy, exposure_progress
from prt.program.fidelity import SessionRating
from prt.program.tracking import Practice, summarize_practice

PROGRAM_FORM = "prt_program"
FIDELITY_FORM = "prt_fidelity"
REPEAT_COLUMNS = ("redcap_repeat_instrument", "redcap_repeat_instance")
REPEATING_COLUMNS = ("form_name", "custom_form_label")
FORMULATION_CODES = {f: i for i, f in enumerate(FORMULATIONS, start=1)}
REFERRAL_LABELS = {"refer": "Referred to PRT", "blocked": "Blocked by a red flag",
                   "not_indicated": "Not indicated (structural)", "incomplete": "Incomplete"}
REFERRAL_CODES = {r: i for i, r in enumerate(REFERRALS, start=1)}
SUGGESTION_LABELS = {"start": "Start", "repeat": "Repeat the step", "advance": "Advance a step",
                     "hold_off": "Hold off", "complete": "Complete"}
SUGGESTION_CODES = {s: i for i, s in enumerate(SUGGESTIONS, start=1)}


@dataclass(frozen=True)
class ParticipantProgram:
    """What one PRT participant's program holds, as the web app's records give it."""

    participant: str
    sessions_attended: tuple[int, ...] = ()
    practices: tuple[Practice, ...] = ()
    hierarchy: Hierarchy | None = None
    attempts: tuple[ExposureAttempt, ...] = ()
    evaluation: PhysicianEvaluation | None = None


def _redcap():
    from prt.trial import redcap_dictionary

    return redcap_dictionary


def program_dictionary(curriculum: Curriculum | None = None, record_id: str = "record_id"):
    """REDCap data dictionary of the two program forms (record id first; 18 REDCap columns).

    When adding the rows to the trial's own project (:func:`prt.trial.project_tables`), drop the
    first row: the project already has its record id.
    """
    import pandas as pd

    rc = _redcap()
    row, choices, number = rc.dictionary_row, rc.redcap_choices, rc.redcap_number
    curriculum = curriculum or default_curriculum()
    n_sessions, n_factors = len(curriculum.sessions), len(curriculum.evaluation.factors)
    elements = curriculum.fidelity.elements
    P, F = PROGRAM_FORM, FIDELITY_FORM

    def integer(field, form, label, lo, hi=None, **cells):
        extra = {"maximum": number(hi)} if hi is not None else {}
        return row(name=field, form=form, type="text", label=label, validation="integer", minimum=number(lo),
                   **extra, **cells)

    def decimal(field, form, label, lo, hi, **cells):
        return row(name=field, form=form, type="text", label=label, validation="number", minimum=number(lo),
                   maximum=number(hi), **cells)

    rows = [
        row(name=record_id, form=P, type="text", label="Record ID", section="PRT program"),
        row(name="prt_eval_done", form=P, type="yesno", label="Physician evaluation recorded",
            section="Physician evaluation"),
        row(name="prt_eval_red_flag", form=P, type="yesno", label="A red flag was found"),
        integer("prt_eval_factors", P, "Centralization factors present", 0, n_factors),
        row(name="prt_eval_formulation", form=P, type="radio", label="Formulation",
            choices=choices({FORMULATION_CODES[f]: f.capitalize() for f in FORMULATIONS})),
        row(name="prt_eval_referral", form=P, type="radio", label="Referral to PRT",
            choices=choices({REFERRAL_CODES[r]: REFERRAL_LABELS[r] for r in REFERRALS}),
            note="a red flag blocks referral (prt.program.evaluation)"),
        row(name="prt_sessions", form=P, type="checkbox", label="PRT sessions attended", section="Sessions",
            choices=choices({n: f"Session {n}" for n in range(1, n_sessions + 1)})),
        integer("prt_sessions_n", P, "PRT sessions attended (number)", 0, n_sessions),
        integer("prt_practice_n", P, "Home practices logged", 0, section="Home practice"),
        integer("prt_practice_min", P, "Home practice (minutes)", 0, note="minutes"),
        integer("prt_practice_days", P, "Days with home practice", 0),
        integer("prt_track_rated", P, "Somatic tracking practices with before/after ratings", 0),
        decimal("prt_track_pain_chg", P, "Mean pain change over a tracking practice (after minus before)", -10, 10),
        decimal("prt_track_fear_chg", P, "Mean fear change over a tracking practice (after minus before)", -10, 10),
        integer("prt_exp_steps", P, "Exposure hierarchy steps", 0, 30, section="Graded exposure"),
        integer("prt_exp_attempts", P, "Exposure attempts logged", 0),
        integer("prt_exp_mastered", P, "Exposure steps mastered", 0, 30),
        row(name="prt_exp_suggest", form=P, type="radio", label="Suggested next in the hierarchy",
            choices=choices({SUGGESTION_CODES[s]: SUGGESTION_LABELS[s] for s in SUGGESTIONS})),
        decimal("prt_exp_pain_surp", P, "Mean expected minus actual pain over exposure attempts", -10, 10),
        integer("prt_fid_n", P, "Rated sessions (fidelity)", 0, section="Fidelity"),
        decimal("prt_fid_mean", P, f"Mean fidelity score (elements present of {len(elements)})", 0, len(elements)),
        row(name="prt_fid_therapist", form=F, type="text", label="Therapist code", section="Fidelity rating"),
        integer("prt_fid_session", F, "Session rated", 1, n_sessions),
        row(name="prt_fid_rater", form=F, type="text", label="Rater code"),
        *(row(name=f"prt_fe_{e.id}", form=F, type="yesno", label=f"{e.number}. {e.title}") for e in elements),
        integer("prt_fid_score", F, f"Fidelity score (elements present, 0-{len(elements)})", 0, len(elements)),
    ]
    frame = pd.DataFrame(rows, columns=list(rc.DICTIONARY_COLUMNS))
    rc.validate_field_names(frame["Variable / Field Name"])
    return frame


def _event(event: str | None) -> str | None:
    """REDCap's unique event name for a prt timepoint (``post`` -> ``t2_arm_1``)."""
    if event is None:
        return None
    rc = _redcap()
    for e in rc.EVENTS:
        if e.timepoint == event:
            return rc.unique_event_name(e.name)
    raise InputError(f"event {event!r}: expected a timepoint of the trial's REDCap project: "
                     f"{', '.join(e.timepoint for e in rc.EVENTS)}")


def _cell(value) -> str:
    from prt.data.writer import redcap_cell

    if isinstance(value, bool):
        return "1" if value else "0"
    return redcap_cell(value)


def _program_row(p: ParticipantProgram, ratings: list[SessionRating], curriculum: Curriculum) -> dict[str, str]:
    n_sessions = len(curriculum.sessions)
    attended = set(p.sessions_attended)
    values: dict[str, object] = {"prt_eval_done": p.evaluation is not None}
    if p.evaluation is not None:
        result = evaluate(p.evaluation, curriculum)
        values.update(prt_eval_red_flag=bool(result.red_flags_found), prt_eval_factors=len(result.factors_present),
                      prt_eval_formulation=FORMULATION_CODES.get(result.formulation),
                      prt_eval_referral=REFERRAL_CODES[result.referral])
    values.update({f"prt_sessions___{n}": n in attended for n in range(1, n_sessions + 1)})
    values["prt_sessions_n"] = len(attended)
    practice = summarize_practice(p.practices)
    values.update(prt_practice_n=practice.practices, prt_practice_min=practice.minutes,
                  prt_practice_days=practice.days, prt_track_rated=practice.rated,
                  prt_track_pain_chg=practice.mean_pain_change, prt_track_fear_chg=practice.mean_fear_change)
    if p.hierarchy is not None:
        progress = exposure_progress(p.hierarchy, p.attempts, curriculum)
        values.update(prt_exp_steps=len(p.hierarchy.steps), prt_exp_attempts=progress.attempts,
                      prt_exp_mastered=progress.mastered, prt_exp_suggest=SUGGESTION_CODES[progress.suggestion],
                      prt_exp_pain_surp=progress.mean_pain_surprise)
    elif p.attempts:
        raise InputError(f"participant {p.participant!r}: exposure attempts without a hierarchy")
    scores = [r.score for r in ratings]
    values["prt_fid_n"] = len(scores)
    values["prt_fid_mean"] = round(sum(scores) / len(scores), 4) if scores else None
    return {k: _cell(v) for k, v in values.items()}


def program_records(participants: Sequence[ParticipantProgram], ratings: Iterable[SessionRating] = (),
                    curriculum: Curriculum | None = None, *, record_id: str = "record_id", event: str | None = None):
    """The records to import (all cells text): per participant one ``prt_program`` row, then one
    ``prt_fidelity`` instance per rating. ``event``: the prt timepoint whose REDCap event holds the
    forms in a longitudinal project (e.g. ``post``); None for a classic project."""
    import pandas as pd

    curriculum = curriculum or default_curriculum()
    n_sessions = len(curriculum.sessions)
    dictionary = program_dictionary(curriculum, record_id)
    fields = []
    for name, kind in zip(dictionary["Variable / Field Name"][1:], dictionary["Field Type"][1:]):
        fields.extend([f"{name}___{n}" for n in range(1, n_sessions + 1)] if kind == "checkbox" else [name])
    unique_event = _event(event)
    columns = [record_id, *(["redcap_event_name"] if unique_event else []), *REPEAT_COLUMNS, *fields]
    by_participant: dict[str, list[SessionRating]] = {}
    for r in ratings:
        if not isinstance(r, SessionRating):
            raise InputError("fidelity ratings: expected SessionRating records")
        by_participant.setdefault(r.participant, []).append(r)
    ids = []
    for p in participants:
        if not isinstance(p, ParticipantProgram):
            raise InputError("participants: expected ParticipantProgram records")
        if p.participant in ids:
            raise InputError(f"participant {p.participant!r} is given twice")
        bad = [n for n in p.sessions_attended if isinstance(n, bool) or not isinstance(n, int)
               or not 1 <= n <= n_sessions]
        if bad or len(set(p.sessions_attended)) != len(p.sessions_attended):
            raise InputError(f"participant {p.participant!r}: sessions attended must be distinct numbers "
                             f"1-{n_sessions}")
        ids.append(p.participant)
    stray = sorted(set(by_participant) - set(ids))
    if stray:
        raise InputError(f"fidelity rating of participant {stray[0]!r}, who is not among the participants exported")
    rows = []
    base = {record_id: "", **({"redcap_event_name": unique_event} if unique_event else {})}
    for p in participants:
        rated = sorted(by_participant.get(p.participant, []), key=lambda r: (r.session, r.rater, r.therapist))
        rows.append({**base, record_id: p.participant, "redcap_repeat_instrument": "",
                     "redcap_repeat_instance": "", **_program_row(p, rated, curriculum)})
        for instance, r in enumerate(rated, start=1):
            rows.append({**base, record_id: p.participant, "redcap_repeat_instrument": FIDELITY_FORM,
                         "redcap_repeat_instance": str(instance), "prt_fid_therapist": r.therapist,
                         "prt_fid_session": str(r.session), "prt_fid_rater": r.rater,
                         **{f"prt_fe_{e.id}": _cell(e.id in r.present) for e in curriculum.fidelity.elements},
                         "prt_fid_score": str(r.score)})
    return pd.DataFrame(rows, columns=columns).astype(object).fillna("")


def repeating_forms(event: str | None = None):
    """REDCap's repeating instruments table (API layout): ``prt_fidelity`` repeats per rated session."""
    import pandas as pd

    unique_event = _event(event)
    row = {"form_name": FIDELITY_FORM, "custom_form_label": "Session [prt_fid_session]"}
    if unique_event:
        return pd.DataFrame([{"event_name": unique_event, **row}], columns=["event_name", *REPEATING_COLUMNS])
    return pd.DataFrame([row], columns=list(REPEATING_COLUMNS))


def export_tables(participants: Sequence[ParticipantProgram], ratings: Iterable[SessionRating] = (),
                  curriculum: Curriculum | None = None, *, record_id: str = "record_id", event: str | None = None):
    """The export's tables by file stem: ``data_dictionary``, ``records``, ``repeating_forms`` and,
    with an ``event``, ``instrument_event_mapping`` (REDCap's upload formats)."""
    import pandas as pd

    curriculum = curriculum or default_curriculum()
    tables = {"data_dictionary": program_dictionary(curriculum, record_id),
              "records": program_records(participants, ratings, curriculum, record_id=record_id, event=event),
              "repeating_forms": repeating_forms(event)}
    if event is not None:
        rc = _redcap()
        tables["instrument_event_mapping"] = pd.DataFrame(
            [{"arm_num": 1, "unique_event_name": _event(event), "form": form}
             for form in (PROGRAM_FORM, FIDELITY_FORM)],
            columns=list(rc.MAPPING_COLUMNS))
    return tables


def write_export(directory: str | os.PathLike, participants: Sequence[ParticipantProgram],
                 ratings: Iterable[SessionRating] = (), curriculum: Curriculum | None = None, *,
                 record_id: str = "record_id", event: str | None = None) -> dict[str, Path]:
    """Write the tables as CSVs into ``directory``, all or nothing (:func:`prt.files.write_output_dir`),
    every cell through the formula-injection guard (:func:`prt.files.write_csv`)."""
    from prt.files import write_csv, write_output_dir

    tables = export_tables(participants, ratings, curriculum, record_id=record_id, event=event)
    directory = Path(directory)

    def fill(work: Path) -> None:
        for stem, table in tables.items():
            write_csv(table, work / f"{stem}.csv")

    write_output_dir(directory, fill, kind="PRT program export")
    return {stem: directory / f"{stem}.csv" for stem in tables}


__all__ = ["FIDELITY_FORM", "PROGRAM_FORM", "ParticipantProgram", "export_tables", "program_dictionary",
           "program_records", "repeating_forms", "write_export"]
