"""Deployment: production settings pass ``check --deploy`` with no warning, migrations match the
models, SQLite runs in WAL mode with private files, security headers and cookies, and logs carry
no submitted values."""

from __future__ import annotations

import json
import logging
import sqlite3
import stat
import uuid

from django.core.management import call_command

from tests.web.conftest import https_client
from tests.web.helpers import run_prt, web_env


def test_production_settings_pass_the_deployment_check_with_no_warning(tmp_path):
    result = run_prt(["web", "manage", "check", "--deploy", "--fail-level", "WARNING"], web_env(tmp_path / "data"))
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout
    assert stat.S_IMODE((tmp_path / "data" / "secret_key").stat().st_mode) == 0o600


def test_local_mode_is_flagged_by_the_deployment_check(tmp_path):
    result = run_prt(["web", "manage", "check", "--deploy", "--fail-level", "WARNING"],
                     web_env(tmp_path, PRT_MODE="local"))
    assert result.returncode != 0
    assert "security.W008" in result.stderr + result.stdout  # SECURE_SSL_REDIRECT off: this test can fail


def test_debug_pages_are_refused_outside_local_mode(tmp_path):
    result = run_prt(["web", "manage", "check"], web_env(tmp_path, PRT_DEBUG="1"))
    assert result.returncode == 2
    assert result.stderr.strip() == ("prt web manage: error: PRT_DEBUG: debug pages are allowed only with "
                                     "PRT_MODE=local (they show data)")


def test_migrations_match_the_models(db):
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)  # SystemExit(1) if not


def test_demo_creates_a_wal_database_with_private_files(tmp_path):
    data = tmp_path / "data"
    first = run_prt(["web", "demo"], web_env(data))
    assert first.returncode == 0, first.stderr
    roles = [line.split()[0] for line in first.stdout.splitlines() if line.startswith("  ")]
    assert set(roles) >= {"participant", "coordinator", "therapist", "physician", "analyst", "admin"}
    database = data / "prt.sqlite3"
    assert sqlite3.connect(database).execute("PRAGMA journal_mode").fetchone() == ("wal",)
    assert stat.S_IMODE(data.stat().st_mode) == 0o700 and stat.S_IMODE(database.stat().st_mode) == 0o600
    def counts():
        return sqlite3.connect(database).execute(
            "SELECT (SELECT COUNT(*) FROM accounts_user), (SELECT COUNT(*) FROM participants_participant)").fetchone()

    from prt.vocabulary import ARMS
    from prt.web.demo_trial import GROUPS
    from prt.web.enrolment.demo import PEOPLE

    before = counts()
    # The demo trial: each group is followed until every arm has someone in it, and the arms come
    # from minimization with a new allocation key, so the count varies; this is its least.
    assert before[0] == len(roles) and before[1] >= len(PEOPLE) + sum(g.per_arm for g in GROUPS) * len(ARMS)
    again = run_prt(["web", "demo"], web_env(data))
    assert again.returncode == 0 and again.stdout != first.stdout  # new passwords, same logins
    assert counts() == before  # nothing duplicated
    assert stat.S_IMODE((data / "allocation.key").stat().st_mode) == 0o600


def test_plain_http_is_redirected_to_https_except_the_health_check(db):
    from django.test import Client

    plain = Client()
    response = plain.get("/login/")
    assert response.status_code == 301 and response["Location"] == "https://testserver/login/"
    assert plain.get("/healthz").status_code == 200


def test_security_headers_and_cookies(world, fast_hashing):
    user = world.users["participant_a"]
    user.set_password("a long enough password")
    user.save()
    client = https_client()
    page = client.get("/login/")
    assert page["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    assert page["X-Frame-Options"] == "DENY" and page["X-Content-Type-Options"] == "nosniff"
    assert page["Referrer-Policy"] == "same-origin"
    client.post("/login/", {"username": "participant_a", "password": "a long enough password"})
    session = client.cookies["sessionid"]
    assert session["secure"] and session["httponly"] and session["samesite"] == "Lax"
    assert client.cookies["csrftoken"]["secure"]


def test_refused_submissions_are_logged_by_path_only(world, caplog):
    client = world.client_for("participant_a")
    with caplog.at_level(logging.DEBUG):
        client.post("/api/diary", json.dumps({"client_uuid": str(uuid.uuid4()), "date": "2026-03-10",
                                              "rating": 987654, "note": "private words"}),
                    content_type="application/json")
    assert caplog.records, "the refusal is logged"
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "/api/diary" in text and "987654" not in text and "private words" not in text


def test_health_check_answers_503_when_the_database_does_not(db, client, monkeypatch):
    from django.db import OperationalError, connection

    assert client.get("/healthz").json()["status"] == "ok"

    def broken(*args, **kwargs):
        raise OperationalError("connection refused")

    with monkeypatch.context() as patch:  # undone before the test database is rolled back
        patch.setattr(connection, "cursor", broken)
        response = client.get("/healthz")
    assert response.status_code == 503 and response.json()["status"] == "unavailable"
