"""The report's pain-attribution section (issue 15): the study's shares from the shared data's human
codes, automatic codes beside them, round trips, and bad input refused before anything is written."""

from __future__ import annotations

import dataclasses
import json

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from prt.analysis import load_results
from prt.attribution.coders import save_model, train
from prt.attribution.report import attribution_section, has_answers
from prt.cli import main
from prt.data import write_redcap
from prt.errors import InputError
from tests.analysis.test_report import _parse
from tests.attribution.conftest import BANK, MIND, NON_MIND, attribution_trial
from tests.factories import make_trial

#: The study's shares from the reconciled codes (protocol notes; docs/attribution.md), as counts:
#: mind-brain answers over three answers per participant with a score.
SHARED_SHARES = {("prt", "pre"): (11, 50), ("prt", "post"): (71, 44), ("placebo", "pre"): (16, 51),
                 ("placebo", "post"): (13, 44), ("usual_care", "pre"): (14, 50), ("usual_care", "post"): (9, 47)}
FAST = ["--bootstrap", "200", "--mediation-bootstrap", "100"]


def _analyze(*args) -> int:
    return main(["analyze", *map(str, args)])


@pytest.mark.shared_data
def test_the_shared_data_give_the_studys_shares_in_results_and_report(boulder_wide_path, tmp_path, capsys):
    out = tmp_path / "out"
    assert _analyze(boulder_wide_path, "--out", out, *FAST) == 0
    assert "(with pain attributions)" in capsys.readouterr().out
    data = json.loads((out / "results.json").read_text())
    block = data["attributions"]
    assert block["codings"] == ["human"] and "automatic" not in block and "scores" not in block["human"]
    shares = {(r["arm"], r["timepoint"]): r for r in block["human"]["shares"]}
    for key, (k, n) in SHARED_SHARES.items():
        assert shares[key]["n"] == n and shares[key]["mind_brain_answers"] == k
        assert shares[key]["share_mind_brain"] == pytest.approx(k / (3 * n))
    g = {r["comparison"]: r["g"] for r in block["human"]["effects"]}
    assert round(g["prt_vs_placebo"], 2) == 1.95 and round(g["prt_vs_usual_care"], 2) == 2.07
    assert block["human"]["meta"]["n_answers"] == 858
    # the round trip keeps it whole
    loaded = load_results(out / "results.json")
    assert loaded.sections["attributions"] == block and loaded.to_dict()["attributions"] == block
    html = (out / "report.html").read_text()
    _parse(html)
    assert ("Mind-brain attributions of back pain, pretreatment to posttreatment, human codes: PRT 7.3% to 53.8%, "
            "placebo 10.5% to 9.8%, usual care 9.3% to 6.4% (Hedges g of the change 1.95 vs placebo and 2.07 vs "
            "usual care).") in html
    section = html[html.index('<section id="attributions"'):html.index('<section id="methods"')]
    for share in ("7.3%", "53.8%", "10.5%", "9.8%", "9.3%", "6.4%"):
        assert f"<td>{share}</td>" in section
    assert section.count("<img ") == 2 and "Figure 5." in section and "Figure 6." in section
    for name in ("fig_attribution_categories", "fig_attribution_scores"):
        assert (out / f"{name}.svg").is_file() and (out / f"{name}.png").is_file()


@pytest.fixture(scope="module")
def coded(tmp_path_factory):
    """The synthetic trial with known codes (tests/attribution/conftest.py) as a REDCap export, and an
    n-gram coder trained on prt's own example answers (not the analysed ones)."""
    folder = tmp_path_factory.mktemp("attr")
    trial = attribution_trial(n=10)
    export = folder / "export.csv"
    write_redcap(trial, export, layout="flat")
    texts = [w for _ in range(3) for words in BANK.values() for w in words]
    cats = [c for _ in range(3) for c, words in BANK.items() for _ in words]
    model = folder / "ngram.npz"
    save_model(train("ngram", texts, cats), model)
    return trial, export, model


