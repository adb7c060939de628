"""The participant's program pages (issue 14), and the program hub.

PRT participants: the current session's material and home practice, the somatic-tracking
exercise (timed, with before/after ratings), the evidence sheet, the exposure hierarchy and
attempts with the next step suggested, the practice log, and progress charts beside the daily
pain diary. Placebo and usual-care participants get their arm's content only (access.py; the
server decides, the page shows nothing else). Views parse, call :mod:`services` and render;
saved -> POST/redirect/GET with a message; refused -> the page again with the reason, nothing
stored. Free text travels in POST bodies only; URLs carry component and item ids.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_http_methods, require_POST

from prt.errors import InputError
from prt.program import tool_for_pain, tracking_cues
from prt.vocabulary import ARM_NAMES
from prt.web.charts import long_date
from prt.web.diary import chart as diary_chart
from prt.web.diary import services as diary
from prt.web.errors import Refused
from prt.web.participants.access import own_participant
from prt.web.program import access, charts, forms, services
from prt.web.program.content import curriculum, handout_html
from prt.web.program.models import PracticeLog

#: Field names as the pages label them (a refusal names the field in these words).
LABELS = {"pain_before": "Pain before", "pain_after": "Pain after", "fear_before": "Fear before",
          "fear_after": "Fear after", "minutes": "Minutes", "day": "Day", "assignment": "Practice",
          "setting": "Where you practised", "client_uuid": "Form", "participant": "Program",
          "steps": "Your list", "step": "Movement", "expected_pain": "Expected pain",
          "actual_pain": "Actual pain", "expected_fear": "Expected fear", "actual_fear": "Actual fear",
          "rows": "Form", "evidence": "Evidence sheet"}
#: The 0-10 rating rows of the forms (pain and fear, before and after).
RATING_VALUES = list(range(0, 11))


def message(exc: Refused) -> str:
    """A refusal in the page's words: the field's label and what it expects (never the value)."""
    field = exc.field
    head = field.split("[")[0].split(".")[0]
    if "[" in field and head in ("steps",):
        row = field.split("[", 1)[1].split("]", 1)[0]
        key = field.rsplit(".", 1)[-1] if "." in field else ""
        name = {"movement": "movement", "fear": "fear rating", "id": "code"}.get(key, "entry")
        return f"Row {int(row) + 1} of your list, {name}: {exc.message}" if row.isdigit() else exc.message
    if "[" in field:  # evidence examples: kind[i]
        return f"{_kind_title(head)}, example {int(field.split('[', 1)[1].split(']', 1)[0]) + 1}: {exc.message}"
    label = LABELS.get(head) or _kind_title(head) or head.replace("_", " ").capitalize()
    return f"{label}: {exc.message}"


def _kind_title(kind: str) -> str:
    for item in curriculum().evidence.items:
        if item.id == kind:
            return item.title
    return ""


def _nav(active: str) -> dict:
    return {"nav": [("program-home", "Program"), ("program-tracking", "Tracking"),
                    ("program-evidence", "Evidence"), ("program-exposure", "Exposure"),
                    ("program-practice", "Practice log"), ("program-progress", "Progress")],
            "active": active}


def _today(participant):
    return participant.site.today()


# ------------------------------------------------------------------------------------ the hub
@login_required
@require_http_methods(["GET", "HEAD"])
def home(request):
    """A participant's program (their arm's content); staff: their program pages."""
    participant = own_participant(request.user)
    if participant is None:
        roles = access.program_roles(request.user)
        if not roles:
            raise PermissionDenied("no program role")
        return render(request, "program/hub.html", {"roles": roles})
    if participant.status not in access.ARM_STATUSES or not participant.arm:
        return render(request, "program/participant/waiting.html", {"participant": participant})
    if participant.arm != "prt":
        return _arm_page(request, participant)
    return _prt_home(request, participant)


def _arm_page(request, participant):
    arm, available, held_back = services.arm_items(participant)
    return render(request, "program/participant/arm.html", {
        "participant": participant, "arm": arm, "arm_name": ARM_NAMES.get(participant.arm, ""),
        "items": available, "held_back": held_back, "handout": handout_html(arm.text, shift=1, title=arm.title)})


def _prt_home(request, participant):
    c = curriculum()
    today = _today(participant)
    progress = services.progress(participant)
    slots = services.calendar(participant, today)
    upcoming = next((s for s in slots if s.state in ("scheduled", "planned")), None)
    current = c.session(progress.current) if progress.current else None
    current_row = next((s.row for s in slots if s.number == progress.current), None)
    components = []
    if current is not None:
        ids = set(c.session_components(current.number))
        ids.update(c.step(s).component for s in (current_row.steps if current_row else ()) if _has_step(c, s))
        components = [comp for comp in c.components if comp.id in ids]
    home_practice = done_since(participant, progress)
    steps = [c.step(s) for s in (current_row.steps if current_row else current.steps)] if current else []
    return render(request, "program/participant/home.html", {
        **_nav("program-home"), "participant": participant, "progress": progress, "current": current,
        "steps": steps,
        "handouts": [{"component": comp, "html": handout_html(comp.text, title=comp.title)} for comp in components],
        "home_practice": home_practice, "since": long_date(progress.since) if progress.since else "",
        "upcoming": upcoming, "upcoming_date": long_date(upcoming.when) if upcoming and upcoming.when else "",
        "earlier": [comp for comp in c.components if comp.id in progress.introduced and comp not in components],
        "sessions_total": len(c.sessions), "today": today})


def done_since(participant, progress) -> list[dict]:
    """The home practice set at the last session, each with what was done since: practices logged
    (minutes), or for moving in feared ways the exposure attempts; none counted for the evidence
    sheet (a living document, not dated entries)."""
    c = curriculum()
    done = {a.id: a for a in progress.practice_since.by_assignment}
    attempts = 0
    if progress.since is not None:
        from prt.web.program.models import ExposureAttemptLog

        attempts = ExposureAttemptLog.objects.filter(participant=participant, day__gte=progress.since).count()
    out = []
    for a in progress.home_practice:
        assignment = c.assignment(a)
        if assignment.kind == "feared_movement":
            out.append({"assignment": assignment, "done": attempts, "unit": "attempt", "minutes": 0})
        elif assignment.kind == "gather_evidence":
            out.append({"assignment": assignment, "done": None, "unit": "", "minutes": 0})
        else:
            out.append({"assignment": assignment, "done": done[a].practices if a in done else 0, "unit": "time",
                        "minutes": done[a].minutes if a in done else 0})
    return out


def _has_step(c, step_id: str) -> bool:
    try:
        c.step(step_id)
    except InputError:
        return False
    return True


@login_required
@require_http_methods(["GET", "HEAD"])
def material(request, component_id: str):
    """One component's handout, once a held session has introduced it."""
    participant = access.prt_participant(request.user)
    c = curriculum()
    try:
        component = c.component(component_id)
    except InputError:
        raise Http404("no such part of the program") from None
    progress = services.progress(participant)
    if component.id not in progress.introduced:
        return render(request, "program/participant/locked.html", {
            **_nav("program-home"), "component": component}, status=403)
    return render(request, "program/participant/material.html", {
        **_nav("program-home"), "component": component,
        "html": handout_html(component.text, shift=1, title=component.title),
        "steps": c.steps_of(component.id)})


