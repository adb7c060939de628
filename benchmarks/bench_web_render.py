"""Benchmark: server-side render time of a participant's home page (pain chart and table) and of the
coordinator's due list, at a site of 1,000 participants with 365 days of diary each.

Run by hand (not a test):

    .venv/bin/python benchmarks/bench_web_render.py [--database-url postgresql://postgres@127.0.0.1:5432/test]
        [--participants 1000] [--days 365] [--repeats 30] [--no-http]

Fixture (bulk-inserted, it is data to read, not trial operations to time): one site; the
participants, randomized, their records created 365 to 394 days ago; for each, one pain rating a
day for the last ``--days`` days, with the receipt and audit event a real submission leaves; the
questionnaire batteries of the visit schedule (``prt.web.questionnaires.battery``) submitted on
their target days up to today, about one visit in ten missed, answers drawn from each instrument's
definition and scored by ``prt.instruments.score``; a coordinator of the site.

Measured: (1) in this process, the Django test client's ``GET`` (the whole middleware stack, the
view, the queries and the template: what the server spends), ``--repeats`` times after two
warm-up requests, with the number of queries; (2) unless ``--no-http``, the same pages through
``prt serve`` (granian) on loopback. Pages: the participant's home ``/`` (today's form, the
365-point pain chart and its table, questionnaire tasks and score charts) and the coordinator's
due list ``/coordinator/visits/sites/SITE/`` (every open participant's visits), if the visits app
has that page. Target (issue): each under 100 ms at the server. Figures go in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
import uuid
from datetime import datetime, timedelta, timezone as dt_timezone
from http.client import HTTPConnection
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from web_bench_common import (HOST, Bench, add_common_arguments, latency_row, machine, make_participants,  # noqa: E402
                              make_site, print_table, request, sign_in, SITE_TZ)

BATCH = 5000


def _bulk(model, rows):
    for i in range(0, len(rows), BATCH):
        model.objects.bulk_create(rows[i:i + BATCH])


def diary_history(people, days: int, rng: random.Random) -> int:
    """One rating a day for the last ``days`` days, each with its receipt and audit event (bulk)."""
    from django.db import transaction

    from prt.web.audit.models import AuditEvent
    from prt.web.diary.models import DiarySubmission, PainRating

    today = people[0].site.today()
    first = today - timedelta(days=days - 1)
    inserted = 0
    for person in people:
        level = rng.uniform(3, 8)
        ratings = []
        for k in range(days):
            day = first + timedelta(days=k)
            at = datetime(day.year, day.month, day.day, 19, 0, tzinfo=dt_timezone.utc)
            value = max(0, min(10, round(level - 3 * k / days + rng.gauss(0, 1))))
            ratings.append(PainRating(participant=person, day=day, rating=value, created_at=at, updated_at=at))
        with transaction.atomic():
            _bulk(PainRating, ratings)
            if ratings[0].pk is None:  # a backend that returns no ids from bulk inserts
                ratings = list(PainRating.objects.filter(participant=person).order_by("day"))
            _bulk(DiarySubmission, [DiarySubmission(client_uuid=uuid.uuid4(), participant=person, entry=r,
                                                    rating=r.rating, received_at=r.created_at) for r in ratings])
            _bulk(AuditEvent, [AuditEvent(at=r.created_at, actor_id=person.user_id, action="create",
                                          model="diary.painrating", object_id=str(r.pk),
                                          changes={"day": [None, r.day.isoformat()], "rating": [None, r.rating]})
                               for r in ratings])
        inserted += len(ratings)
    return inserted


def _answer_sets(instrument_id: str, rng: random.Random, n: int = 6):
    """``n`` scored answer sets drawn from the instrument's definition (choices and numeric ranges)."""
    from prt import instruments
    from prt.errors import InputError

    inst = instruments.get(instrument_id)
    out = []
    for _ in range(4 * n):
        answers = {}
        for item in inst.items:
            if item.kind == "choice" and item.options:
                answers[item.number] = rng.choice(list(item.options))
            elif item.kind == "numeric" and item.minimum is not None and item.maximum is not None:
                answers[item.number] = rng.randint(int(item.minimum), int(item.maximum))
        try:
            out.append((answers, instruments.score(instrument_id, answers)))
        except InputError:
            continue
        if len(out) == n:
            break
    return out


def questionnaire_history(people, rng: random.Random, missed: float = 0.1) -> int:
    """Each participant's batteries submitted on their target days up to today (bulk), a tenth missed."""
    from prt import __version__, instruments
    from prt.web.questionnaires import battery, services
    from prt.web.questionnaires.models import Submission

    sets: dict[str, list] = {}
    rows = []
    today = people[0].site.today()
    for person in people:
        done: dict[tuple[str, str], object] = {}
        skipped: set[str] = set()
        while True:
            pending = [v for v in battery.visits(person, today, done) if v.target <= today
                       and v.event not in skipped and not any((v.event, i) in done for i in battery.instruments_at(v.event))
                       and v.event != battery.first_event()]
            if not pending:
                break
            visit = pending[0]
            if rng.random() < missed:
                skipped.add(visit.event)
                continue
            for instrument_id in battery.instruments_at(visit.event):
                if instrument_id not in sets:
                    sets[instrument_id] = _answer_sets(instrument_id, rng)
                if not sets[instrument_id]:
                    continue
                answers, result = rng.choice(sets[instrument_id])
                name = services.headline(instrument_id)
                value = None if name is None else (result.total if name == "total" else result.subscales.get(name))
                inst = instruments.get(instrument_id)
                at = datetime(visit.target.year, visit.target.month, visit.target.day, 18, tzinfo=dt_timezone.utc)
                rows.append(Submission(
                    client_uuid=uuid.uuid4(), participant=person, instrument=instrument_id, event=visit.event,
                    day=visit.target, answers=result.items, score=value, scores=result.to_dict(details=True),
                    instrument_form=inst.form, instrument_source=inst.citation,
                    definition_sha256=services.definition_sha256(instrument_id), prt_version=__version__,
                    channel="web", submitted_at=at))
                done[(visit.event, instrument_id)] = visit.target
    _bulk(Submission, rows)
    return len(rows)


