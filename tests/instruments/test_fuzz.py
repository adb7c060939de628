"""Fuzz tests of both input surfaces of scoring: JSON responses and FHIR QuestionnaireResponses.

Whatever arrives (any JSON value, any bytes, FHIR-shaped nonsense), scoring ends in a ScoreResult or
an InputError, never another exception; and valid answers survive FHIR export -> scoring unchanged.
"""

from __future__ import annotations

import dataclasses
import json
import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import prt.instruments as instruments
from prt.errors import InputError
from prt.files import decode_text
from prt.instruments import (
    ScoreResult,
    questionnaire_response,
    responses_from_json,
    score,
    score_questionnaire_response,
)
from prt.instruments.fhir import PARTIAL_STATUSES, SCORED_STATUSES, canonical_url

IDS = instruments.ids()
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

scalars = (st.none() | st.booleans() | st.integers() | st.integers(-(10 ** 30), 10 ** 30)
           | st.floats() | st.text(max_size=8)
           | st.sampled_from(["", " ", "3", "2.0", "1e999", "NaN", "1_0", "\u0663", 10 ** 400, -0.0]))
finite_scalars = scalars.filter(lambda v: not (isinstance(v, float) and not math.isfinite(v)))
json_values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(st.text(max_size=4), inner, max_size=4), max_leaves=20)
item_keys = st.sampled_from([str(n) for n in range(0, 15)] + ["", " 1", "1 ", "01", "x"])
responses_like = st.dictionaries(item_keys | st.integers(-2, 14), scalars | json_values, max_size=14)


def _outcome(call, *args, **kwargs):
    """Run one scoring call: a ScoreResult or an InputError, anything else fails the test."""
    try:
        result = call(*args, **kwargs)
    except InputError as exc:
        assert str(exc) and "\n" not in str(exc)
        return exc
    assert isinstance(result, ScoreResult)
    return result


# ---- JSON responses -------------------------------------------------------------------------------

@FUZZ
@given(inst_id=st.sampled_from(IDS), value=json_values | responses_like,
       variant=st.none() | st.sampled_from(["redcap_1_6", "printed_scores", "nope"]))
def test_any_value_scores_or_is_an_input_error(inst_id, value, variant):
    _outcome(score, inst_id, value, variant=variant)


@FUZZ
@given(inst_id=st.sampled_from(IDS), value=json_values | responses_like)
def test_any_json_text_scores_or_is_an_input_error(inst_id, value):
    text = json.dumps(value)  # NaN/Infinity written as such: must be refused, not scored
    outcome = _outcome(lambda: score(inst_id, responses_from_json(text, "responses")))
    if isinstance(outcome, ScoreResult):
        assert "NaN" not in text and "Infinity" not in text


@FUZZ
@given(inst_id=st.sampled_from(IDS), data=st.binary(max_size=200))
def test_any_bytes_score_or_are_an_input_error(inst_id, data):
    _outcome(lambda: score(inst_id, responses_from_json(decode_text(data, "responses"))))


@FUZZ
@given(key=item_keys, first=finite_scalars, second=finite_scalars)
def test_a_key_given_twice_is_never_last_wins(key, first, second):
    text = "{" + json.dumps(key) + ": " + json.dumps(first) + ", " + json.dumps(key) + ": " \
        + json.dumps(second) + "}"
    with pytest.raises(InputError, match="appears more than once"):
        responses_from_json(text, "responses")


# ---- FHIR QuestionnaireResponse -------------------------------------------------------------------

link_ids = st.sampled_from([str(n) for n in range(0, 14)] + ["g", ""]) | st.text(max_size=3)
answers = st.one_of(
    st.builds(lambda v: {"valueInteger": v}, st.integers(-10, 110) | st.integers() | scalars),
    st.builds(lambda v: {"valueDecimal": v}, st.floats() | st.integers() | scalars),
    st.builds(lambda c: {"valueCoding": {"code": c}}, st.text(max_size=4) | st.sampled_from(["1", "5", "7", " 3"])),
    st.builds(lambda c: {"valueCoding": {"display": c}}, st.text(max_size=4)),
    st.builds(lambda v: {"valueString": v}, st.text(max_size=6)),
    st.builds(lambda v: {"valueBoolean": v}, st.booleans() | scalars),
    json_values,
)
items = st.recursive(
    st.fixed_dictionaries({"linkId": link_ids}, optional={"answer": st.lists(answers, max_size=2)}),
    lambda inner: st.fixed_dictionaries({"linkId": link_ids}, optional={
        "item": st.lists(inner, max_size=3), "answer": st.lists(answers, max_size=2)}),
    max_leaves=12)
