"""An acknowledged diary submission survives ``kill -9`` of the whole server (SQLite).

The throughput work (docs/benchmarks.md, "Web platform") kept each worker's SQLite connection open
between requests and queued writers on a file lock; neither may weaken what a 201 means. So: a
real ``prt serve`` (two web workers), a participant signs in and submits through the API, every
process of the server is killed with SIGKILL right after the answers, and the database file must
hold each acknowledged rating with its receipt and audit event (WAL, synchronous=FULL).
"""

from __future__ import annotations

import http.cookiejar
import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.parse
import urllib.request
import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from tests.web.helpers import PRT, run_prt, web_env

PASSWORD = "durable-diary-9f3k"
SETUP = f"""
from prt.web.accounts.models import Membership, Site, User
from prt.web.participants.models import Participant
site = Site.objects.create(code="kill", name="Kill site", timezone="America/Denver")
user = User.objects.create_user("kill-participant", password="{PASSWORD}")
Membership.objects.create(user=user, site=site, role="participant")
Participant.objects.create(study_id="KIL-001", site=site, user=user, status="enrolled")
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_acknowledged_ratings_survive_kill_9_of_the_server(tmp_path):
    data = tmp_path / "data"
    env = web_env(data, PRT_MODE="local")
    for args in (["web", "manage", "migrate", "-v", "0"], ["web", "manage", "shell", "-c", SETUP]):
        done = run_prt(args, env)
        assert done.returncode == 0, done.stderr
    port = _free_port()
    server = subprocess.Popen([sys.executable, "-c", PRT, "serve", "--port", str(port), "--workers", "2"],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    acknowledged = []
    try:
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        deadline = time.monotonic() + 60
        while True:
            try:
                page = opener.open(f"{base}/login/", timeout=5).read().decode()
                break
            except OSError:
                assert time.monotonic() < deadline and server.poll() is None, "prt serve did not start"
                time.sleep(0.2)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        form = urllib.parse.urlencode({"username": "kill-participant", "password": PASSWORD,
                                       "csrfmiddlewaretoken": token}).encode()
        opener.open(urllib.request.Request(f"{base}/login/", data=form, headers={"Referer": f"{base}/login/"}),
                    timeout=10)
        csrf = next(c.value for c in jar if c.name == "csrftoken")
        assert any(c.name == "sessionid" for c in jar)
        today = datetime.now(ZoneInfo("America/Denver")).date().isoformat()
        for rating in (3, 7, 5):  # created, then changed twice: three audit events
            client_uuid = str(uuid.uuid4())
            request = urllib.request.Request(
                f"{base}/api/diary", method="POST", headers={"Content-Type": "application/json", "X-CSRFToken": csrf},
                data=json.dumps({"client_uuid": client_uuid, "date": today, "rating": rating}).encode())
            with opener.open(request, timeout=10) as response:
                assert response.status in (200, 201)
                acknowledged.append((client_uuid.replace("-", ""), rating))
    finally:
        os.killpg(server.pid, signal.SIGKILL)  # master, workers and the job worker: no clean shutdown
        server.wait(timeout=30)
    assert (data / "prt.sqlite3-wal").exists()  # the commits were in the WAL, not yet checkpointed away
    db = sqlite3.connect(data / "prt.sqlite3")
    assert db.execute("SELECT rating FROM diary_painrating").fetchall() == [(5,)]
    receipts = dict(db.execute("SELECT client_uuid, rating FROM diary_diarysubmission").fetchall())
    assert receipts == dict(acknowledged)
    actions = [a for (a,) in db.execute("SELECT action FROM audit_auditevent WHERE model = 'diary.painrating' "
                                        "ORDER BY id")]
    assert actions == ["create", "update", "update"]
