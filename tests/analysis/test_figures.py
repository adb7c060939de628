"""Figures: drawn from the right numbers, valid PNG and SVG, and empty input gives a readable figure."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import numpy as np
import pytest
from matplotlib.collections import LineCollection

from prt.analysis import figures
from prt.analysis.figures import (
    fig_forest,
    fig_pain_over_time,
    fig_responders,
    fig_trajectories,
    figure_bytes,
    save_figure,
)
from prt.data import ARMS
from tests.analysis.test_tables import sample_results, sample_trial, tiny_trial

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _svg_root(data: bytes):
    root = ET.fromstring(data)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    return root


def test_pain_over_time_plots_means_with_standard_errors():
    results = sample_results()
    fig = fig_pain_over_time(results)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["Baseline", "Post", "1 mo", "2 mo", "3 mo", "6 mo", "12 mo"]
    containers = ax.containers
    assert len(containers) == 3
    for arm, container in zip(ARMS, containers):
        line, caps, (bars,) = container
        expected = [r for r in results["outcomes"] if r["outcome"] == "pain_intensity" and r["group"] == arm]
        assert np.allclose(line.get_ydata(), [r["mean"] for r in expected])
        segments = bars.get_segments()
        half = [abs(s[1][1] - s[0][1]) / 2 for s in segments]
        assert np.allclose(half, [r["sd"] / np.sqrt(r["n"]) for r in expected])  # SE = SD / sqrt(n)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["PRT", "Placebo", "Usual care"]


def test_pain_over_time_uses_pre_when_there_is_no_baseline():
    results = {"outcomes": [{"outcome": "pain_intensity", "timepoint": t, "group": "prt", "mean": m, "sd": 1.0, "n": 4}
                            for t, m in (("pre", 5.0), ("post", 2.0))]}
    ax = fig_pain_over_time(results).axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["Pre", "Post"]


def test_responders_bars_are_percent_of_randomized():
    results = sample_results()
    fig = fig_responders(results)
    assert len(fig.axes) == 3  # one panel per criterion
    titles = [ax.get_title(loc="left") for ax in fig.axes]
    assert titles == ["Pain reduced ≥30%", "Pain reduced ≥50%", "Pain-free (0 or 1 of 10)"]
    pain_free = fig.axes[2]
    heights = [p.get_height() for p in pain_free.patches]
    # bars: PRT post, PRT 12mo, placebo post, placebo 12mo, usual care post, usual care 12mo
    assert np.allclose(heights, [66.0, 50.0, 100 * 10 / 51, 100 * 12 / 51, 10.0, 18.0])


def test_trajectories_draw_one_line_per_participant_and_the_arm_mean():
    trial = tiny_trial()
    fig = fig_trajectories(trial)
    assert len(fig.axes) == 3
    prt_ax = fig.axes[0]
    collection = [c for c in prt_ax.collections if isinstance(c, LineCollection)][0]
    segments = collection.get_segments()
    assert len(segments) == 2  # a1 (baseline 5, post 1) and a2 (baseline 3 only)
    assert sorted(len(s) for s in segments) == [1, 2]
    mean_line = [line for line in prt_ax.lines if line.get_linewidth() > 2][-1]
    assert np.allclose(mean_line.get_ydata(), [4.0, 1.0])  # baseline mean (5+3)/2, post 1
    assert prt_ax.get_title(loc="left") == "PRT (n = 2)"


def test_trajectories_have_no_participant_ids():
    trial = sample_trial()
    svg = figure_bytes(fig_trajectories(trial), "svg").decode()
    assert "SECRET" not in svg


def test_forest_has_one_point_per_effect_and_panel_per_comparison():
    results = sample_results()
    fig = fig_forest(results)
    assert [ax.get_title(loc="left") for ax in fig.axes] == ["PRT vs placebo", "PRT vs usual care", "Placebo vs usual care"]
    for ax, comparison in zip(fig.axes, ("prt_vs_placebo", "prt_vs_usual_care", "placebo_vs_usual_care")):
        points = ax.lines[0].get_ydata()
        drawn = np.asarray(ax.lines[0].get_xdata(), dtype=float)
        expected = [r["g"] for r in results["effects"] if r["comparison"] == comparison]
        assert sorted(drawn[~np.isnan(drawn)]) == sorted(expected)
        assert len(points) == 4  # pain post, pain 12mo, ODI post, TSK post
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert labels == ["Pain intensity, Post", "12 mo", "Oswestry Disability Index, Post", "Tampa Scale of Kinesiophobia, Post"]


@pytest.mark.parametrize("make", [fig_pain_over_time, fig_responders, fig_forest])
def test_empty_results_give_a_figure_that_says_so(make):
    for results in ({}, {"outcomes": [], "responders": [], "effects": []}):
        fig = make(results)
        texts = [t.get_text() for ax in fig.axes for t in ax.texts]
        assert any(text.startswith("No ") for text in texts)
        assert figure_bytes(fig, "png").startswith(PNG_MAGIC)


def test_none_values_do_not_break_figures():
    results = sample_results()
    for r in results["outcomes"][:3]:
        r["sd"] = None
        r["mean"] = None
    for r in results["responders"][:2]:
        r["responders"] = None
    results["effects"].append({"outcome": "pcs", "timepoint": "post", "comparison": "prt_vs_placebo",
                               "g": None, "se": None, "ci_low": None, "ci_high": None, "p": None})
    for make in (fig_pain_over_time, fig_responders, fig_forest):
        assert figure_bytes(make(results), "png").startswith(PNG_MAGIC)


def test_save_figure_writes_valid_png_and_svg(tmp_path):
    png, svg, svg_bytes = save_figure(fig_pain_over_time(sample_results()), tmp_path, "fig_pain_over_time")
    assert png.read_bytes().startswith(PNG_MAGIC)
    assert svg.read_bytes() == svg_bytes
    root = _svg_root(svg_bytes)
    assert float(root.get("width").removesuffix("pt")) > 100
    text = svg_bytes.decode()
    assert "http://" not in text.replace("http://www.w3.org/", "").replace("http://purl.org/dc/", "").replace(
        "http://creativecommons.org/", "").replace("http://matplotlib.org/", "")  # no external resources
    assert "@font-face" not in text and "<text" not in text  # text as paths: no font needed


def test_figures_are_deterministic():
    results = sample_results()
    assert figure_bytes(fig_forest(results), "svg") == figure_bytes(fig_forest(results), "svg")


def test_palette_is_okabe_ito():
    okabe_ito = {"#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7", "#000000"}
    assert set(figures.ARM_COLOURS.values()) <= okabe_ito
    assert len(set(figures.ARM_MARKERS.values())) == 3 and len(set(figures.ARM_LINESTYLES.values())) == 3
