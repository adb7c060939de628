"""The participant's pages: home ("today's tasks": rate today's pain, see the chart) and the form post."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_http_methods, require_POST

from prt.web.diary import chart, scale, services
from prt.web.diary.forms import RatingForm
from prt.web.errors import Refused
from prt.web.participants.access import own_participant


def _participant_home(request, participant, *, form_error: str = "", status: int = 200):
    today = participant.site.today()
    points = services.daily_points(participant)
    today_entry = next((p for p in reversed(points) if p.day == today), None)
    lo, hi = scale.bounds()
    options = [{"value": v, "anchor": scale.anchor(v),
                "checked": today_entry is not None and today_entry.rating == v} for v in scale.values()]
    context = {
        "participant": participant,
        "today": today,
        "today_long": f"{today:%A} {chart.long_date(today)}",
        "today_entry": today_entry,
        "diary_open": participant.diary_open,
        "question": scale.question(),
        "options": options,
        "low_anchor": scale.anchor(lo), "high_anchor": scale.anchor(hi), "lo": lo, "hi": hi,
        "client_uuid": uuid.uuid4(),
        "form_error": form_error,
        "chart_svg": mark_safe(chart.pain_chart_svg(points)),  # every value escaped (prt.web.charts)
        "rows": [{"date": chart.long_date(p.day), "rating": p.rating, "band": scale.band(p.rating) or ""}
                 for p in reversed(points)],
    }
    return render(request, "diary/home.html", context, status=status)


@login_required
@require_http_methods(["GET", "HEAD"])
def home(request):
    """Today's tasks for a participant; for staff, their roles (their pages come in later versions)."""
    participant = own_participant(request.user)
    if participant is not None:
        return _participant_home(request, participant)
    memberships = request.user.memberships.select_related("site").order_by("site__code", "role")
    return render(request, "diary/staff_home.html", {"memberships": memberships})


@login_required
@require_POST
def submit(request):
    """The rating form's post: saved -> back home with a message (POST/redirect/GET); refused -> the
    page again with the reason and nothing stored."""
    participant = own_participant(request.user)
    if participant is None:
        return render(request, "403.html", {"reason": "Only a participant keeps a pain diary."}, status=403)
    form = RatingForm(request.POST)
    if not form.is_valid():
        field, errors = next(iter(form.errors.items()))
        message = errors[0] if field == "rating" else "The form was incomplete; please try again."
        return _participant_home(request, participant, form_error=message, status=422)
    try:
        submitted = services.submit_rating(participant, client_uuid=form.cleaned_data["client_uuid"],
                                           day=form.cleaned_data["date"], rating=form.cleaned_data["rating"],
                                           actor=request.user)
    except Refused as exc:
        message = {"date": "That page was for another day; today's form is below.",
                   "participant": "Your daily diary is closed.",
                   "client_uuid": "That form was already used; please try again."}.get(exc.field, exc.message)
        return _participant_home(request, participant, form_error=message, status=exc.status)
    entry = submitted.entry
    band = scale.band(entry.rating)
    messages.success(request, f"Saved: your pain today is {entry.rating}" + (f" ({band})." if band else "."))
    return redirect("home")
