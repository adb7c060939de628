"""The lemma and n-gram coders: known answers, confidence and review, model files, bad input."""

from __future__ import annotations

import io
import json
import zipfile

import numpy as np
import pytest

from prt.attribution.coders import (
    CODING_COLUMNS,
    LemmaCoder,
    NgramCoder,
    decide_from_probabilities,
    get_coder,
    load_lemmas,
    load_model,
    model_bytes,
    save_model,
    train,
)
from prt.attribution.scheme import SCHEME
from prt.errors import InputError

from .conftest import BANK


# ---------------------------------------------------------------------------- lemma coder
@pytest.mark.parametrize("answer,category,mind_brain", [
    ("Stress at work", "stress", True),            # the study's rule: any mind-brain word wins
    ("fear of injury", "psychological", True),
    ("Neural pathways", "brain", True),
    ("family history", "hereditary", False),      # the longer entry wins over 'family'
    ("weight lifting", "activity", False),        # ... and over 'weight'
    ("being overweight", "weight", False),
    ("Car accident", "injury", False),
    ("herniated disc", "spinal_condition", False),
    ("sitting at a computer all day", "sedentary", False),
    ("Poor posture", "posture", False),
])
def test_lemma_coder_known_answers(answer, category, mind_brain):
    row = LemmaCoder().code([answer]).iloc[0]
    assert (row["category"], bool(row["mind_brain"])) == (category, mind_brain)


def test_lemma_coder_confidence_and_queue():
    coding = LemmaCoder().code(["scoliosis", "stress at work", "xylophone", "?"])
    assert list(coding.columns) == list(CODING_COLUMNS)
    assert coding["confidence"].tolist() == [1.0, 0.5, 0.0, 1.0]
    assert coding["rule"].tolist() == ["lemma", "lemma", "no_match", "dont_know"]
    # nothing matched: 'other' is said, at confidence 0 and queued for a human, never silently
    assert coding.loc[2, "category"] == "other" and coding.loc[2, "needs_review"]
    assert coding["needs_review"].tolist() == [False, True, True, False]


@pytest.mark.parametrize("bad,message", [(None, "answer 2: no answer"), (7, "answer 2: the answer is not text"),
                                         ("  ", "answer 2: the answer is empty")])
def test_coding_bad_answers_from_python_is_an_error_never_other(bad, message):
    with pytest.raises(InputError, match=message):
        LemmaCoder().code(["stress", bad])


def test_lemma_words_match_whole_words_or_prefixes():
    coder = LemmaCoder({"stress": ["stress*"], "injury": ["fall"], "age": ["age"]})
    assert [c for _, c in coder.matches("Stressful fall")] == ["stress", "injury"]
    assert coder.matches("falling") == [] and coder.matches("stage") == [] and coder.matches("Age!") == [("age", "age")]


def test_a_lemma_file_is_checked(tmp_path):
    path = tmp_path / "lemmas.yaml"
    path.write_text("categories:\n  stress: [stress*]\n  trauma: [fall]\n")
    with pytest.raises(InputError, match="category 'trauma'"):
        load_lemmas(path)
    path.write_text("categories:\n  injury: [fall]\n")
    with pytest.raises(InputError, match="no words for psychological, stress or brain"):
        load_lemmas(path)
    path.write_text("categories:\n  stress: stress\n")
    with pytest.raises(InputError, match="expected a list of words"):
        load_lemmas(path)
    path.write_text("categories:\n  psych: [worr*]\n  injury: [fall]\n")
    assert get_coder("lemma", lemmas=path).code(["worried"]).loc[0, "category"] == "psychological"


