"""FHIR R4 (validated with fhir.resources R4B): Questionnaire export, QuestionnaireResponse scoring."""

from __future__ import annotations

import json

import pytest
from fhir.resources.R4B.questionnaire import Questionnaire
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse

import prt.instruments as instruments
from prt.cli import main
from prt.errors import InputError
from prt.instruments.fhir import (
    questionnaire,
    questionnaire_response,
    responses_from_fhir,
    score_questionnaire_response,
)

EXAMPLES = {
    "bpi_sf": {"1": 7, "2": 2, "3": 5, "4": 4, "5": 6, "6": 5, "7": 4, "9": 2, "10": 1},
    "odi": {str(i): i % 6 for i in range(1, 10)},
    "promis_sleep": {"1": 4, "2": 3, "3": 2, "4": 3, "5": 4, "6": 2, "7": 3, "8": 2},
    "panas_sf": {str(i): (i % 5) + 1 for i in range(1, 11)},
    "ceq": {"1": 72.5},
    "tx_satisfaction": {"1": 90},
    "ipq_causes": {"1": "stress", "3": "lifting"},
}


@pytest.mark.parametrize("inst_id", instruments.ids())
def test_questionnaire_is_valid_r4(inst_id):
    q = questionnaire(inst_id)
    Questionnaire.model_validate(q)
    inst = instruments.get(inst_id)
    assert [i["linkId"] for i in q["item"]] == list(inst.item_numbers)
    assert q["url"] == f"urn:prt:questionnaire:{inst_id}"
    for entry, item in zip(q["item"], inst.items):
        if item.kind == "choice":
            assert [o["valueCoding"]["code"] for o in entry["answerOption"]] == [
                str(int(c)) for c in sorted(item.options)]


@pytest.mark.parametrize("inst_id", sorted(EXAMPLES))
def test_round_trip_scores_identically(inst_id):
    responses = EXAMPLES[inst_id]
    qr = questionnaire_response(inst_id, responses)
    QuestionnaireResponse.model_validate(qr)
    text = json.dumps(qr)
    assert score_questionnaire_response(text) == instruments.score(inst_id, responses)
    found_id, found = responses_from_fhir(qr)
    assert found_id == inst_id and set(found) == set(responses)


def test_answer_types_and_nested_groups():
    qr = {"resourceType": "QuestionnaireResponse", "status": "completed",
          "questionnaire": "urn:prt:questionnaire:sopa_emotion|prt-0.1.0",
          "item": [{"linkId": "g", "item": [
              {"linkId": "1", "answer": [{"valueInteger": 3}]},
              {"linkId": "2", "answer": [{"valueDecimal": 4.0}]}]}]}
    # a group linkId that is not an item is ignored only if it carries no answer
    r = score_questionnaire_response(qr)
    assert r.total == 7
    qr["item"][0]["item"][1] = {"linkId": "2", "answer": [{"valueCoding": {"code": "5"}}]}
    assert score_questionnaire_response(qr).total == 8
    qr["item"][0]["item"][1] = {"linkId": "2", "answer": [{"valueString": "2"}]}
    assert score_questionnaire_response(qr).total == 5


def test_bad_responses():
    base = {"resourceType": "QuestionnaireResponse", "status": "completed",
            "questionnaire": "urn:prt:questionnaire:pgic",
            "item": [{"linkId": "1", "answer": [{"valueInteger": 9}]}]}
    with pytest.raises(InputError, match="pgic item '1'"):
        score_questionnaire_response(base)
    with pytest.raises(InputError, match="names 'pgic', not 'odi'"):
        score_questionnaire_response(base, "odi")
    with pytest.raises(InputError, match="resourceType 'QuestionnaireResponse'"):
        score_questionnaire_response({"resourceType": "Patient"})
    with pytest.raises(InputError, match="invalid FHIR R4"):
        score_questionnaire_response({**base, "item": [{"linkId": 5, "answer": "x"}]})
    with pytest.raises(InputError, match="questionnaire"):
        score_questionnaire_response({**base, "questionnaire": "http://example.org/q"})
    with pytest.raises(InputError, match="expected one answer"):
        score_questionnaire_response({**base, "item": [{"linkId": "1", "answer": [
            {"valueInteger": 1}, {"valueInteger": 2}]}]})
    with pytest.raises(InputError, match="malformed JSON at line 1, column 2"):
        score_questionnaire_response("{")


