"""The visit schedule of a PRT trial: target dates, windows, and due/overdue/missed lists for a date.

Structure from the trial (Ashar et al., JAMA Psychiatry 2022, Methods; protocol notes): two
baseline sessions (eligibility, then pretreatment with fMRI), randomization, a 4-week treatment
window (PRT: one physician evaluation, then 8 sessions twice weekly; open-label placebo: one
injection visit; usual care: nothing until posttreatment, then the workbook), posttreatment one
month after baseline, and follow-ups 1, 2, 3, 6 and 12 months after posttreatment. The day
offsets and windows are configurable (:data:`TRIAL_EVENTS` holds prt's defaults; the paper gives
the anchors, not the windows).

Each event's target = its anchor's date (the actual date when the anchor happened, else the
anchor's target) + ``months`` calendar months + ``days``. On a date D an event not yet done is
``upcoming`` before its window opens, ``due`` from the opening to the target, ``overdue`` after the
target until the window closes, ``missed`` after it closes; one with an actual date is ``done``.
A participant who withdrew (a ``withdrawn`` date) owes nothing after that date: every visit not
done whose window was still open on that date (or not yet open) is ``withdrawn`` instead of due,
overdue or missed; visits already missed before the withdrawal stay ``missed``.

Inputs: :func:`load_schedule` (a YAML/JSON schedule, ``Schedule.from_dict``) and
:func:`read_participants` (the participants CSV); errors name the file, the key or the record.

>>> p1 = {"participant": "p1", "arm": "usual_care", "eligibility": "2026-01-31", "pre": "2026-02-07",
...       "randomization": "2026-02-07", "post": "2026-03-10", "workbook": "2026-03-10"}
>>> report = schedule_report([p1], date(2026, 4, 5))
>>> [(v.event, v.state, v.target.isoformat()) for v in report.visits if v.state != "done"][:2]
[('1mo', 'due', '2026-04-10'), ('2mo', 'upcoming', '2026-05-10')]
>>> report = schedule_report([{**p1, "withdrawn": "2026-03-20"}], date(2026, 4, 5))
>>> sorted({v.state for v in report.visits}), report.withdrawals
(['done', 'withdrawn'], (('p1', datetime.date(2026, 3, 20)),))
"""

from __future__ import annotations

import calendar
import math
import os
import re
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from typing import Any, Iterable, Mapping, Sequence

from prt.errors import InputError
from prt.trial.inputs import participant_id
from prt.vocabulary import ARMS

STATES = ("done", "upcoming", "due", "overdue", "missed", "withdrawn")
#: Participants-CSV columns that are not events: the record id, the arm and the withdrawal date.
WITHDRAWN = "withdrawn"
RESERVED_COLUMNS = ("participant", "arm", WITHDRAWN)
#: Keys of one event in a schedule file (the fields of :class:`Event`).
EVENT_KEYS = ("name", "anchor", "months", "days", "window_before", "window_after", "arms", "label")
#: Largest offsets a schedule may give (100 years; more is a typo and would overflow dates).
MAX_MONTHS, MAX_DAYS = 1200, 36_600
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


@dataclass(frozen=True)
class Event:
    """One scheduled event: when (anchor + months + days), its window, and which arms have it."""

    name: str
    anchor: str | None          # None: the first event, dated by the participant's record
    months: int = 0
    days: int = 0
    window_before: int = 0      # days the window opens before the target
    window_after: int = 0       # days the window closes after the target
    arms: tuple[str, ...] = ARMS
    label: str = ""

    def __post_init__(self) -> None:
        if self.window_before < 0 or self.window_after < 0:
            raise InputError(f"schedule event {self.name!r}: windows must be >= 0 days")


def _prt_sessions() -> tuple[Event, ...]:
    # Twice weekly over 4 weeks after the evaluation: days 2, 5, 9, 12, 16, 19, 23, 26.
    offsets = (2, 5, 9, 12, 16, 19, 23, 26)
    return tuple(
        Event(f"prt_session_{i}", "physician_evaluation", days=d, window_before=2, window_after=3,
              arms=("prt",), label=f"PRT session {i} of 8")
        for i, d in enumerate(offsets, start=1)
    )


