"""Sending the reminders: who gets one, what it says, once per day, cadence, failures, the job and
the command. E-mails land in django.core.mail.outbox (pytest-django's locmem backend)."""

from __future__ import annotations

import io
import logging
import smtplib
from datetime import date

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.db import IntegrityError, transaction

from prt.web.questionnaires import battery
from prt.web.reminders import jobs, services
from prt.web.reminders.models import ReminderLog
from prt.web.reminders.services import send_reminders
from tests.web.helpers import in_threads
from tests.web.visits.common import submit

PRE = battery.instruments_at("pre")
A_ADDRESS, B_ADDRESS, C_ADDRESS = "a.person@example.org", "b.person@example.org", "c.person@example.org"


@pytest.fixture
def contacts(world, settings):
    """BOU-001 and BOU-002 (Boulder) and LON-001 (London) opted in; reminders link to the public URL."""
    settings.PRT_PUBLIC_URL = "https://trial.example.org/"
    coordinator = world.users["coordinator_same_site"]
    services.save_contact(world.a, email=A_ADDRESS, opted_in=True, actor=coordinator)
    services.save_contact(world.b, email=B_ADDRESS, opted_in=True, actor=coordinator)
    services.save_contact(world.c, email=C_ADDRESS, opted_in=True, actor=world.users["coordinator_other_site"])
    return world


def sent_to() -> list[str]:
    return sorted(a for m in mail.outbox for a in m.to)


def test_one_e_mail_per_participant_listing_how_many_and_until_when(contacts):
    outcome = send_reminders()
    assert sorted(outcome.sent) == ["BOU-001", "BOU-002", "LON-001"] and outcome.failed == []
    assert sent_to() == [A_ADDRESS, B_ADDRESS, C_ADDRESS]
    message = next(m for m in mail.outbox if m.to == [A_ADDRESS])
    assert message.subject == "Your study questionnaires"
    assert message.extra_headers["Auto-Submitted"] == "auto-generated"
    assert f"- {len(PRE)} questionnaires to answer by 17 March 2026\n" in message.body
    assert "Open your study questionnaires: https://trial.example.org/questionnaires/" in message.body
    assert "https://trial.example.org/reminders/" in message.body
    body = message.body.lower()
    for secret in ("pain", "prt", "reprocessing", "score", "oswestry", "bpi", "depression", "fmri", "bou-001",
                   "pretreatment", "baseline"):
        assert secret not in body, secret
    rows = list(ReminderLog.objects.filter(participant=contacts.a).values_list("day", "event", "kind", "status",
                                                                                  "instruments"))
    assert rows == [(date(2026, 3, 10), "pre", "due", "sent", " ".join(PRE))]


def test_a_second_run_the_same_day_sends_nothing(contacts):
    send_reminders()
    again = send_reminders()
    assert again.sent == [] and sorted(again.already) == ["BOU-001", "BOU-002", "LON-001"]
    assert len(mail.outbox) == 3


def test_the_log_refuses_a_second_row_for_the_same_day_event_and_kind(contacts):
    send_reminders()
    with pytest.raises(IntegrityError), transaction.atomic():
        ReminderLog.objects.create(participant=contacts.a, day=date(2026, 3, 10), event="pre", kind="due",
                                   instruments="odi")


def test_a_claim_is_taken_once(contacts, clock):
    planned = services.plan(contacts.site1, date(2026, 3, 10))
    first = services._claim(planned[0], clock.now)
    assert first is not None and first[0] == A_ADDRESS
    assert services._claim(planned[0], clock.now) is None


def test_a_visit_is_reminded_again_after_the_interval_and_when_it_becomes_overdue(contacts, clock):
    days = []
    for _ in range(12):  # 10 to 21 March: due until the 17th (target), overdue from the 18th
        if services.send_reminders(sites=[contacts.site1]).sent:
            days.append((contacts.site1.today().isoformat(), mail.outbox[-1].body.count("not answered yet")))
        clock.advance(days=1)
    assert days == [("2026-03-10", 0), ("2026-03-17", 0), ("2026-03-18", 1)]


def test_every_day_when_the_interval_is_one(contacts, clock, settings):
    settings.PRT_REMINDER_INTERVAL_DAYS = 1
    for _ in range(3):
        send_reminders(sites=[contacts.site1])
        clock.advance(days=1)
    assert len(mail.outbox) == 6


def test_opted_out_withdrawn_answered_and_closed_get_nothing(contacts, clock):
    services.set_own_choice(contacts.a, opted_in=False, actor=contacts.users["participant_a"])
    contacts.b.status = "withdrawn"
    contacts.b.save()
    submit(contacts.c, "pre", date(2026, 3, 10))  # LON-001 answered everything owed
    assert send_reminders().sent == [] and mail.outbox == []
    services.set_own_choice(contacts.a, opted_in=True, actor=contacts.users["participant_a"])
    clock.advance(days=22)  # 1 April: BOU-001's pretreatment window closed (missed: nothing to remind)
    assert send_reminders().sent == [] and mail.outbox == []


