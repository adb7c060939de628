"""The analyst's exports and analysis runs, and the admin's audit-trail search (issue 13)."""

from __future__ import annotations

import os

import hashlib
import io
import json
import uuid
from datetime import date

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings as hsettings, strategies as st

import prt
from prt.data import read_trial, write_redcap

pytestmark = pytest.mark.django_db


@pytest.fixture
def data_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    return tmp_path


@pytest.fixture
def trial_world(world):
    """B (BOU-002, prt) with a pretreatment BPI and ODI and a screening that holds age and sex;
    D (BOU-003, usual care, withdrawn) with a post ODI; C at London enrolled, not randomized."""
    from prt.web.accounts.models import User
    from prt.web.diary.models import PainRating
    from prt.web.enrolment.models import Screening
    from prt.web.participants.models import Participant
    from prt.web.questionnaires.models import Submission

    d = Participant.objects.create(study_id="BOU-003", site=world.site1, status="withdrawn", arm="usual_care",
                                   user=User.objects.create_user("participant_d"))
    Screening.objects.create(participant=world.b, status="eligible", answers={"age": "41", "sex": "female"},
                             rule_set="boulder", screened_at=pd.Timestamp("2026-01-05", tz="UTC"))

    def submit(person, instrument, event, scores):
        Submission.objects.create(client_uuid=uuid.uuid4(), participant=person, instrument=instrument,
                                  event=event, day=date(2026, 2, 1), answers={}, score=scores.get("total"),
                                  scores=scores, instrument_form="f", instrument_source="s",
                                  definition_sha256="0" * 64, prt_version="0", channel="web")

    submit(world.b, "bpi_sf", "pre", {"total": None, "subscales": {"average_pain": 6.0, "severity": 5.5,
                                                                  "interference": 3.0}})
    submit(world.b, "odi", "pre", {"total": 30.0, "subscales": {}})
    submit(d, "odi", "post", {"total": 12.0, "subscales": {}})
    submit(d, "ceq", "pre", {"total": 20.0, "subscales": {}})  # not an outcome of the trial's analysis
    PainRating.objects.create(participant=world.b, day=date(2026, 3, 9), rating=5)
    PainRating.objects.create(participant=world.c, day=date(2026, 3, 9), rating=2)
    return world


def _post_export(world, fmt, who="analyst"):
    return world.client_for(who).post(f"/analyst/exports/{fmt}/")


# ------------------------------------------------------------------ the snapshot (de-identified)
def test_the_database_snapshot_holds_randomized_people_their_arm_age_sex_and_outcome_scores(trial_world):
    from prt.web.analyst.snapshot import trial_data

    trial = trial_data([trial_world.site1.pk, trial_world.site2.pk])
    assert list(trial.participants.index) == ["BOU-002", "BOU-003"]  # C (not randomized) is not there
    assert trial.participants.loc["BOU-002", ["arm", "age", "sex"]].tolist() == ["prt", 41.0, "female"]
    assert trial.participants.loc["BOU-003", "arm"] == "usual_care"  # withdrawn keeps their arm (ITT)
    got = {(r.participant, r.timepoint, r.outcome): r.value for r in trial.measures.itertuples()}
    assert got == {("BOU-002", "pre", "pain_intensity"): 6.0, ("BOU-002", "pre", "bpi_interference"): 3.0,
                   ("BOU-002", "pre", "odi"): 30.0, ("BOU-003", "post", "odi"): 12.0}


def test_no_randomized_participant_is_a_clear_refusal(world, data_dir):
    from prt.web.accounts.models import Membership

    Membership.objects.filter(user=world.users["analyst"], site=world.site1).delete()  # London: none yet
    response = _post_export(world, "tidy")
    assert response.status_code == 422
    assert "no randomized participant" in response.content.decode()


