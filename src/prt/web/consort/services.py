"""The live CONSORT flow: prt.trial.consort's counts built from the database at request time.

What each box counts, from what the platform records (also shown on the page, :data:`DEFINITIONS`):

- **Assessed for eligibility**: everyone screened at the sites, by their latest screening
  (enrolment.Screening); people with no screening record (added in the admin) are not in the flow
  and are counted apart (``unscreened``).
- **Excluded**: latest screening ineligible (each failed rule counted with its label from the rule
  set; a person may fail several), screening incomplete, *declined* (eligible, withdrew before
  enrolment), *other reasons* (eligible and not yet enrolled, enrolled and awaiting randomization:
  both still in progress; withdrew after enrolment, before randomization).
- **Allocated**: one line of the allocation log per person (randomization.AllocationEntry), the arm
  as the log holds it.
- **Received allocated intervention**: allocated, unless the person withdrew before their arm's
  first intervention visit on the schedule (prt.trial.schedule: the visit only that arm has,
  anchored on randomization; PRT physician evaluation at day 3, placebo injection at day 7; usual
  care adds nothing, so everyone allocated to it receives it). Session attendance is not recorded.
- **Discontinued**: withdrew after randomization (enrolment.Withdrawal.previous_status), during
  treatment (before the posttreatment target date) or during follow-up.
- **Lost to follow-up**: not withdrawn, and no primary-outcome score (prt.vocabulary.OUTCOME_SCORES:
  BPI average pain) at the latest assessment whose window has closed.
- **Analysed**: the primary analysis as prt.analysis.engine.primary_frame takes it (intention to
  treat): a primary-outcome score at pretreatment or posttreatment, and age and male/female sex
  from the eligible screening (the model adjusts for both).
- **Follow-up per timepoint**: completed = a primary-outcome score submitted at that timepoint;
  expected = its window has closed and the person had not withdrawn before it opened, or it is
  already submitted.

Speed: a fixed number of aggregate queries whatever the number of participants (screenings,
people, consents, withdrawals, allocations, submission counts per event, primary scores), then the
schedule (prt.trial.schedule.participant_visits) per randomized person in memory.
"""

from __future__ import annotations

import functools
import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Iterable, Sequence

from django.db.models import Count, Max
from django.utils import timezone

from prt.errors import InputError
from prt.trial.consort import ConsortCounts, consort_counts, diagram_text, render_consort
from prt.trial.eligibility import Enrolment, ScreeningLog, ScreeningResult
from prt.trial.schedule import participant_visits
from prt.vocabulary import ARM_NAMES, ARMS, EFFECT_TIMEPOINTS, OUTCOME_SCORES, TIMEPOINT_LABELS
from prt.web.accounts.models import Site
from prt.web.enrolment.models import Consent, Screening, Withdrawal
from prt.web.enrolment.services import rules
from prt.web.participants.models import Participant
from prt.web.questionnaires import battery
from prt.web.questionnaires.models import Submission
from prt.web.randomization.models import AllocationEntry

#: The primary outcome's (instrument, score) (Ashar et al. 2022: BPI average pain).
PRIMARY_INSTRUMENT, PRIMARY_SCORE = OUTCOME_SCORES["pain_intensity"]
#: Timepoints of the primary analysis (prt.analysis.engine.primary_frame: pre and post).
ANALYSIS_TIMEPOINTS = ("pre", "post")
#: Timepoints whose follow-up is counted (posttreatment and the follow-ups).
FOLLOW_UP_TIMEPOINTS = EFFECT_TIMEPOINTS
#: Sexes the primary model takes (prt.analysis.engine.primary_frame).
MODEL_SEXES = ("male", "female")

