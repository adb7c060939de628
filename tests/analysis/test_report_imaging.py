"""The report's imaging section from prt imaging's output folders (issue 16): the demo's planted
effects appear in the section, results round-trip, and malformed or foreign folders are refused."""

from __future__ import annotations

import copy
import json
import shutil

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytest.importorskip("nibabel")

from prt.analysis import load_results  # noqa: E402
from prt.cli import main  # noqa: E402
from prt.data import TrialData, write_redcap  # noqa: E402
from prt.errors import InputError  # noqa: E402
from prt.imaging.report import imaging_results, imaging_section, read_imaging_outputs, section_body  # noqa: E402
from tests.analysis.test_report import _parse  # noqa: E402

#: A small demo (as tests/imaging/conftest.py's SMALL) and few permutations: seconds, not minutes.
SMALL = {"participants": 30, "voxel_size": 8.0, "rest_volumes": 120, "tr": 4.0, "seed": 0}
PERMUTATIONS = 99


def _trial_of(root, drop=(), rename=None) -> TrialData:
    """A trial whose participants are the demo's (ids = BIDS labels, same arms, ages and sexes)."""
    tsv = pd.read_csv(root / "participants.tsv", sep="\t", dtype=str)
    people = pd.DataFrame({"participant": tsv["participant_id"].str[4:], "arm": tsv["arm"],
                           "age": tsv["age"].astype(float), "sex": tsv["sex"]})
    people = people[~people["participant"].isin(drop)]
    if rename:
        people["participant"] = people["participant"].replace(rename)
    rng = np.random.default_rng(0)
    rows = [(p, t, "pain_intensity", float(rng.integers(2, 9))) for p in people["participant"]
            for t in ("eligibility", "pre", "post")]
    return TrialData.from_frames(people, pd.DataFrame(rows, columns=["participant", "timepoint", "outcome", "value"]))


@pytest.fixture(scope="module")
def outputs(tmp_path_factory):
    """The demo and the four steps' output folders (as the prt imaging commands write them)."""
    from prt.imaging import analyses, outputs as write
    from prt.imaging.dataset import open_dataset
    from prt.imaging.demo import DemoSettings, generate

    base = tmp_path_factory.mktemp("imaging")
    root = base / "demo"
    generate(root, DemoSettings(**SMALL))
    dataset = open_dataset(root)
    folder = base / "img"
    write.write_behaviour(folder / "behaviour", analyses.behaviour(dataset), dataset)
    located = analyses.localizer(dataset, n_permutations=PERMUTATIONS, seed=1)
    write.write_localizer(folder / "localizer", located, dataset)
    roi = analyses.roi_effects(dataset, located.clusters)
    write.write_roi_effects(folder / "roi", roi, dataset, located)
    conn = analyses.connectivity(dataset, roi.seeds, n_permutations=PERMUTATIONS, seed=1)
    write.write_connectivity(folder / "connectivity", conn, dataset, roi.seeds)
    truth = json.loads((root / "demo_truth.json").read_text())
    return root, folder, truth


@pytest.fixture(scope="module")
def section(outputs):
    root, folder, _ = outputs
    return imaging_section(_trial_of(root), folder)


def test_the_planted_effects_appear_in_the_section(section):
    results = section.results
    assert set(results["sources"]) == {"behaviour", "localizer", "roi_effects", "connectivity"}
    assert results["sources"]["localizer"] in ("localizer", "roi")
    # the demo plants falls in PRT's cingulate and left insula response, not the medial prefrontal one
    effects = {(r["name"], r["comparison"]): r for r in results["roi_effects"]["records"]}
    for name in ("cingulate", "insula_left"):
        for comparison in ("prt_vs_placebo", "prt_vs_usual_care"):
            record = effects[(name, comparison)]
            assert record["t"] > 0 and record["p_one_tailed"] < 0.05 and record["q_fdr"] < 0.05
    assert {s["name"] for s in results["roi_effects"]["seeds"]} >= {"cingulate", "insula_left"}
    # and a rise of the insula's coupling with the left dorsal S1
    rises = {(r["seed"], r["name"], r["comparison"]) for r in results["connectivity"]["clusters"]
             if r["direction"] == "increase"}
    assert ("insula_left", "s1_left_dorsal", "prt_vs_placebo") in rises
    assert ("insula_left", "s1_left_dorsal", "prt_vs_usual_care") in rises
    html = section.body
    for heading in ("In-scanner pain", "Localizer: regions responding to evoked pain at baseline",
                    "Treatment effects on the evoked-pain clusters", "Seed connectivity"):
        assert heading in html
    assert "s1 left dorsal" in html and "insula left" in html
    assert "insula left to s1 left dorsal (vs placebo and vs usual care)" in section.summary[0]
    assert [f.name for f in section.figures] == ["fig_imaging_cluster_means", "fig_imaging_clusters",
                                                 "fig_imaging_connectivity"]
    assert all(f.svg.lstrip().startswith(b"<?xml") and f.png.startswith(b"\x89PNG") for f in section.figures)
    assert html.count("<table>") == html.count("<caption>") == 5


