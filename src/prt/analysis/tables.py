"""The report's tables as plain DataFrames: Table 1 (baseline by arm) and Table 2 (outcomes by arm).

Both are built from data the analysis already produced (``TrialData``, the results dict), never
recomputing statistics. Cells are display strings in one documented format, so the CSV a research
team pastes into a manuscript and the HTML report show the same numbers:

- continuous: ``mean (SD)`` with 2 decimals, e.g. ``41.07 (15.61)``;
- categorical: ``n (%)`` with 1 decimal of percent of the arm's participants, e.g. ``81 (53.6%)``;
- Hedges g: ``g [low, high]`` with 2 decimals (95% bootstrap CI), e.g. ``-1.14 [-1.62, -0.67]``;
- p values: 3 decimals, ``<0.001`` below 0.001;
- anything missing (None, NaN, no record): ``-``.

Labels follow the paper (Ashar et al., JAMA Psychiatry 2022, Table 1 and Table 2).
"""

from __future__ import annotations

import math
from typing import Any, Iterable, Sequence

import numpy as np
import pandas as pd

from prt.analysis.baseline import with_baseline
from prt.vocabulary import (
    ARM_LABELS,
    ARMS,
    COMPARISON_LABELS,
    COMPARISON_NAMES,
    OUTCOMES,
    TIMEPOINT_LABELS,
    TIMEPOINT_ORDER,
)
from prt.vocabulary import outcome_label as vocabulary_outcome_label

MISSING = "-"

#: Labels and orders come from the one vocabulary (prt.vocabulary); outcome labels carry the
#: range declared by each instrument definition.
COMPARISONS = COMPARISON_NAMES
OUTCOME_LABELS = {outcome: vocabulary_outcome_label(outcome) for outcome in OUTCOMES}

#: Responder criteria (protocol notes, "Responders": all randomized are the denominator).
CRITERION_LABELS = {
    "reduction_30": "Pain reduced by at least 30% from baseline",
    "reduction_50": "Pain reduced by at least 50% from baseline",
    "pain_free": "Pain-free or nearly pain-free (pain 0 or 1 of 10)",
}

#: Per-participant fields Table 1 shows first, with their label and kind; the unit the data's
#: mapping declares is appended ("Age, years"), and coded fields show their codebook labels.
_TABLE1_FIELDS = (
    ("age", "Age", "continuous"),
    ("sex", "Sex", "categorical"),
    ("education", "Education", "categorical"),
    ("employment_status", "Employment status", "categorical"),
    ("backpain_length", "Back pain duration", "continuous"),
    ("current_opioid_use", "Current opioid use", "categorical"),
)
_OTHER_LABELS = {
    "ethnicity": "Ethnicity",
    "hispanic": "Hispanic",
    "married": "Married or living as married",
    "exercise": "Exercise",
    "handedness": "Handedness",
    "sses": "Subjective socioeconomic status",
    "weight": "Weight",
}
#: Undeclared codes with this many distinct values or fewer are shown as categories, more as
#: mean (SD); a field with declared choices is always categorical, one with a unit never.
_MAX_CATEGORIES = 8
TABLE1_COLUMNS = ("characteristic", "level", *ARMS, "overall")


# ------------------------------------------------------------------------------------ formats
def is_missing(value: Any) -> bool:
    """None, NaN and pandas' NA are missing."""
    if value is None or value is pd.NA:
        return True
    try:
        return bool(isinstance(value, (float, np.floating)) and math.isnan(value))
    except TypeError:
        return False


def fmt_number(value: Any, digits: int = 2) -> str:
    """A number with fixed decimals (``-0.00`` shown as ``0.00``); ``-`` when missing."""
    if is_missing(value):
        return MISSING
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    if math.isinf(number):
        return "inf" if number > 0 else "-inf"
    text = f"{number:.{digits}f}"
    if float(text) == 0:
        text = text.lstrip("-")
    return text


