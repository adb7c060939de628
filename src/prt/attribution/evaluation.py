"""Agreement of the automatic coders with the study's reconciled human codes, cross-validated.

Design (docs/attribution.md): participant-grouped K-fold cross-validation (scikit-learn
``GroupKFold`` with shuffling; both timepoints of a participant are always in the same fold, so no
coder is tested on a person it learned from). The lemma coder is not trained and is applied as it
is. Agreement: accuracy and Cohen's kappa against the human codes on the 17 categories, on the
12 analysis categories and on mind-brain vs not. The targets are what the study's two human
coders reached with each other: kappa about 0.85 for mind-brain and 0.71 on 17 categories
(Ashar et al., JAMA Network Open 2023; protocol notes "Pain attributions").
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from prt.attribution.coders import CODERS, EmbeddingCoder, LemmaCoder, embed, get_coder
from prt.attribution.scheme import SCHEME, Scheme
from prt.errors import InputError

#: The human coders' agreement with each other: the targets (Ashar et al. 2023).
TARGETS = {"kappa_mind_brain": 0.85, "kappa_17": 0.71}
#: Columns of the agreement table, one row per coder.
AGREEMENT_COLUMNS = ("coder", "n", "accuracy_17", "kappa_17", "accuracy_12", "kappa_12",
                     "accuracy_mind_brain", "kappa_mind_brain", "share_queued", "accuracy_17_not_queued",
                     "kappa_mind_brain_not_queued", "kappa_17_after_review", "kappa_mind_brain_after_review")


def cohen_kappa(a: Sequence, b: Sequence) -> float:
    """Cohen's kappa of two codings of the same items (unweighted; NaN when chance agreement is 1)."""
    from sklearn.metrics import cohen_kappa_score

    a, b = list(a), list(b)
    if not a:
        return float("nan")
    if len(set(a) | set(b)) < 2:
        return float("nan")
    return float(cohen_kappa_score(a, b))


def folds(answers: pd.DataFrame, n_folds: int = 5, seed: int = 0) -> np.ndarray:
    """Fold number (0..n_folds-1) of every answer, grouped by participant.

    Answers without a participant each form their own group (then nothing keeps one person's
    answers together: the agreement may be optimistic, and :func:`cross_validate` says so).
    """
    from sklearn.model_selection import GroupKFold

    groups = _groups(answers)
    n_groups = len(set(groups))
    if n_folds < 2 or n_folds > n_groups:
        raise InputError(f"cross-validation needs 2 to {n_groups} folds (one per participant at most), got {n_folds}")
    fold = np.empty(len(answers), int)
    splitter = GroupKFold(n_splits=n_folds, shuffle=True, random_state=seed)
    for k, (_, test) in enumerate(splitter.split(np.zeros(len(answers)), groups=groups)):
        fold[test] = k
    return fold


def _groups(answers: pd.DataFrame) -> np.ndarray:
    who = answers["participant"] if "participant" in answers.columns else pd.Series([None] * len(answers))
    return np.array([f"p:{p}" if p is not None and p == p else f"row:{i}" for i, p in enumerate(who)], dtype=object)


def cross_validate(answers: pd.DataFrame, coders: Sequence[str] = ("lemma", "ngram", "embedding"), *,
                   n_folds: int = 5, seed: int = 0, scheme: Scheme = SCHEME,
                   lemma_coder: LemmaCoder | None = None, progress=None) -> dict[str, pd.DataFrame]:
    """Out-of-fold codings of every answer by each coder: ``{coder: coding frame}``.

    ``answers`` needs ``text`` and ``category`` (the human codes). The embedding coder embeds
    every distinct answer once and trains its classifier per fold. ``progress(name)``: called as
    each coder finishes.
    """
    if "category" not in answers.columns:
        raise InputError("evaluation needs the human codes (a 'category' column, or cat1..3 in the export)")
    unknown = [c for c in coders if c not in CODERS]
    if unknown:
        raise InputError(f"unknown coder {unknown[0]!r} (expected {', '.join(CODERS)})")
    texts = [t.strip().lower() for t in answers["text"]]
    truth = list(answers["category"])
    fold = folds(answers, n_folds, seed)
    out: dict[str, pd.DataFrame] = {}
    for name in coders:
        if name == "lemma":
            coder = lemma_coder or get_coder("lemma", scheme=scheme)
            coding = coder.code(texts)
        else:
            coding = _cross_validated(name, texts, truth, fold, scheme)
        coding.index = answers.index
        out[name] = coding
        if progress is not None:
            progress(name)
    return out


