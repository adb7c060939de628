"""Reading the answers to code (and hand-coded answers to learn from), with one clear error per fault.

Two kinds of input (docs/attribution.md):

- a trial export that :func:`prt.data.read_trial` reads (REDCap flat or long, prt's tidy CSV): the
  free-text fields ``attributed_cause_1..3`` at each timepoint and, when present, the study's
  reconciled codes ``cat1..3`` (the shared export's layout; protocol notes "Pain attributions");
- an answers CSV with a ``text`` column and optional ``participant``, ``timepoint``, ``slot`` and
  ``category`` columns (one answer per row).

An answer must be text with at least one letter; an answer of question marks only is a recorded
"don't know" (the study coded it ``other``). Empty or non-text answers, a category outside the
scheme, a code without an answer: an :class:`~prt.errors.InputError` naming the record, never a
silent ``other``. In an export a blank cell is an unanswered item (left out), as REDCap records it.
Messages name the record, timepoint and item, never the answer's words (patient data).
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Iterable

import pandas as pd

from prt.attribution.scheme import SCHEME, Scheme
from prt.errors import InputError

#: Longest answer accepted: the item asks for one cause; a longer cell is a pasted document.
MAX_ANSWER_CHARS = 2000
#: Columns of an answers frame (``category``: the human code, only where one was given).
ANSWER_COLUMNS = ("participant", "timepoint", "slot", "text")
TEXT_FIELD = "attributed_cause_{slot}"
CODE_FIELD = "cat{slot}"

_LETTER = re.compile(r"[^\W\d_]")
_DONT_KNOW = re.compile(r"\?+")
#: Control characters other than tab, line feed and carriage return (which become spaces).
_BAD_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_SPACE = re.compile(r"\s+")


def clean_answer(value, where: str) -> str:
    """One answer as coded: text with runs of white space as one space, or an InputError.

    ``where`` names the record in the message (e.g. ``record 12, pre, cause 2``).

    >>> clean_answer("  Stress at\\nwork ", "row 2")
    'Stress at work'
    >>> clean_answer("", "row 3")
    Traceback (most recent call last):
    ...
    prt.errors.InputError: row 3: the answer is empty (expected the cause in words)
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        raise InputError(f"{where}: no answer (expected the cause in words)")
    if not isinstance(value, str):
        raise InputError(f"{where}: the answer is not text ({type(value).__name__}); expected the cause in words")
    if _BAD_CONTROL.search(value):
        raise InputError(f"{where}: the answer holds a control character; expected plain text")
    text = _SPACE.sub(" ", value).strip()
    if not text:
        raise InputError(f"{where}: the answer is empty (expected the cause in words)")
    if len(text) > MAX_ANSWER_CHARS:
        raise InputError(f"{where}: the answer is longer than {MAX_ANSWER_CHARS} characters "
                         "(expected one cause)")
    if not _LETTER.search(text) and not is_dont_know(text):
        raise InputError(f"{where}: the answer has no words (expected the cause in words, or '?' "
                         "for don't know)")
    return text


def is_dont_know(text: str) -> bool:
    """An answer of question marks only: a recorded "don't know" (coded ``other`` by rule)."""
    return bool(_DONT_KNOW.fullmatch(text.strip()))


def describe(row) -> str:
    """How a message names one answer: its record, timepoint and item, or its row in the file."""
    parts = []
    if _present(row.get("participant")):
        parts.append(f"record {row['participant']}")
    if _present(row.get("timepoint")):
        parts.append(str(row["timepoint"]))
    if _present(row.get("slot")):
        parts.append(f"cause {int(row['slot'])}")
    if _present(row.get("line")):
        parts.insert(0, f"line {int(row['line'])}")
    return ", ".join(parts) if parts else "answer"


def _present(value) -> bool:
    return value is not None and not (isinstance(value, float) and math.isnan(value)) and value != ""


