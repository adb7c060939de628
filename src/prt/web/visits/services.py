"""A site's visit schedule on a day: who is due, overdue, missed or coming up, and what they owe.

Nothing about windows is decided here: each participant's visits are
``prt.trial.schedule.participant_visits`` on the trial's schedule (``battery.schedule``), with the
events dated as :func:`prt.web.questionnaires.battery.visits` dates them (the first on the record's
day, the others by their completed questionnaire batteries), and the questionnaires of an event are
the trial's REDCap instrument-event mapping (``battery.instruments_at``). What this module adds is
the site-wide view a coordinator works from (issue 13: "the visit schedule with due / overdue /
missed lists"), computed from ONE query of the site's submissions, grouped by the database (not one
query per participant, and kept until a submission is added), so a site of 1,000 participants is
listed in one pass; each participant's result is kept for the day (``_MEMO``), so filters, the CSV
and reloads cost little more.

Which visits are listed: the events with questionnaires (the pretreatment visit, posttreatment and
the follow-ups), for participants whose questionnaires are open (enrolled or randomized, as
``battery.tasks``). The eligibility session is dated by the screening itself; clinic visits with
no questionnaire (randomization, the physician evaluation, PRT sessions, the placebo injection,
the workbook) have no attendance record on the platform, so the platform cannot tell them done.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Mapping

from django.db.models import Aggregate, Max, TextField

from prt.trial.schedule import Schedule, participant_visits as schedule_visits
from prt.web.accounts.models import Site
from prt.web.errors import Refused
from prt.web.participants.models import DIARY_STATUSES, Participant
from prt.web.questionnaires import battery

#: The lists of the page, in the order a coordinator works through them.
STATES = ("overdue", "due", "missed", "upcoming")
STATE_LABELS = {"overdue": "Overdue", "due": "Due", "missed": "Missed", "upcoming": "Coming up"}
#: How far ahead "coming up" looks by default (days after today that a window opens), and at most.
DEFAULT_HORIZON = 14
MAX_HORIZON = 90


@lru_cache(maxsize=1)
def questionnaire_events() -> tuple[str, ...]:
    """Events with phone questionnaires, in schedule order (battery: eligibility is in person)."""
    return tuple(e for e in battery.schedule().names if e != battery.first_event() and battery.instruments_at(e))


@dataclass(frozen=True)
class ScheduledVisit:
    """One participant's visit on the list: its window, state and the questionnaires still owed."""

    study_id: str
    arm: str                       # "" until the allocation (then prt.vocabulary.ARMS)
    event: str
    label: str
    state: str                     # overdue | due | missed | upcoming
    target: date
    window_open: date
    window_close: date
    outstanding: tuple[str, ...]   # instrument ids not yet submitted, in battery order
    battery_size: int
    #: Days after the target (overdue, missed); days left to the target (due); days until the
    #: window opens (upcoming).
    days: int


@dataclass(frozen=True)
class Filters:
    """What the coordinator asked to see (all checked against the schedule's own names)."""

    state: str = ""                # "" = every list
    event: str = ""                # "" = every event
    horizon: int = DEFAULT_HORIZON


@dataclass(frozen=True)
class SiteSchedule:
    site: Site
    on: date
    filters: Filters
    visits: tuple[ScheduledVisit, ...]
    participants: int              # participants whose questionnaires are open at the site

    def where(self, state: str) -> list[ScheduledVisit]:
        return [v for v in self.visits if v.state == state]

    @property
    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(STATES, 0)
        for v in self.visits:
            counts[v.state] += 1
        return counts


def parse_filters(query: Mapping[str, str]) -> Filters:
    """Filters from a query string (``state``, ``event``, ``days``); Refused naming the field."""
    state = (query.get("state") or "").strip()
    if state and state not in STATES:
        raise Refused("state", f"expected one of {', '.join(STATES)}")
    event = (query.get("event") or "").strip()
    if event and event not in questionnaire_events():
        raise Refused("event", f"expected one of {', '.join(questionnaire_events())}")
    days = (query.get("days") or "").strip()
    horizon = DEFAULT_HORIZON
    if days:
        if not (days.isascii() and days.isdigit()) or len(days) > 3 or int(days) > MAX_HORIZON:
            raise Refused("days", f"expected a whole number of days from 0 to {MAX_HORIZON}")
        horizon = int(days)
    return Filters(state, event, horizon)


