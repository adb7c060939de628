"""Hand-worked scoring examples, one or more per instrument, with the arithmetic in comments."""

from __future__ import annotations

import pytest

import prt.instruments as instruments
from prt.errors import InputError
from prt.instruments import score


def _items(*codes):
    return {str(i): c for i, c in enumerate(codes, start=1)}


# ---- BPI -----------------------------------------------------------------------------------

def test_bpi_complete():
    # severity (7 + 2 + 5 + 4) / 4 = 4.5; interference (6+5+4+3+2+1+0)/7 = 3.0; average item = 5
    r = score("bpi_sf", _items(7, 2, 5, 4, 6, 5, 4, 3, 2, 1, 0))
    assert r.total == 4.5
    assert r.subscales == {"severity": 4.5, "interference": 3.0, "average_pain": 5}
    assert r.answered == 11 and not r.prorated
    assert r.band == "moderate"  # average pain 5 (Serlin 1995)


def test_bpi_interference_with_four_of_seven():
    # interference (8 + 6 + 4 + 2) / 4 = 5.0, prorated by the user guide's >= 4 of 7 rule
    r = score("bpi_sf", {"1": 3, "2": 1, "3": 2, "4": 2, "5": 8, "6": 6, "9": 4, "11": 2})
    assert r.subscales["interference"] == 5.0
    assert r.total == 2.0 and r.prorated and r.answered == 8


def test_bpi_interference_with_three_of_seven_is_not_scored():
    r = score("bpi_sf", {"1": 3, "2": 1, "3": 2, "4": 2, "5": 8, "6": 6, "9": 4})
    assert r.subscales["interference"] is None and r.total == 2.0


def test_bpi_average_pain_is_scored_when_another_severity_item_is_missing():
    # The trial's primary outcome is BPI item 5 (our "3") alone; the severity mean still needs all
    # four severity items (BPI User Guide 2009), so it is None here, and so is the total.
    r = score("bpi_sf", {"1": 3, "2": 1, "3": 2})
    assert r.subscales == {"severity": None, "interference": None, "average_pain": 2}
    assert r.total is None and r.band == "mild" and r.answered == 3 and not r.prorated
    # average pain alone
    assert score("bpi_sf", {"3": 0}).subscales["average_pain"] == 0
    # interference (4 of 7) without average pain: reported, average pain and its band None
    r = score("bpi_sf", {"1": 3, "5": 8, "6": 6, "7": 4, "8": 2})
    assert r.subscales == {"severity": None, "interference": 5.0, "average_pain": None}
    assert r.band is None and r.prorated


def test_bpi_with_nothing_scoreable_is_an_error_naming_each_rule():
    with pytest.raises(InputError) as exc:
        score("bpi_sf", {"1": 3, "2": 1, "5": 4})
    message = str(exc.value)
    assert message.startswith("bpi_sf: too few items answered to report any score (")
    assert "average_pain: 0 of 1 scored items answered" in message
    assert "interference: 1 of 7 scored items answered" in message


# ---- ODI -----------------------------------------------------------------------------------

def test_odi_fairbank_examples():
    # Fairbank & Pynsent 2000: 16 scored over all 10 sections -> 16/50 x 100 = 32%
    r = score("odi", _items(2, 2, 2, 2, 2, 2, 2, 1, 1, 0))
    assert r.total == 32.0 and r.answered == 10 and not r.prorated
    assert r.band == "moderate disability"
    # one section skipped: 16/45 x 100 = 35.555...%
    r = score("odi", {**_items(2, 2, 2, 2, 2, 2, 2, 1, 1, 0), "8": None, "10": 1})
    assert r.total == pytest.approx(100 * 16 / 45)
    assert r.answered == 9 and r.prorated


def test_odi_two_sections_skipped_is_an_error():
    with pytest.raises(InputError, match="odi: 8 of 10 scored items answered.*Fairbank"):
        score("odi", _items(1, 1, 1, 1, 1, 1, 1, 1))


