"""Every score the trial recorded lies in its instrument's declared range.

Fields map to instruments through each definition's ``data_fields`` (no table here); the CSV is
read with pandas directly; ``<undefined>`` and NaN are missing.
"""

from __future__ import annotations

import re

import pandas as pd
import pytest

import prt.instruments as instruments

EVENT = (r"(online_prescreenin|eligibility_assess|t1|t2|treatmentweekly\d+|perit[12]daily\d+(pre)?"
         r"|x\d+_month_follow_up)_arm_1")


@pytest.fixture(scope="module")
def wide(boulder_wide_path):
    return pd.read_csv(boulder_wide_path, dtype=str, keep_default_na=True, low_memory=False)


def _field_columns(frame: pd.DataFrame, field: str) -> list[str]:
    pattern = re.compile(rf"{re.escape(field)}_{EVENT}")
    return [c for c in frame.columns if pattern.fullmatch(c)]


FIELDS = [(inst_id, key, field) for inst_id in instruments.ids()
          for key, field in instruments.get(inst_id).data_fields.items()]


def test_the_mapped_fields_cover_the_trial_scores():
    fields = {field for _, _, field in FIELDS}
    assert fields == {"pain_avg", "bpi_intensity", "bpi_interference", "odi", "promis_dep",
                      "promis_anxiety", "promis_anger", "promis_sleep", "panas_pa", "panas_na",
                      "pcs", "tsk11", "sopa_emo", "pgic", "ceq", "tx_satisfaction"}


@pytest.mark.shared_data
@pytest.mark.parametrize("inst_id, key, field", FIELDS, ids=[f"{f}" for _, _, f in FIELDS])
def test_observed_scores_lie_in_declared_range(wide, inst_id, key, field):
    columns = _field_columns(wide, field)
    assert columns, f"no columns for field {field}"
    raw = wide[columns].stack().dropna()
    raw = raw[raw.str.strip() != "<undefined>"]
    values = pd.to_numeric(raw, errors="coerce")
    assert values.notna().all(), f"{field}: non-numeric entries"
    assert len(values) > 0
    lo, hi = instruments.get(inst_id).range_of(key)
    outside = values[(values < lo) | (values > hi)]
    assert outside.empty, f"{field}: {len(outside)} values outside [{lo}, {hi}]"
