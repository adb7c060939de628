"""The program app's API operations (a django-ninja router mounted on ``prt.web.api.api`` at /api/).

- ``GET /api/program``: the signed-in participant's program (PRT: the current session, home
  practice and progress; placebo and usual care: their arm's items available now);
- ``GET`` / ``POST /api/program/practices``: the PRT participant's home-practice log; a practice
  is idempotent by ``client_uuid`` (a retry returns the stored one, ``outcome: replayed``);
- ``GET /api/program/exposure``, ``POST /api/program/exposure/attempts``: the hierarchy, the
  attempts and the next step (prt.program's rule); an attempt is idempotent by ``client_uuid``;
- ``GET /api/program/caseload``: a therapist's own caseload;
- ``GET /api/program/fidelity``: the fidelity summary of a rater's sites beside the trial's.

Bodies are read by :func:`prt.web.errors.json_body`, checked by strict pydantic models (unknown
fields refused), then by the same services (and ``prt.program`` records) as the pages; refusals
name the field and what it expects (``{"detail": "FIELD: ...", "errors": [...]}``), never the value.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from ninja import Router, Schema, Status
from pydantic import BaseModel, ConfigDict, Field, StrictInt

from prt.web.errors import allowed, parse_body
from prt.web.program import access, services
from prt.web.program.content import curriculum
from prt.web.program.models import PracticeLog
from prt.web.schemas import ClientUUID, IsoDate, Message, Refusal

router = Router(tags=["program"])


Day = date  # for a field named ``date`` (the name would shadow the type in its class)
Rating = Annotated[StrictInt, Field(ge=0, le=10)]


class PracticeIn(BaseModel):
    """One home practice (prt.program.Practice); a somatic-tracking practice needs all four ratings."""

    model_config = ConfigDict(extra="forbid")
    client_uuid: ClientUUID = Field(description="Made by the client once per practice; a retry with the same "
                                                "UUID returns the stored practice.")
    day: IsoDate = Field(description="The day practised at the participant's site (today or up to 7 days back)")
    assignment: str = Field(min_length=1, max_length=40, description="A home-practice assignment id of the curriculum")
    minutes: StrictInt = Field(ge=1, le=240)
    pain_before: Rating | None = None
    pain_after: Rating | None = None
    fear_before: Rating | None = None
    fear_after: Rating | None = None
    setting: Literal["seated", "movement"] | None = None


class AttemptIn(BaseModel):
    """One exposure attempt (prt.program.ExposureAttempt) at a step of the participant's hierarchy."""

    model_config = ConfigDict(extra="forbid")
    client_uuid: ClientUUID
    step: str = Field(min_length=1, max_length=40, description="The hierarchy step's code")
    day: IsoDate
    expected_pain: Rating
    actual_pain: Rating
    expected_fear: Rating
    actual_fear: Rating


EXPECTED = {"client_uuid": "a UUID like 0f8fad5b-d9cb-469f-a165-70867728950e", "day": "a date as YYYY-MM-DD",
            "assignment": "an assignment id of the curriculum", "minutes": "a whole number 1-240",
            "setting": "seated or movement", "step": "a step code of the hierarchy"}


def _parse(request, model: type[BaseModel]) -> BaseModel:
    return parse_body(request, model, EXPECTED, "a whole number 0-10")


# ------------------------------------------------------------------------------------ schemas out
class SessionOut(Schema):
    number: int
    title: str
    state: str = Field(description="held, missed, scheduled or planned")
    date: Day | None = Field(description="Held, else the appointment, else the schedule's planned date")


class AssignmentOut(Schema):
    id: str
    title: str
    kind: str
    minutes: int
    per_week: int
    done_since_session: int


class ItemOut(Schema):
    id: str
    title: str
    summary: str


class ProgramOut(Schema):
    study_id: str
    arm: str
    status: str
    curriculum: str
    current_session: int | None = None
    sessions: list[SessionOut] = []
    home_practice: list[AssignmentOut] = []
    practice: dict[str, Any] | None = None
    evidence: dict[str, Any] | None = None
    exposure: dict[str, Any] | None = None
    items: list[ItemOut] = Field([], description="Control arms: the items available now")
    held_back: bool = Field(False, description="Control arms: more items are given at a later timepoint")


class PracticeOut(Schema):
    day: date
    assignment: str
    minutes: int
    pain_before: int | None
    pain_after: int | None
    fear_before: int | None
    fear_after: int | None
    setting: str | None


class LoggedPracticeOut(PracticeOut):
    outcome: str = Field(description="created, or replayed (a retry: nothing written)")


class StepOut(Schema):
    id: str
    movement: str
    fear: int


class AttemptOut(Schema):
    step: str
    day: date
    expected_pain: int
    actual_pain: int
    expected_fear: int
    actual_fear: int


class LoggedAttemptOut(AttemptOut):
    outcome: str = Field(description="created, or replayed (a retry: nothing written)")


class ExposureOut(Schema):
    steps: list[StepOut]
    attempts: list[AttemptOut]
    progress: dict[str, Any] | None = Field(description="prt.program.exposure_progress (ids and numbers)")


class CaseloadOut(Schema):
    study_id: str
    site: str
    status: str
    referral: str | None = Field(description="The completed evaluation's referral; null before one")
    sessions_held: list[int]
    next_session: SessionOut | None


class FidelityOut(Schema):
    sites: list[str]
    summary: dict[str, Any] | None = Field(description="prt.program.fidelity_summary; null before any rating")


