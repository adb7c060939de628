"""FHIR R4 exchange: each instrument as a ``Questionnaire``; score a ``QuestionnaireResponse``.

fhir.resources 8 defaults to FHIR R5; we validate with its ``fhir.resources.R4B`` models, which
accept R4-compatible resources (R4B changed no Questionnaire structure used here). linkId = item
number; canonical url ``urn:prt:questionnaire:<instrument id>``. Only finished responses are scored
(status ``completed`` or ``amended``, FHIR R4 QuestionnaireResponseStatus).
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

from prt.errors import InputError
from prt.files import MAX_DEPTH, loads_json
from prt.instruments.scoring import ScoreResult, normalize_responses, quoted

#: Statuses whose answers are final and scored (FHIR R4 QuestionnaireResponseStatus value set).
SCORED_STATUSES = ("completed", "amended")
#: Statuses of an unfinished form: scored only when the caller asks for partial scoring.
PARTIAL_STATUSES = ("in-progress", "stopped")

CANONICAL_PREFIX = "urn:prt:questionnaire:"
MIN_VALUE = "http://hl7.org/fhir/StructureDefinition/minValue"
MAX_VALUE = "http://hl7.org/fhir/StructureDefinition/maxValue"


def canonical_url(instrument_id: str) -> str:
    return CANONICAL_PREFIX + instrument_id


def _code(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


def _decimal_or_int(x: float) -> dict[str, Any]:
    return {"valueInteger": int(x)} if float(x).is_integer() else {"valueDecimal": x}


def questionnaire(instrument_id: str, wording_path: str | None = None) -> dict[str, Any]:
    """The instrument as a FHIR R4 Questionnaire (validated with fhir.resources R4B), as a dict."""
    from fhir.resources.R4B.questionnaire import Questionnaire

    from prt import __version__
    from prt.instruments import get
    from prt.instruments.wording import item_texts

    inst = get(instrument_id)
    texts = item_texts(inst.id, wording_path)
    items = []
    for item in inst.items:
        entry: dict[str, Any] = {"linkId": item.number, "text": texts[item.number]}
        if item.kind == "choice":
            entry["type"] = "choice"
            entry["answerOption"] = [
                {"valueCoding": {"system": canonical_url(inst.id) + ":item:" + item.number,
                                 "code": _code(code), "display": label}}
                for code, label in sorted(item.options.items())]
        elif item.kind == "numeric":
            entry["type"] = "decimal"
            entry["extension"] = [{"url": MIN_VALUE, "valueDecimal": item.minimum},
                                  {"url": MAX_VALUE, "valueDecimal": item.maximum}]
        else:
            entry["type"] = "string"
        items.append(entry)
    resource = {
        "resourceType": "Questionnaire",
        "id": inst.id.replace("_", "-"),
        "url": canonical_url(inst.id),
        "version": f"prt-{__version__}",
        "name": "".join(part.capitalize() for part in inst.id.split("_")),
        "title": inst.title,
        "status": "active",
        "description": inst.form + (f". {inst.notes}" if inst.notes else ""),
        "copyright": inst.license,
        "item": items,
    }
    model = Questionnaire.model_validate(resource)
    return json.loads(model.model_dump_json())


def questionnaire_response(instrument_id: str, responses: Any, variant: str | None = None
                           ) -> dict[str, Any]:
    """Answers as a completed FHIR R4 QuestionnaireResponse (validated), e.g. for round trips."""
    from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse

    from prt.instruments import get

    inst = get(instrument_id)
    answers = normalize_responses(inst, responses, variant)
    items = []
    for item in inst.items:
        if item.number not in answers:
            continue
        value = answers[item.number]
        if item.kind == "choice":
            answer = {"valueCoding": {"system": canonical_url(inst.id) + ":item:" + item.number,
                                      "code": _code(value), "display": item.options[value]}}
        elif item.kind == "numeric":
            answer = _decimal_or_int(value)
        else:
            answer = {"valueString": value}
        items.append({"linkId": item.number, "answer": [answer]})
    resource = {"resourceType": "QuestionnaireResponse", "status": "completed",
                "questionnaire": canonical_url(inst.id), "item": items}
    model = QuestionnaireResponse.model_validate(resource)
    return json.loads(model.model_dump_json())


def _instrument_of(canonical: str | None) -> str | None:
    if not canonical:
        return None
    url = canonical.split("|", 1)[0]
    if url.startswith(CANONICAL_PREFIX):
        return url[len(CANONICAL_PREFIX):]
    return None


def _walk(items, out: dict[str, Any], source: str, instrument_id: str) -> None:
    for item in items or []:
        if item.answer:
            if len(item.answer) > 1:
                raise InputError(f"{source} item {quoted(item.linkId)}: expected one answer")
            if item.linkId in out:
                raise InputError(f"{source} item {quoted(item.linkId)}: appears twice")
            out[item.linkId] = _answer_value(item.linkId, item.answer[0], source, instrument_id)
            _walk(item.answer[0].item, out, source, instrument_id)
        _walk(item.item, out, source, instrument_id)


def _answer_value(link_id: str, answer, source: str, instrument_id: str) -> Any:
    where = f"{source} item {quoted(link_id)}"
    if answer.valueInteger is not None:
        return int(answer.valueInteger)
    if answer.valueDecimal is not None:
        value = answer.valueDecimal
        if isinstance(value, Decimal):
            if not value.is_finite():
                raise InputError(f"{where}: valueDecimal is not a finite number")
            return int(value) if value == value.to_integral_value() else float(value)
        return value
    if answer.valueCoding is not None:
        code, system = answer.valueCoding.code, answer.valueCoding.system
        if code is None:
            raise InputError(f"{where}: valueCoding has no code")
        expected = f"{canonical_url(instrument_id)}:item:{str(link_id).strip()}"
        if system is not None and system != expected:
            # a code means something only in its own system: "5" of another item or instrument (or
            # of a site's own code system) is not this item's 5 (FHIR R4 Coding.system)
            raise InputError(f"{where}: valueCoding system {quoted(system, 60)} is not this item's code "
                             f"system {expected!r}")
        return code  # numeric text, checked against the item's codes when scored
    if answer.valueString is not None:
        return answer.valueString
    raise InputError(f"{where}: expected valueInteger, valueDecimal, valueCoding or valueString")


def _check_depth(value: Any, source: str) -> None:
    """Refuse structures nested deeper than prt.files.MAX_DEPTH before validating them (iteratively:
    the validator and :func:`_walk` recurse, and a 5,000-level resource would exhaust the stack)."""
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        if depth > MAX_DEPTH:
            raise InputError(f"{source}: nested more than {MAX_DEPTH} levels deep")
        stack.extend((child, depth + 1) for child in children)


def _check_status(status: str, source: str, partial: bool) -> None:
    """Only a finished form is scored: FHIR R4 QuestionnaireResponse.status (hl7.org/fhir/R4/
    valueset-questionnaire-answers-status.html). ``entered-in-error`` was never valid data."""
    if status in SCORED_STATUSES or partial and status in PARTIAL_STATUSES:
        return
    if status in PARTIAL_STATUSES:
        raise InputError(f"{source}: status '{status}' is an unfinished form; only completed or "
                         "amended responses are scored unless partial scoring is asked for "
                         "(prt score --partial)")
    if status == "entered-in-error":
        raise InputError(f"{source}: status 'entered-in-error' marks a response recorded in error; "
                         "it is not scored")
    raise InputError(f"{source}: 'status' is not a FHIR QuestionnaireResponse status; expected "
                     "completed or amended")


def responses_from_fhir(resource: Any, instrument_id: str | None = None, *, partial: bool = False,
                        source: str = "QuestionnaireResponse") -> tuple[str, dict[str, Any]]:
    """(instrument id, {linkId: value}) from a QuestionnaireResponse (dict or JSON text).

    JSON text is parsed strictly (prt.files.loads_json). Status must be ``completed`` or ``amended``;
    ``partial=True`` also admits ``in-progress`` and ``stopped``. Errors name ``source``.
    """
    from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse
    from pydantic import ValidationError

    if isinstance(resource, bytes):
        from prt.files import decode_text

        resource = decode_text(resource, source)
    if isinstance(resource, str):
        resource = loads_json(resource, source)
    if not isinstance(resource, dict) or resource.get("resourceType") != "QuestionnaireResponse":
        raise InputError(f"{source}: expected a FHIR resource with resourceType 'QuestionnaireResponse'")
    _check_depth(resource, source)
    try:
        model = QuestionnaireResponse.model_validate(resource)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(p) for p in first.get("loc", ()))
        kind = re.sub(r"\s+", " ", str(first.get("type", "invalid")))  # no input values echoed
        raise InputError(f"{source}: invalid FHIR R4 at '{loc}' ({kind})") from None
    _check_status(model.status, source, partial)
    declared = _instrument_of(model.questionnaire)
    if instrument_id is None:
        if declared is None:
            raise InputError(f"{source}: 'questionnaire' expected "
                             f"'{CANONICAL_PREFIX}<instrument id>' (or give the instrument id)")
        instrument_id = declared
    elif declared is not None and declared != instrument_id:
        raise InputError(f"{source}: 'questionnaire' names {quoted(declared)}, not {quoted(instrument_id)}")
    out: dict[str, Any] = {}
    _walk(model.item, out, source, instrument_id)
    return instrument_id, out


def score_questionnaire_response(resource: Any, instrument_id: str | None = None,
                                 variant: str | None = None, *, partial: bool = False,
                                 source: str = "QuestionnaireResponse") -> ScoreResult:
    """Score a FHIR QuestionnaireResponse; the instrument comes from its ``questionnaire`` url.

    >>> qr = questionnaire_response("pgic", {"1": 6})
    >>> qr["status"], qr["questionnaire"]
    ('completed', 'urn:prt:questionnaire:pgic')
    >>> score_questionnaire_response(qr).total
    6
    >>> score_questionnaire_response({**qr, "status": "entered-in-error"})
    Traceback (most recent call last):
    ...
    prt.errors.InputError: QuestionnaireResponse: status 'entered-in-error' marks a response recorded in error; it is not scored
    """
    from prt.instruments import score

    inst_id, responses = responses_from_fhir(resource, instrument_id, partial=partial, source=source)
    return score(inst_id, responses, variant=variant)


__all__ = ["CANONICAL_PREFIX", "PARTIAL_STATUSES", "SCORED_STATUSES", "canonical_url",
           "questionnaire", "questionnaire_response", "responses_from_fhir",
           "score_questionnaire_response"]