@login_required
@require_http_methods(["GET", "HEAD"])
def arm_item(request, item_id: str):
    """One item of a control arm's content: only in the participant's own arm, and only once released
    (usual care's workbook after posttreatment: prt.program's ``available``)."""
    participant = access.participant_of(request.user)
    if participant.arm not in ("placebo", "usual_care") or participant.status not in access.ARM_STATUSES:
        raise Http404("no such item in your arm's content")
    arm, available, _ = services.arm_items(participant)
    item = next((i for i in arm.items if i.id == item_id), None)
    if item is None:
        raise Http404("no such item in your arm's content")
    if item not in available:
        return render(request, "program/participant/held_back.html", {"item": item, "arm": arm}, status=403)
    return render(request, "program/participant/item.html", {
        "item": item, "arm": arm, "html": handout_html(item.text, shift=1, title=item.title) if item.text else ""})


# ------------------------------------------------------------------------------------ somatic tracking
def _tracking_assignment(c):
    return next(a for a in c.assignments if a.kind == "somatic_tracking")


def _tracking_page(request, participant, *, error="", values=None, status=200):
    c = curriculum()
    cues = tracking_cues(c)
    total = cues[-1].end if cues else 0
    plan = c.tracking
    return render(request, "program/participant/tracking.html", {
        **_nav("program-tracking"), "participant": participant, "cues": [
            {"cue": cue, "minutes": f"{(cue.end - cue.start) // 60}:{(cue.end - cue.start) % 60:02d}"} for cue in cues],
        "total_seconds": total, "total_minutes": max(1, -(-total // 60)), "high_from": plan.high_pain_from,
        "high": plan.high, "low": plan.low, "ratings": RATING_VALUES, "values": values or {},
        "error": error, "client_uuid": uuid.uuid4(), "today": _today(participant),
        "assignment": _tracking_assignment(c), "open": participant.status == "randomized",
        "advice_high": tool_for_pain(plan.high_pain_from, c), "settings": (("seated", "Seated or lying down"),
                                                                              ("movement", "During a movement"))},
        status=status)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def tracking(request):
    """The somatic-tracking exercise (cues on a timeline; a timer with JavaScript, a plain list
    without) and the practice it logs: pain and fear before and after (0-10)."""
    participant = access.prt_participant(request.user)
    if request.method != "POST":
        return _tracking_page(request, participant)
    data = forms.practice(request.POST)
    data["assignment"] = _tracking_assignment(curriculum()).id
    try:
        logged = services.log_practice(participant, data, client_uuid=request.POST.get("client_uuid", ""),
                                       actor=request.user)
    except Refused as exc:
        return _tracking_page(request, participant, error=message(exc), values=request.POST, status=exc.status)
    row = logged.row
    messages.success(request, f"Practice saved: pain {row.pain_before} → {row.pain_after}, "
                              f"fear {row.fear_before} → {row.fear_after}.")
    return redirect("program-tracking")


# ------------------------------------------------------------------------------------ the practice log
def _practice_page(request, participant, *, error="", values=None, status=200):
    c = curriculum()
    progress = services.progress(participant)
    today = _today(participant)
    order = list(progress.home_practice) + [a.id for a in c.assignments if a.id not in progress.home_practice]
    rows = list(PracticeLog.objects.filter(participant=participant).order_by("-day", "-created_at", "-id")[:200])
    titles = {a.id: a.title for a in c.assignments}
    return render(request, "program/participant/practice.html", {
        **_nav("program-practice"), "participant": participant, "assignments": [c.assignment(a) for a in order],
        "current": set(progress.home_practice), "rows": [{"row": r, "title": titles.get(r.assignment, r.assignment),
                                                           "date": long_date(r.day)} for r in rows],
        "summary": progress.practice, "values": values or {}, "error": error, "client_uuid": uuid.uuid4(),
        "today": today, "earliest": today - timedelta(days=services.LOG_DAYS_BACK), "ratings": RATING_VALUES,
        "open": participant.status == "randomized"}, status=status)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def practice(request):
    """The practice log: every home practice logged, and a form to log one."""
    participant = access.prt_participant(request.user)
    if request.method != "POST":
        return _practice_page(request, participant)
    try:
        logged = services.log_practice(participant, forms.practice(request.POST),
                                       client_uuid=request.POST.get("client_uuid", ""), actor=request.user)
    except Refused as exc:
        return _practice_page(request, participant, error=message(exc), values=request.POST, status=exc.status)
    title = curriculum().assignment(logged.row.assignment).title
    messages.success(request, f"Practice saved: {title}, {logged.row.minutes} minutes.")
    return redirect("program-practice")


# ------------------------------------------------------------------------------------ the evidence sheet
def _evidence_page(request, participant, *, error="", posted=None, status=200):
    c = curriculum()
    sheet = services.evidence_of(participant)
    from prt.program import summarize_evidence

    summary = summarize_evidence(sheet, c)
    kinds = [{"item": item, "text": posted.get(f"examples-{item.id}", "") if posted is not None
              else "\n".join(sheet.examples.get(item.id, ())), "count": len(sheet.examples.get(item.id, ())),
              "rows": min(12, max(3, len(sheet.examples.get(item.id, ())) * 2 + 1))}
             for item in c.evidence.items]
    return render(request, "program/participant/evidence.html", {
        **_nav("program-evidence"), "participant": participant, "kinds": kinds, "summary": summary,
        "error": error, "open": participant.status == "randomized", "handout": handout_html(
            c.component("evidence").text, title=c.component("evidence").title) if _has_component(c, "evidence")
        else ""}, status=status)


def _has_component(c, component_id: str) -> bool:
    return any(comp.id == component_id for comp in c.components)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def evidence(request):
    """The personal evidence sheet: the patient's own examples under each kind of evidence."""
    participant = access.prt_participant(request.user)
    if request.method != "POST":
        return _evidence_page(request, participant)
    try:
        sheet = services.save_evidence(participant, forms.evidence(request.POST, [i.id for i in
                                                                                 curriculum().evidence.items]),
                                       actor=request.user)
    except Refused as exc:
        return _evidence_page(request, participant, error=message(exc), posted=request.POST, status=exc.status)
    from prt.program import summarize_evidence

    messages.success(request, f"Evidence sheet saved: the evidence is {summarize_evidence(sheet).strength}.")
    return redirect("program-evidence")


# ------------------------------------------------------------------------------------ graded exposure
SUGGESTION_TEXT = {
    "start": "Start with the movement you fear least: {movement}.",
    "repeat": "Keep practising: {movement}. Move up once your fear has come down on two tries in a row.",
    "advance": "Your fear has come down. Your next step: {movement}.",
    "complete": "You have mastered every movement on your list. Talk with your therapist about what comes next.",
}


def suggestion_text(hierarchy, progress_) -> str:
    """The next step in the participant's words (their movements), from prt.program's suggestion."""
    if progress_ is None:
        return ""
    movement = hierarchy.step(progress_.step).movement if progress_.step else ""
    if progress_.suggestion == "hold_off":
        text = (f"Your last try reached pain or fear of {curriculum().exposure.hold_off_at} out of 10 or more. "
                "Hold off that movement until you have talked with your therapist.")
        return text + (f" Meanwhile, keep practising: {movement}." if movement else "")
    return SUGGESTION_TEXT[progress_.suggestion].format(movement=movement)


def _exposure_page(request, participant, *, error="", posted=None, attempt_values=None, status=200):
    hierarchy, attempts, progress_ = services.exposure(participant)
    today = _today(participant)
    steps = []
    by_id = {p.id: p for p in progress_.steps} if progress_ else {}
    for step in (hierarchy.steps if hierarchy else ()):
        p = by_id.get(step.id)
        steps.append({"step": step, "attempts": p.attempts if p else 0, "mastered": p.mastered if p else False,
                      "last_fear": p.last_fear if p else None, "threshold": f"{p.threshold:g}" if p else "",
                      "current": progress_ is not None and progress_.step == step.id})
    rows = [{"id": s.id, "movement": s.movement, "fear": s.fear, "tried": by_id.get(s.id) is not None
             and by_id[s.id].attempts > 0} for s in (hierarchy.steps if hierarchy else ())]
    if posted is not None:
        rows = []
        for i in range(min(forms.MAX_ROWS, _int(posted.get("rows")))):
            rows.append({"id": posted.get(f"id-{i}", ""), "movement": posted.get(f"movement-{i}", ""),
                         "fear": posted.get(f"fear-{i}", ""), "tried": False})
    rows += [{"id": "", "movement": "", "fear": "", "tried": False} for _ in range(3)]
    movements = {s.id: s.movement for s in (hierarchy.steps if hierarchy else ())}
    return render(request, "program/participant/exposure.html", {
        **_nav("program-exposure"), "participant": participant, "hierarchy": hierarchy, "steps": steps,
        "progress": progress_, "suggestion": suggestion_text(hierarchy, progress_) if hierarchy else "",
        "rows": list(enumerate(rows)), "row_count": len(rows), "ratings": RATING_VALUES,
        "attempts": [{"attempt": a, "movement": movements.get(a.step, a.step), "date": long_date(a.day)}
                     for a in reversed(attempts)],
        "error": error, "attempt_values": attempt_values or {}, "client_uuid": uuid.uuid4(), "today": today,
        "earliest": today - timedelta(days=services.LOG_DAYS_BACK), "open": participant.status == "randomized",
        "hold_off_at": curriculum().exposure.hold_off_at}, status=status)


def _int(value) -> int:
    try:
        return max(0, int(value))
    except (TypeError, ValueError):
        return 0


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def exposure(request):
    """The exposure hierarchy (feared movements, least feared first), the attempts and the next step;
    POST saves the hierarchy."""
    participant = access.prt_participant(request.user)
    if request.method != "POST":
        return _exposure_page(request, participant)
    try:
        services.save_hierarchy(participant, forms.hierarchy(request.POST), actor=request.user)
    except Refused as exc:
        return _exposure_page(request, participant, error=message(exc), posted=request.POST, status=exc.status)
    messages.success(request, "Your list of movements is saved.")
    return redirect("program-exposure")


@login_required
@require_POST
def exposure_attempt(request):
    """Log one attempt at a movement: pain and fear expected, then felt (0-10)."""
    participant = access.prt_participant(request.user)
    try:
        logged = services.log_attempt(participant, forms.attempt(request.POST),
                                      client_uuid=request.POST.get("client_uuid", ""), actor=request.user)
    except Refused as exc:
        return _exposure_page(request, participant, error=message(exc), attempt_values=request.POST,
                              status=exc.status)
    row = logged.row
    messages.success(request, f"Attempt saved: pain {row.actual_pain} (expected {row.expected_pain}), "
                              f"fear {row.actual_fear} (expected {row.expected_fear}).")
    return redirect("program-exposure")


# ------------------------------------------------------------------------------------ progress
@login_required
@require_http_methods(["GET", "HEAD"])
def progress(request):
    """Progress charts beside the daily pain diary: pain, practice minutes, exposure fear."""
    participant = access.prt_participant(request.user)
    entries = diary.history(participant)
    pain_svg = diary_chart.pain_chart_svg([diary_chart.Point(e.day, e.rating) for e in entries])
    rows = list(PracticeLog.objects.filter(participant=participant).order_by("day"))
    hierarchy, attempts, progress_ = services.exposure(participant)
    minutes = charts.minutes_by_day(rows)
    return render(request, "program/participant/progress.html", {
        **_nav("program-progress"), "participant": participant,
        "pain_svg": mark_safe(pain_svg),  # format_html throughout: every value escaped
        "pain_rows": [{"date": long_date(e.day), "rating": e.rating} for e in reversed(entries)],
        "minutes_svg": mark_safe(charts.minutes_chart_svg(minutes)),
        "minutes_rows": [{"date": long_date(d), "minutes": m} for d, m in reversed(minutes)],
        "tracking_svg": mark_safe(charts.tracking_chart_svg(rows)),
        "tracking_rows": [{"date": long_date(r.day), "before": r.pain_before, "after": r.pain_after}
                          for r in reversed(rows) if r.pain_before is not None],
        "fear_svg": mark_safe(charts.fear_chart_svg(attempts)) if attempts else "",
        "fear_rows": [{"date": long_date(a.day), "step": hierarchy.step(a.step).movement, "fear": a.actual_fear,
                       "expected": a.expected_fear} for a in reversed(attempts)],
        "summary": services.progress(participant).practice})
