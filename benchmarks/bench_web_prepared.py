"""Benchmark: the session read with its user, bound on the client (Django's way) or prepared on the
server (``prt.web.postgresql``'s ``prepared_cursor``), and diary submissions through the service.

Run by hand (not a test), PostgreSQL only:

    .venv/bin/python benchmarks/bench_web_prepared.py --database-url postgresql://postgres@127.0.0.1:5432/test
        [--participants 4000] [--reads 1500]

A private database gets one site with ``--participants`` signed-in participants. In this process,
the session statement of ``accounts/sessions.py`` runs ``--reads`` times per way, each on another
session key, one at a time; then a day's first rating and a same-day change go through
``diary.services.submit_rating`` for as many participants. Prints the CPU per call of this process
(Django and psycopg) and of the PostgreSQL server process serving it (from /proc). Figures go in
docs/benchmarks.md ("Web platform").
"""

from __future__ import annotations

import argparse
import sys
import time
import uuid
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent))
from web_bench_common import (Bench, add_common_arguments, cpu_seconds, cpu_used, machine,  # noqa: E402
                              make_participants, make_site, print_table, sign_in, SITE_TZ)


def _per_call(run, items, server_pid: int) -> tuple[float, float]:
    """(this process's, the server process's) CPU milliseconds per call of ``run`` over ``items``."""
    cpu, server = time.process_time(), cpu_seconds([server_pid])
    for item in items:
        run(item)
    return (1000 * (time.process_time() - cpu) / len(items),
            1000 * cpu_used(server, cpu_seconds([server_pid])) / len(items))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_common_arguments(parser)
    parser.add_argument("--participants", type=int, default=4000)
    parser.add_argument("--reads", type=int, default=1500)
    args = parser.parse_args(argv)
    if not args.database_url:
        parser.error("PostgreSQL only: give --database-url postgresql://...")
    if args.participants < 2 * args.reads:
        parser.error("--participants must be at least twice --reads (each call on its own session and participant)")
    print(f"machine: {machine()}")
    with Bench(args.database_url, keep=args.keep) as bench:
        from django.db import connection
        from django.utils import timezone

        from prt.web.accounts import sessions
        from prt.web.diary import services

        people = make_participants(make_site(timezone=SITE_TZ), args.participants)
        logins = sign_in([p.user for p in people])
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            server_pid = cursor.fetchone()[0]
        _, sql = sessions._plan("default")
        roles, now = sessions._staff_roles(), timezone.now()

        def read_with(cursor):
            def read(login):
                cursor.execute(sql, [*roles, login.session, now])
                cursor.fetchone()
            return read

        rows = []
        first, second = logins[:args.reads], logins[args.reads:2 * args.reads]
        for keys in (first, second):  # twice each, alternating: the machine's speed varies
            with connection.cursor() as client_side:
                rows.append(["session with its user, bound on the client (Django)",
                             *_per_call(read_with(client_side), keys, server_pid)])
            with connection.prepared_cursor() as prepared:
                rows.append(["session with its user, prepared (prt.web.postgresql)",
                             *_per_call(read_with(prepared), keys, server_pid)])
        zone = ZoneInfo(SITE_TZ)

        def submit(participant):
            services.submit_rating(participant, client_uuid=uuid.uuid4(), day=datetime.now(zone).date(), rating=3,
                                   actor=participant.user)

        for participant in people:
            participant.site  # noqa: B018 - loaded with the participant, as the signed-in request has it
        batch = people[:args.reads]
        rows.append(["a day's first rating (service)", *_per_call(submit, batch, server_pid)])
        rows.append(["a same-day change (service)", *_per_call(submit, batch, server_pid)])
    print(f"\nCPU per call, {args.reads} calls each, PostgreSQL, one at a time in one process")
    print_table(["statement", "this process ms", "PostgreSQL ms"], [[r[0], f"{r[1]:.3f}", f"{r[2]:.3f}"] for r in rows])
    return 0


if __name__ == "__main__":
    sys.exit(main())