# Labels of the "other reasons" and the reasons inside arms (wording on the diagram).
ELIGIBLE_PENDING = "Eligible, not yet enrolled (in progress)"
ENROLLED_PENDING = "Enrolled, awaiting randomization (in progress)"
WITHDREW_BEFORE_ENROLMENT = "Declined: withdrew before enrolment"
WITHDREW_BEFORE_RANDOMIZATION = "Withdrew after enrolment, before randomization"
NOT_IN_LOG = "Recorded as randomized but not in the allocation log"
WITHDREW_DURING_TREATMENT = "Withdrew during treatment"
WITHDREW_DURING_FOLLOW_UP = "Withdrew during follow-up"
NO_PRIMARY = "No pain score (BPI) at pre- or posttreatment"
NO_COVARIATES = "Age or sex (male/female) not recorded"

#: Stages of a withdrawal (Withdrawal.previous_status) in the order a person passes them.
WITHDRAWAL_STAGES = {
    "screened": "Before enrolment (screened)",
    "ineligible": "After an ineligible screening",
    "enrolled": "After enrolment, before randomization",
    "randomized": "After randomization",
    "completed": "After completing the study",
}


def first_intervention_visits() -> dict[str, tuple[str, int] | None]:
    """Per arm, (label, days after randomization) of its first own visit anchored on randomization
    (prt.trial.schedule), or None when the arm adds no visit (usual care)."""
    out: dict[str, tuple[str, int] | None] = {}
    for arm in ARMS:
        visit = next((e for e in battery.schedule().events if e.anchor == "randomization" and set(e.arms) == {arm}
                      and e.months == 0), None)
        out[arm] = (visit.label or visit.name, visit.days) if visit else None
    return out


def definitions() -> list[tuple[str, str]]:
    """What each box counts (shown on the page and in the JSON download)."""
    parts = []
    for arm, visit in first_intervention_visits().items():
        parts.append(f"{ARM_NAMES[arm]}: {visit[0]}, day {visit[1]}" if visit else
                     f"{ARM_NAMES[arm]}: adds no visit, so everyone allocated receives it")
    received = "; ".join(parts)
    return [
        ("Assessed for eligibility", "Everyone screened at the site, by their latest screening. People with no "
                                     "screening record (added by an administrator) are not in the flow."),
        ("Excluded", "Not meeting inclusion criteria: the latest screening is ineligible (each failed criterion "
                     "is counted, so one person may appear under several). Screening incomplete: answers missing. "
                     "Declined: eligible people who withdrew before enrolment. Other reasons: people still in "
                     "progress (eligible, not yet enrolled; enrolled, awaiting randomization) and people who "
                     "withdrew after enrolment, before randomization."),
        ("Allocated", "One line of the allocation log per person; the arm as the log holds it."),
        ("Received allocated intervention", "Allocated, unless the person withdrew before their arm's first "
                                            f"intervention visit was due ({received}). The platform does not "
                                            "record session attendance."),
        ("Lost to follow-up", "Not withdrawn, and no pain score (BPI average pain, the primary outcome) at the "
                              "latest assessment whose window has closed."),
        ("Discontinued intervention", "Withdrew after randomization: during treatment (before the "
                                      "posttreatment target date) or during follow-up."),
        ("Analysed", "The primary analysis as prt runs it (intention to treat): a pain score (BPI average pain) "
                     "at pretreatment or posttreatment, and age and sex (male or female) from the screening."),
        ("Follow-up completed", "Per timepoint: a pain score (BPI) submitted at that timepoint. Expected: its "
                                "window has closed and the person had not withdrawn before it opened, or it is "
                                "already submitted."),
    ]


