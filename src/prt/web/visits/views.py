"""The coordinator's visit schedule pages: their sites, one site's lists, the CSV of a list.

Views parse the filters, call ``services.site_visits`` and render; only a coordinator of the site
sees it (enrolment.access: another site is 404, a user who coordinates nowhere 403). The arm is
shown once allocated, as on the person page (coordinators see arms after allocation). Filters are
event names, states and a number of days: nothing about a person travels in a URL but the study id.
"""

from __future__ import annotations

from html import escape

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_http_methods

from prt.vocabulary import ARM_LABELS
from prt.web.accounts.models import Site
from prt.web.charts import long_date
from prt.web.enrolment import access
from prt.web.errors import Refused
from prt.web.questionnaires import battery
from prt.web.visits import services

#: Rows shown per list on the page (the CSV and the API give them all): a page stays quick to
#: draw and to read on a phone; narrower filters or the CSV reach the rest.
PAGE_ROWS = 200
#: The filter form's labels, for refusals (the message names the query field too).
FILTER_LABELS = {"state": "List", "event": "Visit", "days": "Coming up within (days)"}


@login_required
@require_http_methods(["GET", "HEAD"])
def index(request):
    """Each of the coordinator's sites with how many visits are overdue, due, missed, coming up."""
    ids = access.require_coordinator(request.user)
    sites = [{"site": site, "schedule": services.site_visits(site)}
             for site in Site.objects.filter(pk__in=ids).order_by("code")]
    return render(request, "visits/index.html", {
        "sites": [{"site": s["site"], "on": long_date(s["schedule"].on), "participants": s["schedule"].participants,
                   "counts": [(services.STATE_LABELS[k], n) for k, n in s["schedule"].counts.items()]}
                  for s in sites]})


def _short(day) -> str:
    return f"{day.day} {day:%b %Y}"


def _days(visit: services.ScheduledVisit) -> str:
    n = visit.days
    unit = "day" if n == 1 else "days"
    if visit.state == "due":
        return "today is the target" if n == 0 else f"{n} {unit} to the target"
    if visit.state == "upcoming":
        return f"opens in {n} {unit}"
    return f"{n} {unit} overdue"


def _outstanding(visit: services.ScheduledVisit) -> str:
    if len(visit.outstanding) == visit.battery_size:
        return f"all {visit.battery_size}"
    return f"{len(visit.outstanding)} of {visit.battery_size}: {', '.join(visit.outstanding)}"


#: One table row, its values escaped by :func:`html.escape`. Drawn here, not by a template loop: 800
#: rows of 8 template variables each were a quarter of the due list's time (docs/benchmarks.md).
_ROW = ('<tr><th scope="row"><a href="{}">{}</a></th><td data-label="Arm">{}</td><td data-label="Visit">{}</td>'
        '<td data-label="Target">{}</td><td data-label="Window">{}</td><td data-label="Outstanding">{}</td>'
        '<td data-label="When">{}</td></tr>')


def _rows(visits, person_url: str) -> str:
    """The list's table rows as HTML, formatted here once; every value is escaped."""
    rows = []
    for v in visits:
        values = (person_url.replace("__ID__", v.study_id), v.study_id,
                  ARM_LABELS.get(v.arm, "") if v.arm else "not allocated", v.label[:1].upper() + v.label[1:],
                  _short(v.target), f"{_short(v.window_open)} to {_short(v.window_close)}", _outstanding(v), _days(v))
        rows.append(_ROW.format(*(escape(str(x), quote=True) for x in values)))
    return mark_safe("\n".join(rows))  # noqa: S308 (each value escaped above)


def _site_page(request, site, filters, *, error: str = "", status: int = 200):
    schedule = services.site_visits(site, filters=filters)
    person_url = reverse("coordinator-person", args=["__ID__"])
    lists = []
    for state in services.STATES:
        if filters.state and state != filters.state:
            continue
        visits = schedule.where(state)
        lists.append({"state": state, "label": services.STATE_LABELS[state], "count": len(visits),
                      "rows": _rows(visits[:PAGE_ROWS], person_url), "hidden": max(0, len(visits) - PAGE_ROWS)})
    query = request.GET.urlencode() if not error else ""
    return render(request, "visits/site.html", {
        "site": site, "on": long_date(schedule.on), "participants": schedule.participants, "lists": lists,
        "filters": filters, "states": [(s, services.STATE_LABELS[s]) for s in services.STATES],
        "events": [(e, battery.schedule().events[battery.schedule().names.index(e)].label)
                   for e in services.questionnaire_events()],
        "horizon_max": services.MAX_HORIZON, "error": error,
        "csv_url": reverse("visits-csv", args=[site.code]) + (f"?{query}" if query else "")}, status=status)


@login_required
@require_http_methods(["GET", "HEAD"])
def site(request, site_code: str):
    """One site's lists: overdue, due, missed and coming up, filtered by state, event and horizon."""
    target = access.site_for(request.user, site_code)
    try:
        filters = services.parse_filters(request.GET)
    except Refused as exc:
        label = FILTER_LABELS.get(exc.field, exc.field)
        return _site_page(request, target, services.Filters(), error=f"{label} ({exc.field}): {exc.message}",
                          status=exc.status)
    return _site_page(request, target, filters)


@login_required
@require_http_methods(["GET", "HEAD"])
def site_csv(request, site_code: str):
    """The same lists (all rows) as CSV; formula-like cells neutralised (prt.files.csv_safe)."""
    target = access.site_for(request.user, site_code)
    try:
        filters = services.parse_filters(request.GET)
    except Refused as exc:
        return HttpResponse(f"{exc.field}: {exc.message}\n", status=exc.status,
                            content_type="text/plain; charset=utf-8")
    schedule = services.site_visits(target, filters=filters)
    response = HttpResponse(services.csv_text(schedule), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="visits-{target.code}-{schedule.on.isoformat()}.csv"'
    response["Cache-Control"] = "no-store"
    return response
