"""The four analyses on the demo recover the planted effects at the right place and size."""

from __future__ import annotations

import numpy as np
import pytest

from prt.imaging.masks import mni_coordinates
from prt.imaging.volumes import Grid


def _grid(truth) -> Grid:
    return Grid(shape=tuple(truth["shape"]), affine=np.array(truth["affine"]))


def _profile(truth, xyz, centre, sigma):
    return np.exp(-0.5 * np.sum((xyz - np.asarray(centre)) ** 2, axis=-1) / sigma**2)


def test_behaviour_recovers_the_planted_falls_and_excludes_the_broken_scans(pipeline):
    result, truth = pipeline["behaviour"], pipeline["truth"]
    excluded = {(r["participant"], r["session"], r["rule"]) for r in truth["excluded_scans"]}
    table = result.scans
    got = {(r.participant, r.session, r.excluded) for r in table[table["excluded"].notna()].itertuples()}
    assert got == excluded
    falls = {"evoked_pain": truth["behaviour"]["evoked_fall"],
             "spontaneous_pain": truth["behaviour"]["spontaneous_fall"]}
    for record in result.records:
        arms = {"prt_vs_placebo": "placebo", "prt_vs_usual_care": "usual_care"}
        fall = falls[record["measure"]]
        expected = fall["prt"] - fall[arms[record["comparison"]]]
        assert record["converged"]
        assert abs(record["estimate"] - expected) < 3 * record["se"], record
        assert record["p_one_tailed"] < 0.05
        assert record["n_participants"] == 30


def test_localizer_finds_each_planted_response_at_its_place_and_size(pipeline):
    located, truth = pipeline["localizer"], pipeline["truth"]
    grid = _grid(truth)
    voxel = truth["settings"]["voxel_size"]
    table = located.clusters.table
    assert set(table["region"]) == {b["region"] for b in truth["evoked"]}
    xyz = mni_coordinates(grid)
    mask_volume = located.mask.volume(located.mask.region_of)
    for blob in truth["evoked"]:
        row = table[table["region"] == blob["region"]].iloc[0]
        peak = np.array([row.peak_x, row.peak_y, row.peak_z])
        assert np.linalg.norm(peak - blob["centre"]) <= 1.5 * voxel, (blob["region"], peak)
        # Size: the cluster holds most of the region's voxels where the planted response is at least
        # half its peak, and few where it is below a tenth.
        label = located.clusters.labels == row.cluster
        profile = _profile(truth, xyz, blob["centre"], blob["sigma"])
        region = mask_volume == {v: k for k, v in located.mask.names.items()}[blob["region"]]
        strong = region & (profile >= 0.5)
        assert label[strong].mean() >= 0.8
        assert (profile[label] < 0.1).mean() <= 0.2
        assert row.min_p_fwe < 0.05 and row.peak_t > 0


def test_roi_effects_recover_the_planted_fall_in_prt(pipeline):
    roi, located, truth = pipeline["roi"], pipeline["localizer"], pipeline["truth"]
    xyz = mni_coordinates(_grid(truth))
    names = located.clusters.names
    by_region = {b["region"]: b for b in truth["evoked"]}
    for record in roi.records:
        blob = by_region[record["name"]]
        label = located.clusters.labels == record["cluster"]
        expected = -blob["amplitude"] * blob["prt_change"] * _profile(truth, xyz[label], blob["centre"],
                                                                      blob["sigma"]).mean()
        assert abs(record["estimate"] - expected) < 3 * record["se"], record
        assert 0 <= record["q_fdr"] <= 1 and record["q_fdr"] >= record["p_one_tailed"] - 1e-12
    seeds = set(roi.seeds.names.values())
    assert seeds == {b["region"] for b in truth["evoked"] if b["prt_change"] < 0}
    assert set(names.values()) >= seeds


def test_connectivity_finds_the_rising_coupling_and_nothing_from_the_other_seed(pipeline):
    conn, truth = pipeline["connectivity"], pipeline["truth"]
    coupling = truth["coupling"]
    clusters = conn.clusters
    from_seed = clusters[clusters["seed"] == coupling["seed"]]
    assert set(from_seed["comparison"]) == {"prt_vs_placebo", "prt_vs_usual_care"}
    assert set(from_seed["direction"]) == {"increase"}
    assert set(from_seed["region"]) == {coupling["target"]}
    voxel = truth["settings"]["voxel_size"]
    for row in from_seed.itertuples():
        peak = np.array([row.peak_x, row.peak_y, row.peak_z])
        assert np.linalg.norm(peak - coupling["target_centre"]) <= 2 * voxel
        assert row.peak_t > 0 and row.min_p_fwe < 0.05
    others = clusters[clusters["seed"] != coupling["seed"]]
    assert others.empty, others
    assert {t["scheme"] for t in conn.tests} == {"freedman-lane permutation"}
    assert all(t["n_permutations"] == 999 for t in conn.tests)


def test_the_results_section_is_plain_json(pipeline):
    import json

    from prt.imaging.analyses import results_json

    text = results_json({"localizer": pipeline["localizer"].to_dict(), "roi_effects": pipeline["roi"].to_dict(),
                         "connectivity": pipeline["connectivity"].to_dict(),
                         "behaviour": pipeline["behaviour"].to_dict()}, pipeline["dataset"])
    imaging = json.loads(text)["imaging"]
    assert set(imaging) >= {"localizer", "roi_effects", "connectivity", "behaviour", "dataset", "version"}
    assert imaging["dataset"]["by_arm"] == {"prt": 10, "placebo": 10, "usual_care": 10}
    first = imaging["localizer"]["clusters"][0]
    assert set(first) >= {"cluster", "name", "region", "voxels", "volume_mm3", "peak_x", "peak_y", "peak_z", "peak_t",
                          "min_p_fwe"}


@pytest.mark.parametrize("step", ["localizer", "roi"])
def test_same_seed_same_result(pipeline, step):
    from prt.imaging import analyses

    dataset = pipeline["dataset"]
    if step == "localizer":
        again = analyses.localizer(dataset, n_permutations=999, seed=1)
        np.testing.assert_array_equal(again.test.p_tfce, pipeline["localizer"].test.p_tfce)
    else:
        again = analyses.roi_effects(dataset, pipeline["localizer"].clusters)
        assert again.records == pipeline["roi"].records
