"""The attribution rules: coded on submission by prt.attribution's coder, queued below its
threshold or when it cannot code, a coder's code wins and is audited old -> new, the score and
its change, a configured model file (one that loads, one that does not)."""

from __future__ import annotations

import json

import pytest
from django.db import IntegrityError, transaction

from tests.web.attributions.common import AFTER, BEFORE, complete_pre, post, submit_causes


def codes_of(submission):
    from prt.web.attributions.models import AttributionCode

    return {c.slot: c for c in AttributionCode.objects.filter(submission=submission)}


def events_of(code):
    from prt.web.audit.models import AuditEvent

    return list(AuditEvent.objects.filter(model="attributions.attributioncode", object_id=str(code.pk)))


def test_each_answer_is_coded_when_the_submission_is_saved(attrib):
    from prt.attribution import LemmaCoder

    submission = submit_causes(attrib.b, "pre", {"1": "stress in my life", "2": "injury lifting boxes",
                                                 "3": "a car accident"})
    codes = codes_of(submission)
    assert sorted(codes) == [1, 2, 3]
    # the same answers through prt.attribution's lemma coder: the platform stores its decisions
    expected = LemmaCoder().code(["stress in my life", "injury lifting boxes", "a car accident"])
    for slot, row in zip((1, 2, 3), expected.to_dict("records")):
        code = codes[slot]
        assert (code.category, code.mind_brain, code.automatic_category) == (row["category"], row["mind_brain"],
                                                                              row["category"])
        assert code.confidence == pytest.approx(row["confidence"]) == code.automatic_confidence
        assert code.state == ("queued" if row["needs_review"] else "coded")
        assert (code.source, code.decided_by, code.coder, code.rule) == ("automatic", None, "lemma", "lemma")
    assert (codes[1].category, codes[1].mind_brain, codes[1].state) == ("stress", True, "coded")
    assert (codes[2].category, codes[2].state, codes[2].confidence) == ("injury", "queued", 0.5)  # below 0.6


def test_every_code_is_audited_without_the_answer_s_words(attrib):
    submission = submit_causes(attrib.b, "pre", BEFORE)
    for code in codes_of(submission).values():
        (event,) = events_of(code)
        assert (event.action, event.actor, event.reason) == ("create", None, "coded automatically on submission")
        assert event.changes["category"] == [None, code.category]
        assert event.changes["state"] == [None, code.state]
        text = json.dumps(event.changes)
        assert not any(words in text for words in BEFORE.values())
        assert code.text_sha256 in text


def test_only_the_causal_item_is_coded_and_skipped_items_are_not(attrib):
    from prt.web.attributions.models import AttributionCode
    from prt.web.questionnaires import services

    from tests.web.attributions.common import minimal_answers

    import uuid

    services.submit(attrib.b, instrument_id="odi", event="pre", client_uuid=uuid.uuid4(),
                    answers=minimal_answers("odi"), channel="api", actor=None)
    assert not AttributionCode.objects.exists()
    submission = submit_causes(attrib.b, "pre", {"1": "stress", "2": "   ", "3": None})
    assert sorted(codes_of(submission)) == [1]
    empty = submit_causes(attrib.a, "pre", {})
    assert codes_of(empty) == {}


@pytest.mark.parametrize("answer, note", [
    ("123", "the answer has no words"),
    ("--", "the answer has no words"),
    ("back\x07pain", "the answer holds a control character"),
    ("x" * 2001, "the answer is longer than 2000 characters"),
])
def test_an_answer_the_coder_refuses_is_queued_with_the_reason_never_a_silent_other(attrib, answer, note):
    submission = submit_causes(attrib.b, "pre", {"1": answer, "2": "stress"})
    codes = codes_of(submission)
    bad = codes[1]
    assert (bad.state, bad.category, bad.mind_brain, bad.automatic_category, bad.rule) == (
        "queued", None, None, None, "refused")
    assert bad.note.startswith(note)
    assert codes[2].category == "stress"


def test_a_dont_know_is_other_by_rule_as_the_study_coded_it(attrib):
    code = codes_of(submit_causes(attrib.b, "pre", {"1": "???"}))[1]
    assert (code.category, code.rule, code.state) == ("other", "dont_know", "coded")


