"""Shared by the web benchmarks (run by hand, not tests): a private data folder and database, Django
set up in the benchmark's own process to write the fixture data, ``prt serve`` on a free loopback
port, signed-in sessions for many logins, and latency statistics.

Never touches ``./prt-data``: every run gets a new folder under the system temp dir (removed at
the end). With ``--database-url postgresql://...`` the benchmark creates its own database
``prt_bench_<pid>`` on that server (the URL's own database is only used to connect) and drops it
afterwards. Only loopback addresses are used.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
from dataclasses import dataclass
from http.client import HTTPConnection
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"
#: Django's CSRF cookie; the API wants its value back in this header (ninja's session auth).
CSRF_COOKIE, CSRF_HEADER = "csrftoken", "X-CSRFToken"
SESSION_COOKIE = "sessionid"


def add_common_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--database-url", default=None,
                        help="a PostgreSQL server as postgresql://user@host:port/db; the benchmark creates "
                             "its own database prt_bench_<pid> there and drops it afterwards "
                             "(default: SQLite in a temporary data folder)")
    parser.add_argument("--workers", type=int, default=None,
                        help="web workers (default: prt serve's own default, cores + 1)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (and print it)")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def machine() -> str:
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return (f"{os.cpu_count()} CPUs, Python {platform.python_version()}, load average before the run {load}")


class Bench:
    """A private data folder (and PostgreSQL database), Django set up on it in this process, and the
    server. Use as a context manager: everything is stopped and removed on exit."""

    def __init__(self, database_url: str | None = None, keep: bool = False) -> None:
        self.server_url = database_url
        self.keep = keep
        self.folder = Path(tempfile.mkdtemp(prefix="prt-web-bench-"))
        self.data = self.folder / "data"
        self.database_name: str | None = None
        self.server: subprocess.Popen | None = None
        self.port: int | None = None
        self.env: dict[str, str] = {}

    # ------------------------------------------------------------------ set-up and tear-down
    def __enter__(self) -> "Bench":
        env = {"PRT_DATA_DIR": str(self.data), "PRT_MODE": "local", "PRT_SECRET_KEY": secrets.token_urlsafe(64),
               "PRT_ALLOCATION_KEY_FILE": str(self.folder / "allocation.key"),
               "DJANGO_SETTINGS_MODULE": "prt.web.settings", "OPENBLAS_NUM_THREADS": "1"}
        for name in [k for k in os.environ if k.startswith(("PRT_", "DJANGO_")) or k == "DATABASE_URL"]:
            os.environ.pop(name)  # nothing of a real deployment's configuration leaks in
        try:
            if self.server_url:
                env["DATABASE_URL"] = self._create_database()
            self.env = env
            os.environ.update(env)
            from prt.web.cli import migrate, setup_django

            setup_django()
            migrate()
        except BaseException:
            self.__exit__(None, None, None)  # remove the folder (and database) made so far
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.stop_server()
        try:
            from django.db import connections

            connections.close_all()
        except Exception:  # pragma: no cover - Django never set up
            pass
        try:
            if self.database_name:
                self._drop_database()
        finally:
            if self.keep:
                print(f"kept {self.folder}", file=sys.stderr)
            else:
                shutil.rmtree(self.folder, ignore_errors=True)

    def _admin_connection(self):
        import psycopg

        from prt.web.config import parse_database_url

        db = parse_database_url(self.server_url)
        return psycopg.connect(dbname=db["NAME"], user=db["USER"] or None, password=db["PASSWORD"] or None,
                               host=db["HOST"] or None, port=db["PORT"] or None, autocommit=True,
                               **db["OPTIONS"])

    def _create_database(self) -> str:
        name = f"prt_bench_{os.getpid()}"
        with self._admin_connection() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            conn.execute(f'CREATE DATABASE "{name}"')
        self.database_name = name  # from here on it is dropped at the end
        parts = urllib.parse.urlsplit(self.server_url)
        return urllib.parse.urlunsplit(parts._replace(path="/" + name))

    def _drop_database(self) -> None:
        with self._admin_connection() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.database_name}" WITH (FORCE)')

    def database_backend_pids(self) -> list[int]:
        """PostgreSQL: the server processes serving this benchmark's database (their CPU is the
        database's share of a request); SQLite: none (it runs inside the workers)."""
        if not self.database_name:
            return []
        with self._admin_connection() as conn:
            rows = conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s", [self.database_name]).fetchall()
        return [pid for (pid,) in rows]

    @property
    def database(self) -> str:
        return "PostgreSQL" if self.database_name else "SQLite"

    # ------------------------------------------------------------------ the server
    def serve(self, workers: int | None = None, timeout: float = 60) -> str:
        """Start ``prt serve`` (migrate, then granian) on a free loopback port; its base URL."""
        self.port = free_port()
        argv = [sys.executable, "-m", "prt", "serve", "--host", HOST, "--port", str(self.port)]
        if workers:
            argv += ["--workers", str(workers)]
        log = open(self.folder / "server.log", "ab")
        self.server = subprocess.Popen(argv, env={**os.environ, **self.env}, stdout=log, stderr=log,
                                       cwd=self.folder, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.server.poll() is not None:
                raise RuntimeError(f"prt serve exited ({self.server.returncode}); see {self.folder / 'server.log'}")
            try:
                conn = HTTPConnection(HOST, self.port, timeout=2)
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    conn.close()
                    return f"http://{HOST}:{self.port}"
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError("prt serve did not answer /healthz in time")

    def stop_server(self) -> None:
        """SIGTERM to the server this benchmark started (graceful), SIGKILL if it lingers."""
        server, self.server = self.server, None
        if server is None or server.poll() is not None:
            return
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()

    def server_log_errors(self) -> list[str]:
        path = self.folder / "server.log"
        if not path.exists():
            return []
        lines = path.read_text(errors="replace").splitlines()
        return [line for line in lines if "Traceback" in line or "[ERROR]" in line or "[CRITICAL]" in line]


# ---------------------------------------------------------------------- fixture data
#: The benchmarks' site: a trial site in Boulder, as the published trial's.
SITE_TZ = "America/Denver"


def make_site(code: str = "bench", timezone: str = SITE_TZ):
    from prt.web.accounts.models import Site

    return Site.objects.create(code=code, name=f"Benchmark site {code}", timezone=timezone)


def make_participants(site, n: int, *, status: str = "enrolled", prefix: str = "BEN"):
    """``n`` participant logins and records at ``site`` (bulk: fixture data, not trial operations)."""
    from django.db import transaction

    from prt.web.accounts.models import Membership, User
    from prt.web.participants.models import Participant

    with transaction.atomic():
        users = User.objects.bulk_create([User(username=f"{prefix.lower()}-{i:05d}", password="!") for i in range(n)])
        if any(u.pk is None for u in users):  # backends that do not return ids from bulk inserts
            users = list(User.objects.filter(username__startswith=f"{prefix.lower()}-").order_by("username"))
        Membership.objects.bulk_create([Membership(user=u, site=site, role="participant") for u in users])
        arm = "prt" if status == "randomized" else ""
        Participant.objects.bulk_create([Participant(study_id=f"{prefix}-{i:05d}", site=site, user=u, status=status,
                                                     arm=arm) for i, u in enumerate(users)])
    return list(Participant.objects.filter(site=site, study_id__startswith=f"{prefix}-")
                .select_related("user", "site").order_by("study_id"))


@dataclass(frozen=True)
class Login:
    """What a browser holds after signing in: the session cookie and the CSRF cookie (= header)."""

    username: str
    session: str
    csrf: str

    def headers(self, json_body: bool = False) -> dict[str, str]:
        h = {"Cookie": f"{SESSION_COOKIE}={self.session}; {CSRF_COOKIE}={self.csrf}", "X-CSRFToken": self.csrf}
        if json_body:
            h["Content-Type"] = "application/json"
        return h


def sign_in(users, *, verified_staff: bool = False) -> list[Login]:
    """A session per user, as Django's ``login()`` stores it (auth user id, backend, hash); staff get
    a confirmed TOTP device and a session marked verified, as after a right code on the second-factor
    page. The CSRF cookie is a random 32-character secret, which Django accepts as cookie and header."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.db import transaction
    from django.utils.crypto import get_random_string

    from prt.web.accounts import twofactor
    from prt.web.accounts.sessions import SessionStore

    logins = []
    with transaction.atomic():
        for user in users:
            session = SessionStore()
            session[SESSION_KEY] = str(user.pk)
            session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
            session[HASH_SESSION_KEY] = user.get_session_auth_hash()
            if verified_staff:
                device = user.totpdevice_set.create(name="bench", confirmed=True)
                twofactor.mark_verified(session, device)
            session.create()
            csrf = get_random_string(32, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
            logins.append(Login(user.username, session.session_key, csrf))
    return logins


# ---------------------------------------------------------------------- HTTP and statistics
def request(conn: HTTPConnection, method: str, path: str, login: Login | None = None, body=None):
    """One request on a keep-alive connection (reopened when the server closed it); (status, bytes)."""
    headers = login.headers(json_body=body is not None) if login else {}
    data = json.dumps(body).encode() if body is not None else None
    for attempt in (1, 2):
        try:
            conn.request(method, path, body=data, headers=headers)
            response = conn.getresponse()
            content = response.read()
            if response.will_close:
                conn.close()
            return response.status, content
        except (ConnectionResetError, BrokenPipeError, ConnectionAbortedError) as exc:
            conn.close()  # a connection closed by the server between requests: one new try
            if attempt == 2:
                raise exc
        except OSError:
            conn.close()
            raise
    raise AssertionError("unreachable")


def percentile(sorted_values: list[float], q: float) -> float:
    """The q-th percentile (nearest rank) of already sorted values."""
    if not sorted_values:
        return float("nan")
    rank = max(1, min(len(sorted_values), int(-(-q * len(sorted_values) // 100))))
    return sorted_values[rank - 1]


def latency_row(times_s: list[float]) -> dict[str, float]:
    values = sorted(t * 1000 for t in times_s)
    return {"n": len(values), "p50": percentile(values, 50), "p95": percentile(values, 95),
            "p99": percentile(values, 99), "max": values[-1] if values else float("nan")}


def print_table(header: list[str], rows: list[list]) -> None:
    cells = [header] + [[f"{c:,.1f}" if isinstance(c, float) else (f"{c:,}" if isinstance(c, int) else str(c))
                         for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    for k, row in enumerate(cells):
        print("  ".join(c.rjust(w) if k and i else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths))))


def cpu_seconds(pids) -> dict[int, float]:
    """{pid: user + system CPU seconds} of the processes ``pids`` still alive (Linux /proc)."""
    tick, out = os.sysconf("SC_CLK_TCK"), {}
    for pid in pids:
        try:
            text = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        fields = text[text.rindex(")") + 2:].split()
        out[pid] = (int(fields[11]) + int(fields[12])) / tick
    return out


def machine_cpu() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot, all CPUs (Linux /proc/stat)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    tick = os.sysconf("SC_CLK_TCK")
    return (sum(fields[:8]) - idle) / tick, sum(fields[:8]) / tick


def cpu_used(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds used between two :func:`cpu_seconds` readings (a process new since counts from 0)."""
    return sum(cpu - before.get(pid, 0.0) for pid, cpu in after.items())


def process_tree_cpu(pid: int) -> dict[int, float]:
    """{pid: user + system CPU seconds} of process ``pid`` and each of its descendants now alive
    (Linux /proc)."""
    tick = os.sysconf("SC_CLK_TCK")
    children: dict[int, list[int]] = {}
    stats: dict[int, float] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            text = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = text[text.rindex(")") + 2:].split()
        children.setdefault(int(fields[1]), []).append(int(entry))
        stats[int(entry)] = (int(fields[11]) + int(fields[12])) / tick
    tree, todo = {}, [pid]
    while todo:
        p = todo.pop()
        tree[p] = stats.get(p, 0.0)
        todo.extend(children.get(p, []))
    return tree
