"""The analyst's pages (exports, analysis runs) and the admin's audit-trail search. Views parse,
call snapshot.py / jobs.py / the audit model and render; refused -> the page again with the reason."""

from __future__ import annotations

import hashlib
from datetime import date, datetime, time, timedelta

from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from csp.decorators import csp_replace

from prt.errors import PrtError
from prt.web.analyst import access, jobs, snapshot
from prt.web.analyst.models import EXPORT_FORMATS, RUN_SOURCES, AnalysisRun, ExportDownload
from prt.web.audit import trail
from prt.web.audit.models import ACTIONS, AuditEvent

AUDIT_PAGE_SIZE = 100


def _home(request, *, error=None, status=200, values=None):
    sites = access.analyst_sites(request.user)
    runs = AnalysisRun.objects.filter(requested_by=request.user)[:20]
    return render(request, "analyst/home.html", {
        "sites": sites, "formats": EXPORT_FORMATS.items(), "runs": runs, "sources": RUN_SOURCES.items(),
        "error": error, "values": values or {"bootstrap": jobs.DEFAULT_BOOTSTRAP,
                                             "mediation_bootstrap": jobs.DEFAULT_MEDIATION_BOOTSTRAP,
                                             "seed": 0, "source": "database"},
        "downloads": ExportDownload.objects.filter(user=request.user)[:10]}, status=status)


@login_required
@require_http_methods(["GET", "HEAD"])
def home(request):
    """Exports and analysis runs of the analyst's sites."""
    return _home(request)


@login_required
@require_POST
def export(request, export_format):
    """One de-identified export of the analyst's sites, as a download; recorded and audited."""
    sites = access.analyst_sites(request.user)
    if export_format not in EXPORT_FORMATS:
        raise Http404("no such export format")
    try:
        data, name, count = snapshot.export_bytes(export_format, [s.pk for s in sites])
    except PrtError as error:
        return _home(request, error=str(error), status=422)
    with transaction.atomic():
        record = ExportDownload.objects.create(user=request.user, export_format=export_format,
                                               sites=",".join(s.code for s in sites), participants=count,
                                               sha256=hashlib.sha256(data).hexdigest())
        trail.record(request.user, "create", record, trail.diff(None, trail.snapshot(record)))
    response = HttpResponse(data, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "no-store"
    return response


def _whole(request, name, default, low, high):
    raw = (request.POST.get(name) or "").strip()
    if raw == "":
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise PrtError(f"{name.replace('_', ' ')}: a whole number from {low} to {high}")
    return int(raw)


@login_required
@require_POST
def start(request):
    """Start a run on a snapshot of the database or on an uploaded REDCap export."""
    sites = access.analyst_sites(request.user)
    values = {k: request.POST.get(k, "") for k in ("bootstrap", "mediation_bootstrap", "seed", "source")}
    try:
        source = request.POST.get("source", "database")
        if source not in RUN_SOURCES:
            raise PrtError("source: the database or an uploaded file")
        bootstrap = _whole(request, "bootstrap", jobs.DEFAULT_BOOTSTRAP, 1, jobs.MAX_BOOTSTRAP)
        mediation = _whole(request, "mediation_bootstrap", jobs.DEFAULT_MEDIATION_BOOTSTRAP, 1, jobs.MAX_BOOTSTRAP)
        seed = _whole(request, "seed", 0, 0, 2**31 - 1)
        upload, upload_name = None, ""
        if source == "upload":
            file = request.FILES.get("file")
            if file is None:
                raise PrtError("file: choose a REDCap export (CSV) to upload")
            if file.size > jobs.MAX_UPLOAD_BYTES:
                raise PrtError(f"file: at most {jobs.MAX_UPLOAD_BYTES // 2**20} MB")
            upload, upload_name = file.read(), file.name
        run = jobs.start_run(request.user, source=source, site_ids=[s.pk for s in sites],
                             site_codes=[s.code for s in sites], upload=upload, upload_name=upload_name,
                             bootstrap=bootstrap, mediation_bootstrap=mediation, seed=seed)
    except PrtError as error:
        return _home(request, error=str(error), status=422, values=values)
    return redirect("analyst-run", run_id=run.id)


def _own_run(request, run_id) -> AnalysisRun:
    access.analyst_sites(request.user)
    run = AnalysisRun.objects.filter(pk=run_id, requested_by=request.user).first()
    if run is None:
        raise Http404("no such run among yours")
    return run


@login_required
@require_http_methods(["GET", "HEAD"])
def run_page(request, run_id):
    """A run's progress (refreshing itself every 3 s when the analyst asks: ?refresh=on) or outcome."""
    run = _own_run(request, run_id)
    return render(request, "analyst/run.html", {"run": run, "warnings": run.warnings.splitlines()})


def _run_file(request, run_id, name, content_type):
    run = _own_run(request, run_id)
    path = jobs.output_dir(run) / name
    if run.state != "finished" or not path.is_file():
        raise Http404("the run has not finished")
    return FileResponse(path.open("rb"), content_type=content_type)


#: The report is a self-contained page (inline styles, figures as data: images, no script): it is
#: shown sandboxed, with nothing but those allowed.
@csp_replace({"style-src": ["'unsafe-inline'"], "img-src": ["data:"], "script-src": ["'none'"],
              "sandbox": [""]})
@login_required
@require_http_methods(["GET", "HEAD"])
def run_report(request, run_id):
    return _run_file(request, run_id, "report.html", "text/html; charset=utf-8")


@login_required
@require_http_methods(["GET", "HEAD"])
def run_results(request, run_id):
    return _run_file(request, run_id, "results.json", "application/json")


def _day(raw: str, field: str) -> date | None:
    raw = (raw or "").strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise PrtError(f"{field}: a date YYYY-MM-DD") from None


@login_required
@require_http_methods(["GET", "HEAD"])
def audit_search(request):
    """The audit trail for admins, searchable by who, model, object and date range (read-only)."""
    access.require_admin(request.user)
    q = {k: (request.GET.get(k) or "").strip() for k in ("who", "model", "object", "action", "since", "until")}
    events, error = AuditEvent.objects.select_related("actor").order_by("-at", "-pk"), None
    try:
        since, until = _day(q["since"], "from"), _day(q["until"], "to")
        if since and until and since > until:
            raise PrtError("from: on or before the 'to' date")
        if q["who"]:
            events = events.filter(actor__username=q["who"]) if q["who"] != "system" else events.filter(actor=None)
        if q["model"]:
            events = events.filter(model=q["model"])
        if q["object"]:
            events = events.filter(object_id=q["object"])
        if q["action"]:
            if q["action"] not in ACTIONS:
                raise PrtError(f"action: one of {', '.join(ACTIONS)}")
            events = events.filter(action=q["action"])
        zone = timezone.get_current_timezone()
        if since:
            events = events.filter(at__gte=datetime.combine(since, time.min, zone))
        if until:
            events = events.filter(at__lt=datetime.combine(until + timedelta(days=1), time.min, zone))
    except PrtError as e:
        events, error = AuditEvent.objects.none(), str(e)
    total = events.count()
    return render(request, "analyst/audit.html", {
        "q": q, "events": list(events[:AUDIT_PAGE_SIZE]), "total": total, "error": error,
        "limit": AUDIT_PAGE_SIZE, "actions": ACTIONS,
        "models": AuditEvent.objects.order_by("model").values_list("model", flat=True).distinct(),
    }, status=422 if error else 200)
