"""write_outputs and report.html: every file written, one self-contained safe page, published figures beside ours."""

from __future__ import annotations

import base64
import csv
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

import pytest

from prt.analysis import report
from prt.analysis.report import render_report, summary_sentences, write_outputs
from prt.analysis.tables import TABLE1_COLUMNS, table2_columns
from prt.data import read_trial
from tests.analysis.test_tables import sample_results, sample_trial

EXPECTED_FILES = [
    "table1.csv", "table2.csv",
    "fig_pain_over_time.png", "fig_pain_over_time.svg",
    "fig_responders.png", "fig_responders.svg",
    "fig_trajectories.png", "fig_trajectories.svg",
    "fig_forest.png", "fig_forest.svg",
    "report.html",
]


class _Page(HTMLParser):
    """Collects tags, attributes and text, and checks that non-void elements are balanced."""

    VOID = {"meta", "br", "img", "hr", "input", "link", "col", "source", "wbr"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.stack: list[str] = []
        self.text: list[str] = []
        self.errors: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"unexpected </{tag}> (open: {self.stack[-3:]})")
            return
        self.stack.pop()

    def handle_data(self, data):
        self.text.append(data)


def _parse(html: str) -> _Page:
    page = _Page()
    page.feed(html)
    page.close()
    assert page.errors == [] and page.stack == []
    return page


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    paths = write_outputs(sample_results(), sample_trial(), out)
    return out, paths


def test_every_file_is_written_and_returned(written):
    out, paths = written
    assert [p.name for p in paths] == EXPECTED_FILES
    assert sorted(p.name for p in out.iterdir()) == sorted(EXPECTED_FILES)  # nothing else, no results.json
    for path in paths:
        assert path.stat().st_size > 0
        if path.suffix == ".png":
            assert path.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
        if path.suffix == ".svg":
            assert ET.fromstring(path.read_bytes()).tag == "{http://www.w3.org/2000/svg}svg"


