"""Benchmark: daily-pain submissions through the API (``POST /api/diary``) against ``prt serve``.

Run by hand (not a test):

    .venv/bin/python benchmarks/bench_web_diary.py [--database-url postgresql://postgres@127.0.0.1:5432/test]
        [--participants 10000] [--rate 300] [--seconds 25] [--warmup 3] [--processes 2] [--connections 16]
        [--ceiling] [--in-process] [--workers N] [--new-connections] [--timeline]
    .venv/bin/python benchmarks/bench_web_diary.py --writer-queue   (SQLite: the writers' queue vs the busy handler)

A private data folder (and, with ``--database-url``, a private database ``prt_bench_<pid>`` on that
server, dropped at the end) gets one site with ``--participants`` enrolled participants, each with
a signed-in session (session cookie + CSRF cookie and header, as a browser holds after signing in).
``prt serve`` (granian, prt.web.server) starts on a free loopback port. The load generator is ``--processes``
processes x ``--connections`` keep-alive connections (one event loop per process, non-blocking
sockets: it shares the 2 cores with the server, so it is kept lean), each with its own
participants, taken in turn (``--new-connections``: a new connection per request instead, closed
after the answer, as phones sending one rating each or a proxy without keep-alive); every request is one participant's rating for today at their
site with a new client UUID. With the default 10,000 participants nearly every request is a
participant's first of the day (``created``: the entry, its audit event and the receipt), as in a
morning's burst; a participant sent again changes the rating (``changed``, also audited) or not.

Open loop (default): requests are scheduled at ``--rate`` per second in all; a request's latency
is counted from its scheduled time (so a generator that falls behind shows it as latency, no
coordinated omission). ``--ceiling``: closed loop, each connection sends as fast as answers come (the
server's maximum). Requests/s are counted over ``--seconds`` after ``--warmup`` seconds; any answer
other than 200/201 is an error (there must be none). Prints a table; figures go in
docs/benchmarks.md ("Web platform").
"""

from __future__ import annotations

import argparse
import heapq
import json
import multiprocessing
import os
import random
import resource
import selectors
import socket
import sys
import time
import uuid
from collections import Counter
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent))
from web_bench_common import (HOST, Bench, Login, add_common_arguments, cpu_seconds, cpu_used,  # noqa: E402
                              latency_row, machine, machine_cpu, make_participants, make_site, print_table, SITE_TZ,
                              process_tree_cpu, sign_in)



class _Connection:
    """One keep-alive connection of the load generator and the request it has in flight."""

    __slots__ = ("index", "logins", "offset", "n", "sock", "scheduled", "buffer", "rng")

    def __init__(self, index: int, logins: list[Login], offset: float, seed: int) -> None:
        self.index, self.logins, self.offset, self.n, self.sock = index, logins, offset, 0, None
        self.scheduled, self.buffer, self.rng = 0.0, b"", random.Random(seed)


def _request_bytes(port: int, login: Login, rng: random.Random, zone: ZoneInfo, close: bool = False) -> bytes:
    body = json.dumps({"client_uuid": str(uuid.uuid4()), "date": datetime.now(zone).date().isoformat(),
                       "rating": rng.randint(0, 10)}).encode()
    head = "".join(f"{k}: {v}\r\n" for k, v in login.headers(json_body=True).items())
    if close:
        head += "Connection: close\r\n"
    return (f"POST /api/diary HTTP/1.1\r\nHost: {HOST}:{port}\r\n{head}Content-Length: {len(body)}\r\n\r\n"
            ).encode() + body


def _answer(buffer: bytes) -> tuple[int, bytes] | None:
    """(status, body) once ``buffer`` holds a whole response (Content-Length framed), else None."""
    end = buffer.find(b"\r\n\r\n")
    if end < 0:
        return None
    length = 0
    for line in buffer[:end].lower().split(b"\r\n"):
        if line.startswith(b"content-length:"):
            length = int(line[15:])
    if len(buffer) < end + 4 + length:
        return None
    return int(buffer[9:12]), buffer[end + 4:end + 4 + length]


