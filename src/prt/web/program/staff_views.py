"""The staff's program pages (issue 14): the therapist's caseload, a patient's page with the
calendar of the sessions, recording a session; the physician's evaluation; the coordinator's
caseload assignment; the analyst's REDCap export. The fidelity rater's pages are in
fidelity_views.py. Views parse, call :mod:`services` and render (access.py decides who sees what).
"""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_http_methods, require_POST

from prt.program import evaluate
from prt.vocabulary import TIMEPOINTS
from prt.web.charts import long_date
from prt.web.diary import chart as diary_chart
from prt.web.diary import services as diary
from prt.web.errors import Refused
from prt.web.program import access, forms, services
from prt.web.program.content import curriculum
from prt.web.program.models import SESSION_STATUS_LABELS, Evaluation, ProgramExport, ProgramSession

REFERRAL_LABELS = {"refer": "Referred to PRT", "blocked": "Blocked: a red flag was found",
                   "not_indicated": "PRT not indicated (structural)", "incomplete": "Not complete"}
SUGGESTION_LABELS = {"start": "Start", "repeat": "Repeat the current step", "advance": "Advance a step",
                     "hold_off": "Hold off (review)", "complete": "Complete"}


#: The session form's fields as the page labels them, so a refusal names the field the therapist sees.
SESSION_LABELS = {"outcome": "The session was", "held_on": "Date held", "steps": "Steps delivered",
                  "assignments": "Home practice set", "notes": "Your notes", "recorded": "Audio recorded"}


def _label(exc: Refused, labels: dict | None = None) -> str:
    return f"{(labels or {}).get(exc.field) or exc.field.replace('_', ' ').capitalize()}: {exc.message}"


def _short(day, today=None) -> str:
    """"Thu 3 Dec": a calendar's date with the weekday (sessions are twice a week); the year only
    when it is not this year's."""
    if not day:
        return ""
    return f"{day:%a} {day.day} {day:%b}" + ("" if today is not None and day.year == today.year else f" {day.year}")


def _referral(person) -> dict:
    row = services.evaluation_of(person)
    if row is None:
        return {"state": "none", "label": "No evaluation yet", "row": None}
    if not row.completed:
        return {"state": "draft", "label": "Draft (not complete)", "row": row}
    return {"state": row.referral, "label": REFERRAL_LABELS[row.referral], "row": row,
            "date": long_date(row.evaluated_on)}


# ------------------------------------------------------------------------------------ therapist
@login_required
@require_http_methods(["GET", "HEAD"])
def caseload(request):
    """The therapist's own caseload: each patient's sessions, next date, evaluation and practice."""
    people = list(access.caseload(request.user))
    total = len(curriculum().sessions)
    rows = []
    for person in people:
        slots = services.calendar(person)
        upcoming = next((s for s in slots if s.state in ("scheduled", "planned")), None)
        held = sum(1 for s in slots if s.state == "held")
        week = services.practices(person)
        today = person.site.today()
        recent = [p for p in week if p.day > today - timedelta(days=7)]
        rows.append({"person": person, "held": held, "total": total, "referral": _referral(person),
                     "next": upcoming, "next_date": long_date(upcoming.when) if upcoming and upcoming.when else "",
                     "minutes": sum(p.minutes for p in recent), "practices": len(recent)})
    return render(request, "program/therapist/caseload.html", {"rows": rows})


