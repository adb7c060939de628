"""``prt program validate`` and ``prt program fidelity``: output, exit statuses, one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.program.test_fidelity import RATINGS_CSV


def test_validate_the_packaged_curriculum(run):
    status, out, err = run("program", "validate")
    assert status == 0 and err == ""
    lines = out.splitlines()
    assert lines[0] == "valid: curriculum prt version 1 (packaged curriculum content/curriculum.yaml)"
    assert "components: 5 (core: education, evidence, somatic_tracking; as needed: emotional_threats, " \
           "positive_states)" in out
    assert sum(line.startswith("  session ") for line in lines) == 8
    assert "fidelity: 6 elements; reference mean 4.93 (SD 0.87), minimum 3" in out
    assert "control arm usual_care: 3 items, event workbook; released after post: workbook, self_help_website" in out


def test_validate_a_site_file_and_print_json(run, tmp_path):
    site = tmp_path / "boston.yaml"
    site.write_text("site: boston\nversion: 3\nsessions:\n  - {number: 2, title: Evidence first}\n",
                    encoding="utf-8")
    status, out, _ = run("program", "validate", site)
    assert status == 0
    assert out.splitlines()[0] == f"valid: curriculum prt+boston version 1+boston:3 (site curriculum {site})"
    assert "session  2  Evidence first" in out
    status, out, _ = run("program", "validate", site, "--json")
    data = json.loads(out)
    assert data["site"] == "boston" and data["sessions"][1]["title"] == "Evidence first"


def test_validate_refuses_a_bad_file_with_one_line_and_status_2(run, tmp_path):
    site = tmp_path / "bad.yaml"
    site.write_text("site: bad\nsessions:\n  - {number: 1, steps: [pain_from_brain, nope]}\n", encoding="utf-8")
    status, out, err = run("program", "validate", site)
    assert status == 2 and out == ""
    assert err == (f"prt program validate: error: site curriculum {site}: key 'sessions[1].steps': "
                   "unknown step 'nope'\n")
    status, _, err = run("program", "validate", tmp_path / "absent.yaml")
    assert status == 2 and err.count("\n") == 1 and "absent.yaml" in err
    status, _, err = run("program", "validate", "--base", site)
    assert status == 2 and "--base needs a site FILE" in err


def test_fidelity_table_with_the_reference(run, tmp_path):
    path = tmp_path / "ratings.csv"
    path.write_text(RATINGS_CSV, encoding="utf-8")
    status, out, err = run("program", "fidelity", path)
    assert status == 0 and err == ""
    lines = out.splitlines()
    assert lines[0] == (f"fidelity: {path}: 6 rated sessions, 4 patients, 2 therapists; score = elements present of 6")
    assert lines[2].split() == ["all", "6", "4.17", "1.47", "2", "6", "1"]
    assert lines[3].split()[:5] == ["trial", "reference", "4.93", "0.87", "3"]
    assert lines[4].split() == ["therapist", "T1", "3", "5.00", "1.00", "4", "6", "0"]
    assert lines[5].split() == ["therapist", "T2", "3", "3.33", "1.53", "2", "5", "1"]
    assert "patient P2" in out and lines[7].split() == ["patient", "P2", "1", "4.00", "-", "4", "4", "0"]
    assert "  2. evidence: 4/6 (67%)" in out
    assert "  patient P4 session 4 (therapist T2): 2" in out
    status, out, _ = run("program", "fidelity", path, "--json")
    assert json.loads(out)["overall"]["mean"] == 25 / 6


def test_fidelity_bad_file_is_one_line(run, tmp_path):
    path = tmp_path / "ratings.csv"
    path.write_text("therapist,participant,session\nT1,P1,2\n", encoding="utf-8")
    status, out, err = run("program", "fidelity", path)
    assert status == 2 and out == "" and err.count("\n") == 1
    assert "no column education, evidence" in err


def test_program_alone_prints_help_and_exits_2(run):
    status, out, _ = run("program")
    assert status == 2 and "validate" in out and "fidelity" in out


def test_help_stays_light():
    code = ("import sys, prt.cli; r = prt.cli.REGISTRARS; "
            "prt.cli.REGISTRARS = r if 'prt.program.cli' in r else (*r, 'prt.program.cli'); prt.cli.build_parser(); "
            "print(sorted(m for m in ('numpy', 'pandas', 'prt.program.curriculum') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
