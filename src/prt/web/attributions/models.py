"""The code of one answer to the causal item: what the automatic coder said, and the code that counts.

One row per answered item of a causal-item submission (the IPQ-R's three causes), written when the
submission is saved (:func:`prt.web.attributions.services.code_submission`) and changed only by a
coder's review (:func:`prt.web.attributions.services.review`), each with its audit event in the same
transaction. The answer's words stay in the submission (trial data); this row keeps only their
SHA-256, so the audit trail, which records every field of it, never holds a patient's words.

``category`` is the code that counts: the human's once reviewed (``source = human``), else the
automatic one. ``automatic_category`` and ``automatic_confidence`` keep what the coder said either
way. ``state`` is the queue: ``coded`` (confident), ``queued`` (below the coder's review threshold,
or not codable automatically: ``note`` says why), ``reviewed`` (a human's code).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from prt.attribution.scheme import SCHEME
from prt.web.questionnaires.models import Submission

STATES = ("coded", "queued", "reviewed")
STATE_LABELS = {"coded": "Coded automatically", "queued": "Awaiting a coder", "reviewed": "Coded by a coder"}
SOURCES = ("automatic", "human")
#: The causal item's answers per submission (the scheme's three causes).
SLOTS = tuple(range(1, SCHEME.answers_per_participant + 1))
REASON_MAX = 500
NOTE_MAX = 200
CODER_MAX = 200


class AttributionCode(models.Model):
    submission = models.ForeignKey(Submission, on_delete=models.PROTECT, related_name="attribution_codes")
    #: The item number (1-3: most important cause first).
    slot = models.PositiveSmallIntegerField()
    #: SHA-256 of the answer as coded (its words are in the submission only).
    text_sha256 = models.CharField(max_length=64)
    #: Which coder: ``lemma`` or the trained model file's coder and SHA-256.
    coder = models.CharField(max_length=CODER_MAX)
    #: What the automatic coder said (null: it could not code the answer, ``note`` says why).
    automatic_category = models.CharField(max_length=32, null=True, blank=True)
    automatic_confidence = models.FloatField(null=True, blank=True)
    #: The coder's rule (lemma, model, dont_know, no_match) or ``refused``.
    rule = models.CharField(max_length=32)
    #: Why the answer was not coded automatically, in the coder's words (never the answer's).
    note = models.CharField(max_length=NOTE_MAX, blank=True, default="")
    coded_at = models.DateTimeField()
    #: The code that counts (the human's wins); null only while queued without an automatic code.
    category = models.CharField(max_length=32, null=True, blank=True)
    mind_brain = models.BooleanField(null=True, blank=True)
    confidence = models.FloatField(null=True, blank=True)
    source = models.CharField(max_length=16, choices=[(s, s) for s in SOURCES])
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+")
    decided_at = models.DateTimeField()
    state = models.CharField(max_length=16, choices=[(s, STATE_LABELS[s]) for s in STATES])

    class Meta:
        ordering = ["submission_id", "slot"]
        constraints = [
            models.UniqueConstraint(fields=["submission", "slot"], name="attribution_one_code_per_answer"),
            models.CheckConstraint(condition=Q(slot__gte=SLOTS[0], slot__lte=SLOTS[-1]), name="attribution_slot"),
            models.CheckConstraint(condition=Q(state__in=STATES), name="attribution_known_state"),
            models.CheckConstraint(condition=Q(source__in=SOURCES), name="attribution_known_source"),
            models.CheckConstraint(condition=Q(category__isnull=True) | Q(category__in=SCHEME.ids),
                                   name="attribution_known_category"),
            models.CheckConstraint(condition=Q(automatic_category__isnull=True) |
                                   Q(automatic_category__in=SCHEME.ids), name="attribution_known_automatic"),
            models.CheckConstraint(condition=Q(confidence__isnull=True) | Q(confidence__gte=0, confidence__lte=1),
                                   name="attribution_confidence_0_1"),
            # a human's code is a review, names who made it and has a category; the rest is automatic
            models.CheckConstraint(condition=Q(source="human", state="reviewed", decided_by__isnull=False,
                                               category__isnull=False) |
                                   Q(source="automatic", state__in=("coded", "queued"), decided_by__isnull=True),
                                   name="attribution_human_code_is_a_review"),
            # only a queued answer may lack a code
            models.CheckConstraint(condition=Q(category__isnull=False) | Q(state="queued"),
                                   name="attribution_coded_has_category"),
            models.CheckConstraint(condition=Q(category__isnull=True, mind_brain__isnull=True) |
                                   Q(category__isnull=False, mind_brain__isnull=False),
                                   name="attribution_mind_brain_with_category"),
        ]
        indexes = [models.Index(fields=["state"], name="attribution_state")]

    def __str__(self) -> str:
        return f"attribution code {self.pk} ({self.submission_id}, cause {self.slot})"

    @property
    def text(self) -> str:
        """The answer's words, from the submission (patient data: pages only, never logs or URLs)."""
        return str(self.submission.answers.get(str(self.slot), ""))

    @property
    def version(self) -> str:
        """What a review form saw: a review of a row changed since is refused (409)."""
        return f"{self.state}:{self.decided_at.isoformat()}"