@pytest.mark.parametrize("fmt", ["redcap-flat", "redcap-long"])
def test_redcap_exports_round_trip_through_prt_data(trial_world, fmt):
    response = _post_export(trial_world, fmt)
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    body = response.content
    trial = read_trial(io.BytesIO(body))
    assert sorted(trial.participants.index) == ["BOU-002", "BOU-003"]
    assert trial.measures.set_index(["participant", "timepoint", "outcome"])["value"].to_dict()[
        ("BOU-002", "pre", "pain_intensity")] == 6.0
    text = body.decode()
    for secret in ("participant_b", "participant_d", "Boulder", "@"):  # no logins, site names, e-mails
        assert secret not in text


def test_tidy_dictionary_and_diary_exports(trial_world):
    tidy = pd.read_csv(io.BytesIO(_post_export(trial_world, "tidy").content))
    assert set(tidy["participant"]) == {"BOU-002", "BOU-003"}
    dictionary = pd.read_csv(io.BytesIO(_post_export(trial_world, "dictionary").content))
    assert "Variable / Field Name" in dictionary.columns and len(dictionary) > 50
    diary = pd.read_csv(io.BytesIO(_post_export(trial_world, "diary").content), keep_default_na=False)
    assert diary.to_dict("records") == [
        {"participant": "BOU-002", "arm": "prt", "day": "2026-03-09", "rating": 5},
        {"participant": "LON-001", "arm": "", "day": "2026-03-09", "rating": 2}]


def test_an_analyst_exports_only_their_own_sites(trial_world):
    from prt.web.accounts.models import Membership

    Membership.objects.filter(user=trial_world.users["analyst"], site=trial_world.site1).delete()
    diary = pd.read_csv(io.BytesIO(_post_export(trial_world, "diary").content))
    assert set(diary["participant"]) == {"LON-001"}


def test_every_download_is_recorded_and_audited(trial_world):
    from prt.web.analyst.models import ExportDownload
    from prt.web.audit.models import AuditEvent

    body = _post_export(trial_world, "redcap-flat").content
    record = ExportDownload.objects.get()
    assert (record.user.username, record.export_format, record.sites, record.participants) == (
        "analyst", "redcap-flat", "boulder,london", 2)
    assert record.sha256 == hashlib.sha256(body).hexdigest()
    event = AuditEvent.objects.get(model="analyst.exportdownload")
    assert event.actor.username == "analyst" and event.action == "create"
    with pytest.raises(prt.errors.InputError):
        record.save()
    with pytest.raises(prt.errors.InputError):
        record.delete()


def test_an_unknown_export_format_is_404_and_get_is_not_allowed(trial_world):
    assert _post_export(trial_world, "excel").status_code == 404
    assert trial_world.client_for("analyst").get("/analyst/exports/tidy/").status_code == 405


# ------------------------------------------------------------------ analysis runs
def _simulated_export(n=40, seed=3) -> bytes:
    buffer = io.StringIO()
    write_redcap(prt.simulate_trial(n=n, seed=seed), buffer, layout="flat")
    return buffer.getvalue().encode()


def _start_upload(client, data: bytes, **fields):
    from django.core.files.uploadedfile import SimpleUploadedFile

    form = {"source": "upload", "bootstrap": "30", "mediation_bootstrap": "20", "seed": "5", **fields,
            "file": SimpleUploadedFile("export.csv", data, content_type="text/csv")}
    return client.post("/analyst/runs/", form)