def _process(port, logins, start, stop, interval, offsets, seed, queue, close=False) -> None:
    """One process of the load generator: ``len(offsets)`` keep-alive connections driven by one
    event loop (non-blocking sockets), not a thread each, so the generator takes as little of the
    machine's CPU as it can (it shares the 2 cores with the server it measures). Connection ``i``
    sends its participants' ratings in turn every ``interval`` seconds after ``start + offsets[i]``
    (open loop: a late answer delays the next send, and the delay counts as latency from the
    scheduled time) or back to back (``interval`` None), until ``stop``. With ``close`` each
    request goes on a new connection that the server closes after its answer (a phone that sends
    one rating, or a reverse proxy without keep-alive to the server); connecting counts as latency."""
    zone = ZoneInfo(SITE_TZ)
    selector = selectors.DefaultSelector()
    conns = [_Connection(i, logins[i::len(offsets)], offset, seed * 1000 + i) for i, offset in enumerate(offsets)]
    out: list = []
    idle = [(start + c.offset, i) for i, c in enumerate(conns)]  # (when to send, connection) heap
    heapq.heapify(idle)
    busy = 0

    def send(c: _Connection, scheduled: float) -> None:
        if c.sock is None:
            c.sock = socket.create_connection((HOST, port), timeout=30)
            c.sock.setblocking(False)
            c.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            selector.register(c.sock, selectors.EVENT_READ, c)
        c.scheduled, c.buffer = scheduled, b""
        c.sock.sendall(_request_bytes(port, c.logins[c.n % len(c.logins)], c.rng, zone, close))

    def finish(c: _Connection, status: int, outcome: str) -> None:
        out.append((c.scheduled, time.monotonic() - c.scheduled, status, outcome))
        c.n += 1
        nxt = time.monotonic() if interval is None else start + c.offset + c.n * interval
        if nxt < stop:
            heapq.heappush(idle, (nxt, c.index))

    def drop(c: _Connection) -> None:
        if c.sock is not None:
            selector.unregister(c.sock)
            c.sock.close()
            c.sock = None

    while idle or busy:
        now = time.monotonic()
        while idle and idle[0][0] <= now:
            when, i = heapq.heappop(idle)
            try:
                send(conns[i], when)
                busy += 1
            except OSError as exc:  # a refused connection is an error of the run
                drop(conns[i])
                finish(conns[i], 0, type(exc).__name__)
        timeout = max(0.0, idle[0][0] - time.monotonic()) if idle else 1.0
        for key, _ in selector.select(timeout if busy else min(timeout, 1.0)):
            c = key.data
            try:
                chunk = c.sock.recv(65536)
            except OSError as exc:
                chunk, error = b"", type(exc).__name__
            else:
                error = "ConnectionClosed"
            if not chunk:  # closed by the server mid-request: an error of the run
                drop(c)
                busy -= 1
                finish(c, 0, error)
                continue
            c.buffer += chunk
            answer = _answer(c.buffer)
            if answer is None:
                continue
            status, content = answer
            outcome = content[content.rfind(b'"outcome"'):].split(b'"')[3].decode() if status in (200, 201) else ""
            if b"connection: close" in c.buffer[:c.buffer.find(b"\r\n\r\n")].lower():
                drop(c)
            busy -= 1
            finish(c, status, outcome)
    for c in conns:
        drop(c)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    queue.put((out, usage.ru_utime + usage.ru_stime))