def test_odi_redcap_capture_is_recoded():
    # REDCap 1-6 codes: all 3s -> 2 each -> 20/50 = 40%; the lab's (30-10)/50x100 = 40 agrees
    r = score("odi", _items(*[3] * 10), variant="redcap_1_6")
    assert r.total == 40.0 and r.variant == "redcap_1_6"
    assert score("odi", _items(*[1] * 10), variant="redcap_1_6").total == 0.0
    assert score("odi", _items(*[6] * 10), variant="redcap_1_6").total == 100.0
    with pytest.raises(InputError, match="redcap_1_6"):
        score("odi", _items(*[0] * 10), variant="redcap_1_6")
    with pytest.raises(InputError, match="item '1'.*0=first statement"):
        score("odi", _items(*[6] * 10))
    with pytest.raises(InputError, match="unknown capture variant 'x'"):
        score("odi", _items(*[1] * 10), variant="x")


# ---- PROMIS --------------------------------------------------------------------------------

def test_promis_depression_as_captured():
    r = score("promis_depression", _items(1, 2, 3, 4, 4, 3, 2, 1))
    assert r.total == 20 and r.t_score is None
    with pytest.raises(InputError, match="promis_depression item '1'.*4=Often"):
        score("promis_depression", _items(5, 1, 1, 1, 1, 1, 1, 1))


def test_promis_prorating_rounds_half_up():
    # anxiety: 5 of 8 answered, sum 13 -> 13 x 8 / 5 = 20.8 -> 21 -> T 59.4
    r = score("promis_anxiety", {"1": 3, "2": 3, "3": 3, "4": 2, "5": 2})
    assert r.total == 21 and r.prorated and r.answered == 5 and r.t_score == 59.4
    # 6 answered, sum 15 -> 15 x 8 / 6 = 20.0 exactly
    assert score("promis_anxiety", _items(3, 3, 3, 2, 2, 2)).total == 20
    # 4 answered, sum 9 -> 9 x 8 / 4 = 18
    assert score("promis_anxiety", _items(3, 3, 2, 1)).total == 18
    # anger: 3 of 5, sum 7 -> 7 x 5 / 3 = 11.67 -> 12
    assert score("promis_anger", _items(3, 2, 2)).total == 12
    # depression: 6 answered, sum 9 -> 9 x 8 / 6 = 12.0; sum 7 -> 9.33 -> 9
    assert score("promis_depression", _items(1, 1, 1, 2, 2, 2)).total == 12
    assert score("promis_depression", _items(1, 1, 1, 1, 1, 2)).total == 9


def test_promis_half_rounds_up():
    # anger 4 of 5 answered: sum 9 -> 9 x 5 / 4 = 11.25 -> 11 ; sum 10 -> 12.5 -> 13 (half up)
    assert score("promis_anger", _items(3, 2, 2, 2)).total == 11
    assert score("promis_anger", _items(3, 3, 2, 2)).total == 13


def test_promis_too_few_items():
    with pytest.raises(InputError, match="promis_anxiety: 3 of 8 .*at least 4 of 8"):
        score("promis_anxiety", _items(1, 1, 1))
    with pytest.raises(InputError, match="promis_anger: 2 of 5"):
        score("promis_anger", _items(1, 1))


def test_promis_t_scores_and_bands():
    r = score("promis_anxiety", _items(*[1] * 8))
    assert (r.total, r.t_score, r.band) == (8, 37.1, "within normal limits")
    r = score("promis_anger", _items(5, 5, 5, 5, 5))
    assert (r.total, r.t_score, r.band) == (25, 82.9, "severe")
    r = score("promis_anxiety", _items(2, 2, 2, 2, 3, 3, 3, 3))  # 20 -> 58.4 mild
    assert (r.t_score, r.band) == (58.4, "mild")


def test_promis_sleep_reversed_items():
    # items 1, 2, 8 reversed: codes 5, 5, 5 -> 1, 1, 1; others 1 -> total 8 (least disturbance)
    r = score("promis_sleep", _items(5, 5, 1, 1, 1, 1, 1, 5))
    assert r.total == 8 and r.t_score == 28.9
    # worst sleep: quality very poor (1 -> 5), not refreshing (1 -> 5), all problems very much (5)
    assert score("promis_sleep", _items(1, 1, 5, 5, 5, 5, 5, 1)).total == 40
    # mixed: 4->2, 3->3, 2,3,4,2,3, 2->4 : 2+3+2+3+4+2+3+4 = 23 -> T 53.3
    r = score("promis_sleep", _items(4, 3, 2, 3, 4, 2, 3, 2))
    assert r.total == 23 and r.t_score == 53.3


