"""Every published figure in prt.analysis.published is reproduced by the engine on the shared data."""

from __future__ import annotations

import pytest

from prt.analysis.engine import run_analysis
from prt.analysis.published import CITATION, PUBLISHED
from prt.data import read_trial


def test_published_records_have_the_results_shapes():
    assert "JAMA Psychiatry" in CITATION and "2022" in CITATION
    assert {"comparison", "t", "df"} <= set(PUBLISHED["primary"][0])
    assert all({"outcome", "timepoint", "comparison", "g", "se"} <= set(r) for r in PUBLISHED["effects"])
    assert all({"timepoint", "group", "criterion", "responders", "randomized"} <= set(r)
               for r in PUBLISHED["responders"])
    assert all({"x", "y", "group", "r", "df", "p"} <= set(r) for r in PUBLISHED["correlations"])


@pytest.fixture(scope="module")
def results(boulder_wide_path):
    return run_analysis(read_trial(boulder_wide_path), bootstrap=2000, mediation_bootstrap=0, seed=0).to_dict()


def test_primary(results):
    ours = {r["comparison"]: r for r in results["primary"]}
    for pub in PUBLISHED["primary"]:
        mine = ours[pub["comparison"]]
        assert round(mine["t"], 2) == pub["t"] and round(mine["df"], 2) == pub["df"]


def test_effects(results):
    ours = {(r["outcome"], r["timepoint"], r["comparison"]): r for r in results["effects"]}
    for pub in PUBLISHED["effects"]:
        mine = ours[(pub["outcome"], pub["timepoint"], pub["comparison"])]
        assert round(mine["g"], 2) == pub["g"], pub
        if pub["se"] is not None:
            assert abs(mine["se"] - pub["se"]) <= 0.03, pub


def test_responders(results):
    ours = {(r["timepoint"], r["group"], r["criterion"]): r for r in results["responders"]}
    for pub in PUBLISHED["responders"]:
        mine = ours[(pub["timepoint"], pub["group"], pub["criterion"])]
        assert (mine["responders"], mine["randomized"]) == (pub["responders"], pub["randomized"])


def test_correlations(results):
    ours = {(r["x"], r["y"], r["group"]): r for r in results["correlations"]}
    for pub in PUBLISHED["correlations"]:
        mine = ours[(pub["x"], pub["y"], pub["group"])]
        assert (round(mine["r"], 2), mine["df"], round(mine["p"], 3)) == (pub["r"], pub["df"], pub["p"])
