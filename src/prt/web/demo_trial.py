"""The demo trial's randomized cohort: people in every arm at every point of the schedule.

``prt web demo`` (``make run``) builds it once, through the same services as the pages, with the
clock set back to each step's day: screening, consent and enrolment on the person's first day,
the pretreatment questionnaires and randomization (minimization, the signed allocation log) a
week later, then each questionnaire battery of the visit schedule (``prt.trial.schedule``) on its
target day, a daily pain diary, and at the end a withdrawal or completion. So every row is
audited as any other, the allocation log verifies and the coordinator's lists, CONSORT and the
analyst's export see a trial in progress. Answers are simulated (fixed seed): pain eases most in
the PRT arm, less with placebo, little with usual care, as in the trial (Ashar et al. 2022).

Arms come from minimization, not from this file, so each cohort group adds people until every arm
has one in that state (bounded): the first PRT person whose post-treatment questionnaires are due
today is the demo participant's login.
"""

from __future__ import annotations

import random
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from unittest import mock
from zoneinfo import ZoneInfo

from django.db import transaction

from prt import instruments
from prt.vocabulary import ARMS
from prt.web.audit import trail

SEED = 2022
#: Pain change by the end of treatment, as a fraction of baseline pain (the trial's direction).
RELIEF = {"prt": 0.62, "placebo": 0.3, "usual_care": 0.12}
#: Instruments whose higher scores mean improvement (their answers follow relief, not pain).
IMPROVEMENT_SCALES = ("pgic", "tx_satisfaction", "ceq")
#: Free-text causes (IPQ-R causal item) before and after treatment, in the study's categories' spirit.
CAUSES_BEFORE = ("injury lifting boxes", "degenerated discs", "poor posture", "old sports injury", "arthritis",
                 "sitting all day at work", "weak core muscles", "a car accident")
CAUSES_AFTER_PRT = ("stress", "my brain's danger signals", "worry and fear of movement", "emotions I held in",
                    "learned pain pathways", "anxiety")


@dataclass(frozen=True)
class Group:
    """People who started ``start_days_ago`` days ago and stop at ``stage``.

    stage: ``post_due`` (post-treatment questionnaires due today), ``treatment`` (randomized this
    week), ``follow_up`` (the 1-month follow-up due), ``overdue`` (the 3-month follow-up overdue,
    the 2-month missed), ``withdrawn`` (after post-treatment), ``completed`` (every visit to 12 months).
    """

    prefix: str
    start_days_ago: int
    stage: str
    skip: tuple[str, ...] = ()
    #: The visit left unanswered (due or overdue today); None: follow the schedule to the end.
    until: str | None = None
    per_arm: int = 1
    limit: int = 10


GROUPS = (
    Group("DEMO-C", 460, "completed", skip=("2mo",)),
    Group("DEMO-X", 120, "withdrawn"),
    Group("DEMO-O", 150, "overdue", skip=("2mo",), until="3mo"),
    Group("DEMO-F", 76, "follow_up", until="1mo"),
    Group("DEMO-P", 40, "post_due", until="post"),
    Group("DEMO-T", 11, "treatment", until="post"),
)


@dataclass
class Person:
    study_id: str
    start: date
    baseline_pain: float
    rng: random.Random
    arm: str = ""
    randomized_on: date | None = None
    answered: list = field(default_factory=list)


@contextmanager
def at(moment: datetime):
    """Run the services as if it were ``moment`` (timezone.now is what they all read)."""
    with mock.patch("django.utils.timezone.now", return_value=moment):
        yield


def moment(site, day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=ZoneInfo(site.timezone))


def pain_on(person: Person, day: date) -> int:
    """The simulated daily rating: baseline until randomization, then easing by the arm over 4 weeks."""
    level = person.baseline_pain
    if person.randomized_on is not None and day > person.randomized_on:
        progress = min(1.0, (day - person.randomized_on).days / 28)
        level *= 1 - RELIEF[person.arm] * progress
    return int(min(10, max(0, round(level + person.rng.gauss(0, 0.8)))))


def answers_for(instrument_id: str, person: Person, day: date, event: str) -> dict[str, object]:
    """Answers to every item: severity follows the day's pain (improvement scales follow relief)."""
    inst = instruments.get(instrument_id)
    severity = pain_on(person, day) / 10
    if instrument_id in IMPROVEMENT_SCALES:
        severity = 1 - severity
    out: dict[str, object] = {}
    for item in inst.items:
        level = severity if not item.reversed else 1 - severity
        level = min(1.0, max(0.0, level + person.rng.gauss(0, 0.12)))
        if item.kind == "text":
            pool = CAUSES_AFTER_PRT if person.arm == "prt" and event != "pre" and person.rng.random() < 0.6 \
                else CAUSES_BEFORE
            out[item.number] = person.rng.choice(pool)
        elif item.options:
            codes = sorted(item.options)
            out[item.number] = codes[round(level * (len(codes) - 1))]
        else:
            out[item.number] = round(item.minimum + level * (item.maximum - item.minimum))
    return out


