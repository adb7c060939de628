"""``prt serve`` and ``prt web demo|manage``: argument rules, the mode chosen, the server it runs,
migrations before serving, the demo's logins; and ``prt --help`` stays free of Django."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

import prt.cli
from prt.errors import InputError
from prt.web import cli as web_cli
from tests.web.helpers import PRT, web_env


@pytest.fixture
def main():
    assert "prt.web.cli" in prt.cli.REGISTRARS
    return prt.cli.main


def test_help_does_not_import_django():
    code = ("import sys, prt.cli\n"
            "prt.cli.build_parser().format_help()\n"
            "print(sorted(m for m in ('django', 'ninja', 'numpy', 'pandas') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_the_commands_and_their_help(main, capsys):
    assert main(["web"]) == 2 and "demo" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["serve", "--help"])
    assert "granian" in capsys.readouterr().out


@pytest.mark.parametrize("args, message", [
    (["serve", "--port", "0"], "expected a port from 1 to 65535"),
    (["serve", "--port", "http"], "expected a port number"),
    (["serve", "--workers", "0"], "expected a whole number 1 or more"),
])
def test_bad_arguments_exit_2(main, capsys, args, message):
    with pytest.raises(SystemExit) as exc:
        main(args)
    assert exc.value.code == 2 and message in capsys.readouterr().err


@pytest.mark.parametrize("host, loopback", [
    ("127.0.0.1", True), ("127.1.2.3", True), ("localhost", True), ("::1", True), ("[::1]", True),
    ("0.0.0.0", False), ("192.0.2.10", False), ("::", False), ("trial.example.org", False)])
def test_loopback_hosts(host, loopback):
    assert web_cli.is_loopback(host) is loopback


def test_the_mode_follows_the_host_unless_set():
    assert web_cli.choose_mode("127.0.0.1", {}) == "local"
    assert web_cli.choose_mode("0.0.0.0", {}) == "production"
    assert web_cli.choose_mode("127.0.0.1", {"PRT_MODE": "production"}) == "production"
    with pytest.raises(InputError, match="--host 0.0.0.0: PRT_MODE=local serves plain HTTP"):
        web_cli.choose_mode("0.0.0.0", {"PRT_MODE": "local"})


def test_serve_migrates_then_runs_the_server(main, monkeypatch, capsys):
    from prt.web import server

    calls = []
    monkeypatch.delenv("PRT_MODE", raising=False)
    monkeypatch.setattr(web_cli, "setup_django", lambda: calls.append("setup"))
    monkeypatch.setattr(web_cli, "migrate", lambda: calls.append("migrate"))
    monkeypatch.setattr(server, "serve", lambda host, port, workers: calls.append((host, port, workers)))
    assert main(["serve", "--port", "8123", "--workers", "2"]) == 0
    assert calls == ["setup", "migrate", ("127.0.0.1", 8123, 2)]
    assert web_cli.os.environ["PRT_MODE"] == "local"
    assert "local mode" in capsys.readouterr().err


def test_serve_refuses_plain_http_off_loopback(main, monkeypatch, capsys):
    monkeypatch.setenv("PRT_MODE", "local")
    assert main(["serve", "--host", "0.0.0.0"]) == 2
    assert capsys.readouterr().err.startswith("prt serve: error: --host 0.0.0.0: PRT_MODE=local")


def test_demo_refuses_a_database_that_holds_a_trial(world):
    from prt.web.accounts.models import User
    from prt.web.demo import create_demo

    with pytest.raises(InputError, match=r"database: holds trial sites \(boulder, london\)"):
        create_demo()
    assert not User.objects.filter(username__startswith="demo-").exists()


def test_demo_creates_a_trial_in_every_arm_and_state_and_refreshes(db, fast_hashing, main, monkeypatch, capsys,
                                                                     settings, tmp_path):
    from django.contrib.auth import authenticate

    from prt.web.accounts.models import Membership, User
    from prt.web.audit.models import AuditEvent
    from prt.web.diary.models import PainRating
    from prt.web.participants.models import Participant
    from prt.web.questionnaires import battery
    from prt.web.questionnaires.models import Submission
    from prt.web.randomization import services as randomization

    settings.PRT_ALLOCATION_KEY_FILE = str(tmp_path / "allocation.key")
    monkeypatch.setattr(web_cli, "setup_django", lambda: None)
    assert main(["web", "demo"]) == 0
    lines = [line.split() for line in capsys.readouterr().out.splitlines() if line.startswith("  ")]
    from prt.web.accounts.models import ROLES

    assert [line[0] for line in lines] == list(ROLES)  # one login per role
    for role, username, password, *totp in lines:
        user = authenticate(username=username, password=password)
        assert user is not None and set(user.memberships.values_list("role", flat=True)) == {role}
        assert user.is_superuser is (role == "admin")
        # staff get a TOTP secret for the second factor (tests/web/accounts/test_two_factor.py); participants none
        assert (totp[:2] == ["TOTP", "secret"] and len(totp) == 3) is (role != "participant")

    people = Participant.objects.all()
    states = {(p.status, p.arm) for p in people}
    for arm in ("prt", "placebo", "usual_care"):  # every arm in every state after randomization
        assert {("randomized", arm), ("completed", arm), ("withdrawn", arm)} <= states, arm
    assert {"screened", "ineligible", "enrolled"} <= {status for status, _ in states}
    today = people[0].site.today()
    open_visits = {v.state for p in people.filter(status="randomized") for v in battery.visits(p, today)}
    assert {"done", "due", "overdue", "missed", "upcoming"} <= open_visits  # mid-schedule, every visit state
    login = Participant.objects.get(user__username="demo-participant")
    assert login.arm == "prt" and login.status == "randomized"
    assert [t.event for t in battery.tasks(login, today)][:1] == ["post"]  # the demo user's job today
    assert not PainRating.objects.filter(participant=login, day=today).exists()  # today's rating is theirs
    replay = randomization.verify()  # every allocation in one valid chain, in time order
    assert len(replay.allocations) == people.exclude(arm="").count()
    ratings, submissions = PainRating.objects.count(), Submission.objects.count()
    assert AuditEvent.objects.filter(model="diary.painrating").count() == ratings > 500
    assert AuditEvent.objects.filter(model="questionnaires.submission").count() == submissions > 300

    assert main(["web", "demo"]) == 0  # again: new passwords, nothing duplicated
    assert User.objects.count() == len(ROLES) and Membership.objects.count() == len(ROLES)
    assert (PainRating.objects.count(), Submission.objects.count(), Participant.objects.count()) == (
        ratings, submissions, people.count())


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_prt_serve_runs_granian_and_answers_the_health_check(tmp_path):
    port = _free_port()
    server = subprocess.Popen([sys.executable, "-c", PRT, "serve", "--port", str(port), "--workers", "1"],
                              env=web_env(tmp_path / "data"), stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline, answer = time.monotonic() + 60, None
        while time.monotonic() < deadline and server.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
                    answer = (response.status, response.headers["Server"], response.read())
                    break
            except OSError:
                time.sleep(0.2)
        assert answer is not None, server.stdout.read().decode() if server.poll() is not None else "no answer"
        assert answer[0] == 200 and answer[1] == "granian" and b'"ok"' in answer[2]
    finally:
        server.terminate()
        server.wait(timeout=30)
    log = server.stdout.read().decode()
    started = re.search(r"background worker started \(pid (\d+)\)", log)
    assert started, log  # prt serve runs the job queue's worker beside the web server ...
    with pytest.raises(ProcessLookupError):  # ... and stops it with the server (no orphan left running)
        for _ in range(100):
            os.kill(int(started.group(1)), 0)
            time.sleep(0.1)