@pytest.fixture
def immediate_tasks(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


def test_a_run_on_an_upload_finishes_with_its_report_results_hash_and_version(
        world, data_dir, immediate_tasks, django_capture_on_commit_callbacks):
    from prt.web.analyst.models import AnalysisRun

    client = world.client_for("analyst")
    data = _simulated_export()
    with django_capture_on_commit_callbacks(execute=True):
        response = _start_upload(client, data)
    run = AnalysisRun.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/analyst/runs/{run.id}/"
    assert run.state == "finished", run.error
    assert run.snapshot_sha256 == hashlib.sha256(data).hexdigest() and run.prt_version == prt.__version__
    assert run.done == run.total > 0  # the engine's progress reached the row
    page = client.get(f"/analyst/runs/{run.id}/").content.decode()
    assert run.snapshot_sha256 in page and "report.html" in page and "http-equiv" not in page
    report = client.get(f"/analyst/runs/{run.id}/report.html")
    assert report.status_code == 200 and "sandbox" in report["Content-Security-Policy"]
    results = json.loads(b"".join(client.get(f"/analyst/runs/{run.id}/results.json").streaming_content))
    kept = prt.analysis.load_results(data_dir / "analysis-runs" / str(run.id) / "analysis" / "results.json")
    assert results == json.loads((data_dir / "analysis-runs" / str(run.id) / "analysis" / "results.json").read_text())
    assert kept is not None
    assert (data_dir / "analysis-runs" / str(run.id) / "snapshot.csv").read_bytes() == data


def test_the_same_snapshot_and_seed_reproduce_the_same_results(world, data_dir):
    from prt.web.analyst import jobs

    user, data = world.users["analyst"], _simulated_export()
    runs = [jobs.start_run(user, source="upload", upload=data, upload_name="x.csv", bootstrap=30,
                           mediation_bootstrap=20, seed=9) for _ in range(2)]
    for run in runs:
        assert jobs.execute_run(run.pk) == "finished"
    first, second = ((jobs.output_dir(r) / "results.json").read_text() for r in runs)
    assert json.loads(first) == json.loads(second)


def test_a_run_on_the_database_snapshot_is_kept_as_a_redcap_flat_export(trial_world, data_dir):
    from prt.web.analyst import jobs

    run = jobs.start_run(trial_world.users["analyst"], source="database", site_ids=[trial_world.site1.pk],
                         site_codes=["boulder"], bootstrap=10, mediation_bootstrap=10)
    kept = read_trial(jobs.snapshot_path(run))
    assert sorted(kept.participants.index) == ["BOU-002", "BOU-003"]
    assert run.description == "database: sites boulder"
    assert run.snapshot_sha256 == hashlib.sha256(jobs.snapshot_path(run).read_bytes()).hexdigest()


def test_a_changed_snapshot_fails_the_run_with_one_line_and_nothing_written(world, data_dir):
    from prt.web.analyst import jobs

    run = jobs.start_run(world.users["analyst"], source="upload", upload=_simulated_export(n=12),
                         upload_name="e.csv", bootstrap=10, mediation_bootstrap=10)
    jobs.snapshot_path(run).write_bytes(_simulated_export(n=12, seed=4))
    assert jobs.execute_run(run.pk) == "failed"
    run.refresh_from_db()
    assert "SHA-256 no longer matches" in run.error and "\n" not in run.error
    assert not jobs.output_dir(run).exists()
    client = world.client_for("analyst")
    page = client.get(f"/analyst/runs/{run.id}/").content.decode()
    assert "Failed" in page and "SHA-256 no longer matches" in page and 'http-equiv="refresh"' not in page
    assert client.get(f"/analyst/runs/{run.id}/report.html").status_code == 404


def test_a_queued_run_shows_a_progress_bar_and_refreshes_itself_only_when_asked(world, data_dir):
    """A page reloading itself is a barrier (WCAG 2.2.1; axe-core rule meta-refresh): opt-in only."""
    from prt.web.analyst.models import AnalysisRun

    run = AnalysisRun.objects.create(requested_by=world.users["analyst"], source="upload", description="x",
                                     bootstrap=1, mediation_bootstrap=1, seed=0, snapshot_sha256="0" * 64,
                                     prt_version="0", state="running", done=25, total=100)
    client = world.client_for("analyst")
    page = client.get(f"/analyst/runs/{run.id}/").content.decode()
    assert '<progress id="progress" max="100" value="25">' in page and 'http-equiv="refresh"' not in page
    assert f'href="/analyst/runs/{run.id}/?refresh=on"' in page
    refreshing = client.get(f"/analyst/runs/{run.id}/?refresh=on").content.decode()
    assert '<meta http-equiv="refresh" content="3">' in refreshing and "Stop refreshing" in refreshing


@pytest.mark.skipif(os.environ.get("DATABASE_URL", "").startswith("postgres"),
                    reason="the real worker closes its database connection after a task, which would end "
                           "this test's wrapping transaction on PostgreSQL; the job itself is tested on both")
def test_the_job_enqueues_on_the_database_backend_and_the_worker_runs_it(world, data_dir):
    from django.core.management import call_command
    from django_tasks_db.models import DBTaskResult

    from prt.web.analyst import jobs
    from prt.web.analyst.models import AnalysisRun

    from django.db import transaction

    with transaction.atomic():
        pass
    run = jobs.start_run(world.users["analyst"], source="upload", upload=_simulated_export(), upload_name="e.csv",
                         bootstrap=10, mediation_bootstrap=10)
    # pytest-django wraps the test in a transaction: on_commit would wait; enqueue as the hook would
    jobs.analysis_job.enqueue(str(run.id))
    assert DBTaskResult.objects.count() == 1 and AnalysisRun.objects.get().state == "queued"
    call_command("db_worker", batch=True, no_startup_delay=True, interval=0, verbosity=0)
    assert AnalysisRun.objects.get().state == "finished"


def test_a_delivered_twice_job_runs_once(world, data_dir):
    from prt.web.analyst import jobs

    run = jobs.start_run(world.users["analyst"], source="upload", upload=_simulated_export(), upload_name="e.csv",
                         bootstrap=10, mediation_bootstrap=10)
    assert jobs.execute_run(run.pk) == "finished"
    assert jobs.execute_run(run.pk) == "finished"


@pytest.mark.parametrize("fields, message", [
    ({"bootstrap": "0"}, "bootstrap: a whole number from 1"),
    ({"seed": "-1"}, "seed: a whole number"),
    ({"source": "elsewhere"}, "source:"),
])
def test_bad_run_settings_are_refused_and_nothing_is_queued(world, data_dir, fields, message):
    from prt.web.analyst.models import AnalysisRun

    response = _start_upload(world.client_for("analyst"), _simulated_export(n=12), **fields)
    assert response.status_code == 422 and message in response.content.decode()
    assert not AnalysisRun.objects.exists()


def test_an_unreadable_upload_is_refused_before_any_job(world, data_dir):
    from prt.web.analyst.models import AnalysisRun

    response = _start_upload(world.client_for("analyst"), b"record_id,group\n1,9\n")
    assert response.status_code == 422 and not AnalysisRun.objects.exists()
    assert not list(data_dir.glob("analysis-runs/*"))


@hsettings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.binary(max_size=400))
def test_fuzz_uploads_never_crash_the_server(world, data_dir, body):
    """Any uploaded bytes: refused with a message (422) or accepted; never a server error."""
    response = _start_upload(world.client_for("analyst"), body)
    assert response.status_code in (302, 422)