def test_no_participant_ids_reach_results_json(section, outputs):
    behaviour = section.results["behaviour"]
    assert "scans_excluded" not in behaviour and sum(behaviour["scans_excluded_by_rule"].values()) == 3
    text = json.dumps(dict(section.results))
    assert '"participant"' not in text and "sub-0" not in text


def test_analyze_with_imaging_round_trips(outputs, tmp_path, capsys):
    root, folder, _ = outputs
    export = tmp_path / "export.csv"
    write_redcap(_trial_of(root), export, layout="flat")
    out = tmp_path / "out"
    # the parent folder, or each step's folder: the same section
    assert main(["analyze", str(export), "--out", str(out), "--bootstrap", "20", "--mediation-bootstrap", "0",
                 "--imaging", str(folder)]) == 0
    assert "(with brain imaging)" in capsys.readouterr().out
    data = json.loads((out / "results.json").read_text())
    loaded = load_results(out / "results.json")
    assert loaded.sections["imaging"] == data["imaging"] and loaded.to_dict()["imaging"] == data["imaging"]
    html = (out / "report.html").read_text()
    page = _parse(html)
    assert sum(1 for tag, _ in page.tags if tag == "img") == 7
    assert all(len(a.get("alt", "")) > 30 for tag, a in page.tags if tag == "img")
    for name in ("fig_imaging_cluster_means", "fig_imaging_clusters", "fig_imaging_connectivity"):
        assert (out / f"{name}.svg").is_file()
    steps = [folder / s for s in ("behaviour", "localizer", "roi", "connectivity")]
    assert imaging_results(_trial_of(root), read_imaging_outputs(steps)) == data["imaging"]


def _copy(folder, tmp_path, name="img"):
    target = tmp_path / name
    shutil.copytree(folder, target)
    return target


def _edit_json(path, change):
    data = json.loads(path.read_text())
    change(data["imaging"])
    path.write_text(json.dumps(data))


def test_foreign_and_malformed_folders_are_refused(outputs, tmp_path):
    root, folder, _ = outputs
    trial = _trial_of(root)
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="no results.json in it or in its sub-folders"):
        read_imaging_outputs([tmp_path / "empty"])
    with pytest.raises(InputError, match="not found"):
        read_imaging_outputs([tmp_path / "nowhere"])
    analysis = tmp_path / "analysis"
    analysis.mkdir()
    (analysis / "results.json").write_text(json.dumps({"primary": [], "meta": {}}))
    with pytest.raises(InputError, match="not written by prt imaging"):
        read_imaging_outputs([analysis])
    with pytest.raises(InputError, match="one folder is given twice"):
        read_imaging_outputs([folder / "roi", folder / "roi"])

    bad = _copy(folder, tmp_path, "missing-field")
    _edit_json(bad / "roi" / "results.json", lambda d: d["roi_effects"]["records"][1].pop("q_fdr"))
    with pytest.raises(InputError, match=r"missing-field/roi: results.json imaging.roi_effects.records\[1\]: no field 'q_fdr'"):
        read_imaging_outputs([bad])
    bad = _copy(folder, tmp_path, "wrong-type")
    _edit_json(bad / "connectivity" / "results.json", lambda d: d["connectivity"]["tests"][0].update(max_t="big"))
    with pytest.raises(InputError, match=r"imaging.connectivity.tests\[0\].max_t: expected a number"):
        read_imaging_outputs([bad])
    bad = _copy(folder, tmp_path, "two-runs")
    _edit_json(bad / "localizer" / "results.json", lambda d: d["localizer"]["clusters"][0].update(peak_t=99.0))
    with pytest.raises(InputError, match="the localizer results differ from those in"):
        read_imaging_outputs([bad])
    bad = _copy(folder, tmp_path, "other-dataset")
    _edit_json(bad / "connectivity" / "results.json", lambda d: d["dataset"].update(participants=31))
    with pytest.raises(InputError, match="describes another dataset than the other imaging folders"):
        read_imaging_outputs([bad])
    bad = _copy(folder, tmp_path, "no-map")
    victim = next((bad / "connectivity").glob("seed-*_t.nii.gz"))
    victim.unlink()
    with pytest.raises(InputError, match=f"no {victim.name}"):
        imaging_section(trial, bad)


