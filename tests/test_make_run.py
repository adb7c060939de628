"""The README's first command, `make run`, works end to end: the demo trial is loaded, one login per
role is printed, the platform answers, and a participant and a coordinator sign in and see their work.
`make demo-analysis` (the analysis demo) writes both reports."""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.cookiejar
import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import time
import urllib.parse
import urllib.request

import pytest

from tests.conftest import BOULDER_WIDE, REPO_ROOT

LOGIN = re.compile(r"^  (\w+)\s+(demo-\w+)\s+(\S+)(?:\s+TOTP secret (\S+))?$", re.M)


def _needs_make():
    if shutil.which("make") is None:
        pytest.skip("make is not installed")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def totp(secret_base32: str, at: float | None = None) -> str:
    """RFC 6238 (SHA-1, 30 s, 6 digits): the code an authenticator app shows for ``secret_base32``."""
    key = base64.b32decode(secret_base32 + "=" * (-len(secret_base32) % 8))
    digest = hmac.new(key, struct.pack(">Q", int((at or time.time()) // 30)), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    return f"{(struct.unpack('>I', digest[offset:offset + 4])[0] & 0x7FFFFFFF) % 1_000_000:06d}"


class Browser:
    """Cookies and CSRF like a browser, over plain HTTP on loopback (local mode)."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def get(self, path: str) -> tuple[int, str, str]:
        with self.opener.open(self.base + path, timeout=30) as response:
            return response.status, response.geturl(), response.read().decode()

    def post_form(self, path: str, fields: dict) -> tuple[int, str, str]:
        _, _, page = self.get(path)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        body = urllib.parse.urlencode({"csrfmiddlewaretoken": token, **fields}).encode()
        request = urllib.request.Request(self.base + path, data=body, headers={"Referer": self.base + path})
        with self.opener.open(request, timeout=30) as response:
            return response.status, response.geturl(), response.read().decode()


@pytest.mark.slow
def test_make_run_loads_the_demo_trial_prints_the_logins_and_serves_each_role(tmp_path):
    _needs_make()
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PRT_", "DJANGO_")) and k != "DATABASE_URL"}
    server = subprocess.Popen(["make", "--no-print-directory", "run", f"DATA={tmp_path / 'data'}", f"PORT={port}"],
                              cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                              start_new_session=True)
    output, base = "", f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            line = server.stdout.readline()
            output += line
            if "listening on" in line or server.poll() is not None:
                break
        for _ in range(300):
            try:
                with urllib.request.urlopen(base + "/healthz", timeout=2) as response:
                    assert response.status == 200
                    break
            except OSError:
                assert server.poll() is None, output
                time.sleep(0.2)
        logins = {role: (user, password, secret) for role, user, password, secret in LOGIN.findall(output)}
        assert set(logins) >= {"participant", "coordinator", "therapist", "physician", "analyst", "admin"}, output

        participant = Browser(base)
        user, password, _ = logins["participant"]
        status, where, page = participant.post_form("/login/", {"username": user, "password": password})
        assert status == 200 and where == base + "/", page[-500:]
        assert "Posttreatment (1 month after baseline)" in page  # the questionnaires due today

        coordinator = Browser(base)
        user, password, secret = logins["coordinator"]
        status, where, page = coordinator.post_form("/login/", {"username": user, "password": password})
        assert "/account/two-factor/" in where, where
        status, where, page = coordinator.post_form("/account/two-factor/", {"code": totp(secret)})
        assert where.endswith("/"), where
        status, _, page = coordinator.get("/coordinator/")
        assert status == 200 and "DEMO-" in page
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


@pytest.mark.slow
def test_make_demo_analysis_writes_both_demo_reports(tmp_path):
    _needs_make()
    demo = tmp_path / "demo"
    for _ in range(2):  # a second run replaces its own outputs
        done = subprocess.run(["make", "--no-print-directory", "demo-analysis", f"DEMO={demo}"], cwd=REPO_ROOT,
                              capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr[-2000:]
    results = json.loads((demo / "simulated-analysis" / "results.json").read_text())
    assert results["meta"]["dataset"] == "simulated"
    assert (demo / "simulated-analysis" / "report.html").is_file()
    if BOULDER_WIDE.is_file():
        boulder = json.loads((demo / "boulder-analysis" / "results.json").read_text())
        assert boulder["meta"]["dataset"] == "boulder-back-pain-study"