def test_a_site_is_served_once_its_local_reminder_hour_has_come(contacts, clock):
    clock.now = clock.now.replace(hour=14)  # 08:00 in Denver, 14:00 in London
    outcome = send_reminders()
    assert outcome.waiting == ["boulder"] and outcome.sent == ["LON-001"]
    clock.advance(hours=1)
    assert sorted(send_reminders().sent) == ["BOU-001", "BOU-002"]
    clock.now = clock.now.replace(hour=3)  # an explicit day serves every site whatever the hour
    assert send_reminders(date(2026, 3, 10)).sent == []  # ... and still never twice


def test_a_failed_send_is_logged_without_the_address_and_retried_by_the_next_run(contacts, monkeypatch, caplog):
    real_send = mail.EmailMessage.send

    def flaky(self, fail_silently=False):
        if A_ADDRESS in self.to:
            raise smtplib.SMTPRecipientsRefused({A_ADDRESS: (550, b"mailbox unavailable")})
        return real_send(self, fail_silently)

    monkeypatch.setattr(mail.EmailMessage, "send", flaky)
    with caplog.at_level(logging.WARNING, logger="prt.web.reminders"):
        outcome = send_reminders()
    assert outcome.failed == ["BOU-001"] and sorted(outcome.sent) == ["BOU-002", "LON-001"]  # the batch went on
    assert "BOU-001" in caplog.text and "SMTPRecipientsRefused" in caplog.text
    assert "@" not in caplog.text and "a.person" not in caplog.text
    assert ReminderLog.objects.get(participant=contacts.a).status == "failed"
    monkeypatch.setattr(mail.EmailMessage, "send", real_send)
    retry = send_reminders()
    assert retry.sent == ["BOU-001"] and sorted(retry.already) == ["BOU-002", "LON-001"]
    row = ReminderLog.objects.get(participant=contacts.a)
    assert (row.status, row.attempts) == ("sent", 2)
    assert sent_to() == [A_ADDRESS, B_ADDRESS, C_ADDRESS]


def test_a_dry_run_writes_and_sends_nothing(contacts):
    outcome = send_reminders(dry_run=True)
    assert [p.participant.study_id for p in outcome.planned] == ["BOU-001", "BOU-002", "LON-001"]
    assert [(i.event, i.kind, len(i.instruments)) for i in outcome.planned[0].items] == [("pre", "due", len(PRE))]
    assert mail.outbox == [] and not ReminderLog.objects.exists()


def test_the_job_runs_on_the_task_framework(contacts, settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    result = jobs.reminders_job.enqueue()
    assert result.return_value == {"dry_run": False, "sent": 3, "failed": 0, "already": 0, "planned": 0,
                                   "waiting_sites": []}
    assert jobs.reminders_job.enqueue("2026-03-10").return_value["already"] == 3


def test_the_remind_command_for_cron(contacts):
    out = io.StringIO()
    call_command("remind", "--dry-run", "--date", "2026-03-10", stdout=out)
    text = out.getvalue()
    assert f"would remind BOU-001 (2026-03-10): pre due: {len(PRE)} questionnaire(s)" in text
    assert "dry run: 3 reminder(s) would be sent" in text and "@" not in text and mail.outbox == []
    out = io.StringIO()
    call_command("remind", stdout=out)
    assert "3 reminder(s) sent, 0 failed" in out.getvalue() and len(mail.outbox) == 3
    with pytest.raises(CommandError, match="--date"):
        call_command("remind", "--date", "10/03/2026")


def test_the_remind_command_fails_when_a_send_failed(contacts, monkeypatch):
    def down(self, fail_silently=False):
        raise smtplib.SMTPServerDisconnected("gone")

    monkeypatch.setattr(mail.EmailMessage, "send", down)
    with pytest.raises(CommandError, match="not sent: BOU-001, BOU-002, LON-001"):
        call_command("remind", stdout=io.StringIO())


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_simultaneous_runs_send_each_reminder_once(settings):
    """Eight workers at once (PostgreSQL row locks): every participant gets exactly one e-mail."""
    import threading

    from prt.web.accounts.models import Site
    from prt.web.participants.models import Participant

    site = Site.objects.create(code="conc", name="Concurrency", timezone="UTC")
    for i in range(10):
        person = Participant.objects.create(study_id=f"CON-{i:03d}", site=site, status="enrolled")
        services.save_contact(person, email=f"p{i}@example.org", opted_in=True, actor=None)
    barrier = threading.Barrier(8)

    def worker():
        barrier.wait()
        send_reminders()

    in_threads(worker, 8)
    assert sorted(a for m in mail.outbox for a in m.to) == sorted(f"p{i}@example.org" for i in range(10))
    assert ReminderLog.objects.filter(status="sent").count() == 10