def test_a_retried_submission_is_coded_once(attrib):
    import uuid

    from prt.web.attributions.models import AttributionCode
    from prt.web.questionnaires import services

    key = uuid.uuid4()
    for _ in range(2):
        services.submit(attrib.b, instrument_id="ipq_causes", event="pre", client_uuid=key, answers=BEFORE,
                        channel="api", actor=None)
    assert AttributionCode.objects.count() == 3


def test_the_coder_s_code_wins_and_keeps_the_automatic_one(attrib):
    from prt.web.attributions import services
    from prt.web.attributions.services import REVIEW_REASON

    code = codes_of(submit_causes(attrib.b, "pre", BEFORE))[3]  # old sports injury: activity, queued
    assert (code.category, code.state) == ("activity", "queued")
    done = services.review(code, "injury", actor=attrib.rater, seen=code.version)
    row = done.code
    assert done.outcome == "reviewed"
    assert (row.category, row.mind_brain, row.confidence, row.source, row.state, row.decided_by) == (
        "injury", False, 1.0, "human", "reviewed", attrib.rater)
    assert (row.automatic_category, row.automatic_confidence) == ("activity", 0.5)
    create, update = events_of(row)
    assert (update.action, update.actor, update.reason) == ("update", attrib.rater, REVIEW_REASON)
    assert update.changes["category"] == ["activity", "injury"]
    assert update.changes["source"] == ["automatic", "human"]
    assert update.changes["state"] == ["queued", "reviewed"]
    assert update.changes["decided_by"] == [None, attrib.rater.pk]
    # a mind-brain code flips the flag with it
    row = services.review(row, "stress", actor=attrib.rater, reason="re-read: work stress", seen=row.version).code
    assert (row.category, row.mind_brain) == ("stress", True)
    assert events_of(row)[-1].changes["mind_brain"] == [False, True]


def test_a_confident_code_may_be_overruled_too(attrib):
    from prt.web.attributions import services

    code = codes_of(submit_causes(attrib.b, "pre", BEFORE))[1]  # a car accident: injury, coded
    assert code.state == "coded"
    row = services.review(code, "negligence", actor=attrib.rater, reason="the other driver's fault").code
    assert (row.category, row.state) == ("negligence", "reviewed")
    assert events_of(row)[-1].reason == "the other driver's fault"


def test_changing_a_human_code_needs_a_reason_and_an_equal_one_writes_nothing(attrib):
    from prt.web.attributions import services
    from prt.web.errors import Refused

    code = codes_of(submit_causes(attrib.b, "pre", BEFORE))[2]
    row = services.review(code, "injury", actor=attrib.rater).code
    with pytest.raises(Refused) as refused:
        services.review(row, "activity", actor=attrib.rater, reason="  ")
    assert refused.value.field == "reason"
    assert services.review(row, "injury", actor=attrib.rater).outcome == "unchanged"
    assert len(events_of(row)) == 2
    row.refresh_from_db()
    assert row.category == "injury"


def test_a_review_of_a_code_changed_since_is_refused(attrib):
    from prt.web.attributions import services
    from prt.web.errors import Refused

    code = codes_of(submit_causes(attrib.b, "pre", BEFORE))[2]
    seen = code.version
    services.review(code, "injury", actor=attrib.rater, seen=seen)
    with pytest.raises(Refused) as refused:
        services.review(code, "activity", actor=attrib.rater, reason="second coder", seen=seen)
    assert (refused.value.field, refused.value.status) == ("version", 409)


@pytest.mark.parametrize("category", ["", "Stress", "psych", "mind-brain", None, 3, "other "])
def test_a_category_outside_the_scheme_s_ids_is_refused(attrib, category):
    from prt.web.attributions import services
    from prt.web.errors import Refused

    code = codes_of(submit_causes(attrib.b, "pre", BEFORE))[2]
    with pytest.raises(Refused) as refused:
        services.review(code, category, actor=attrib.rater)
    assert refused.value.field == "category" and "expected one of activity, age" in refused.value.message
    code.refresh_from_db()
    assert code.state == "queued" and len(events_of(code)) == 1


def test_the_database_keeps_a_human_code_a_review(attrib):
    from prt.web.attributions.models import AttributionCode

    code = codes_of(submit_causes(attrib.b, "pre", BEFORE))[2]
    for changes in ({"source": "human"},  # no reviewer, not reviewed
                    {"category": "not-a-category"},
                    {"state": "coded", "category": None, "mind_brain": None},
                    {"confidence": 1.5}):
        with pytest.raises(IntegrityError), transaction.atomic():
            AttributionCode.objects.filter(pk=code.pk).update(**changes)


