"""The reminders app's API operations (a django-ninja router mounted on ``prt.web.api.api``).

``/api/participants/{study_id}/reminder-contact`` (GET, POST): the coordinators of the person's site
(403 other roles, 404 other sites). ``/api/reminders/me`` (GET, POST): the participant's own
choice. Bodies are read by :func:`prt.web.errors.json_body` and validated by strict pydantic models
(no extra field, no coercion); refusals name the field and never repeat the value (an address is
patient data) - the same services as the pages, so both refuse the same input the same way.
"""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from ninja import Field, Router, Schema, Status
from ninja.errors import HttpError
from pydantic import BaseModel, ConfigDict, StrictBool, StrictStr, ValidationError

from prt.web.enrolment import access
from prt.web.errors import Refused, json_body
from prt.web.participants.access import own_participant
from prt.web.reminders import services
from prt.web.schemas import Message, Refusal

router = Router(tags=["reminders"])


class ContactIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    email: StrictStr = Field(max_length=1000, description="One e-mail address (at most 254 characters)")
    opted_in: StrictBool = Field(description="Whether the participant wants reminders")
    reason: StrictStr = Field("", max_length=1000, description="Why it changes (required on a change)")


class ChoiceIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    opted_in: StrictBool = Field(description="false: stop reminders; true: send them again")


class ContactOut(Schema):
    study_id: str
    email: str | None = Field(description="The address, or null when none is recorded")
    opted_in: bool
    updated_at: datetime | None


class SavedOut(ContactOut):
    outcome: str = Field(description="created, changed or unchanged")


#: Answers holding an address are never cached (browsers, proxies).
NO_STORE = "no-store, private"
MESSAGES = {"email": services.EMAIL_MESSAGE, "opted_in": "expected true or false",
            "reason": f"expected text of at most {services.MAX_REASON} characters"}


def _parse(request, model: type[BaseModel]) -> BaseModel:
    """The body through json_body and ``model``; the first error as a Refused naming its field."""
    body = json_body(request)
    if not isinstance(body, dict):
        raise Refused("body", f"expected a JSON object with {', '.join(model.model_fields)}")
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        error = exc.errors()[0]
        name = str(error["loc"][0]) if error.get("loc") else "body"
        if error.get("type") == "extra_forbidden":
            raise Refused(name, f"unknown field (the fields are {', '.join(model.model_fields)})") from None
        if error.get("type") == "missing":
            raise Refused(name, "required") from None
        raise Refused(name, MESSAGES.get(name, "invalid")) from None


def _body_doc(model: type[BaseModel]) -> dict:
    return {"requestBody": {"content": {"application/json": {"schema": model.model_json_schema()}}, "required": True}}


def _out(person, contact) -> dict:
    return {"study_id": person.study_id, "email": contact.email if contact else None,
            "opted_in": bool(contact and contact.opted_in), "updated_at": contact.updated_at if contact else None}


def _person(request, study_id: str):
    try:
        return access.person_for(request.user, study_id)
    except PermissionDenied:
        raise HttpError(403, "only a study coordinator does this") from None


@router.get("/participants/{study_id}/reminder-contact",
            response={200: ContactOut, 401: Message, 403: Message, 404: Message},
            summary="A person's reminder contact (coordinators of their site)")
def get_contact(request, study_id: str, response: HttpResponse):
    response["Cache-Control"] = NO_STORE
    person = _person(request, study_id)
    return _out(person, services.contact_of(person))


@router.post("/participants/{study_id}/reminder-contact",
            response={200: SavedOut, 201: SavedOut, 400: Refusal, 401: Message, 403: Message, 404: Message,
                      409: Refusal, 422: Refusal},
            summary="Record or change a person's reminder address and choice (a change needs a reason)",
            openapi_extra=_body_doc(ContactIn))
def put_contact(request, study_id: str, response: HttpResponse):
    response["Cache-Control"] = NO_STORE
    person = _person(request, study_id)
    body = _parse(request, ContactIn)
    saved = services.save_contact(person, email=body.email, opted_in=body.opted_in, actor=request.user,
                                  reason=body.reason)
    return Status(201 if saved.outcome == "created" else 200, {**_out(person, saved.contact), "outcome": saved.outcome})


def _own(request):
    participant = own_participant(request.user)
    if participant is None:
        raise HttpError(403, "only a participant has reminder settings")
    return participant


@router.get("/reminders/me", response={200: ContactOut, 401: Message, 403: Message},
            summary="The signed-in participant's reminder address and choice")
def get_mine(request, response: HttpResponse):
    response["Cache-Control"] = NO_STORE
    participant = _own(request)
    return _out(participant, services.contact_of(participant))


@router.post("/reminders/me", response={200: SavedOut, 400: Refusal, 401: Message, 403: Message, 409: Refusal,
                                       422: Refusal},
            summary="Opt out of (or back in to) e-mail reminders", openapi_extra=_body_doc(ChoiceIn))
def put_mine(request, response: HttpResponse):
    response["Cache-Control"] = NO_STORE
    participant = _own(request)
    body = _parse(request, ChoiceIn)
    saved = services.set_own_choice(participant, opted_in=body.opted_in, actor=request.user)
    return {**_out(participant, saved.contact), "outcome": saved.outcome}
