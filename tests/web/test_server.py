"""prt.web.server: the granian server ``prt serve`` runs (its settings), the job worker beside it
(started, restarted when it dies, stopped), the environ without the server's environment, and the
platform preloaded and frozen before the workers are forked."""

from __future__ import annotations

import gc
import sys
import time

import pytest

from prt.web import server


def test_the_server_s_settings():
    from granian.constants import HTTPModes, Interfaces

    built = server.build("[::1]", 8443, 3)
    assert (built.bind_addr, built.bind_port, built.workers, built.blocking_threads) == ("::1", 8443, 3, 1)
    assert (built.interface, built.http, built.respawn_failed_workers) == (Interfaces.WSGI, HTTPModes.http1, True)
    assert built.workers_kill_timeout == server.STOP_TIMEOUT and built.log_access
    # the access log has the path, never the query string (no form values in logs)
    assert "%(path)s" in built.log_access_format and "query_string" not in built.log_access_format


@pytest.mark.parametrize("setting, hooks", [("1", 1), ("0", 0)])
def test_the_job_worker_starts_and_stops_with_the_server_unless_turned_off(monkeypatch, setting, hooks):
    monkeypatch.setenv("PRT_EMBEDDED_WORKER", setting)
    built = server.build("127.0.0.1", 8000, 1)
    assert (len(built.hooks_startup), len(built.hooks_shutdown)) == (hooks, hooks)


def test_the_job_worker_is_restarted_when_it_dies_and_stopped_with_the_server():
    worker = server.JobWorker([sys.executable, "-c", "pass"], restart_delay=0.05)
    worker.start()
    first = worker.process.pid
    deadline = time.monotonic() + 20
    while worker.process.pid == first and time.monotonic() < deadline:
        time.sleep(0.05)
    assert worker.process.pid != first  # exited, started again
    worker.stop()
    worker._thread.join(5)
    assert not worker._thread.is_alive()

    lasting = server.JobWorker([sys.executable, "-c", "import time; time.sleep(60)"])
    lasting.start()
    lasting.stop()
    assert lasting.process.poll() is not None  # terminated, not left running


def test_a_request_s_environ_holds_the_request_not_the_server_s_environment(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql://u:secret@db/trial")
    monkeypatch.setenv("PATH_INFO", "/not-from-the-request")  # an environment variable of a request key's name
    seen = {}
    monkeypatch.setattr("prt.web.wsgi.application", lambda environ, start: seen.update(environ) or [b""])
    app = server.application()
    environ = {"DATABASE_URL": "postgresql://u:secret@db/trial", "HOME": "/root", "PATH_INFO": "/api/diary",
               "REQUEST_METHOD": "POST", "HTTP_COOKIE": "sessionid=x", "wsgi.input": None}
    app(environ, None)
    assert "DATABASE_URL" not in seen and "HOME" not in seen
    assert (seen["PATH_INFO"], seen["REQUEST_METHOD"], seen["HTTP_COOKIE"]) == ("/api/diary", "POST", "sessionid=x")


@pytest.mark.django_db
def test_preload_loads_the_platform_closes_connections_and_freezes_it():
    from django.db import connections

    connections["default"].ensure_connection()
    try:
        server.preload()
        assert gc.get_freeze_count() > 0
        assert "prt.web.api" in sys.modules and "prt.web.diary.views" in sys.modules
    finally:
        gc.unfreeze()
