"""Which questionnaires are due: the schedule's windows (prt.trial.schedule) x the REDCap battery."""

from __future__ import annotations

from datetime import date

import pytest

from prt.trial.redcap_dictionary import SCHEDULE
from prt.web.errors import Refused
from prt.web.questionnaires import battery, services


def test_the_battery_is_the_redcap_instrument_event_mapping():
    assert battery.instruments_at("pre") == tuple(f for f, ev in SCHEDULE.items() if f != "enrollment" and "pre" in ev)
    assert "pgic" in battery.instruments_at("1mo") and "pgic" not in battery.instruments_at("pre")
    assert "pcs" in battery.instruments_at("post") and "pcs" not in battery.instruments_at("3mo")
    assert battery.instruments_at("randomization") == ()


def test_pretreatment_questionnaires_are_due_from_the_day_of_screening(world):
    # A's record was created on 10 March 2026 (Denver): "pre" target +7 days, window -7/+14 (TRIAL_EVENTS).
    tasks = battery.tasks(world.a, date(2026, 3, 10))
    assert {t.event for t in tasks} == {"pre"}
    assert [t.instrument for t in tasks] == list(battery.instruments_at("pre"))
    first = tasks[0]
    assert (first.state, first.target, first.window_open, first.window_close) == (
        "due", date(2026, 3, 17), date(2026, 3, 10), date(2026, 3, 31))
    assert {t.state for t in battery.tasks(world.a, date(2026, 3, 18))} == {"overdue"}
    assert battery.tasks(world.a, date(2026, 4, 1)) == []  # the window closed: missed, not a task


@pytest.mark.parametrize("status", ["screened", "ineligible", "withdrawn"])
def test_nothing_is_due_outside_enrolment(world, status):
    world.a.status = status
    world.a.save()
    assert battery.tasks(world.a, date(2026, 3, 10)) == []
    with pytest.raises(Refused) as caught:
        battery.open_task(world.a, "odi", "pre", date(2026, 3, 10))
    assert caught.value.status == 403


def test_refusals_name_why(world):
    def refusal(instrument, event, on=date(2026, 3, 10)):
        with pytest.raises(Refused) as caught:
            battery.open_task(world.a, instrument, event, on)
        return caught.value.status, caught.value.field, caught.value.message

    assert refusal("odi", "post")[:2] == (403, "event")
    assert "opens on 2026-04-17" in refusal("odi", "post")[2]  # target 17 Mar + 1 month + 3 days = 20 Apr; -3
    assert "closed on 2026-03-31" in refusal("odi", "pre", date(2026, 4, 1))[2]
    assert refusal("odi", "eligibility")[:2] == (404, "event")
    assert refusal("odi", "no-such-event")[:2] == (404, "event")
    assert refusal("pgic", "pre")[:2] == (404, "instrument")


def test_a_completed_battery_dates_its_event_and_moves_the_next_one(world):
    import uuid

    from prt import instruments

    for instrument_id in battery.instruments_at("pre"):
        inst = instruments.get(instrument_id)
        answers = {}
        for item in inst.items:
            answers[item.number] = (min(item.options) if item.kind == "choice" else
                                    item.minimum if item.kind == "numeric" else "stress")
        services.submit(world.a, instrument_id=instrument_id, event="pre", client_uuid=uuid.uuid4(),
                        answers=answers, channel="api", actor=None)
    assert battery.tasks(world.a, date(2026, 3, 10)) == []
    pre = next(v for v in battery.visits(world.a, date(2026, 3, 10)) if v.event == "pre")
    assert (pre.state, pre.actual) == ("done", date(2026, 3, 10))
    # post = the actual pre date + 1 month + 3 days (13 April), window opening 3 days before.
    task = battery.open_task(world.a, "odi", "post", date(2026, 4, 10))
    assert (task.target, task.window_open, task.state) == (date(2026, 4, 13), date(2026, 4, 10), "due")