def test_imaging_of_other_participants_is_refused(outputs, tmp_path, capsys):
    root, folder, _ = outputs
    with pytest.raises(InputError, match=r"imaging scans .*scans.csv row 2: participant sub-001 is not a "
                                         "participant of the trial"):
        imaging_results(_trial_of(root, rename={"001": "901"}), read_imaging_outputs(folder))
    tsv = pd.read_csv(root / "participants.tsv", sep="\t", dtype=str)
    first_prt = tsv.loc[tsv["arm"] == "prt", "participant_id"].iloc[0][4:]
    with pytest.raises(InputError, match="10 prt participants were scanned but the trial randomized 9"):
        imaging_results(_trial_of(root, drop=(first_prt,)), read_imaging_outputs(folder / "roi"))
    export = tmp_path / "export.csv"
    write_redcap(_trial_of(root, rename={"001": "901"}), export, layout="flat")
    out = tmp_path / "out"
    assert main(["analyze", str(export), "--out", str(out), "--bootstrap", "10", "--imaging", str(folder)]) == 2
    err = capsys.readouterr().err
    assert "participant sub-001 is not a participant of the trial" in err and len(err.strip().splitlines()) == 1
    assert not out.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["export.csv"]


_JSON = st.recursive(st.none() | st.booleans() | st.integers(-10, 10) | st.floats(allow_nan=False) | st.text(max_size=5),
                     lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
                     max_leaves=6)


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(table=st.sampled_from([("roi_effects", "records"), ("roi_effects", "cluster_means"),
                              ("localizer", "clusters")]),
       index=st.integers(0, 3), key=st.sampled_from(["name", "comparison", "t", "p_one_tailed", "arm", "mean",
                                                     "peak_x", "voxels", "session", "q_fdr"]),
       value=_JSON)
def test_property_any_edit_of_results_json_is_read_or_refused(outputs, tmp_path_factory, table, index, key, value):
    """Put any JSON value in any field of the ROI step's results.json: the section is built, or an
    InputError names the folder; never a crash deep in the report."""
    root, folder, _ = outputs
    original = json.loads((folder / "roi" / "results.json").read_text())
    data = copy.deepcopy(original)
    records = data["imaging"][table[0]][table[1]]
    if index >= len(records):
        return
    records[index][key] = value
    target = tmp_path_factory.mktemp("fuzz") / "roi"
    target.mkdir()
    (target / "results.json").write_text(json.dumps(data))
    try:
        section_body(imaging_results(_trial_of(root), read_imaging_outputs(target)))
    except InputError as exc:
        assert str(target) in str(exc) and "\n" not in str(exc)


def test_one_report_with_all_three_sections(outputs, tmp_path, capsys):
    """The demo's participants with attributions (human codes) and a program export: every section,
    in order, in one report and one results.json."""
    import dataclasses

    from prt.program.export import ParticipantProgram, write_export
    from prt.program.fidelity import SessionRating
    from tests.attribution.conftest import attribution_trial

    root, folder, _ = outputs
    trial = _trial_of(root)
    coded = attribution_trial(n=10)  # arms in blocks of 10: give its answers to the demo's people, arm by arm
    mapping = {}
    for arm in ("prt", "placebo", "usual_care"):
        mapping.update(zip(coded.participants.index[coded.participants["arm"] == arm],
                           trial.participants.index[trial.participants["arm"] == arm]))
    trial = dataclasses.replace(trial, text=coded.text.assign(participant=coded.text["participant"].map(mapping)))
    export = tmp_path / "export.csv"
    write_redcap(trial, export, layout="flat")
    prt = list(trial.participants.index[trial.participants["arm"] == "prt"])
    everything = ("education", "evidence", "somatic_tracking", "emotions", "positive_states", "home_practice")
    write_export(tmp_path / "program", [ParticipantProgram(prt[0], (1, 2, 3, 4)), ParticipantProgram(prt[1], (1, 2))],
                 [SessionRating("T1", prt[0], 2, "R1", everything)])
    out = tmp_path / "out"
    assert main(["analyze", str(export), "--out", str(out), "--bootstrap", "20", "--mediation-bootstrap", "0",
                 "--program", str(tmp_path / "program"), "--imaging", str(folder)]) == 0
    assert "(with program delivery: adherence and fidelity, pain attributions, brain imaging)" in \
        capsys.readouterr().out
    data = json.loads((out / "results.json").read_text())
    assert {"program", "attributions", "imaging"} <= set(data)
    shares = {(r["arm"], r["timepoint"]): r["share_mind_brain"] for r in data["attributions"]["human"]["shares"]}
    assert shares[("prt", "post")] == pytest.approx(19 / 30)
    assert data["program"]["adherence"][0]["sessions_mean"] == 3.0
    html = (out / "report.html").read_text()
    page = _parse(html)
    order = [a["id"] for tag, a in page.tags if tag == "section"]
    assert order[order.index("figures"):order.index("methods") + 1] == ["figures", "program", "attributions",
                                                                       "imaging", "methods"]
    assert sum(1 for tag, _ in page.tags if tag == "img") == 4 + 2 + 2 + 3
    assert "Figure 11." in html and "Figure 12." not in html
    assert all(a.get("scope") in {"col", "row", "colgroup", "rowgroup"} for tag, a in page.tags if tag == "th")
    assert html.count("<table>") == html.count("<caption>") == html.count("<thead>")
