"""Property tests: any valid responses score inside the declared range; reversal is symmetric;
missing-item rules hold exactly."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import prt.instruments as instruments
from prt.errors import InputError
from prt.instruments import score

SCORED = [i for i in instruments.ids() if instruments.get(i).scoring.method != "none"
          or instruments.get(i).subscales]


def _value(item):
    if item.kind == "choice":
        return st.sampled_from(sorted(item.options))
    if item.kind == "numeric":
        return st.floats(item.minimum, item.maximum, allow_nan=False)
    return st.text(min_size=1).filter(str.strip)


@st.composite
def complete(draw, inst_id):
    inst = instruments.get(inst_id)
    return {item.number: draw(_value(item)) for item in inst.items}


@st.composite
def partial(draw, inst_id):
    inst = instruments.get(inst_id)
    full = draw(complete(inst_id))
    keep = draw(st.lists(st.sampled_from(inst.item_numbers), unique=True))
    return {n: full[n] for n in keep}


def _within(value, rng):
    lo, hi = rng
    return lo - 1e-9 <= value <= hi + 1e-9


@pytest.mark.parametrize("inst_id", instruments.ids())
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_complete_responses_score_within_declared_ranges(inst_id, data):
    inst = instruments.get(inst_id)
    result = score(inst_id, data.draw(complete(inst_id)))
    assert result.answered == len(inst.items)
    assert not result.prorated
    if inst.score_range is None:
        assert result.total is None
    else:
        assert _within(result.total, inst.score_range)
    for name, value in result.subscales.items():
        assert _within(value, inst.subscale_scoring[name].range)
    if inst.t_scores is not None:
        assert result.t_score == inst.t_scores.table[result.total]


@pytest.mark.parametrize("inst_id", instruments.ids())
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_partial_responses_follow_the_missing_rule(inst_id, data):
    inst = instruments.get(inst_id)
    responses = data.draw(partial(inst_id))

    def enough(rule):  # each score's own published rule, independently of the others
        return sum(1 for n in rule.items if n in responses) >= max(rule.missing.min_answered, 1)

    total_ok = inst.scoring.method != "none" and enough(inst.scoring)
    subs_ok = {name: enough(rule) for name, rule in inst.subscale_scoring.items()}
    declared = inst.scoring.method != "none" or bool(inst.subscales)
    if declared and not total_ok and not any(subs_ok.values()):
        with pytest.raises(InputError, match=inst_id):
            score(inst_id, responses)
        return
    result = score(inst_id, responses)
    assert result.answered == len(responses)
    assert (result.total is not None) == total_ok
    if total_ok:
        assert _within(result.total, inst.score_range)
    for name, ok in subs_ok.items():
        value = result.subscales[name]
        assert (value is not None) == ok
        if ok:
            assert _within(value, inst.subscale_scoring[name].range)


def _flip(inst, responses):
    """Mirror every choice answer (lowest <-> highest code)."""
    return {n: inst.item(n).reverse(v) for n, v in responses.items()}


@pytest.mark.parametrize("inst_id", ["promis_sleep", "pcs", "tsk11", "promis_anxiety", "odi",
                                     "panas_sf", "bpi_sf"])
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_mirroring_every_answer_mirrors_the_score(inst_id, data):
    # Reverse-scoring symmetry: mirror all answers and a sum/mean/percent maps to lo + hi - score.
    inst = instruments.get(inst_id)
    responses = data.draw(complete(inst_id))
    a, b = score(inst_id, responses), score(inst_id, _flip(inst, responses))
    if inst.score_range is not None:
        lo, hi = inst.score_range
        assert math.isclose(a.total + b.total, lo + hi, abs_tol=1e-9)
    for name, rule in inst.subscale_scoring.items():
        lo, hi = rule.range
        assert math.isclose(a.subscales[name] + b.subscales[name], lo + hi, abs_tol=1e-9)


@settings(max_examples=100, deadline=None)
@given(data=st.data())
def test_sleep_reversed_item_moves_score_the_other_way(data):
    # Raising a reversed item's code lowers the disturbance score by the same step.
    responses = data.draw(complete("promis_sleep"))
    item = data.draw(st.sampled_from(["1", "2", "8"]))
    plain = data.draw(st.sampled_from(["3", "4", "5", "6", "7"]))
    for number, sign in ((item, -1), (plain, +1)):
        if responses[number] < 5:
            up = {**responses, number: responses[number] + 1}
            assert score("promis_sleep", up).total - score("promis_sleep", responses).total == sign


@settings(max_examples=100, deadline=None)
@given(codes=st.lists(st.integers(1, 5), min_size=4, max_size=8))
def test_promis_prorated_score_is_rounded_proportional_sum(codes):
    r = score("promis_anxiety", {str(i + 1): c for i, c in enumerate(codes)})
    exact = sum(codes) * 8 / len(codes)
    assert abs(r.total - exact) <= 0.5
    assert r.prorated == (len(codes) < 8)
    assert isinstance(r.total, int)


@settings(max_examples=100, deadline=None)
@given(codes=st.lists(st.integers(0, 5), min_size=9, max_size=10))
def test_odi_percent_of_answered_sections(codes):
    r = score("odi", {str(i + 1): c for i, c in enumerate(codes)})
    assert math.isclose(r.total, sum(codes) / (5 * len(codes)) * 100)