statuses = st.sampled_from([*SCORED_STATUSES, *PARTIAL_STATUSES, "entered-in-error", "", "done"]) | scalars
questionnaires = st.sampled_from([canonical_url(i) for i in IDS] + [canonical_url("pgic") + "|prt-0.1",
                                                                    "urn:prt:questionnaire:", "x"]) | scalars
fhir_like = st.fixed_dictionaries(
    {"resourceType": st.just("QuestionnaireResponse"), "status": statuses},
    optional={"questionnaire": questionnaires, "item": st.lists(items, max_size=6) | json_values,
              "id": st.text(max_size=5) | scalars, "extra": json_values})


@FUZZ
@given(resource=fhir_like, inst_id=st.none() | st.sampled_from(IDS), partial=st.booleans())
def test_any_fhir_shaped_resource_scores_or_is_an_input_error(resource, inst_id, partial):
    outcome = _outcome(score_questionnaire_response, resource, inst_id, partial=partial)
    if isinstance(outcome, ScoreResult):
        assert resource["status"] in SCORED_STATUSES + (PARTIAL_STATUSES if partial else ())
    text = json.dumps(resource)  # the same resource as a file's text
    assert type(_outcome(score_questionnaire_response, text, inst_id, partial=partial)) is type(outcome)


@FUZZ
@given(value=json_values, data=st.binary(max_size=200))
def test_any_json_value_or_bytes_as_fhir_is_an_input_error(value, data):
    _outcome(score_questionnaire_response, value)
    _outcome(score_questionnaire_response, json.dumps(value))
    _outcome(score_questionnaire_response, data)


# ---- round trip: FHIR export -> scoring gives the same scores -------------------------------------

def _answer(item):
    if item.kind == "choice":
        return st.sampled_from(sorted(item.options))
    if item.kind == "numeric":
        return st.floats(item.minimum, item.maximum, allow_nan=False) | st.integers(
            int(item.minimum), int(item.maximum))
    return st.text(min_size=1, max_size=12).filter(str.strip)


@st.composite
def valid_responses(draw):
    inst = instruments.get(draw(st.sampled_from(IDS)))
    keep = draw(st.lists(st.sampled_from(inst.item_numbers), unique=True, min_size=1))
    return inst.id, {n: draw(_answer(inst.item(n))) for n in keep}


@FUZZ
@given(case=valid_responses(), as_text=st.booleans())
def test_fhir_round_trip_scores_identically(case, as_text):
    inst_id, responses = case
    try:
        expected = score(inst_id, responses)
    except InputError as exc:  # too few answers: the FHIR route refuses with the same message
        with pytest.raises(InputError) as via_fhir:
            score_questionnaire_response(questionnaire_response(inst_id, responses))
        assert str(via_fhir.value) == str(exc)
        return
    qr = questionnaire_response(inst_id, responses)
    got = score_questionnaire_response(json.dumps(qr) if as_text else qr)
    assert got == expected
    assert got.items == expected.items


@pytest.mark.parametrize("inst_id, variant", [
    (i, v) for i in IDS for v in instruments.get(i).capture_variants])
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_fhir_round_trip_of_a_capture_variant(inst_id, variant, data):
    # The export carries the form's own codes, so the FHIR side scores without the variant.
    inst = instruments.get(inst_id)
    recode = inst.capture_variants[variant]
    responses = {item.number: data.draw(st.sampled_from(sorted(recode.recode)))
                 if item.number in recode.items else data.draw(_answer(item)) for item in inst.items}
    expected = score(inst_id, responses, variant=variant)
    got = score_questionnaire_response(questionnaire_response(inst_id, responses, variant))
    assert got == dataclasses.replace(expected, variant=None)
    if isinstance(expected.total, float):
        assert math.isfinite(expected.total)
