"""The visits app's API operations (a django-ninja router mounted on ``prt.web.api.api``).

``GET /api/sites/{site_code}/visits``: the list the coordinator's page shows (every row, not only
the first of each list), from the same ``services.site_visits``. Only a coordinator of the site:
403 for other roles, 404 for another site; a filter outside the schedule's names is 422 naming it.
"""

from __future__ import annotations

import datetime as dt
from datetime import date

from django.core.exceptions import PermissionDenied
from ninja import Field, Router, Schema
from ninja.errors import HttpError

from prt.web.enrolment import access
from prt.web.schemas import Message, Refusal
from prt.web.visits import services

router = Router(tags=["visits"])


class VisitOut(Schema):
    study_id: str
    arm: str = Field(description="prt, placebo or usual_care once allocated; empty before")
    event: str = Field(description="The schedule event (prt.trial.schedule), e.g. pre, post, 1mo")
    event_label: str
    state: str = Field(description="overdue, due, missed or upcoming")
    target: date
    window_open: date
    window_close: date
    days_overdue: int = Field(description="Days after the target (overdue and missed); 0 otherwise")
    outstanding: list[str] = Field(description="Instrument ids of the visit not yet submitted")
    battery_size: int = Field(description="How many questionnaires the visit has")


class Counts(Schema):
    overdue: int
    due: int
    missed: int
    upcoming: int


class SiteVisitsOut(Schema):
    site: str
    date: dt.date = Field(description="Today at the site (its time zone)")
    participants: int = Field(description="Participants whose questionnaires are open (enrolled or randomized)")
    counts: Counts
    visits: list[VisitOut]


@router.get("/sites/{site_code}/visits",
            response={200: SiteVisitsOut, 401: Message, 403: Message, 404: Message, 422: Refusal},
            summary="A site's visit schedule today: overdue, due, missed and upcoming questionnaire visits")
def get_site_visits(request, site_code: str, state: str = "", event: str = "", days: str = ""):
    """``state``: overdue, due, missed or upcoming (empty: all); ``event``: a questionnaire event
    (empty: all); ``days``: how far ahead upcoming looks, 0 to 90 (default 14)."""
    try:
        site = access.site_for(request.user, site_code)
    except PermissionDenied:
        raise HttpError(403, "only a study coordinator does this") from None
    filters = services.parse_filters({"state": state, "event": event, "days": days})
    schedule = services.site_visits(site, filters=filters)
    return {"site": site.code, "date": schedule.on, "participants": schedule.participants,
            "counts": schedule.counts,
            "visits": [{**services.as_row(v), "outstanding": list(v.outstanding)} for v in schedule.visits]}
