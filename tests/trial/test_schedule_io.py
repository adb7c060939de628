"""Schedule input: the schedule file (errors name file and key), the participants CSV (errors name
file, row or record), dates at the calendar's ends, and a property test over arbitrary CSV cells."""

from __future__ import annotations

import codecs
import csv
import io
import tempfile
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from prt.errors import InputError
from prt.trial.schedule import (
    STATES,
    TRIAL_EVENTS,
    Schedule,
    iso_date,
    load_schedule,
    read_participants,
    schedule_report,
)
from prt.vocabulary import ARMS

D = date.fromisoformat
GOOD = """events:
  - {name: eligibility}
  - {name: post, anchor: eligibility, months: 1, window_before: 3, window_after: 7, arms: [prt, placebo]}
"""


# ------------------------------------------------------------------ the schedule file
def test_load_schedule_yaml_and_json(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(GOOD, encoding="utf-8")
    schedule = load_schedule(path)
    assert schedule.names == ("eligibility", "post")
    assert schedule.events[1].arms == ("prt", "placebo") and schedule.events[1].months == 1
    as_json = tmp_path / "s.json"
    as_json.write_text('{"events": [{"name": "eligibility"}, {"name": "x", "anchor": "eligibility", "days": 2}]}')
    assert load_schedule(as_json).events[1].days == 2


@pytest.mark.parametrize("text, message", [
    ("events: [{name: eligibility}, {name: post, anchor: eligibility, days: 2.5}]",
     r"events\[1\] \('post'\), key 'days': expected a whole number"),
    ("events: [{name: eligibility}, {name: post, anchor: eligibility, months: yes}]",
     r"events\[1\] \('post'\), key 'months'"),
    ("events: [{name: eligibility}, {name: post, anchor: eligibility, days: 99999999}]",
     r"key 'days': expected a whole number from -36600 to 36600"),
    ("events: [{name: eligibility}, {name: post, anchor: eligibility, window_before: -1}]", r"key 'window_before'"),
    ("events: [{name: eligibility}, {name: post, anchor: eligibility, arms: [yoga]}]", r"key 'arms'"),
    ("events: [{name: eligibility}, {name: post, anchor: eligibility, colour: red}]", r"unknown key\(s\) colour"),
    ("events: [{name: eligibility}, {name: 12, anchor: eligibility}]", r"events\[1\], key 'name'"),
    ("events: [{name: eligibility}, {name: post, anchor: [a]}]", r"key 'anchor'"),
    ("events: [{name: eligibility}, {name: post, anchor: later}]", r"anchor 'later' is not an earlier event"),
    ("events: [{name: eligibility}, {name: withdrawn, anchor: eligibility}]", r"'withdrawn' is a column"),
    ("events: [{name: eligibility}, {name: eligibility, anchor: eligibility}]", r"defined twice"),
    ("events: []", r"key 'events': the list is empty"),
    ("events: [{name: a}]\nextra: 1", r"unknown key\(s\) extra"),
    ("- just a list", r"expected a mapping with an 'events' list"),
    ("events: [{name: a}, {name: a}]\nevents: []", r"appears more than once"),     # duplicate YAML key
    ("events: [{name: a", r"not valid YAML at line"),
])
def test_schedule_file_errors_name_file_and_key(tmp_path, text, message):
    path = tmp_path / "s.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError, match=message) as exc:
        load_schedule(path)
    assert str(path) in str(exc.value)


@pytest.mark.parametrize("make, message", [
    (lambda p: p.mkdir(), "is a directory"),
    (lambda p: p.write_bytes(b"events:\x00\x01"), "binary file"),
    (lambda p: None, "No such file"),
])
def test_unreadable_schedule_files(tmp_path, make, message):
    path = tmp_path / "s.yaml"
    make(path)
    with pytest.raises(InputError, match=message):
        load_schedule(path)


def test_from_dict_keeps_the_defaults_and_vocabulary_arms():
    spec = {"events": [{"name": e.name, "anchor": e.anchor, "months": e.months, "days": e.days,
                        "window_before": e.window_before, "window_after": e.window_after,
                        "arms": list(e.arms), "label": e.label} for e in TRIAL_EVENTS]}
    assert Schedule.from_dict(spec) == Schedule()
    assert TRIAL_EVENTS[0].arms == ARMS


# ------------------------------------------------------------------ the participants CSV
def test_read_participants_utf16_and_rows(tmp_path):
    path = tmp_path / "p.csv"
    text = "participant,arm,eligibility\r\np1,prt,2026-01-31\r\n\r\np2,,2026-02-01\r\n"
    path.write_bytes(codecs.BOM_UTF16_LE + text.encode("utf-16-le"))
    table = read_participants(path)
    assert table.rows == (2, 4) and [r["participant"] for r in table.records] == ["p1", "p2"]
    report = schedule_report(table, D("2026-02-03"))
    assert {v.participant for v in report.due} == {"p1", "p2"}


@pytest.mark.parametrize("body, message", [
    ("arm,eligibility\nprt,2026-01-01\n", "no 'participant' column"),
    ("participant,eligibility\n,2026-01-01\n", r"participants .* row 2: no 'participant'"),
    ("participant,eligibility\np1,2026-01-01\np1,2026-01-02\n", r"'p1': listed twice \(participants .* rows 2 and 3\)"),
    ("participant,eligibility\np1,2026-01-01,x\n", r"row 2: 3 cells but the header"),
])
def test_participants_csv_errors_name_the_row(tmp_path, body, message):
    path = tmp_path / "p.csv"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(InputError, match=message):
        schedule_report(read_participants(path), D("2026-04-05"))


@pytest.mark.parametrize("record, message", [
    ({"eligibility": "9999-12-31"}, r"'p1', event 'pre': its target or window falls outside the calendar"),
    ({"eligibility": "9999-11-20"}, r"'p1', event '.*': its target or window falls outside the calendar"),
])
def test_dates_at_the_ends_of_the_calendar_are_one_input_error(record, message):
    """These raised OverflowError / ValueError (a traceback) before."""
    with pytest.raises(InputError, match=message):
        schedule_report([{"participant": "p1", **record}], D("2026-04-05"))
    early = schedule_report([{"participant": "p1", "eligibility": "0001-01-01"}], D("0001-01-03"))
    assert [(v.event, v.window_open) for v in early.visits][1] == ("pre", D("0001-01-01"))
    custom = Schedule.from_dict({"events": [{"name": "eligibility"},
                                            {"name": "pre", "anchor": "eligibility", "days": -3}]})
    with pytest.raises(InputError, match="'pre': its target or window falls outside"):
        schedule_report([{"participant": "p1", "eligibility": "0001-01-01"}], D("0001-01-03"), custom)


@pytest.mark.parametrize("text", ["20260131", "2026-W05-6", "2026-1-31", "٢٠٢٦-٠١-٣١", "2026-01-31x", "31/01/2026"])
def test_only_iso_dates_are_dates(text):
    with pytest.raises(InputError, match="'eligibility': expected a date YYYY-MM-DD"):
        schedule_report([{"participant": "p1", "eligibility": text}], D("2026-04-05"))
    with pytest.raises(InputError, match="--date"):
        iso_date(text, "--date")
    assert iso_date("2026-01-31") == D("2026-01-31")


# ------------------------------------------------------------------ property: any cells
EVENT_COLUMNS = ("eligibility", "pre", "randomization", "post", "1mo", "withdrawn", "physician_evaluation")
DATES = st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31)).map(date.isoformat)
CELL = st.one_of(DATES, st.text(st.characters(blacklist_categories=("Cs",)), max_size=12),
                 st.sampled_from(["", "prt", "placebo", "usual_care", "nan", "2026-02-30", "9999-12-31"]))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(columns=st.lists(st.sampled_from(("participant", "arm", *EVENT_COLUMNS, "visit9")), min_size=1, max_size=8,
                        unique=True),
       rows=st.lists(st.lists(CELL, min_size=0, max_size=9), max_size=5),
       on=st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31)),
       encoding=st.sampled_from(["utf-8", "utf-8-sig", "utf-16"]))
def test_property_any_participants_csv_gives_a_report_or_one_input_error(columns, rows, on, encoding):
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns)
    writer.writerows(rows)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "p.csv"
        path.write_bytes(buffer.getvalue().encode(encoding))
        try:
            report = schedule_report(read_participants(path), on)
        except InputError:
            return
    assert all(v.state in STATES for v in report.visits)
    assert all(v.window_open <= v.target <= v.window_close for v in report.visits)
    withdrawn = dict(report.withdrawals)
    for v in report.visits:
        if v.state in ("due", "overdue", "missed", "upcoming") and v.participant in withdrawn:
            assert v.window_close < withdrawn[v.participant] and v.state == "missed"
