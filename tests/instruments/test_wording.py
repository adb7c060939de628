"""Licensed wording comes from a site's file (PRT_INSTRUMENT_WORDING); scoring never uses it."""

from __future__ import annotations

import pytest

import prt.instruments as instruments
from prt.errors import InputError
from prt.instruments.fhir import questionnaire
from prt.instruments.wording import ENV_VAR, item_texts, load_wording


def test_labels_without_a_wording_file(monkeypatch):
    monkeypatch.delenv(ENV_VAR, raising=False)
    assert load_wording() == {}
    assert item_texts("pgic")["1"] == instruments.get("pgic").item("1").label


def test_wording_file_replaces_labels_in_exports(monkeypatch, tmp_path):
    path = tmp_path / "wording.yaml"
    path.write_text("pcs:\n  1: 'Site-licensed text one.'\n", encoding="utf-8")
    monkeypatch.setenv(ENV_VAR, str(path))
    texts = item_texts("pcs")
    assert texts["1"] == "Site-licensed text one." and texts["2"] == instruments.get("pcs").item("2").label
    assert questionnaire("pcs")["item"][0]["text"] == "Site-licensed text one."
    before = instruments.score("pcs", {str(i): 1 for i in range(1, 14)})
    monkeypatch.delenv(ENV_VAR)
    assert instruments.score("pcs", {str(i): 1 for i in range(1, 14)}) == before


@pytest.mark.parametrize("content, fragment", [
    ("nope:\n  1: x\n", "unknown instrument 'nope'"),
    ("pcs:\n  99: x\n", "pcs has no item '99'"),
    ("pcs:\n  1: ''\n", "pcs item '1' expected non-empty text"),
    ("- a\n", "expected a mapping"),
    ("pcs: [\n", "not valid YAML"),
])
def test_bad_wording_file(tmp_path, content, fragment):
    path = tmp_path / "w.yaml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(InputError, match=fragment.replace("(", r"\(")):
        load_wording(path)


def test_unreadable_wording_file(tmp_path):
    with pytest.raises(InputError, match="cannot be read"):
        load_wording(tmp_path / "missing.yaml")
