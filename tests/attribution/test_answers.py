"""Reading answers: exports and answers files, and one clear error per bad answer (never 'other')."""

from __future__ import annotations

import csv
import io

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from prt.attribution.answers import (
    MAX_ANSWER_CHARS,
    answers_frame,
    answers_from_trial,
    clean_answer,
    is_dont_know,
    read_answers,
    read_answers_csv,
)
from prt.errors import InputError
from prt.files import CONTROL

EXPORT = (
    "id,group,age,gender,pain_avg_t1_arm_1,attributed_cause_1_t1_arm_1,attributed_cause_2_t1_arm_1,"
    "attributed_cause_3_t1_arm_1,cat1_t1_arm_1,cat2_t1_arm_1,cat3_t1_arm_1\n"
    "1,1,34,2,6,Stress at work,car accident,?,stress,injury,other\n"
    "2,2,51,1,5,scoliosis,,genetics,spinal condition,,hereditary\n"
)


def _csv(rows, header=("participant", "timepoint", "slot", "text", "category")) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


# ---------------------------------------------------------------------------- single answers
@pytest.mark.parametrize("raw,clean", [
    ("Stress at work", "Stress at work"), ("  fear\tof\n\nmovement ", "fear of movement"),
    ("?", "?"), ("???", "???"), ("Ängste", "Ängste"), ("L5 disc", "L5 disc"),
])
def test_clean_answers(raw, clean):
    assert clean_answer(raw, "x") == clean


@pytest.mark.parametrize("raw,message", [
    ("", "empty"), ("   \n ", "empty"), (None, "no answer"), (float("nan"), "no answer"),
    (3, "not text"), (b"stress", "not text"), ("123", "no words"), ("- / -", "no words"),
    ("stress\x00", "control character"), ("a" * (MAX_ANSWER_CHARS + 1), "longer than"),
    ("stress\u202e", "control character"),
])
def test_bad_answers_are_errors_naming_the_record(raw, message):
    with pytest.raises(InputError, match=rf"^record 7, post, cause 2: .*{message}"):
        clean_answer(raw, "record 7, post, cause 2")


def test_a_bad_answer_message_does_not_echo_it():
    with pytest.raises(InputError) as exc:
        clean_answer("4242 " + "9" * 3000, "row 2")
    assert "4242" not in str(exc.value)


def test_dont_know():
    assert is_dont_know("??") and not is_dont_know("? stress")


# ---------------------------------------------------------------------------- exports
def test_answers_of_an_export_with_the_studys_codes():
    from prt.data import read_trial

    trial = read_trial(io.StringIO(EXPORT))
    answers = answers_from_trial(trial)
    # record 2 left cause 2 blank: unanswered, so left out, and the codes are then incomplete
    assert answers[["participant", "timepoint", "slot", "text"]].values.tolist() == [
        ["1", "pre", 1, "Stress at work"], ["1", "pre", 2, "car accident"], ["1", "pre", 3, "?"],
        ["2", "pre", 1, "scoliosis"], ["2", "pre", 3, "genetics"]]
    assert answers["category"].tolist() == ["stress", "injury", "other", "spinal_condition", "hereditary"]


def test_a_code_without_an_answer_is_an_error():
    from prt.data import read_trial

    trial = read_trial(io.StringIO(EXPORT.replace("2,2,51,1,5,scoliosis,,genetics,spinal condition,,hereditary",
                                                  "2,2,51,1,5,scoliosis,,genetics,spinal condition,injury,hereditary")))
    with pytest.raises(InputError, match="record 2, pre, cause 2: a category code but no answer"):
        answers_from_trial(trial)


def test_an_unknown_category_in_a_training_export_names_the_record():
    from prt.data import read_trial

    trial = read_trial(io.StringIO(EXPORT.replace(",injury,other", ",injuries,other")))
    with pytest.raises(InputError, match=r"record 1, pre, cause 2: category: unknown category"):
        answers_from_trial(trial, require_categories=True)


def test_an_export_without_codes_cannot_train():
    from prt.data import read_trial

    export = "\n".join(",".join(line.split(",")[:8]) for line in EXPORT.splitlines()) + "\n"
    trial = read_trial(io.StringIO(export))
    assert "category" not in answers_from_trial(trial).columns
    with pytest.raises(InputError, match="no category codes"):
        answers_from_trial(trial, require_categories=True)


