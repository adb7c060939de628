"""The adverse-event pages: the sites' list (filter serious / open), record one, its detail with
the audit history, change one with a reason. Views parse, call the services and render; refused
-> the form again with the reason and nothing stored; done -> POST/redirect/GET with a message."""

from __future__ import annotations

from datetime import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from prt.vocabulary import ARM_NAMES
from prt.web.errors import Refused
from prt.web.safety import access, forms, services
from prt.web.safety import vocabulary as v
from prt.web.safety.models import AdverseEvent

#: Severity options grouped by scale (a site uses one).
SEVERITY_GROUPS = (("Three-point scale", ("mild", "moderate", "severe")),
                   ("CTCAE v5.0 grade", ("grade_1", "grade_2", "grade_3", "grade_4", "grade_5")))
#: Most events listed on one page (newest onset first); the filters narrow it.
LIST_LIMIT = 500


def _flag(value: str) -> bool:
    return value in ("1", "on", "yes", "true")


@login_required
@require_http_methods(["GET", "HEAD"])
def event_list(request):
    """The events of the user's sites (or one site), newest onset first; filter serious and open."""
    sites = list(access.readable_sites(request.user))
    code = request.GET.get("site", "")
    chosen = next((s for s in sites if s.code == code), None)
    if code and chosen is None:
        raise Http404("no such site among yours")
    serious, open_only = _flag(request.GET.get("serious", "")), _flag(request.GET.get("open", ""))
    events = AdverseEvent.objects.select_related("participant__site").filter(
        participant__site__in=[chosen] if chosen else sites)
    if serious:
        events = events.filter(serious=True)
    if open_only:
        events = events.filter(end_date__isnull=True)
    total = events.count()
    shown = list(events[:LIST_LIMIT])
    writer_sites = [s for s in sites if access.can_write(request.user, s.pk)]
    return render(request, "safety/list.html", {
        "sites": sites, "chosen": chosen, "serious": serious, "open": open_only, "rows": [_row(e) for e in shown],
        "total": total, "limited": total > len(shown), "can_record": bool(writer_sites),
        "pending": sum(1 for e in shown if e.report_pending)})


def _row(event: AdverseEvent) -> dict:
    return {"event": event, "severity": v.label(v.SEVERITIES, event.severity),
            "relatedness": v.label(v.RELATEDNESS, event.relatedness), "outcome": v.label(v.OUTCOMES, event.outcome),
            "deadline": _local(event.report_deadline, event), "overdue": _overdue(event)}


def _local(instant: datetime | None, event: AdverseEvent):
    import zoneinfo

    if instant is None:
        return None
    # naive wall-clock time at the site: the template's date filter would convert an aware one to UTC
    return timezone.localtime(instant, zoneinfo.ZoneInfo(event.participant.site.timezone)).replace(tzinfo=None)


def _overdue(event: AdverseEvent) -> bool:
    deadline = event.report_deadline
    return event.report_pending and deadline is not None and timezone.now() > deadline


def _form_page(request, *, event=None, person=None, values=None, study_id="", error=None, status=200,
               reason=""):
    values = values or {}
    site = event.participant.site if event else (person.site if person else None)
    today = site.today() if site else timezone.localdate()
    severities = [{"label": name, "options": [(c, v.SEVERITIES[c]) for c in codes]} for name, codes in SEVERITY_GROUPS]
    return render(request, "safety/form.html", {
        "event": event, "person": person, "study_id": study_id, "values": values, "today": today,
        "severity_groups": severities, "criteria": list(v.SAE_CRITERIA.items()),
        "relatedness": list(v.RELATEDNESS.items()), "actions": list(v.ACTIONS.items()),
        "outcomes": list(v.OUTCOMES.items()), "reason": reason,
        "error": forms.message(error) if error else "", "error_field": error.field if error else "",
        "version": event.updated_at.isoformat() if event else "",
        "max_description": v.DESCRIPTION_MAX}, status=status)


