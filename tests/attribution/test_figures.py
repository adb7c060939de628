"""The two attribution figures draw what the codes say."""

from __future__ import annotations

import pandas as pd

from prt.analysis.figures import figure_bytes
from prt.attribution.analysis import codes_from
from prt.attribution.answers import answers_from_trial
from prt.attribution.figures import ALT_TEXT, attribution_figures, fig_categories, fig_scores


def test_stacked_bars_one_per_arm_and_time_each_summing_to_100(small_trial):
    codes = codes_from(answers_from_trial(small_trial, require_categories=True))
    fig = fig_categories(small_trial, codes)
    ax = fig.axes[0]
    widths = {}
    for patch in ax.patches:
        y = round(patch.get_y() + patch.get_height() / 2, 3)
        widths[y] = widths.get(y, 0) + patch.get_width()
    assert len(widths) == 6 and all(abs(w - 100) < 1e-6 for w in widths.values())
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels[0].startswith("PRT, pre") and labels[-1].startswith("Usual care, post")
    notes = [t.get_text() for t in ax.texts]
    assert "63% mind-brain" in notes  # PRT post: 19 of 30
    assert figure_bytes(fig, "png").startswith(b"\x89PNG")


def test_score_panels_per_arm(small_trial):
    codes = codes_from(answers_from_trial(small_trial, require_categories=True))
    fig = fig_scores(small_trial, codes)
    assert [ax.get_title(loc="left") for ax in fig.axes] == ["PRT (n = 10)", "Placebo (n = 10)", "Usual care (n = 10)"]
    assert set(attribution_figures(small_trial, codes)) == set(ALT_TEXT)
    assert b"<svg" in figure_bytes(fig, "svg")


def test_no_codes_draws_a_message(small_trial):
    empty = pd.DataFrame({"participant": ["1"], "timepoint": ["pre"], "slot": [1], "category": ["stress"]})
    fig = fig_scores(small_trial, empty)
    assert "No participant" in fig.axes[0].texts[0].get_text()