def test_an_export_without_attributions_is_an_error():
    from prt.data import read_trial

    trial = read_trial(io.StringIO("id,group,age,gender,pain_avg_t1_arm_1\n1,1,30,1,5\n"))
    with pytest.raises(InputError, match="no attributed causes"):
        answers_from_trial(trial)


def test_read_answers_tells_an_answers_file_from_an_export(tmp_path):
    export = tmp_path / "export.csv"
    export.write_text(EXPORT)
    answers, trial = read_answers(export)
    assert trial is not None and len(answers) == 5
    plain = tmp_path / "answers.csv"
    plain.write_text(_csv([["1", "pre", "1", "stress", "stress"]]))
    answers, trial = read_answers(plain)
    assert trial is None and answers["text"].tolist() == ["stress"]


# ---------------------------------------------------------------------------- answers files
def test_answers_file_errors_name_the_line():
    text = _csv([["1", "pre", "1", "stress", "stress"], ["1", "pre", "2", "", "injury"]])
    with pytest.raises(InputError, match=r"^line 3, record 1, pre, cause 2: the answer is empty"):
        read_answers_csv(io.StringIO(text))
    text = _csv([["1", "pre", "1", "stress", "stress"], ["1", "pre", "2", "a fall", "trauma"]])
    with pytest.raises(InputError, match=r"^line 3, record 1, pre, cause 2: category: unknown category"):
        read_answers_csv(io.StringIO(text), require_categories=True)
    text = _csv([["1", "pre", "x", "stress", "stress"]])
    with pytest.raises(InputError, match="line 2: slot must be a whole number"):
        read_answers_csv(io.StringIO(text))
    text = _csv([["1", "pre", "1", "stress", "stress"], ["1", "pre", "1", "fear", "psychological"]])
    with pytest.raises(InputError, match="record 1, pre, cause 1 is given more than once"):
        read_answers_csv(io.StringIO(text))


def test_answers_file_needs_text_and_for_training_category():
    with pytest.raises(InputError, match="no 'text' column"):
        read_answers_csv(io.StringIO("participant,answer\n1,stress\n"))
    with pytest.raises(InputError, match="no 'category' column"):
        read_answers_csv(io.StringIO("text\nstress\n"), require_categories=True)
    assert read_answers_csv(io.StringIO('text\nstress\n"fear, anxiety"\n'))["text"].tolist() == ["stress", "fear, anxiety"]


def test_answers_frame_from_python_names_positions():
    with pytest.raises(InputError, match=r"^answer 2: the answer is empty"):
        answers_frame(["stress", " "])
    with pytest.raises(InputError, match=r"^answer 1: category: unknown"):
        answers_frame(["stress"], categories=["nerves"])
    with pytest.raises(InputError, match="no answers"):
        answers_frame([])


# ---------------------------------------------------------------------------- property-based
_ANSWER = st.text(st.characters(blacklist_categories=("Cs",)), min_size=0, max_size=60)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts=st.lists(_ANSWER, min_size=1, max_size=6))
def test_any_answers_file_is_read_or_refused_in_one_line(texts):
    """Whatever the cells hold, the reader returns cleaned answers or one InputError (no crash,
    no silent change of words, no answer dropped)."""
    text = _csv([[str(i + 1), "pre", "1", t] for i, t in enumerate(texts)], header=("participant", "timepoint", "slot", "text"))
    try:
        answers = read_answers_csv(io.StringIO(text))
    except InputError as exc:
        message = str(exc)
        assert "\n" not in message and message
        return
    assert len(answers) == len(texts)
    for got, raw in zip(answers["text"], texts):
        assert got == " ".join(raw.split())  # the reader strips cells; inner white space collapses
        assert got and not CONTROL.search(got)


@settings(max_examples=200, deadline=None)
@given(words=st.lists(st.text(st.characters(categories=("L",)), min_size=1, max_size=12), min_size=1, max_size=6))
def test_words_round_trip(words):
    """An answer of words always reads back as those words joined by single spaces."""
    raw = "  ".join(words)
    text = _csv([["1", "post", "2", raw]], header=("participant", "timepoint", "slot", "text"))
    assert read_answers_csv(io.StringIO(text))["text"].tolist() == [" ".join(raw.split())]
