"""The site's visit schedule (visits/services.py): known lists on the fixed clock, what is owed,
who is listed, filters, one query of submissions, and agreement with the questionnaires' battery."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from prt.trial.schedule import add_months
from prt.web.errors import Refused
from prt.web.questionnaires import battery
from prt.web.visits import services
from prt.web.visits.services import Filters, site_visits
from tests.web.visits.common import submit

PRE = battery.instruments_at("pre")


def summary(schedule):
    return [(v.study_id, v.event, v.state, v.days, len(v.outstanding)) for v in schedule.visits]


def test_on_the_first_day_both_boulder_participants_are_due_for_pretreatment(world):
    # Records created 10 March 2026 (Denver); "pre": target +7 days, window -7/+14 (prt.trial.schedule).
    schedule = site_visits(world.site1)
    assert schedule.on == date(2026, 3, 10) and schedule.participants == 2
    assert summary(schedule) == [("BOU-001", "pre", "due", 7, len(PRE)), ("BOU-002", "pre", "due", 7, len(PRE))]
    first = schedule.visits[0]
    assert (first.target, first.window_open, first.window_close) == (date(2026, 3, 17), date(2026, 3, 10),
                                                                      date(2026, 3, 31))
    assert first.outstanding == PRE and first.battery_size == len(PRE)
    assert [v.arm for v in schedule.visits] == ["", "prt"]
    assert schedule.counts == {"overdue": 0, "due": 2, "missed": 0, "upcoming": 0}


def test_due_becomes_overdue_then_missed_as_the_days_pass(world, clock):
    clock.advance(days=8)  # 18 March: one day past the target
    assert [(v.state, v.days) for v in site_visits(world.site1).visits] == [("overdue", 1)] * 2
    clock.advance(days=14)  # 1 April: the window closed on 31 March
    assert [(v.state, v.days) for v in site_visits(world.site1).visits] == [("missed", 15)] * 2
    assert services.as_row(site_visits(world.site1).visits[0])["days_overdue"] == 15


def test_a_partly_answered_visit_lists_what_is_left_and_a_complete_one_moves_the_next(world):
    submit(world.a, "pre", date(2026, 3, 10), PRE[:2])
    visit = site_visits(world.site1).visits[0]
    assert (visit.study_id, visit.outstanding) == ("BOU-001", PRE[2:])
    submit(world.a, "pre", date(2026, 3, 10), PRE[2:])
    assert [v.study_id for v in site_visits(world.site1).visits] == ["BOU-002"]
    # post = pre's actual date + 1 month + 3 days = 13 April, window opens 3 days before (10 April)
    upcoming = site_visits(world.site1, filters=Filters(horizon=31)).where("upcoming")
    assert [(v.study_id, v.event, v.window_open, v.days) for v in upcoming] == [
        ("BOU-001", "post", date(2026, 4, 10), 31)]
    assert site_visits(world.site1, filters=Filters(horizon=30)).where("upcoming") == []


@pytest.mark.parametrize("status", ["screened", "ineligible", "withdrawn", "completed"])
def test_only_enrolled_and_randomized_participants_are_listed(world, status):
    world.b.status, world.b.arm = status, ("prt" if status == "completed" else "")
    world.b.save()
    assert [v.study_id for v in site_visits(world.site1).visits] == ["BOU-001"]


def test_another_site_s_participants_never_appear(world):
    assert {v.study_id for v in site_visits(world.site1).visits} == {"BOU-001", "BOU-002"}
    london = site_visits(world.site2)
    assert [v.study_id for v in london.visits] == ["LON-001"] and london.on == date(2026, 3, 10)


def test_filters_select_a_list_and_an_event(world, clock):
    submit(world.a, "pre", date(2026, 3, 10))
    # 19 April: BOU-001's post (pre done 10 March: target 13 April) is overdue; BOU-002 missed pre, and
    # its post, anchored on pre's target (17 March + 1 month + 3 days = 20 April), is due
    clock.advance(days=40)
    schedule = site_visits(world.site1)
    assert [(v.study_id, v.event, v.state, v.days) for v in schedule.visits] == [
        ("BOU-001", "post", "overdue", 6), ("BOU-002", "post", "due", 1), ("BOU-002", "pre", "missed", 33)]
    assert [v.study_id for v in site_visits(world.site1, filters=Filters(state="missed")).visits] == ["BOU-002"]
    assert [(v.study_id, v.state) for v in site_visits(world.site1, filters=Filters(event="post")).visits] == [
        ("BOU-001", "overdue"), ("BOU-002", "due")]
    assert site_visits(world.site1, filters=Filters(state="upcoming", event="post")).visits == ()


@pytest.mark.parametrize("query, field", [
    ({"state": "late"}, "state"), ({"state": "done"}, "state"), ({"event": "eligibility"}, "event"),
    ({"event": "randomization"}, "event"), ({"event": "PRE"}, "event"), ({"days": "abc"}, "days"),
    ({"days": "91"}, "days"), ({"days": "-1"}, "days"), ({"days": "1.5"}, "days"), ({"days": "\u0663"}, "days"),
    ({"days": "0" * 4}, "days")])
def test_a_filter_outside_the_schedule_is_refused_naming_its_field(query, field):
    with pytest.raises(Refused) as caught:
        services.parse_filters(query)
    assert (caught.value.field, caught.value.status) == (field, 422)
    assert all(value not in caught.value.message for value in query.values())


def test_filters_parse_the_schedule_s_own_names():
    assert services.parse_filters({}) == Filters("", "", services.DEFAULT_HORIZON)
    assert services.parse_filters({"state": "missed", "event": "1mo", "days": "0"}) == Filters("missed", "1mo", 0)
    assert services.questionnaire_events() == ("pre", "post", "1mo", "2mo", "3mo", "6mo", "12mo")


def test_the_whole_site_takes_three_queries_whatever_its_size_and_two_until_a_submission(
        world, django_assert_num_queries):
    from prt.web.participants.models import Participant

    for i in range(30):
        person = Participant.objects.create(study_id=f"BOU-{100 + i}", site=world.site1, status="enrolled")
        if i % 3 == 0:
            submit(person, "pre", date(2026, 3, 10), PRE[: 1 + i % 5])
    with django_assert_num_queries(3):  # the submissions' version, the participants, their submissions
        schedule = site_visits(world.site1)
    assert schedule.participants == 32 and len(schedule.visits) == 32
    with django_assert_num_queries(2):  # the progress is kept while no submission is added
        assert site_visits(world.site1) == schedule
    person = Participant.objects.get(study_id="BOU-101")
    submit(person, "pre", date(2026, 3, 10))  # its whole battery: the visit leaves the lists
    with django_assert_num_queries(3):
        again = site_visits(world.site1)
    assert len(again.visits) == 31 and "BOU-101" not in {v.study_id for v in again.visits}


def test_csv_cells_that_look_like_formulas_are_neutralised(world):
    import csv
    import io

    from prt.web.participants.models import Participant

    # a study id is validated by the forms, not by the database: the CSV must be safe anyway
    Participant.objects.create(study_id="=HYPERLINK(1)", site=world.site1, status="enrolled")
    rows = list(csv.reader(io.StringIO(services.csv_text(site_visits(world.site1)))))
    assert rows[0] == list(services.COLUMNS)
    assert [r[0] for r in rows[1:]] == ["'=HYPERLINK(1)", "BOU-001", "BOU-002"]
    assert rows[2][services.COLUMNS.index("outstanding")] == " ".join(PRE)
    assert rows[2][services.COLUMNS.index("target")] == "2026-03-17"


def test_the_site_list_agrees_with_each_participant_s_battery(world, clock):
    """The one-query computation gives what battery.tasks / battery.visits give participant by participant."""
    from prt.web.participants.models import Participant
    from tests.web.conftest import NOW

    people = [world.a, world.b]
    # records created 9 to 79 days ago; pretreatment answered 3 days later: all, some or none of it
    for i, (offset, completed) in enumerate([(9, 12), (14, 3), (21, 0), (34, 12), (49, 12), (79, 12)]):
        clock.now = NOW - timedelta(days=offset)
        randomized = bool(i % 2)
        person = Participant.objects.create(study_id=f"BOU-{200 + i}", site=world.site1,
                                            status="randomized" if randomized else "enrolled",
                                            arm="placebo" if randomized else "")
        people.append(person)
        start = battery.schedule_start(person)
        if completed:
            submit(person, "pre", start + timedelta(days=3), PRE[:completed])
        if offset >= 49 and completed == 12:  # posttreatment answered on its target (pre + 1 month + 3 days)
            post_day = add_months(start + timedelta(days=3), 1) + timedelta(days=3)
            submit(person, "post", post_day, battery.instruments_at("post")[: 14 if offset > 60 else 5])
    clock.now = NOW
    seen = set()
    for on in (date(2026, 3, 10), date(2026, 3, 30), date(2026, 4, 20), date(2026, 6, 1), date(2026, 9, 1)):
        schedule = site_visits(world.site1, on, Filters(horizon=services.MAX_HORIZON))
        for person in people:
            person.refresh_from_db()
            listed = {(v.event, v.state) for v in schedule.visits if v.study_id == person.study_id}
            expected = {(v.event, v.state) for v in battery.visits(person, on)
                        if v.event in services.questionnaire_events() and v.state in services.STATES
                        and not (v.state == "upcoming" and v.window_open > on + timedelta(days=services.MAX_HORIZON))}
            assert listed == expected, (person.study_id, on)
            seen |= listed
            owed = {(v.event, i) for v in schedule.visits if v.study_id == person.study_id
                    and v.state in ("due", "overdue") for i in v.outstanding}
            assert owed == {(t.event, t.instrument) for t in battery.tasks(person, on)}, (person.study_id, on)
    assert {state for _, state in seen} == set(services.STATES)  # the comparison met every list
    assert {event for event, _ in seen} >= {"pre", "post", "1mo", "2mo", "3mo"}