def test_scores_and_change_follow_the_study_s_rule(attrib, clock):
    from prt.web.attributions import services

    submission = post(attrib.b, clock)
    pre, post_ = services.timepoints(attrib.b)
    assert (pre.event, post_.event) == ("pre", "post")
    assert [a.text for a in pre.answers] == list(BEFORE.values())
    assert [a.text for a in post_.answers] == list(AFTER.values())
    assert (pre.score, post_.score) == (0, 2)
    assert (pre.queued, post_.queued) == (2, 0)
    # a coder's code changes the score: "degenerated discs" recoded as brain (for the test's sake)
    services.review(codes_of(submission)[3], "brain", actor=attrib.rater)
    assert services.timepoints(attrib.b)[1].score == 3


def test_no_score_unless_all_three_answers_are_coded(attrib):
    from prt.web.attributions import services

    submit_causes(attrib.b, "pre", {"1": "stress", "2": "anxiety"})
    (pre, post_) = services.timepoints(attrib.b)
    assert (pre.score, post_.submission, post_.score) == (None, None, None)
    submit_causes(attrib.a, "pre", {"1": "stress", "2": "anxiety", "3": "123"})
    assert services.timepoints(attrib.a)[0].score is None  # one answer awaits a coder


def test_the_queue_is_the_coder_s_sites_in_a_blind_order(attrib):
    from prt.web.attributions import services

    mine = list(codes_of(submit_causes(attrib.b, "pre", BEFORE)).values())
    mine += list(codes_of(submit_causes(attrib.a, "pre", {"1": "123", "2": "sitting all day at work"})).values())
    london = codes_of(submit_causes(attrib.c, "pre", {"1": "old sports injury"}))[1]
    rows, total = services.queue([attrib.world.site1.pk])
    queued = [c for c in mine if c.state == "queued"]
    assert total == len(queued) == 4 and london.pk not in {r.pk for r in rows}
    assert [r.pk for r in rows] == sorted((c.pk for c in queued), key=services.blind_order)
    assert [r.pk for r in services.queue([attrib.world.site2.pk])[0]] == [london.pk]
    services.review(rows[0], "injury", actor=attrib.rater)
    assert services.queue([attrib.world.site1.pk])[1] == 3
    assert [r.pk for r in services.reviewed_by(attrib.rater, [attrib.world.site1.pk])] == [rows[0].pk]


def test_uncoded_submissions_are_coded_once_by_the_backfill(attrib):
    from django.core.management import call_command

    from prt.web.attributions import services
    from prt.web.attributions.models import AttributionCode

    submit_causes(attrib.b, "pre", BEFORE)
    AttributionCode.objects.all().delete()  # as before the app existed
    assert services.code_uncoded([attrib.world.site2.pk]) == 0
    assert services.code_uncoded() == 3
    assert services.code_uncoded() == 0
    AttributionCode.objects.all().delete()
    import io

    out = io.StringIO()
    call_command("code_attributions", stdout=out)
    assert out.getvalue().strip() == "3 answers coded"


# ------------------------------------------------------------------------------------ a configured model file
@pytest.fixture
def ngram_model(tmp_path):
    """A small n-gram coder trained here (prt.attribution.train) and saved as a model file."""
    from prt.attribution import save_model, train

    texts = ["stress at work", "work stress", "stressful job", "anxiety", "worry", "depression", "fear",
             "a car accident", "a fall", "injury", "lifting injury", "sports injury",
             "degenerated discs", "herniated disc", "arthritis of the spine", "bulging disc"]
    categories = ["stress"] * 3 + ["psychological"] * 4 + ["injury"] * 5 + ["spinal_condition"] * 4
    return save_model(train("ngram", texts, categories), tmp_path / "coder.npz")


