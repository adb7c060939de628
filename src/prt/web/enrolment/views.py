"""The coordinator's pages: their sites' people by status, the screening form, a person's page
(consent, enrol, randomize, withdraw). Views parse, call the services and render; refused -> the
page again with the reason and nothing stored; done -> POST/redirect/GET with a message."""

from __future__ import annotations

import uuid
from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from prt.vocabulary import ARM_NAMES
from prt.web.accounts.models import Site
from prt.web.enrolment import access, services
from prt.web.enrolment.models import Consent, Withdrawal
from prt.web.errors import Refused
from prt.web.participants.models import STATUS_LABELS, STATUSES, Participant
from prt.web.randomization import services as randomization

SCREENING_LABELS = {"eligible": "Eligible", "ineligible": "Ineligible", "incomplete": "Incomplete"}


@login_required
@require_http_methods(["GET", "HEAD"])
def home(request):
    """Each of the coordinator's sites with its people grouped by status."""
    ids = access.require_coordinator(request.user)
    sites = []
    for site in Site.objects.filter(pk__in=ids).order_by("code"):
        people = list(Participant.objects.filter(site=site).order_by("study_id"))
        groups = [{"status": s, "label": STATUS_LABELS[s], "people": [p for p in people if p.status == s]}
                  for s in STATUSES]
        sites.append({"site": site, "groups": groups, "count": len(people)})
    return render(request, "enrolment/home.html", {"sites": sites})


def _screen_page(request, site, *, values=None, error=None, status=200):
    values = values or {}
    labels = {f"answers.{q.name}": q.label for q in services.questions()} | {"study_id": "Study id"}
    error_text = f"{labels.get(error.field, error.field)}: {error.message}" if error is not None else ""
    fields = [{"q": q, "value": values.get(q.name, ""), "invalid": error is not None and error.field == f"answers.{q.name}"}
              for q in services.questions()]
    return render(request, "enrolment/screen.html", {
        "site": site, "fields": fields, "study_id": values.get("study_id", ""),
        "study_id_invalid": error is not None and error.field == "study_id", "error": error_text,
        "rule_set": f"{services.rules().name} version {services.rules().version}"}, status=status)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def screen(request, site_code: str):
    """The screening form of one of the coordinator's sites; a POST screens and opens the person."""
    site = access.site_for(request.user, site_code)
    if request.method != "POST":
        return _screen_page(request, site)
    values = {k: request.POST.get(k, "") for k in request.POST if k != "csrfmiddlewaretoken"}
    study_id = values.pop("study_id", "")
    try:
        screening = services.screen_person(site, study_id, values, request.user)
    except Refused as exc:
        return _screen_page(request, site, values={**values, "study_id": study_id}, error=exc, status=exc.status)
    messages.success(request, f"Screened {screening.participant.study_id}: {SCREENING_LABELS[screening.status]}.")
    return redirect("coordinator-person", study_id=screening.participant.study_id)


def _person_page(request, person, *, error=None, status=200):
    screening = services.latest_screening(person)
    consent = Consent.objects.filter(participant=person).first()
    withdrawal = Withdrawal.objects.filter(participant=person).first()
    allocation = randomization.allocation_of(person)
    today = person.site.today()
    labels = {q.name: q.label for q in services.questions()}
    context = {
        "person": person, "status_label": STATUS_LABELS[person.status], "today": today,
        "screening": screening,
        "screening_label": SCREENING_LABELS.get(screening.status, "") if screening else "",
        "reasons": services.reason_labels(screening.reasons) if screening else [],
        "missing": [labels.get(m, m) for m in screening.missing] if screening else [],
        "consent": consent, "withdrawal": withdrawal,
        # the arm is shown only once the allocation is made (allocation concealment, CONSORT item 9)
        "allocation": allocation, "arm_name": ARM_NAMES.get(allocation.arm, "") if allocation else "",
        "can_consent": screening is not None and screening.status == "eligible" and person.status != "withdrawn",
        "can_enrol": person.status == "screened" and screening is not None and screening.status == "eligible"
                     and consent is not None,
        "can_randomize": person.status == "enrolled" and allocation is None,
        "client_uuid": uuid.uuid4(),
        "error": error,
    }
    return render(request, "enrolment/person.html", context, status=status)


@login_required
@require_http_methods(["GET", "HEAD"])
def person(request, study_id: str):
    return _person_page(request, access.person_for(request.user, study_id))


def _date(value: str, field: str) -> date:
    try:
        if len(value) != 10:
            raise ValueError
        return date.fromisoformat(value)
    except ValueError:
        raise Refused(field, "expected a date as YYYY-MM-DD") from None


def _act(request, study_id, action):
    """Run ``action(person)``; refused -> the person page with the reason; done -> back to it."""
    target = access.person_for(request.user, study_id)
    try:
        message = action(target)
    except Refused as exc:
        return _person_page(request, target, error=exc, status=exc.status)
    messages.success(request, message)
    return redirect("coordinator-person", study_id=target.study_id)


@login_required
@require_POST
def consent(request, study_id: str):
    def action(target):
        services.record_consent(target, form_version=request.POST.get("form_version", ""),
                                consent_date=_date(request.POST.get("consent_date", ""), "consent_date"),
                                reason=request.POST.get("reason", ""), actor=request.user)
        return "Consent recorded."
    return _act(request, study_id, action)


@login_required
@require_POST
def enrol(request, study_id: str):
    def action(target):
        services.enrol(target, actor=request.user)
        return f"Enrolled {target.study_id}."
    return _act(request, study_id, action)


@login_required
@require_POST
def randomize(request, study_id: str):
    def action(target):
        try:
            client_uuid = uuid.UUID(request.POST.get("client_uuid", ""))
        except ValueError:
            raise Refused("client_uuid", "the form was incomplete; please try again") from None
        result = randomization.randomize(target, client_uuid=client_uuid, actor=request.user)
        return f"Randomized {target.study_id}: {ARM_NAMES[result.arm]}."
    return _act(request, study_id, action)


@login_required
@require_POST
def withdraw(request, study_id: str):
    def action(target):
        services.withdraw(target, withdrawal_date=_date(request.POST.get("withdrawal_date", ""), "withdrawal_date"),
                          reason=request.POST.get("reason", ""), actor=request.user)
        return f"Withdrawn {target.study_id}."
    return _act(request, study_id, action)


@login_required
@require_POST
def complete(request, study_id: str):
    def action(target):
        services.complete(target, actor=request.user)
        return f"{target.study_id} has completed the trial."
    return _act(request, study_id, action)