def _practice_out(row: PracticeLog) -> dict:
    return {"day": row.day, "assignment": row.assignment, "minutes": row.minutes, "pain_before": row.pain_before,
            "pain_after": row.pain_after, "fear_before": row.fear_before, "fear_after": row.fear_after,
            "setting": row.setting or None}


def _slot_out(slot) -> dict:
    return {"number": slot.number, "title": slot.title, "state": slot.state, "date": slot.when}


# ------------------------------------------------------------------------------------ operations
@router.get("/program", response={200: ProgramOut, 401: Message, 403: Message},
            summary="The signed-in participant's program (their own arm's content only)")
def get_program(request):
    participant = allowed(access.participant_of, request.user)
    out: dict[str, Any] = {"study_id": participant.study_id, "arm": participant.arm, "status": participant.status,
                           "curriculum": f"{curriculum().name}@{curriculum().version}"}
    if participant.status not in access.ARM_STATUSES or not participant.arm:
        return out
    if participant.arm != "prt":
        _, available, held_back = services.arm_items(participant)
        return {**out, "items": [{"id": i.id, "title": i.title, "summary": i.summary} for i in available],
                "held_back": held_back}
    c = curriculum()
    progress = services.progress(participant)
    done = {a.id: a.practices for a in progress.practice_since.by_assignment}
    return {**out, "current_session": progress.current,
            "sessions": [_slot_out(s) for s in services.calendar(participant)],
            "home_practice": [{"id": a, "title": c.assignment(a).title, "kind": c.assignment(a).kind,
                               "minutes": c.assignment(a).minutes, "per_week": c.assignment(a).per_week,
                               "done_since_session": done.get(a, 0)} for a in progress.home_practice],
            "practice": progress.practice.to_dict(), "evidence": {k: v for k, v in progress.evidence.to_dict().items()
                                                                  if k != "rule"},
            "exposure": progress.exposure.to_dict() if progress.exposure else None}


@router.get("/program/practices", response={200: list[PracticeOut], 401: Message, 403: Message},
            summary="The PRT participant's home-practice log, oldest first")
def get_practices(request):
    participant = allowed(access.prt_participant, request.user)
    return [_practice_out(r) for r in PracticeLog.objects.filter(participant=participant)]


@router.post("/program/practices",
             response={200: LoggedPracticeOut, 201: LoggedPracticeOut, 400: Refusal, 401: Message, 403: Refusal,
                       409: Refusal, 422: Refusal},
             summary="Log one home practice (idempotent by client_uuid)",
             openapi_extra={"requestBody": {"required": True, "content": {
                 "application/json": {"schema": PracticeIn.model_json_schema()}}}})
def post_practice(request):
    participant = allowed(access.prt_participant, request.user)
    body = _parse(request, PracticeIn)
    data = {k: v for k, v in body.model_dump().items() if v is not None and k != "client_uuid"}
    data["day"] = body.day.isoformat()
    logged = services.log_practice(participant, data, client_uuid=body.client_uuid, actor=request.user)
    return Status(201 if logged.outcome == "created" else 200, {**_practice_out(logged.row),
                                                                "outcome": logged.outcome})


@router.get("/program/exposure", response={200: ExposureOut, 401: Message, 403: Message},
            summary="The PRT participant's exposure hierarchy, attempts and next step")
def get_exposure(request):
    participant = allowed(access.prt_participant, request.user)
    hierarchy, attempts, progress = services.exposure(participant)
    return {"steps": hierarchy.to_dict()["steps"] if hierarchy else [],
            "attempts": [a.to_dict() for a in attempts], "progress": progress.to_dict() if progress else None}


@router.post("/program/exposure/attempts",
             response={200: LoggedAttemptOut, 201: LoggedAttemptOut, 400: Refusal, 401: Message, 403: Refusal,
                       409: Refusal, 422: Refusal},
             summary="Log one exposure attempt (idempotent by client_uuid)",
             openapi_extra={"requestBody": {"required": True, "content": {
                 "application/json": {"schema": AttemptIn.model_json_schema()}}}})
def post_attempt(request):
    participant = allowed(access.prt_participant, request.user)
    body = _parse(request, AttemptIn)
    data = {k: v for k, v in body.model_dump().items() if k != "client_uuid"}
    data["day"] = body.day.isoformat()
    logged = services.log_attempt(participant, data, client_uuid=body.client_uuid, actor=request.user)
    return Status(201 if logged.outcome == "created" else 200, {**logged.row.as_record(), "outcome": logged.outcome})


@router.get("/program/caseload", response={200: list[CaseloadOut], 401: Message, 403: Message},
            summary="A therapist's own caseload: sessions held, the next one, the evaluation's referral")
def get_caseload(request):
    people = allowed(lambda: list(access.caseload(request.user)))
    out = []
    for person in people:
        slots = services.calendar(person)
        evaluation = services.evaluation_of(person)
        upcoming = next((s for s in slots if s.state in ("scheduled", "planned")), None)
        out.append({"study_id": person.study_id, "site": person.site.code, "status": person.status,
                    "referral": evaluation.referral if evaluation and evaluation.completed else None,
                    "sessions_held": [s.number for s in slots if s.state == "held"],
                    "next_session": _slot_out(upcoming) if upcoming else None})
    return out


@router.get("/program/fidelity", response={200: FidelityOut, 401: Message, 403: Message},
            summary="Fidelity at a rater's sites (per therapist code, per patient, overall) beside the trial's")
def get_fidelity(request):
    sites = allowed(access.rater_sites, request.user)
    summary, _ = services.fidelity_report([s.pk for s in sites])
    return {"sites": [s.code for s in sites], "summary": summary.to_dict() if summary else None}
