"""gunicorn settings that ``prt serve`` passes (``--config python:prt.web.gunicorn_conf``).

The embedded background worker: when gunicorn's master is ready it starts one ``prt web worker``
process, restarts it if it dies (at most once every ``RESTART_DELAY`` seconds) and stops it when
gunicorn exits, so ``prt serve`` alone runs the whole platform (web and job queue). A deployment
with workers of its own sets ``PRT_EMBEDDED_WORKER=0`` (``prt serve --no-worker``).
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading

RESTART_DELAY = 5.0
STOP_TIMEOUT = 20.0

_state: dict = {"process": None, "stopping": threading.Event()}


def worker_argv() -> list[str]:
    return [sys.executable, "-m", "prt", "web", "worker"]


def embedded_worker_enabled(environ=os.environ) -> bool:
    return environ.get("PRT_EMBEDDED_WORKER", "1") != "0"


def _supervise(server) -> None:
    stopping: threading.Event = _state["stopping"]
    while not stopping.is_set():
        process = subprocess.Popen(worker_argv())
        _state["process"] = process
        server.log.info("prt: background worker started (pid %s)", process.pid)
        code = process.wait()
        if stopping.is_set():
            return
        server.log.error("prt: background worker exited with %s; restarting in %s s", code, RESTART_DELAY)
        stopping.wait(RESTART_DELAY)


def post_worker_init(worker) -> None:
    """Move everything loaded so far (Django, the apps, the instrument definitions) out of the
    garbage collector's sight: a full collection then walks only what requests allocate, not the
    few hundred thousand objects of the loaded platform, which stalled a worker for tens of
    milliseconds now and then (docs.python.org/3/library/gc.html#gc.freeze)."""
    import gc

    gc.collect()
    gc.freeze()


def when_ready(server) -> None:
    if embedded_worker_enabled():
        threading.Thread(target=_supervise, args=(server,), name="prt-worker-supervisor", daemon=True).start()


def on_exit(server) -> None:
    _state["stopping"].set()
    process = _state["process"]
    if process is not None and process.poll() is None:
        process.terminate()  # db_worker finishes or abandons its task cleanly on SIGTERM
        try:
            process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