# ---------------------------------------------------------------------------- decision rule
def test_mind_brain_is_decided_by_summed_probability_then_the_category_on_that_side():
    classes = ["injury", "psychological", "stress"]
    P = np.array([[0.45, 0.30, 0.25],    # mind-brain 0.55 although injury is the single most probable
                  [0.60, 0.20, 0.20],
                  [0.50, 0.25, 0.25]])   # exactly 0.5: mind-brain
    got = decide_from_probabilities(P, classes)
    assert [(c, mb) for c, mb, *_ in got] == [("psychological", True), ("injury", False), ("psychological", True)]
    assert [round(conf, 2) for *_, conf, _ in got] == [0.30, 0.60, 0.25]


# ---------------------------------------------------------------------------- n-gram coder
@pytest.fixture(scope="module")
def ngram(training_frame):
    return train("ngram", training_frame["text"], training_frame["category"])


def test_ngram_coder_learns_the_training_answers(ngram, training_frame):
    coding = ngram.code(training_frame["text"])
    agree = (coding["category"].to_numpy() == training_frame["category"].to_numpy()).mean()
    assert agree >= 0.95
    assert (coding["mind_brain"] == coding["category"].map(SCHEME.is_mind_brain)).all()
    assert ((coding["confidence"] > 0) & (coding["confidence"] <= 1)).all()


@pytest.mark.parametrize("answer,mind_brain", [("stress and worry", True), ("anxiety and fear", True),
                                               ("a car accident", False), ("herniated discs", False)])
def test_ngram_coder_generalises_a_little(ngram, answer, mind_brain):
    assert bool(ngram.code([answer]).loc[0, "mind_brain"]) is mind_brain


def test_identical_answers_are_coded_identically(ngram):
    coding = ngram.code(["Stress", "stress ", "STRESS"])
    assert coding["category"].nunique() == 1 and coding["confidence"].nunique() == 1


def test_model_file_round_trip(ngram, tmp_path):
    path = save_model(ngram, tmp_path / "model.npz")
    again = load_model(path)
    texts = ["stress at work", "heavy lifting", "weak core", "fell off a ladder"]
    assert np.allclose(again.probabilities(texts), ngram.probabilities(texts))
    assert again.code(texts).equals(ngram.code(texts))
    assert again.review_below == ngram.review_below and again.n_trained == ngram.n_trained
    assert load_model(path, review_below=0.9).review_below == 0.9