def run_load(port: int, logins: list[Login], *, rate: float | None, seconds: float, warmup: float, processes: int,
             threads: int, server_pid: int, db_pids=lambda: [], phase: int = 0, close: bool = False) -> dict:
    """One load phase; the measured window is [start + warmup, start + warmup + seconds)."""
    total_threads = processes * threads
    interval = None if rate is None else total_threads / rate
    start = time.monotonic() + 1.0
    window_wall = time.time() + 1.0 + warmup  # the window's first second on the wall clock (for other tools' logs)
    stop = start + warmup + seconds
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    procs = []
    for p in range(processes):
        offsets = [((p * threads + t) / rate) if rate else 0.0 for t in range(threads)]
        mine = logins[p::processes]
        procs.append(ctx.Process(target=_process, args=(port, mine, start, stop, interval, offsets,
                                                         1000 * phase + p + 1, queue, close)))
    for proc in procs:
        proc.start()
    time.sleep(max(0.0, start + warmup - time.monotonic()))
    tree_start, db_start, box_start = process_tree_cpu(server_pid), cpu_seconds(db_pids()), machine_cpu()
    time.sleep(max(0.0, stop - time.monotonic()))
    tree_stop, db_stop, box_stop = process_tree_cpu(server_pid), cpu_seconds(db_pids()), machine_cpu()
    cpu_start, cpu_stop = sum(tree_start.values()), sum(tree_stop.values())
    # each process's share: the web workers' (the busiest first) show how evenly the keep-alive
    # connections fell on them; the server's own and the job worker's are small
    per_process = sorted((tree_stop[p] - tree_start.get(p, 0.0) for p in tree_stop), reverse=True)
    rows, client_cpu = [], 0.0
    for _ in procs:
        got, cpu = queue.get()
        rows.extend(got)
        client_cpu += cpu
    for proc in procs:
        proc.join()
    window = [r for r in rows if start + warmup <= r[0] < stop]
    done_in_window = [r for r in rows if start + warmup <= r[0] + r[1] < stop]
    ok = [r for r in window if r[2] in (200, 201)]
    errors = Counter(r[2] if r[2] else r[3] for r in window if r[2] not in (200, 201))
    answered = max(1, len(done_in_window))
    timeline = []  # per second of the window: requests scheduled, their p99 and slowest latency (ms)
    for second in range(int(seconds)):
        lats = sorted(r[1] for r in window if start + warmup + second <= r[0] < start + warmup + second + 1)
        if lats:
            timeline.append((second, len(lats), 1000 * lats[min(len(lats) - 1, int(0.99 * len(lats)))],
                             1000 * lats[-1]))
    return {"timeline": timeline, "window_wall": window_wall, "sent": len(window), "answered_per_s": len(done_in_window) / seconds,
            "latency": latency_row([r[1] for r in ok]), "errors": dict(errors),
            "outcomes": dict(Counter(r[3] for r in ok)), "server_cpu_ms": 1000 * (cpu_stop - cpu_start) / answered,
            "db_cpu_ms": 1000 * cpu_used(db_start, db_stop) / answered, "client_cpu_s": client_cpu, "all": len(rows),
            "server_cores": (cpu_stop - cpu_start) / seconds, "per_process_cpu_s": per_process, "db_cores": cpu_used(db_start, db_stop) / seconds,
            "machine_cores": (box_stop[0] - box_start[0]) / seconds}


def check_database(expected_min: int) -> dict:
    """After the run: one entry per participant and day, every receipt's entry exists, one audit event
    per created or changed entry (the guarantees the load must not break)."""
    from django.db.models import Count

    from prt.web.audit.models import AuditEvent
    from prt.web.diary.models import DiarySubmission, PainRating

    dup = PainRating.objects.values("participant", "day").annotate(n=Count("id")).filter(n__gt=1).count()
    entries = PainRating.objects.count()
    receipts = DiarySubmission.objects.count()
    created = AuditEvent.objects.filter(model="diary.painrating", action="create").count()
    return {"entries": entries, "receipts": receipts, "duplicate days": dup, "create events": created,
            "update events": AuditEvent.objects.filter(model="diary.painrating", action="update").count(),
            "ok": dup == 0 and created == entries and receipts >= expected_min}


def _submit_loop(people, count: int, think: float, queued: bool, out) -> None:
    """One process of the writer-queue comparison: ``count`` submissions through the service."""
    import contextlib

    from django.db import connections

    from prt.web.diary import services, writers

    connections.close_all()  # a connection of this process's own (never one inherited by fork)
    if not queued:
        writers.one_writer = lambda using="default": contextlib.nullcontext()
    waits = []
    for k in range(count):
        person = people[k % len(people)]
        start = time.perf_counter()
        services.submit_rating(person, client_uuid=uuid.uuid4(), day=person.site.today(), rating=k % 11,
                               actor=person.user)
        waits.append(time.perf_counter() - start)
        time.sleep(think)
    out.put(waits)


