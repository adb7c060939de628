"""Deployment configuration read from the environment: pure functions, no Django import.

Why a module of its own: the settings module and ``prt serve`` must agree on the data folder, the
mode and the database, and each rule is tested here without starting Django.

Environment (docs/web.md):

- ``PRT_DATA_DIR``: the data folder (default ``./prt-data``): the SQLite database and the secret key.
- ``DATABASE_URL``: ``postgresql://user:password@host:port/name?sslmode=...`` selects PostgreSQL
  (psycopg 3); unset, the embedded SQLite database in WAL mode is used.
- ``PRT_MODE``: ``production`` (default: HTTPS only, secure cookies, HSTS) or ``local`` (plain
  HTTP on a loopback address, for a demo or development; never for a trial).
- ``PRT_SECRET_KEY``: the signing key; unset, one is generated once into the data folder.
- ``PRT_ALLOWED_HOSTS``: comma-separated host names the server answers to.
- ``PRT_BEHIND_TLS_PROXY``: ``1`` when a proxy terminates TLS and sets ``X-Forwarded-Proto``.
- ``PRT_DEBUG``: ``1`` shows Django's debug pages; refused unless ``PRT_MODE=local``.
- ``PRT_ATTRIBUTION_MODEL``: a trained pain-attribution coder (``.npz``); unset, the lemma coder.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Mapping
from urllib.parse import parse_qsl, unquote, urlsplit

from prt.errors import InputError
from prt.files import atomic_write, os_error

MODES = ("production", "local")
#: Host names a local-mode server answers to (loopback only).
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
#: prt's own DATABASE_URL option: the hot path's statements prepared on the server or not
#: (prt.web.postgresql), and its values.
PREPARED_OPTION, PREPARED_VALUES = "prepared", ("on", "off")
#: What a DATABASE_URL query may carry: libpq connection parameters and PREPARED_OPTION (others are
#: refused, not ignored).
POSTGRES_OPTIONS = ("sslmode", "sslrootcert", "sslcert", "sslkey", "connect_timeout", "application_name",
                    "target_session_attrs", "options", PREPARED_OPTION)
#: Shortest secret key Django's deployment check accepts (security.W009), and its least variety.
SECRET_KEY_MIN_LENGTH, SECRET_KEY_MIN_UNIQUE = 50, 5
SECRET_KEY_FILE = "secret_key"
SQLITE_FILE = "prt.sqlite3"
#: SQLite set-up on every connection: WAL lets readers run beside the writer; synchronous=FULL makes
#: an acknowledged commit survive a crash of the process or the machine (sqlite.org/wal.html).
SQLITE_INIT = "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL"


def _env(environ: Mapping[str, str] | None) -> Mapping[str, str]:
    return os.environ if environ is None else environ


def data_dir(environ: Mapping[str, str] | None = None) -> Path:
    """The data folder: ``PRT_DATA_DIR`` or ``./prt-data``, as an absolute path (not created here)."""
    return Path(_env(environ).get("PRT_DATA_DIR") or "prt-data").expanduser().resolve()


def allocation_key_file(data: Path, environ: Mapping[str, str] | None = None) -> Path:
    """The allocation log's key: ``PRT_ALLOCATION_KEY_FILE`` or ``allocation.key`` in the data folder."""
    return Path(_env(environ).get("PRT_ALLOCATION_KEY_FILE") or data / "allocation.key").expanduser().resolve()


def mode(environ: Mapping[str, str] | None = None) -> str:
    """``production`` (the default: secure unless told otherwise) or ``local``."""
    value = (_env(environ).get("PRT_MODE") or "production").strip().lower()
    if value not in MODES:
        raise InputError(f"PRT_MODE: expected one of {', '.join(MODES)}, got {value!r}")
    return value


def flag(environ: Mapping[str, str] | None, name: str) -> bool:
    """A yes/no environment variable: 1/true/yes or 0/false/no/empty; anything else is refused."""
    value = (_env(environ).get(name) or "").strip().lower()
    if value in ("1", "true", "yes"):
        return True
    if value in ("", "0", "false", "no"):
        return False
    raise InputError(f"{name}: expected 1 or 0, got {value!r}")


def allowed_hosts(environ: Mapping[str, str] | None = None) -> list[str]:
    """``PRT_ALLOWED_HOSTS`` split on commas; default the loopback names."""
    raw = _env(environ).get("PRT_ALLOWED_HOSTS") or ""
    hosts = [h.strip() for h in raw.split(",") if h.strip()]
    return hosts or list(LOOPBACK_HOSTS)