def fmt_p(value: Any) -> str:
    """p to 3 decimals, ``<0.001`` below that."""
    if is_missing(value):
        return MISSING
    p = float(value)
    return "<0.001" if p < 0.001 else f"{p:.3f}"


def fmt_mean_sd(mean: Any, sd: Any, digits: int = 2) -> str:
    if is_missing(mean):
        return MISSING
    return f"{fmt_number(mean, digits)} ({fmt_number(sd, digits)})"


def fmt_count(n: int, total: int) -> str:
    """``n (%)`` of the total, percent to 1 decimal."""
    if total <= 0:
        return f"{n} ({MISSING})"
    return f"{n} ({100.0 * n / total:.1f}%)"


def fmt_ci(estimate: Any, low: Any, high: Any, digits: int = 2) -> str:
    """``estimate [low, high]``; the bracket is dropped when the interval is missing."""
    if is_missing(estimate):
        return MISSING
    if is_missing(low) or is_missing(high):
        return fmt_number(estimate, digits)
    return f"{fmt_number(estimate, digits)} [{fmt_number(low, digits)}, {fmt_number(high, digits)}]"


def fmt_value(key: str, value: Any) -> str:
    """Any field of a generic result record: p values as p, floats to 3 decimals, text as is."""
    if is_missing(value):
        return MISSING
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        if key == "p" or key.startswith("p_") or key.endswith("_p"):
            return fmt_p(value)
        if float(value).is_integer() and key in {"n", "df", "responders", "randomized"}:
            return str(int(value))
        return fmt_number(value, 2 if key == "df" else 3)
    if isinstance(value, (list, tuple)):
        return ", ".join(fmt_value(key, v) for v in value)
    return str(value)


def outcome_label(outcome: str) -> str:
    label = vocabulary_outcome_label(outcome)
    return label if label != outcome else str(outcome).replace("_", " ")


def timepoint_label(timepoint: str) -> str:
    return TIMEPOINT_LABELS.get(timepoint, str(timepoint))


def arm_label(arm: str) -> str:
    return ARM_LABELS.get(arm, str(arm))


def comparison_label(comparison: str) -> str:
    return COMPARISON_LABELS.get(comparison, str(comparison).replace("_", " "))


def order_key(value: str, order: Sequence[str]) -> tuple[int, str]:
    """Sort key: known names in the given order, unknown ones after, alphabetically."""
    value = str(value)
    return (order.index(value), "") if value in order else (len(order), value)


# ------------------------------------------------------------------------------------ Table 1
def _continuous_cells(values: pd.Series, arms: pd.Series) -> dict[str, str]:
    cells = {}
    for arm in ARMS:
        v = values[arms == arm].dropna()
        cells[arm] = fmt_mean_sd(v.mean(), v.std(ddof=1)) if len(v) else MISSING
    v = values.dropna()
    cells["overall"] = fmt_mean_sd(v.mean(), v.std(ddof=1)) if len(v) else MISSING
    return cells


def _continuous_rows(label: str, values: pd.Series, arms: pd.Series) -> list[dict[str, str]]:
    rows = [{"characteristic": label, "level": "mean (SD)", **_continuous_cells(values, arms)}]
    if values.isna().any():
        rows.append({"characteristic": label, "level": "missing, n", **_missing_counts(values, arms)})
    return rows


def _missing_counts(values: pd.Series, arms: pd.Series) -> dict[str, str]:
    cells = {arm: str(int(values[arms == arm].isna().sum())) for arm in ARMS}
    cells["overall"] = str(int(values.isna().sum()))
    return cells