def test_automatic_codes_beside_the_human_ones(coded, tmp_path, capsys):
    trial, export, model = coded
    out = tmp_path / "out"
    assert _analyze(export, "--out", out, *FAST, "--attribution-model", model) == 0
    block = json.loads((out / "results.json").read_text())["attributions"]
    assert block["codings"] == ["human", "automatic"]
    human = {(r["arm"], r["timepoint"]): r["share_mind_brain"] for r in block["human"]["shares"]}
    assert human[("prt", "post")] == pytest.approx(19 / 30) and human[("placebo", "post")] == pytest.approx(1 / 30)
    assert human[("usual_care", "post")] == 0 and human[("prt", "pre")] == 0
    assert block["coder"]["coder"] == "ngram" and block["coder"]["model"] == "ngram.npz"
    assert block["coder"]["n_trained"] == len([w for _ in range(3) for ws in BANK.values() for w in ws])
    agreement = block["agreement"]
    assert agreement["n"] == 180 and 0.5 < agreement["accuracy_mind_brain"] <= 1
    side = {r["measure"]: r for r in block["side_by_side"]}
    assert side["share prt post"]["human"] == pytest.approx(19 / 30) and "automatic" in side["share prt post"]
    assert {"g prt_vs_placebo", "g prt_vs_usual_care", "r prt"} <= set(side)
    html = (out / "report.html").read_text()
    _parse(html)
    section = html[html.index('<section id="attributions"'):html.index('<section id="methods"')]
    assert section.count(">Human codes<") >= 4 and section.count(">Automatic codes<") >= 4
    assert "Agreement of the automatic codes with the human codes" in section and "ngram.npz" in section
    assert "automatic codes: PRT" in html  # the summary names both codings


def test_no_section_without_codes_or_model_and_automatic_alone_with_one(coded):
    trial, _, model = coded
    answers_only = dataclasses.replace(trial, text=trial.text[trial.text["field"].str.startswith("attributed")])
    assert has_answers(answers_only)
    assert attribution_section(answers_only, bootstrap=20, mediation_bootstrap=0) is None
    section = attribution_section(answers_only, model=model, bootstrap=20, mediation_bootstrap=0)
    assert section.results["codings"] == ["automatic"] and "agreement" not in section.results
    assert "automatic codes" in section.figures[0].caption
    no_text = make_trial(n=4)
    assert not has_answers(no_text) and attribution_section(no_text) is None


def test_bad_attribution_input_is_refused_before_anything_is_written(coded, tmp_path, capsys):
    trial, export, model = coded
    plain = tmp_path / "plain.csv"
    write_redcap(make_trial(n=4), plain, layout="flat")
    broken = tmp_path / "broken.npz"
    broken.write_bytes(b"not a model at all")
    out = tmp_path / "out"
    cases = [((plain, "--attribution-model", model), "--attribution-model: the export has no attributed causes"),
             ((export, "--attribution-model", broken), f"model file {broken}: not a prt attribution model"),
             ((export, "--attribution-model", tmp_path / "none.npz"), "not found")]
    for args, expected in cases:
        assert _analyze(args[0], "--out", out, "--bootstrap", "10", *args[1:]) == 2
        err = capsys.readouterr().err
        assert expected in err and len(err.strip().splitlines()) == 1
        assert not out.exists()
    # a code without its answer, or a category outside the scheme: named by record, never a silent "other"
    text = trial.text.copy()
    first = text.index[(text["field"] == "cat2") & (text["timepoint"] == "post")][0]
    text.loc[first, "value"] = "weather"
    with pytest.raises(InputError, match=r"record \d+, post, cause 2: category"):
        attribution_section(dataclasses.replace(trial, text=text), bootstrap=10, mediation_bootstrap=0)
    gone = trial.text.drop(index=trial.text.index[(trial.text["field"] == "attributed_cause_1")][:1])
    with pytest.raises(InputError, match="a category code but no answer"):
        attribution_section(dataclasses.replace(trial, text=gone), bootstrap=10, mediation_bootstrap=0)


@st.composite
def _post_codes(draw):
    """Per PRT participant, how many of its three posttreatment answers are mind-brain."""
    return draw(st.lists(st.integers(0, 3), min_size=10, max_size=10))


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(counts=_post_codes())
def test_property_section_shares_are_the_codes_counted(counts):
    """Whatever the human codes, the section's PRT share at post is the mind-brain codes over 3n."""
    trial = attribution_trial(n=10)
    arms = trial.participants["arm"]
    prt = list(arms[arms == "prt"].index)
    text = trial.text.copy()
    for pid, k in zip(prt, counts):
        for slot in range(1, 4):
            at = text.index[(text["participant"] == pid) & (text["timepoint"] == "post")
                            & (text["field"] == f"cat{slot}")]
            text.loc[at, "value"] = MIND[slot - 1] if slot <= k else NON_MIND[slot]
    section = attribution_section(dataclasses.replace(trial, text=text), bootstrap=0, mediation_bootstrap=0)
    shares = pd.DataFrame(section.results["human"]["shares"]).set_index(["arm", "timepoint"])
    assert shares.loc[("prt", "post"), "share_mind_brain"] == pytest.approx(sum(counts) / 30)
    assert shares.loc[("prt", "post"), "participants_any"] == sum(1 for k in counts if k)
