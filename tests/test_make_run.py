"""`make run`, the README's first command, works end to end (into a temporary demo folder)."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from tests.conftest import BOULDER_WIDE, REPO_ROOT


@pytest.mark.slow
def test_make_run_writes_both_demo_reports(tmp_path):
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    demo = tmp_path / "demo"
    for _ in range(2):  # a second run replaces its own outputs
        done = subprocess.run(["make", "--no-print-directory", "run", f"DEMO={demo}"], cwd=REPO_ROOT,
                              capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr[-2000:]
    results = json.loads((demo / "simulated-analysis" / "results.json").read_text())
    assert results["meta"]["dataset"] == "simulated"
    assert (demo / "simulated-analysis" / "report.html").is_file()
    if BOULDER_WIDE.is_file():
        boulder = json.loads((demo / "boulder-analysis" / "results.json").read_text())
        assert boulder["meta"]["dataset"] == "boulder-back-pain-study"