@dataclass
class LiveConsort:
    """The diagram's counts plus the tables shown beside it."""

    sites: list[Site]
    generated_at: datetime
    counts: ConsortCounts
    #: {rule code: label} of the rule set (the diagram's reason labels).
    reason_labels: dict[str, str]
    #: [{"timepoint", "label", "arms": {arm: {"completed", "expected"}}}]
    follow_up: list[dict[str, Any]] = field(default_factory=list)
    #: [{"stage", "label", "total", "arms": {arm: n}}]
    withdrawals: list[dict[str, Any]] = field(default_factory=list)
    #: People at the sites with no screening record (not in the flow).
    unscreened: int = 0

    @property
    def title(self) -> str:
        return "CONSORT flow: " + ", ".join(s.name for s in self.sites)

    def text(self) -> dict[str, Any]:
        return diagram_text(self.counts, self.reason_labels)

    def to_dict(self) -> dict[str, Any]:
        return {"sites": [s.code for s in self.sites],
                "generated_at": self.generated_at.isoformat(timespec="seconds").replace("+00:00", "Z"),
                "counts": self.counts.to_dict(), "reason_labels": self.reason_labels,
                "follow_up": self.follow_up, "withdrawals": self.withdrawals, "unscreened": self.unscreened,
                "definitions": [{"box": box, "counts": text} for box, text in definitions()]}

    def svg(self) -> bytes:
        return _render(json.dumps(self.counts.to_dict(), sort_keys=True),
                       json.dumps(self.reason_labels, sort_keys=True), self.title)


@functools.lru_cache(maxsize=32)
def _render(counts_json: str, labels_json: str, title: str) -> bytes:
    """The diagram's SVG (prt.trial.consort.render_consort), cached by its counts: drawing takes
    a few hundred milliseconds and the counts change only when the trial does."""
    counts = ConsortCounts.from_dict(json.loads(counts_json))
    return render_consort(counts, ("svg",), reason_labels=json.loads(labels_json), title=title)["svg"]


def reason_labels() -> dict[str, str]:
    """{rule code: description} of the trial's rule set (what the screening page shows)."""
    return {r.code: (r.description[:1].upper() + r.description[1:]) if r.description else r.code
            for r in rules().rules}


def _primary(scores: dict | None) -> Any:
    if not isinstance(scores, dict):
        return None
    return scores.get("total") if PRIMARY_SCORE == "total" else (scores.get("subscales") or {}).get(PRIMARY_SCORE)


def _model_covariates(answers: dict | None) -> bool:
    """Whether the primary model can take the person: an age and a male/female sex were recorded."""
    answers = answers or {}
    try:
        age = float(answers.get("age"))
    except (TypeError, ValueError):
        return False
    return age == age and str(answers.get("sex", "")).strip().lower() in MODEL_SEXES


def build(sites: Sequence[Site], now: datetime | None = None) -> LiveConsort:
    """The live flow of ``sites``; InputError (naming the record) if the records contradict."""
    now = now or timezone.now()
    site_ids = [s.pk for s in sites]
    by_site = {s.pk: s for s in sites}
    people = {pk: (study_id, status, site_id) for pk, study_id, status, site_id in
              Participant.objects.filter(site_id__in=site_ids).values_list("pk", "study_id", "status", "site_id")}
    latest: dict[int, tuple[str, list, dict]] = {}
    for pid, status, reasons, answers in (Screening.objects.filter(participant__site_id__in=site_ids)
                                          .order_by("screened_at", "id")
                                          .values_list("participant_id", "status", "reasons", "answers")):
        latest[pid] = (status, reasons or [], answers or {})
    consented = set(Consent.objects.filter(participant__site_id__in=site_ids).values_list("participant_id", flat=True))
    withdrawals = {pid: (stage, day) for pid, stage, day in Withdrawal.objects.filter(
        participant__site_id__in=site_ids).values_list("participant_id", "previous_status", "withdrawal_date")}
    allocations: dict[int, tuple[str, datetime]] = {}
    for pid, line, created in (AllocationEntry.objects.filter(participant__site_id__in=site_ids)
                               .values_list("participant_id", "line", "created_at")):
        allocations[pid] = (json.loads(line)["arm"], created)

    log = ScreeningLog()
    for pid, (status, reasons, _) in latest.items():
        study_id = people[pid][0]
        log.screenings[study_id] = ScreeningResult(study_id, status, tuple(reasons))
        if status != "eligible":
            continue
        log.enrolments[study_id] = _enrolment(study_id, pid in allocations, people[pid][1],
                                              withdrawals.get(pid, ("", None))[0], pid in consented)

    randomized = sorted(allocations)
    schedules = _schedules(randomized, people, {pid: arm for pid, (arm, _) in allocations.items()}, by_site, now)
    primary = _primary_scores(randomized)
    flows, follow_up = _flows(randomized, people, allocations, withdrawals, schedules, primary, latest, by_site)
    counts = consort_counts(log, {people[pid][0]: allocations[pid][0] for pid in randomized}, flows)
    return LiveConsort(
        sites=list(sites), generated_at=now, counts=counts, reason_labels=reason_labels(), follow_up=follow_up,
        withdrawals=_withdrawal_table(withdrawals, allocations), unscreened=len(set(people) - set(latest)))


