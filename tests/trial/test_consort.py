"""CONSORT 2010: the shape of Ashar et al. 2022 Figure 1 from records, sums enforced, files drawn."""

from __future__ import annotations

import dataclasses
import itertools

import pytest

from prt.errors import InputError
from prt.trial.consort import ConsortCounts, ParticipantFlow, consort_counts, diagram_text, write_consort
from prt.trial.eligibility import Enrolment, ScreeningLog, ScreeningResult

# Paper: 151 randomized, 50 PRT, 51 open-label placebo, 50 usual care; ITT, every randomized
# participant analysed. Screening and loss numbers below are our own choice.
INELIGIBLE = [(60, ("pain_intensity_below_4",)), (25, ("leg_pain_not_exceeded",)), (15, ("mri_unsafe",)),
              (10, ("age_out_of_range", "mri_unsafe"))]
ARM_SIZES = {"prt": 50, "placebo": 51, "usual_care": 50}


def figure1_records():
    log = ScreeningLog()
    ids = (f"s{i:04d}" for i in itertools.count(1))

    def add(status, reasons=()):
        pid = next(ids)
        log.screenings[pid] = ScreeningResult(pid, status, reasons)
        return pid

    for n, reasons in INELIGIBLE:
        for _ in range(n):
            add("ineligible", reasons)
    for _ in range(12):
        add("incomplete")
    for _ in range(20):
        pid = add("eligible")
        log.enrolments[pid] = Enrolment(pid, False, "declined")
    for _ in range(7):
        pid = add("eligible")
        log.enrolments[pid] = Enrolment(pid, False, "scheduling conflict")
    allocations, flows = {}, []
    plan = {"prt": {"not_received": 1, "lost": 2, "discontinued": 1}, "placebo": {"lost": 3}, "usual_care": {"lost": 4}}
    for arm, n in ARM_SIZES.items():
        p = plan[arm]
        for j in range(n):
            pid = add("eligible")
            log.enrolments[pid] = Enrolment(pid, True)
            allocations[pid] = arm
            flow = ParticipantFlow(pid)
            if j < p.get("not_received", 0):
                flow = dataclasses.replace(flow, received=False, not_received_reason="withdrew before treatment")
            if j >= n - p.get("lost", 0):
                flow = dataclasses.replace(flow, follow_up="lost", follow_up_reason="no response")
            elif j >= n - p.get("lost", 0) - p.get("discontinued", 0):
                flow = dataclasses.replace(flow, follow_up="discontinued", follow_up_reason="time commitment")
            flows.append(flow)
    return log, allocations, flows


@pytest.fixture(scope="module")
def counts():
    return consort_counts(*figure1_records())


def test_figure1_boxes_add_up(counts):
    assert counts.randomized == 151
    assert [(a.arm, a.allocated, a.analysed) for a in counts.arms] == [
        ("prt", 50, 50), ("placebo", 51, 51), ("usual_care", 50, 50)]
    assert counts.not_eligible == 110 and counts.incomplete == 12 and counts.declined == 20
    assert counts.other == {"scheduling conflict": 7}
    assert counts.excluded == 149 and counts.assessed == 300 == counts.excluded + counts.randomized
    assert counts.ineligible_reasons == {"pain_intensity_below_4": 60, "leg_pain_not_exceeded": 25,
                                         "mri_unsafe": 25, "age_out_of_range": 10}
    prt = counts.arms[0]
    assert (prt.received, prt.not_received, prt.lost, prt.discontinued) == (
        49, {"withdrew before treatment": 1}, {"no response": 2}, {"time commitment": 1})
    assert counts.arms[2].lost == {"no response": 4}


def test_diagram_text(counts):
    text = diagram_text(counts)
    assert text["assessed"] == ["Assessed for eligibility (n=300)"]
    assert text["randomized"] == ["Randomized (n=151)"]
    assert text["excluded"][:3] == ["Excluded (n=149)", "  Not meeting inclusion criteria (n=110)",
                                    "    \u2022 Average pain below 4/10 (n=60)"]
    assert "  Declined to participate (n=20)" in text["excluded"]
    assert text["arms"][1]["allocation"][0] == "Allocated to Open-label placebo (n=51)"
    assert text["arms"][0]["allocation"][1:3] == ["  Received allocated intervention (n=49)",
                                                  "  Did not receive allocated intervention (n=1)"]
    assert text["arms"][2]["follow_up"][0] == "Lost to follow-up (n=4)"
    assert [a["analysis"][0] for a in text["arms"]] == ["Analysed (n=50)", "Analysed (n=51)", "Analysed (n=50)"]


def test_svg_and_png_are_written(counts, tmp_path):
    paths = write_consort(counts, tmp_path / "consort", title="PRT trial")
    svg, png = paths
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 20_000
    text = svg.read_text()
    for needle in ("Assessed for eligibility (n=300)", "Randomized (n=151)", "Analysed (n=51)"):
        assert needle in text
    write_consort(counts, tmp_path / "again", formats=("svg",), title="PRT trial")
    assert (tmp_path / "again.svg").read_text() == text          # deterministic


def test_counts_that_do_not_add_up_are_refused(counts):
    spec = counts.to_dict()
    assert ConsortCounts.from_dict(spec).to_dict() == spec
    broken = dict(spec, assessed=spec["assessed"] + 1)
    with pytest.raises(InputError, match="assessed 301"):
        ConsortCounts.from_dict(broken)
    arms = [dict(a) for a in spec["arms"]]
    arms[0]["analysed"] = 49
    with pytest.raises(InputError, match="prt: allocated 50 != analysed 49"):
        ConsortCounts.from_dict(dict(spec, arms=arms))


def test_contradicting_records_are_named():
    log, allocations, flows = figure1_records()
    with pytest.raises(InputError, match="'s0001'.*randomized but latest screening is 'ineligible'"):
        consort_counts(log, {**allocations, "s0001": "prt"}, flows)
    with pytest.raises(InputError, match="no follow-up record"):
        consort_counts(log, allocations, flows[1:])
    with pytest.raises(InputError, match="'ghost'.*never randomized"):
        consort_counts(log, allocations, flows + [ParticipantFlow("ghost")])
    with pytest.raises(InputError, match="'x'.*no reason"):
        ParticipantFlow("x", follow_up="lost")
    with pytest.raises(InputError, match="'x'.*follow_up"):
        ParticipantFlow("x", follow_up="gone")