def test_a_configured_model_codes_and_is_recorded_by_its_sha256(attrib, settings, ngram_model):
    import hashlib

    from prt.attribution import load_model

    settings.PRT_ATTRIBUTION_MODEL = ngram_model
    codes = codes_of(submit_causes(attrib.b, "pre", {"1": "job stress", "2": "slipped disc"}))
    expected = load_model(ngram_model).code(["job stress", "slipped disc"])
    digest = hashlib.sha256(ngram_model.read_bytes()).hexdigest()
    for slot, row in zip((1, 2), expected.to_dict("records")):
        assert codes[slot].coder == f"ngram model sha256:{digest}"
        assert (codes[slot].category, codes[slot].rule) == (row["category"], "model")
        assert codes[slot].state == ("queued" if row["needs_review"] else "coded")


def test_a_model_that_fails_to_load_queues_every_answer_and_fails_the_check(attrib, settings, tmp_path, caplog):
    from django.core.checks import run_checks

    broken = tmp_path / "broken.npz"
    broken.write_text("not a model")
    settings.PRT_ATTRIBUTION_MODEL = broken
    submission = submit_causes(attrib.b, "pre", BEFORE)  # the participant's submission is kept
    for code in codes_of(submission).values():
        assert (code.state, code.category, code.coder, code.rule) == ("queued", None, "none", "refused")
        assert code.note.startswith(f"automatic coder unavailable: model file {broken}: ")
    errors = [e for e in run_checks() if e.id == "attributions.E001"]
    assert len(errors) == 1 and str(broken) in errors[0].msg
    assert not any(words in caplog.text for words in BEFORE.values())
    settings.PRT_ATTRIBUTION_MODEL = tmp_path / "missing.npz"
    assert "not found" in [e for e in run_checks() if e.id == "attributions.E001"][0].msg


def test_no_model_no_check_error(settings):
    from django.core.checks import run_checks

    settings.PRT_ATTRIBUTION_MODEL = None
    assert not [e for e in run_checks() if e.id.startswith("attributions.")]


def test_the_setting_is_read_from_the_environment(tmp_path):
    from prt.web import config

    assert config.attribution_model({}) is None
    assert config.attribution_model({"PRT_ATTRIBUTION_MODEL": " "}) is None
    assert config.attribution_model({"PRT_ATTRIBUTION_MODEL": str(tmp_path / "m.npz")}) == tmp_path / "m.npz"


def test_the_demo_module_codes_and_reviews_through_the_services(attrib):
    from prt.web.accounts.models import Membership, User
    from prt.web.attributions import demo
    from prt.web.attributions.models import AttributionCode

    rater = User.objects.create_user("demo-rater")
    Membership.objects.create(user=rater, site=attrib.world.site1, role="rater")
    complete_pre(attrib.b)
    AttributionCode.objects.all().delete()
    assert demo.build(attrib.world.site1) == {"coded": 3, "reviewed": 2}
    reviewed = AttributionCode.objects.filter(state="reviewed")
    assert {c.category for c in reviewed} == {"injury"} and {c.decided_by for c in reviewed} == {rater}
    assert demo.build(attrib.world.site1) == {"coded": 0, "reviewed": 0}


def test_a_replaced_model_file_is_loaded_again(attrib, settings, ngram_model):
    import os

    from prt.attribution import save_model, train

    settings.PRT_ATTRIBUTION_MODEL = ngram_model
    first = codes_of(submit_causes(attrib.b, "pre", {"1": "job stress"}))[1].coder
    texts = ["stress", "worry", "a fall", "disc", "tension", "fear", "accident", "sciatica", "pressure", "nerves",
             "crash", "spine"]
    categories = ["stress", "psychological", "injury", "spinal_condition"] * 3
    save_model(train("ngram", texts, categories), ngram_model)
    os.utime(ngram_model, ns=(1, 1))  # a different stamp even within the file system's time resolution
    second = codes_of(submit_causes(attrib.a, "pre", {"1": "job stress"}))[1].coder
    assert first != second and second.startswith("ngram model sha256:")


def test_an_embedding_model_is_loaded_before_the_submission_s_lock(attrib, monkeypatch):
    from prt.attribution import coders
    from prt.web.attributions import services

    calls = []

    class Embedding:
        name = "embedding"

    monkeypatch.setattr(services, "active_coder", lambda: services.ActiveCoder(Embedding(), "embedding model"))
    monkeypatch.setattr(coders, "load_encoder", lambda: calls.append("loaded"))
    services.prepare("odi")
    assert calls == []
    services.prepare("ipq_causes")
    assert calls == ["loaded"]
