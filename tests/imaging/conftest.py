"""Shared fixtures: a small synthetic dataset with planted effects (prt imaging demo), made once."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("nibabel")

#: Small enough for CI (8 mm voxels, 4-s TR), large enough to recover the planted effects.
SMALL = {"participants": 30, "voxel_size": 8.0, "rest_volumes": 120, "tr": 4.0, "seed": 0}


@pytest.fixture(scope="session")
def demo(tmp_path_factory):
    """``(root, truth)`` of a small demo dataset (shared by the tests: do not modify it)."""
    from prt.imaging.demo import DemoSettings, generate

    root = tmp_path_factory.mktemp("imaging") / "demo"
    generate(root, DemoSettings(**SMALL))
    truth = json.loads((root / "demo_truth.json").read_text(encoding="utf-8"))
    return root, truth


@pytest.fixture(scope="session")
def pipeline(demo):
    """The four analyses run once on the demo (999 permutations)."""
    from prt.imaging import analyses
    from prt.imaging.dataset import open_dataset

    root, truth = demo
    dataset = open_dataset(root)
    located = analyses.localizer(dataset, n_permutations=999, seed=1)
    roi = analyses.roi_effects(dataset, located.clusters)
    conn = analyses.connectivity(dataset, roi.seeds, n_permutations=999, seed=1)
    return {"dataset": dataset, "truth": truth, "behaviour": analyses.behaviour(dataset), "localizer": located,
            "roi": roi, "connectivity": conn}


#: A tiny dataset for the error tests (12 mm voxels, 9 participants): seconds to make.
TINY = {"participants": 9, "voxel_size": 12.0, "rest_volumes": 120, "tr": 4.0, "seed": 3}


@pytest.fixture(scope="session")
def tiny_source(tmp_path_factory):
    from prt.imaging.demo import DemoSettings, generate

    root = tmp_path_factory.mktemp("imaging-tiny") / "tiny"
    generate(root, DemoSettings(**TINY))
    return root


@pytest.fixture
def tiny(tiny_source, tmp_path):
    """A private copy of the tiny dataset, to break on purpose."""
    import shutil

    target = tmp_path / "tiny"
    shutil.copytree(tiny_source, target)
    (target / ".prt-output").unlink()
    return target
