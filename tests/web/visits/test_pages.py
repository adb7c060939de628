"""The coordinator's schedule pages, CSV and API: what they show, to whom, and refusals."""

from __future__ import annotations

import csv
import io
from datetime import date

from hypothesis import HealthCheck, given, settings, strategies as st

from prt.web.questionnaires import battery
from tests.web.visits.common import submit

PRE = battery.instruments_at("pre")


def test_the_site_page_lists_each_visit_with_its_window_and_links_to_the_person(world):
    submit(world.b, "pre", date(2026, 3, 10), PRE[:2])
    response = world.client_for("coordinator_same_site").get("/coordinator/visits/sites/boulder/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'href="/coordinator/people/BOU-001/"' in html and 'href="/coordinator/people/BOU-002/"' in html
    assert "LON-001" not in html
    assert "not allocated" in html and "<td data-label=\"Arm\">PRT</td>" in html  # the arm once allocated
    assert "17 Mar 2026" in html and "10 Mar 2026 to 31 Mar 2026" in html
    assert f"all {len(PRE)}" in html and f"{len(PRE) - 2} of {len(PRE)}: {', '.join(PRE[2:])}" in html
    assert "7 days to the target" in html
    assert 'href="/coordinator/visits/sites/boulder/visits.csv"' in html
    assert 'style="' not in html and "<script" not in html  # the CSP: no inline style or script


def test_the_index_counts_each_of_the_coordinator_s_sites_only(world):
    html = world.client_for("coordinator_same_site").get("/coordinator/visits/").content.decode()
    assert "Boulder" in html and "London" not in html
    assert '<span class="count-n">2</span> due' in html


def test_a_filter_narrows_the_page_and_the_csv_keeps_it(world, clock):
    clock.advance(days=8)
    client = world.client_for("coordinator_same_site")
    html = client.get("/coordinator/visits/sites/boulder/?state=overdue&event=pre&days=30").content.decode()
    assert 'id="list-overdue"' in html and 'id="list-due"' not in html
    assert 'href="/coordinator/visits/sites/boulder/visits.csv?state=overdue&amp;event=pre&amp;days=30"' in html
    response = client.get("/coordinator/visits/sites/boulder/visits.csv?state=due")
    assert response["Content-Disposition"] == 'attachment; filename="visits-boulder-2026-03-18.csv"'
    assert response["Cache-Control"] == "no-store"
    assert list(csv.reader(io.StringIO(response.content.decode()))) == [
        ["study_id", "arm", "event", "event_label", "state", "target", "window_open", "window_close", "days_overdue",
         "outstanding", "outstanding_count", "battery_size"]]
    every = client.get("/coordinator/visits/sites/boulder/visits.csv").content.decode()
    rows = list(csv.DictReader(io.StringIO(every)))
    assert [(r["study_id"], r["arm"], r["state"], r["days_overdue"]) for r in rows] == [
        ("BOU-001", "", "overdue", "1"), ("BOU-002", "prt", "overdue", "1")]


def test_a_bad_filter_is_refused_by_name_without_repeating_it(world):
    client = world.client_for("coordinator_same_site")
    response = client.get("/coordinator/visits/sites/boulder/?state=zzqqx")
    assert response.status_code == 422
    html = response.content.decode()
    assert "List (state): expected one of overdue, due, missed, upcoming" in html and "zzqqx" not in html
    assert "BOU-001" in html  # the unfiltered lists are still shown
    csv_response = client.get("/coordinator/visits/sites/boulder/visits.csv?days=zzqqx")
    assert csv_response.status_code == 422 and b"zzqqx" not in csv_response.content


def test_the_api_gives_the_same_list(world):
    body = world.client_for("coordinator_same_site").get("/api/sites/boulder/visits").json()
    assert body["site"] == "boulder" and body["date"] == "2026-03-10" and body["participants"] == 2
    assert body["counts"] == {"overdue": 0, "due": 2, "missed": 0, "upcoming": 0}
    assert body["visits"][1] == {
        "study_id": "BOU-002", "arm": "prt", "event": "pre", "event_label": "baseline session 2: pretreatment (fMRI)",
        "state": "due", "target": "2026-03-17", "window_open": "2026-03-10", "window_close": "2026-03-31",
        "days_overdue": 0, "outstanding": list(PRE), "battery_size": len(PRE)}
    london = world.client_for("coordinator_other_site").get("/api/sites/london/visits").json()
    assert [v["study_id"] for v in london["visits"]] == ["LON-001"]


def test_an_api_filter_outside_the_schedule_is_422_naming_the_field(world):
    response = world.client_for("coordinator_same_site").get("/api/sites/boulder/visits?event=zzqqx")
    assert response.status_code == 422
    assert response.json()["errors"] == [{"field": "event", "message": "expected one of pre, post, 1mo, 2mo, 3mo, "
                                                                       "6mo, 12mo"}]


TEXT = st.one_of(st.sampled_from(["", "due", "overdue", "missed", "upcoming", "pre", "1mo", "0", "90", "91"]),
                 st.text(max_size=12))


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(state=TEXT, event=TEXT, days=TEXT)
def test_any_query_gives_the_list_or_a_named_refusal(world, state, event, days):
    client = world.client_for("coordinator_same_site")
    for path in ("/api/sites/boulder/visits", "/coordinator/visits/sites/boulder/"):
        response = client.get(path, {"state": state, "event": event, "days": days})
        assert response.status_code in (200, 422), response.content[:300]
        if path.startswith("/api/") and response.status_code == 422:
            assert response.json()["errors"][0]["field"] in ("state", "event", "days")
        if response.status_code == 200 and path.startswith("/api/"):
            visits = response.json()["visits"]
            assert all(v["state"] == state.strip() for v in visits) if state.strip() else True
            assert all(v["event"] == event.strip() for v in visits) if event.strip() else True


def test_the_table_rows_escape_every_value():
    """The rows are drawn in the view (visits.views._rows), not by the template: each value escaped."""
    from datetime import date

    from prt.web.visits.services import ScheduledVisit
    from prt.web.visits.views import _rows

    visit = ScheduledVisit('X"<b>&', "prt", "pre", "<i>visit</i>", "due", date(2026, 3, 10), date(2026, 3, 3),
                           date(2026, 3, 17), ("a<b",), 3, 0)
    html = _rows([visit], "/p/__ID__/")
    assert "<b>" not in html and "<i>" not in html and "a<b" not in html
    assert 'href="/p/X&quot;&lt;b&gt;&amp;/"' in html and "&lt;I&gt;visit&lt;/i&gt;" not in html
    assert "&lt;i&gt;visit&lt;/i&gt;" in html and "1 of 3: a&lt;b" in html
    assert html.count("<tr>") == 1 and _rows([], "/p/__ID__/") == ""
