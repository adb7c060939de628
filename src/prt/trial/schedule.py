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
"""

from __future__ import annotations

import calendar
import math
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from typing import Any, Iterable, Mapping

from prt.errors import InputError

ARMS = ("prt", "placebo", "usual_care")
STATES = ("done", "upcoming", "due", "overdue", "missed")


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
        for i, event in enumerate(self.events):
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
        """Events from a mapping ``{"events": [{name, anchor, months, days, window_before, ...}]}``."""
        if not isinstance(spec, Mapping) or not isinstance(spec.get("events"), list):
            raise InputError(f"{source}: expected a mapping with an 'events' list")
        events = []
        for i, e in enumerate(spec["events"], start=1):
            if not isinstance(e, Mapping) or "name" not in e:
                raise InputError(f"{source}: event {i} needs a name")
            unknown = sorted(set(e) - {f for f in Event.__dataclass_fields__})
            if unknown:
                raise InputError(f"{source}: event {e['name']!r}: unknown key(s) {', '.join(unknown)}")
            try:
                events.append(Event(
                    name=str(e["name"]), anchor=None if e.get("anchor") is None else str(e["anchor"]),
                    months=int(e.get("months", 0)), days=int(e.get("days", 0)),
                    window_before=int(e.get("window_before", 0)), window_after=int(e.get("window_after", 0)),
                    arms=tuple(e.get("arms", ARMS)), label=str(e.get("label", "")),
                ))
            except InputError:
                raise
            except (TypeError, ValueError):
                raise InputError(f"{source}: event {e['name']!r}: months, days and windows must be integers") from None
        return cls(tuple(events))


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
                "counts": {state: len(self.where(state)) for state in STATES}}


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
        if len(text) > 10 and text[10] not in "T ":
            raise ValueError(text)
        return date.fromisoformat(text[:10])
    except ValueError:
        raise InputError(f"record {participant!r}, event {event!r}: expected a date YYYY-MM-DD") from None


def participant_visits(participant: str, arm: str | None, actual: Mapping[str, Any], on: date,
                       schedule: Schedule | None = None) -> list[Visit]:
    """The schedule of one participant on date ``on`` from their recorded (actual) dates.

    ``actual`` maps event name -> date (or empty). The first event's date is required. Unknown
    event names and dates out of study order raise InputError naming the record. Arm-specific
    events appear only once the arm is known (after randomization).
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
    anchor_dates: dict[str, date] = {}
    visits = []
    for event in schedule.events:
        if event.anchor is None:
            target = dates[event.name]
        else:
            target = add_months(anchor_dates[event.anchor], event.months) + timedelta(days=event.days)
        done = dates.get(event.name)
        anchor_dates[event.name] = done or target
        if set(event.arms) != set(ARMS) and (arm is None or arm not in event.arms):
            continue
        if event.anchor is not None and done is not None and event.anchor in dates and \
                dates.get(event.anchor) is not None and done < dates[event.anchor]:
            raise InputError(f"record {participant!r}: dates out of order ({event.name} before {event.anchor})")
        opens, closes = target - timedelta(days=event.window_before), target + timedelta(days=event.window_after)
        if done is not None:
            state = "done"
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


def schedule_report(records: Iterable[Mapping[str, Any]], on: date, schedule: Schedule | None = None,
                    id_field: str = "participant") -> ScheduleReport:
    """Visits of many participants on ``on``. Each record: ``participant``, ``arm`` (empty before
    randomization) and one column per event holding the actual date when it happened."""
    schedule = schedule or Schedule()
    visits: list[Visit] = []
    seen: set[str] = set()
    for i, record in enumerate(records, start=1):
        pid = record.get(id_field)
        if pid is None or str(pid).strip() in {"", "nan"}:
            raise InputError(f"participants row {i}: no {id_field!r}")
        pid = str(pid).strip()
        if pid in seen:
            raise InputError(f"record {pid!r}: listed twice")
        seen.add(pid)
        arm = record.get("arm")
        arm = None if arm is None or (isinstance(arm, float) and math.isnan(arm)) or str(arm).strip() == "" \
            else str(arm).strip()
        actual = {k: v for k, v in record.items() if k not in (id_field, "arm")}
        visits.extend(participant_visits(pid, arm, actual, on, schedule))
    return ScheduleReport(on, tuple(visits))