#: prt's default schedule; names of assessments match :data:`prt.data.TIMEPOINTS`.
TRIAL_EVENTS: tuple[Event, ...] = (
    Event("eligibility", None, label="baseline session 1: eligibility"),
    Event("pre", "eligibility", days=7, window_before=7, window_after=14,
          label="baseline session 2: pretreatment (fMRI)"),
    Event("randomization", "pre", days=0, window_after=7, label="randomization"),
    Event("physician_evaluation", "randomization", days=3, window_before=3, window_after=7,
          arms=("prt",), label="PRT physician evaluation"),
    *_prt_sessions(),
    Event("placebo_injection", "randomization", days=7, window_before=7, window_after=7,
          arms=("placebo",), label="open-label placebo injection visit"),
    Event("post", "pre", months=1, days=3, window_before=3, window_after=14,
          label="posttreatment (1 month after baseline)"),
    Event("workbook", "post", days=0, window_after=14, arms=("usual_care",),
          label="usual care: chronic-pain workbook and website"),
    Event("1mo", "post", months=1, window_before=7, window_after=14, label="1-month follow-up"),
    Event("2mo", "post", months=2, window_before=7, window_after=14, label="2-month follow-up"),
    Event("3mo", "post", months=3, window_before=14, window_after=21, label="3-month follow-up"),
    Event("6mo", "post", months=6, window_before=14, window_after=30, label="6-month follow-up"),
    Event("12mo", "post", months=12, window_before=30, window_after=30, label="12-month follow-up"),
)

#: Events that must happen in this order when their dates are recorded.
STUDY_ORDER = ("eligibility", "pre", "randomization", "post", "1mo", "2mo", "3mo", "6mo", "12mo")


def add_months(day: date, months: int) -> date:
    """Same day ``months`` later; clamped to the month's last day (31 Jan + 1 month = 28/29 Feb)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True)
class Schedule:
    """An ordered set of events; anchors must name earlier events."""

    events: tuple[Event, ...] = TRIAL_EVENTS

    def __post_init__(self) -> None:
        seen: set[str] = set()
        if not self.events:
            raise InputError("schedule: no events")
        for i, event in enumerate(self.events):
            if event.name in RESERVED_COLUMNS:
                raise InputError(f"schedule: {event.name!r} is a column of the participants CSV, not an event name")
            if event.name in seen:
                raise InputError(f"schedule: event {event.name!r} defined twice")
            if (event.anchor is None) != (i == 0):
                raise InputError(f"schedule: only the first event has no anchor ({event.name!r})")
            if event.anchor is not None and event.anchor not in seen:
                raise InputError(f"schedule event {event.name!r}: anchor {event.anchor!r} is not an earlier event")
            seen.add(event.name)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(e.name for e in self.events)

    @classmethod
    def from_dict(cls, spec: Mapping[str, Any], source: str = "schedule") -> "Schedule":
        """Events from a mapping ``{"events": [{name, anchor, months, days, window_before, ...}]}``.

        Errors name ``source``, the event (position and name) and the key: unknown keys, a name or
        anchor that is not text, offsets that are not whole numbers (or beyond 100 years), negative
        windows, arms outside :data:`prt.vocabulary.ARMS`, anchors that are not earlier events.
        """
        if not isinstance(spec, Mapping) or not isinstance(spec.get("events"), list):
            raise InputError(f"{source}: expected a mapping with an 'events' list")
        extra = sorted(str(k) for k in spec if k != "events")
        if extra:
            raise InputError(f"{source}: unknown key(s) {', '.join(extra)} (expected only 'events')")
        if not spec["events"]:
            raise InputError(f"{source}: key 'events': the list is empty")
        events = [_event_from_dict(e, f"{source}: events[{i}]") for i, e in enumerate(spec["events"])]
        try:
            return cls(tuple(events))
        except InputError as exc:
            raise InputError(f"{source}: {str(exc).removeprefix('schedule: ')}") from None


def _event_from_dict(e: Any, where: str) -> Event:
    if not isinstance(e, Mapping):
        raise InputError(f"{where}: expected a mapping of {', '.join(EVENT_KEYS)}")
    name = e.get("name")
    if not isinstance(name, str) or not name.strip():
        raise InputError(f"{where}, key 'name': expected the event's name as text")
    where = f"{where} ({name!r})"
    unknown = sorted(str(k) for k in e if k not in EVENT_KEYS)
    if unknown:
        raise InputError(f"{where}: unknown key(s) {', '.join(unknown)} (expected {', '.join(EVENT_KEYS)})")
    anchor = e.get("anchor")
    if anchor is not None and not isinstance(anchor, str):
        raise InputError(f"{where}, key 'anchor': expected an earlier event's name")
    numbers = {}
    for key, low, high in (("months", -MAX_MONTHS, MAX_MONTHS), ("days", -MAX_DAYS, MAX_DAYS),
                           ("window_before", 0, MAX_DAYS), ("window_after", 0, MAX_DAYS)):
        value = e.get(key, 0)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise InputError(f"{where}, key {key!r}: expected a whole number from {low} to {high}")
        numbers[key] = value
    arms = e.get("arms", list(ARMS))
    if isinstance(arms, str):
        arms = [arms]
    if not isinstance(arms, list) or not arms or any(a not in ARMS for a in arms):
        raise InputError(f"{where}, key 'arms': expected a list of arms from {', '.join(ARMS)}")
    label = e.get("label", "")
    if not isinstance(label, str):
        raise InputError(f"{where}, key 'label': expected text")
    return Event(name=name.strip(), anchor=anchor, arms=tuple(arms), label=label, **numbers)


def load_schedule(path: str | os.PathLike) -> Schedule:
    """A schedule file (YAML, or JSON by suffix) read strictly; errors name the file and the key."""
    from prt.files import load_yaml

    return Schedule.from_dict(load_yaml(path, "schedule"), f"schedule {path}")


def read_participants(path: str | os.PathLike) -> "ParticipantsTable":
    """The participants CSV (``participant``, ``arm``, optional ``withdrawn``, one column per event)."""
    from prt.trial.inputs import read_csv

    table = read_csv(path, "participants")
    if "participant" not in table.columns:
        raise InputError(f"{table.source}: no 'participant' column")
    return ParticipantsTable(table.source, table.records, table.rows)


@dataclass(frozen=True)
class ParticipantsTable:
    """The participants CSV's records with their row numbers (for messages)."""

    source: str
    records: tuple[dict[str, str], ...]
    rows: tuple[int, ...]


