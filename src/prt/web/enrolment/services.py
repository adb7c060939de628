"""The coordinator's rules: screening (judged by prt.trial.eligibility), consent, enrolment, withdrawal.

The form's questions are derived from the trial's rule set (``prt.trial.load_rules()``) and the
minimization config (``prt.trial.load_config()``): a field with a declared range is a number, a
yes/no rule's field is yes/no, a ``one_of`` rule's or a categorical factor's field is a choice.
Nothing about a criterion is written here: :func:`prt.trial.eligibility.screen` judges. Answers
are checked field by field first (so a refusal names the field the coordinator must fix) with the
domain's own checks (``FieldRange.check``, ``parse_number``, ``Factor.value_of``). Every change is
audited in its transaction; changing data already recorded needs a reason (ICH E6(R3) 4.2).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Mapping

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from prt.errors import InputError
from prt.trial.eligibility import RuleSet, parse_yes_no, load_rules, screen
from prt.trial.minimization import MinimizationConfig, load_config, parse_number
from prt.web.accounts.models import Site
from prt.web.audit import trail
from prt.web.enrolment.models import Consent, Screening, Withdrawal
from prt.web.errors import Refused
from prt.web.participants.models import Participant

#: The question each of the trial's screening fields asks (rule descriptions state the criterion,
#: not the question); a site's extra field without an entry is asked by its name.
QUESTIONS = {
    "age": "Age (years)",
    "sex": "Sex",
    "back_pain_half_days_6mo": "Back pain on at least half the days of the last 6 months?",
    "pain_avg_week": "Average back pain over the last week (0-10)",
    "back_pain_intensity": "Back pain intensity now (0-10)",
    "leg_pain_intensity": "Leg pain intensity now (0-10)",
    "mri_safe": "Safe to undergo MRI?",
    "autoimmune_condition": "Any autoimmune condition?",
    "metastatic_cancer_history": "Any history of metastatic cancer?",
    "opioid": "Currently taking opioids?",
}
YES_NO = ("yes", "no")
#: Audit reasons of the status changes the coordinator's actions make (the change is the action).
ENROL_REASON = "enrolled: eligible screening and consent recorded"
WITHDRAW_REASON = "withdrawn: {reason}"
COMPLETE_REASON = "completed: the final follow-up ({event}) is {state}"
#: Statuses in which a person may be screened again (before enrolment).
RESCREENABLE = ("screened", "ineligible")


@dataclass(frozen=True)
class Question:
    """One field of the screening form: ``kind`` is ``number``, ``yes_no`` or ``choice``."""

    name: str
    label: str
    kind: str
    min: float | None = None
    max: float | None = None
    choices: tuple[str, ...] = ()
    source: str = ""


@functools.lru_cache(maxsize=1)
def rules() -> RuleSet:
    """The trial's eligibility rules (package data; a site file is a later setting)."""
    return load_rules()


@functools.lru_cache(maxsize=1)
def config() -> MinimizationConfig:
    """The trial's minimization config (``prt.trial.TRIAL_CONFIG``: KL, the Boulder factors)."""
    return load_config()


def questions(rule_set: RuleSet | None = None, minimization: MinimizationConfig | None = None) -> list[Question]:
    """The screening form's fields: every field the active rules read, then the factors' fields."""
    rule_set, minimization = rule_set or rules(), minimization or config()
    kinds: dict[str, Question] = {}
    for rule in rule_set.active:
        for name in rule.fields:
            if name in kinds:
                continue
            if name in rule_set.ranges:
                r = rule_set.ranges[name]
                kinds[name] = Question(name, _label(name), "number", r.min, r.max, source=r.source)
            elif rule.check in ("is_true", "is_false"):
                kinds[name] = Question(name, _label(name), "yes_no", choices=YES_NO)
            elif rule.check == "one_of":
                kinds[name] = Question(name, _label(name), "choice", choices=tuple(rule.values))
            else:
                kinds[name] = Question(name, _label(name), "number")
    for factor in minimization.factors:
        name = factor.source_field
        if name in kinds:
            continue
        if factor.continuous:
            low, high = factor.bounds or (None, None)
            kinds[name] = Question(name, _label(name), "number", low, high, source=f"factor {factor.name}")
        elif set(factor.levels) == set(YES_NO):
            kinds[name] = Question(name, _label(name), "yes_no", choices=YES_NO)
        else:
            kinds[name] = Question(name, _label(name), "choice", choices=tuple(factor.levels))
    return list(kinds.values())


