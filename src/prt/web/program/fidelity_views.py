"""The fidelity rater's pages (issue 14): the raters' sample of each of their sites, drawn
reproducibly and logged; a sampled session rated blind to the therapist's notes (and to who the
therapist was); the fidelity report per therapist and overall beside the trial's reference
(protocol notes, "Fidelity": mean 4.93, SD 0.87, minimum 3).
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from prt.web.charts import long_date
from prt.web.errors import Refused
from prt.web.program import access, forms, services
from prt.web.program.content import curriculum
from prt.web.program.models import FidelityDraw, FidelityRating, ProgramSession


def _label(exc: Refused) -> str:
    """A refusal in the page's words (an element by its title)."""
    if exc.field.startswith("elements."):
        element = exc.field.split(".", 1)[1]
        title = next((e.title for e in curriculum().fidelity.elements if e.id == element), element)
        return f"{title}: choose present or absent (every element is rated)"
    return f"{exc.field.replace('_', ' ').capitalize()}: {exc.message}"


def _sample_rows(draw: FidelityDraw, user) -> list[dict]:
    sessions = {(s.participant.study_id, s.number): s for s in ProgramSession.objects.select_related("participant")
                .filter(participant__site_id=draw.site_id, status="held",
                        participant__study_id__in={p for p, _ in draw.sample})}
    mine = {(r.session.participant.study_id, r.session.number): r for r in FidelityRating.objects
            .select_related("session__participant").filter(rater=user, session__participant__site_id=draw.site_id)}
    rows = []
    for study_id, number in draw.sample:
        session = sessions.get((study_id, number))
        rows.append({"study_id": study_id, "number": number, "session": session,
                     "held": f"{session.held_on.day} {session.held_on:%b %Y}" if session else "",
                     "rating": mine.get((study_id, number)),
                     "own": session is not None and session.therapist_id == user.pk})
    return rows


@login_required
@require_http_methods(["GET", "HEAD"])
def home(request):
    """Each of the rater's sites: the latest sample with what is rated, the draws, a new draw."""
    return _home(request)


def _home(request, *, error="", error_site="", status=200):
    sites = access.rater_sites(request.user)
    cards = []
    for site in sites:
        draws = list(FidelityDraw.objects.select_related("drawn_by").filter(site=site)[:20])
        latest = draws[0] if draws else None
        cards.append({"site": site, "latest": latest, "draws": draws,
                      "rows": _sample_rows(latest, request.user) if latest else [],
                      "eligible": services.eligible_sessions(site.pk),
                      "error": error if error_site == site.code else ""})
    plan = curriculum().fidelity
    return render(request, "program/fidelity/home.html", {
        "cards": cards, "fraction": f"{plan.patient_fraction:.0%}", "per_patient": plan.sessions_per_patient,
        "elements_total": len(plan.elements)},
        status=status)


@login_required
@require_POST
def draw(request, site_code: str):
    """Draw the raters' sample at a site (prt.program.fidelity_sample), logged with its seed."""
    site = access.rater_site(request.user, site_code)
    try:
        row = services.draw_sample(site, seed=request.POST.get("seed", ""), actor=request.user,
                                   reason=request.POST.get("reason", ""))
    except Refused as exc:
        return _home(request, error=_label(exc), error_site=site.code, status=exc.status)
    messages.success(request, f"Sample {row.pk} drawn at {site.name}: {len(row.sample)} sessions to rate.")
    return redirect("program-fidelity-draw", draw_id=row.pk)


@login_required
@require_http_methods(["GET", "HEAD"])
def draw_log(request, draw_id: int):
    """One draw as logged: method, seed, fractions, the eligible sessions and their SHA-256, the
    sample, who drew it and when, and a redraw that checks it."""
    row = access.draw_for_rater(request.user, draw_id)
    ok, detail = services.verify_draw(row)
    record = row.record
    return render(request, "program/fidelity/draw.html", {
        "draw": row, "record": record, "verified": ok, "detail": detail,
        "eligible": sorted(record.get("eligible", {}).items()), "rows": _sample_rows(row, request.user),
        "fraction": f"{float(record.get('patient_fraction', 0)):.0%}"})


def _rate_page(request, session, draw, *, error="", posted=None, reason="", status=200):
    c = curriculum()
    row = FidelityRating.objects.filter(session=session, rater=request.user).first()
    if posted is not None:
        marks = {e.id: forms.flag(posted.get(f"element-{e.id}")) for e in c.fidelity.elements}
    elif row is not None:
        marks = dict(row.elements)
    else:
        marks = {}
    return render(request, "program/fidelity/rate.html", {
        "session": session, "draw": draw, "row": row, "error": error, "reason": reason,
        "elements": [{"element": e, "value": "present" if marks.get(e.id) is True else
                      "absent" if marks.get(e.id) is False else ""} for e in c.fidelity.elements],
        "plan": c.session(session.number), "held": long_date(session.held_on),
        "plan_steps": [{"title": c.step(s).title, "as_needed": s in c.session(session.number).as_needed}
                       for s in c.session(session.number).steps + c.session(session.number).as_needed],
        "total": len(c.fidelity.elements)}, status=status)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def rate(request, study_id: str, session_number: int):
    """Rate one sampled session: each element present or absent. The therapist's notes, the steps
    they ticked and the home practice they set are not shown (the rater codes the recording)."""
    session, latest = access.sampled_session(request.user, study_id, session_number)
    if request.method != "POST":
        return _rate_page(request, session, latest)
    ids = [e.id for e in curriculum().fidelity.elements]
    reason = request.POST.get("reason", "")
    try:
        row = services.rate_session(session, latest, forms.elements(request.POST, ids), rater=request.user,
                                    reason=reason)
    except Refused as exc:
        return _rate_page(request, session, latest, error=_label(exc), posted=request.POST, reason=reason,
                          status=exc.status)
    messages.success(request, f"Session {session.number} of {study_id} rated: {row.score} of {len(ids)} elements.")
    return redirect("program-fidelity")


@login_required
@require_http_methods(["GET", "HEAD"])
def report(request):
    """Fidelity per therapist, per patient and overall at the rater's sites, beside the trial's."""
    sites = access.rater_sites(request.user)
    summary, names = services.fidelity_report([s.pk for s in sites])

    def fmt(value, digits=2):
        return "—" if value is None else f"{value:.{digits}f}"

    groups = []
    if summary is not None:
        for title, items, naming in (("Therapist", summary.therapists, lambda g: names.get(g.name, g.name)),
                                     ("Patient", summary.participants, lambda g: g.name)):
            groups.append({"title": title, "rows": [
                {"name": naming(g), "sessions": g.sessions, "mean": fmt(g.mean), "sd": fmt(g.sd), "min": g.minimum,
                 "max": g.maximum, "below": g.below_minimum} for g in items]})
    return render(request, "program/fidelity/report.html", {
        "sites": sites, "summary": summary, "groups": groups, "fmt": fmt,
        "overall": {"mean": fmt(summary.overall.mean), "sd": fmt(summary.overall.sd)} if summary else None,
        "elements": [{"element": e, "share": f"{e.share:.0%}"} for e in summary.elements] if summary else [],
        "reference": curriculum().fidelity.reference, "names": names,
        "below": [{"rating": r, "therapist": names.get(r.therapist, r.therapist)} for r in summary.below_minimum]
        if summary else []})
