"""The pain-attribution pages (under /attributions/): the therapist's view of a patient's answers
and their change; the coder's queue and the form that codes one answer.

Views parse, call :mod:`services` and render (:mod:`access` decides who sees what). URLs carry a
study id (a pseudonym) or a code's number, never an answer's words; messages never repeat them.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from prt.attribution.scheme import SCHEME
from prt.vocabulary import TIMEPOINT_LABELS
from prt.web.attributions import access, services
from prt.web.attributions.models import REASON_MAX, STATE_LABELS
from prt.web.charts import long_date
from prt.web.errors import Refused

MIND_BRAIN = tuple(c for c in SCHEME.ids if SCHEME.is_mind_brain(c))


def _code_view(code) -> dict:
    """How a page shows one code (the category's study label, mind-brain marked, who decided)."""
    if code is None:
        return {"state": "queued", "state_label": "Not coded yet", "category": "", "mind_brain": None}
    return {"state": code.state, "state_label": STATE_LABELS[code.state],
            "category": SCHEME.label(code.category) if code.category else "", "mind_brain": code.mind_brain,
            "confidence": f"{code.confidence:.2f}" if code.source == "automatic" and code.confidence is not None
            else "", "note": code.note if code.category is None else ""}


# ------------------------------------------------------------------------------------ therapist
@login_required
@require_http_methods(["GET", "HEAD"])
def patient(request, study_id: str):
    """A patient's causes of their back pain before and after treatment, coded, and the change in
    their mind-brain score (0-3)."""
    person = access.patient_for_therapist(request.user, study_id)
    points = services.timepoints(person)
    cards = [{"event": p.event, "label": TIMEPOINT_LABELS[p.event], "submitted": long_date(p.submission.day)
              if p.submission else "", "answered": p.submission is not None, "score": p.score, "queued": p.queued,
              "answers": [{"slot": a.slot, "text": a.text, **_code_view(a.code)} for a in p.answers]}
             for p in points]
    first, last = points[0], points[-1]
    change = last.score - first.score if first.score is not None and last.score is not None else None
    return render(request, "attributions/patient.html", {
        "person": person, "cards": cards, "first": cards[0], "last": cards[-1], "change": change,
        "provisional": any(p.queued for p in points),
        "mind_brain_labels": [SCHEME.label(c) for c in MIND_BRAIN]})


# ------------------------------------------------------------------------------------ coder
def _category_groups(selected: str) -> list[dict]:
    def rows(ids):
        return [{"id": c.id, "label": c.label, "definition": c.definition, "checked": c.id == selected}
                for c in SCHEME.categories if c.id in ids]

    return [{"title": "Mind-brain causes", "hint": "psychological, stress or the brain (counted in the score)",
             "id": "mind-brain", "rows": rows(MIND_BRAIN)},
            {"title": "Other causes", "hint": "the body, events, habits and anything else", "id": "other",
             "rows": rows([c for c in SCHEME.ids if c not in MIND_BRAIN])}]


@login_required
@require_http_methods(["GET", "HEAD"])
def queue(request):
    """The queued answers of the coder's sites (blind: no study id, arm or timepoint), and theirs."""
    ids = access.coder_site_ids(request.user)
    rows, total = services.queue(ids)
    mine = services.reviewed_by(request.user, ids)
    return render(request, "attributions/queue.html", {
        "rows": [{"code": r, "text": r.text, "note": r.note if r.category is None else ""} for r in rows],
        "total": total, "mine": [{"code": r, "text": r.text, "category": SCHEME.label(r.category),
                                  "mind_brain": r.mind_brain} for r in mine]})


def _review_page(request, code, *, error="", category="", reason="", status=200):
    return render(request, "attributions/review.html", {
        "code": code, "text": code.text, "human": code.source == "human", "groups":
        _category_groups(category or (code.category if code.source == "human" else "")),
        "note": code.note if code.category is None else "", "reason": reason, "error": error,
        "reviewed_at": long_date(code.decided_at.date()) if code.source == "human" else "",
        "reviewer": code.decided_by.username if code.decided_by else "",
        "current": SCHEME.label(code.category) if code.source == "human" else "",
        "reason_max": REASON_MAX}, status=status)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def review(request, code_id: int):
    """Code one answer: a category of the scheme (the automatic code is not shown: blind coding)."""
    code = access.code_for_coder(request.user, code_id)
    if request.method != "POST":
        return _review_page(request, code)
    category, reason = request.POST.get("category", ""), request.POST.get("reason", "")
    try:
        seen = request.POST.get("version")
        if not seen:
            raise Refused("version", "required: reload the page and code the answer again")
        done = services.review(code, category, actor=request.user, reason=reason, seen=seen)
    except Refused as exc:
        code.refresh_from_db()
        return _review_page(request, code, error=f"{exc.field.capitalize()}: {exc.message}",
                            category=category if category in SCHEME.ids else "", reason=reason,
                            status=exc.status)
    row = done.code
    kind = " (mind-brain)" if row.mind_brain else ""
    if done.outcome == "unchanged":
        messages.success(request, f"Unchanged: already coded {SCHEME.label(row.category)}{kind}.")
    else:
        messages.success(request, f"Coded {SCHEME.label(row.category)}{kind}.")
    return redirect("attributions-queue")
