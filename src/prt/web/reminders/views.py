"""Reminder pages: the coordinator's list and a person's contact form; the participant's own choice.

Who sees the address (patient data): the coordinators of the person's site (enrolment.access:
another site 404, no coordinator role 403) and the participant on their own page; pages holding it
are never cached. Views parse, call services and render; a refusal shows the page again with the
reason and its status, nothing stored; a change redirects (POST/redirect/GET) with a message.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from prt.web.accounts.models import Site
from prt.web.charts import long_date
from prt.web.enrolment import access
from prt.web.errors import Refused
from prt.web.participants.access import own_participant
from prt.web.participants.models import STATUS_LABELS, Participant
from prt.web.questionnaires import battery
from prt.web.reminders import services
from prt.web.reminders.models import ReminderContact, ReminderLog

#: Rows of a person's reminder history shown on their page.
HISTORY_ROWS = 20


#: A log row's status as the page says it.
SEND_LABELS = {"sent": "sent", "failed": "not sent (retried on the next run)", "sending": "being sent"}


def _label(event: str) -> str:
    """The schedule's label of an event (prt.trial.schedule), capitalised; the name if unknown."""
    labels = {e.name: e.label or e.name for e in battery.schedule().events}
    label = labels.get(event, event)
    return label[:1].upper() + label[1:]


def _state(contact) -> str:
    if contact is None:
        return "No address recorded"
    return "On" if contact.opted_in else "Off (opted out)"


@login_required
@require_http_methods(["GET", "HEAD"])
def index(request):
    """The coordinator's sites: each person who may get reminders, whether they do, the last one sent."""
    ids = access.require_coordinator(request.user)
    sites = []
    for site in Site.objects.filter(pk__in=ids).order_by("code"):
        people = list(Participant.objects.filter(site=site, status__in=services.CONTACT_STATUSES).order_by("study_id"))
        contacts = {c.participant_id: c for c in ReminderContact.objects.filter(participant__site=site)
                    .only("participant_id", "opted_in")}
        last = {}
        for pk, day in ReminderLog.objects.filter(participant__site=site, status="sent") \
                .values_list("participant_id", "day").order_by("participant_id", "day"):
            last[pk] = day
        sites.append({"site": site, "people": [
            {"study_id": p.study_id, "status": STATUS_LABELS[p.status], "state": _state(contacts.get(p.pk)),
             "on": p.pk in contacts and contacts[p.pk].opted_in,
             "last": long_date(last[p.pk]) if p.pk in last else ""} for p in people]})
    return render(request, "reminders/index.html", {"sites": sites, "interval": services.interval_days()})


def _person_page(request, person, *, values=None, error: Refused | None = None, status: int = 200):
    contact = services.contact_of(person)
    history = list(ReminderLog.objects.filter(participant=person).order_by("-day", "event")[:HISTORY_ROWS])
    values = values if values is not None else {
        "email": contact.email if contact else "", "opted_in": contact.opted_in if contact else True}
    return render(request, "reminders/person.html", {
        "person": person, "status_label": STATUS_LABELS[person.status], "contact": contact, "state": _state(contact),
        "values": values, "error": error, "can_record": person.status in services.CONTACT_STATUSES,
        "history": [{"day": long_date(r.day), "event": _label(r.event), "kind": r.kind,
                     "count": len(r.instruments.split()), "status": SEND_LABELS.get(r.status, r.status)}
                    for r in history]}, status=status)


@never_cache
@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def person(request, study_id: str):
    """A person's reminder contact: record or change the address and choice, or erase it (POST)."""
    target = access.person_for(request.user, study_id)
    if request.method != "POST":
        return _person_page(request, target)
    action = request.POST.get("action", "save")
    values = {"email": request.POST.get("email", ""), "opted_in": request.POST.get("opted_in") == "on"}
    try:
        if action == "erase":
            services.delete_contact(target, actor=request.user, reason=request.POST.get("reason", ""))
            messages.success(request, f"Reminder address of {target.study_id} erased.")
        elif action == "save":
            saved = services.save_contact(target, email=values["email"], opted_in=values["opted_in"],
                                          actor=request.user, reason=request.POST.get("reason", ""))
            messages.success(request, {"created": "Reminder contact recorded.", "changed": "Reminder contact changed.",
                                       "unchanged": "Nothing changed."}[saved.outcome])
        else:
            raise Refused("action", "expected save or erase")
    except Refused as exc:
        return _person_page(request, target, values=values if action == "save" else None, error=exc,
                            status=exc.status)
    return redirect("reminders-person", study_id=target.study_id)


@never_cache
@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def me(request):
    """The participant's own reminder choice: see the address, opt out or back in."""
    participant = own_participant(request.user)
    if participant is None:
        return render(request, "403.html", {"reason": "Only a participant has reminder settings here."}, status=403)
    error, status = None, 200
    if request.method == "POST":
        try:
            saved = services.set_own_choice(participant, opted_in=request.POST.get("opted_in") == "yes",
                                            actor=request.user)
        except Refused as exc:
            error, status = exc, exc.status
        else:
            if saved.outcome == "changed":
                messages.success(request, "E-mail reminders are on." if saved.contact.opted_in
                                 else "E-mail reminders are off. You will get no more reminder e-mails.")
            return redirect("reminders-me")
    contact = services.contact_of(participant)
    return render(request, "reminders/me.html", {"contact": contact, "error": error,
                                                 "can_opt_in": participant.status in services.CONTACT_STATUSES},
                  status=status)