def _enrolment(study_id: str, allocated: bool, status: str, withdrawn_at: str, consented: bool) -> Enrolment:
    """The enrolment decision of an eligible person as the diagram counts it (see the module doc).

    People not randomized are recorded as not enrolled with the reason the diagram shows for them
    (prt.trial.consort counts a reason starting "Declin" as declined, any other as other reasons).
    """
    if allocated:
        return Enrolment(study_id, True)
    if status == "withdrawn":
        if withdrawn_at in ("screened", "ineligible"):
            return Enrolment(study_id, False, WITHDREW_BEFORE_ENROLMENT)
        if withdrawn_at == "enrolled":
            return Enrolment(study_id, False, WITHDREW_BEFORE_RANDOMIZATION)
        return Enrolment(study_id, False, NOT_IN_LOG)
    if status == "screened":
        return Enrolment(study_id, False, ELIGIBLE_PENDING)
    if status == "enrolled":
        return Enrolment(study_id, False, ENROLLED_PENDING)
    return Enrolment(study_id, False, NOT_IN_LOG)


@dataclass(frozen=True)
class _Schedule:
    """What the flow needs of one randomized person's schedule."""

    post_target: date | None
    #: {timepoint: (window opens, window closes)} of the follow-up timepoints.
    windows: dict[str, tuple[date, date]]
    today: date


def _schedules(pids: Iterable[int], people: dict, arms: dict[int, str], sites: dict[int, Site],
               now: datetime) -> dict[int, _Schedule | None]:
    """Each randomized person's visits (prt.trial.schedule.participant_visits), the events dated as
    the questionnaires app dates them (battery: the first by the record's creation, the others by
    the day their last questionnaire was submitted), from two aggregate queries."""
    pids = list(pids)
    created = dict(Participant.objects.filter(pk__in=pids).values_list("pk", "created_at"))
    done: dict[int, dict[str, date]] = defaultdict(dict)
    sizes = {event: len(battery.instruments_at(event)) for event in battery.schedule().names}
    for row in (Submission.objects.filter(participant_id__in=pids).values("participant_id", "event")
                .annotate(n=Count("instrument", distinct=True), last=Max("day"))):
        if sizes.get(row["event"]) and row["n"] >= sizes[row["event"]]:
            done[row["participant_id"]][row["event"]] = row["last"]
    first = battery.first_event()
    out: dict[int, _Schedule | None] = {}
    for pid in pids:
        study_id, _, site_id = people[pid]
        site = sites[site_id]
        today = site.today(now)
        actual = {first: site.today(created[pid]), **{e: d for e, d in done[pid].items() if e != first}}
        try:  # targets and windows only: the withdrawal is judged by the flow itself
            visits = participant_visits(study_id, arms[pid], actual, today, battery.schedule())
        except InputError:  # dates the schedule cannot place (e.g. out of order): no windows known
            out[pid] = None
            continue
        by_event = {v.event: v for v in visits}
        out[pid] = _Schedule(post_target=by_event["post"].target if "post" in by_event else None,
                             windows={t: (by_event[t].window_open, by_event[t].window_close)
                                      for t in FOLLOW_UP_TIMEPOINTS if t in by_event}, today=today)
    return out


