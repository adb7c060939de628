"""The questionnaires' JSON API (a django-ninja router mounted on prt.web.api at /api/).

- ``GET /api/questionnaires``: the signed-in participant's due and overdue questionnaires.
- ``GET /api/instruments/{instrument_id}/questionnaire``: a definition as a FHIR R4 Questionnaire
  (``prt.instruments.fhir.questionnaire``; any signed-in user: definitions hold no patient data).
- ``POST /api/questionnaire-responses``: submit plain ``answers`` ({item number: code}) or a FHIR
  R4 ``questionnaire_response`` (status completed or amended); idempotent by ``client_uuid``.
- ``GET /api/questionnaire-responses``: the participant's own submissions with their scores.

The POST body is read by ``prt.files.loads_json`` and checked here (not by ninja's generic
validation) so every refusal names this body's own fields; answers are checked by prt.instruments.
Refusals are ``{"detail": "FIELD: what it expects", "errors": [...]}`` (prt.web.api's handler) and
never repeat a submitted value.
"""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime
from typing import Any

from ninja import Field, Router, Schema, Status
from ninja.errors import HttpError
from pydantic import BaseModel, ConfigDict, ValidationError

from prt import instruments
from prt.errors import InputError
from prt.web.errors import Refused, json_body
from prt.web.participants.access import own_participant
from prt.web.questionnaires import battery, services
from prt.web.questionnaires.models import Submission

router = Router(tags=["questionnaires"])


class QuestionnaireTask(Schema):
    instrument: str
    title: str
    event: str = Field(description="The schedule event (prt.trial.schedule), e.g. pre, post, 1mo")
    event_label: str
    state: str = Field(description="due (window open, target not passed) or overdue (target passed, window open)")
    target: date
    window_open: date
    window_close: date
    items: int
    answered: int = Field(description="Answers saved in the participant's draft")


class ResponseIn(BaseModel):
    """A submission: exactly one of ``answers`` and ``questionnaire_response``."""

    model_config = ConfigDict(extra="forbid")
    client_uuid: str = Field(description="Made by the client once per submission (canonical UUID); a retry "
                                         "with the same UUID returns the stored submission.")
    event: str = Field(description="The schedule event the questionnaire belongs to (from GET /questionnaires)")
    instrument: str = Field(description="The instrument id, e.g. odi")
    answers: dict[str, Any] | None = Field(None, description="{item number: code}; absent items are missing")
    questionnaire_response: dict[str, Any] | None = Field(
        None, description="A FHIR R4 QuestionnaireResponse (status completed or amended)")


FIELDS = tuple(ResponseIn.model_fields)


class SubmissionOut(Schema):
    client_uuid: uuid.UUID
    instrument: str
    event: str
    date: date
    score: float | None = Field(description="The headline score (total, or the interpreted subscale)")
    scores: dict[str, Any] = Field(description="prt.instruments.score: total, subscales, answered, prorated, "
                                               "t_score, band")
    instrument_form: str
    definition_sha256: str
    prt_version: str
    submitted_at: datetime


class SubmittedOut(SubmissionOut):
    outcome: str = Field(description="created, or replayed (a retry with the same client_uuid)")


class QuestionnaireMessage(Schema):
    detail: str


class QuestionnaireFieldError(Schema):
    field: str
    message: str


class QuestionnaireRefusal(Schema):
    detail: str
    errors: list[QuestionnaireFieldError] = []


def _own(request):
    participant = own_participant(request.user)
    if participant is None:
        raise HttpError(403, "only a participant answers questionnaires")
    return participant


def _out(s: Submission) -> dict:
    return {"client_uuid": s.client_uuid, "instrument": s.instrument, "event": s.event, "date": s.day,
            "score": s.score, "scores": s.scores, "instrument_form": s.instrument_form,
            "definition_sha256": s.definition_sha256, "prt_version": s.prt_version, "submitted_at": s.submitted_at}


@router.get("/questionnaires", response={200: list[QuestionnaireTask], 401: QuestionnaireMessage,
                                         403: QuestionnaireMessage},
            summary="The signed-in participant's questionnaires due today (visit schedule, within windows)")
