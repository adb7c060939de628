"""The staff second factor (accounts/twofactor.py, middleware.py): enrolment, right and wrong codes,
throttling, replay, and every staff URL refused until the code is entered.

Codes are computed here from the device's secret by RFC 6238 (HMAC-SHA1, 30 s steps, 6 digits) on
the tests' fixed clock, independently of django-otp's own implementation.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import struct
from types import SimpleNamespace

import pytest

from tests.web.test_permissions import MATRIX

STAFF = ("coordinator_same_site", "coordinator_other_site", "analyst", "admin")


def totp(secret_base32: str, unix_time: float, step: int = 30, digits: int = 6) -> str:
    """RFC 6238 section 4 (dynamic truncation of RFC 4226 section 5.3)."""
    key = base64.b32decode(secret_base32 + "=" * (-len(secret_base32) % 8))
    mac = hmac.new(key, struct.pack(">Q", int(unix_time) // step), hashlib.sha1).digest()
    offset = mac[-1] & 0x0F
    code = (struct.unpack(">I", mac[offset:offset + 4])[0] & 0x7FFFFFFF) % 10 ** digits
    return f"{code:0{digits}d}"


def test_the_code_function_matches_rfc_6238_test_vectors():
    secret = base64.b32encode(b"12345678901234567890").decode()
    # RFC 6238 appendix B, SHA1, 8 digits: 59 -> 94287082, 1111111109 -> 07081804
    assert totp(secret, 59, digits=8) == "94287082"
    assert totp(secret, 1111111109, digits=8) == "07081804"


@pytest.fixture(autouse=True)
def otp_clock(monkeypatch, clock):
    """django-otp reads time.time() for the TOTP step: give it the tests' clock."""
    from django_otp.plugins.otp_totp import models

    monkeypatch.setattr(models, "time", SimpleNamespace(time=lambda: clock.now.timestamp()))


def _secret(html: str) -> str:
    return re.search(r'id="totp-secret">([A-Z2-7]+)<', html).group(1)


def test_enrolment_shows_a_qr_code_and_secret_then_a_right_code_opens_the_staff_pages(world, clock):
    client = world.client_for("coordinator_same_site", verified=False)
    assert client.get("/coordinator/")["Location"] == "/account/two-factor/?next=%2Fcoordinator%2F"
    page = client.get("/account/two-factor/?next=/coordinator/")
    html = page.content.decode()
    assert page.status_code == 200 and "Set up your authenticator app" in html
    assert "<svg" in html and "<script" not in html and "style=" not in html  # the CSP allows neither
    secret = _secret(html)
    assert f"otpauth://totp/PRT%20trial%3Acoordinator_same_site?secret={secret}" in html
    assert _secret(client.get("/account/two-factor/").content.decode()) == secret  # kept across loads
    response = client.post("/account/two-factor/", {"code": totp(secret, clock.now.timestamp()),
                                                    "next": "/coordinator/"})
    assert response.status_code == 302 and response["Location"] == "/coordinator/"
    assert client.get("/coordinator/").status_code == 200
    assert client.get("/account/two-factor/").status_code == 302  # verified: sent on
    from prt.web.accounts import twofactor

    assert twofactor.confirmed_device(world.users["coordinator_same_site"]) is not None


def _enrolled(world, name, clock):
    """A staff client signed in with a password and an enrolled device; returns (client, secret)."""
    client = world.client_for(name, verified=False)
    secret = _secret(client.get("/account/two-factor/").content.decode())
    assert client.post("/account/two-factor/", {"code": totp(secret, clock.now.timestamp())}).status_code == 302
    client.post("/logout/")
    client = world.client_for(name, verified=False)
    clock.advance(seconds=30)
    return client, secret


def test_after_enrolment_the_page_asks_for_a_code_and_a_wrong_one_is_refused(world, clock):
    client, secret = _enrolled(world, "analyst", clock)
    page = client.get("/account/two-factor/").content.decode()
    assert "Enter your code" in page and "totp-secret" not in page  # the secret is never shown again
    right = totp(secret, clock.now.timestamp())
    wrong = f"{(int(right) + 1) % 10**6:06d}"
    refused = client.post("/account/two-factor/", {"code": wrong})
    assert refused.status_code == 400 and "not right" in refused.content.decode()
    assert client.get("/").status_code == 302  # still not through
    clock.advance(seconds=1)  # the back-off after one failure
    assert client.post("/account/two-factor/", {"code": right})["Location"] == "/"
    assert client.get("/").status_code == 200


