"""The adverse events' JSON API (a django-ninja router mounted on ``prt.web.api.api`` at /api/).

- ``GET /api/sites/{site_code}/adverse-events`` (``?serious=true``, ``?ongoing=true``): one site's
  events, newest onset first (the site's coordinators, therapists and physicians);
- ``POST /api/participants/{study_id}/adverse-events``: record one (the site's coordinators);
- ``GET /api/adverse-events/{event_id}``: one event with its audit history;
- ``POST /api/adverse-events/{event_id}``: change some of its fields with a ``reason`` (coordinators).

Bodies are read by :func:`prt.web.errors.json_body` and validated by strict pydantic models (unknown
fields refused), then checked by the same services as the pages, so both refuse alike; refusals
name the field and what it expects (``{"detail": "FIELD: ...", "errors": [...]}``), never the value.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from ninja import Router, Schema, Status
from pydantic import BaseModel, ConfigDict, Field, StrictBool

from prt.web.errors import Refused, allowed, parse_body
from prt.web.safety import access, services
from prt.web.safety import vocabulary as v
from prt.web.safety.models import AdverseEvent
from prt.web.schemas import IsoDate, Message, Refusal

router = Router(tags=["adverse events"])


Severity = Literal[tuple(v.SEVERITIES)]  # type: ignore[valid-type]
Criterion = Literal[tuple(v.SAE_CRITERIA)]  # type: ignore[valid-type]
Relatedness = Literal[tuple(v.RELATEDNESS)]  # type: ignore[valid-type]
Action = Literal[tuple(v.ACTIONS)]  # type: ignore[valid-type]
Outcome = Literal[tuple(v.OUTCOMES)]  # type: ignore[valid-type]


class EventIn(BaseModel):
    """A new adverse event (ICH E2A fields; codes from the safety vocabulary)."""

    model_config = ConfigDict(extra="forbid")
    onset_date: IsoDate = Field(description="The day the event began (YYYY-MM-DD), not before consent")
    end_date: IsoDate | None = Field(None, description="The day it ended; null while ongoing")
    description: str = Field(min_length=1, max_length=v.DESCRIPTION_MAX,
                             description="What happened (clinical free text; no names or contact details)")
    severity: Severity = Field(description="mild, moderate, severe, or a CTCAE v5.0 grade (grade_1 .. grade_5)")
    serious: StrictBool
    sae_criteria: list[Criterion] = Field([], description="Seriousness criteria met (ICH E2A); none unless serious")
    relatedness: Relatedness = Field(description="Relatedness to the study intervention")
    expected: StrictBool
    action_taken: Action = Field(description="Action taken with the study intervention")
    outcome: Outcome = Field(description="CDISC AEOUT outcome")
    sae_reported_on: IsoDate | None = Field(None, description="The day the SAE report was sent (serious only)")


class ChangeIn(BaseModel):
    """A change: the fields to change (the others keep their values) and why."""

    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=1, max_length=v.REASON_MAX, description="Why the record is changed (audited)")
    onset_date: IsoDate | None = None
    end_date: IsoDate | None = None
    description: str | None = Field(None, min_length=1, max_length=v.DESCRIPTION_MAX)
    severity: Severity | None = None
    serious: StrictBool | None = None
    sae_criteria: list[Criterion] | None = None
    relatedness: Relatedness | None = None
    expected: StrictBool | None = None
    action_taken: Action | None = None
    outcome: Outcome | None = None
    sae_reported_on: IsoDate | None = None


#: Fields that may be sent as null in a change (they are empty in a stored event).
NULLABLE = ("end_date", "sae_reported_on")


class EventOut(Schema):
    id: int
    study_id: str
    site: str = Field(description="The site's code")
    onset_date: date
    end_date: date | None
    ongoing: bool
    description: str
    severity: str
    serious: bool
    sae_criteria: list[str]
    relatedness: str
    related: bool = Field(description="possible, probable or definite (a reasonable possibility, ICH E2A)")
    expected: bool
    action_taken: str
    outcome: str
    sae_reported_on: date | None
    report_deadline: datetime | None = Field(description="Serious events: 24 hours after becoming serious")
    report_pending: bool = Field(description="Serious and no SAE report recorded yet")
    reported_by: str | None
    reported_at: datetime
    updated_at: datetime


class HistoryOut(Schema):
    at: datetime
    actor: str | None
    action: str
    reason: str
    changes: dict[str, Any] = Field(description="{field: [old, new]}")


class EventDetailOut(EventOut):
    history: list[HistoryOut]


class ChangedOut(EventOut):
    result: str = Field(description="changed, or unchanged (the values sent were those stored; nothing written)")


EXPECTED = {
    "onset_date": "a date as YYYY-MM-DD", "end_date": "a date as YYYY-MM-DD, or null while ongoing",
    "description": f"text of 1 to {v.DESCRIPTION_MAX} characters",
    "severity": f"one of {', '.join(v.SEVERITIES)}", "serious": "true or false",
    "sae_criteria": f"a list of criteria from {', '.join(v.SAE_CRITERIA)}",
    "relatedness": f"one of {', '.join(v.RELATEDNESS)}", "expected": "true or false",
    "action_taken": f"one of {', '.join(v.ACTIONS)}", "outcome": f"one of {', '.join(v.OUTCOMES)}",
    "sae_reported_on": "a date as YYYY-MM-DD, or null", "reason": f"text of 1 to {v.REASON_MAX} characters",
}


def _parse(request, model: type[BaseModel]) -> BaseModel:
    return parse_body(request, model, EXPECTED, "a valid value")


def _out(event: AdverseEvent) -> dict[str, Any]:
    return {"id": event.pk, "study_id": event.participant.study_id, "site": event.participant.site.code,
            **services.current_values(event), "ongoing": event.ongoing, "related": event.related,
            "report_deadline": event.report_deadline, "report_pending": event.report_pending,
            "reported_by": event.reported_by.get_username() if event.reported_by else None,
            "reported_at": event.reported_at, "updated_at": event.updated_at}


@router.get("/sites/{site_code}/adverse-events",
            response={200: list[EventOut], 401: Message, 403: Message, 404: Message, 422: Refusal},
            summary="One site's adverse events, newest onset first (the site's study staff)")
def list_events(request, site_code: str, serious: bool = False, ongoing: bool = False):
    site = allowed(access.site_for, request.user, site_code)
    events = AdverseEvent.objects.select_related("participant__site", "reported_by").filter(participant__site=site)
    if serious:
        events = events.filter(serious=True)
    if ongoing:
        events = events.filter(end_date__isnull=True)
    return [_out(e) for e in events]


@router.post("/participants/{study_id}/adverse-events",
             response={201: EventOut, 400: Refusal, 401: Message, 403: Message, 404: Message, 409: Refusal,
                       422: Refusal},
             summary="Record an adverse event of a participant of your site (coordinators)",
             openapi_extra={"requestBody": {"required": True, "content": {
                 "application/json": {"schema": EventIn.model_json_schema()}}}})
def post_event(request, study_id: str):
    person = allowed(access.person_for_recording, request.user, study_id)
    body = _parse(request, EventIn)
    event = services.record(person, body.model_dump(), actor=request.user)
    return Status(201, _out(event))


@router.get("/adverse-events/{event_id}",
            response={200: EventDetailOut, 401: Message, 403: Message, 404: Message, 422: Refusal},
            summary="One adverse event with its audit history (the site's study staff)")
def get_event(request, event_id: int):
    event = allowed(access.event_for, request.user, event_id)
    history = [{"at": a.at, "actor": a.actor.get_username() if a.actor else None, "action": a.action,
                "reason": a.reason, "changes": a.changes} for a in services.history(event)]
    return {**_out(event), "history": history}


@router.post("/adverse-events/{event_id}",
             response={200: ChangedOut, 400: Refusal, 401: Message, 403: Message, 404: Message, 409: Refusal,
                       422: Refusal},
             summary="Change some fields of an adverse event, with a reason (coordinators; audited)",
             openapi_extra={"requestBody": {"required": True, "content": {
                 "application/json": {"schema": ChangeIn.model_json_schema()}}}})
def change_event(request, event_id: int):
    event = allowed(access.event_for, request.user, event_id, write=True)
    body = _parse(request, ChangeIn)
    changes = {}
    for name in body.model_fields_set - {"reason"}:
        value = getattr(body, name)
        if value is None and name not in NULLABLE:
            raise Refused(name, f"expected {EXPECTED[name]} (leave the field out to keep it)")
        changes[name] = value
    result = services.change(event, changes, reason=body.reason, actor=request.user)
    return {**_out(result.event), "result": result.outcome}