@dataclass(frozen=True)
class Visit:
    """One participant's event on the report date."""

    participant: str
    arm: str | None
    event: str
    label: str
    target: date
    window_open: date
    window_close: date
    actual: date | None
    state: str

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        for key in ("target", "window_open", "window_close", "actual"):
            out[key] = None if out[key] is None else out[key].isoformat()
        return out


@dataclass(frozen=True)
class ScheduleReport:
    """Every participant's visits on ``on``, with the due, overdue and missed lists."""

    on: date
    visits: tuple[Visit, ...]
    #: (participant, withdrawal date) of everyone withdrawn on or before ``on``.
    withdrawals: tuple[tuple[str, date], ...] = ()

    def where(self, state: str) -> list[Visit]:
        return [v for v in self.visits if v.state == state]

    @property
    def due(self) -> list[Visit]:
        return self.where("due")

    @property
    def overdue(self) -> list[Visit]:
        return self.where("overdue")

    @property
    def missed(self) -> list[Visit]:
        return self.where("missed")

    def to_dict(self) -> dict[str, Any]:
        return {"date": self.on.isoformat(),
                **{state: [v.to_dict() for v in self.where(state)] for state in ("due", "overdue", "missed")},
                "withdrawn": [{"participant": p, "date": d.isoformat()} for p, d in self.withdrawals],
                "counts": {state: len(self.where(state)) for state in STATES}}


def iso_date(text: str, what: str = "date") -> date:
    """A calendar date written YYYY-MM-DD (only that form); InputError naming ``what`` otherwise."""
    try:
        if not _ISO_DATE.fullmatch(str(text).strip()):
            raise ValueError(text)
        return date.fromisoformat(str(text).strip())
    except ValueError:
        raise InputError(f"{what} {text!r}: expected a date YYYY-MM-DD") from None


