"""The score chart: an accessible SVG on the score's declared range, one titled point per score."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import date

from prt.web.questionnaires import chart

SVG = "{http://www.w3.org/2000/svg}"


def test_title_description_points_and_the_declared_range():
    points = [chart.Point(date(2026, 3, 10), 40, "pretreatment"), chart.Point(date(2026, 4, 20), 20.5, "post")]
    svg = ET.fromstring(chart.score_chart_svg(points, 0, 100, "Your ODI: score", "c"))
    assert svg.get("role") == "img" and svg.get("aria-labelledby") == "c-title c-desc"
    assert svg.find(f"{SVG}title").text == "Your ODI: score"
    assert svg.find(f"{SVG}desc").text == ("2 scores from 10 March 2026 to 20 April 2026 on the 0 to 100 range; "
                                           "latest 20.5 on 20 April 2026; lowest 20.5, highest 40.")
    circles = list(svg.iter(f"{SVG}circle"))
    assert [c.find(f"{SVG}title").text for c in circles] == ["10 March 2026 (pretreatment): 40",
                                                             "20 April 2026 (post): 20.5"]
    # 0..100 maps to the plot's bottom..top: 40 sits 60% of the way down from the top.
    top, bottom = chart.TOP, chart.HEIGHT - chart.BOTTOM
    assert float(circles[0].get("cy")) == round(top + (bottom - top) * 0.6, 1)
    assert [t.text for t in svg.iter(f"{SVG}text")][:3] == ["0", "50", "100"]


def test_text_is_escaped_and_no_scores_is_said():
    svg = chart.score_chart_svg([], 0, 10, "<b>&", "e")
    assert "<b>" not in svg and "&lt;b&gt;&amp;" in svg
    assert "No scores yet on the 0 to 10 range." in svg
