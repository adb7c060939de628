"""Shared fixtures: where the trial's public data lives, and skipping rules for it and for R.

Tests that need ``../shared/data`` skip with a reason when it is absent, and fail under CI
(``CI=true``), where it must be present (developers' guide).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("PRT_SHARED_DATA", REPO_ROOT.parent / "shared" / "data"))
BOULDER_DIR = SHARED_DATA / "boulder-back-pain-study"
BOULDER_WIDE = BOULDER_DIR / "redcap_wide.csv"
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def _need(condition: bool, reason: str) -> None:
    if condition:
        return
    if IN_CI:
        pytest.fail(f"{reason} (required under CI)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def boulder_wide_path() -> Path:
    """Path to the trial's REDCap flat export; skip (fail under CI) when absent."""
    _need(BOULDER_WIDE.is_file(), f"shared trial data not found at {BOULDER_WIDE}")
    return BOULDER_WIDE


@pytest.fixture(scope="session")
def rscript() -> str:
    """Path to Rscript with lmerTest installed; skip (fail under CI) when absent."""
    path = shutil.which("Rscript")
    _need(path is not None, "Rscript not installed (apt-get install r-base-core r-cran-lmertest)")
    import subprocess

    ok = subprocess.run([path, "-e", "library(lmerTest)"], capture_output=True).returncode == 0
    _need(ok, "R package lmerTest not installed (apt-get install r-cran-lmertest)")
    return path