def build(n_participants: int, days: int, seed: int = 2022):
    """The site, its participants (randomized; records 365-394 days old), their diary and questionnaires,
    and a coordinator; returns (site, people, seconds per step)."""
    from django.db import transaction

    from prt.vocabulary import ARMS
    from prt.web.accounts.models import Membership, User
    from prt.web.participants.models import Participant

    rng = random.Random(seed)
    timings = {}
    t = time.perf_counter()
    site = make_site(timezone=SITE_TZ)
    people = make_participants(site, n_participants, status="enrolled")
    now = datetime.now(dt_timezone.utc)
    with transaction.atomic():
        for offset in range(30):  # records created 365 to 394 days ago, arms in turn
            ids = [p.pk for i, p in enumerate(people) if i % 30 == offset]
            Participant.objects.filter(pk__in=ids).update(created_at=now - timedelta(days=max(days, 365) + offset))
        for k, arm in enumerate(ARMS):
            ids = [p.pk for i, p in enumerate(people) if i % len(ARMS) == k]
            Participant.objects.filter(pk__in=ids).update(status="randomized", arm=arm)
    people = list(Participant.objects.filter(site=site).select_related("site", "user").order_by("study_id"))
    coordinator = User.objects.create_user("bench-coordinator", password=None)
    Membership.objects.create(user=coordinator, site=site, role="coordinator")
    timings["participants"] = time.perf_counter() - t
    t = time.perf_counter()
    ratings = diary_history(people, days, rng)
    timings[f"diary ({ratings:,} ratings + receipts + audit events)"] = time.perf_counter() - t
    t = time.perf_counter()
    submissions = questionnaire_history(people, rng)
    timings[f"questionnaires ({submissions:,} submissions)"] = time.perf_counter() - t
    return site, people, coordinator, timings


def due_list_path(site) -> str | None:
    """The coordinator's due list for ``site`` if the visits app has the page yet, else None."""
    from django.urls import NoReverseMatch, reverse

    try:
        return reverse("visits-site", kwargs={"site_code": site.code})
    except NoReverseMatch:
        return None


def in_process(path: str, login, repeats: int) -> dict:
    """Server-side time of ``GET path`` through the whole Django stack in this process."""
    from django.db import connection
    from django.test import Client

    client = Client(HTTP_HOST=HOST)
    client.cookies["sessionid"] = login.session
    for _ in range(2):
        response = client.get(path)
        assert response.status_code == 200, (path, response.status_code)
    queries = []
    with connection.execute_wrapper(lambda execute, sql, *rest: queries.append(sql) or execute(sql, *rest)):
        response = client.get(path)
    size = len(response.content)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        response = client.get(path)
        times.append(time.perf_counter() - start)
        assert response.status_code == 200
    return {**latency_row(times), "mean": 1000 * statistics.fmean(times), "queries": len(queries), "bytes": size}


def over_http(port: int, path: str, login, repeats: int, workers: int) -> dict:
    conn = HTTPConnection(HOST, port, timeout=30)
    for _ in range(10 * workers):  # each web worker's first requests import and warm its caches
        status, _ = request(conn, "GET", path, login)
        assert status == 200, (path, status)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        status, _ = request(conn, "GET", path, login)
        times.append(time.perf_counter() - start)
        assert status == 200
    conn.close()
    return latency_row(times)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_common_arguments(parser)
    parser.add_argument("--participants", type=int, default=1000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--no-http", action="store_true", help="measure in this process only")
    args = parser.parse_args(argv)

    print(f"machine: {machine()}")
    with Bench(args.database_url, keep=args.keep) as bench:
        site, people, coordinator, timings = build(args.participants, args.days)
        print(f"database: {bench.database}; fixture: " + "; ".join(f"{k} {v:.1f} s" for k, v in timings.items()))
        participant_login, = sign_in([people[0].user])
        coordinator_login, = sign_in([coordinator], verified_staff=True)
        pages = [("participant home / (pain chart + table)", "/", participant_login)]
        due = due_list_path(site)
        if due:
            pages.append((f"coordinator due list {due}", due, coordinator_login))
        rows = []
        for name, path, login in pages:
            r = in_process(path, login, args.repeats)
            rows.append([name, "in process", r["p50"], r["p95"], r["max"], r["queries"], f"{r['bytes'] / 1024:.0f} KiB"])
        if not args.no_http:
            from django.db import connections

            from prt.web.cli import default_workers

            connections.close_all()
            bench.serve(args.workers)
            for name, path, login in pages:
                r = over_http(bench.port, path, login, args.repeats, args.workers or default_workers())
                rows.append([name, "HTTP (granian)", r["p50"], r["p95"], r["max"], "", ""])
            bench.stop_server()
    print(f"\nServer-side render, {args.participants:,} participants x {args.days} days of diary, {bench.database}, "
          f"{args.repeats} requests each")
    print_table(["page", "measured", "p50 ms", "p95 ms", "max ms", "queries", "size"], rows)
    if not due:
        print("  coordinator due list: pending (the visits app has no /coordinator/visits/sites/SITE/ page yet)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
