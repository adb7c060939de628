"""The program's part of ``prt web demo`` (issue 14): PRT delivered to the demo cohort.

Called once the cohort exists (:func:`prt.web.demo_trial.build`, and the people randomized today):
:func:`build` gives ``demo-therapist`` a caseload (every PRT participant of the demo site), has
``demo-physician`` evaluate those randomized a week or more ago (referred to PRT; a draft for
those randomized in the last week, nothing yet for those randomized today), holds their sessions
on the trial schedule's planned days (notes, home practice, audio recorded) up to today or their
withdrawal, sets the next appointment, logs home practice,
and for the demo participant (``demo-participant``, a PRT participant randomized about five weeks
ago) also an evidence sheet, an exposure hierarchy and attempts that progress; then
``demo-rater`` draws the raters' sample (seed ``demo-2022``) and rates all but two of it.

Everything goes through the services the pages use, with the clock set back to each step's day
(:func:`prt.web.demo_trial.at`, and the services' ``now``), so every row is dated on its day and
has its audit event (stamped when the demo runs, as the rest of the demo's). Run again, it
duplicates nothing: an evaluation, a recorded session, a draw or a rating that exists is kept;
practice and attempts carry client UUIDs derived from the person and the day (a rerun replays
them); the evidence sheet and hierarchy are the same values (unchanged: nothing written).
Simulated with fixed seeds; no real patient's words.
"""

from __future__ import annotations

import random
import uuid
from datetime import date, timedelta

from prt.web.demo_trial import at, moment

#: The logins this part uses (created by prt.web.demo for every role in accounts.ROLES).
THERAPIST, PHYSICIAN, RATER, COORDINATOR, PARTICIPANT = (
    "demo-therapist", "demo-physician", "demo-rater", "demo-coordinator", "demo-participant")
SAMPLE_SEED = "demo-2022"
#: Sessions of the sample left for the rater to rate in the demo.
LEFT_TO_RATE = 2
#: Days of home practice simulated after the last session held.
AFTER_LAST_SESSION = 14
_NS = uuid.UUID("6f1c1d2e-3b7a-4b44-9a55-2b1f0e9d7c01")  # client UUIDs of the demo's practice (uuid5)

NOTES = {
    1: "Explained pain as the brain's protective output and the pain-fear cycle; started the evidence sheet.",
    2: "Went through the evidence kinds; the patient noticed the pain eases on weekends. First tracking.",
    3: "Seated somatic tracking with safety reappraisal; the patient found the lighter mood hard at first.",
    4: "Built the movement list; tracked while bending halfway. Some frustration with work discussed.",
    5: "Tracking during a short walk; talked about stress at work and its link to flare-ups.",
    6: "Savouring pleasant sensations; kindness towards oneself after a setback.",
    7: "Reviewed the evidence sheet; tracking while carrying a light bag. Fear clearly lower.",
    8: "Planned for setbacks; reviewed progress and what to keep practising.",
}
EVIDENCE = {
    "onset_stress_or_no_injury": ["Started the month my father was ill; no injury at all"],
    "inconsistency": ["Almost gone on holiday last summer", "Worse in the morning, better once absorbed at work"],
    "many_symptoms": ["Tension headaches", "Irritable bowel since my twenties"],
    "triggers": ["Worse on Sunday evenings before the work week"],
    "trigger_without_pain": ["Dug the garden for an hour and felt fine the next day"],
}
HIERARCHY = [
    {"id": "s1", "movement": "A ten-minute walk around the block", "fear": 3},
    {"id": "s2", "movement": "Bending to load the dishwasher", "fear": 5},
    {"id": "s3", "movement": "Carrying two bags of shopping", "fear": 7},
    {"id": "s4", "movement": "Lifting a laundry basket from the floor", "fear": 9},
]
#: (days after session 4, step, expected pain, actual pain, expected fear, actual fear).
ATTEMPTS = [
    (0, "s1", 5, 3, 4, 3), (2, "s1", 4, 2, 3, 1), (3, "s1", 3, 2, 2, 1),
    (5, "s2", 6, 4, 5, 3), (7, "s2", 5, 3, 4, 2), (9, "s2", 4, 2, 3, 2),
    (11, "s3", 7, 5, 7, 5), (13, "s3", 6, 4, 6, 4),
]


def _user(username: str):
    from prt.web.accounts.models import User

    return User.objects.get(username=username)


def _key(*parts) -> uuid.UUID:
    return uuid.uuid5(_NS, "/".join(str(p) for p in parts))


