"""Running ``prt`` in a child process with a clean web environment (a data folder of its own)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

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
