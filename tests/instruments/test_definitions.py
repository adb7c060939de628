"""Definitions load, are complete, and a malformed file fails naming the file and the key."""

from __future__ import annotations

import copy

import pytest
import yaml

import prt.instruments as instruments
from prt.errors import InputError
from prt.instruments.model import Instrument, load_instrument

REQUIRED_IDS = {
    "bpi_sf", "odi", "promis_depression", "promis_anxiety", "promis_anger", "promis_sleep",
    "panas_sf", "pcs", "tsk11", "sopa_emotion", "pgic", "ceq", "ipq_causes", "pain_nrs", "pain_vas",
}


def test_every_trial_instrument_is_declared():
    assert REQUIRED_IDS <= set(instruments.ids())
    assert list(instruments.ids()) == sorted(instruments.ids())


@pytest.mark.parametrize("inst_id", sorted(REQUIRED_IDS | {"tx_satisfaction"}))
def test_definition_is_complete(inst_id):
    inst = instruments.get(inst_id)
    assert inst.id == inst_id
    for text in (inst.title, inst.form, inst.citation, inst.license):
        assert text.strip()
    assert inst.items and [i.number for i in inst.items] == [str(k) for k in range(1, len(inst.items) + 1)]
    for item in inst.items:
        assert item.kind in ("choice", "numeric", "text")
        if item.kind == "choice":
            assert item.options and item.minimum == min(item.options) and item.maximum == max(item.options)
    for name, numbers in inst.subscales.items():
        assert set(numbers) <= set(inst.item_numbers)
        assert inst.subscale_scoring[name].items == numbers
    for key in inst.data_fields:
        assert inst.range_of(key) is not None


def test_declared_ranges_and_structure_match_the_sources():
    get = instruments.get
    assert get("bpi_sf").subscales == {"severity": ("1", "2", "3", "4"),
                                       "interference": ("5", "6", "7", "8", "9", "10", "11"),
                                       "average_pain": ("3",)}
    assert get("bpi_sf").subscale_scoring["interference"].missing.min_answered == 4
    assert get("odi").score_range == (0, 100) and len(get("odi").items) == 10
    assert get("promis_depression").score_range == (8, 32)
    assert get("promis_anxiety").score_range == (8, 40)
    assert get("promis_anger").score_range == (5, 25)
    sleep = get("promis_sleep")
    assert sleep.score_range == (8, 40)
    assert [i.number for i in sleep.items if i.reversed] == ["1", "2", "8"]
    panas = get("panas_sf")
    labels = {i.number: i.label for i in panas.items}
    assert sorted(labels[n] for n in panas.subscales["positive_affect"]) == [
        "active", "alert", "attentive", "determined", "inspired"]
    assert sorted(labels[n] for n in panas.subscales["negative_affect"]) == [
        "afraid", "ashamed", "hostile", "nervous", "upset"]
    pcs = get("pcs")
    assert pcs.score_range == (0, 52)
    assert pcs.subscales == {"rumination": ("8", "9", "10", "11"), "magnification": ("6", "7", "13"),
                             "helplessness": ("1", "2", "3", "4", "5", "12")}
    assert get("tsk11").score_range == (11, 44)
    assert get("sopa_emotion").score_range == (2, 10)
    assert get("pgic").score_range == (1, 7)
    assert get("ceq").score_range == (0, 100)
    assert get("ipq_causes").score_range is None
    assert [i.kind for i in get("ipq_causes").items] == ["text"] * 3
    assert get("pain_nrs").score_range == (0, 10)
    assert get("pain_vas").score_range == (0, 100)


def test_t_score_tables_are_complete_and_cited():
    for inst_id in ("promis_anxiety", "promis_anger", "promis_sleep"):
        inst = instruments.get(inst_id)
        lo, hi = inst.score_range
        assert sorted(inst.t_scores.table) == list(range(int(lo), int(hi) + 1))
        assert "Scoring Manual" in inst.t_scores.source
    # the trial's 1-4 depression capture cannot use the official 5-option table
    assert instruments.get("promis_depression").t_scores is None
    assert instruments.t_score("promis_anxiety", 8) == 37.1
    assert instruments.t_score("promis_anger", 25) == 82.9
    assert instruments.t_score("promis_sleep", 20) == 50.1
    with pytest.raises(InputError, match="no official T-score"):
        instruments.t_score("promis_depression", 20)
    with pytest.raises(InputError, match="8-40"):
        instruments.t_score("promis_anxiety", 41)


def test_unknown_instrument_names_the_id():
    with pytest.raises(InputError, match="unknown instrument 'nope'.*bpi_sf"):
        instruments.get("nope")


