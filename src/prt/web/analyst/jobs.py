""""Run the analysis" as a background job (Django's task framework, ``django-tasks`` with the
``django-tasks-db`` database backend; docs/web.md says why).

:func:`start_run` freezes the input first: the database's trial data written as a REDCap flat
export by prt.data's writer, or the uploaded export's bytes, kept as ``snapshot.csv`` in the run's
folder with its SHA-256 on the run row. The job (:func:`execute_run`) reads that snapshot with
``prt.data.read_trial``, runs ``prt.analysis.run_analysis`` with a progress callback that writes
``done/total`` to the row, and writes the report with ``prt.analysis.write_analysis`` into
``PRT_DATA_DIR/analysis-runs/RUN/analysis/``. Rerunning ``prt analyze snapshot.csv`` with the
run's seed and bootstrap counts on the same prt version reproduces it.
"""

from __future__ import annotations

import hashlib
import io
import warnings
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_tasks import task

import prt
from prt.data import read_trial, write_redcap
from prt.errors import PrtError, PrtWarning
from prt.files import atomic_write
from prt.web.analyst import snapshot
from prt.web.analyst.models import AnalysisRun
from prt.web.audit import trail

#: The publication's resampling counts (Ashar et al. 2022, statistical analysis) are the defaults.
DEFAULT_BOOTSTRAP = 10_000
DEFAULT_MEDIATION_BOOTSTRAP = 5_000
MAX_BOOTSTRAP = 100_000
#: The largest REDCap export accepted as an upload (the Boulder trial's export is 0.6 MB).
MAX_UPLOAD_BYTES = 50 * 1024 * 1024


def runs_dir() -> Path:
    return Path(settings.DATA_DIR) / "analysis-runs"


def run_dir(run: AnalysisRun) -> Path:
    return runs_dir() / str(run.id)


def snapshot_path(run: AnalysisRun) -> Path:
    return run_dir(run) / "snapshot.csv"


def program_dir(run: AnalysisRun) -> Path:
    """The platform's program export frozen with a database run (issue 14: the report's adherence
    and fidelity section when the data are present); absent for an upload or a site with no PRT
    participant yet."""
    return run_dir(run) / "program"


def _freeze_program(run: AnalysisRun, site_ids) -> None:
    from prt.program import write_export
    from prt.web.program.content import curriculum
    from prt.web.program.services import program_participants, session_ratings

    people = program_participants(site_ids)
    if people:
        write_export(program_dir(run), people, [r for _, r in session_ratings(site_ids)], curriculum())


def output_dir(run: AnalysisRun) -> Path:
    return run_dir(run) / "analysis"


def start_run(user, *, source: str, site_ids=(), site_codes=(), upload: bytes | None = None,
              upload_name: str = "", bootstrap: int = DEFAULT_BOOTSTRAP,
              mediation_bootstrap: int = DEFAULT_MEDIATION_BOOTSTRAP, seed: int = 0) -> AnalysisRun:
    """Freeze the input, create the run row (audited) and enqueue the job. An unreadable upload or
    a database without randomized participants is refused here (InputError), before any job."""
    if source == "upload":
        if not upload:
            raise PrtError("file: choose a REDCap export (CSV) to upload")
        read_trial(io.BytesIO(upload))  # refuse an unreadable export now, naming its column or record
        data, description = upload, f"uploaded file {upload_name[:200]}"
    else:
        buffer = io.StringIO()
        write_redcap(snapshot.trial_data(site_ids), buffer, layout="flat")
        data, description = buffer.getvalue().encode("utf-8"), "database: sites " + ", ".join(site_codes)
    run = AnalysisRun(requested_by=user, source=source, description=description, bootstrap=bootstrap,
                      mediation_bootstrap=mediation_bootstrap, seed=seed,
                      snapshot_sha256=hashlib.sha256(data).hexdigest(), prt_version=prt.__version__)
    run_dir(run).mkdir(parents=True, exist_ok=True, mode=0o700)
    atomic_write(snapshot_path(run), data)
    if source != "upload":
        _freeze_program(run, site_ids)
    with transaction.atomic():
        run.save()
        trail.record(user, "create", run, trail.diff(None, trail.snapshot(run)))
        transaction.on_commit(lambda: analysis_job.enqueue(str(run.id)))
    return run


class _Progress:
    """The engine's ``progress(done, total)`` callback: writes to the run row when the whole
    percentage changes (a few hundred calls, at most about a hundred writes)."""

    def __init__(self, run_id) -> None:
        self.run_id, self.last = run_id, -1

    def __call__(self, done: int, total: int) -> None:
        percent = int(100 * done / total) if total else 0
        if percent != self.last or done == total:
            self.last = percent
            AnalysisRun.objects.filter(pk=self.run_id).update(done=done, total=total)


def _one_line(error: BaseException) -> str:
    """prt's own message (names a record or field, never values); anything else by its class only."""
    if isinstance(error, (PrtError, OSError)):
        text = str(error)
    else:
        text = f"internal error ({type(error).__name__}); see the worker's log"
    return " ".join(text.split())[:500]


def execute_run(run_id) -> str:
    """The job: analyse the run's snapshot and write its report. Returns the final state."""
    from prt.analysis import run_analysis, write_analysis

    run = AnalysisRun.objects.get(pk=run_id)
    if not run.active:
        return run.state  # a job delivered twice does not run twice
    AnalysisRun.objects.filter(pk=run.pk).update(state="running", started_at=timezone.now())
    try:
        data = snapshot_path(run).read_bytes()
        if hashlib.sha256(data).hexdigest() != run.snapshot_sha256:
            raise PrtError("snapshot.csv: its SHA-256 no longer matches the run's; the input was changed")
        trial = read_trial(io.BytesIO(data))
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            results = run_analysis(trial, bootstrap=run.bootstrap, mediation_bootstrap=run.mediation_bootstrap,
                                   seed=run.seed, progress=_Progress(run.pk))
        sections = []
        if (program_dir(run) / "records.csv").is_file():
            from prt.program.report import program_section
            from prt.web.program.content import curriculum

            sections.append(program_section(trial, program_dir(run), curriculum()))
        write_analysis(results, trial, output_dir(run), sections=sections)
    except Exception as error:  # the row says failed with one line; the worker logs the traceback
        AnalysisRun.objects.filter(pk=run.pk).update(state="failed", error=_one_line(error),
                                                     finished_at=timezone.now())
        if not isinstance(error, (PrtError, OSError)):
            raise
        return "failed"
    messages = sorted({" ".join(str(w.message).split()) for w in caught
                       if issubclass(w.category, PrtWarning)})
    AnalysisRun.objects.filter(pk=run.pk).update(state="finished", finished_at=timezone.now(),
                                                 warnings="\n".join(messages))
    return "finished"


@task()
def analysis_job(run_id: str) -> str:
    """The task the worker (``prt web manage db_worker``) runs."""
    return execute_run(run_id)