def _cross_validated(name: str, texts: list[str], truth: list[str], fold: np.ndarray, scheme: Scheme) -> pd.DataFrame:
    """Code each fold with a coder trained on the other folds."""
    parts = []
    embedding = embed(texts) if issubclass(CODERS[name], EmbeddingCoder) else None
    for k in sorted(set(fold)):
        train_at, test_at = np.flatnonzero(fold != k), np.flatnonzero(fold == k)
        coder = CODERS[name](scheme)
        train_texts = [texts[i] for i in train_at]
        train_truth = [truth[i] for i in train_at]
        test_texts = [texts[i] for i in test_at]
        if isinstance(coder, EmbeddingCoder):
            coder.fit_features(embedding[train_at], train_truth)
            coding = coder.code_features(test_texts, embedding[test_at])  # embedded once, above
        else:
            coder.fit(train_texts, train_truth)
            coding = coder.code(test_texts)
        coding.index = test_at
        parts.append(coding)
    return pd.concat(parts).sort_index()


def agreement(truth: Sequence[str], coding: pd.DataFrame, scheme: Scheme = SCHEME) -> dict:
    """Accuracy and kappa of one coding against the human categories (17, 12, mind-brain)."""
    truth = list(truth)
    pred = list(coding["category"])
    t12 = [scheme.merge_12(c) for c in truth]
    p12 = [scheme.merge_12(c) for c in pred]
    tmb = [scheme.is_mind_brain(c) for c in truth]
    pmb = [bool(v) for v in coding["mind_brain"]]
    kept = ~coding["needs_review"].to_numpy(bool)
    t_k = [t for t, k in zip(truth, kept) if k]
    p_k = [p for p, k in zip(pred, kept) if k]
    tmb_k = [t for t, k in zip(tmb, kept) if k]
    pmb_k = [p for p, k in zip(pmb, kept) if k]
    after = reviewed(truth, coding, scheme)
    return {
        "n": len(truth),
        "accuracy_17": _accuracy(truth, pred),
        "kappa_17": cohen_kappa(truth, pred),
        "accuracy_12": _accuracy(t12, p12),
        "kappa_12": cohen_kappa(t12, p12),
        "accuracy_mind_brain": _accuracy(tmb, pmb),
        "kappa_mind_brain": cohen_kappa(tmb, pmb),
        "share_queued": float(1.0 - kept.mean()) if len(kept) else float("nan"),
        "accuracy_17_not_queued": _accuracy(t_k, p_k),
        "kappa_mind_brain_not_queued": cohen_kappa(tmb_k, pmb_k),
        "kappa_17_after_review": cohen_kappa(truth, list(after["category"])),
        "kappa_mind_brain_after_review": cohen_kappa(tmb, [bool(v) for v in after["mind_brain"]]),
    }


def reviewed(truth: Sequence[str], coding: pd.DataFrame, scheme: Scheme = SCHEME) -> pd.DataFrame:
    """The coding once a human has coded the queued answers: the queue takes the human codes
    (``truth``), as :func:`prt.attribution.review.apply_reviews` would with a reviewer who agrees
    with the reconciled codes. Shows what the review queue buys."""
    out = coding.copy()
    queued = out["needs_review"].to_numpy(bool)
    if not queued.any():
        return out
    human = np.asarray(list(truth), dtype=object)
    out.loc[queued, "category"] = human[queued]
    out.loc[queued, "category_12"] = [scheme.merge_12(c) for c in human[queued]]
    out.loc[queued, "mind_brain"] = [scheme.is_mind_brain(c) for c in human[queued]]
    out.loc[queued, "needs_review"] = False
    return out


def _accuracy(a, b) -> float:
    return float(np.mean([x == y for x, y in zip(a, b)])) if len(a) else float("nan")


def agreement_table(answers: pd.DataFrame, codings: dict[str, pd.DataFrame], scheme: Scheme = SCHEME) -> pd.DataFrame:
    """One row per coder: :data:`AGREEMENT_COLUMNS`."""
    rows = [{"coder": name, **agreement(answers["category"], coding, scheme)} for name, coding in codings.items()]
    return pd.DataFrame(rows, columns=list(AGREEMENT_COLUMNS))


def evaluate(answers: pd.DataFrame, coders: Sequence[str] = ("lemma", "ngram", "embedding"), *,
             n_folds: int = 5, seed: int = 0, scheme: Scheme = SCHEME, lemma_coder=None) -> dict:
    """The cross-validated comparison: ``{"table", "codings", "notes", "targets", "n_folds", "seed"}``."""
    codings = cross_validate(answers, coders, n_folds=n_folds, seed=seed, scheme=scheme, lemma_coder=lemma_coder)
    notes = []
    if "participant" not in answers.columns or answers["participant"].isna().any():
        notes.append("some answers carry no participant: they were split as if each came from a different "
                     "person, which can make the agreement look better than it is")
    return {"table": agreement_table(answers, codings, scheme), "codings": codings, "notes": notes,
            "targets": dict(TARGETS), "n_folds": n_folds, "seed": seed}
