"""Cross-validated agreement: kappa, participant-grouped folds, and the coders on the shared data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from prt.attribution.answers import answers_frame
from prt.attribution.evaluation import (
    TARGETS,
    agreement,
    cohen_kappa,
    cross_validate,
    evaluate,
    folds,
    reviewed,
)
from prt.errors import InputError


def test_cohen_kappa_known_values():
    # 2x2 table [[20, 5], [10, 15]]: po = 0.7, pe = 0.5, kappa = 0.4 (Cohen 1960 worked form)
    a = ["y"] * 25 + ["n"] * 25
    b = ["y"] * 20 + ["n"] * 5 + ["y"] * 10 + ["n"] * 15
    assert cohen_kappa(a, b) == pytest.approx(0.4)
    assert cohen_kappa(a, a) == 1.0
    assert np.isnan(cohen_kappa(["x", "x"], ["x", "x"]))


def test_folds_keep_a_participants_answers_together(training_frame):
    frame = training_frame.copy()
    frame["participant"] = [f"p{i // 6}" for i in range(len(frame))]
    fold = folds(frame, 5, seed=3)
    per_person = pd.Series(fold).groupby(frame["participant"].to_numpy()).nunique()
    assert (per_person == 1).all() and set(fold) == set(range(5))
    assert (folds(frame, 5, seed=3) == fold).all()  # reproducible
    with pytest.raises(InputError, match="folds"):
        folds(frame.iloc[:6], 5)


def test_cross_validation_codes_each_answer_with_a_coder_that_never_saw_it(training_frame):
    # each bank answer appears under 4 different participants: an answer's copies in other
    # folds make it learnable, one that exists once is not (a leak would code it right anyway)
    frame = pd.concat([training_frame, answers_frame(["zzqx wobble"], categories=["brain"], participants=["solo"])],
                      ignore_index=True)
    codings = cross_validate(frame, ("lemma", "ngram"), n_folds=4)
    assert set(codings) == {"lemma", "ngram"}
    assert codings["ngram"].loc[len(frame) - 1, "category"] != "brain"
    table = evaluate(frame, ("lemma", "ngram"), n_folds=4)["table"].set_index("coder")
    assert table.loc["ngram", "kappa_17"] > 0.8 and table.loc["ngram", "n"] == len(frame)


def test_agreement_and_review_known_answers():
    truth = ["stress", "injury", "brain", "age"]
    coding = pd.DataFrame({"category": ["stress", "activity", "injury", "age"],
                           "category_12": ["stress", "activity", "injury", "age"],
                           "mind_brain": [True, False, False, False],
                           "needs_review": [False, False, True, False]})
    got = agreement(truth, coding)
    assert got["accuracy_17"] == 0.5 and got["accuracy_mind_brain"] == 0.75
    assert got["share_queued"] == 0.25 and got["accuracy_17_not_queued"] == pytest.approx(2 / 3)
    after = reviewed(truth, coding)
    assert after["category"].tolist() == ["stress", "activity", "brain", "age"]
    assert got["kappa_mind_brain_after_review"] == 1.0


def test_evaluation_needs_human_codes_and_known_coders():
    frame = answers_frame(["stress"] * 12)
    with pytest.raises(InputError, match="human codes"):
        cross_validate(frame)
    frame = answers_frame(["stress"] * 12, categories=["stress"] * 12)
    with pytest.raises(InputError, match="unknown coder"):
        cross_validate(frame, ("forest",))


def test_answers_without_participants_are_noted(training_frame):
    frame = training_frame.assign(participant=None)
    assert "no participant" in evaluate(frame, ("lemma",), n_folds=3)["notes"][0]


# ---------------------------------------------------------------------------- the shared data
@pytest.fixture(scope="module")
def boulder_evaluation(boulder_wide_path, embedding_model):
    from prt.attribution.answers import read_answers

    answers, _ = read_answers(boulder_wide_path, require_categories=True)
    return evaluate(answers, ("lemma", "ngram", "embedding"), n_folds=5, seed=0)


@pytest.mark.shared_data
@pytest.mark.slow
def test_agreement_with_the_reconciled_codes(boulder_evaluation):
    """The numbers of docs/attribution.md (5 folds, seed 0); the embedding coder reaches the
    human coders' agreement, the n-gram coder falls short on mind-brain (documented)."""
    table = boulder_evaluation["table"].set_index("coder")
    assert (table["n"] == 858).all()
    emb = table.loc["embedding"]
    assert emb["kappa_mind_brain"] >= TARGETS["kappa_mind_brain"] and emb["kappa_17"] >= TARGETS["kappa_17"]
    assert table.loc["ngram", "kappa_17"] >= TARGETS["kappa_17"]
    assert 0.65 < table.loc["ngram", "kappa_mind_brain"] < TARGETS["kappa_mind_brain"]
    assert table.loc["lemma", "kappa_mind_brain"] == pytest.approx(0.885, abs=0.005)  # no training: exact
    assert (table["share_queued"] < 0.35).all() and (table["accuracy_17_not_queued"] > 0.88).all()
    assert (table["kappa_mind_brain_after_review"] > 0.95).all()