def _npz(**arrays) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def _tampered(ngram, **changes) -> bytes:
    with np.load(io.BytesIO(model_bytes(ngram)), allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    for key, value in changes.items():
        if value is None:
            del arrays[key]
        else:
            arrays[key] = value
    return _npz(**arrays)


@pytest.mark.parametrize("case,message", [
    ("garbage", "not a prt attribution model"),
    ("pickle", "not a prt attribution model"),
    ("not_ours", "not a prt attribution model"),
    ("version", "model format version 99"),
    ("coder", "unknown coder 'forest'"),
    ("no_coef", "lacks 'coef'"),
    ("classes", "not distinct categories of the scheme"),
    ("shape", "weights do not match"),
    ("nan", "not all finite"),
    ("vocabulary", "do not fit the vocabulary"),
    ("threshold", "review threshold is not a number"),
])
def test_a_model_that_fails_to_load_is_an_error_naming_the_file(ngram, tmp_path, case, message):
    path = tmp_path / "bad.npz"
    meta = json.loads(str(np.load(io.BytesIO(model_bytes(ngram)))["meta"]))
    if case == "garbage":
        data = b"\x00not a zip file"
    elif case == "pickle":
        data = _npz(meta=np.array([{"evil": 1}], dtype=object))
    elif case == "not_ours":
        data = _npz(meta=np.array(json.dumps({"format": "something"})))
    elif case == "version":
        data = _tampered(ngram, meta=np.array(json.dumps({**meta, "version": 99})))
    elif case == "coder":
        data = _tampered(ngram, meta=np.array(json.dumps({**meta, "coder": "forest"})))
    elif case == "no_coef":
        data = _tampered(ngram, coef=None)
    elif case == "classes":
        data = _tampered(ngram, classes=np.array(["injury"] * len(ngram.classes)))
    elif case == "shape":
        data = _tampered(ngram, intercept=np.zeros(3))
    elif case == "nan":
        coef = ngram.coef.copy()
        coef[0, 0] = np.nan
        data = _tampered(ngram, coef=coef)
    elif case == "threshold":
        data = _tampered(ngram, meta=np.array(json.dumps({**meta, "review_below": "high"})))
    else:
        data = _tampered(ngram, word_vocabulary=np.array(["a", "b"]), word_idf=np.ones(2))
    path.write_bytes(data)
    with pytest.raises(InputError, match=rf"^model file {path}: .*{message}"):
        load_model(path)


def test_missing_model_file(tmp_path):
    with pytest.raises(InputError, match="not found"):
        load_model(tmp_path / "none.npz")
    with pytest.raises(InputError, match="is a directory"):
        load_model(tmp_path)


def test_a_zip_that_is_not_an_npz(tmp_path):
    path = tmp_path / "m.npz"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("readme.txt", "hello")
    with pytest.raises(InputError, match="lacks 'meta'"):
        load_model(path)


# ---------------------------------------------------------------------------- training input
def test_training_refuses_unknown_categories_and_one_sided_codes():
    with pytest.raises(InputError, match="outside the scheme"):
        train("ngram", ["a fall"] * 12, ["trauma"] * 12)
    with pytest.raises(InputError, match="no psychological, stress or brain answer"):
        train("ngram", ["a fall", "lifting"] * 6, ["injury", "activity"] * 6)
    with pytest.raises(InputError, match="at least 10"):
        train("ngram", ["a fall", "stress"], ["injury", "stress"])
    with pytest.raises(InputError, match="cannot be trained"):
        train("lemma", ["a"], ["injury"])


def test_an_untrained_classifier_is_an_error():
    with pytest.raises(InputError, match="not trained"):
        NgramCoder().code(["stress"])
    with pytest.raises(InputError, match="must be trained first"):
        get_coder("ngram")
    with pytest.raises(InputError, match="unknown coder"):
        get_coder("forest", training={"text": [], "category": []})


def test_review_threshold_is_configurable(training_frame):
    strict = get_coder("ngram", training=training_frame, review_below=1.0)
    assert strict.code(["stress"])["needs_review"].all()
    assert not LemmaCoder(review_below=0.0).code(["xylophone"])["needs_review"].any()


def test_every_bank_category_is_coded_by_the_lemma_coder():
    """prt's word lists cover each of the 17 categories (the bank's plain answers)."""
    coder = LemmaCoder()
    for category, answers in BANK.items():
        got = coder.code(answers)["category"].tolist()
        assert got.count(category) >= len(answers) - 1, (category, got)


# ---------------------------------------------------------------------------- property-based
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from prt.attribution.answers import clean_answer  # noqa: E402


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.text(min_size=1, max_size=80), min_size=1, max_size=8))
def test_any_clean_answer_gets_a_category_of_the_scheme(raw):
    texts = []
    for value in raw:
        try:
            texts.append(clean_answer(value, "x"))
        except InputError:
            continue
    if not texts:
        return
    coding = LemmaCoder().code(texts)
    assert len(coding) == len(texts) and coding["category"].isin(SCHEME.ids).all()
    assert ((coding["confidence"] >= 0) & (coding["confidence"] <= 1)).all()
    assert (coding["mind_brain"] == coding["category"].map(SCHEME.is_mind_brain)).all()
    # no match is never silent: confidence 0 and queued
    silent = (coding["rule"] == "no_match") & ~coding["needs_review"]
    assert not silent.any()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=400))
def test_any_bytes_as_a_model_file_is_an_input_error(tmp_path, data):
    path = tmp_path / "fuzz.npz"
    path.write_bytes(data)
    with pytest.raises(InputError, match=r"^model file "):
        load_model(path)