def build(site, coordinator, participant_login) -> dict[str, list[str]]:
    """Create the cohort at ``site`` (skipped when it exists); {stage: study ids} of those made."""
    from prt.web.participants.models import Participant

    from prt.web.enrolment.demo import ensure_key

    if Participant.objects.filter(study_id__startswith=GROUPS[0].prefix).exists():
        return {}
    ensure_key()
    rng = random.Random(SEED)
    today = site.today()
    made: dict[str, list[str]] = {}
    for group in GROUPS:
        arms_done: dict[str, int] = {}
        for number in range(1, group.limit + 1):
            if all(arms_done.get(arm, 0) >= group.per_arm for arm in ARMS):
                break
            start = today - timedelta(days=group.start_days_ago + (number - 1))
            person = Person(f"{group.prefix}{number:02d}", start, rng.uniform(5.0, 7.5), random.Random(rng.random()))
            login = None
            if group.stage == "post_due" and participant_login is not None and \
                    not Participant.objects.filter(user=participant_login).exists():
                login = participant_login  # given now; kept only if this person turns out PRT
            _follow(site, coordinator, person, group, today, rng, login)
            arms_done[person.arm] = arms_done.get(person.arm, 0) + 1
            made.setdefault(group.stage, []).append(person.study_id)
    return made


def _follow(site, coordinator, person: Person, group: Group, today: date, rng: random.Random, login) -> None:
    """One person's path through the trial, each step on its own (simulated) day."""
    from prt.web.enrolment import services as enrolment
    from prt.web.enrolment.demo import ELIGIBLE
    from prt.web.participants.models import Participant
    from prt.web.questionnaires import battery
    from prt.web.randomization import services as randomization

    answers = {**ELIGIBLE, "age": str(rng.randint(24, 68)), "sex": rng.choice(("female", "male")),
               "pain_avg_week": str(round(person.baseline_pain)), "back_pain_intensity": str(round(person.baseline_pain)),
               "opioid": rng.choice(("no", "no", "no", "yes"))}
    with at(moment(site, person.start, 9)):
        participant = enrolment.screen_person(site, person.study_id, answers, coordinator).participant
        enrolment.record_consent(participant, form_version="demo v1", consent_date=person.start, actor=coordinator)
        participant = enrolment.enrol(participant, actor=coordinator)
    withdraw_after_post = group.stage == "withdrawn"
    while True:
        participant.refresh_from_db()
        if participant.status not in ("enrolled", "randomized"):
            break
        upcoming = [v for v in battery.visits(participant, today)
                    if v.state != "done" and v.event != battery.first_event() and battery.instruments_at(v.event)
                    and v.event not in person.answered]
        if not upcoming:
            break
        visit = min(upcoming, key=lambda v: v.target)
        day = visit.target + timedelta(days=person.rng.randint(0, 2))
        if visit.event == group.until or day >= today:
            break  # due or overdue today: left for the demo's users
        person.answered.append(visit.event)
        if visit.event in group.skip:
            continue  # missed: nobody answered in its window
        _answer_battery(participant, person, visit.event, day)
        if visit.event == "pre":
            with at(moment(site, day, 11)):
                allocated = randomization.randomize(participant, client_uuid=uuid.uuid4(), actor=coordinator)
            person.arm, person.randomized_on = allocated.arm, day
            if login is not None and person.arm == "prt":
                participant.refresh_from_db()
                participant.user = login
                participant.save(update_fields=["user"])
        if visit.event == "post" and withdraw_after_post:
            withdrawal_day = day + timedelta(days=9)
            with at(moment(site, withdrawal_day, 15)):
                enrolment.withdraw(participant, withdrawal_date=withdrawal_day,
                                   reason="demo: moved away and could not continue", actor=coordinator)
            break
    last_day = today - timedelta(days=1)
    participant.refresh_from_db()
    if group.stage == "completed":
        with at(moment(site, today, 8)):
            enrolment.complete(participant, actor=coordinator)
        last_day = person.randomized_on + timedelta(days=35)
    elif participant.status == "withdrawn":
        last_day = participant.withdrawal.withdrawal_date
    _diary(site, participant, person, last_day)


def _answer_battery(participant, person: Person, event: str, day: date) -> None:
    from prt.web.questionnaires import battery, services

    when = moment(participant.site, day, 19)
    with at(when):
        for instrument_id in battery.instruments_at(event):
            services.submit(participant, instrument_id=instrument_id, event=event, client_uuid=uuid.uuid4(),
                            answers=answers_for(instrument_id, person, day, event), channel="web",
                            actor=participant.user, now=when)


def _diary(site, participant, person: Person, last_day: date) -> None:
    """Daily ratings from the first day to ``last_day`` (about one day in ten missed), audited."""
    from prt.web.diary.models import PainRating

    person.rng = random.Random(person.baseline_pain)  # the diary's own stream, the same on every run
    rows = []
    day = person.start
    while day <= last_day:
        if person.rng.random() >= 0.1:
            when = moment(site, day, 20)
            rows.append(PainRating(participant=participant, day=day, rating=pain_on(person, day),
                                   created_at=when, updated_at=when))
        day += timedelta(days=1)
    with transaction.atomic():
        for entry in PainRating.objects.bulk_create(rows):
            trail.record(None, "create", entry, trail.diff(None, trail.snapshot(entry)), "demo data (simulated)")
