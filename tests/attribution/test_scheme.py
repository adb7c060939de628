"""The coding scheme as data: 17 categories, the merge to 12 and the mind-brain grouping."""

from __future__ import annotations

import pytest

from prt.attribution.scheme import SCHEME, load_scheme
from prt.errors import InputError

STUDY_17 = ["activity", "age", "brain", "diet", "hereditary", "injury", "job", "negligence", "other",
            "perinatal", "physiology (non-spinal)", "posture", "psychological", "sedentary",
            "spinal condition", "stress", "weight"]


def test_the_studys_17_categories_by_their_spelling_in_the_export():
    assert [SCHEME.label(c) for c in SCHEME.ids] == STUDY_17
    assert [SCHEME.category_of(label) for label in STUDY_17] == list(SCHEME.ids)


def test_the_merge_into_12_is_the_studys():
    merged = {c: SCHEME.merge_12(c) for c in SCHEME.ids if SCHEME.merge_12(c) != c}
    assert merged == {"job": "activity", "perinatal": "activity", "diet": "other",
                      "weight": "physiology", "posture": "physiology"}
    assert len(SCHEME.categories_12) == 12
    assert set(SCHEME.categories_12) == set(SCHEME.ids) - set(merged)


def test_mind_brain_is_psychological_stress_brain():
    assert {c for c in SCHEME.ids if SCHEME.is_mind_brain(c)} == {"psychological", "stress", "brain"}


def test_every_rule_cites_a_source():
    raw = __import__("yaml").safe_load(open(__import__("prt.attribution.scheme", fromlist=["x"]).SCHEME_FILE))
    assert all(rule["source"] for rule in raw["merge_12"]["rules"])
    assert raw["mind_brain"]["source"] and raw["score"]["source"] and raw["dont_know"]["source"]
    assert {"ashar2023", "repo", "notes"} <= set(SCHEME.sources)


@pytest.mark.parametrize("spelling,expected", [
    ("Physiology (non-spinal)", "physiology"), ("spinal_condition", "spinal_condition"),
    (" SPINAL  condition ", "spinal_condition"), ("psych", "psychological"), ("genetic", "hereditary"),
])
def test_spellings(spelling, expected):
    assert SCHEME.category_of(spelling) == expected


@pytest.mark.parametrize("bad", ["", "   ", "cancer", None, 3])
def test_unknown_or_missing_category_is_an_error_naming_where(bad):
    with pytest.raises(InputError, match=r"^line 7: category: "):
        SCHEME.category_of(bad, "line 7: category")


def test_unknown_category_names_no_value_but_lists_the_scheme():
    with pytest.raises(InputError) as exc:
        SCHEME.category_of("my secret diagnosis", "line 3")
    assert "secret" not in str(exc.value) and "spinal_condition" in str(exc.value)


def test_a_scheme_whose_rules_name_unknown_categories_is_refused(tmp_path):
    text = open(__import__("prt.attribution.scheme", fromlist=["x"]).SCHEME_FILE).read()
    bad = tmp_path / "scheme.yaml"
    bad.write_text(text.replace("{from: diet, into: other", "{from: diet, into: nowhere"))
    with pytest.raises(InputError, match="unknown categories: nowhere"):
        load_scheme(bad)
    bad.write_text("id: x\n")
    with pytest.raises(InputError, match="missing or malformed"):
        load_scheme(bad)