def test_promis_sleep_printed_scores_variant():
    # the paper form prints quality/refreshing/satisfied already reversed: printed 2 == option 4
    a = score("promis_sleep", _items(4, 3, 2, 3, 4, 2, 3, 2))
    b = score("promis_sleep", _items(2, 3, 2, 3, 4, 2, 3, 4), variant="printed_scores")
    assert a.total == b.total == 23


# ---- PANAS, PCS, TSK, SOPA ---------------------------------------------------------------------

def test_panas_scales():
    # order: upset hostile alert ashamed inspired nervous determined attentive afraid active
    r = score("panas_sf", _items(2, 1, 4, 1, 3, 2, 5, 4, 1, 3))
    assert r.total is None
    assert r.subscales == {"positive_affect": 4 + 3 + 5 + 4 + 3, "negative_affect": 2 + 1 + 1 + 2 + 1}
    assert r.answered == 10 and not r.prorated


def test_panas_one_scale_incomplete():
    r = score("panas_sf", {"3": 4, "5": 3, "7": 5, "8": 4, "10": 3, "1": 2})
    assert r.subscales == {"positive_affect": 19, "negative_affect": None}
    with pytest.raises(InputError, match="panas_sf: too few items"):
        score("panas_sf", {"3": 4, "1": 2})


def test_pcs_total_and_subscales():
    codes = (4, 3, 2, 1, 0, 4, 3, 2, 1, 0, 4, 3, 2)
    r = score("pcs", _items(*codes))
    assert r.total == sum(codes) == 29
    assert r.subscales == {"rumination": 2 + 1 + 0 + 4, "magnification": 4 + 3 + 2,
                           "helplessness": 4 + 3 + 2 + 1 + 0 + 3}
    assert r.band == "below clinically relevant level"
    assert score("pcs", _items(*[3] * 12, 0)).band == "clinically relevant catastrophizing"  # 36
    # item 13 skipped: the total and magnification (6, 7, 13) need every item, the other two
    # subscales are complete and reported
    r = score("pcs", _items(*codes[:12]))
    assert r.total is None and r.band is None
    assert r.subscales == {"rumination": 7, "magnification": None, "helplessness": 13}
    with pytest.raises(InputError, match=r"pcs: too few items .*total: 1 of 13 scored items answered"):
        score("pcs", {"1": 2})


def test_tsk11_and_sopa():
    assert score("tsk11", _items(1, 2, 3, 4, 1, 2, 3, 4, 1, 2, 3)).total == 26
    with pytest.raises(InputError, match="tsk11 item '5'.*4=strongly agree"):
        score("tsk11", _items(1, 2, 3, 4, 0, 2, 3, 4, 1, 2, 3))
    assert score("sopa_emotion", {"1": 4, "2": 5}).total == 9
    with pytest.raises(InputError, match="sopa_emotion: 1 of 2"):
        score("sopa_emotion", {"1": 4})


# ---- single items ------------------------------------------------------------------------------

def test_single_items():
    assert score("pgic", {"1": 6}).total == 6
    assert score("ceq", {"1": 72.5}).total == 72.5
    assert score("tx_satisfaction", {1: 88}).total == 88
    assert score("pain_vas", {"1": 0}).total == 0
    r = score("pain_nrs", {"1": 7})
    assert (r.total, r.band) == (7, "severe")
    with pytest.raises(InputError, match="ceq item '1'.*from 0 to 100"):
        score("ceq", {"1": 100.5})
    with pytest.raises(InputError, match="pain_nrs item '1'"):
        score("pain_nrs", {"1": 3.5})
    with pytest.raises(InputError, match="pgic: 0 of 1"):
        score("pgic", {})


def test_ipq_causes_counts_answers():
    r = score("ipq_causes", {"1": "stress at work", "2": "  ", "3": "old injury"})
    assert r.total is None and r.answered == 2 and r.subscales == {} and not r.prorated
    assert score("ipq_causes", {}).answered == 0
    with pytest.raises(InputError, match="ipq_causes item '1': expected free text"):
        score("ipq_causes", {"1": 3})


# ---- input validation ----------------------------------------------------------------------------

