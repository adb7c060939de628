"""Licensed wording comes from a site's file (PRT_INSTRUMENT_WORDING); scoring never uses it."""

from __future__ import annotations

import pytest

import prt.instruments as instruments
from prt.errors import InputError
from prt.instruments.fhir import questionnaire
from prt.instruments.wording import ENV_VAR, Wording, item_texts, load_wording


def test_labels_without_a_wording_file(monkeypatch):
    monkeypatch.delenv(ENV_VAR, raising=False)
    assert load_wording() == Wording() and load_wording().texts == {}
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
    ("pcs: [\n", "not valid YAML at line"),
    # read through prt.files.load_yaml: a second text for the same item is refused, not last-wins
    ("pcs:\n  1: first\n  1: second\n", "key 1 appears more than once"),
    ("pcs:\n  1: a\npcs:\n  2: b\n", "key 'pcs' appears more than once"),
    ("pcs: text\n", "'pcs' expected a mapping of item number -> text"),
])
def test_bad_wording_file(tmp_path, content, fragment):
    path = tmp_path / "w.yaml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(InputError) as exc:
        load_wording(path)
    assert str(exc.value).startswith(f"wording file {path}: ")
    assert fragment in str(exc.value)


def test_unreadable_wording_file(tmp_path):
    with pytest.raises(InputError, match="cannot be read"):
        load_wording(tmp_path / "missing.yaml")


def test_wording_from_dict_and_file_agree(tmp_path):
    spec = {"pcs": {1: "  Text one. ", "2": "Text two."}, "pgic": {}}
    wording = Wording.from_dict(spec, "site wording")
    assert wording.texts == {"pcs": {"1": "Text one.", "2": "Text two."}, "pgic": {}}
    assert wording.for_instrument("pcs")["1"] == "Text one." and wording.for_instrument("odi") == {}
    path = tmp_path / "w.yaml"
    path.write_bytes(b"\xef\xbb\xbfpcs:\n  1: '  Text one. '\n  '2': Text two.\npgic: {}\n")
    assert load_wording(path) == wording
    assert Wording.from_dict(None) == Wording()
    with pytest.raises(InputError, match="^site wording: unknown instrument '1'"):
        Wording.from_dict({1: {"1": "x"}}, "site wording")


def test_binary_or_directory_wording_file(tmp_path):
    binary = tmp_path / "w.yaml"
    binary.write_bytes(b"\x00\x01binary")
    with pytest.raises(InputError, match="a binary file"):
        load_wording(binary)
    with pytest.raises(InputError, match="is a directory"):
        load_wording(tmp_path)