def test_cli_scores_a_fhir_file(tmp_path, capsys):
    path = tmp_path / "qr.json"
    path.write_text(json.dumps(questionnaire_response("pcs", {str(i): 1 for i in range(1, 14)})))
    assert main(["score", "--fhir", str(path)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["instrument"] == "pcs" and out["total"] == 13


# ---- status: only a finished form is scored -------------------------------------------------------

def _sopa_qr(status):
    return {"resourceType": "QuestionnaireResponse", "status": status,
            "questionnaire": "urn:prt:questionnaire:sopa_emotion",
            "item": [{"linkId": "1", "answer": [{"valueInteger": 3}]},
                     {"linkId": "2", "answer": [{"valueInteger": 4}]}]}


@pytest.mark.parametrize("status", ["completed", "amended"])
def test_finished_statuses_are_scored(status):
    assert score_questionnaire_response(_sopa_qr(status)).total == 7


@pytest.mark.parametrize("status, fragment", [
    ("entered-in-error", "status 'entered-in-error' marks a response recorded in error"),
    ("in-progress", "status 'in-progress' is an unfinished form"),
    ("stopped", "status 'stopped' is an unfinished form"),
    ("Completed", "'status' is not a FHIR QuestionnaireResponse status"),
    ("final", "'status' is not a FHIR QuestionnaireResponse status"),
])
def test_other_statuses_are_refused(status, fragment):
    with pytest.raises(InputError, match=fragment):
        score_questionnaire_response(_sopa_qr(status))


def test_missing_status_is_invalid_fhir():
    qr = _sopa_qr("completed")
    del qr["status"]
    with pytest.raises(InputError, match="invalid FHIR R4 at 'status'"):
        score_questionnaire_response(qr)


def test_partial_scoring_admits_unfinished_forms_under_the_missing_rules():
    for status in ("in-progress", "stopped"):
        assert score_questionnaire_response(_sopa_qr(status), partial=True).total == 7
    stopped = {**_sopa_qr("stopped"), "item": [{"linkId": "3", "answer": [{"valueInteger": 6}]}]}
    stopped["questionnaire"] = "urn:prt:questionnaire:bpi_sf"
    r = score_questionnaire_response(stopped, partial=True)  # average pain alone, BPI
    assert r.subscales["average_pain"] == 6 and r.total is None
    with pytest.raises(InputError, match="sopa_emotion: 1 of 2"):
        score_questionnaire_response({**_sopa_qr("stopped"), "item": _sopa_qr("x")["item"][:1]},
                                     partial=True)
    with pytest.raises(InputError, match="entered-in-error"):
        score_questionnaire_response(_sopa_qr("entered-in-error"), partial=True)


def test_deeply_nested_resource_is_refused_without_recursion():
    item = {"linkId": "g"}
    for _ in range(5000):
        item = {"linkId": "g", "item": [item]}
    qr = {**_sopa_qr("completed"), "item": [item]}
    with pytest.raises(InputError, match="nested more than 64 levels deep"):
        score_questionnaire_response(qr)
    with pytest.raises(InputError, match="nested more than 64 levels deep"):
        score_questionnaire_response(json.dumps({**_sopa_qr("completed"), "item": [
            {"linkId": "g", "item": [{"linkId": "g"}]}]})[:-1] + "[" * 100 + "]" * 100 + "}")


def test_duplicate_json_keys_and_non_finite_decimals_are_refused():
    with pytest.raises(InputError, match="key 'status' appears more than once"):
        score_questionnaire_response(
            '{"resourceType": "QuestionnaireResponse", "status": "entered-in-error", '
            '"status": "completed"}')
    qr = {**_sopa_qr("completed"), "item": [{"linkId": "1", "answer": [{"valueDecimal": 1e999}]}]}
    with pytest.raises(InputError, match="item.0.answer.0.valueDecimal"):
        score_questionnaire_response(qr)


def test_source_names_the_file_in_messages():
    with pytest.raises(InputError, match=r"^QuestionnaireResponse qr.json: status 'stopped'"):
        score_questionnaire_response(_sopa_qr("stopped"), source="QuestionnaireResponse qr.json")


@pytest.mark.parametrize("system", ["urn:prt:questionnaire:odi:item:1", "urn:prt:questionnaire:bpi_sf:item:2",
                                    "http://loinc.org", "http://example.org/our-site-codes"])
def test_a_code_from_another_code_system_is_refused(system):
    """Issue 12 round 2: ODI item 1's code 5 (or a site's own code 5) was scored as BPI item 1 = 5."""
    qr = questionnaire_response("bpi_sf", EXAMPLES["bpi_sf"])
    assert qr["item"][0]["answer"][0]["valueCoding"]["system"] == "urn:prt:questionnaire:bpi_sf:item:1"
    assert score_questionnaire_response(qr).total == 4.5       # prt's own system: read
    qr["item"][0]["answer"][0]["valueCoding"]["system"] = system
    with pytest.raises(InputError, match="item '1': valueCoding system .* is not this item's code system"):
        score_questionnaire_response(qr)
    del qr["item"][0]["answer"][0]["valueCoding"]["system"]
    assert score_questionnaire_response(qr).total == 4.5       # a bare code is read as this item's
