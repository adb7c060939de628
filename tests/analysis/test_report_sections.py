"""Extra report sections (prt.analysis.sections): placed, numbered, escaped, written and read back."""

from __future__ import annotations

import json

import pytest

from prt.analysis import load_results
from prt.analysis.report import render_report, write_analysis, write_outputs
from prt.analysis.results import AnalysisResults
from prt.analysis.sections import ReportSection, SectionFigure, check_sections
from prt.errors import InputError
from tests.analysis.test_report import EXPECTED_FILES, _parse
from tests.analysis.test_tables import sample_results, sample_trial

SVG = b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>'
PNG = b"\x89PNG\r\n\x1a\nnot-really"


def _section(key="program", name="fig_extra", body="<p>body</p>", **more) -> ReportSection:
    figure = SectionFigure(name=name, svg=SVG, png=PNG, caption="An extra figure.", alt="A rectangle, for testing.")
    return ReportSection(key=key, title=f"Title of {key}", body=body, results={"answer": 42, "nan": float("nan")},
                         figures=(figure,), summary=(f"Summary line of {key}.",), methods=("How it was made.",),
                         **more)


def test_sections_are_placed_after_the_figures_in_report_order():
    html = render_report(sample_results(), sample_trial(), {},
                         sections=[_section("imaging", "fig_c"), _section("program", "fig_a"),
                                   _section("attributions", "fig_b")])
    page = _parse(html)
    ids = [a["id"] for tag, a in page.tags if tag == "section"]
    order = [i for i in ids if i in ("figures", "program", "attributions", "imaging", "methods")]
    assert order == ["figures", "program", "attributions", "imaging", "methods"]
    # figures numbered on after the report's four; summary lines appended; methods listed
    assert "Figure 5. An extra figure." in html and "Figure 6." in html and "Figure 7." in html
    assert html.index("Summary line of program.") < html.index('id="table1"')
    assert html.count("How it was made.") == 3
    toc = html[html.index("<nav"):html.index("</nav>")]
    assert 'href="#program"' in toc and "Title of attributions" in toc


def test_section_text_is_escaped_but_its_html_body_is_kept():
    evil = '<script>alert(1)</script>'
    section = ReportSection(key="program", title=evil, body="<p>ok</p>", results={}, summary=(evil,),
                            methods=(evil,))
    html = render_report(sample_results(), sample_trial(), {}, sections=[section])
    assert "<script" not in html.lower() and "&lt;script&gt;" in html and "<p>ok</p>" in html
    _parse(html)


@pytest.fixture(scope="module")
def real():
    """A real results object (the contract load_results reads), small and fast."""
    from prt.analysis import run_analysis
    from tests.factories import make_trial

    trial = make_trial(n=6)
    return run_analysis(trial, bootstrap=20, mediation_bootstrap=0), trial


def test_bad_sections_are_refused(tmp_path):
    with pytest.raises(InputError, match="report section 'other'"):
        ReportSection(key="other", title="t", body="", results={})
    with pytest.raises(InputError, match="given twice"):
        check_sections([_section("program"), _section("program")])
    with pytest.raises(InputError, match="already used"):
        write_outputs(sample_results(), sample_trial(), tmp_path, sections=[_section(name="fig_forest")])


def test_written_with_sections_and_read_back_whole(tmp_path, real):
    results, trial = real
    out = tmp_path / "out"
    paths = write_analysis(results, trial, out, sections=[_section()])
    names = [p.name for p in paths]
    assert names[0] == "results.json" and set(EXPECTED_FILES) <= set(names)
    assert {"fig_extra.png", "fig_extra.svg"} <= set(names)
    assert (out / "fig_extra.svg").read_bytes() == SVG
    data = json.loads((out / "results.json").read_text())
    assert data["program"] == {"answer": 42, "nan": None}
    loaded = load_results(out / "results.json")
    assert dict(loaded.sections) == {"program": {"answer": 42, "nan": None}}
    again = loaded.to_dict()
    assert again["program"] == data["program"] and again["primary"] == data["primary"]
    # and once more through AnalysisResults: nothing lost, nothing added
    assert AnalysisResults.from_dict(again).to_dict() == again


def test_results_that_already_hold_a_section_are_not_overwritten(tmp_path):
    results = sample_results()
    results["program"] = {"old": 1}
    with pytest.raises(InputError, match="already hold 'program'"):
        write_analysis(results, sample_trial(), tmp_path / "out", sections=[_section()])
    assert not (tmp_path / "out").exists()


def test_results_sections_are_checked_when_read(real):
    import dataclasses

    results, _ = real
    data = {**results.to_dict(), "imaging": ["not", "an", "object"]}
    with pytest.raises(InputError, match="'imaging' must be an object"):
        AnalysisResults.from_dict(data)
    with pytest.raises(InputError, match="unknown results section"):
        dataclasses.replace(results, sections={"weather": {}})
    assert dict(dataclasses.replace(results, sections={"imaging": {"a": 1}}).sections) == {"imaging": {"a": 1}}


def test_a_failing_section_figure_leaves_no_output(tmp_path, monkeypatch):
    from prt.analysis import report

    def broken(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(report, "render_report", broken)
    with pytest.raises(InputError):
        write_analysis(sample_results(), sample_trial(), tmp_path / "out", sections=[_section()])
    assert list(tmp_path.iterdir()) == []