def check_secret_key(key: str, where: str) -> str:
    """A key strong enough for Django's deployment check (security.W009), else InputError."""
    if (len(key) < SECRET_KEY_MIN_LENGTH or len(set(key)) < SECRET_KEY_MIN_UNIQUE
            or key.startswith("django-insecure-")):
        raise InputError(f"{where}: expected a random secret key of at least {SECRET_KEY_MIN_LENGTH} "
                         f"characters (prt generates one when PRT_SECRET_KEY is unset)")
    return key


def secret_key(folder: Path, environ: Mapping[str, str] | None = None) -> str:
    """``PRT_SECRET_KEY``, else the key in ``folder/secret_key``, created once (mode 0600) if absent.

    Why a file: sessions and password-reset links must survive a restart, and a key typed into a
    shell history is a leak; the file is written atomically and never replaced.
    """
    given = _env(environ).get("PRT_SECRET_KEY")
    if given:
        return check_secret_key(given, "PRT_SECRET_KEY")
    path = folder / SECRET_KEY_FILE
    if not path.exists():
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise os_error(folder, exc, "cannot be created") from None
        old = os.umask(0o077)
        try:
            atomic_write(path, secrets.token_urlsafe(64) + "\n", exclusive=True)
        except InputError:
            if not path.exists():  # not a race with another process creating it
                raise
        finally:
            os.umask(old)
    try:
        key = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise os_error(path, exc) from None
    return check_secret_key(key, str(path))


def parse_database_url(url: str) -> dict:
    """Django's DATABASES entry for a ``postgresql://`` URL (user, password, host, port, name, options).

    Parts are percent-decoded (RFC 3986); a host given as an encoded path (``%2Fvar%2Frun``) is a Unix
    socket folder. Messages never repeat the URL: it may hold a password.

    >>> parse_database_url("postgresql://postgres@127.0.0.1:5432/test")["NAME"]
    'test'
    """
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        raise InputError("DATABASE_URL: not a valid URL (expected postgresql://user:password@host:port/name)") from None
    if parts.scheme not in ("postgres", "postgresql"):
        raise InputError(f"DATABASE_URL: expected a postgresql:// URL, got scheme {parts.scheme!r}")
    name = unquote(parts.path[1:] if parts.path.startswith("/") else parts.path)
    if not name or "/" in parts.path[1:]:
        raise InputError("DATABASE_URL: expected one database name after the host (…/name)")
    if parts.fragment:
        raise InputError("DATABASE_URL: a URL fragment (#...) is not allowed")
    options = {}
    for key, value in parse_qsl(parts.query, keep_blank_values=True, strict_parsing=False):
        if key not in POSTGRES_OPTIONS:
            raise InputError(f"DATABASE_URL: unknown option {key!r} (allowed: {', '.join(POSTGRES_OPTIONS)})")
        if key in options:
            raise InputError(f"DATABASE_URL: option {key!r} given twice")
        if key == PREPARED_OPTION and value not in PREPARED_VALUES:
            raise InputError(f"DATABASE_URL: option {key!r} is {value!r}; expected {' or '.join(PREPARED_VALUES)}")
        options[key] = value
    host = _raw_host(parts.netloc)
    return {
        "ENGINE": "prt.web.postgresql",  # Django's, its health check cheaper, the hot path prepared
        "NAME": name,
        "USER": unquote(parts.username or ""),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": host,
        "PORT": str(port) if port else "",
        "OPTIONS": options,
        # Kept for 10 minutes, checked at each request's start (prt.web.postgresql: no round trip
        # when the connection is quiet); a new connection costs PostgreSQL a process and its caches.
        "CONN_MAX_AGE": 600,
        "CONN_HEALTH_CHECKS": True,
    }


def _raw_host(netloc: str) -> str:
    """The host part of ``netloc``, percent-decoded with its case kept (a socket path is case-sensitive)."""
    host = netloc.rpartition("@")[2]
    if host.startswith("["):  # an IPv6 address
        return host[1:host.index("]")]
    return unquote(host.partition(":")[0])


