"""The coordinator's API operations (a django-ninja router mounted on ``prt.web.api.api``).

Bodies are read with :func:`prt.files.loads_json` and checked by the same services as the pages
(enrolment/services.py, randomization/services.py), so the page and the API refuse the same input
with the same field-named message (``{"detail": "FIELD: ...", "errors": [...]}``), never echoing a
value. Only a coordinator of the person's site acts: 403 for other roles, 404 for other sites.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404
from ninja import Field, Router, Schema, Status
from ninja.errors import HttpError

from prt.web.enrolment import access, services
from prt.web.errors import Refused, json_body
from prt.web.schemas import Message, Refusal
from prt.web.randomization import services as randomization

router = Router(tags=["coordinator"])


class ReasonOut(Schema):
    code: str = Field(description="The failed rule's code in the rule set")
    label: str = Field(description="What the rule requires (its description)")


class ScreeningOut(Schema):
    study_id: str
    status: str = Field(description="eligible, ineligible or incomplete (prt.trial.eligibility)")
    reasons: list[ReasonOut]
    missing: list[str] = Field(description="Fields the rules needed that were not answered")
    rule_set: str = Field(description="name@version of the rules that judged it")


class RandomizedOut(Schema):
    study_id: str
    arm: str
    seq: int = Field(description="The allocation's line in the log (0 is the header)")
    head: str = Field(description="The log's hash after this allocation: the receipt to keep")
    timestamp: str
    outcome: str = Field(description="allocated, or replayed (the first allocation, returned again)")




def _body(request, allowed: set[str]) -> dict[str, Any]:
    body = json_body(request)
    if not isinstance(body, dict):
        raise Refused("body", f"expected a JSON object with {', '.join(sorted(allowed))}")
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise Refused(unknown[0], f"unknown field (the fields are {', '.join(sorted(allowed))})")
    return body


def _coordinator(call, *args):
    try:
        return call(*args)
    except PermissionDenied:
        raise HttpError(403, "only a study coordinator does this") from None


SCREENING_BODY = {"content": {"application/json": {"schema": {
    "type": "object", "additionalProperties": False, "required": ["site", "study_id", "answers"],
    "properties": {
        "site": {"type": "string", "description": "The site's code (one of the coordinator's sites)"},
        "study_id": {"type": "string", "maxLength": 32, "description": "A pseudonym, e.g. BOU-014"},
        "answers": {"type": "object", "description": "field: answer (numbers within their declared range; "
                                                     "yes/no; choices); blank or absent = not answered"}}}}},
    "required": True}
RANDOMIZE_BODY = {"content": {"application/json": {"schema": {
    "type": "object", "additionalProperties": False, "required": ["client_uuid"],
    "properties": {"client_uuid": {"type": "string", "format": "uuid",
                                   "description": "Made once per request; a retry returns the first answer"}}}}},
    "required": True}


@router.post("/screenings", response={201: ScreeningOut, 400: Refusal, 401: Message, 403: Message, 404: Message,
                                      409: Refusal, 422: Refusal},
             summary="Screen a person at one of your sites (judged by prt.trial.eligibility)",
             openapi_extra={"requestBody": SCREENING_BODY})
def post_screening(request):
    _coordinator(access.require_coordinator, request.user)
    body = _body(request, {"site", "study_id", "answers"})
    if not isinstance(body.get("site"), str):
        raise Refused("site", "required: the site's code")
    try:
        site = access.site_for(request.user, body["site"])
    except Http404:
        raise Refused("site", "not one of your sites", status=404) from None
    screening = services.screen_person(site, body.get("study_id"), body.get("answers"), request.user)
    return Status(201, {"study_id": screening.participant.study_id, "status": screening.status,
                        "reasons": services.reason_labels(screening.reasons), "missing": screening.missing,
                        "rule_set": screening.rule_set})


@router.post("/participants/{study_id}/randomization",
             response={200: RandomizedOut, 201: RandomizedOut, 400: Refusal, 401: Message, 403: Message,
                       404: Message, 409: Refusal, 422: Refusal, 503: Refusal},
             summary="Randomize an enrolled person by minimization (idempotent by client_uuid)",
             openapi_extra={"requestBody": RANDOMIZE_BODY})
def post_randomization(request, study_id: str):
    person = _coordinator(access.person_for, request.user, study_id)
    body = _body(request, {"client_uuid"})
    value = body.get("client_uuid")
    try:
        if not isinstance(value, str) or len(value) != 36:
            raise ValueError
        client_uuid = uuid.UUID(value)
    except ValueError:
        raise Refused("client_uuid", "expected a UUID like 0f8fad5b-d9cb-469f-a165-70867728950e") from None
    result = randomization.randomize(person, client_uuid=client_uuid, actor=request.user)
    return Status(201 if result.outcome == "allocated" else 200,
                  {"study_id": result.participant, "arm": result.arm, "seq": result.seq, "head": result.hash,
                   "timestamp": result.timestamp, "outcome": result.outcome})
