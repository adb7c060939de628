"""prt.web.config: the environment a deployment sets, read without Django (known answers, round trips)."""

from __future__ import annotations

import stat
from urllib.parse import quote

import pytest
from hypothesis import given, settings, strategies as st

from prt.errors import InputError
from prt.web import config


def test_the_ci_database_url():
    db = config.parse_database_url("postgresql://postgres@127.0.0.1:5432/test")
    assert (db["ENGINE"], db["NAME"], db["USER"], db["PASSWORD"], db["HOST"], db["PORT"]) == (
        "prt.web.postgresql", "test", "postgres", "", "127.0.0.1", "5432")
    assert db["OPTIONS"] == {} and db["CONN_HEALTH_CHECKS"] is True


def test_percent_encoding_options_and_socket_host():
    db = config.parse_database_url("postgres://trial%40site:p%40ss%3Aw%2Fd@%2Fvar%2Frun%2FPostgreSQL/prt%20db"
                                   "?sslmode=require&connect_timeout=5")
    assert (db["USER"], db["PASSWORD"], db["HOST"], db["PORT"], db["NAME"]) == (
        "trial@site", "p@ss:w/d", "/var/run/PostgreSQL", "", "prt db")
    assert db["OPTIONS"] == {"sslmode": "require", "connect_timeout": "5"}
    assert config.parse_database_url("postgresql://u@[::1]:6543/x")["HOST"] == "::1"
    assert config.parse_database_url("postgresql://u@h/x?prepared=off")["OPTIONS"] == {"prepared": "off"}


@pytest.mark.parametrize("url, expected", [
    ("mysql://u@h/db", "expected a postgresql:// URL"),
    ("postgresql://u@h", "expected one database name"),
    ("postgresql://u@h/", "expected one database name"),
    ("postgresql://u@h/a/b", "expected one database name"),
    ("postgresql://u@h:99999/db", "not a valid URL"),
    ("postgresql://u@h:port/db", "not a valid URL"),
    ("postgresql://u@h/db?sslmod=require", "unknown option 'sslmod'"),
    ("postgresql://u@h/db?sslmode=a&sslmode=b", "option 'sslmode' given twice"),
    ("postgresql://u@h/db#x", "fragment"),
    ("postgresql://u@h/db?prepared=no", "option 'prepared' is 'no'; expected on or off"),
])
def test_bad_database_urls_are_refused_without_echoing_the_password(url, expected):
    secret_url = url.replace("u@", "u:s3cret-pw@")
    with pytest.raises(InputError, match=expected) as exc:
        config.parse_database_url(secret_url)
    assert "s3cret-pw" not in str(exc.value) and str(exc.value).startswith("DATABASE_URL: ")


_part = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=1, max_size=20)


@settings(max_examples=200, derandomize=True)
@given(user=_part, password=_part, host=st.from_regex(r"[A-Za-z0-9][A-Za-z0-9.-]{0,20}", fullmatch=True),
       port=st.integers(1, 65535), name=_part)
def test_database_url_round_trip(user, password, host, port, name):
    url = f"postgresql://{quote(user, safe='')}:{quote(password, safe='')}@{host}:{port}/{quote(name, safe='')}"
    db = config.parse_database_url(url)
    assert (db["USER"], db["PASSWORD"], db["HOST"], db["PORT"], db["NAME"]) == (user, password, host, str(port), name)


@settings(max_examples=300, derandomize=True)
@given(st.text(max_size=80))
def test_any_text_parses_or_is_refused_as_input_error(text):
    try:
        config.parse_database_url(text)
    except InputError as exc:
        assert str(exc).startswith("DATABASE_URL: ")


