"""Schedule: targets and windows computed by hand, due/overdue/missed, arm events, bad records."""

from __future__ import annotations

from datetime import date

import pytest

from prt.errors import InputError
from prt.trial.schedule import Schedule, add_months, participant_visits, schedule_report

D = date.fromisoformat
BASE = {"participant": "p1", "arm": "prt", "eligibility": "2026-01-31", "pre": "2026-02-07",
        "randomization": "2026-02-07"}


def visits(record, on):
    return {v.event: v for v in schedule_report([record], D(on)).visits}


@pytest.mark.parametrize("start, months, expected", [
    ("2026-01-31", 1, "2026-02-28"), ("2024-01-31", 1, "2024-02-29"), ("2026-12-15", 2, "2027-02-15"),
    ("2026-03-31", 12, "2027-03-31"), ("2026-05-31", 1, "2026-06-30")])
def test_add_months_clamps_to_month_end(start, months, expected):
    assert add_months(D(start), months) == D(expected)


def test_targets_and_windows_by_hand():
    v = visits(BASE, "2026-04-05")
    assert v["physician_evaluation"].target == D("2026-02-10")           # randomization + 3
    assert (v["physician_evaluation"].window_open, v["physician_evaluation"].window_close) == (
        D("2026-02-07"), D("2026-02-17"))
    assert v["prt_session_1"].target == D("2026-02-12")                  # evaluation + 2
    assert v["prt_session_8"].target == D("2026-03-08")                  # evaluation + 26
    assert v["post"].target == D("2026-03-10")                           # pre + 1 month + 3 days
    assert v["1mo"].target == D("2026-04-10")
    assert (v["1mo"].window_open, v["1mo"].window_close) == (D("2026-04-03"), D("2026-04-24"))
    assert v["12mo"].target == D("2027-03-10")
    assert "placebo_injection" not in v and "workbook" not in v


@pytest.mark.parametrize("on, state", [("2026-04-02", "upcoming"), ("2026-04-03", "due"), ("2026-04-10", "due"),
                                       ("2026-04-11", "overdue"), ("2026-04-24", "overdue"),
                                       ("2026-04-25", "missed")])
def test_states_through_the_window(on, state):
    assert visits(BASE, on)["1mo"].state == state


def test_actual_dates_move_later_targets_and_count_as_done():
    v = visits({**BASE, "post": "2026-03-20"}, "2026-04-05")
    assert v["post"].state == "done" and v["post"].actual == D("2026-03-20")
    assert v["1mo"].target == D("2026-04-20") and v["1mo"].state == "upcoming"


def test_report_lists():
    records = [BASE, {**BASE, "participant": "p2", "post": "2026-03-12"},
               {"participant": "p3", "arm": "", "eligibility": "2026-03-30"}]
    report = schedule_report(records, D("2026-04-05"))
    assert ("p1", "1mo") in [(v.participant, v.event) for v in report.due]
    assert ("p1", "post") in [(v.participant, v.event) for v in report.missed]
    assert ("p3", "pre") in [(v.participant, v.event) for v in report.due]
    assert ("p2", "post") not in [(v.participant, v.event) for v in report.missed]
    as_json = report.to_dict()
    assert as_json["date"] == "2026-04-05" and as_json["counts"]["due"] == len(report.due)


def test_arm_specific_events():
    uc = visits({**BASE, "arm": "usual_care"}, "2026-04-05")
    assert "workbook" in uc and uc["workbook"].target == D("2026-03-10")
    assert not any(e.startswith("prt_") for e in uc) and "physician_evaluation" not in uc
    pl = visits({**BASE, "arm": "placebo"}, "2026-04-05")
    assert pl["placebo_injection"].target == D("2026-02-14") and "workbook" not in pl
    before = visits({"participant": "p", "eligibility": "2026-03-30"}, "2026-04-05")
    assert set(before) == {"eligibility", "pre", "randomization", "post", "1mo", "2mo", "3mo", "6mo", "12mo"}