def _label(name: str) -> str:
    return QUESTIONS.get(name, name.replace("_", " ").capitalize())


def reason_labels(codes, rule_set: RuleSet | None = None) -> list[dict[str, str]]:
    """``[{code, label}]``: each failed rule's code with its description from the rule set."""
    by_code = {r.code: r.description or r.code for r in (rule_set or rules()).rules}
    return [{"code": code, "label": by_code.get(code, code)} for code in codes]


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def check_answers(raw: Mapping[str, Any], study_id: str = "?") -> dict[str, Any]:
    """The answers, each checked against its question; Refused naming the first bad field.

    Numbers are plain decimals within the declared range; yes/no fields take yes/no (or JSON
    true/false); choices one of their values; a blank answer is left out (the screening is then
    ``incomplete``, never silently ineligible). Unknown fields are refused.
    """
    by_name = {q.name: q for q in questions()}
    unknown = sorted(set(raw) - set(by_name))
    if unknown:
        raise Refused(f"answers.{unknown[0]}", f"unknown field (the fields are {', '.join(by_name)})")
    answers: dict[str, Any] = {}
    for name, question in by_name.items():
        value = raw.get(name)
        if _blank(value):
            continue
        field = f"answers.{name}"
        if question.kind == "number":
            if isinstance(value, bool) or not isinstance(value, (str, int, float)):
                raise Refused(field, "expected a number")
            try:
                number = parse_number(value, field)
            except InputError:
                raise Refused(field, "expected a number written with digits (e.g. 45 or 4.5)") from None
            if question.min is not None and not question.min <= number <= question.max:
                source = f" ({question.source})" if question.source else ""
                raise Refused(field, f"outside the declared range {question.min:g}-{question.max:g}{source}")
            answers[name] = int(number) if number.is_integer() else number
        elif question.kind == "yes_no":
            if not isinstance(value, (str, bool)):
                raise Refused(field, "expected yes or no")
            try:
                answers[name] = "yes" if parse_yes_no(value, study_id, name) else "no"
            except InputError:
                raise Refused(field, "expected yes or no") from None
        else:
            if not isinstance(value, str) or value.strip() not in question.choices:
                raise Refused(field, f"expected one of {', '.join(question.choices)}")
            answers[name] = value.strip()
    return answers


def check_study_id(study_id: Any) -> str:
    """A pseudonymous study id as the Participant model allows (Refused naming ``study_id``)."""
    if not isinstance(study_id, str) or not study_id.strip():
        raise Refused("study_id", "required (a pseudonymous id such as BOU-014)")
    study_id = study_id.strip()
    field = Participant._meta.get_field("study_id")
    try:
        field.run_validators(study_id)
        if len(study_id) > field.max_length:
            raise ValidationError("too long")
    except ValidationError:
        raise Refused("study_id", f"expected up to {field.max_length} letters, digits, hyphens and underscores "
                                  "(a pseudonym, never a name or clinic number)") from None
    return study_id


def _now_iso(now: datetime) -> str:
    return now.astimezone(timezone.get_fixed_timezone(0)).isoformat(timespec="seconds").replace("+00:00", "Z")


