"""The JSON API (django-ninja) at ``/api/``; its OpenAPI 3 schema is ``/api/openapi.json``.

Browser clients authenticate with the session cookie and send the CSRF token on writes (ninja's
cookie auth checks it). Bodies are parsed by :func:`prt.files.loads_json` (duplicate keys, NaN and
deep nesting refused) and validated strictly: unknown fields, a rating that is not a whole number
in the ``pain_nrs`` range or a date that is not an ISO calendar date are answered 422 with the
field named and the submitted value never echoed; malformed JSON is 400.
"""

from __future__ import annotations

from datetime import date, datetime

from django.http import Http404, HttpRequest
from ninja import Field, NinjaAPI, Schema, Status
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.parser import Parser
from ninja.security import django_auth
from pydantic import ConfigDict, StrictInt

from prt import __version__
from prt.web.diary import scale, services
from prt.web.diary.models import PainRating
from prt.web.errors import Refused, json_body
from prt.web.schemas import ClientUUID, IsoDate, Message, Refusal
from prt.web.participants.access import own_participant, sees_participants, visible_participants
from prt.web.participants.models import Participant

RATING_MIN, RATING_MAX = scale.bounds()


class StrictJSONParser(Parser):
    """JSON bodies through prt.files.loads_json (the project's one strict JSON reader)."""

    def parse_body(self, request: HttpRequest):
        return json_body(request)


api = NinjaAPI(title="PRT trial platform", version=__version__, urls_namespace="api", docs_url=None,
               auth=django_auth, parser=StrictJSONParser(),
               description="Participants' daily pain diary (more in later versions). Session cookie "
                           "authentication; writes need the CSRF token (X-CSRFToken header).")


class RatingIn(Schema):
    model_config = ConfigDict(extra="forbid")

    client_uuid: ClientUUID = Field(description="Made by the client once per submission; a retry "
                                                "with the same UUID returns the stored entry.")
    date: IsoDate = Field(description="Today at the participant's site (YYYY-MM-DD).")
    rating: StrictInt = Field(ge=RATING_MIN, le=RATING_MAX,
                              description="Pain intensity on the pain_nrs scale (a whole number).")


class RatingOut(Schema):
    date: date
    rating: int
    band: str | None = Field(description="Interpretation band from the pain_nrs definition.")
    editable: bool = Field(description="Whether it can still be changed (only on its own day).")
    created_at: datetime
    updated_at: datetime


class SubmittedOut(RatingOut):
    outcome: str = Field(description="created, changed, unchanged, or replayed (a retry)")


def _out(entry: PainRating, today: date) -> dict:
    return {"date": entry.day, "rating": entry.rating, "band": scale.band(entry.rating),
            "editable": entry.day == today, "created_at": entry.created_at, "updated_at": entry.updated_at}


def _own(request) -> Participant:
    participant = own_participant(request.user)
    if participant is None:
        raise HttpError(403, "only a participant keeps a pain diary")
    return participant


@api.post("/diary", response={200: SubmittedOut, 201: SubmittedOut, 400: Refusal, 401: Message, 403: Refusal,
                              409: Refusal, 422: Refusal},
          summary="Record today's pain rating (idempotent by client_uuid)")
def post_diary(request, payload: RatingIn):
    participant = _own(request)
    submitted = services.submit_rating(participant, client_uuid=payload.client_uuid, day=payload.date,
                                       rating=payload.rating, actor=request.user)
    status = 201 if submitted.outcome == "created" else 200
    return Status(status, {**_out(submitted.entry, participant.site.today()), "outcome": submitted.outcome})


@api.get("/diary", response={200: list[RatingOut], 401: Message, 403: Message},
         summary="The signed-in participant's own ratings, oldest first")
def get_diary(request):
    participant = _own(request)
    today = participant.site.today()
    return [_out(e, today) for e in services.history(participant)]


@api.get("/participants/{study_id}/diary", response={200: list[RatingOut], 401: Message, 403: Message,
                                                     404: Message},
         summary="One participant's ratings (themselves, or staff of their site)")
def get_participant_diary(request, study_id: str):
    if not sees_participants(request.user):
        raise HttpError(403, "this role does not see identified participant data")
    participant = visible_participants(request.user).filter(study_id=study_id).first()
    if participant is None:
        raise Http404
    today = participant.site.today()
    return [_out(e, today) for e in services.history(participant)]


from prt.web.enrolment.api import router as coordinator_router  # noqa: E402 (after the api exists)

api.add_router("", coordinator_router)


def _refusal(request, field: str, message: str, status: int):
    return api.create_response(request, {"detail": f"{field}: {message}",
                                         "errors": [{"field": field, "message": message}]}, status=status)


@api.exception_handler(Refused)
def _refused(request, exc: Refused):
    return _refusal(request, exc.field, exc.message, exc.status)


def _message(field: str, error: dict) -> str:
    """A validation error in the project's words: what the field expects (never the value sent)."""
    kind = error.get("type", "")
    if kind == "missing":
        return "required"
    if kind == "extra_forbidden":
        return f"unknown field (the fields are {', '.join(RatingIn.model_fields)})"
    if field == "body":
        return f"expected a JSON object with {', '.join(RatingIn.model_fields)}"
    if field == "rating":
        return f"expected a whole number from {RATING_MIN} to {RATING_MAX}"
    return str(error.get("msg", "invalid")).removeprefix("Value error, ")


@api.exception_handler(ValidationError)
def _invalid(request, exc: ValidationError):
    errors = []
    for error in exc.errors:
        loc = [str(part) for part in error.get("loc", ())]
        field = (".".join(loc[2:]) if loc[:1] == ["body"] else ".".join(loc[1:])) or "body"
        errors.append({"field": field, "message": _message(field, error)})
    detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors) or "invalid request"
    return api.create_response(request, {"detail": detail, "errors": errors}, status=422)


@api.exception_handler(HttpError)
def _http_error(request, exc: HttpError):
    cause = exc.__cause__
    if isinstance(cause, Refused):  # our parser's refusal, wrapped by ninja
        return _refused(request, cause)
    if exc.status_code == 400 and cause is not None:  # malformed JSON: prt.files names line and column
        return _refusal(request, "body", str(cause).removeprefix("body: "), 400)
    if isinstance(exc, AuthenticationError):
        return api.create_response(request, {"detail": "sign in first"}, status=401)
    return api.create_response(request, {"detail": str(exc)}, status=exc.status_code)


@api.exception_handler(Http404)
def _not_found(request, exc):
    return api.create_response(request, {"detail": "not found"}, status=404)


# The questionnaires' router (added last: it uses this API's exception handlers, not its names).
from prt.web.questionnaires.api import router as questionnaires_router  # noqa: E402

api.add_router("/", questionnaires_router)

# The coordinator's schedule, reminders, adverse events and CONSORT routers (same handlers).
from prt.web.consort.api import router as consort_router  # noqa: E402
from prt.web.program.api import router as program_router  # noqa: E402
from prt.web.reminders.api import router as reminders_router  # noqa: E402
from prt.web.safety.api import router as safety_router  # noqa: E402
from prt.web.visits.api import router as visits_router  # noqa: E402

for _router in (visits_router, reminders_router, safety_router, consort_router, program_router):
    api.add_router("/", _router)