def writer_queue_comparison(people, processes: int = 5, count: int = 200, think: float = 0.005) -> list[list]:
    """SQLite: ``processes`` processes (as the server's workers) submit through
    ``diary.services.submit_rating`` in a loop, ``think`` seconds apart, with and without the writers'
    queue (diary/writers.py); a submission's time includes waiting for the write lock."""
    from django.db import connections

    rows = []
    ctx = multiprocessing.get_context("fork")
    for queued in (False, True, False, True):
        connections.close_all()
        queue = ctx.Queue()
        procs = [ctx.Process(target=_submit_loop, args=(people[i::processes], count, think, queued, queue))
                 for i in range(processes)]
        start = time.perf_counter()
        for proc in procs:
            proc.start()
        waits = [w for _ in procs for w in queue.get()]
        for proc in procs:
            proc.join()
        wall = time.perf_counter() - start
        lat = latency_row(waits)
        rows.append(["queued (flock)" if queued else "SQLite busy handler", len(waits) / wall, lat["p50"],
                     lat["p99"], lat["max"], f"{os.getloadavg()[0]:.1f}"])
    return rows


def in_process_cost(logins: list[Login], rounds: int = 5, per_round: int = 200) -> list[float]:
    """CPU milliseconds per submission through Django's WSGI handler in this process (no HTTP, no
    other request at the same time): the server's own cost, per round, each on new participants."""
    import io
    import json

    from django.core.handlers.wsgi import WSGIHandler

    app, zone, costs = WSGIHandler(), ZoneInfo(SITE_TZ), []
    for k in range(rounds):
        batch = logins[k * per_round:(k + 1) * per_round]
        start = time.process_time()
        for i, login in enumerate(batch):
            body = json.dumps({"client_uuid": str(uuid.uuid4()), "date": datetime.now(zone).date().isoformat(),
                               "rating": i % 11}).encode()
            environ = {"REQUEST_METHOD": "POST", "PATH_INFO": "/api/diary", "SERVER_NAME": HOST, "SERVER_PORT": "80",
                       "HTTP_HOST": HOST, "wsgi.input": io.BytesIO(body), "CONTENT_LENGTH": str(len(body)),
                       "CONTENT_TYPE": "application/json", "HTTP_X_CSRFTOKEN": login.csrf,
                       "HTTP_COOKIE": login.headers()["Cookie"], "wsgi.url_scheme": "http", "QUERY_STRING": "",
                       "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": HOST, "wsgi.errors": sys.stderr}
            status = []
            response = app(environ, lambda s, h, *a: status.append(s))
            b"".join(response)
            response.close()
            assert status[0].startswith("201"), status
        costs.append(1000 * (time.process_time() - start) / len(batch))
    return costs


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_common_arguments(parser)
    parser.add_argument("--participants", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=300.0, help="requests per second in all (open loop)")
    parser.add_argument("--seconds", type=float, default=25.0, help="measured seconds (at least 20 for the figure)")
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--connections", type=int, default=16, help="keep-alive connections per process")
    parser.add_argument("--new-connections", action="store_true",
                        help="each request on a new connection, closed after the answer (phones sending one "
                             "rating each, or a reverse proxy without keep-alive to the server)")
    parser.add_argument("--ceiling", action="store_true", help="also a closed-loop phase: the server's maximum")
    parser.add_argument("--timeline", action="store_true",
                        help="also print each second of the window: requests, p99 and slowest latency")
    parser.add_argument("--max-requests", type=int, default=100_000, help="refuse a rate x time above this")
    parser.add_argument("--in-process", action="store_true",
                        help="also time submissions through Django's handler in this process (CPU ms each, "
                             "5 rounds of 200 new participants): the server's own cost without HTTP or concurrency")
    parser.add_argument("--writer-queue", action="store_true",
                        help="SQLite only: instead of the HTTP load, compare five processes submitting through "
                             "the service with and without the writers' queue (diary/writers.py)")
    args = parser.parse_args(argv)
    if args.rate * (args.seconds + args.warmup) > args.max_requests:
        parser.error("--rate x (--seconds + --warmup) is above --max-requests")

    print(f"machine: {machine()}")
    with Bench(args.database_url, keep=args.keep) as bench:
        from django.db import connections

        site = make_site(timezone=SITE_TZ)
        if args.writer_queue:
            if bench.database_name:
                parser.error("--writer-queue compares SQLite's busy handler with the queue: SQLite only")
            rows = writer_queue_comparison(make_participants(site, 1000))
            print(f"\nfive processes submitting through the service, 200 each, 5 ms apart, {bench.database}")
            print_table(["writers wait in", "submissions/s", "p50 ms", "p99 ms", "max ms", "load"], rows)
            return 0
        people = make_participants(site, args.participants)
        logins = sign_in([p.user for p in people])
        costs = in_process_cost(logins[-1000:]) if args.in_process else []
        connections.close_all()  # the load generator forks: no shared database connection
        base = bench.serve(args.workers)
        print(f"database: {bench.database}; server: {base} (prt serve, granian); "
              f"{args.participants} participants signed in; load {args.processes} processes x {args.connections} "
              + ("senders, a new connection per request" if args.new_connections else "keep-alive connections"))
        # Prime every web worker (its first requests import the URL tree and the API's schemas),
        # then measure; the priming requests are ordinary submissions, counted in the database check.
        spare = logins[-1000:] if len(logins) > 2000 else logins  # priming and --in-process use these
        measured = logins[:-1000] if len(logins) > 2000 else logins
        run_load(bench.port, spare, rate=None, seconds=2, warmup=0, processes=1, threads=8,
                 server_pid=bench.server.pid)
        phases = [("open loop", args.rate)] + ([("closed loop (ceiling)", None)] if args.ceiling else [])
        results = []
        for k, (name, rate) in enumerate(phases):
            r = run_load(bench.port, measured, rate=rate, seconds=args.seconds, warmup=args.warmup,
                         processes=args.processes, threads=args.connections, server_pid=bench.server.pid,
                         close=args.new_connections,
                         db_pids=bench.database_backend_pids, phase=k + 1)
            results.append((name, rate, r))
        check = check_database(sum(r["latency"]["n"] for _, _, r in results))
        server_errors = bench.server_log_errors()
        bench.stop_server()

    rows = []
    for name, rate, r in results:
        lat = r["latency"]
        cpu = f"{r['server_cpu_ms']:.1f}" + (f" + {r['db_cpu_ms']:.1f}" if bench.database_name else "")
        rows.append([name, "-" if rate is None else f"{rate:.0f}", r["answered_per_s"], lat["p50"], lat["p95"],
                     lat["p99"], lat["max"], sum(r["errors"].values()), cpu])
    print(f"\nPOST /api/diary over {args.seconds:.0f} s (after {args.warmup:.0f} s warm-up), {bench.database}")
    print_table(["phase", "target/s", "answered/s", "p50 ms", "p95 ms", "p99 ms", "max ms", "errors",
                 "CPU ms/req (web" + (" + PostgreSQL)" if bench.database_name else ")")], rows)
    for name, _, r in results:
        print(f"  {name}: outcomes {r['outcomes']}; errors {r['errors'] or 'none'}; "
              f"load generator CPU {r['client_cpu_s']:.1f} s")
        print(f"    CPU in use during the window (cores of {os.cpu_count()}): machine {r['machine_cores']:.2f}, "
              f"web server {r['server_cores']:.2f}" + (f", PostgreSQL {r['db_cores']:.2f}" if bench.database_name else "")
              + f", load generator about {r['client_cpu_s'] / (args.seconds + args.warmup):.2f}; the rest is other work")
        print("    the server's processes, CPU seconds in the window, busiest first (web workers, then the "
              "server's own and the job worker): " + ", ".join(f"{c:.1f}" for c in r["per_process_cpu_s"]))
        if args.timeline:
            print(f"    window from {datetime.fromtimestamp(r['window_wall']):%H:%M:%S.%f} (wall clock); "
                  "second: requests p99/max ms  " + "  ".join(f"{t}: {n} {p99:.0f}/{top:.0f}"
                                                             for t, n, p99, top in r["timeline"]))
    if costs:
        print(f"  in process (Django's handler, no HTTP, one at a time): CPU {min(costs):.2f} ms per submission at "
              f"best, {sorted(costs)[len(costs) // 2]:.2f} median of {len(costs)} rounds of 200")
    print(f"  database after the run: {check}")
    if server_errors:
        print(f"  server log errors: {len(server_errors)} (first: {server_errors[0]})")
    failed = any(r["errors"] for _, _, r in results) or not check["ok"] or server_errors
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