def test_wrong_codes_are_throttled_with_a_doubling_wait(world, clock):
    client, secret = _enrolled(world, "coordinator_same_site", clock)
    for _ in range(3):
        assert client.post("/account/two-factor/", {"code": "000000"}).status_code in (400, 429)
        clock.advance(seconds=0.5)
    # failures 1 (at t), then t+0.5 throttled (not counted), t+1 is failure 2 -> wait 2 s from it
    throttled = client.post("/account/two-factor/", {"code": totp(secret, clock.now.timestamp())})
    assert throttled.status_code == 429 and "Too many wrong codes" in throttled.content.decode()
    assert int(throttled["Retry-After"]) >= 1
    assert client.get("/coordinator/").status_code == 302  # even the right code did not get through
    clock.advance(seconds=2)
    assert client.post("/account/two-factor/", {"code": totp(secret, clock.now.timestamp())}).status_code == 302
    assert client.get("/coordinator/").status_code == 200


def test_a_malformed_code_counts_as_a_failure(world, clock):
    client, secret = _enrolled(world, "analyst", clock)
    assert client.post("/account/two-factor/", {"code": "12ab"}).status_code == 400
    assert client.post("/account/two-factor/", {"code": totp(secret, clock.now.timestamp())}).status_code == 429


def test_a_code_is_accepted_once_only(world, clock):
    client, secret = _enrolled(world, "analyst", clock)
    code = totp(secret, clock.now.timestamp())
    assert client.post("/account/two-factor/", {"code": code}).status_code == 302
    other = world.client_for("analyst", verified=False)  # a second sign-in replaying the same code
    assert other.post("/account/two-factor/", {"code": code}).status_code == 400


def test_participants_are_never_asked(world):
    client = world.client_for("participant_a", verified=False)
    assert client.get("/").status_code == 200
    assert client.get("/api/diary").status_code == 200
    assert client.get("/account/two-factor/").status_code == 403


def test_anonymous_is_sent_to_sign_in(world):
    assert world.client_for(None).get("/account/two-factor/")["Location"].startswith("/login/")


UNVERIFIED_CELLS = [(role, key) for key in MATRIX for role in STAFF
                    if not key[1].startswith(("/login/", "/logout/", "/healthz", "/api/openapi.json",
                                              "/account/two-factor/"))]


@pytest.mark.parametrize("role, endpoint", UNVERIFIED_CELLS,
                         ids=[f"{role}-{key[0]}-{key[1]}" for role, key in UNVERIFIED_CELLS])
def test_every_staff_url_refuses_before_the_second_factor(world, role, endpoint):
    """Every URL and API operation of the permission matrix, for every staff role, password only:
    pages redirect to the second-factor page, the API answers 403; nothing is written."""
    from prt.web.audit.models import AuditEvent

    method, path, data = endpoint
    client = world.client_for(role, verified=False)
    before = AuditEvent.objects.count()
    if method == "GET":
        response = client.get(path)
    elif path.startswith("/api/"):
        response = client.post(path, data() if data else "{}", content_type="application/json")
    else:
        response = client.post(path, data() if data else {})
    if path.startswith("/api/"):
        assert response.status_code == 403 and "second factor" in response.json()["detail"]
    else:
        assert response.status_code == 302 and response["Location"].startswith("/account/two-factor/")
    assert AuditEvent.objects.count() == before


def test_the_demo_prints_a_totp_secret_for_each_staff_login_only(db, clock):
    from prt.web.demo import create_demo

    logins = {login.role: login for login in create_demo()}
    assert logins["participant"].totp_secret is None
    client_secret = logins["coordinator"].totp_secret
    assert all(re.fullmatch(r"[A-Z2-7]{32}", logins[r].totp_secret) for r in logins if r != "participant")
    from tests.web.conftest import https_client

    client = https_client()
    assert client.post("/login/", {"username": "demo-coordinator", "password": logins["coordinator"].password}
                       ).status_code == 302
    assert client.get("/coordinator/").status_code == 302
    assert client.post("/account/two-factor/", {"code": totp(client_secret, clock.now.timestamp()),
                                                "next": "/coordinator/"})["Location"] == "/coordinator/"
    assert client.get("/coordinator/").status_code == 200
