"""The platform's HTTP server, as ``prt serve`` runs it: granian's WSGI workers and the job worker.

Why granian, not gunicorn: the API's clients (the participants' phones, the load generator of
docs/benchmarks.md) keep their connections open between requests, and granian parses HTTP in Rust
and keeps HTTP/1.1 connections alive, where gunicorn's sync worker parses in Python and closes the
connection after every answer. On 2 cores, 300 diary submissions a second: gunicorn answered with a
p99 of 639-690 ms, granian with 19-72 ms, on SQLite and PostgreSQL (docs/benchmarks.md, "Web platform").

- Workers: ``workers`` processes forked from this one after Django, the URL tree and the API are
  loaded and moved out of the garbage collector's sight (``gc.freeze``), each running one request
  at a time (one blocking thread: a request here is mostly CPU, and a database connection is per
  thread); a worker that dies is started again.
- The job worker: when the server starts it starts one ``prt web worker`` process, restarts it if
  it dies (at most once every ``RESTART_DELAY`` seconds) and stops it when the server stops, so
  ``prt serve`` alone runs the whole platform. A deployment with workers of its own sets
  ``PRT_EMBEDDED_WORKER=0`` (``prt serve --no-worker``).
- The access log has the path only, never the query string (no form values in logs).
- Each request's WSGI environ holds the request only: granian copies the server's environment
  (``DATABASE_URL``, secrets) into every environ, and :func:`application` takes it out again.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading

RESTART_DELAY = 5.0
#: Seconds a stopping worker (web or job) gets to finish before it is killed.
STOP_TIMEOUT = 20
#: The access log's line: remote address, time, request line without the query string, status, ms.
ACCESS_LOG_FORMAT = '%(addr)s [%(time)s] "%(method)s %(path)s %(protocol)s" %(status)d %(dt_ms).1fms'
#: The WSGI environ's own keys, which an environment variable of the same name must not remove.
REQUEST_KEYS = frozenset({"REQUEST_METHOD", "SCRIPT_NAME", "PATH_INFO", "QUERY_STRING", "CONTENT_TYPE",
                          "CONTENT_LENGTH", "SERVER_NAME", "SERVER_PORT", "SERVER_PROTOCOL", "REMOTE_ADDR",
                          "REMOTE_PORT", "GATEWAY_INTERFACE", "SERVER_SOFTWARE", "RAW_URI", "REQUEST_URI"})

log = logging.getLogger("prt.web.server")


def worker_argv() -> list[str]:
    return [sys.executable, "-m", "prt", "web", "worker"]


def embedded_worker_enabled(environ=os.environ) -> bool:
    return environ.get("PRT_EMBEDDED_WORKER", "1") != "0"


class JobWorker:
    """The embedded ``prt web worker`` process: started with the server, restarted when it dies,
    stopped with the server."""

    def __init__(self, argv: list[str] | None = None, restart_delay: float = RESTART_DELAY) -> None:
        self.argv = argv or worker_argv()
        self.restart_delay = restart_delay
        self.process: subprocess.Popen | None = None
        self.stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def _start_process(self) -> subprocess.Popen:
        process = subprocess.Popen(self.argv)
        self.process = process
        log.info("prt: background worker started (pid %s)", process.pid)
        return process

    def start(self) -> None:
        """Start the process now (before the web workers are forked: no thread is mid-way through
        anything then) and a thread that waits for it and restarts it."""
        process = self._start_process()
        self._thread = threading.Thread(target=self._supervise, args=(process,), name="prt-worker-supervisor",
                                        daemon=True)
        self._thread.start()

    def _supervise(self, process: subprocess.Popen) -> None:
        while True:
            code = process.wait()
            if self.stopping.is_set():
                return
            log.error("prt: background worker exited with %s; restarting in %s s", code, self.restart_delay)
            if self.stopping.wait(self.restart_delay):
                return
            process = self._start_process()

    def stop(self) -> None:
        self.stopping.set()
        process = self.process
        if process is not None and process.poll() is None:
            process.terminate()  # db_worker finishes or abandons its task cleanly on SIGTERM
            try:
                process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _without_environment(app, inherited: frozenset[str]):
    def application(environ, start_response):
        for key in inherited:
            environ.pop(key, None)
        return app(environ, start_response)

    return application


def application(target: str | None = None):
    """The WSGI application the workers serve: Django's handler (``prt.web.wsgi``), each request's
    environ without the server's environment variables (granian's worker copies them in)."""
    from prt.web.wsgi import application as django_application

    inherited = frozenset(k for k in os.environ if k not in REQUEST_KEYS and not k.startswith(("HTTP_", "wsgi.")))
    return _without_environment(django_application, inherited)


def preload() -> None:
    """Load what every request needs (Django's handler, the URL tree, the API and its schemas) in
    this process, close its database connections, and freeze the loaded objects out of the garbage
    collector's sight, so forked workers share them and a full collection walks only what requests
    allocate (docs.python.org/3/library/gc.html#gc.freeze; it stalled a worker for tens of ms)."""
    import gc

    from django.db import connections
    from django.urls import get_resolver

    from prt.web import wsgi  # noqa: F401 - Django's handler and its middleware

    get_resolver().url_patterns  # noqa: B018 - imports every view, the API and its schemas
    connections.close_all()  # a forked worker opens its own; never one shared with this process
    gc.collect()
    gc.freeze()


def build(host: str, port: int, workers: int):
    """The granian server ``prt serve`` runs (not started)."""
    from granian.constants import HTTPModes, Interfaces
    from granian.log import LOGGING_CONFIG
    from granian.server import Server

    loggers = {**LOGGING_CONFIG["loggers"], log.name: {"handlers": ["console"], "level": "INFO", "propagate": False}}
    server = Server("prt.web.wsgi:application", address=host.strip("[]"), port=port, interface=Interfaces.WSGI,
                    workers=workers, blocking_threads=1, http=HTTPModes.http1, websockets=False,
                    log_access=True, log_access_format=ACCESS_LOG_FORMAT, log_dictconfig={"loggers": loggers},
                    respawn_failed_workers=True, workers_kill_timeout=STOP_TIMEOUT)
    if embedded_worker_enabled():
        job_worker = JobWorker()
        server.on_startup(job_worker.start)
        server.on_shutdown(job_worker.stop)
    return server


def serve(host: str, port: int, workers: int) -> None:
    """Preload the platform, then serve until SIGINT or SIGTERM (graceful: requests in progress
    finish, for at most ``STOP_TIMEOUT`` seconds)."""
    preload()
    build(host, port, workers).serve(target_loader=application, wrap_loader=True)
