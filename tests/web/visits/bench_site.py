"""Render time of a coordinator's visit schedule at a 1,000-participant site (a script, not a test).

    .venv/bin/python tests/web/visits/bench_site.py [--participants 1000] [--days 365] [--runs 20]
        [--database-url postgresql://...]

A private data folder (benchmarks/web_bench_common.Bench: SQLite, or a private PostgreSQL database)
gets one site with ``--participants`` participants (half randomized), enrolled over the past year,
each with ``--days`` days of pain diary and the questionnaires of their visits answered as a trial's
would be (most batteries complete within the window, some partial, some missed; dated within the
window, so every later visit is anchored on a real date). Then, in this process, it times
``services.site_visits`` alone and the page, the CSV and the API through Django's full request
path (middleware, session, second factor, template), signed in as a verified coordinator: median
and 90th percentile of ``--runs`` requests after one warm-up. The target (issue 13): the due list
renders at the server in under 100 ms with 1,000 participants x 365 days of diary.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def build(site, n: int, days: int, seed: int = 7) -> dict:
    """Participants, diary and questionnaire submissions (bulk: fixture data, not trial operations)."""
    from django.db import transaction

    from prt.web.diary.models import PainRating
    from prt.web.participants.models import Participant
    from prt.web.questionnaires import battery
    from prt.web.questionnaires.models import Submission
    from prt.web.visits.services import questionnaire_events
    from web_bench_common import make_participants

    rng = random.Random(seed)
    people = make_participants(site, n)
    today = site.today()
    arms = ("prt", "placebo", "usual_care")
    with transaction.atomic():
        for i, person in enumerate(people):
            person.created_at = person.created_at - timedelta(days=rng.randrange(0, 365))
            if i % 2:
                person.status, person.arm = "randomized", arms[i % 3]
            Participant.objects.filter(pk=person.pk).update(created_at=person.created_at, status=person.status,
                                                            arm=person.arm)
    submissions = []
    for person in people:
        done: dict = {}
        for event in questionnaire_events():
            visit = next(v for v in battery.visits(person, today, done) if v.event == event)
            if visit.window_open > today:
                break
            last = min(visit.window_close, today)
            roll = rng.random()
            battery_ids = battery.instruments_at(event)
            if roll < 0.8:
                answered = battery_ids
            else:
                answered = battery_ids[: rng.randrange(1, len(battery_ids))] if roll < 0.9 else ()
            for instrument in answered:
                day = visit.window_open + timedelta(days=rng.randrange(0, (last - visit.window_open).days + 1))
                done[(event, instrument)] = day
            if answered and len(answered) == len(battery_ids):  # one day for the whole battery (its actual date)
                day = max(done[(event, i)] for i in answered)
                for instrument in answered:
                    done[(event, instrument)] = day
        submissions.extend(Submission(client_uuid=uuid.uuid4(), participant=person, instrument=i, event=e, day=d,
                                      answers={}, score=None, scores={}, instrument_form="", instrument_source="",
                                      definition_sha256="0" * 64, prt_version="bench", channel="api")
                           for (e, i), d in done.items())
    Submission.objects.bulk_create(submissions, batch_size=5000)
    ratings = (PainRating(participant=p, day=today - timedelta(days=k), rating=rng.randrange(0, 11))
               for p in people for k in range(days))
    batch, count = [], 0
    for rating in ratings:
        batch.append(rating)
        if len(batch) == 20_000:
            PainRating.objects.bulk_create(batch)
            count, batch = count + len(batch), []
    PainRating.objects.bulk_create(batch)
    return {"participants": len(people), "submissions": len(submissions), "ratings": count + len(batch)}


def timed(call, runs: int, cold=None) -> dict:
    """Wall and CPU milliseconds of ``call`` (CPU: this process only, so a busy machine inflates it less);
    ``cold`` runs before each call (e.g. empties a cache), untimed."""
    call()  # warm-up (template compilation, caches)
    wall, cpu = [], []
    for _ in range(runs):
        if cold is not None:
            cold()
        start, start_cpu = time.perf_counter(), time.process_time()
        call()
        wall.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
    wall.sort()
    return {"median": statistics.median(wall), "p90": wall[min(len(wall) - 1, int(0.9 * len(wall)))],
            "cpu": statistics.median(cpu)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--participants", type=int, default=1000)
    parser.add_argument("--days", type=int, default=365, help="days of diary per participant")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from web_bench_common import Bench, machine, make_site, sign_in

    print(f"machine: {machine()}")
    with Bench(args.database_url) as bench:
        from django.test import Client

        from prt.web.accounts.models import Membership, User
        from prt.web.visits import services

        site = make_site()
        started = time.perf_counter()
        sizes = build(site, args.participants, args.days)
        print(f"database: {bench.database}; {sizes} (built in {time.perf_counter() - started:.0f} s)")
        user = User.objects.create_user("bench-coordinator", password=None)
        Membership.objects.create(user=user, site=site, role="coordinator")
        login = sign_in([user], verified_staff=True)[0]
        client = Client(HTTP_HOST="localhost")
        client.cookies["sessionid"] = login.session

        schedule = services.site_visits(site)
        print(f"today at the site {schedule.on}: {schedule.counts} of {schedule.participants} participants")

        def page(path):
            def call():
                response = client.get(path)
                assert response.status_code == 200, response.status_code
            return call

        rows = [("services.site_visits, first of the day", timed(lambda: services.site_visits(site), args.runs,
                                                                 cold=services._MEMO.clear)),
                ("services.site_visits (no rendering)", timed(lambda: services.site_visits(site), args.runs)),
                ("GET page, all lists, first of the day", timed(page(f"/coordinator/visits/sites/{site.code}/"),
                                                                args.runs, cold=services._MEMO.clear)),
                ("GET page, all lists", timed(page(f"/coordinator/visits/sites/{site.code}/"), args.runs)),
                ("GET page, due list only",
                 timed(page(f"/coordinator/visits/sites/{site.code}/?state=due"), args.runs)),
                ("GET CSV, all rows", timed(page(f"/coordinator/visits/sites/{site.code}/visits.csv"), args.runs)),
                ("GET API, all rows", timed(page(f"/api/sites/{site.code}/visits"), args.runs))]
        width = max(len(name) for name, _ in rows)
        for name, r in rows:
            print(f"{name.ljust(width)}  median {r['median']:6.1f} ms  p90 {r['p90']:6.1f} ms  "
                  f"CPU median {r['cpu']:6.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