def screen_person(site: Site, study_id: Any, raw_answers: Any, actor, now: datetime | None = None) -> Screening:
    """Screen a new person (or one not yet enrolled again) at ``site``; the stored Screening.

    The person is created at ``site`` with status ``screened`` (eligible or incomplete) or
    ``ineligible``. Refused: a bad study id or answer (422), a study id of another site or of a
    person already enrolled (409). Nothing is written when it raises.
    """
    study_id = check_study_id(study_id)
    if not isinstance(raw_answers, Mapping):
        raise Refused("answers", "expected an object of field: answer")
    answers = check_answers(raw_answers, study_id)
    now = now or timezone.now()
    try:
        result = screen(study_id, answers, rules(), timestamp=_now_iso(now), factors=config().factors)
    except InputError as exc:  # the checks above mirror the domain's; this names the field anyway
        raise Refused("answers", str(exc).split(": ", 1)[-1]) from None
    new_status = "ineligible" if result.status == "ineligible" else "screened"
    with transaction.atomic():
        person = Participant.objects.select_for_update().filter(study_id=study_id).first()
        if person is None:
            person = Participant.objects.create(study_id=study_id, site=site, status=new_status)
            trail.record(actor, "create", person, trail.diff(None, trail.snapshot(person)))
        elif person.site_id != site.pk:
            raise Refused("study_id", "already used at another site; choose another id", status=409)
        elif person.status not in RESCREENABLE:
            raise Refused("study_id", f"already {person.status}; only people not yet enrolled are screened again",
                          status=409)
        elif person.status != new_status:
            before = trail.snapshot(person)
            person.status = new_status
            person.save(update_fields=["status"])
            trail.record(actor, "update", person, trail.diff(before, trail.snapshot(person)),
                         f"screened again: {result.status}")
        screening = Screening.objects.create(
            participant=person, status=result.status, reasons=list(result.reasons), missing=list(result.missing),
            answers=answers, factor_answers=dict(result.answers), rule_set=result.rule_set, screened_at=now,
            screened_by=actor if actor is not None and actor.is_authenticated else None)
        trail.record(actor, "create", screening, trail.diff(None, trail.snapshot(screening)))
    return screening


def latest_screening(person: Participant) -> Screening | None:
    return person.screenings.order_by("-screened_at", "-id").first()


def _reason(reason: Any) -> str:
    return reason.strip() if isinstance(reason, str) else ""


def record_consent(person: Participant, *, form_version: Any, consent_date: date, actor, reason: Any = "",
                   now: datetime | None = None) -> Consent:
    """Record (or, with a reason, correct) the consent of an eligible person not yet withdrawn.

    Refused: a blank form version, a date in the future at the site or before the latest
    screening, no eligible screening, a correction without a reason.
    """
    now = now or timezone.now()
    version = form_version.strip() if isinstance(form_version, str) else ""
    if not version or len(version) > Consent._meta.get_field("form_version").max_length:
        raise Refused("form_version", "required: the version of the consent form signed (up to 64 characters)")
    if not isinstance(consent_date, date):
        raise Refused("consent_date", "expected a date as YYYY-MM-DD")
    with transaction.atomic():
        person = Participant.objects.select_for_update().get(pk=person.pk)
        screening = latest_screening(person)
        if screening is None or screening.status != "eligible":
            raise Refused("participant", "consent is recorded only after an eligible screening", status=409)
        if person.status == "withdrawn":
            raise Refused("participant", "withdrawn: nothing more is recorded", status=409)
        if consent_date > person.site.today(now):
            raise Refused("consent_date", "in the future at the participant's site")
        if consent_date < person.site.today(screening.screened_at):
            raise Refused("consent_date", "before the eligible screening")
        existing = Consent.objects.filter(participant=person).first()
        if existing is None:
            consent = Consent.objects.create(participant=person, form_version=version, consent_date=consent_date,
                                             recorded_by=_user(actor), recorded_at=now)
            trail.record(actor, "create", consent, trail.diff(None, trail.snapshot(consent)))
            return consent
        if not _reason(reason):
            raise Refused("reason", "consent is already recorded; a correction needs a reason")
        before = trail.snapshot(existing)
        existing.form_version, existing.consent_date = version, consent_date
        existing.recorded_by, existing.recorded_at = _user(actor), now
        existing.save()
        changes = trail.diff(before, trail.snapshot(existing))
        trail.record(actor, "update", existing, changes, _reason(reason))
        return existing