@pytest.mark.parametrize("record, message", [
    ({**BASE, "pre": "2026-01-01"}, "'p1'.*out of order.*pre before eligibility"),
    ({**BASE, "post": "2026-02-01"}, "'p1'.*out of order.*post before randomization"),
    ({**BASE, "post": "2026-04-01", "1mo": "2026-03-01"}, "'p1'.*1mo before post"),
    ({**BASE, "physician_evaluation": "2026-02-01"}, "'p1'.*physician_evaluation before randomization"),
    ({**BASE, "visit9": "2026-03-01"}, "'p1'.*unknown event.*visit9"),
    ({**BASE, "pre": "07/02/2026"}, "'p1'.*'pre'.*YYYY-MM-DD"),
    ({**BASE, "eligibility": ""}, "'p1'.*no 'eligibility' date"),
    ({**BASE, "arm": "yoga"}, "'p1'.*arm"),
    ({**BASE, "arm": ""}, "'p1'.*randomized but no arm"),
])
def test_bad_records_are_named(record, message):
    with pytest.raises(InputError, match=message):
        schedule_report([record], D("2026-04-05"))


def test_duplicate_participant_and_custom_schedule():
    with pytest.raises(InputError, match="'p1'.*twice"):
        schedule_report([BASE, BASE], D("2026-04-05"))
    custom = Schedule.from_dict({"events": [
        {"name": "eligibility"},
        {"name": "post", "anchor": "eligibility", "days": 30, "window_before": 5, "window_after": 5}]})
    v = participant_visits("x", None, {"eligibility": "2026-01-01"}, D("2026-01-28"), custom)
    assert [(e.event, e.state) for e in v] == [("eligibility", "done"), ("post", "due")]
    with pytest.raises(InputError, match="anchor 'later'"):
        Schedule.from_dict({"events": [{"name": "eligibility"}, {"name": "x", "anchor": "later"}]})


# ------------------------------------------------------------------ withdrawal
def test_a_withdrawn_participant_owes_nothing_after_the_withdrawal_date():
    # post's window closed on 2026-03-24 (target 03-10 + 14): missed before the withdrawal, stays missed;
    # 1mo (window 04-03..04-24) was not yet open on 03-30: withdrawn, as is every later follow-up.
    report = schedule_report([{**BASE, "withdrawn": "2026-03-30"}], D("2026-04-05"))
    v = {x.event: x for x in report.visits}
    assert v["post"].state == "missed" and v["prt_session_8"].state == "missed"
    assert [v[e].state for e in ("1mo", "2mo", "3mo", "6mo", "12mo")] == ["withdrawn"] * 5
    assert report.due == [] and report.overdue == []
    assert report.withdrawals == (("p1", D("2026-03-30")),)
    assert report.to_dict()["withdrawn"] == [{"participant": "p1", "date": "2026-03-30"}]
    assert report.to_dict()["counts"]["withdrawn"] == 5


def test_a_visit_overdue_on_the_withdrawal_date_is_withdrawn_not_missed():
    # 1mo: target 04-10, window to 04-24; withdrawn 04-15 while overdue; on 05-30 it would be missed
    v = {x.event: x for x in schedule_report([{**BASE, "withdrawn": "2026-04-15"}], D("2026-05-30")).visits}
    assert v["1mo"].state == "withdrawn"
    assert {x.event: x for x in schedule_report([BASE], D("2026-05-30")).visits}["1mo"].state == "missed"


def test_a_withdrawal_after_the_report_date_changes_nothing_yet():
    before = schedule_report([{**BASE, "withdrawn": "2026-05-01"}], D("2026-04-05"))
    assert [x.state for x in before.visits] == [x.state for x in schedule_report([BASE], D("2026-04-05")).visits]
    assert before.withdrawals == ()


@pytest.mark.parametrize("withdrawn, message", [
    ("2026-03-01", r"'p1': post dated after the withdrawal date"),
    ("2026-01-01", r"'p1': withdrawn before the 'eligibility' date"),
    ("soon", r"'p1', event 'withdrawn': expected a date"),
])
def test_withdrawal_dates_that_contradict_the_record(withdrawn, message):
    with pytest.raises(InputError, match=message):
        schedule_report([{**BASE, "post": "2026-03-12", "withdrawn": withdrawn}], D("2026-04-05"))


@pytest.mark.parametrize("pid", ["p1\tdue", "p2\x1b[2J", "p3\rp9", "p4\u202e"])
def test_ids_with_tabs_or_escape_sequences_are_refused(pid):
    """Issue 12 round 2: an id 'p1<TAB>due' shifted the listing's columns and one holding an escape
    sequence cleared the coordinator's terminal."""
    with pytest.raises(InputError, match="row 2, column 'participant': the participant id"):
        schedule_report([{**BASE, "participant": pid}], D("2026-04-05"))