def answers_frame(texts: Iterable, *, participants=None, timepoints=None, slots=None,
                  categories=None, scheme: Scheme = SCHEME) -> pd.DataFrame:
    """Answers given in Python as a checked answers frame (positions name the records in errors).

    >>> answers_frame(["stress", "car accident"], categories=["stress", "injury"])[["text", "category"]]
               text category
    0        stress   stress
    1  car accident   injury
    """
    texts = list(texts)
    frame = pd.DataFrame({
        "participant": list(participants) if participants is not None else [None] * len(texts),
        "timepoint": list(timepoints) if timepoints is not None else [None] * len(texts),
        "slot": list(slots) if slots is not None else [None] * len(texts),
        "text": texts,
    })
    if categories is not None:
        frame["category"] = list(categories)
    frame["line"] = [None] * len(frame)
    frame.index = pd.RangeIndex(len(frame))
    return check_answers(frame, scheme, "answer {i}")


def check_answers(frame: pd.DataFrame, scheme: Scheme, fallback: str) -> pd.DataFrame:
    """Clean every answer and category of a raw answers frame; errors name the record."""
    if frame.empty:
        raise InputError("no answers to code (the input holds no attributed causes)")
    texts, categories = [], []
    has_category = "category" in frame.columns
    for i, row in enumerate(frame.to_dict("records")):
        where = describe(row)
        if where == "answer":
            where = fallback.format(i=i + 1)
        texts.append(clean_answer(row["text"], where))
        if has_category:
            categories.append(scheme.category_of(row["category"], f"{where}: category"))
    out = frame.copy()
    out["text"] = texts
    if has_category:
        out["category"] = categories
    out["slot"] = out["slot"].astype(object)
    return out


def answers_from_trial(trial, *, require_categories: bool = False, scheme: Scheme = SCHEME) -> pd.DataFrame:
    """The attributed causes of a :class:`~prt.data.TrialData`, one row per answer.

    Columns participant, timepoint, slot (1-3), text, and ``category`` (the study's reconciled
    code, as a category id) when the export carries ``cat1..3``. A code without an answer is an
    error; with ``require_categories`` so is an answer without a code (a training file).
    """
    text = trial.text
    n = scheme.answers_per_participant
    answer_fields = {TEXT_FIELD.format(slot=k): k for k in range(1, n + 1)}
    code_fields = {CODE_FIELD.format(slot=k): k for k in range(1, n + 1)}
    rows = text[text["field"].isin(answer_fields.keys() | code_fields.keys())]
    if rows.empty or not rows["field"].isin(answer_fields.keys()).any():
        raise InputError(
            f"the export has no attributed causes (fields {', '.join(answer_fields)} at any timepoint)")
    has_codes = rows["field"].isin(code_fields.keys()).any()
    if require_categories and not has_codes:
        raise InputError(f"the export has no category codes ({', '.join(code_fields)}): a training "
                         "file needs the hand-coded category of every answer")
    records: dict[tuple, dict] = {}
    for participant, timepoint, field, value in rows[["participant", "timepoint", "field", "value"]].itertuples(index=False):
        slot = answer_fields.get(field) or code_fields[field]
        entry = records.setdefault((participant, timepoint, slot), {
            "participant": participant, "timepoint": timepoint, "slot": slot, "text": None, "category": None})
        entry["text" if field in answer_fields else "category"] = value
    frame = pd.DataFrame(list(records.values()), columns=[*ANSWER_COLUMNS, "category"])
    frame["line"] = None
    for row in frame.to_dict("records"):
        if pd.isna(row["text"]):
            raise InputError(f"{describe(row)}: a category code but no answer")
        if require_categories and pd.isna(row["category"]):
            raise InputError(f"{describe(row)}: an answer but no category code (a training file needs both)")
    if not has_codes:
        frame = frame.drop(columns="category")
    elif frame["category"].isna().any():
        frame = frame.drop(columns="category")  # codes for some answers only: reference incomplete
    frame = frame.reset_index(drop=True)  # trial.text is in participant, study-time, field order
    return check_answers(frame, scheme, "answer {i}")