def test_another_analyst_s_run_is_404(world, data_dir):
    from prt.web.accounts.models import Membership, User
    from prt.web.analyst import jobs

    run = jobs.start_run(world.users["analyst"], source="upload", upload=_simulated_export(n=12),
                         upload_name="e.csv", bootstrap=10, mediation_bootstrap=10)
    other = User.objects.create_user("analyst_2")
    Membership.objects.create(user=other, site=world.site1, role="analyst")
    world.users["analyst_2"] = other
    client = world.client_for("analyst_2")
    for suffix in ("", "report.html", "results.json"):
        assert client.get(f"/analyst/runs/{run.id}/{suffix}").status_code == 404


# ------------------------------------------------------------------ audit trail search
def test_the_audit_search_filters_by_who_model_object_action_and_dates(trial_world):
    from datetime import datetime, timezone as tz

    from prt.web.audit.models import AuditEvent

    _post_export(trial_world, "tidy")
    coordinator, a = trial_world.users["coordinator_same_site"], trial_world.a
    for day, action, reason in ((1, "create", ""), (5, "update", "corrected"), (9, "update", "typo")):
        AuditEvent.objects.create(at=datetime(2020, 3, day, 12, tzinfo=tz.utc), actor=coordinator, action=action,
                                  model="participants.participant", object_id=str(a.pk),
                                  changes={"status": ["x", "y"]}, reason=reason)
    admin = trial_world.client_for("admin")

    def rows(**q):
        response = admin.get("/audit/", q)
        assert response.status_code == 200
        return response.context["events"]

    assert [e.model for e in rows(who="analyst")] == ["analyst.exportdownload"]
    assert [e.reason for e in rows(model="participants.participant")] == ["typo", "corrected", ""]  # newest first
    assert [e.reason for e in rows(object=str(a.pk), action="update")] == ["typo", "corrected"]
    assert [e.at.day for e in rows(since="2020-03-05", until="2020-03-05")] == [5]  # "to" includes its day
    assert [e.at.day for e in rows(since="2020-03-02", until="2020-03-09")] == [9, 5]
    assert [e.at.day for e in rows(until="2020-03-04")] == [1]
    assert rows(who="nobody") == []
    bad = admin.get("/audit/", {"since": "10/03/2026"})
    assert bad.status_code == 422 and "from: a date YYYY-MM-DD" in bad.content.decode()
    assert admin.get("/audit/", {"since": "2026-03-12", "until": "2026-03-01"}).status_code == 422
    assert admin.get("/audit/", {"action": "erase"}).status_code == 422


