"""Every entry of every shipped PROMIS raw-to-T table against an independent transcription of the
HealthMeasures scoring-manual tables (promis_tscores.csv, sources in its header)."""

from __future__ import annotations

import csv
from collections import defaultdict
from pathlib import Path

import pytest

import prt.instruments as instruments

TRANSCRIPTION = Path(__file__).with_name("promis_tscores.csv")


def _published() -> dict[str, dict[int, float]]:
    tables: dict[str, dict[int, float]] = defaultdict(dict)
    with TRANSCRIPTION.open(encoding="utf-8", newline="") as handle:
        rows = csv.DictReader(line for line in handle if not line.startswith("#"))
        for row in rows:
            raw = int(row["raw_score"])
            assert raw not in tables[row["instrument"]], f"{row['instrument']} {raw} listed twice"
            tables[row["instrument"]][raw] = float(row["t_score"])
    return dict(tables)


PUBLISHED = _published()
ENTRIES = [(inst_id, raw, t) for inst_id, table in sorted(PUBLISHED.items())
           for raw, t in sorted(table.items())]


def test_transcription_is_whole():
    # 33 + 21 + 33 raw scores; each table covers its form's whole raw range
    assert {k: len(v) for k, v in PUBLISHED.items()} == {
        "promis_anxiety": 33, "promis_anger": 21, "promis_sleep": 33}
    assert len(ENTRIES) == 87


def test_every_shipped_table_has_a_transcription():
    # A new table shipped in a definition must be transcribed here too, and vice versa.
    shipped = {i for i in instruments.ids() if instruments.get(i).t_scores is not None}
    assert shipped == set(PUBLISHED)


@pytest.mark.parametrize("inst_id", sorted(PUBLISHED))
def test_shipped_table_equals_the_published_table(inst_id):
    assert instruments.get(inst_id).t_scores.table == PUBLISHED[inst_id]


def _responses_with_raw(inst_id: str, raw: int) -> dict[str, int]:
    """Codes on the form (reversed items entered as the respondent would) summing to ``raw``."""
    inst = instruments.get(inst_id)
    scored, left = {}, raw
    for k, item in enumerate(inst.items):
        rest = len(inst.items) - k - 1
        value = min(item.maximum, left - rest * item.minimum)
        scored[item.number] = int(value)
        left -= value
    assert left == 0
    return {n: int(inst.item(n).reverse(v)) if inst.item(n).reversed else v for n, v in scored.items()}


@pytest.mark.parametrize("inst_id, raw, published", ENTRIES,
                         ids=[f"{i}-{r}" for i, r, _ in ENTRIES])
def test_every_entry_through_the_public_api(inst_id, raw, published):
    assert instruments.t_score(inst_id, raw) == published
    result = instruments.score(inst_id, _responses_with_raw(inst_id, raw))
    assert (result.total, result.t_score) == (raw, published)