def _patient_context(person) -> dict:
    c = curriculum()
    today = person.site.today()
    slots = services.calendar(person, today)
    progress = services.progress(person)
    hierarchy, attempts, exposure = services.exposure(person)
    entries = diary.history(person)
    from prt.web.program.views import done_since

    assigned = done_since(person, progress)
    open_, why_not = services.sessions_open(person)
    sheet = services.evidence_of(person)
    return {
        "person": person, "today": today,
        "slots": [{"slot": s, "date": _short(s.when, today), "planned": _short(s.planned, today)} for s in slots],
        "referral": _referral(person), "sessions_open": open_, "why_not": why_not, "progress": progress,
        "assigned": assigned, "since": long_date(progress.since) if progress.since else "",
        "by_assignment": [{"title": c.assignment(a.id).title if any(x.id == a.id for x in c.assignments) else a.id,
                           "practices": a.practices, "minutes": a.minutes}
                          for a in progress.practice.by_assignment],
        "hierarchy": hierarchy, "exposure": exposure,
        "exposure_steps": [{"step": s, "p": next(p for p in exposure.steps if p.id == s.id)}
                           for s in hierarchy.steps] if hierarchy else [],
        "suggestion": SUGGESTION_LABELS.get(exposure.suggestion, "") if exposure else "",
        "suggested_movement": hierarchy.step(exposure.step).movement if exposure and exposure.step else "",
        "attempts": len(attempts), "evidence": progress.evidence,
        "sheet_rows": [{"title": item.title, "examples": sheet.examples.get(item.id, ())} for item in c.evidence.items],
        "pain_svg": mark_safe(diary_chart.pain_chart_svg([diary_chart.Point(e.day, e.rating) for e in entries],
                                                         chart_id="patient-pain")),
        "pain_rows": [{"date": long_date(e.day), "rating": e.rating} for e in reversed(entries[-28:])],
    }


@login_required
@require_http_methods(["GET", "HEAD"])
def patient(request, study_id: str):
    """One patient of the caseload on one page: the calendar, evaluation, diary, practice, exposure."""
    person = access.patient_for_therapist(request.user, study_id)
    return render(request, "program/therapist/patient.html", _patient_context(person))


def _session_page(request, person, number, *, error="", error_field="", posted=None, status=200,
                  schedule_error=""):
    c = curriculum()
    try:
        plan = c.session(number)
    except Exception:
        raise Http404("no such session") from None
    row = ProgramSession.objects.filter(participant=person, number=number).first()
    slot = next(s for s in services.calendar(person) if s.number == number)
    recorded = row is not None and row.status in services.OUTCOMES
    if posted is not None:
        values = {"outcome": posted.get("outcome", ""), "held_on": posted.get("held_on", ""),
                  "minutes": posted.get("minutes", ""), "steps": posted.getlist("steps"),
                  "assignments": posted.getlist("assignments"), "notes": posted.get("notes", ""),
                  "recorded": bool(forms.flag(posted.get("recorded"))), "reason": posted.get("reason", "")}
    elif recorded:
        values = {"outcome": row.status, "held_on": row.held_on.isoformat() if row.held_on else "",
                  "minutes": row.minutes or "", "steps": row.steps, "assignments": row.assignments,
                  "notes": row.notes, "recorded": row.recorded, "reason": ""}
    else:
        values = {"outcome": "held", "held_on": person.site.today().isoformat(), "minutes": c.session_minutes,
                  "steps": list(plan.steps), "assignments": list(plan.assignments), "notes": "", "recorded": True,
                  "reason": ""}
    open_, why_not = services.sessions_open(person)
    steps = [{"step": c.step(s), "planned": s in plan.steps} for s in
             list(plan.steps) + [s for s in plan.as_needed if s not in plan.steps]]
    today = person.site.today()
    return render(request, "program/therapist/session.html", {
        "person": person, "plan": plan, "row": row, "slot": slot, "recorded": recorded, "values": values,
        "steps": steps, "assignments": c.assignments, "error": error, "error_field": error_field,
        "schedule_error": schedule_error,
        "sessions_open": open_, "why_not": why_not, "today": today,
        "when": long_date(slot.when) if slot.when else "", "planned": long_date(slot.planned) if slot.planned else "",
        "window": (long_date(slot.window_open), long_date(slot.window_close)) if slot.window_open else None,
        "status_label": SESSION_STATUS_LABELS.get(row.status, "") if row else "",
        "total": len(c.sessions), "max_minutes": services.SESSION_MAX_MINUTES,
        "latest": today + timedelta(days=services.SCHEDULE_DAYS_AHEAD),
        "components": [c.component(x).title for x in c.session_components(number)]}, status=status)


def _number(session_number: int, c) -> int:
    if not 1 <= session_number <= len(c.sessions):
        raise Http404("no such session")
    return session_number


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def session(request, study_id: str, session_number: int):
    """One session: its plan; record it held (notes, home practice set) or missed."""
    person = access.patient_for_therapist(request.user, study_id)
    number = _number(session_number, curriculum())
    if request.method != "POST":
        return _session_page(request, person, number)
    try:
        values = forms.session(request.POST)
        services.record_session(person, number, values, actor=request.user, reason=request.POST.get("reason", ""))
    except Refused as exc:
        return _session_page(request, person, number, error=_label(exc, SESSION_LABELS), error_field=exc.field,
                             posted=request.POST, status=exc.status)
    messages.success(request, f"Session {number} recorded ({values['outcome']}).")
    return redirect("program-therapist-patient", study_id=person.study_id)


