"""The package's public surface: ``prt.instruments.__all__`` names its entry points, and they import."""

from __future__ import annotations

import prt.instruments as instruments

ENTRY_POINTS = {
    "score", "ScoreResult", "get", "ids", "t_score", "definition_dict", "INSTRUMENTS",
    "questionnaire", "questionnaire_response", "score_questionnaire_response", "responses_from_fhir",
    "responses_from_json", "Instrument", "load_instrument", "Wording", "load_wording", "item_texts",
}


def test_all_lists_the_entry_points_and_each_is_importable():
    assert ENTRY_POINTS <= set(instruments.__all__)
    assert len(instruments.__all__) == len(set(instruments.__all__))
    for name in instruments.__all__:
        assert getattr(instruments, name) is not None, name
    namespace: dict = {}
    exec("from prt.instruments import *", namespace)  # noqa: S102 - our own package
    assert set(instruments.__all__) <= set(namespace)


def test_entry_points_are_the_implementations():
    from prt.instruments import fhir, model, wording

    assert instruments.questionnaire is fhir.questionnaire
    assert instruments.score_questionnaire_response is fhir.score_questionnaire_response
    assert instruments.load_instrument is model.load_instrument
    assert instruments.load_wording is wording.load_wording
    assert instruments.Instrument.from_dict.__self__ is model.Instrument
