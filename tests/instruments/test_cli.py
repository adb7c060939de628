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
    (["score", "odi"], '{"1": NaN}', "NaN is not a JSON number"),
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
    assert status == 2 and out == "" and "none.json: cannot be read (No such file" in err


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


# ---- hardening: every bad file is one line naming the file, status 2, nothing on stdout ---------

SOPA = '{"1": 3, "2": 4}'
SOPA_OUT = {"instrument": "sopa_emotion", "total": 7, "subscales": {}, "answered": 2, "prorated": False}


def _one_error_line(status, out, err, *fragments):
    assert status == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("prt score: error: "), err
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in err, (fragment, err)


@pytest.mark.parametrize("content, fragments", [
    # a key given twice was silently last-wins ({"1": 5}); now refused, naming the key
    (b'{"1": 3, "1": 5, "2": 4}', ["key '1' appears more than once"]),
    (b"\x7fELF\x02\x01\x01\x00\x00\x00\x00binary", ["a binary file, expected UTF-8 text"]),
    (SOPA.encode("utf-16-le"), ["a binary file, expected UTF-8 text"]),  # UTF-16 without a BOM
    (b'{"1": 3, "2": \xff}', ["not UTF-8 text"]),
    (b"[" * 5000 + b"]" * 5000, ["nested more than 64 levels deep"]),
    (b"", ["malformed JSON at line 1, column 1"]),
    (b"[1, 2]", ["expected a JSON object"]),
])
def test_bad_responses_file(tmp_path, capsys, content, fragments):
    path = tmp_path / "answers.json"
    path.write_bytes(content)
    status, out, err = _run(["score", "sopa_emotion", "--responses", str(path)], capsys)
    _one_error_line(status, out, err, f"responses {path}: ", *fragments)


@pytest.mark.parametrize("encode", [
    lambda text: b"\xef\xbb\xbf" + text.encode("utf-8"),  # UTF-8 with BOM (was "malformed JSON")
    lambda text: text.encode("utf-16"),                   # UTF-16 with BOM
    lambda text: text.encode("utf-8"),
])
def test_responses_file_encodings_that_are_accepted(tmp_path, capsys, encode):
    path = tmp_path / "answers.json"
    path.write_bytes(encode(SOPA))
    status, out, err = _run(["score", "sopa_emotion", "--responses", str(path)], capsys)
    assert status == 0 and err == "" and json.loads(out) == SOPA_OUT


def test_directory_or_missing_file_names_the_path(tmp_path, capsys):
    for flag in ("--responses", "--fhir"):
        argv = ["score", "sopa_emotion", flag, str(tmp_path)]
        status, out, err = _run(argv, capsys)
        _one_error_line(status, out, err, f"{tmp_path}: cannot be read (is a directory, expected a file)")
        argv = ["score", "sopa_emotion", flag, str(tmp_path / "gone.json")]
        status, out, err = _run(argv, capsys)
        _one_error_line(status, out, err, f"{tmp_path / 'gone.json'}: cannot be read (No such file")


def test_binary_stdin_is_one_line(capsys, monkeypatch):
    class Stdin:
        buffer = io.BytesIO(b"\x00\x01\x02garbage")

    monkeypatch.setattr(sys, "stdin", Stdin())
    status, out, err = _run(["score", "sopa_emotion"], capsys)
    _one_error_line(status, out, err, "responses (stdin): a binary file")


def _qr(status="completed", **extra):
    return {"resourceType": "QuestionnaireResponse", "status": status,
            "questionnaire": "urn:prt:questionnaire:sopa_emotion",
            "item": [{"linkId": "1", "answer": [{"valueInteger": 3}]},
                     {"linkId": "2", "answer": [{"valueInteger": 4}]}], **extra}


@pytest.mark.parametrize("content, fragments", [
    (json.dumps(_qr("entered-in-error")).encode(), ["status 'entered-in-error'", "not scored"]),
    (json.dumps(_qr("draft-ish")).encode(), ["'status' is not a FHIR QuestionnaireResponse status"]),
    (json.dumps(_qr("in-progress")).encode(), ["status 'in-progress' is an unfinished form",
                                               "prt score --partial"]),
    (json.dumps(_qr("stopped")).encode(), ["status 'stopped' is an unfinished form"]),
    # FHIR nested 5,000 levels deep: was a RecursionError traceback
    (('{"resourceType": "QuestionnaireResponse", "status": "completed", "item": '
      + '[{"linkId": "g", "item": ' * 5000 + "[]" + "}]" * 5000 + "}").encode(),
     ["nested more than 64 levels deep"]),
    (b'{"resourceType": "QuestionnaireResponse", "resourceType": "Patient"}',
     ["key 'resourceType' appears more than once"]),
    (b"\x89PNG\r\n\x1a\n\x00\x00", ["a binary file"]),
    (b"{", ["malformed JSON at line 1, column 2"]),
])
def test_bad_fhir_file(tmp_path, capsys, content, fragments):
    path = tmp_path / "qr.json"
    path.write_bytes(content)
    status, out, err = _run(["score", "--fhir", str(path)], capsys)
    _one_error_line(status, out, err, f"QuestionnaireResponse {path}: ", *fragments)


def test_fhir_partial_scoring_is_explicit(tmp_path, capsys):
    path = tmp_path / "qr.json"
    path.write_text(json.dumps(_qr("stopped")), encoding="utf-8")
    status, out, err = _run(["score", "--fhir", str(path), "--partial"], capsys)
    assert status == 0 and json.loads(out) == SOPA_OUT
    path.write_text(json.dumps(_qr("entered-in-error")), encoding="utf-8")
    status, out, err = _run(["score", "--fhir", str(path), "--partial"], capsys)
    _one_error_line(status, out, err, "entered-in-error")
    status, out, err = _run(["score", "sopa_emotion", "--partial"], capsys)
    _one_error_line(status, out, err, "--partial applies to --fhir only")


def test_fhir_amended_and_utf8_bom_are_scored(tmp_path, capsys):
    path = tmp_path / "qr.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(_qr("amended")).encode())
    status, out, err = _run(["score", "--fhir", str(path)], capsys)
    assert status == 0 and err == "" and json.loads(out) == SOPA_OUT
