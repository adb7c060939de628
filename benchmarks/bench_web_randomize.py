"""Benchmark: 50 coordinators randomize 50 people at the same instant through ``prt serve``; all
serialized, none lost, one valid hash chain; retries and second requests get the first allocation.

Run by hand (not a test):

    .venv/bin/python benchmarks/bench_web_randomize.py [--database-url postgresql://postgres@127.0.0.1:5432/test]
        [--people 50] [--duplicates 25] [--workers N]

Fixture: a private data folder (and database), an allocation key made as ``prt trial keygen``
makes it, one site, ``--people`` people screened eligible, consented and enrolled through the
enrolment services (as a coordinator does), and one coordinator per person, each signed in with
the second factor passed (a verified session) and a CSRF token.

Wave 1: one thread per coordinator (each with its own connection) waits at a barrier, then all send
``POST /api/participants/ID/randomization`` with a new client UUID at once; ``--duplicates`` of
them are sent twice in the same instant with the same UUID (a double click). Wave 2: every request
again with its UUID (a retry after a lost answer) and once more from another coordinator with a
new UUID (a second click elsewhere), all at once. Checks: wave 1 answered 201 once per person and
200 ``replayed`` for the duplicates; wave 2 all 200 ``replayed`` with the arm, sequence number and
hash of the first allocation; the database holds the header and one line per person, sequence
numbers 1..N without a gap; ``randomization.services.verify()`` (prt.trial's own verification:
hashes, signatures, chain, replay of minimization against the screenings) passes; each person's
status and arm match their log line. Prints the timings; exits 1 if any check fails.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
import uuid
from collections import Counter
from http.client import HTTPConnection
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from web_bench_common import (HOST, Bench, add_common_arguments, latency_row, machine, make_site, print_table, request,  # noqa: E402
                              sign_in)

#: An eligible person's screening answers (the trial's criteria), ages and sexes varied per person.
ELIGIBLE = {"age": "45", "sex": "female", "back_pain_half_days_6mo": "yes", "pain_avg_week": "6",
            "back_pain_intensity": "6", "leg_pain_intensity": "2", "mri_safe": "yes",
            "autoimmune_condition": "no", "metastatic_cancer_history": "no", "opioid": "no"}


def build(n: int):
    """The key, a site, ``n`` enrolled people and ``n`` coordinators (one per person)."""
    from django.conf import settings

    from prt.trial.allocation_log import create_key
    from prt.web.accounts.models import Membership, User
    from prt.web.enrolment import services as enrolment

    create_key(settings.PRT_ALLOCATION_KEY_FILE)
    site = make_site()
    coordinators, people = [], []
    for i in range(n):
        user = User.objects.create_user(f"coordinator-{i:03d}", password=None)
        Membership.objects.create(user=user, site=site, role="coordinator")
        coordinators.append(user)
        answers = {**ELIGIBLE, "age": str(25 + (i * 7) % 40), "sex": ("female", "male")[i % 2],
                   "pain_avg_week": str(5 + i % 4), "opioid": ("no", "yes")[i % 5 == 0]}
        screening = enrolment.screen_person(site, f"BEN-{i:03d}", answers, user)
        assert screening.status == "eligible", screening.reasons
        enrolment.record_consent(screening.participant, form_version="v2.1", consent_date=site.today(), actor=user)
        people.append(enrolment.enrol(screening.participant, actor=user))
    return site, people, coordinators


def wave(port: int, jobs: list[tuple]) -> tuple[list, float]:
    """Send every ``(login, study_id, client_uuid)`` at once (one thread and connection each, released
    together by a barrier); returns [(job, status, body, seconds)] and the wave's wall time."""
    barrier = threading.Barrier(len(jobs) + 1)
    results: list = [None] * len(jobs)

    def send(k, login, study_id, client_uuid):
        conn = HTTPConnection(HOST, port, timeout=120)
        conn.connect()  # connected before the barrier: the requests leave together
        barrier.wait()
        start = time.perf_counter()
        try:
            status, content = request(conn, "POST", f"/api/participants/{study_id}/randomization", login,
                                      {"client_uuid": str(client_uuid)})
            body = json.loads(content) if content else {}
        except Exception as exc:  # reported as a failed request
            status, body = 0, {"detail": repr(exc)}
        results[k] = ((login, study_id, client_uuid), status, body, time.perf_counter() - start)
        conn.close()

    threads = [threading.Thread(target=send, args=(k, *job)) for k, job in enumerate(jobs)]
    for t in threads:
        t.start()
    barrier.wait()
    start = time.perf_counter()
    for t in threads:
        t.join()
    return results, time.perf_counter() - start