class _Concat(Aggregate):
    """The group's texts joined by commas: GROUP_CONCAT on SQLite, STRING_AGG on PostgreSQL."""

    function = "GROUP_CONCAT"
    template = "%(function)s(%(expressions)s)"
    output_field = TextField()

    def as_postgresql(self, compiler, connection, **extra):
        return self.as_sql(compiler, connection, function="STRING_AGG", template="%(function)s(%(expressions)s, ',')",
                           **extra)


#: {event: (instruments submitted, day of the latest of them)} of one participant.
Progress = dict[str, tuple[frozenset[str], date]]


#: Each site's progress, kept with the version of the submissions table it was computed from.
_PROGRESS: dict[int, tuple[tuple, dict[int, Progress]]] = {}


def submissions_version() -> tuple[int, int]:
    """(number of questionnaire submissions, the largest id): changes with every submission committed
    (submissions are added, never changed: a new row raises the count even when a transaction with
    a smaller id commits late). One index-only aggregate, a few milliseconds for 60,000 rows."""
    from django.db.models import Count

    from prt.web.questionnaires.models import Submission

    found = Submission.objects.order_by().aggregate(n=Count("pk"), last=Max("pk"))
    return found["n"], found["last"] or 0


def battery_progress(site: Site) -> dict[int, Progress]:
    """{participant pk: Progress} of the site's participants: ONE query, grouped by the database (one
    row per participant and event, not one per questionnaire), recomputed only when a submission
    was added since (``submissions_version``; the result is shared, read it only). The due list of
    1,000 participants spent 40% of its time here on every request (docs/benchmarks.md)."""
    from prt.web.questionnaires.models import Submission

    version = submissions_version()
    cached = _PROGRESS.get(site.pk)
    if cached is not None and cached[0] == version:
        return cached[1]
    progress: dict[int, Progress] = defaultdict(dict)
    rows = (Submission.objects.filter(participant__site=site)
            .values("participant_id", "event").annotate(instruments=_Concat("instrument"), last=Max("day"))
            .values_list("participant_id", "event", "instruments", "last").order_by())
    for pk, event, instruments, last in rows:
        progress[pk][event] = (frozenset(instruments.split(",")), last)
    progress = dict(progress)
    if len(_PROGRESS) >= 64:
        _PROGRESS.clear()
    _PROGRESS[site.pk] = (version, progress)
    return progress


@dataclass(frozen=True)
class OpenParticipant:
    """What the lists need of a participant (as battery.schedule_start reads it: ``site`` and
    ``created_at``); four columns, not model instances (a thousand of those were a fifth of the page)."""

    pk: int
    study_id: str
    arm: str
    created_at: datetime
    site: Site


def open_participants(site: Site) -> list[OpenParticipant]:
    """The site's participants whose questionnaires are open, by study id (one query)."""
    return [OpenParticipant(pk, study_id, arm, created_at, site) for pk, study_id, arm, created_at in
            Participant.objects.filter(site=site, status__in=DIARY_STATUSES).order_by("study_id")
            .values_list("id", "study_id", "arm", "created_at")]


@lru_cache(maxsize=None)
def _battery(event: str) -> tuple[str, ...]:
    return battery.instruments_at(event)


@lru_cache(maxsize=1)
def listed_schedule() -> Schedule:
    """The trial's schedule (battery.schedule) cut to the questionnaire events and the events they
    are dated from (their anchors, transitively: eligibility, pre, post): the same targets and windows
    for those events, without computing the clinic visits no list shows (about half the work)."""
    full = battery.schedule()
    anchors = {e.name: e.anchor for e in full.events}
    needed: set[str] = set()
    for name in questionnaire_events():
        while name is not None and name not in needed:
            needed.add(name)
            name = anchors[name]
    return Schedule(tuple(e for e in full.events if e.name in needed))


def actual_dates(person: Participant | OpenParticipant, progress: Progress) -> dict[str, date]:
    """The events' actual dates as ``battery.visits`` dates them: the first event on the day the
    record was created at the site, an event whose whole battery was submitted on the day of its
    last submission (tests/web/visits/test_schedule.py checks both give the same visits)."""
    actual = {battery.first_event(): battery.schedule_start(person)}
    for event in questionnaire_events():
        submitted = progress.get(event)
        if submitted is not None and submitted[0].issuperset(_battery(event)):
            actual[event] = submitted[1]
    return actual


#: Each participant's listed visits, kept by everything that decides them (study id, arm, first
#: date, day, submissions), so a page drawn again the same day (a filter, the CSV, a reload) does
#: not recompute them. Pure in its key, so never stale; emptied when full (entries are per day).
_MEMO: dict[tuple, tuple[ScheduledVisit, ...]] = {}
MEMO_SIZE = 10_000