def _categorical_rows(label: str, values: pd.Series, arms: pd.Series, levels: dict) -> list[dict[str, str]]:
    totals = {arm: int((arms == arm).sum()) for arm in ARMS}
    totals["overall"] = len(arms)
    rows = []
    for level, level_label in levels.items():
        hit = values == level
        cells = {arm: fmt_count(int((hit & (arms == arm)).sum()), totals[arm]) for arm in ARMS}
        cells["overall"] = fmt_count(int(hit.sum()), totals["overall"])
        rows.append({"characteristic": label, "level": f"{level_label}, n (%)", **cells})
    if values.isna().any():
        cells = {arm: fmt_count(int((values.isna() & (arms == arm)).sum()), totals[arm]) for arm in ARMS}
        cells["overall"] = fmt_count(int(values.isna().sum()), totals["overall"])
        rows.append({"characteristic": label, "level": "missing, n (%)", **cells})
    return rows


def _level_keys(values: pd.Series) -> pd.Series:
    """Each value as its code text (3.0 -> "3", "female" as is), missing as None."""
    from prt.data.mapping import code_key

    return values.map(lambda v: None if is_missing(v) else code_key(v)).astype(object)


def _declared_levels(trial, name: str) -> dict:
    """Stored code -> codebook label declared by the data's mapping (none for a bare trial)."""
    mapping = getattr(trial, "mapping", None)
    if mapping is None:
        return {}
    labels = mapping.value_labels(name)
    if name == "sex":  # the sexes the project codes (Boulder: male, female, other)
        labels = {s: labels[s] for s in dict.fromkeys(mapping.sex_codes.values()) if s in labels}
    return labels


def _code_levels(trial, name: str, values: pd.Series) -> dict:
    """Every declared level with its label, in the codebook's order (counted even when nobody
    has it); codes present but undeclared follow as ``code N``."""
    levels = dict(_declared_levels(trial, name))
    present = set(_level_keys(values).dropna()) - set(levels)
    for key in sorted(present, key=_code_order):
        levels[key] = f"code {key}"
    return levels


def _code_order(key: str) -> tuple:
    try:
        return (0, float(key), "")
    except ValueError:
        return (1, 0.0, key)


def _with_unit(trial, name: str, label: str) -> str:
    """``Weight, pounds``: the characteristic's label and the unit its mapping declares."""
    unit = trial.unit_of(name) if hasattr(trial, "unit_of") else None
    return f"{label}, {unit}" if unit else label


def fmt_code(code: Any) -> str:
    if isinstance(code, (float, np.floating)) and float(code).is_integer():
        return str(int(code))
    return str(code)


def _field_rows(trial, name: str, label: str, kind: str, values: pd.Series, arms: pd.Series) -> list[dict]:
    if kind == "continuous":
        return _continuous_rows(_with_unit(trial, name, label), pd.to_numeric(values, errors="coerce"), arms)
    return _categorical_rows(label, _level_keys(values), arms, _code_levels(trial, name, values))


