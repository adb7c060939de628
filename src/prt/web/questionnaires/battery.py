"""Which questionnaires a participant owes today: the trial's visit schedule x its assessment battery.

Sources (nothing re-declared here): the events, their targets and windows and the due / overdue /
missed rule are ``prt.trial.schedule`` (``participant_visits`` on the default ``Schedule``); the
instruments collected at each event are the trial's REDCap instrument-event mapping
(``prt.trial.redcap_dictionary.SCHEDULE``, protocol notes "Measures"). An event counts as done for
the schedule (and anchors the later events) on the day its last questionnaire was submitted.

The first event (eligibility, baseline session 1) is dated by the day the participant's record was
created at their site (screening); its questionnaires are taken at that in-person session, so they
are not phone tasks. Questionnaires are open while the participant's diary is (enrolled or
randomized), within each event's window.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from prt import instruments
from prt.trial.redcap_dictionary import ENROLLMENT_FORM, SCHEDULE
from prt.trial.schedule import Schedule, Visit, participant_visits
from prt.web.errors import Refused
from prt.web.participants.models import Participant

#: Visit states that make a questionnaire a task today (prt.trial.schedule.STATES).
OPEN_STATES = ("due", "overdue")


@lru_cache(maxsize=1)
def schedule() -> Schedule:
    return Schedule()


@lru_cache(maxsize=None)
def instruments_at(event: str) -> tuple[str, ...]:
    """The instruments collected at ``event``, in the mapping's order (e.g. "pgic" only at follow-ups)."""
    return tuple(form for form, events in SCHEDULE.items() if form != ENROLLMENT_FORM and event in events)


def first_event() -> str:
    return schedule().events[0].name


@dataclass(frozen=True)
class Task:
    """One questionnaire owed at one event: its window and state on the day asked."""

    instrument: str
    title: str
    event: str
    event_label: str
    state: str              # due | overdue
    target: date
    window_open: date
    window_close: date
    items: int


def schedule_start(participant: Participant) -> date:
    """The first event's date: the day the participant's record was created, at their site."""
    return participant.site.today(participant.created_at)


def submitted(participant: Participant) -> dict[tuple[str, str], date]:
    """{(event, instrument): day submitted} of the participant's submissions."""
    from prt.web.questionnaires.models import Submission

    return {(e, i): d for e, i, d in Submission.objects.filter(participant=participant)
            .values_list("event", "instrument", "day")}


def visits(participant: Participant, on: date, done: dict[tuple[str, str], date] | None = None) -> list[Visit]:
    """The participant's visits on ``on`` (prt.trial.schedule), events dated by completed batteries."""
    done = submitted(participant) if done is None else done
    actual = {first_event(): schedule_start(participant)}
    for event in schedule().names[1:]:
        battery = instruments_at(event)
        if battery and all((event, i) in done for i in battery):
            actual[event] = max(done[(event, i)] for i in battery)
    return participant_visits(participant.study_id, participant.arm or None, actual, on, schedule(),
                              withdrawn=withdrawal_date(participant))


def withdrawal_date(participant: Participant) -> date | None:
    """The day the participant withdrew (from then on nothing is owed), or None."""
    if participant.status != "withdrawn":
        return None
    from prt.web.enrolment.models import Withdrawal

    return Withdrawal.objects.filter(participant=participant).values_list("withdrawal_date", flat=True).first()


def tasks(participant: Participant, on: date | None = None) -> list[Task]:
    """The questionnaires due or overdue today, soonest window close first."""
    if not participant.diary_open:
        return []
    on = on or participant.site.today()
    done = submitted(participant)
    out = []
    for visit in visits(participant, on, done):
        if visit.state not in OPEN_STATES or visit.event == first_event():
            continue
        for instrument_id in instruments_at(visit.event):
            if (visit.event, instrument_id) in done:
                continue
            inst = instruments.get(instrument_id)
            out.append(Task(instrument_id, inst.title, visit.event, visit.label, visit.state, visit.target,
                            visit.window_open, visit.window_close, len(inst.items)))
    return sorted(out, key=lambda t: (t.window_close, t.event))


def open_task(participant: Participant, instrument_id: str, event: str, on: date | None = None) -> Task:
    """The task for (``event``, ``instrument_id``) if it may be answered today, else Refused naming why."""
    names = schedule().names
    if event not in names or event == first_event() or not instruments_at(event):
        raise Refused("event", "not an event with questionnaires on the schedule (expected one of "
                               f"{', '.join(e for e in names[1:] if instruments_at(e))})", status=404)
    if instrument_id not in instruments_at(event):
        raise Refused("instrument", f"not collected at {event} (expected one of "
                                    f"{', '.join(instruments_at(event))})", status=404)
    if not participant.diary_open:
        raise Refused("participant", "questionnaires are open only while enrolled or randomized", status=403)
    on = on or participant.site.today()
    done = submitted(participant)
    if (event, instrument_id) in done:
        raise Refused("instrument", "this questionnaire was already submitted for this visit", status=409)
    visit = next((v for v in visits(participant, on, done) if v.event == event), None)
    if visit is None:
        raise Refused("event", "not on this participant's schedule", status=404)
    if visit.state not in OPEN_STATES:
        if on < visit.window_open:
            why = f"its window opens on {visit.window_open.isoformat()}"
        elif visit.state == "withdrawn":
            why = "the participant has withdrawn"
        else:
            why = f"its window closed on {visit.window_close.isoformat()}"
        raise Refused("event", f"this questionnaire is not open today ({why})", status=403)
    inst = instruments.get(instrument_id)
    return Task(instrument_id, inst.title, event, visit.label, visit.state, visit.target, visit.window_open,
                visit.window_close, len(inst.items))
