"""Clear errors naming the file: mismatched grids, missing sessions, masks off the data, NaNs, strangers."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from prt.errors import InputError
from prt.imaging import analyses
from prt.imaging.dataset import open_dataset, read_participants
from prt.imaging.volumes import Grid, grid_of, load, write

nib = pytest.importorskip("nibabel")


# The demo breaks the rating rules on purpose in sub-002 (post), sub-003 and sub-004 (pre): tests
# that need a baseline map to be read use the others.
def _evoked(root, participant="001", session="pre"):
    return next((root / f"sub-{participant}" / f"ses-{session}" / "func").glob("*desc-intensity_effect.nii.gz"))


def _rewrite(path, data=None, affine=None):
    img = load(path, ndim=None)
    array = np.asarray(img.dataobj, dtype=np.float32) if data is None else data
    grid = grid_of(img) if affine is None else Grid(shape=array.shape[:3], affine=affine)
    write(path, array, grid, np.float32)


def test_the_tiny_dataset_opens_and_runs(tiny):
    dataset = open_dataset(tiny)
    assert list(dataset.participants.index) == [f"{i:03d}" for i in range(1, 10)]
    result = analyses.localizer(dataset, n_permutations=20)
    assert result.test.n_permutations == 20


def test_a_participant_absent_from_the_table_is_named(tiny):
    shutil.copytree(tiny / "sub-001", tiny / "sub-099")
    with pytest.raises(InputError, match=r"sub-099: participant sub-099 is not in .*participants.tsv"):
        open_dataset(tiny)


def test_a_missing_session_names_the_expected_file(tiny):
    shutil.rmtree(tiny / "sub-004" / "ses-post")
    with pytest.raises(InputError, match=r"sub-004/ses-post/func/sub-004_ses-post_task-evokedpain.*not found "
                                         r"for participant sub-004, session post"):
        open_dataset(tiny)
    dataset = open_dataset(tiny, allow_missing_sessions=True)
    assert "sub-004: no evoked at post" in dataset.notes
    assert "004" not in dataset.with_sessions("rest")


def test_two_files_for_one_pattern_are_refused(tiny):
    path = _evoked(tiny)
    shutil.copy(path, path.with_name(path.name.replace("desc-intensity", "run-2_desc-intensity")))
    with pytest.raises(InputError, match="more than one file matches"):
        open_dataset(tiny)


def test_a_mismatched_affine_names_the_file(tiny):
    path = _evoked(tiny, "006")
    img = load(path)
    affine = np.asarray(img.affine).copy()
    affine[0, 3] += 2.0
    _rewrite(path, affine=affine)
    message = rf"{path}: its affine .* differs from that of .*localizer_dseg.*by up to 2 mm"
    with pytest.raises(InputError, match=message):
        analyses.localizer(open_dataset(tiny), n_permutations=10)


def test_a_mismatched_shape_names_the_file(tiny):
    path = _evoked(tiny, "002")
    img = load(path)
    data = np.asarray(img.dataobj, dtype=np.float32)[:-1]
    _rewrite(path, data=data, affine=np.asarray(img.affine))
    with pytest.raises(InputError, match=rf"{path}: shape .* differs"):
        analyses.localizer(open_dataset(tiny), n_permutations=10)


def test_a_4d_image_where_a_map_belongs_is_refused(tiny):
    path = _evoked(tiny, "002")
    img = load(path)
    data = np.repeat(np.asarray(img.dataobj, dtype=np.float32)[..., None], 2, axis=-1)
    _rewrite(path, data=data, affine=np.asarray(img.affine))
    with pytest.raises(InputError, match=rf"{path}: expected a 3-D image, got 4-D"):
        analyses.localizer(open_dataset(tiny), n_permutations=10)


def test_nans_in_the_mask_name_the_file(tiny):
    path = _evoked(tiny, "005")
    data = np.asarray(load(path).dataobj, dtype=np.float32)
    data[data != 0] = np.nan
    _rewrite(path, data=data)
    with pytest.raises(InputError, match=rf"{path}: \d+ voxel\(s\) in the analysis mask are NaN"):
        analyses.localizer(open_dataset(tiny), n_permutations=10)


def test_nans_in_a_rest_scan_name_the_file(tiny):
    dataset = open_dataset(tiny)
    path = dataset.path("002", "post", "rest")
    img = load(path, ndim=4)
    data = np.asarray(img.dataobj, dtype=np.float32)
    data[..., 5] = np.nan
    write(path, data, grid_of(img), np.float32, tr=4.0)
    located = analyses.localizer(dataset, n_permutations=20, alpha=0.5)
    seeds = located.clusters
    with pytest.raises(InputError, match=rf"{path}: NaN"):
        analyses.connectivity(dataset, seeds, n_permutations=10)


def test_a_mask_that_does_not_overlap_the_data_is_named(tiny):
    path = _evoked(tiny, "001")
    data = np.zeros_like(np.asarray(load(path).dataobj, dtype=np.float32))
    _rewrite(path, data=data)
    with pytest.raises(InputError, match=rf"{path}: 0 at every voxel of the mask .*does not overlap the data"):
        analyses.localizer(open_dataset(tiny), n_permutations=10)


def test_images_covering_different_parts_are_refused(tiny):
    dataset = open_dataset(tiny)
    mask = analyses.Mask.read(*dataset.mask("localizer"))
    half = mask.ijk[:, 0] < np.median(mask.ijk[:, 0])
    for i, participant in enumerate(dataset.participants.index):
        path = _evoked(tiny, participant)
        data = np.asarray(load(path).dataobj, dtype=np.float32)
        keep = half if i % 2 else ~half
        data[tuple(mask.ijk[keep].T)] = 0.0
        _rewrite(path, data=data)
    with pytest.raises(InputError, match="no voxel has data in every evoked-pain map"):
        analyses.localizer(open_dataset(tiny), n_permutations=10)


def test_a_partly_covered_mask_drops_the_uncovered_voxels_and_says_so(tiny):
    dataset = open_dataset(tiny)
    mask = analyses.Mask.read(*dataset.mask("localizer"))
    path = _evoked(tiny, "006")
    data = np.asarray(load(path).dataobj, dtype=np.float32)
    data[tuple(mask.ijk[:5].T)] = 0.0
    _rewrite(path, data=data)
    result = analyses.localizer(open_dataset(tiny), n_permutations=10)
    assert result.mask.graph.n_voxels == mask.graph.n_voxels - 5
    assert any("5 voxel(s)" in n for n in result.notes)


def test_an_unreadable_image_names_the_file(tiny):
    path = _evoked(tiny, "007")
    path.write_bytes(b"not an image at all")
    with pytest.raises(InputError, match=rf"{path}: not a readable NIfTI image"):
        analyses.localizer(open_dataset(tiny), n_permutations=10)


def test_missing_masks_are_named(tiny):
    shutil.rmtree(tiny / "masks")
    with pytest.raises(InputError, match=r"masks: no mask image matching \*desc-localizer_dseg"):
        analyses.localizer(open_dataset(tiny), n_permutations=10)


def test_bad_participants_tables_name_the_row(tmp_path):
    path = tmp_path / "participants.tsv"
    cases = {
        "participant_id\tarm\tage\tsex\nsub-01\tprt\t40\tfemale\nsub-01\tprt\t40\tmale\n": "listed more than once",
        "participant_id\tarm\tage\tsex\nsub-01\tyoga\t40\tfemale\n": "sub-01, arm is not one of",
        "participant_id\tarm\tage\tsex\nsub-01\tprt\tforty\tfemale\n": "row 1, age is not a number",
        "participant_id\tarm\tage\tsex\n01\tprt\t40\tfemale\n": "not of the form sub-<label>",
        "participant_id\tarm\tsex\nsub-01\tprt\tfemale\n": "no column 'age'",
        "participant_id\tarm\tage\tsex\nsub-01\tprt\tn/a\tfemale\n": "age is missing",
    }
    for text, message in cases.items():
        path.write_text(text, encoding="utf-8")
        with pytest.raises(InputError, match=message):
            read_participants(path)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.lists(st.text(alphabet="sub-0123456789prtmalefn/a. \t,x", max_size=12), min_size=4, max_size=4),
                max_size=5))
def test_fuzz_participants_tables_read_or_fail_clearly(tmp_path, rows):
    path = tmp_path / "participants.tsv"
    body = "participant_id\tarm\tage\tsex\n" + "".join("\t".join(r).replace("\n", " ") + "\n" for r in rows)
    path.write_text(body, encoding="utf-8")
    try:
        frame = read_participants(path)
    except InputError as exc:
        assert str(path) in str(exc)
        return
    assert set(frame["arm"]) <= {"prt", "placebo", "usual_care"}
    assert np.all(np.isfinite(frame["age"]))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.one_of(st.floats(-50, 150, allow_nan=False), st.just("n/a"), st.text(max_size=4)), min_size=1,
                max_size=25))
def test_fuzz_event_ratings_read_or_fail_clearly(tmp_path, ratings):
    path = tmp_path / "events.tsv"
    cells = [r if isinstance(r, str) else f"{r:.1f}" for r in ratings]
    cells = [c.replace("\t", " ").replace("\n", " ").replace("\r", " ").replace('"', "") for c in cells]
    path.write_text("onset\tduration\trating\n" + "".join(f"{i * 48}\t37\t{c}\n" for i, c in enumerate(cells)),
                    encoding="utf-8")
    try:
        quality = analyses.scan_quality(path)
    except InputError as exc:
        assert str(path) in str(exc)
        return
    assert quality["excluded"] in (None, "missing", "near_zero", "range")
    assert 0.0 <= quality["missing_share"] <= 1.0
