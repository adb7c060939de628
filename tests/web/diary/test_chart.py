"""The pain chart: an accessible inline SVG (title, description, one titled point per rating),
coordinates that map the scale's ends to the plot's edges, gaps never drawn as data."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import date, timedelta

from hypothesis import given, settings, strategies as st

from prt.web.diary import chart

SVG = "{http://www.w3.org/2000/svg}"


def parse(points):
    return ET.fromstring(chart.pain_chart_svg(points))


def test_an_accessible_image_with_a_title_a_description_and_a_title_per_point():
    points = [chart.Point(date(2026, 3, 1), 7), chart.Point(date(2026, 3, 2), 5), chart.Point(date(2026, 3, 3), 2)]
    svg = parse(points)
    assert svg.get("role") == "img"
    title, desc = svg.find(f"{SVG}title"), svg.find(f"{SVG}desc")
    assert svg.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"
    assert desc.text == ("3 ratings from 1 March 2026 to 3 March 2026 on the 0 to 10 scale; latest 2 on "
                         "3 March 2026; lowest 2, highest 7.")
    assert [c.find(f"{SVG}title").text for c in svg.iter(f"{SVG}circle")] == [
        "1 March 2026: 7 out of 10", "2 March 2026: 5 out of 10", "3 March 2026: 2 out of 10"]


def test_coordinates_map_the_scale_and_the_days_to_the_plot_edges():
    points = [chart.Point(date(2026, 3, 1), 10), chart.Point(date(2026, 3, 11), 0)]
    circles = list(parse(points).iter(f"{SVG}circle"))
    (x0, y0), (x1, y1) = [(float(c.get("cx")), float(c.get("cy"))) for c in circles]
    assert (x0, y0) == (chart.LEFT, chart.TOP)  # first day, highest rating: top left
    assert (x1, y1) == (chart.WIDTH - chart.RIGHT, chart.HEIGHT - chart.BOTTOM)  # last day, 0: bottom right


def test_a_missing_day_breaks_the_line():
    days = [date(2026, 3, 1), date(2026, 3, 2), date(2026, 3, 4), date(2026, 3, 5), date(2026, 3, 6)]
    lines = list(parse([chart.Point(d, 3) for d in days]).iter(f"{SVG}polyline"))
    assert [len(line.get("points").split()) for line in lines] == [2, 3]


def test_no_ratings_and_a_single_rating():
    empty = parse([])
    assert empty.find(f"{SVG}desc").text == "No ratings yet on the 0 to 10 scale."
    assert not list(empty.iter(f"{SVG}circle"))
    one = list(parse([chart.Point(date(2026, 3, 1), 4)]).iter(f"{SVG}circle"))
    assert len(one) == 1 and float(one[0].get("cx")) == (chart.LEFT + chart.WIDTH - chart.RIGHT) / 2


@settings(max_examples=100, derandomize=True)
@given(st.dictionaries(st.integers(0, 400), st.integers(0, 10), max_size=60))
def test_any_history_is_well_formed_svg_with_every_point_inside_the_plot(history):
    points = [chart.Point(date(2026, 1, 1) + timedelta(days=k), v) for k, v in history.items()]
    circles = list(parse(points).iter(f"{SVG}circle"))
    assert len(circles) == len(points)
    for c in circles:
        assert chart.LEFT <= float(c.get("cx")) <= chart.WIDTH - chart.RIGHT
        assert chart.TOP <= float(c.get("cy")) <= chart.HEIGHT - chart.BOTTOM