def test_definition_dict_is_plain_data():
    d = instruments.definition_dict("odi")
    assert d["id"] == "odi" and d["items"][0]["options"][0].startswith("first")
    assert d["capture_variants"]["redcap_1_6"]["recode"][6] == 5


# ---- malformed definitions -----------------------------------------------------------------

GOOD = {
    "id": "demo", "title": "Demo", "form": "f", "citation": "c", "license": "l",
    "response_options": {0: "no", 1: "yes"},
    "items": [{"number": "1", "label": "a"}, {"number": "2", "label": "b"}],
    "scoring": {"method": "sum", "range": [0, 2],
                "missing": {"min_answered": 2, "prorate": "none", "rule": "all"}},
}


def _bad(mutate):
    raw = copy.deepcopy(GOOD)
    mutate(raw)
    return raw


def test_good_demo_definition_loads():
    inst = Instrument.from_dict(copy.deepcopy(GOOD), "definitions/demo.yaml")
    assert inst.score_range == (0, 2) and inst.source_file == "definitions/demo.yaml"


@pytest.mark.parametrize("mutate, key", [
    (lambda r: r.pop("title"), "title"),
    (lambda r: r.update(id="Other-Id"), "id"),
    (lambda r: r.update(extra=1), "extra"),
    (lambda r: r["scoring"].update(method="median"), "scoring.method"),
    (lambda r: r["scoring"].update(range=[0, 3]), "scoring.range"),
    (lambda r: r["scoring"]["missing"].update(min_answered=1), "scoring.missing.min_answered"),
    (lambda r: r["scoring"]["missing"].update(prorate="maybe"), "scoring.missing.prorate"),
    (lambda r: r["scoring"].update(items=["1", "9"]), "scoring.items"),
    (lambda r: r["items"].append({"number": "2", "label": "dup"}), "items[2]"),
    (lambda r: r["items"][0].update(kind="slider"), "items[1].kind"),
    (lambda r: r["items"][1].update(label=5), "items[2].label"),
    (lambda r: r.update(data_fields={"nosuch": "x"}), "data_fields.nosuch"),
    (lambda r: r.update(subscales={"s": {"items": ["1"], "method": "sum", "range": [0, 1]}}),
     "subscales.s.missing"),
    (lambda r: r["items"][0].update(options={0: "a", 1: "b", 3: "c"}, reversed=True), "items[1].options"),
])
def test_malformed_definition_names_file_and_key(mutate, key):
    with pytest.raises(InputError) as exc:
        Instrument.from_dict(_bad(mutate), "definitions/demo.yaml")
    message = str(exc.value)
    assert "definitions/demo.yaml" in message
    assert f"'{key}'" in message


def test_load_instrument_reads_a_file_named_after_its_id(tmp_path):
    path = tmp_path / "demo.yaml"
    path.write_text(yaml.safe_dump(GOOD), encoding="utf-8")
    assert load_instrument(path) == Instrument.from_dict(copy.deepcopy(GOOD), str(path))
    other = tmp_path / "other.yaml"
    other.write_text(yaml.safe_dump(GOOD), encoding="utf-8")
    with pytest.raises(InputError, match=r"other.yaml: key 'id': 'demo' must match the file name 'other'"):
        load_instrument(other)


@pytest.mark.parametrize("text, fragment", [
    ("id: [unclosed", "not valid YAML at line"),
    # read through prt.files.load_yaml: a key given twice is refused, not silently last-wins
    ("id: demo\ntitle: a\ntitle: b\n", "key 'title' appears more than once"),
    ("!!python/object:os.system {}", "not valid YAML"),
])
def test_invalid_yaml_names_the_file(tmp_path, text, fragment):
    path = tmp_path / "demo.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as exc:
        load_instrument(path)
    assert str(exc.value).startswith(f"instrument definition {path}: ")
    assert fragment in str(exc.value)


def test_missing_definition_file_names_the_path(tmp_path):
    with pytest.raises(InputError, match="instrument definition .*nope.yaml: cannot be read"):
        load_instrument(tmp_path / "nope.yaml")


def test_from_dict_refuses_a_non_mapping():
    with pytest.raises(InputError, match="<dict>: key '<top>': expected a mapping"):
        Instrument.from_dict(["id", "demo"])


def test_packaged_files_round_trip_through_yaml():
    from importlib import resources

    folder = resources.files("prt.instruments") / "definitions"
    names = sorted(e.name for e in folder.iterdir() if e.name.endswith(".yaml"))
    assert len(names) == len(instruments.ids())
    for name in names:
        raw = yaml.safe_load((folder / name).read_text(encoding="utf-8"))
        assert Instrument.from_dict(raw, f"definitions/{name}") == instruments.get(name.removesuffix(".yaml"))