def check(first: list, second: list, people, n: int) -> list[str]:
    """Every guarantee, as a list of failures (empty: all hold)."""
    from prt.trial.allocation_log import verify_entries
    from prt.web.participants.models import Participant
    from prt.web.randomization import services
    from prt.web.randomization.models import AllocationEntry

    failures = []
    allocated: dict[str, dict] = {}
    for (login, study_id, _), status, body, _ in first:
        if status == 201 and body.get("outcome") == "allocated":
            if study_id in allocated:
                failures.append(f"{study_id}: allocated twice")
            allocated[study_id] = body
        elif status != 200 or body.get("outcome") != "replayed":
            failures.append(f"wave 1 {study_id}: {status} {body.get('detail', body)}")
    if sorted(allocated) != sorted(p.study_id for p in people):
        failures.append(f"wave 1: {len(allocated)} people allocated, expected {n}")
    for (_, study_id, _), status, body, _ in first + second:
        want = allocated.get(study_id)
        if status not in (200, 201) or want is None:
            if status not in (200, 201):
                failures.append(f"{study_id}: answered {status}")
            continue
        if (body["arm"], body["seq"], body["head"]) != (want["arm"], want["seq"], want["head"]):
            failures.append(f"{study_id}: a repeated request got another allocation")
    for (_, study_id, _), status, body, _ in second:
        if status != 200 or body.get("outcome") != "replayed":
            failures.append(f"wave 2 {study_id}: {status} {body.get('outcome')}")
    seqs = sorted(b["seq"] for b in allocated.values())
    if seqs != list(range(1, n + 1)):
        failures.append(f"sequence numbers {seqs[:5]}... are not 1..{n} without a gap")
    if AllocationEntry.objects.count() != n + 1:
        failures.append(f"{AllocationEntry.objects.count()} log rows, expected {n + 1} (header + {n})")
    try:
        replay = services.verify()  # hashes, signatures, chain; minimization replayed against the screenings
        if sorted(a.participant for a in replay.allocations) != sorted(allocated):
            failures.append("the replayed log's allocations differ from the answers")
        check_ = verify_entries(services.log_entries(), key=services.allocation_key())
        heads = {b["seq"]: b["head"] for b in allocated.values()}
        if not check_.authenticated or check_.n_allocations != n or check_.head != heads.get(n):
            failures.append("verify_entries: not authenticated, wrong count or head")
    except Exception as exc:  # a LogIntegrityError names the line
        failures.append(f"log verification failed: {exc}")
    for person in Participant.objects.filter(pk__in=[p.pk for p in people]):
        want = allocated.get(person.study_id)
        if want is None or (person.status, person.arm) != ("randomized", want["arm"]):
            failures.append(f"{person.study_id}: status {person.status}, arm {person.arm or '-'}")
    return failures


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_common_arguments(parser)
    parser.add_argument("--people", type=int, default=50)
    parser.add_argument("--duplicates", type=int, default=25, help="wave 1 requests sent twice at once")
    args = parser.parse_args(argv)

    print(f"machine: {machine()}")
    with Bench(args.database_url, keep=args.keep) as bench:
        t = time.perf_counter()
        site, people, coordinators = build(args.people)
        logins = sign_in(coordinators, verified_staff=True)
        setup = time.perf_counter() - t
        from django.db import connections

        connections.close_all()
        bench.serve(args.workers)
        ids = [p.study_id for p in people]
        uuids = [uuid.uuid4() for _ in people]
        jobs1 = [(logins[i], ids[i], uuids[i]) for i in range(args.people)]
        jobs1 += [(logins[i], ids[i], uuids[i]) for i in range(0, min(args.duplicates * 2, args.people), 2)]
        first, wall1 = wave(bench.port, jobs1)
        n = args.people
        jobs2 = [(logins[i], ids[i], uuids[i]) for i in range(n)]
        jobs2 += [(logins[(i + 1) % n], ids[i], uuid.uuid4()) for i in range(n)]
        second, wall2 = wave(bench.port, jobs2)
        server_errors = bench.server_log_errors()
        bench.stop_server()
        failures = check(first, second, people, n)

    print(f"database: {bench.database}; {n} people enrolled and {n} coordinators signed in ({setup:.1f} s)")
    rows = []
    for name, results, wall in (("wave 1: randomize at once", first, wall1), ("wave 2: retries + second requests", second, wall2)):
        lat = latency_row([r[3] for r in results])
        outcomes = Counter(r[2].get("outcome", r[1]) for r in results)
        rows.append([name, len(results), ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items(), key=str)),
                     wall, lat["p50"] / 1000, lat["max"] / 1000])
    print_table(["wave", "requests", "outcomes", "wall s", "p50 s", "max s"], rows)
    allocations = sum(1 for r in first if r[2].get("outcome") == "allocated")
    print(f"  {allocations} allocations in {wall1:.2f} s ({allocations / wall1:.1f} per second, serialized)")
    if server_errors:
        failures.append(f"server log: {server_errors[0]}")
    print("  checks: " + ("all passed (one allocation per person, sequence 1..N, chain verified and replayed, "
                          "retries and second requests got the first allocation)" if not failures else
                          f"{len(failures)} FAILED"))
    for failure in failures[:20]:
        print(f"    {failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