def table1(trial, outcomes: Iterable[str] = OUTCOMES) -> pd.DataFrame:
    """Baseline characteristics by arm and overall (the paper's Table 1), from what the data hold.

    Columns: ``characteristic, level, prt, placebo, usual_care, overall``. The first row counts
    the randomized participants; then age, sex, education, employment, back pain duration, opioid
    use, the other per-participant fields (constant ones skipped), then each outcome's baseline
    (mean of eligibility and pretreatment; Ashar et al. 2022) as mean (SD). Coded fields show the
    labels of the data's mapping (``trial.label_of``: "College graduate"), numbers their unit
    (``trial.unit_of``: "Weight, pounds"); a code without a declared label shows as ``code N``.
    """
    participants = trial.participants
    arms = participants["arm"]
    rows: list[dict[str, str]] = [{
        "characteristic": "Participants randomized",
        "level": "n",
        **{arm: str(int((arms == arm).sum())) for arm in ARMS},
        "overall": str(len(arms)),
    }]
    shown = {"arm"}
    for name, label, kind in _TABLE1_FIELDS:
        if name not in participants.columns:
            continue
        shown.add(name)
        values = participants[name]
        if values.isna().all():
            continue
        rows.extend(_field_rows(trial, name, label, kind, values, arms))
    for name in participants.columns:
        if name in shown:
            continue
        values = participants[name]
        numeric = pd.to_numeric(values, errors="coerce")
        if values.dropna().nunique() <= 1:
            continue  # a constant (e.g. is_patient) says nothing about balance
        label = _OTHER_LABELS.get(name, str(name).replace("_", " ").capitalize())
        if _declared_levels(trial, name):
            rows.extend(_categorical_rows(label, _level_keys(values), arms, _code_levels(trial, name, values)))
        elif numeric.notna().sum() == values.notna().sum():
            distinct = numeric.dropna().unique()
            integer_codes = bool(np.all(np.mod(distinct, 1) == 0))
            has_unit = _with_unit(trial, name, label) != label
            if integer_codes and len(distinct) <= _MAX_CATEGORIES and not has_unit:
                rows.extend(_categorical_rows(label, _level_keys(numeric), arms, _code_levels(trial, name, numeric)))
            else:
                rows.extend(_continuous_rows(_with_unit(trial, name, label), numeric, arms))
        elif values.dropna().nunique() <= _MAX_CATEGORIES:
            levels = {v: str(v) for v in sorted(values.dropna().unique(), key=str)}
            rows.extend(_categorical_rows(label, values, arms, levels))
        # text with many distinct values (free text, identifiers) is never tabulated
    present = set(trial.measures["outcome"].unique())
    for outcome in outcomes:
        if outcome not in present:
            continue
        baseline = with_baseline(trial, outcome)["baseline"].reindex(participants.index)
        if baseline.isna().all():
            continue
        rows.extend(_continuous_rows(f"Baseline {outcome_label(outcome)}", baseline, arms))
    return pd.DataFrame(rows, columns=list(TABLE1_COLUMNS))


# ------------------------------------------------------------------------------------ Table 2
def table2_columns() -> list[str]:
    columns = ["outcome", "measure", "timepoint"]
    for arm in ARMS:
        columns += [f"{arm}_mean_sd", f"{arm}_n"]
    for comparison in COMPARISONS:
        columns += [f"{comparison}_g_ci", f"{comparison}_p"]
    return columns


def table2(results: dict) -> pd.DataFrame:
    """Outcomes by arm and timepoint with Hedges g [95% CI] and p per comparison (the paper's Table 2).

    One row per (outcome, timepoint) found in ``results["outcomes"]`` or ``results["effects"]``,
    outcomes in the paper's order then others alphabetically, timepoints in study order. Columns:
    ``outcome, measure, timepoint``, per arm ``<arm>_mean_sd`` and ``<arm>_n``, per comparison
    ``<comparison>_g_ci`` and ``<comparison>_p``. g < 0: the first arm's score fell more.
    """
    summaries = {(r.get("outcome"), r.get("timepoint"), r.get("group")): r for r in results.get("outcomes") or []}
    effects = {(r.get("outcome"), r.get("timepoint"), r.get("comparison")): r for r in results.get("effects") or []}
    cells = {(o, t) for o, t, _ in summaries} | {(o, t) for o, t, _ in effects}
    cells = sorted(cells, key=lambda ot: (order_key(ot[0], OUTCOMES), order_key(ot[1], TIMEPOINT_ORDER)))
    rows = []
    for outcome, timepoint in cells:
        row = {"outcome": str(outcome), "measure": outcome_label(outcome), "timepoint": str(timepoint)}
        for arm in ARMS:
            record = summaries.get((outcome, timepoint, arm))
            if record is None:
                row[f"{arm}_mean_sd"] = row[f"{arm}_n"] = MISSING
                continue
            row[f"{arm}_mean_sd"] = fmt_mean_sd(record.get("mean"), record.get("sd"))
            n = record.get("n")
            row[f"{arm}_n"] = MISSING if is_missing(n) else str(int(n))
        for comparison in COMPARISONS:
            record = effects.get((outcome, timepoint, comparison))
            if record is None:
                row[f"{comparison}_g_ci"] = row[f"{comparison}_p"] = MISSING
                continue
            row[f"{comparison}_g_ci"] = fmt_ci(record.get("g"), record.get("ci_low"), record.get("ci_high"))
            row[f"{comparison}_p"] = fmt_p(record.get("p"))
        rows.append(row)
    return pd.DataFrame(rows, columns=table2_columns())