def build(site) -> dict[str, int]:
    """Deliver the program at the demo ``site``; counts of what this run wrote (0 on a rerun)."""
    from prt.web.participants.models import Participant
    from prt.web.program import services

    therapist, physician, rater = _user(THERAPIST), _user(PHYSICIAN), _user(RATER)
    coordinator = _user(COORDINATOR)
    login = _user(PARTICIPANT)
    today = site.today()
    counts = {"assigned": 0, "evaluations": 0, "sessions": 0, "practices": 0, "attempts": 0, "ratings": 0,
              "draws": 0}
    people = list(Participant.objects.select_related("site").filter(
        site=site, arm="prt", status__in=("randomized", "completed", "withdrawn")).order_by("study_id"))
    for person in people:
        start = services.randomized_on(person) or today
        with at(moment(site, start, 12)):
            if services.assign_therapist(person, therapist, actor=coordinator).outcome != "unchanged":
                counts["assigned"] += 1
        last = _last_day(person, today)
        evaluation_day = start + timedelta(days=3)
        if (today - start).days >= 7 and evaluation_day <= last:
            counts["evaluations"] += _evaluate(person, physician, evaluation_day)
            counts["sessions"] += _sessions(person, therapist, last, today)
            if person.status == "randomized":  # a participant logs their own practice while in the program
                rng = random.Random(person.study_id)
                counts["practices"] += _practice(person, last, rng, full=person.user_id == login.pk)
        elif (today - start).days >= 1 and services.evaluation_of(person) is None:  # begun: a draft
            with at(moment(site, today, 9)):
                services.save_evaluation(person, {"red_flags": {"tumour": False, "fracture": False}},
                                         physician=physician)
            counts["evaluations"] += 1
    mine = next((p for p in people if p.user_id == login.pk), None)
    if mine is not None and services.held_sessions(mine):
        counts["attempts"] += _participant_records(mine, today)
    counts["draws"], counts["ratings"] = _fidelity(site, rater, today)
    return counts


def _last_day(person, today: date) -> date:
    """The last day the program ran for ``person``: yesterday, or their withdrawal day."""
    from prt.web.questionnaires import battery

    left = battery.withdrawal_date(person)
    return min(today - timedelta(days=1), left) if left else today - timedelta(days=1)


def _evaluate(person, physician, day: date) -> int:
    from prt.web.program import services

    existing = services.evaluation_of(person)
    if existing is not None and existing.completed:
        return 0
    factors = {"central_sensitization_conditions": True, "stressful_onset": True, "inconsistency": True,
               "functional_features": person.study_id[-1] in "13579", "body_map": True, "innocuous_triggers": False}
    record = {"red_flags": {f: False for f in ("tumour", "fracture", "infection", "inflammatory_disease",
                                               "neurological_deficit")},
              "factors": factors, "education": ["pain_as_prediction", "real_not_blameworthy", "pain_fear_focus_cycle"],
              "imaging": {"reviewed": True, "findings": ["disc_bulge", "disc_degeneration"], "explained": True},
              "formulation": "centralized"}
    when = moment(person.site, day, 14)
    with at(when):
        services.save_evaluation(person, record, physician=physician, complete=True, evaluated_on=day, now=when)
    return 1


def _sessions(person, therapist, last: date, today: date) -> int:
    """Hold each session on its planned day up to ``last``; schedule the next one."""
    from prt.web.program import services
    from prt.web.program.content import curriculum

    c = curriculum()
    written = 0
    if not services.sessions_open(person)[0]:
        return 0
    for slot in services.calendar(person, today):
        if slot.state in ("held", "missed"):
            continue
        if slot.planned is None:
            break
        if slot.planned > last:
            if slot.planned >= today and person.status == "randomized" and slot.state == "planned":
                with at(moment(person.site, today, 8)):
                    services.reschedule(person, slot.number, slot.planned, actor=therapist)
                written += 1
            break
        plan = c.session(slot.number)
        extra = [s for s in plan.as_needed[:1]]
        when = moment(person.site, slot.planned, 15)
        with at(when):
            services.record_session(person, slot.number, {
                "outcome": "held", "held_on": slot.planned, "minutes": 60 if slot.number != 1 else 65,
                "steps": list(plan.steps) + extra, "assignments": list(plan.assignments),
                "notes": NOTES.get(slot.number, "Session held as planned."), "recorded": True},
                actor=therapist, now=when)
        written += 1
    return written