def _posted(request) -> dict:
    """The posted values as the form shows them again after a refusal (strings, ticked criteria)."""
    data = {k: request.POST.get(k, "") for k in v.FIELDS if k != "sae_criteria"}
    data["sae_criteria"] = request.POST.getlist("sae_criteria")
    return data


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def record(request):
    """Record an adverse event for a person of one of the coordinator's sites (study id in the form)."""
    access.writer_site_ids(request.user)
    if request.method != "POST":
        return _form_page(request, study_id=request.GET.get("study_id", "")[:32], values={"serious": "",
                                                                                       "expected": ""})
    study_id = request.POST.get("study_id", "").strip()
    posted = _posted(request)
    person = None
    try:
        if not study_id:
            raise Refused("study_id", "required: the participant's study id")
        try:
            person = access.person_for_recording(request.user, study_id)
        except Http404:
            raise Refused("study_id", "no such person at your sites", status=404) from None
        event = services.record(person, forms.values_from_form(request.POST), actor=request.user)
    except Refused as exc:
        return _form_page(request, person=person, values=posted, study_id=study_id[:32], error=exc,
                          status=exc.status)
    messages.success(request, f"Adverse event {event.pk} recorded for {person.study_id}.")
    return redirect("safety-detail", event_id=event.pk)


@login_required
@require_http_methods(["GET", "HEAD"])
def detail(request, event_id: int):
    event = access.event_for(request.user, event_id)
    history = []
    for audit in services.history(event):
        changes = [{"field": forms.LABELS.get(name, name.replace("_", " ").capitalize()),
                    "old": _shown(name, old), "new": _shown(name, new)}
                   for name, (old, new) in audit.changes.items() if name not in ("participant", "reported_by")]
        history.append({"audit": audit, "at": _local(audit.at, event), "changes": changes})
    return render(request, "safety/detail.html", {
        **_row(event), "history": history, "can_write": access.can_write(request.user, event.participant.site_id),
        "criteria": [v.label(v.SAE_CRITERIA, c) for c in event.sae_criteria],
        "action": v.label(v.ACTIONS, event.action_taken), "arm": ARM_NAMES.get(event.participant.arm, ""),
        "reported_at": _local(event.reported_at, event)})


def _shown(name: str, value) -> str:
    """An audited value as the history shows it (codes as labels; empty as a dash)."""
    vocabularies = {"severity": v.SEVERITIES, "relatedness": v.RELATEDNESS, "action_taken": v.ACTIONS,
                    "outcome": v.OUTCOMES}
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if name in vocabularies:
        return v.label(vocabularies[name], value)
    if name == "sae_criteria":
        return "; ".join(v.label(v.SAE_CRITERIA, c) for c in value)
    return str(value)


def _form_values(event: AdverseEvent) -> dict:
    values = services.current_values(event)
    for name in ("onset_date", "end_date", "sae_reported_on"):
        values[name] = values[name].isoformat() if values[name] else ""
    for name in ("serious", "expected"):
        values[name] = "yes" if values[name] else "no"
    return values


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def edit(request, event_id: int):
    """Change an event: every field may be corrected; a reason is required and audited."""
    event = access.event_for(request.user, event_id, write=True)
    if request.method != "POST":
        return _form_page(request, event=event, values=_form_values(event))
    reason = request.POST.get("reason", "")
    try:
        try:
            version = datetime.fromisoformat(request.POST.get("version", ""))
        except ValueError:
            raise Refused("version", "the form was incomplete; open the event again") from None
        result = services.change(event, forms.values_from_form(request.POST), reason=reason, actor=request.user,
                                 version=version)
    except Refused as exc:
        return _form_page(request, event=event, values=_posted(request), error=exc, status=exc.status,
                          reason=reason)
    if result.outcome == "unchanged":
        messages.info(request, "Nothing changed: the values sent are the ones recorded.")
    else:
        messages.success(request, f"Adverse event {event.pk} changed.")
    return redirect("safety-detail", event_id=event.pk)