def _user(actor):
    return actor if actor is not None and actor.is_authenticated else None


def enrol(person: Participant, *, actor) -> Participant:
    """Enrol a screened person whose latest screening is eligible and whose consent is recorded."""
    with transaction.atomic():
        person = Participant.objects.select_for_update().get(pk=person.pk)
        if person.status != "screened":
            raise Refused("participant", f"status is {person.status}; only a screened person is enrolled", status=409)
        screening = latest_screening(person)
        if screening is None or screening.status != "eligible":
            raise Refused("participant", "the latest screening is not eligible", status=409)
        if not Consent.objects.filter(participant=person).exists():
            raise Refused("participant", "record consent before enrolment", status=409)
        before = trail.snapshot(person)
        person.status = "enrolled"
        person.save(update_fields=["status"])
        trail.record(actor, "update", person, trail.diff(before, trail.snapshot(person)), ENROL_REASON)
    return person


def withdraw(person: Participant, *, withdrawal_date: date, reason: Any, actor,
             now: datetime | None = None) -> Withdrawal:
    """Withdraw a person (any status but withdrawn): the date, a reason; the arm is kept."""
    now = now or timezone.now()
    text = _reason(reason)
    if not text or len(text) > 1000:
        raise Refused("reason", "required: why the person is withdrawn (up to 1000 characters)")
    if not isinstance(withdrawal_date, date):
        raise Refused("withdrawal_date", "expected a date as YYYY-MM-DD")
    with transaction.atomic():
        person = Participant.objects.select_for_update().get(pk=person.pk)
        if person.status == "withdrawn":
            raise Refused("participant", "already withdrawn", status=409)
        if withdrawal_date > person.site.today(now):
            raise Refused("withdrawal_date", "in the future at the participant's site")
        withdrawal = Withdrawal.objects.create(participant=person, withdrawal_date=withdrawal_date, reason=text,
                                               previous_status=person.status, recorded_by=_user(actor),
                                               recorded_at=now)
        trail.record(actor, "create", withdrawal, trail.diff(None, trail.snapshot(withdrawal)))
        before = trail.snapshot(person)
        person.status = "withdrawn"
        person.save(update_fields=["status"])
        trail.record(actor, "update", person, trail.diff(before, trail.snapshot(person)),
                     WITHDRAW_REASON.format(reason=text))
    return withdrawal


def complete(person: Participant, *, actor, now: datetime | None = None) -> Participant:
    """Mark a randomized person as having completed the trial, once their last follow-up visit on
    the schedule (prt.trial.schedule: 12 months) is done or its window has closed (missed).

    Refused (409): not randomized, or the final visit still upcoming, due or overdue. The arm is kept.
    """
    from prt.web.questionnaires import battery

    now = now or timezone.now()
    with transaction.atomic():
        person = Participant.objects.select_for_update().select_related("site").get(pk=person.pk)
        if person.status != "randomized":
            raise Refused("participant", f"status is {person.status}; only a randomized person completes",
                          status=409)
        final = [v for v in battery.visits(person, person.site.today(now)) if battery.instruments_at(v.event)][-1]
        if final.state not in ("done", "missed"):
            raise Refused("participant", f"the final follow-up ({final.label}) is {final.state}; a person "
                                         f"completes once it is done or its window has closed", status=409)
        before = trail.snapshot(person)
        person.status = "completed"
        person.save(update_fields=["status"])
        trail.record(actor, "update", person, trail.diff(before, trail.snapshot(person)),
                     COMPLETE_REASON.format(event=final.event, state=final.state))
    return person