@login_required
@require_POST
def reschedule(request, study_id: str, session_number: int):
    """Set or move a session's appointment (not yet held or missed)."""
    person = access.patient_for_therapist(request.user, study_id)
    number = _number(session_number, curriculum())
    try:
        day = forms.day(request.POST.get("scheduled_for"), "scheduled_for")
        row = services.reschedule(person, number, day, actor=request.user, reason=request.POST.get("reason", ""))
    except Refused as exc:
        return _session_page(request, person, number, schedule_error=_label(exc), status=exc.status)
    messages.success(request, f"Session {number} is scheduled for {long_date(row.scheduled_for)}.")
    return redirect("program-therapist-patient", study_id=person.study_id)


# ------------------------------------------------------------------------------------ physician
@login_required
@require_http_methods(["GET", "HEAD"])
def physician_list(request):
    """The PRT participants of the physician's sites and where each evaluation stands."""
    people = list(access.evaluable(request.user))
    rows = [{"person": p, "referral": _referral(p)} for p in people]
    return render(request, "program/physician/list.html", {"rows": rows})


def _evaluation_values(row: Evaluation | None, posted) -> dict:
    plan = curriculum().evaluation
    if posted is not None:
        data = forms.evaluation(posted, plan)
        evaluated_on = posted.get("evaluated_on", "")
    elif row is not None:
        data, evaluated_on = row.record, row.evaluated_on.isoformat() if row.evaluated_on else ""
    else:
        data, evaluated_on = {}, ""

    def word(value):
        return "yes" if value is True else "no" if value is False else "unknown"

    imaging = data.get("imaging") or {}
    return {"flags": {k: word(v) for k, v in (data.get("red_flags") or {}).items()},
            "factors": {k: word(v) for k, v in (data.get("factors") or {}).items()},
            "education": list(data.get("education") or []),
            "reviewed": word(imaging.get("reviewed")), "findings": list(imaging.get("findings") or []),
            "explained": word(imaging.get("explained")), "formulation": data.get("formulation") or "",
            "evaluated_on": evaluated_on}


def standing(result, plan) -> list[str]:
    """Where an evaluation stands, in words with the declared titles (prt.program.evaluate's result)."""
    titles = {c.id: c.title for c in (*plan.red_flags, *plan.factors)}
    if result.referral == "blocked":
        found = ", ".join(titles.get(f, f) for f in result.red_flags_found)
        out = [f"A red flag was found ({found}): referral to PRT is blocked; refer for medical assessment."]
        if result.formulation in ("centralized", "mixed"):
            out.append(f"The formulation ({result.formulation}) conflicts with the red flag found.")
        return out
    if result.referral == "incomplete":
        out = []
        if result.red_flags_unassessed:
            out.append("Not yet ruled out: " + ", ".join(titles.get(f, f) for f in result.red_flags_unassessed) + ".")
        if result.formulation is None:
            out.append("No formulation yet (centralized, mixed or structural).")
        return out
    if result.referral == "not_indicated":
        return ["Formulated as structural: PRT is not indicated."]
    return [f"No red flag found and formulated as {result.formulation}: referred to PRT."]


