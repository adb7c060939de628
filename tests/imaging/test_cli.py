"""``prt imaging ...``: each step writes its folder whole, chains to the next, fails in one line."""

from __future__ import annotations

import json

import pytest

import prt.cli


@pytest.fixture
def run(monkeypatch, capsys):
    """``prt`` with the imaging commands registered (until prt.cli lists prt.imaging.cli itself)."""
    if "prt.imaging.cli" not in prt.cli.REGISTRARS:
        monkeypatch.setattr(prt.cli, "REGISTRARS", (*prt.cli.REGISTRARS, "prt.imaging.cli"))

    def call(*argv):
        status = prt.cli.main([str(a) for a in argv])
        out, err = capsys.readouterr()
        return status, out, err

    return call


def test_help_lists_every_step(run):
    status, out, _ = run("imaging")
    assert status == 2
    for name in ("demo", "behaviour", "localizer", "roi-effects", "connectivity"):
        assert name in out


def test_the_steps_chain_through_their_outputs(run, tiny, tmp_path):
    status, out, err = run("imaging", "localizer", tiny, "--out", tmp_path / "loc", "--permutations", 50,
                           "--alpha", "0.5")
    assert status == 0, err
    results = json.loads((tmp_path / "loc" / "results.json").read_text())
    assert results["imaging"]["localizer"]["n_permutations"] == 50
    for name in ("localizer_clusters.csv", "localizer_clusters_dseg.nii.gz", "localizer_clusters_dseg.tsv",
                 "localizer_t.nii.gz", "localizer_tfce.nii.gz", "localizer_logp_fwe_tfce.nii.gz",
                 "localizer_clusters.png"):
        assert (tmp_path / "loc" / name).is_file(), name

    status, out, err = run("imaging", "roi-effects", tiny, "--out", tmp_path / "roi", "--clusters", tmp_path / "loc",
                           "--alpha", "0.9")
    assert status == 0, err
    results = json.loads((tmp_path / "roi" / "results.json").read_text())["imaging"]
    assert {r["comparison"] for r in results["roi_effects"]["records"]} == {"prt_vs_placebo", "prt_vs_usual_care"}
    assert (tmp_path / "roi" / "seeds_dseg.nii.gz").is_file() and (tmp_path / "roi" / "cluster_means.png").is_file()

    if results["roi_effects"]["seeds"]:
        status, out, err = run("imaging", "connectivity", tiny, "--out", tmp_path / "con", "--seeds", tmp_path / "roi",
                               "--permutations", 30)
        assert status == 0, err
        results = json.loads((tmp_path / "con" / "results.json").read_text())["imaging"]
        assert results["connectivity"]["n_participants"] == 9
        assert (tmp_path / "con" / "connectivity_tests.csv").is_file()

    status, out, err = run("imaging", "behaviour", tiny, "--out", tmp_path / "beh")
    assert status == 0, err
    assert (tmp_path / "beh" / "scans.csv").is_file()


def test_errors_are_one_line_naming_the_file(run, tiny, tmp_path):
    (tiny / "participants.tsv").write_text("participant_id\tarm\tage\tsex\nsub-001\tprt\t40\tfemale\n")
    status, out, err = run("imaging", "localizer", tiny, "--out", tmp_path / "x", "--permutations", 10)
    assert status == 2
    assert err.count("\n") == 1 and "sub-002" in err and "is not in" in err
    assert not (tmp_path / "x").exists()


def test_an_output_folder_prt_did_not_write_is_never_replaced(run, tiny, tmp_path):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me")
    status, _, err = run("imaging", "behaviour", tiny, "--out", mine)
    assert status == 2 and "prt did not write" in err
    assert (mine / "notes.txt").read_text() == "keep me"


def test_nothing_is_half_written_when_a_step_fails(run, tiny, tmp_path, monkeypatch):
    import prt.imaging.outputs as outputs
    from prt.errors import InputError

    calls = []

    def failing(*args, **kwargs):
        calls.append(args[0])
        if len(calls) == 3:
            raise InputError("disk full (simulated)")
        return original(*args, **kwargs)

    original = outputs.write_nifti
    monkeypatch.setattr(outputs, "write_nifti", failing)
    status, _, err = run("imaging", "localizer", tiny, "--out", tmp_path / "half", "--permutations", 10)
    assert status == 2 and "disk full" in err
    assert not (tmp_path / "half").exists()
    assert not list(tmp_path.glob(".half*"))


def test_demo_writes_a_dataset_the_steps_read(run, tmp_path):
    status, out, err = run("imaging", "demo", tmp_path / "d", "--participants", 6, "--voxel-size", 12,
                           "--rest-volumes", 120, "--tr", 4)
    assert status == 0, err
    truth = json.loads((tmp_path / "d" / "demo_truth.json").read_text())
    assert truth["settings"]["participants"] == 6
    status, _, err = run("imaging", "demo", tmp_path / "e", "--participants", 2)
    assert status == 2 and "participants" in err


def test_bad_numbers_are_refused_by_the_parser(run, tiny, tmp_path):
    with pytest.raises(SystemExit) as exc:
        run("imaging", "localizer", tiny, "--out", tmp_path / "x", "--permutations", "-5")
    assert exc.value.code == 2
