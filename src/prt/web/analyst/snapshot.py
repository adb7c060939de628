"""The trial's data held in the database as a de-identified :class:`prt.data.TrialData`.

Participants are the randomized ones (an arm is what the analysis compares; withdrawn people keep
their arm: intention to treat, CONSORT 2010 item 16) under their study id only; age and sex come
from their latest eligible screening where it holds them. Measures are the questionnaire scores of
the submissions at the trial's timepoints, each outcome's score as ``prt.vocabulary.OUTCOME_SCORES``
names it (e.g. pain intensity = BPI average pain). Files are written by prt.data's writers only.
"""

from __future__ import annotations

import io

import pandas as pd

from prt.data import TrialData, write_redcap, write_tidy
from prt.errors import InputError
from prt.files import csv_safe_frame
from prt.trial.redcap_dictionary import project_tables
from prt.vocabulary import OUTCOME_SCORES, OUTCOMES, TIMEPOINTS
from prt.web.diary.models import PainRating
from prt.web.enrolment.models import Screening
from prt.web.participants.models import Participant
from prt.web.questionnaires.models import Submission

#: Sexes as the screening form records them -> prt.data's recorded sexes.
SCREENING_SEXES = {"male": "male", "female": "female", "other": "other", "m": "male", "f": "female"}


def _age_sex(answers: dict) -> tuple[float | None, str | None]:
    try:
        age = float(answers.get("age")) if answers.get("age") not in (None, "") else None
    except (TypeError, ValueError):
        age = None
    sex = SCREENING_SEXES.get(str(answers.get("sex", "")).strip().lower())
    return age, sex


def _score(scores: dict, subscale: str):
    return scores.get("total") if subscale == "total" else (scores.get("subscales") or {}).get(subscale)


def trial_frames(site_ids) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(participants, measures) frames of the randomized participants of ``site_ids``."""
    people = list(Participant.objects.filter(site_id__in=site_ids, arm__isnull=False).exclude(arm="")
                  .order_by("study_id").values_list("pk", "study_id", "arm"))
    by_pk = {pk: study_id for pk, study_id, _ in people}
    demographics = {}
    for participant_id, answers in (Screening.objects.filter(participant_id__in=by_pk, status="eligible")
                                    .order_by("screened_at").values_list("participant_id", "answers")):
        demographics[participant_id] = _age_sex(answers or {})  # the latest eligible screening wins
    rows = [{"participant": study_id, "arm": arm, "age": demographics.get(pk, (None, None))[0],
             "sex": demographics.get(pk, (None, None))[1]} for pk, study_id, arm in people]
    participants = pd.DataFrame(rows, columns=["participant", "arm", "age", "sex"])
    wanted = {instrument for outcome in OUTCOMES for instrument, _ in [OUTCOME_SCORES[outcome]]}
    measures = []
    for participant_id, instrument, event, scores in (
            Submission.objects.filter(participant_id__in=by_pk, instrument__in=wanted, event__in=TIMEPOINTS)
            .values_list("participant_id", "instrument", "event", "scores")):
        for outcome in OUTCOMES:
            source, subscale = OUTCOME_SCORES[outcome]
            value = _score(scores or {}, subscale) if source == instrument else None
            if value is not None:
                measures.append({"participant": by_pk[participant_id], "timepoint": event,
                                 "outcome": outcome, "value": float(value)})
    return participants, pd.DataFrame(measures, columns=["participant", "timepoint", "outcome", "value"])


def trial_data(site_ids) -> TrialData:
    """The sites' trial data; InputError when no participant has been randomized yet."""
    participants, measures = trial_frames(site_ids)
    if participants.empty:
        raise InputError("export: no randomized participant at your sites yet, so there is no trial data")
    return TrialData.from_frames(participants, measures)


def diary_frame(site_ids) -> pd.DataFrame:
    """The daily pain diary of the sites' participants: study id, day, rating (no arm before
    randomization is disclosed: the arm column is empty until then)."""
    rows = (PainRating.objects.filter(participant__site_id__in=site_ids)
            .order_by("participant__study_id", "day")
            .values_list("participant__study_id", "participant__arm", "day", "rating"))
    frame = pd.DataFrame(list(rows), columns=["participant", "arm", "day", "rating"])
    frame["day"] = frame["day"].map(lambda d: d.isoformat())
    frame["arm"] = frame["arm"].fillna("")
    return frame


def _csv(frame: pd.DataFrame) -> bytes:
    """A frame as CSV the way prt.files.write_csv writes it (formula-like cells neutralised)."""
    return csv_safe_frame(frame).to_csv(index=False, lineterminator="\n").encode("utf-8")


def export_bytes(export_format: str, site_ids) -> tuple[bytes, str, int]:
    """(file bytes, file name, participants) of one export, written by prt's own writers."""
    buffer = io.StringIO()
    if export_format == "dictionary":
        table = project_tables()["data_dictionary"]  # as prt.trial.redcap_dictionary.write_project writes it
        return _csv(table), "prt_data_dictionary.csv", 0
    if export_format == "diary":
        frame = diary_frame(site_ids)
        return _csv(frame), "prt_diary.csv", int(frame["participant"].nunique())
    trial = trial_data(site_ids)
    if export_format in ("redcap-flat", "redcap-long"):
        layout = export_format.split("-")[1]
        write_redcap(trial, buffer, layout=layout)
        name = f"prt_redcap_{layout}.csv"
    elif export_format == "tidy":
        write_tidy(trial, buffer)
        name = "prt_tidy.csv"
    else:
        raise InputError("format: expected one of redcap-flat, redcap-long, tidy, dictionary, diary")
    return buffer.getvalue().encode("utf-8"), name, len(trial.participants)