def _evaluation_page(request, person, *, error="", posted=None, status=200):
    c = curriculum()
    row = services.evaluation_of(person)
    values = _evaluation_values(row, posted)
    result = None
    if row is not None:
        record = services.evaluation_record(row)
        result = evaluate(record, c)
    plan = c.evaluation
    return render(request, "program/physician/evaluation.html", {
        "person": person, "row": row, "values": values, "error": error, "plan": plan,
        "flags": [{"choice": x, "value": values["flags"].get(x.id, "unknown")} for x in plan.red_flags],
        "factors": [{"choice": x, "value": values["factors"].get(x.id, "unknown")} for x in plan.factors],
        "result": result, "standing": standing(result, plan) if result else [], "referral": _referral(person),
        "today": person.site.today(),
        "reason": posted.get("reason", "") if posted is not None else "",
        "formulations": (("centralized", "Centralized"), ("mixed", "Mixed"), ("structural", "Structural"))},
        status=status)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def evaluation(request, study_id: str):
    """The intake evaluation form (four steps); save a draft or complete it. Its referral gates
    the sessions (a red flag blocks them)."""
    person = access.patient_for_physician(request.user, study_id)
    if request.method != "POST":
        return _evaluation_page(request, person)
    complete = request.POST.get("action") == "complete"
    try:
        row = services.save_evaluation(
            person, forms.evaluation(request.POST, curriculum().evaluation), physician=request.user,
            complete=complete, evaluated_on=forms.day(request.POST.get("evaluated_on"), "evaluated_on"),
            reason=request.POST.get("reason", ""))
    except Refused as exc:
        return _evaluation_page(request, person, error=_label(exc), posted=request.POST, status=exc.status)
    if row.completed:
        messages.success(request, f"Evaluation of {person.study_id} completed: {REFERRAL_LABELS[row.referral]}.")
    else:
        messages.success(request, f"Draft evaluation of {person.study_id} saved.")
    return redirect("program-physician-evaluation", study_id=person.study_id)


# ------------------------------------------------------------------------------------ coordinator
def _caseload_page(request, *, error="", status=200, failed=""):
    ids = access.coordinator_site_ids(request.user)
    from prt.web.participants.models import Participant

    people = list(Participant.objects.select_related("site").filter(site_id__in=ids, arm="prt",
                                                                    status__in=access.ARM_STATUSES)
                  .order_by("site__code", "study_id"))
    therapists: dict[int, list] = {}
    rows = []
    for person in people:
        if person.site_id not in therapists:
            therapists[person.site_id] = services.therapists_at(person.site_id)
        rows.append({"person": person, "therapist": services.current_therapist(person),
                     "therapists": therapists[person.site_id], "failed": person.study_id == failed})
    return render(request, "program/caseload.html", {"rows": rows, "error": error}, status=status)


@login_required
@require_http_methods(["GET", "HEAD"])
def caseload_assignments(request):
    """The coordinator's PRT participants and their therapists (assign or change one)."""
    return _caseload_page(request)


@login_required
@require_POST
def assign(request, study_id: str):
    person = access.person_for_coordinator(request.user, study_id)
    from prt.web.accounts.models import User

    raw = request.POST.get("therapist", "")
    therapist = User.objects.filter(pk=int(raw)).first() if raw.isdigit() and len(raw) < 12 else None
    try:
        if therapist is None:
            raise Refused("therapist", "expected a therapist of the participant's site")
        result = services.assign_therapist(person, therapist, actor=request.user, reason=request.POST.get("reason", ""))
    except Refused as exc:
        return _caseload_page(request, error=f"{person.study_id}: {_label(exc)}", status=exc.status,
                              failed=person.study_id)
    if result.outcome == "unchanged":
        messages.info(request, f"{person.study_id} already has this therapist.")
    else:
        messages.success(request, f"{person.study_id} is in {therapist.username}'s caseload.")
    return redirect("program-caseload")


# ------------------------------------------------------------------------------------ analyst
def _exports_page(request, *, error="", status=200):
    sites = access.analyst_sites(request.user)
    return render(request, "program/exports.html", {
        "sites": sites, "error": error, "events": TIMEPOINTS[1:],
        "downloads": ProgramExport.objects.filter(user=request.user)[:10]}, status=status)


@login_required
@require_http_methods(["GET", "HEAD"])
def exports(request):
    """The program data of the analyst's sites in REDCap's layouts, with the data dictionary."""
    return _exports_page(request)


@login_required
@require_POST
def export_download(request):
    sites = access.analyst_sites(request.user)
    event = (request.POST.get("event") or "").strip() or None
    if event is not None and event not in TIMEPOINTS[1:]:
        return _exports_page(request, error=f"Event: expected one of {', '.join(TIMEPOINTS[1:])}, or none",
                             status=422)
    try:
        data, _ = services.export_zip(sites, user=request.user, event=event)
    except Refused as exc:
        return _exports_page(request, error=_label(exc), status=exc.status)
    response = HttpResponse(data, content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{services.EXPORT_NAME}"'
    response["Cache-Control"] = "no-store"
    return response