# ------------------------------------------------------------------------------------ others
def primary_table(results: dict) -> pd.DataFrame:
    """The primary mixed-model interactions: comparison, estimate, SE, t, df, p."""
    rows = []
    for r in sorted(results.get("primary") or [], key=lambda r: order_key(r.get("comparison"), COMPARISONS)):
        rows.append({
            "comparison": comparison_label(r.get("comparison")),
            "estimate": fmt_number(r.get("estimate")),
            "se": fmt_number(r.get("se")),
            "t": fmt_number(r.get("t")),
            "df": fmt_number(r.get("df")),
            "p": fmt_p(r.get("p")),
        })
    return pd.DataFrame(rows, columns=["comparison", "estimate", "se", "t", "df", "p"])


def responders_table(results: dict) -> pd.DataFrame:
    """Responders per criterion and timepoint: ``responders/randomized (%)`` per arm."""
    records = {(r.get("criterion"), r.get("timepoint"), r.get("group")): r for r in results.get("responders") or []}
    keys = sorted({(c, t) for c, t, _ in records},
                  key=lambda ct: (order_key(ct[0], tuple(CRITERION_LABELS)), order_key(ct[1], TIMEPOINT_ORDER)))
    rows = []
    for criterion, timepoint in keys:
        row = {"criterion": CRITERION_LABELS.get(criterion, str(criterion)), "timepoint": timepoint_label(timepoint)}
        for arm in ARMS:
            row[arm] = fmt_responders(records.get((criterion, timepoint, arm)))
        rows.append(row)
    return pd.DataFrame(rows, columns=["criterion", "timepoint", *ARMS])


def fmt_responders(record: dict | None) -> str:
    if record is None or is_missing(record.get("responders")) or is_missing(record.get("randomized")):
        return MISSING
    k, n = int(record["responders"]), int(record["randomized"])
    return f"{k}/{n} ({100.0 * k / n:.0f}%)" if n > 0 else f"{k}/{n}"


def generic_table(records: Sequence[dict]) -> pd.DataFrame:
    """Any list of result records as a table: columns are the keys in order of first appearance.

    Known names (outcome, timepoint, group, comparison, x, y, mediator) are shown with labels;
    a ``ci_low``/``ci_high`` pair becomes one ``ci`` column ``[low, high]``.
    """
    columns: list[str] = []
    for record in records:
        for key in record:
            if str(key) not in columns:
                columns.append(str(key))
    paired = "ci_low" in columns and "ci_high" in columns
    if paired:
        columns[columns.index("ci_low")] = "ci"
        columns.remove("ci_high")
    rows = []
    for record in records:
        row = {}
        for key in columns:
            if key == "ci" and paired:
                low, high = record.get("ci_low"), record.get("ci_high")
                both = not is_missing(low) and not is_missing(high)
                row[key] = f"[{fmt_number(low, 3)}, {fmt_number(high, 3)}]" if both else MISSING
            else:
                row[key] = label_value(key, record.get(key))
        rows.append(row)
    return pd.DataFrame(rows, columns=columns)


def label_value(key: str, value: Any) -> str:
    """A record field for display: names of outcomes, arms etc. as labels, numbers formatted."""
    if is_missing(value):
        return MISSING
    if isinstance(value, str):
        if key in {"outcome", "x", "y", "mediator", "moderator"} and value in OUTCOME_LABELS:
            return outcome_label(value)
        if key in {"group", "arm"}:
            return arm_label(value)
        if key == "comparison":
            return comparison_label(value)
        if key == "timepoint":
            return timepoint_label(value)
        if key == "criterion":
            return CRITERION_LABELS.get(value, value)
        return value
    return fmt_value(key, value)