def test_table_csvs_have_the_documented_columns(written):
    out, _ = written
    with open(out / "table1.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    assert tuple(rows[0]) == TABLE1_COLUMNS
    assert rows[1] == ["Participants randomized", "n", "12", "12", "12", "36"]
    with open(out / "table2.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == table2_columns()
    post = next(r for r in rows if r["outcome"] == "pain_intensity" and r["timepoint"] == "post")
    assert post["prt_vs_placebo_g_ci"] == "-1.14 [-1.61, -0.67]"
    assert post["prt_mean_sd"] == "1.18 (1.19)"


def test_report_is_one_self_contained_file(written):
    out, _ = written
    html = (out / "report.html").read_text(encoding="utf-8")
    lowered = html.lower()
    for forbidden in ('src="http', "src='http", "<link", "<script", "@import", "url(", "href=\"http", "@font-face"):
        assert forbidden not in lowered, forbidden
    page = _parse(html)
    hrefs = [a.get("href") for tag, a in page.tags if tag == "a"]
    assert hrefs and all(h.startswith("#") for h in hrefs)  # only in-page links
    images = [a for tag, a in page.tags if tag == "img"]
    assert len(images) == 4
    for image in images:
        assert image["src"].startswith("data:image/svg+xml;base64,")
        assert len(image.get("alt", "")) > 30  # real alt text
        svg = base64.b64decode(image["src"].split(",", 1)[1])
        assert ET.fromstring(svg).tag == "{http://www.w3.org/2000/svg}svg"
    # the embedded figures are the files written beside the report
    embedded = {base64.b64decode(a["src"].split(",", 1)[1]) for a in images}
    assert embedded == {(out / f"{name}.svg").read_bytes() for name in
                        ("fig_pain_over_time", "fig_responders", "fig_trajectories", "fig_forest")}


def test_report_has_every_section_and_accessible_tables(written):
    out, _ = written
    html = (out / "report.html").read_text(encoding="utf-8")
    page = _parse(html)
    ids = {a.get("id") for _, a in page.tags if a.get("id")}
    for section in ("summary", "table1", "primary", "table2", "responders", "correlations", "mediation",
                    "moderation", "figures", "methods"):
        assert section in ids
    assert "published" not in ids  # custom dataset: no comparison with the paper
    text = " ".join(page.text)
    assert "Table 1. Baseline characteristics" in text and "Table 2. Outcomes by arm" in text
    assert "Satterthwaite" in text and "Hedges g" in text and "BCa" in text
    tables = html.count("<table>")
    assert tables == html.count("<caption>") == html.count("<thead>") >= 6
    assert all(a.get("scope") in {"col", "row", "colgroup", "rowgroup"} for tag, a in page.tags if tag == "th")
    assert "@media print" in html
    assert '<html lang="en">' in html


def test_summary_states_key_results_with_numbers():
    sentences = summary_sentences(sample_results(), sample_trial())
    text = " ".join(sentences)
    assert sentences[0].startswith("36 participants were randomized: 12 to Pain Reprocessing Therapy")
    assert "pain fell 1.51 points more with PRT than with placebo (mixed model, t(137.6) = 6.06, p < 0.001)" in text
    assert "-1.14 [-1.61, -0.67] vs placebo" in text and "-1.75 [-2.26, -1.24] vs usual care" in text
    assert "33 of 50 (66%) with PRT, 10 of 51 (20%) with placebo and 5 of 50 (10%) with usual care" in text
    assert "Average pain (0-10) went from 4.2 to 1.2 with PRT" in text
    assert "Tampa Scale of Kinesiophobia r(42) = 0.44, p = 0.003" in text


def test_no_participant_ids_anywhere(written):
    out, _ = written
    for path in out.iterdir():
        assert b"SECRET" not in path.read_bytes(), path.name


def test_strings_are_escaped():
    evil = '<script>alert("x")</script>'
    results = sample_results()
    results["moderation"].append({"moderator": evil, "term": "<img src=x onerror=alert(1)>", "p": 0.5})
    results["effects"].append({"outcome": evil, "timepoint": "post", "comparison": "prt_vs_placebo", "g": -0.5,
                               "se": 0.1, "ci_low": -0.7, "ci_high": -0.3, "p": 0.01})
    results["correlations"].append({"x": "a&b", "y": "pain_intensity", "group": "prt", "r": 0.1, "df": 40, "p": 0.5})
    results["meta"]["version"] = '"><script>1</script>'
    html = render_report(results, sample_trial(), {})
    assert "<script" not in html.lower()
    assert "<img src=x" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html
    assert "a&amp;b" in html
    _parse(html)


def test_empty_results_and_none_values_render(tmp_path):
    trial = sample_trial()
    empty = {"primary": [], "outcomes": [], "effects": [], "responders": [], "correlations": [], "mediation": [],
             "moderation": [], "meta": {}}
    paths = write_outputs(empty, trial, tmp_path)
    assert [p.name for p in paths] == EXPECTED_FILES
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    _parse(html)
    assert "No mediation results." in html and "No responder counts in the results." in html
    assert "The primary mixed model was not fitted" in html
    with open(tmp_path / "table2.csv", encoding="utf-8") as fh:
        assert fh.read().strip() == ",".join(table2_columns())
    # a results dict with no keys at all, and None everywhere
    html = render_report({}, trial, {})
    _parse(html)
    results = sample_results()
    for key in ("primary", "effects", "correlations", "mediation", "moderation"):
        for record in results[key]:
            for field in record:
                if field not in ("comparison", "outcome", "timepoint", "group", "x", "y", "mediator", "moderator"):
                    record[field] = None
    html = render_report(results, trial, {})
    _parse(html)
    assert "<td>-</td>" in html


def _fake_published(monkeypatch, published: dict, citation: str = "Ashar YK et al. JAMA Psychiatry 2022."):
    from prt.analysis import published as module

    monkeypatch.setattr(module, "PUBLISHED", published)
    monkeypatch.setattr(module, "CITATION", citation)


def test_boulder_report_shows_published_figures_beside_ours(monkeypatch):
    _fake_published(monkeypatch, {
        "primary": [{"comparison": "prt_vs_placebo", "t": 6.06, "df": 137.63}],
        "effects": [{"outcome": "pain_intensity", "timepoint": "post", "comparison": "prt_vs_placebo", "g": -1.10, "se": 0.24},
                    {"outcome": "pcs", "timepoint": "post", "comparison": "prt_vs_placebo", "g": -1.0, "se": 0.2}],
        "responders": [{"timepoint": "post", "group": "prt", "criterion": "pain_free", "responders": 33, "randomized": 50}],
        "correlations": [{"x": "tsk11", "y": "pain_intensity", "group": "prt", "r": 0.44, "df": 42, "p": 0.003}],
    })
    results = sample_results()
    results["meta"]["dataset"] = "boulder-back-pain-study"
    html = render_report(results, sample_trial(), {})
    _parse(html)
    section = html[html.index('<section id="published"'):]
    assert "Ashar YK et al. JAMA Psychiatry 2022." in section
    row = re.search(r"<tr><td class=\"left\">Pain intensity.*?</tr>", section).group(0)
    cells = re.findall(r"<td[^>]*>(.*?)</td>", row)
    # outcome, timepoint, comparison, g ours, g published, difference, SE ours, published, difference
    assert cells[3:] == ["-1.14", "-1.10", "-0.040", "0.24", "0.24", "0.000"]
    missing_row = re.search(r"<tr><td class=\"left\">Pain Catastrophizing.*?</tr>", section).group(0)
    assert re.findall(r"<td[^>]*>(.*?)</td>", missing_row)[3:6] == ["-", "-1.00", "-"]  # we have no PCS effect
    assert "137.63" in section and "6.06" in section
    assert "Boulder Back Pain Study" in html


def test_report_is_reproducible(written, tmp_path):
    a, _ = written
    b = tmp_path
    write_outputs(sample_results(), sample_trial(), b)
    for name in EXPECTED_FILES:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name


@pytest.mark.slow
def test_report_on_the_shared_data(boulder_wide_path, tmp_path):
    engine = pytest.importorskip("prt.analysis.engine")
    trial = read_trial(boulder_wide_path)
    results = engine.run_analysis(trial, bootstrap=200, mediation_bootstrap=200, seed=1)
    paths = write_outputs(results, trial, tmp_path)
    assert [p.name for p in paths] == EXPECTED_FILES
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    _parse(html)
    assert "151 participants were randomized: 50 to Pain Reprocessing Therapy (PRT), 51" in html
    assert "Comparison with the published trial" in html  # the trial's own data: published figures beside ours
    assert not re.search(r"\bcode \d", html)  # coded fields show their codebook labels (issue 11)
    assert "Weight, pounds" in html and "College graduate" in html


def test_dataset_is_identified_by_content_not_by_mapping(boulder_wide_path):
    """Issue 11 audit: a simulated or altered trial in the Boulder layout is not "the published trial"."""
    from prt.analysis.engine import dataset_of
    from prt.data import TrialData
    from prt.trial.simulation import simulate_trial

    trial = read_trial(boulder_wide_path)
    assert dataset_of(trial) == "boulder-back-pain-study"
    m = trial.measures.copy()
    first = m.index[m["outcome"] == "pain_intensity"][0]
    m.loc[first, "value"] = 10.0 - m.loc[first, "value"] if m.loc[first, "value"] != 5 else 4.0
    assert dataset_of(TrialData.from_frames(trial.participants, m, trial.text, mapping=trial.mapping)) == "custom"
    simulated = simulate_trial(151, seed=2022)
    assert simulated.mapping.name == trial.mapping.name and dataset_of(simulated) == "simulated"


def test_simulated_report_says_what_it_is(tmp_path):
    from prt.analysis.engine import run_analysis
    from prt.trial.convert import write_trial
    from prt.trial.simulation import simulate_trial

    path = tmp_path / "sim.csv"
    write_trial(simulate_trial(60, seed=5), path, "long")
    trial = read_trial(path)
    results = run_analysis(trial, bootstrap=20, mediation_bootstrap=0, seed=1)
    assert results.meta["dataset"] == "simulated"
    html = render_report(results, trial)
    assert "Simulated PRT trial" in html and "not real participants" in html
    assert "Boulder Back Pain Study" not in html and "Comparison with the published trial" not in html


def test_table_csvs_are_safe_from_formula_injection(tmp_path):
    """Issue 12: a category label such as ``=1+1`` reached table1.csv verbatim."""
    from prt.data import TrialData

    base = sample_trial()
    people = base.participants.copy()
    people["site"] = ["=1+1", "@SUM(A1)"] * (len(people) // 2) + ["=1+1"] * (len(people) % 2)
    trial = TrialData.from_frames(people, base.measures, base.text, mapping=base.mapping)
    write_outputs(sample_results(), trial, tmp_path)
    with open(tmp_path / "table1.csv", newline="", encoding="utf-8") as fh:
        cells = [cell for row in csv.reader(fh) for cell in row]
    assert any(cell.startswith("'=1+1") for cell in cells) and any(cell.startswith("'@SUM") for cell in cells)
    assert not any(cell[:1] in "=+@" for cell in cells)
    numbers = [cell for cell in cells if cell.startswith("-")]
    assert all(not cell.startswith("'") for cell in numbers)
