"""Running ``prt`` in a child process with a clean web environment (a data folder of its own), and
running one function in several threads at once."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Callable

#: Runs prt's CLI in a child process (``python -c PRT ARGS...``).
PRT = "import sys, prt.cli\nsys.exit(prt.cli.main(sys.argv[1:]))\n"


def web_env(data_dir: Path, **extra: str) -> dict:
    """The environment of a child process: SQLite in ``data_dir``; no inherited prt or Django settings
    and no DATABASE_URL (a child must never migrate or fill a real PostgreSQL database)."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PRT_", "DJANGO_")) and k != "DATABASE_URL"}
    env.update({"PRT_DATA_DIR": str(data_dir), **extra})
    return env


def run_prt(args: list[str], env: dict, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", PRT, *args], env=env, capture_output=True, text=True,
                          timeout=timeout)


def in_threads(target: Callable[[], object], count: int) -> None:
    """Run ``target`` in ``count`` threads at once and wait for them; each thread's database
    connections (Django's are per thread) are closed when it ends, so none outlives the test."""
    from django.db import connections

    def run():
        try:
            target()
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