@pytest.mark.parametrize("responses, pattern", [
    ({"11": 1}, r"odi: unknown item '11'; items are 1, 2"),
    ({"1": True}, r"odi item '1': true/false"),
    ({"1": "abc"}, r"odi item '1': not a number"),
    ({"1": [1]}, r"odi item '1': not a number"),
    ({"1": float("inf")}, r"odi item '1': not a finite number"),
    ({"1": 2.5}, r"odi item '1': expected one of its response codes"),
    ([1, 2], r"odi: responses must be an object"),
    ({1: 1, "1": 2}, r"odi item '1': given twice"),
    # a name from the input is quoted on one line and shortened (found by test_fuzz)
    ({"0\n0": 1}, r"odi: unknown item '0\\n0'; items are"),
    ({"9" * 40: 1}, r"odi: unknown item '9{24}'\.\.\.; items are"),
])
def test_bad_input_names_item_and_what_it_allows(responses, pattern):
    with pytest.raises(InputError, match=pattern):
        score("odi", responses)


def test_int_keys_numeric_strings_and_float_codes_are_accepted():
    a = score("tsk11", {i: 2 for i in range(1, 12)})
    b = score("tsk11", {str(i): "2" for i in range(1, 12)})
    c = score("tsk11", {str(i): 2.0 for i in range(1, 12)})
    assert a.total == b.total == c.total == 22
    assert isinstance(c.total, int)


def test_error_messages_do_not_echo_the_value():
    with pytest.raises(InputError) as exc:
        score("pain_vas", {"1": 123.456})
    assert "123.456" not in str(exc.value)


# ---- every single-item score stands on its own ---------------------------------------------------

SINGLE_ITEM_SCORES = [(inst_id, name, rule.items[0])
                      for inst_id in instruments.ids()
                      for name, rule in [("total", instruments.get(inst_id).scoring),
                                         *instruments.get(inst_id).subscale_scoring.items()]
                      if rule.method == "item"]


def test_the_trial_single_item_scores_are_all_found():
    assert {(i, n) for i, n, _ in SINGLE_ITEM_SCORES} == {
        ("bpi_sf", "average_pain"), ("pain_nrs", "total"), ("pain_vas", "total"), ("ceq", "total"),
        ("pgic", "total"), ("tx_satisfaction", "total")}


@pytest.mark.parametrize("inst_id, name, number", SINGLE_ITEM_SCORES)
def test_single_item_score_needs_only_its_item(inst_id, name, number):
    # Answering only that item reports it, whatever the form's other items (none answered here).
    item = instruments.get(inst_id).item(number)
    values = sorted(item.options) if item.kind == "choice" else [item.minimum, 37.5, item.maximum]
    for value in values:
        r = score(inst_id, {number: value})
        got = r.total if name == "total" else r.subscales[name]
        assert got == value and r.answered == 1 and not r.prorated
    # ... and a blank answer (REDCap's empty cell) is missing, not zero
    with pytest.raises(InputError, match=f"{inst_id}"):
        score(inst_id, {number: ""})


def test_numeric_text_is_plain_ascii_decimal():
    # Python's int() would read "1_0" as 10 and "\u0661" (Arabic-Indic one) as 1; a form code is
    # written in ASCII digits, so those are refused rather than silently reinterpreted.
    assert score("ceq", {"1": " 37.5 "}).total == 37.5
    assert score("ceq", {"1": "+40"}).total == 40
    assert score("ceq", {"1": "5e1"}).total == 50.0
    for text in ("1_0", "\u0661", "0x10", "nan", "inf", "1e999", "--3", "3 4"):
        with pytest.raises(InputError, match=r"ceq item '1': not (a|a finite) number"):
            score("ceq", {"1": text})


def test_numpy_numbers_from_a_pandas_row_are_accepted():
    import numpy as np

    assert score("pgic", {"1": np.int64(6)}).total == 6
    assert score("ceq", {"1": np.float64(40.5)}).total == 40.5
    with pytest.raises(InputError, match="true/false"):
        score("pgic", {"1": np.bool_(True)})


def test_a_huge_integer_is_out_of_range_not_a_crash():
    with pytest.raises(InputError, match="ceq item '1': expected a number from 0 to 100"):
        score("ceq", {"1": 10 ** 400})
    with pytest.raises(InputError, match="ceq item '1'"):
        score("ceq", {"1": "9" * 5000})