def read_answers_csv(source, *, require_categories: bool = False, scheme: Scheme = SCHEME) -> pd.DataFrame:
    """An answers CSV (``text`` column; optional participant, timepoint, slot, category)."""
    from prt.data.csvtext import read_table, source_text

    text, name = source_text(source, "answers file")
    table = _single_column(text, name)
    if table is None:
        table = read_table(text, name)
    if "text" not in table.columns:
        raise InputError(f"{name}: no 'text' column (an answers file has one answer per row in 'text')")
    if require_categories and "category" not in table.columns:
        raise InputError(f"{name}: no 'category' column (a training file gives each answer's category)")
    frame = pd.DataFrame({"line": range(2, len(table) + 2)}, index=table.index)
    for column in ("participant", "timepoint"):
        frame[column] = table[column].where(table[column] != "", None) if column in table.columns else None
    frame["slot"] = None
    if "slot" in table.columns:
        slots = []
        for line, value in zip(frame["line"], table["slot"]):
            if value == "":
                slots.append(None)
                continue
            if not re.fullmatch(r"[1-9][0-9]?", value):
                raise InputError(f"{name}: line {line}: slot must be a whole number 1-99 (the rank of the cause)")
            slots.append(int(value))
        frame["slot"] = slots
    frame["text"] = table["text"]
    has_codes = "category" in table.columns and (require_categories or (table["category"] != "").all())
    if has_codes:  # codes for only some answers, when coding: no reference, the column is ignored
        frame["category"] = table["category"]
    frame = frame[["line", *ANSWER_COLUMNS] + (["category"] if has_codes else [])]
    checked = check_answers(frame.reset_index(drop=True), scheme, "answer {i}")
    _check_unique_keys(checked, name)
    return checked


def _single_column(text: str, name: str) -> pd.DataFrame | None:
    """A file of one column (just ``text``, or ``category``...) as a table; None if it has more.

    prt's CSV reader refuses a one-column header (usually a wrongly separated export); an answers
    file of nothing but answers is legitimate, one (quoted where needed) cell per line.
    """
    import csv
    import io

    lines = text.splitlines()
    if not lines or any(d in lines[0] for d in (",", ";", "\t", "|")):
        return None
    try:
        rows = [r for r in csv.reader(io.StringIO(text, newline=""), strict=True) if any(c.strip() for c in r)]
    except csv.Error as exc:
        raise InputError(f"{name}: not a readable CSV file ({exc})") from None
    for i, row in enumerate(rows[1:], start=2):
        if len(row) != 1:
            raise InputError(f"{name}: row {i} has {len(row)} cells but the header has 1")
    header = rows[0][0].strip() if rows else ""
    if not header:
        raise InputError(f"{name}: the file is empty (expected a header row)")
    table = pd.DataFrame({header: [r[0].strip() for r in rows[1:]]}, dtype=object)
    if table.empty:
        raise InputError(f"{name}: the file has a header but no answers")
    return table


def _check_unique_keys(frame: pd.DataFrame, name: str) -> None:
    keyed = frame[frame["participant"].notna() & frame["timepoint"].notna() & frame["slot"].notna()]
    dup = keyed.duplicated(["participant", "timepoint", "slot"])
    if dup.any():
        row = keyed[dup].iloc[0].to_dict()
        raise InputError(f"{name}: {describe(row)} is given more than once")


def looks_like_answers_csv(path: str | Path) -> bool:
    """Whether a file's header names a ``text`` column (an answers file, not a trial export)."""
    from prt.data.csvtext import detect_delimiter, source_text

    text, name = source_text(path, "input")
    first = text.lstrip("\ufeff").splitlines()[0] if text.strip() else ""
    if not first:
        return False
    import csv
    import io

    if not any(d in first for d in (",", ";", "\t", "|")):
        return first.strip().strip('"') == "text"
    cells = next(csv.reader(io.StringIO(first), delimiter=detect_delimiter(first, name)), [])
    return "text" in {c.strip() for c in cells}


def read_answers(path, *, require_categories: bool = False, mapping=None, dictionary=None,
                 scheme: Scheme = SCHEME) -> tuple[pd.DataFrame, object | None]:
    """Answers from an answers CSV or a trial export: ``(answers, trial or None)``.

    The trial comes back for an export, so the analysis can use its arms, ages and pain.
    """
    if looks_like_answers_csv(path):
        return read_answers_csv(path, require_categories=require_categories, scheme=scheme), None
    from prt.data import load_mapping, read_trial

    if isinstance(mapping, (str, Path)):
        mapping = load_mapping(mapping)
    trial = read_trial(path, mapping=mapping, dictionary=dictionary)
    return answers_from_trial(trial, require_categories=require_categories, scheme=scheme), trial