def list_due(request):
    participant = _own(request)
    out = []
    for task in battery.tasks(participant):
        answered = len(services.draft_answers(participant, task.instrument, task.event))
        out.append({**task.__dict__, "answered": answered})
    return out


@router.get("/instruments/{instrument_id}/questionnaire",
            response={200: dict[str, Any], 401: QuestionnaireMessage, 404: QuestionnaireMessage},
            summary="An instrument's definition as a FHIR R4 Questionnaire")
def get_questionnaire(request, instrument_id: str):
    if instrument_id not in instruments.ids():
        return Status(404, {"detail": "instrument: unknown instrument id"})
    return instruments.questionnaire(instrument_id)


def _body(request) -> ResponseIn:
    data = json_body(request)
    if not isinstance(data, dict):
        raise Refused("body", f"expected a JSON object with {', '.join(FIELDS)}")
    unknown = sorted(k for k in data if k not in FIELDS)
    if unknown:
        name = unknown[0] if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,39}", unknown[0]) else "body"
        raise Refused(name,
                      f"unknown field (the fields are {', '.join(FIELDS)})")
    try:
        body = ResponseIn.model_validate(data, strict=True)
    except ValidationError as exc:
        error = exc.errors()[0]
        field = str(error["loc"][0]) if error.get("loc") else "body"
        expected = {"client_uuid": "a UUID like 0f8fad5b-d9cb-469f-a165-70867728950e",
                    "event": "an event name as text", "instrument": "an instrument id as text",
                    "answers": "an object mapping item numbers to codes",
                    "questionnaire_response": "a FHIR QuestionnaireResponse object"}.get(field, "a valid value")
        raise Refused(field, "required" if error.get("type") == "missing" else f"expected {expected}") from None
    try:
        if len(body.client_uuid) != 36:
            raise ValueError
        uuid.UUID(body.client_uuid)
    except ValueError:
        raise Refused("client_uuid", "expected a UUID like 0f8fad5b-d9cb-469f-a165-70867728950e") from None
    if (body.answers is None) == (body.questionnaire_response is None):
        raise Refused("answers", "send exactly one of answers and questionnaire_response")
    return body


@router.post("/questionnaire-responses",
             response={200: SubmittedOut, 201: SubmittedOut, 400: QuestionnaireRefusal, 401: QuestionnaireMessage,
                       403: QuestionnaireRefusal, 404: QuestionnaireRefusal, 409: QuestionnaireRefusal,
                       422: QuestionnaireRefusal},
             summary="Submit a questionnaire (plain answers or a FHIR QuestionnaireResponse); idempotent by client_uuid",
             openapi_extra={"requestBody": {"required": True, "content": {
                 "application/json": {"schema": ResponseIn.model_json_schema()}}}})
def post_response(request):
    participant = _own(request)
    body = _body(request)
    if body.questionnaire_response is not None:
        if body.instrument not in instruments.ids():
            raise Refused("instrument", "unknown instrument id", status=404)
        try:
            _, answers = instruments.responses_from_fhir(body.questionnaire_response, body.instrument,
                                                         source="questionnaire_response")
        except InputError as exc:
            raise Refused("questionnaire_response", str(exc).removeprefix("questionnaire_response: ")) from None
        channel = "fhir"
    else:
        answers, channel = body.answers, "api"
    submitted = services.submit(participant, instrument_id=body.instrument, event=body.event,
                                client_uuid=uuid.UUID(body.client_uuid), answers=answers, channel=channel,
                                actor=request.user)
    return Status(201 if submitted.outcome == "created" else 200,
                  {**_out(submitted.submission), "outcome": submitted.outcome})


@router.get("/questionnaire-responses", response={200: list[SubmissionOut], 401: QuestionnaireMessage,
                                                  403: QuestionnaireMessage},
            summary="The signed-in participant's submitted questionnaires with their scores, oldest first")
def list_submissions(request):
    return [_out(s) for s in services.history(_own(request))]