def parse_date(value: Any, participant: str, event: str) -> date | None:
    """ISO date (YYYY-MM-DD) or empty; InputError naming the record and event otherwise."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, date):
        return value
    text = str(value).strip()
    if not text or text.lower() in {"nan", "nat", "none"}:
        return None
    try:
        if not _ISO_DATE.fullmatch(text[:10]) or (len(text) > 10 and text[10] not in "T "):
            raise ValueError(text)
        return date.fromisoformat(text[:10])
    except ValueError:
        raise InputError(f"record {participant!r}, event {event!r}: expected a date YYYY-MM-DD") from None


def _target(start: date, event: Event, participant: str) -> tuple[date, date, date]:
    """Target, window opening and closing of ``event`` (InputError when a date leaves the calendar).

    ``start`` is the anchor's date; the first event (no anchor) is its own target.
    """
    try:
        target = start
        if event.anchor is not None:
            target = add_months(start, event.months) + timedelta(days=event.days)
        return target, target - timedelta(days=event.window_before), target + timedelta(days=event.window_after)
    except (OverflowError, ValueError):
        raise InputError(f"record {participant!r}, event {event.name!r}: its target or window falls outside "
                         "the calendar (years 1-9999); check the record's dates") from None


def participant_visits(participant: str, arm: str | None, actual: Mapping[str, Any], on: date,
                       schedule: Schedule | None = None, withdrawn: Any = None) -> list[Visit]:
    """The schedule of one participant on date ``on`` from their recorded (actual) dates.

    ``actual`` maps event name -> date (or empty). The first event's date is required. Unknown
    event names and dates out of study order raise InputError naming the record. Arm-specific
    events appear only once the arm is known (after randomization). ``withdrawn``: the date the
    participant withdrew (or empty); from that date on nothing is owed (state ``withdrawn``).
    """
    schedule = schedule or Schedule()
    names = set(schedule.names)
    unknown = sorted(set(actual) - names)
    if unknown:
        raise InputError(f"record {participant!r}: unknown event(s) {', '.join(unknown)} "
                         f"(expected {', '.join(schedule.names)})")
    if arm is not None and arm not in ARMS:
        raise InputError(f"record {participant!r}: arm must be one of {', '.join(ARMS)}")
    dates = {name: parse_date(value, participant, name) for name, value in actual.items()}
    first = schedule.events[0].name
    if dates.get(first) is None:
        raise InputError(f"record {participant!r}: no {first!r} date (the schedule starts from it)")
    ordered = [(n, dates[n]) for n in STUDY_ORDER if n in names and dates.get(n) is not None]
    for (a, da), (b, db) in zip(ordered, ordered[1:]):
        if db < da:
            raise InputError(f"record {participant!r}: dates out of order ({b} before {a})")
    if arm is None and any(dates.get(e.name) for e in schedule.events if set(e.arms) != set(ARMS)):
        raise InputError(f"record {participant!r}: arm-specific visit dated but no arm recorded")
    if dates.get("randomization") is not None and arm is None:
        raise InputError(f"record {participant!r}: randomized but no arm recorded")
    left = parse_date(withdrawn, participant, WITHDRAWN)
    if left is not None:
        if left < dates[first]:
            raise InputError(f"record {participant!r}: withdrawn before the {first!r} date")
        after = [n for n, d in dates.items() if d is not None and d > left]
        if after:
            raise InputError(f"record {participant!r}: {', '.join(after)} dated after the withdrawal date")
    left_by_then = left is not None and left <= on
    anchor_dates: dict[str, date] = {}
    visits = []
    for event in schedule.events:
        start = dates[event.name] if event.anchor is None else anchor_dates[event.anchor]
        target, opens, closes = _target(start, event, participant)
        done = dates.get(event.name)
        anchor_dates[event.name] = done or target
        if set(event.arms) != set(ARMS) and (arm is None or arm not in event.arms):
            continue
        if event.anchor is not None and done is not None and event.anchor in dates and \
                dates.get(event.anchor) is not None and done < dates[event.anchor]:
            raise InputError(f"record {participant!r}: dates out of order ({event.name} before {event.anchor})")
        if done is not None:
            state = "done"
        elif left_by_then and closes >= left:
            state = "withdrawn"        # still owed on the withdrawal date: no longer owed
        elif on < opens:
            state = "upcoming"
        elif on <= target:
            state = "due"
        elif on <= closes:
            state = "overdue"
        else:
            state = "missed"
        visits.append(Visit(participant, arm, event.name, event.label or event.name, target, opens, closes,
                            done, state))
    return visits


def schedule_report(records: Iterable[Mapping[str, Any]] | ParticipantsTable, on: date,
                    schedule: Schedule | None = None, id_field: str = "participant", rows: Sequence[int] | None = None,
                    source: str = "participants") -> ScheduleReport:
    """Visits of many participants on ``on``. Each record: ``participant``, ``arm`` (empty before
    randomization), optionally ``withdrawn`` (the date the participant withdrew) and one column per
    event holding the actual date when it happened (a :class:`ParticipantsTable` from
    :func:`read_participants` brings its own row numbers and file name). ``rows`` numbers the
    records for messages (default 2, 3, ... under a header row)."""
    schedule = schedule or Schedule()
    if isinstance(records, ParticipantsTable):
        records, rows, source = records.records, records.rows, records.source
    records = list(records)
    numbers = list(rows) if rows is not None else list(range(2, len(records) + 2))
    visits: list[Visit] = []
    withdrawals: list[tuple[str, date]] = []
    seen: dict[str, int] = {}
    for row, record in zip(numbers, records):
        pid = record.get(id_field)
        if pid is None or (isinstance(pid, float) and math.isnan(pid)) or str(pid).strip() == "":
            raise InputError(f"{source} row {row}: no {id_field!r}")
        pid = participant_id(pid, f"{source} row {row}, column {id_field!r}")  # no tab/escape in the listing
        if pid in seen:
            raise InputError(f"record {pid!r}: listed twice ({source} rows {seen[pid]} and {row})")
        seen[pid] = row
        arm = record.get("arm")
        arm = None if arm is None or (isinstance(arm, float) and math.isnan(arm)) or str(arm).strip() == "" \
            else str(arm).strip()
        actual = {k: v for k, v in record.items() if k not in (id_field, "arm", WITHDRAWN)}
        left = parse_date(record.get(WITHDRAWN), pid, WITHDRAWN)
        visits.extend(participant_visits(pid, arm, actual, on, schedule, withdrawn=left))
        if left is not None and left <= on:
            withdrawals.append((pid, left))
    return ScheduleReport(on, tuple(visits), tuple(withdrawals))
