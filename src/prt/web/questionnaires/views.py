"""The participant's questionnaire pages: the list, one item per screen, the review and submit.

Views only parse, call services/battery and render. No JavaScript: each answer is a form post
saved to the draft at once (POST/redirect/GET), so closing the phone or signing out loses nothing.
Item numbers and event names are the only things in URLs; answers travel in POST bodies.
"""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from prt import instruments
from prt.web.charts import long_date
from prt.web.errors import Refused
from prt.web.participants.access import own_participant
from prt.web.questionnaires import battery, presentation, services
from prt.web.questionnaires.models import Submission


def _participant_or_403(request):
    participant = own_participant(request.user)
    if participant is None:
        return None, render(request, "403.html", {"reason": "Only a participant answers questionnaires."}, status=403)
    return participant, None


def _refused_page(request, exc: Refused):
    return render(request, "questionnaires/refused.html", {"message": exc.message}, status=exc.status)


@login_required
@require_http_methods(["GET", "HEAD"])
def index(request):
    participant, denied = _participant_or_403(request)
    if denied:
        return denied
    return render(request, "questionnaires/index.html", {
        "tasks": presentation.task_rows(battery.tasks(participant)),
        "cards": presentation.score_cards(participant)})


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def item(request, event: str, instrument: str):
    """GET ?item=N shows one item; POST saves its answer to the draft and moves on (or back)."""
    participant, denied = _participant_or_403(request)
    if denied:
        return denied
    try:
        task = battery.open_task(participant, instrument, event)
    except Refused as exc:
        return _refused_page(request, exc)
    numbers = instruments.get(instrument).item_numbers
    here = reverse("questionnaire-item", args=[event, instrument])
    error = ""
    if request.method == "POST":
        number = request.POST.get("item", "")
        if number not in numbers:
            number, error = numbers[0], "The form was incomplete; please answer again."
        else:
            action = request.POST.get("action", "next")
            value = "" if action == "skip" else request.POST.get("answer", "")
            try:
                services.save_answer(participant, instrument, event, number, value)
            except Refused as exc:
                if exc.field != "answer":
                    return _refused_page(request, exc)
                error = exc.message.split(": ", 1)[-1].capitalize()
            if not error:
                index_ = numbers.index(number) + (-1 if action == "back" else 1)
                if index_ >= len(numbers):
                    return redirect(reverse("questionnaire-review", args=[event, instrument]))
                return redirect(f"{here}?item={numbers[max(index_, 0)]}")
    else:
        number = request.GET.get("item", "")
        answers = services.draft_answers(participant, instrument, event)
        if number not in numbers:
            number = next((n for n in numbers if n not in answers), numbers[0])
    answers = services.draft_answers(participant, instrument, event)
    view = presentation.item_view(instrument, number, answers)
    if error and request.method == "POST":
        view["current"] = ""
    return render(request, "questionnaires/item.html", {
        "task": task, "item": view, "error": error, "close": long_date(task.window_close),
        "answered": len(answers), "first": number == numbers[0]}, status=422 if error else 200)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def review(request, event: str, instrument: str):
    """The answers so far with links to change them; POST submits (scored, stored, audited)."""
    participant, denied = _participant_or_403(request)
    if denied:
        return denied
    if request.method == "POST":
        try:
            client_uuid = uuid.UUID(request.POST.get("client_uuid", ""))
        except ValueError:
            client_uuid = None
        if client_uuid is not None:
            replay = Submission.objects.filter(client_uuid=client_uuid, participant=participant,
                                               instrument=instrument, event=event).exists()
            try:
                answers = services.draft_answers(participant, instrument, event)
                services.submit(participant, instrument_id=instrument, event=event, client_uuid=client_uuid,
                                answers=answers, channel="web", actor=request.user)
            except Refused as exc:
                if exc.field != "answers":
                    return _refused_page(request, exc)
                return _review_page(request, participant, event, instrument, exc.message.split(": ", 1)[-1])
            if not replay:
                messages.success(request, f"Submitted: {instruments.get(instrument).title}. Thank you.")
            return redirect("home")
        return _review_page(request, participant, event, instrument, "The form was incomplete; please try again.")
    return _review_page(request, participant, event, instrument, "")


def _review_page(request, participant, event, instrument, error: str):
    try:
        task = battery.open_task(participant, instrument, event)
    except Refused as exc:
        return _refused_page(request, exc)
    answers = services.draft_answers(participant, instrument, event)
    rows = presentation.answer_rows(instrument, answers)
    return render(request, "questionnaires/review.html", {
        "task": task, "rows": rows, "missing": sum(1 for r in rows if r["answer"] == ""),
        "client_uuid": uuid.uuid4(), "error": error, "close": long_date(task.window_close)},
        status=422 if error else 200)