def test_database_choice():
    assert config.database({"PRT_DATA_DIR": "/srv/prt"})["NAME"] == "/srv/prt/prt.sqlite3"
    sqlite = config.database({"PRT_DATA_DIR": "/srv/prt"})
    assert "journal_mode=WAL" in sqlite["OPTIONS"]["init_command"]
    assert sqlite["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
    assert config.database({"DATABASE_URL": "postgresql://u@h/db"})["ENGINE"].endswith("postgresql")


def test_mode_flags_and_hosts():
    assert config.mode({}) == "production" and config.mode({"PRT_MODE": " Local "}) == "local"
    with pytest.raises(InputError, match="PRT_MODE: expected one of production, local"):
        config.mode({"PRT_MODE": "dev"})
    assert config.flag({"X": "1"}, "X") and not config.flag({}, "X") and not config.flag({"X": "no"}, "X")
    with pytest.raises(InputError, match="X: expected 1 or 0"):
        config.flag({"X": "maybe"}, "X")
    assert config.allowed_hosts({}) == ["127.0.0.1", "localhost", "::1"]
    assert config.allowed_hosts({"PRT_ALLOWED_HOSTS": "trial.example.org, .example.org,"}) == [
        "trial.example.org", ".example.org"]
    assert config.data_dir({}).name == "prt-data" and config.data_dir({}).is_absolute()


def test_secret_key_is_created_once_private_and_reused(tmp_path):
    folder = tmp_path / "data"
    first = config.secret_key(folder, {})
    path = folder / config.SECRET_KEY_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(first) >= config.SECRET_KEY_MIN_LENGTH
    assert config.secret_key(folder, {}) == first  # never replaced
    assert config.secret_key(tmp_path / "other", {}) != first


def test_secret_key_from_the_environment_must_be_strong(tmp_path):
    strong = "k" * 30 + "abcdefghij0123456789XYZ"
    assert config.secret_key(tmp_path, {"PRT_SECRET_KEY": strong}) == strong
    assert not (tmp_path / config.SECRET_KEY_FILE).exists()
    for weak in ("short", "a" * 80, "django-insecure-" + "abcdefghij" * 6):
        with pytest.raises(InputError, match="PRT_SECRET_KEY: expected a random secret key"):
            config.secret_key(tmp_path, {"PRT_SECRET_KEY": weak})


def test_a_weak_key_file_is_refused_naming_the_file(tmp_path):
    (tmp_path / config.SECRET_KEY_FILE).write_text("too-short\n")
    with pytest.raises(InputError, match="secret_key: expected a random secret key"):
        config.secret_key(tmp_path, {})


def test_a_data_folder_under_a_file_is_one_clear_error(tmp_path):
    (tmp_path / "file").write_text("not a folder")
    with pytest.raises(InputError, match="cannot be created"):
        config.secret_key(tmp_path / "file" / "data", {})


def test_email_goes_to_files_in_local_mode_and_to_smtp_in_production(tmp_path):
    from prt.web import config

    local = config.email(tmp_path, True, {})
    assert local["EMAIL_BACKEND"].endswith("filebased.EmailBackend") and local["EMAIL_FILE_PATH"] == str(tmp_path / "outbox")
    smtp = config.email(tmp_path, False, {"PRT_EMAIL_HOST": "smtp.example.org", "PRT_EMAIL_PORT": "465",
                                          "PRT_EMAIL_TLS": "tls", "PRT_EMAIL_USER": "prt", "PRT_EMAIL_PASSWORD": "s3cret"})
    assert (smtp["EMAIL_HOST"], smtp["EMAIL_PORT"], smtp["EMAIL_USE_SSL"], smtp["EMAIL_USE_TLS"]) == (
        "smtp.example.org", 465, True, False)
    assert config.email(tmp_path, False, {})["EMAIL_USE_TLS"] is True  # STARTTLS on 587 by default


@pytest.mark.parametrize("environ, message", [
    ({"PRT_EMAIL_TLS": "ssl3"}, "PRT_EMAIL_TLS: expected one of starttls, tls, none"),
    ({"PRT_EMAIL_PORT": "0"}, "PRT_EMAIL_PORT: expected a whole number from 1 to 65535"),
    ({"PRT_EMAIL_PORT": "smtp"}, "PRT_EMAIL_PORT: expected a whole number from 1 to 65535"),
])
def test_bad_email_settings_are_refused_naming_the_variable(tmp_path, environ, message):
    from prt.web import config

    with pytest.raises(InputError, match=message):
        config.email(tmp_path, False, environ)


def test_the_public_url_and_the_reminder_times():
    from prt.web import config

    assert config.public_url(True, {}) == "http://127.0.0.1:8000"
    assert config.public_url(False, {"PRT_PUBLIC_URL": "https://trial.example.org/"}) == "https://trial.example.org"
    with pytest.raises(InputError, match="PRT_PUBLIC_URL: expected an https:// address"):
        config.public_url(False, {"PRT_PUBLIC_URL": "http://trial.example.org"})
    assert config.reminders({}) == {"PRT_REMINDER_HOUR": 9, "PRT_REMINDER_INTERVAL_DAYS": 7}
    with pytest.raises(InputError, match="PRT_REMINDER_HOUR: expected a whole number from 0 to 23"):
        config.reminders({"PRT_REMINDER_HOUR": "24"})


@given(st.text(max_size=12))
def test_any_reminder_hour_text_is_an_hour_or_a_named_refusal(text):
    from prt.web import config

    try:
        hour = config.reminders({"PRT_REMINDER_HOUR": text})["PRT_REMINDER_HOUR"]
    except InputError as exc:
        assert str(exc).startswith("PRT_REMINDER_HOUR: ")
    else:
        assert 0 <= hour <= 23
