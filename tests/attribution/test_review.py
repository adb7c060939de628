"""The review queue: a human's code wins, matched to the unchanged answer."""

from __future__ import annotations

import io

import pytest

from prt.attribution.answers import answers_frame
from prt.attribution.coders import LemmaCoder
from prt.attribution.review import apply_reviews, coded_frame, read_reviews
from prt.errors import InputError


@pytest.fixture()
def coded():
    answers = answers_frame(["stress at work", "xylophone", "car accident"], participants=["1", "1", "2"],
                            timepoints=["pre"] * 3, slots=[1, 2, 1])
    return answers, LemmaCoder().code(answers["text"])


def test_a_reviewed_queue_is_coded_by_the_human(coded):
    answers, coding = coded
    sheet = coded_frame(answers, coding)
    assert sheet["needs_review"].tolist() == [True, True, False]
    sheet.loc[1, "review_category"] = "other"
    sheet.loc[0, "review_category"] = "job"  # a reviewer may overrule any code
    reviews = read_reviews(io.StringIO(sheet.to_csv(index=False)))
    final = apply_reviews(answers, coding, reviews)
    assert final["category"].tolist() == ["job", "other", "injury"]
    assert final["decided_by"].tolist() == ["human", "human", "coder"]
    assert final["mind_brain"].tolist() == [False, False, False]
    assert not final["needs_review"].any() and final.loc[0, "category_12"] == "activity"


def test_a_review_of_changed_words_is_refused(coded):
    answers, coding = coded
    sheet = coded_frame(answers, coding)
    sheet.loc[1, ["text", "review_category"]] = ["a xylophone", "other"]
    reviews = read_reviews(io.StringIO(sheet.to_csv(index=False)))
    with pytest.raises(InputError, match="record 1, pre, cause 2: no such answer"):
        apply_reviews(answers, coding, reviews)


def test_an_unknown_review_category_names_the_line(coded):
    answers, coding = coded
    sheet = coded_frame(answers, coding)
    sheet.loc[2, "review_category"] = "bad luck"
    with pytest.raises(InputError, match="line 4, record 2, pre, cause 1: category: unknown"):
        read_reviews(io.StringIO(sheet.to_csv(index=False)))
    with pytest.raises(InputError, match="no 'review_category' column"):
        read_reviews(io.StringIO("text,category\nstress,stress\n"))


def test_no_reviews_changes_nothing(coded):
    answers, coding = coded
    reviews = read_reviews(io.StringIO(coded_frame(answers, coding).to_csv(index=False)))
    assert reviews.empty
    assert apply_reviews(answers, coding, reviews)["decided_by"].eq("coder").all()