def _primary_scores(pids: Iterable[int]) -> dict[int, set[str]]:
    """{person: timepoints with a primary-outcome score}."""
    out: dict[int, set[str]] = defaultdict(set)
    for pid, event, scores in (Submission.objects.filter(participant_id__in=list(pids), instrument=PRIMARY_INSTRUMENT)
                               .values_list("participant_id", "event", "scores")):
        if _primary(scores) is not None:
            out[pid].add(event)
    return out


def _flows(pids, people, allocations, withdrawals, schedules, primary, latest, sites):
    """One prt.trial.consort.ParticipantFlow per randomized person, and the follow-up table."""
    from prt.trial.consort import ParticipantFlow

    first_visits = first_intervention_visits()
    table = {t: {arm: {"completed": 0, "expected": 0} for arm in ARMS} for t in FOLLOW_UP_TIMEPOINTS}
    flows = []
    for pid in pids:
        study_id, _, site_id = people[pid]
        arm, allocated_at = allocations[pid]
        schedule = schedules.get(pid)
        stage, left = withdrawals.get(pid, ("", None))
        withdrawn_after = left if stage in ("randomized", "completed") else None
        scored = primary.get(pid, set())
        # received: not withdrawn before the arm's first intervention visit was due
        received, not_received = True, ""
        first = first_visits.get(arm)
        if withdrawn_after is not None and first is not None:
            due = sites[site_id].today(allocated_at) + timedelta(days=first[1])
            if withdrawn_after < due:
                received, not_received = False, f"Withdrew before the {first[0]}"
        # follow-up: discontinued (withdrew), lost (missed the latest closed window), or completed
        follow_up, follow_up_reason = "completed", ""
        if withdrawn_after is not None:
            post = schedule.post_target if schedule else None
            follow_up = "discontinued"
            follow_up_reason = (WITHDREW_DURING_TREATMENT if post is None or withdrawn_after < post
                                else WITHDREW_DURING_FOLLOW_UP)
        elif schedule is not None:
            closed = [t for t, (_, closes) in schedule.windows.items() if closes < schedule.today]
            if closed and closed[-1] not in scored:
                follow_up, follow_up_reason = "lost", f"Missed the {TIMEPOINT_LABELS[closed[-1]].lower()} assessment"
        for t in FOLLOW_UP_TIMEPOINTS:
            done = t in scored
            window = schedule.windows.get(t) if schedule else None
            expected = done or (window is not None and window[1] < schedule.today
                                and (withdrawn_after is None or withdrawn_after >= window[0]))
            table[t][arm]["completed"] += done
            table[t][arm]["expected"] += bool(expected)
        # analysed: the primary model's data (a pre or post score; age and sex)
        analysed, not_analysed = True, ""
        if not scored & set(ANALYSIS_TIMEPOINTS):
            analysed, not_analysed = False, NO_PRIMARY
        elif not _model_covariates(latest.get(pid, ("", [], {}))[2]):
            analysed, not_analysed = False, NO_COVARIATES
        flows.append(ParticipantFlow(study_id, received, not_received, follow_up, follow_up_reason, analysed,
                                     not_analysed))
    follow_up_rows = [{"timepoint": t, "label": TIMEPOINT_LABELS[t], "arms": table[t]} for t in FOLLOW_UP_TIMEPOINTS]
    return flows, follow_up_rows


def _withdrawal_table(withdrawals: dict, allocations: dict) -> list[dict[str, Any]]:
    rows = []
    for stage, label in WITHDRAWAL_STAGES.items():
        pids = [pid for pid, (s, _) in withdrawals.items() if s == stage]
        arms = {arm: sum(1 for pid in pids if allocations.get(pid, ("",))[0] == arm) for arm in ARMS}
        rows.append({"stage": stage, "label": label, "total": len(pids), "arms": arms})
    return rows