def _practice(person, last: date, rng: random.Random, *, full: bool) -> int:
    """Home practice between the sessions: the assignments set, most days (the demo participant
    every day but one in five; others about every third day), tracking with easing ratings."""
    from prt.web.program import services
    from prt.web.program.content import curriculum

    c = curriculum()
    held = services.held_sessions(person)
    written = 0
    for i, row in enumerate(held):
        end = held[i + 1].held_on - timedelta(days=1) if i + 1 < len(held) else \
            min(last, row.held_on + timedelta(days=AFTER_LAST_SESSION))
        day = row.held_on + timedelta(days=1)
        while day <= end:
            if rng.random() < (0.8 if full else 0.35):
                for assignment in row.assignments:
                    kind = c.assignment(assignment).kind
                    if kind == "gather_evidence" or (kind == "feared_movement"):
                        continue  # the evidence sheet and the attempts are their own records
                    if not full and kind != "somatic_tracking":
                        continue
                    data = {"day": day.isoformat(), "assignment": assignment,
                            "minutes": c.assignment(assignment).minutes + rng.choice((-2, 0, 0, 3))}
                    if kind == "somatic_tracking":
                        before = max(1, min(9, round(6 - 2.5 * i / max(1, len(held)) + rng.gauss(0, 0.8))))
                        fear = max(1, min(9, round(before - 1 + rng.gauss(0, 0.7))))
                        data.update(pain_before=before, pain_after=max(0, before - rng.choice((1, 1, 2, 2, 3, 0))),
                                    fear_before=fear, fear_after=max(0, fear - rng.choice((1, 2, 2, 3))),
                                    setting="movement" if row.number >= 4 else "seated")
                    when = moment(person.site, day, 19)
                    with at(when):
                        logged = services.log_practice(person, data, client_uuid=_key(person.study_id, day, assignment),
                                                       actor=person.user, now=when)
                    written += logged.outcome == "created"
            day += timedelta(days=1)
    return written


def _participant_records(person, today: date) -> int:
    """The demo participant's evidence sheet, movement list and attempts (after session 4)."""
    from prt.web.program import services

    held = {r.number: r for r in services.held_sessions(person)}
    first = held[min(held)]
    when = moment(person.site, first.held_on + timedelta(days=1), 20)
    with at(when):
        services.save_evidence(person, EVIDENCE, actor=person.user, now=when)
    if 4 not in held:
        return 0
    start = held[4].held_on
    with at(moment(person.site, start, 18)):
        services.save_hierarchy(person, {"steps": HIERARCHY}, actor=person.user, now=moment(person.site, start, 18))
    written = 0
    for offset, step, exp_pain, pain, exp_fear, fear in ATTEMPTS:
        day = start + timedelta(days=offset)
        if day >= today:
            break
        when = moment(person.site, day, 18)
        with at(when):
            logged = services.log_attempt(person, {"step": step, "day": day.isoformat(), "expected_pain": exp_pain,
                                                   "actual_pain": pain, "expected_fear": exp_fear,
                                                   "actual_fear": fear},
                                          client_uuid=_key(person.study_id, "attempt", day, step), actor=person.user,
                                          now=when)
        written += logged.outcome == "created"
    return written


def _fidelity(site, rater, today: date) -> tuple[int, int]:
    """The raters' sample (once) and ratings of all but LEFT_TO_RATE of its sessions."""
    from prt.web.program import services
    from prt.web.program.content import curriculum
    from prt.web.program.models import FidelityDraw, FidelityRating, ProgramSession

    draws = 0
    draw = FidelityDraw.objects.filter(site=site).first()
    if draw is None:
        if not services.eligible_sessions(site.pk):
            return 0, 0
        with at(moment(site, today, 9)):
            draw = services.draw_sample(site, seed=SAMPLE_SEED, actor=rater, reason="demo: the first draw")
        draws = 1
    ids = [e.id for e in curriculum().fidelity.elements]
    rng = random.Random(SAMPLE_SEED)
    ratings = 0
    for study_id, number in draw.sample[:max(0, len(draw.sample) - LEFT_TO_RATE)]:
        session = ProgramSession.objects.select_related("participant").filter(
            participant__study_id=study_id, number=number, status="held").first()
        if session is None or FidelityRating.objects.filter(session=session, rater=rater).exists():
            continue
        absent = set(rng.sample(ids[3:5], k=rng.choice((0, 1, 1, 2))))  # the as-needed elements vary
        if rng.random() < 0.15:
            absent.add("evidence")
        with at(moment(site, today, 10)):
            services.rate_session(session, draw, {e: e not in absent for e in ids}, rater=rater)
        ratings += 1
    return draws, ratings
