"""The human review of low-confidence codes: a reviewer's category wins over the coder's.

Issue 15: "Low-confidence answers are queued for a human, whose code then wins." The queue is the
coded file's rows with ``needs_review`` true; the reviewer writes a category into
``review_category`` (any row may be reviewed) and the file comes back as ``--reviews``. A review
is matched to its answer by participant, timepoint and item, and only while the answer's words
are unchanged (a changed answer must be coded again). Rows without a key match by their words.
"""

from __future__ import annotations

import pandas as pd

from prt.attribution.answers import check_answers, describe
from prt.attribution.scheme import SCHEME, Scheme
from prt.errors import InputError

REVIEW_COLUMN = "review_category"


def read_reviews(path, scheme: Scheme = SCHEME) -> pd.DataFrame:
    """The reviewed rows of a coded file: participant, timepoint, slot, text, category."""
    from prt.data.csvtext import read_table, source_text

    text, name = source_text(path, "reviews file")
    table = read_table(text, name)
    if REVIEW_COLUMN not in table.columns:
        raise InputError(f"{name}: no {REVIEW_COLUMN!r} column (write the reviewer's category there)")
    if not (table[REVIEW_COLUMN] != "").any():
        return pd.DataFrame(columns=["participant", "timepoint", "slot", "text", "category"])
    frame = pd.DataFrame({"line": [i + 2 for i in range(len(table))]})
    for column in ("participant", "timepoint", "slot", "text"):
        values = table[column] if column in table.columns else pd.Series([""] * len(table))
        frame[column] = [v if v != "" else None for v in values]
    if frame["text"].isna().all():
        raise InputError(f"{name}: no 'text' column (the reviewed answers' words must come back unchanged)")
    frame["category"] = table[REVIEW_COLUMN].to_numpy(object)
    frame = frame[table[REVIEW_COLUMN].to_numpy(object) != ""].reset_index(drop=True)
    frame["slot"] = [int(v) if v is not None and str(v).isdigit() else v for v in frame["slot"]]
    bad = [v for v in frame["slot"] if v is not None and not isinstance(v, int)]
    if bad:
        raise InputError(f"{name}: a slot is not a whole number")
    return check_answers(frame, scheme, "review {i}").drop(columns="line")


def coded_frame(answers: pd.DataFrame, coding: pd.DataFrame) -> pd.DataFrame:
    """The coded file (the review queue): ids, the answer, the coding, the human codes the input
    carried (``human_category``) and an empty ``review_category`` for the reviewer."""
    keep = [c for c in ("participant", "timepoint", "slot") if c in answers.columns and answers[c].notna().any()]
    ids = answers[[*keep, "text"]].reset_index(drop=True)
    out = pd.concat([ids, coding.reset_index(drop=True)], axis=1)
    if "category" in answers.columns:
        out["human_category"] = answers["category"].to_numpy(object)
    out[REVIEW_COLUMN] = ""
    out["confidence"] = out["confidence"].astype(float).round(4)
    out["mind_brain_probability"] = out["mind_brain_probability"].astype(float).round(4)
    return out


def apply_reviews(answers: pd.DataFrame, coding: pd.DataFrame, reviews: pd.DataFrame,
                  scheme: Scheme = SCHEME) -> pd.DataFrame:
    """The coding with reviewed answers recoded: category (17 and 12), mind-brain, confidence 1,
    ``needs_review`` false and ``decided_by`` = ``human``; the rest ``decided_by`` = ``coder``.

    A review that matches no answer, or an answer whose words changed, is an InputError.
    """
    out = coding.copy()
    out["decided_by"] = "coder"
    if reviews.empty:
        return out
    keys = {}
    for i, row in enumerate(answers.to_dict("records")):
        keys.setdefault(_key(row), []).append(i)
    for row in reviews.to_dict("records"):
        where = describe(row)
        rows = keys.get(_key(row))
        if not rows:
            raise InputError(f"reviews: {where}: no such answer in the input (or its words changed since review)")
        category = scheme.category_of(row["category"], f"reviews: {where}")
        for i in rows:
            at = out.index[i]
            out.loc[at, ["category", "category_12"]] = [category, scheme.merge_12(category)]
            out.loc[at, ["mind_brain", "mind_brain_probability", "confidence"]] = [
                scheme.is_mind_brain(category), float(scheme.is_mind_brain(category)), 1.0]
            out.loc[at, "needs_review"] = False
            out.loc[at, "rule"] = "review"
            out.loc[at, "decided_by"] = "human"
    return out


def _key(row) -> tuple:
    def norm(v):
        return None if v is None or v != v or v == "" else str(v)

    slot = row.get("slot")
    slot = None if slot is None or slot != slot or slot == "" else int(slot)
    return (norm(row.get("participant")), norm(row.get("timepoint")), slot, " ".join(str(row["text"]).split()).lower())