def sqlite_database(folder: Path) -> dict:
    """Django's DATABASES entry for the embedded SQLite database in ``folder`` (WAL, immediate writes)."""
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(folder / SQLITE_FILE),
        # IMMEDIATE: a writing transaction takes the write lock at BEGIN, so two requests never both
        # read and then fail to upgrade ("database is locked"); they queue for up to `timeout` s.
        "OPTIONS": {"init_command": SQLITE_INIT, "transaction_mode": "IMMEDIATE", "timeout": 20},
    }


def database(environ: Mapping[str, str] | None = None) -> dict:
    """PostgreSQL when ``DATABASE_URL`` is set, else SQLite in the data folder."""
    url = _env(environ).get("DATABASE_URL")
    return parse_database_url(url) if url else sqlite_database(data_dir(environ))


def _whole(environ: Mapping[str, str], name: str, default: int, lo: int, hi: int) -> int:
    raw = (environ.get(name) or "").strip()
    if not raw:
        return default
    if not (raw.isascii() and raw.isdigit()) or not lo <= int(raw) <= hi:
        raise InputError(f"{name}: expected a whole number from {lo} to {hi}")
    return int(raw)


#: PRT_EMAIL_TLS values: STARTTLS on the submission port, TLS from the first byte, or none (a relay
#: on the same machine).
EMAIL_TLS_MODES = ("starttls", "tls", "none")


def email(data: Path, local: bool, environ: Mapping[str, str] | None = None) -> dict:
    """Django's e-mail settings: files in ``data/outbox`` in local mode (the demo), SMTP otherwise.

    The reminders (reminders/services.py) are the only mail the platform sends; the password is read
    from the environment and never printed.
    """
    env = _env(environ)
    settings: dict = {"DEFAULT_FROM_EMAIL": (env.get("PRT_EMAIL_FROM") or "PRT trial <noreply@localhost>").strip()}
    if local:
        settings.update(EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend",
                        EMAIL_FILE_PATH=str(data / "outbox"))
        return settings
    tls = (env.get("PRT_EMAIL_TLS") or "starttls").strip().lower()
    if tls not in EMAIL_TLS_MODES:
        raise InputError(f"PRT_EMAIL_TLS: expected one of {', '.join(EMAIL_TLS_MODES)}")
    settings.update(EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
                    EMAIL_HOST=(env.get("PRT_EMAIL_HOST") or "localhost").strip(),
                    EMAIL_PORT=_whole(env, "PRT_EMAIL_PORT", 587, 1, 65535),
                    EMAIL_HOST_USER=env.get("PRT_EMAIL_USER") or "",
                    EMAIL_HOST_PASSWORD=env.get("PRT_EMAIL_PASSWORD") or "",
                    EMAIL_USE_TLS=tls == "starttls", EMAIL_USE_SSL=tls == "tls", EMAIL_TIMEOUT=30)
    return settings


def public_url(local: bool, environ: Mapping[str, str] | None = None) -> str:
    """The address participants open (the link in a reminder): ``PRT_PUBLIC_URL``, https in production."""
    raw = (_env(environ).get("PRT_PUBLIC_URL") or ("http://127.0.0.1:8000" if local else "")).strip().rstrip("/")
    if raw and not raw.startswith("https://" if not local else ("http://", "https://")):
        raise InputError("PRT_PUBLIC_URL: expected an https:// address (the one participants open)")
    return raw


def reminders(environ: Mapping[str, str] | None = None) -> dict:
    """When reminders go out: not before ``PRT_REMINDER_HOUR`` at a site, again after an interval."""
    env = _env(environ)
    return {"PRT_REMINDER_HOUR": _whole(env, "PRT_REMINDER_HOUR", 9, 0, 23),
            "PRT_REMINDER_INTERVAL_DAYS": _whole(env, "PRT_REMINDER_INTERVAL_DAYS", 7, 1, 365)}


def program_curriculum(environ: Mapping[str, str] | None = None) -> Path | None:
    """A site's curriculum file (prt.program's override YAML, docs/program.md), or None: the packaged one."""
    raw = (_env(environ).get("PRT_PROGRAM_CURRICULUM") or "").strip()
    return Path(raw).expanduser().resolve() if raw else None


def attribution_model(environ: Mapping[str, str] | None = None) -> Path | None:
    """A trained pain-attribution coder (``prt attribution train``'s ``.npz``) that codes the causal
    item on submission, or None: prt.attribution's lemma coder, which needs no training (docs/attribution.md)."""
    raw = (_env(environ).get("PRT_ATTRIBUTION_MODEL") or "").strip()
    return Path(raw).expanduser().resolve() if raw else None