def _all_visits(person: Participant | OpenParticipant, on: date, progress: Progress) -> tuple[ScheduledVisit, ...]:
    """Every visit of ``person`` that some filter can list (horizon MAX_HORIZON), most filters' superset."""
    actual = actual_dates(person, progress)
    key = (person.study_id, person.arm, on, frozenset(actual.items()), frozenset(progress.items()))
    found = _MEMO.get(key)
    if found is not None:
        return found
    horizon_end = on + timedelta(days=MAX_HORIZON)
    out = []
    for visit in schedule_visits(person.study_id, person.arm or None, actual, on, listed_schedule()):
        state = visit.state
        if visit.event == battery.first_event() or state not in STATES or \
                (state == "upcoming" and visit.window_open > horizon_end):
            continue
        owed = _battery(visit.event)
        submitted = progress.get(visit.event, (frozenset(), None))[0]
        if state == "upcoming":
            days = (visit.window_open - on).days
        elif state == "due":
            days = (visit.target - on).days
        else:
            days = (on - visit.target).days
        out.append(ScheduledVisit(person.study_id, person.arm, visit.event, visit.label, state, visit.target,
                                  visit.window_open, visit.window_close,
                                  tuple(i for i in owed if i not in submitted), len(owed), days))
    if len(_MEMO) >= MEMO_SIZE:
        _MEMO.clear()
    found = _MEMO[key] = tuple(out)
    return found


def participant_visits(person: Participant | OpenParticipant, on: date, progress: Progress,
                       filters: Filters = Filters()) -> list[ScheduledVisit]:
    """``person``'s listed visits on ``on`` (battery.visits) with what each still owes, filtered."""
    horizon_end = on + timedelta(days=filters.horizon)
    return [v for v in _all_visits(person, on, progress)
            if (not filters.event or v.event == filters.event) and (not filters.state or v.state == filters.state)
            and (v.state != "upcoming" or v.window_open <= horizon_end)]


#: Order within each list: the most urgent first (the window closing soonest; the latest miss first).
_ORDER = {
    "overdue": lambda v: (v.window_close, v.study_id, v.event),
    "due": lambda v: (v.target, v.study_id, v.event),
    "missed": lambda v: (-v.window_close.toordinal(), v.study_id, v.event),
    "upcoming": lambda v: (v.window_open, v.study_id, v.event),
}


def site_visits(site: Site, on: date | None = None, filters: Filters = Filters()) -> SiteSchedule:
    """Every listed visit of ``site``'s open participants on ``on`` (default: today at the site).

    Three queries whatever the number of participants: the submissions' version, the participants,
    and their submissions (that one only when a submission was added since the last request).
    """
    on = on or site.today()
    people = open_participants(site)
    progress = battery_progress(site)
    visits: list[ScheduledVisit] = []
    for person in people:
        visits.extend(participant_visits(person, on, progress.get(person.pk, {}), filters))
    ordered = []
    for state in STATES:
        ordered.extend(sorted((v for v in visits if v.state == state), key=_ORDER[state]))
    return SiteSchedule(site, on, filters, tuple(ordered), len(people))


#: Columns of the CSV download and the API (one row per visit).
COLUMNS = ("study_id", "arm", "event", "event_label", "state", "target", "window_open", "window_close",
           "days_overdue", "outstanding", "outstanding_count", "battery_size")


def as_row(visit: ScheduledVisit) -> dict:
    """One visit as the CSV and the API give it (dates ISO, outstanding as instrument ids)."""
    return {"study_id": visit.study_id, "arm": visit.arm, "event": visit.event, "event_label": visit.label,
            "state": visit.state, "target": visit.target.isoformat(), "window_open": visit.window_open.isoformat(),
            "window_close": visit.window_close.isoformat(),
            "days_overdue": visit.days if visit.state in ("overdue", "missed") else 0,
            "outstanding": " ".join(visit.outstanding), "outstanding_count": len(visit.outstanding),
            "battery_size": visit.battery_size}


def csv_text(schedule: SiteSchedule) -> str:
    """The list as CSV, every text cell through prt.files.csv_safe (OWASP CSV injection)."""
    import csv
    import io

    from prt.files import csv_safe

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    for visit in schedule.visits:
        row = as_row(visit)
        writer.writerow([csv_safe(row[c]) for c in COLUMNS])
    return buffer.getvalue()
