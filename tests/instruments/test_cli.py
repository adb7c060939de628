"""``prt score`` and ``prt instruments``: JSON out, one stderr line and status 2 on bad input."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from prt.cli import main

PRT = Path(sys.executable).with_name("prt")


def _run(argv, capsys, stdin=None, monkeypatch=None):
    if stdin is not None:
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    status = main(argv)
    out, err = capsys.readouterr()
    return status, out, err


def test_score_from_file(tmp_path, capsys):
    path = tmp_path / "pcs.json"
    path.write_text(json.dumps({str(i): 2 for i in range(1, 14)}))
    status, out, err = _run(["score", "pcs", "--responses", str(path)], capsys)
    assert status == 0 and err == ""
    assert json.loads(out) == {"instrument": "pcs", "total": 26,
                               "subscales": {"rumination": 8, "magnification": 6, "helplessness": 12},
                               "answered": 13, "prorated": False}


def test_score_from_stdin_with_details(capsys, monkeypatch):
    responses = json.dumps({"1": 2, "2": 2, "3": 2, "4": 2, "5": 3, "6": 3, "7": 3, "8": 3})
    status, out, _ = _run(["score", "promis_anxiety", "--details"], capsys, responses, monkeypatch)
    assert status == 0
    assert json.loads(out) == {"instrument": "promis_anxiety", "total": 20, "subscales": {},
                               "answered": 8, "prorated": False, "t_score": 58.4, "band": "mild"}


def test_score_with_variant(capsys, monkeypatch):
    status, out, _ = _run(["score", "odi", "--variant", "redcap_1_6"], capsys,
                          json.dumps({str(i): 2 for i in range(1, 11)}), monkeypatch)
    assert status == 0 and json.loads(out)["total"] == 20.0


@pytest.mark.parametrize("argv, stdin, fragment", [
    (["score", "nope"], "{}", "unknown instrument 'nope'"),
    (["score", "odi"], '{"12": 1}', "unknown item '12'"),
    (["score", "odi"], '{"1": 9}', "item '1': expected one of its response codes (0=first"),
    (["score", "odi"], '{"1": "x"}', "item '1': not a number"),
    (["score", "odi"], '{"1": true}', "item '1': true/false"),
    (["score", "odi"], '{"1": 1, "2": 1}', "2 of 10 scored items answered"),
    (["score", "odi"], '{"1": 1,', "malformed JSON"),
    (["score", "odi"], '[1, 2]', "expected a JSON object"),
    (["score", "odi"], '{"1": NaN}', "NaN is not valid JSON"),
    (["score"], '{}', "INSTRUMENT_ID is required"),
])
def test_bad_input_exits_2_with_one_line(argv, stdin, fragment, capsys, monkeypatch):
    status, out, err = _run(argv, capsys, stdin, monkeypatch)
    assert status == 2
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("prt score: error: ")
    assert fragment in err


def test_missing_responses_file(capsys, tmp_path):
    status, out, err = _run(["score", "odi", "--responses", str(tmp_path / "none.json")], capsys)
    assert status == 2 and out == "" and "cannot read" in err


def test_instruments_lists_ids_and_titles(capsys):
    status, out, _ = _run(["instruments"], capsys)
    assert status == 0
    lines = dict(line.split("\t") for line in out.splitlines())
    assert lines["odi"] == "Oswestry Disability Index"
    assert {"bpi_sf", "pain_vas", "ipq_causes"} <= set(lines)


def test_instruments_show_and_fhir(capsys):
    status, out, _ = _run(["instruments", "--show", "tsk11"], capsys)
    assert status == 0 and json.loads(out)["score_range"] == [11, 44]
    status, out, _ = _run(["instruments", "--fhir", "tsk11"], capsys)
    q = json.loads(out)
    assert status == 0 and q["resourceType"] == "Questionnaire" and len(q["item"]) == 11
    status, out, err = _run(["instruments", "--fhir", "nope"], capsys)
    assert status == 2 and out == "" and "unknown instrument" in err


def test_real_subprocess_of_the_installed_command():
    assert PRT.exists(), PRT
    done = subprocess.run([str(PRT), "score", "sopa_emotion"], input='{"1": 3, "2": 4}',
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"instrument": "sopa_emotion", "total": 7, "subscales": {},
                                       "answered": 2, "prorated": False}
    bad = subprocess.run([str(PRT), "score", "sopa_emotion"], input='{"1": 6}',
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and bad.stdout == ""
    assert bad.stderr.strip().splitlines() == [bad.stderr.strip()]
    assert "item '1'" in bad.stderr and "5=very true for me" in bad.stderr