def test_the_audit_page_has_no_way_to_change_an_event(trial_world):
    _post_export(trial_world, "tidy")
    page = trial_world.client_for("admin").get("/audit/").content.decode()
    assert 'method="post"' not in page.split("<main", 1)[1]
    assert trial_world.client_for("admin").post("/audit/").status_code == 405


def test_the_run_page_gives_the_whole_command_that_reproduces_it(world, data_dir):
    """Review finding: the command shown omitted --mediation-bootstrap, so a rerun used 5,000."""
    from prt.web.analyst.models import AnalysisRun

    run = AnalysisRun.objects.create(requested_by=world.users["analyst"], source="upload", description="x",
                                     bootstrap=50, mediation_bootstrap=20, seed=3, snapshot_sha256="0" * 64,
                                     prt_version="0", state="finished", done=1, total=1)
    page = world.client_for("analyst").get(f"/analyst/runs/{run.id}/").content.decode()
    command = " ".join(page.split('<pre class="command"><code>')[1].split("</code>")[0].replace("\\\n", " ").split())
    assert command == "prt analyze snapshot.csv --out analysis --seed 3 --bootstrap 50 --mediation-bootstrap 20"


def test_a_database_run_freezes_the_program_export_and_its_report_gains_the_program_section(
        trial_world, data_dir):
    """Issue 14: "the analysis report gains a fidelity and adherence section when the data are
    present": a database run keeps the platform's program export beside its snapshot, and the
    report and results.json carry the section; an upload (no program data) does not."""
    import json

    from prt.web.accounts.models import Membership, User
    from prt.web.analyst import jobs
    from prt.web.program import services
    from tests.web.program.common import evaluated, held

    site = trial_world.site1
    therapist, physician = User.objects.create_user("therapist"), User.objects.create_user("physician")
    Membership.objects.create(user=therapist, site=site, role="therapist")
    Membership.objects.create(user=physician, site=site, role="physician")
    services.assign_therapist(trial_world.b, therapist, actor=trial_world.users["coordinator_same_site"])
    evaluated(trial_world.b, physician)
    held(trial_world.b, therapist, numbers=(1, 2, 3))

    run = jobs.start_run(trial_world.users["analyst"], source="database", site_ids=[site.pk],
                         site_codes=[site.code], bootstrap=10, mediation_bootstrap=10)
    assert (jobs.program_dir(run) / "records.csv").is_file()
    assert jobs.execute_run(run.pk) == "finished"
    results = json.loads((jobs.output_dir(run) / "results.json").read_text())
    assert "program" in results
    assert "Program delivery: adherence and fidelity" in (jobs.output_dir(run) / "report.html").read_text()

    upload = jobs.start_run(trial_world.users["analyst"], source="upload", upload=_simulated_export(n=12),
                            upload_name="e.csv", bootstrap=10, mediation_bootstrap=10)
    assert not jobs.program_dir(upload).exists()
