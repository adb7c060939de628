"""CLI: ``prt serve`` (migrate, then the platform's server, prt.web.server) and ``prt web demo | manage``.

Parses arguments and prints; Django is imported inside the handlers only, so ``prt --help`` stays
fast. Configuration comes from the environment (prt.web.config, docs/web.md).
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import sys

from prt.cliargs import print_help

SETTINGS = "prt.web.settings"


def register(commands, groups) -> None:
    p = commands.add_parser(
        "serve", help="run the trial platform's web server (applies migrations, then granian)",
        description="Apply the database migrations, then serve the platform with granian (never "
                    "Django's development server) and its background job worker. The database is SQLite in PRT_DATA_DIR (default "
                    "./prt-data) or PostgreSQL from DATABASE_URL. On a loopback address without PRT_MODE "
                    "it serves plain HTTP (PRT_MODE=local); anywhere else it runs in production mode "
                    "behind a TLS proxy (docs/web.md).")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=_port, default=8000, help="port (default 8000)")
    p.add_argument("--workers", type=_positive, default=None,
                   help="web worker processes (default CPU cores + 1, at most 8)")
    p.add_argument("--no-worker", action="store_true",
                   help="do not start the background job worker beside the web server (run "
                        "'prt web worker' on its own instead)")
    p.set_defaults(handler=_serve)

    help_text = "the web platform: demo logins, Django management commands"
    web = commands.add_parser("web", help=help_text, description=help_text)
    sub = web.add_subparsers(dest="subcommand", metavar="SUBCOMMAND")
    web.set_defaults(handler=lambda args, parser=web: print_help(parser))

    p = sub.add_parser(
        "demo", help="create a demo site with one login per role and print the logins",
        description="Apply migrations, then create (or refresh) a demo site, one login per role "
                    "(participant, coordinator, therapist, physician, rater, analyst, admin) with new "
                    "random passwords, and a simulated trial in progress: people in every arm and state, "
                    "therapy sessions, practice and fidelity ratings. Refused on a database that holds "
                    "any other site.")
    p.set_defaults(handler=_demo)

    p = sub.add_parser(
        "worker", help="run the background job worker (analysis runs, e-mail reminders)",
        description="Run the job queue's worker (Django tasks, database backend) and enqueue the "
                    "periodic jobs (e-mail reminders) every hour. 'prt serve' starts one itself unless "
                    "given --no-worker; run more on other machines for a large trial (PostgreSQL).")
    p.add_argument("--batch", action="store_true", help="run the queued jobs, then exit")
    p.add_argument("--no-periodic", action="store_true", help="do not enqueue the periodic jobs")
    p.set_defaults(handler=_worker)

    p = sub.add_parser(
        "manage", help="run a Django management command (createsuperuser, check --deploy, ...)",
        description="Run django-admin with the platform's settings, e.g. "
                    "'prt web manage check --deploy' or 'prt web manage createsuperuser'.")
    p.add_argument("arguments", nargs=argparse.REMAINDER, help="the command and its arguments")
    p.set_defaults(handler=_manage)


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a port number, got {text!r}") from None
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"expected a port from 1 to 65535, got {text!r}")
    return value


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number 1 or more, got {text!r}")
    return value


def is_loopback(host: str) -> bool:
    """Whether ``host`` is a loopback name or address (127.0.0.0/8, ::1, localhost)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def choose_mode(host: str, environ) -> str:
    """The mode to serve ``host`` in: PRT_MODE if set (``local`` only on loopback), else ``local`` on a
    loopback address (a demo on this machine) and ``production`` anywhere else."""
    from prt.errors import InputError
    from prt.web import config

    if environ.get("PRT_MODE"):
        mode = config.mode(environ)
        if mode == "local" and not is_loopback(host):
            raise InputError(f"--host {host}: PRT_MODE=local serves plain HTTP and only on a loopback "
                             f"address (127.0.0.1, ::1); put a TLS proxy in front and use production mode")
        return mode
    return "local" if is_loopback(host) else "production"


def default_workers() -> int:
    """CPU cores + 1 (at most 8). Not the 2 x cores + 1 usual for workers that mostly wait: a request
    here is mostly CPU, and on 2 cores five workers preempted each other inside the database's write
    transaction; three answered 300 diary submissions a second where five managed 245
    (docs/benchmarks.md, "Web platform")."""
    return min(8, (os.cpu_count() or 1) + 1)


def setup_django() -> None:
    """Configure Django for a command: settings module, a private data folder, apps loaded."""
    from prt.files import os_error
    from prt.web import config

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", SETTINGS)
    os.umask(0o077)  # the database, its WAL and the secret key are readable by their owner only
    if not os.environ.get("DATABASE_URL"):
        folder = config.data_dir()
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise os_error(folder, exc, "cannot be created") from None
    import django

    django.setup()


def migrate() -> None:
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)


def _serve(args) -> int:
    mode = choose_mode(args.host, os.environ)
    os.environ["PRT_MODE"] = mode
    setup_django()
    migrate()
    from django.conf import settings

    where = "PostgreSQL" if settings.DATABASES["default"]["ENGINE"].endswith("postgresql") else \
        settings.DATABASES["default"]["NAME"]
    scheme = "http" if mode == "local" else "https (behind your TLS proxy)"
    print(f"prt serve: {mode} mode, database {where}; listening on {args.host}:{args.port} [{scheme}]",
          file=sys.stderr)
    if args.no_worker:
        os.environ["PRT_EMBEDDED_WORKER"] = "0"
    from prt.web import server

    server.serve(args.host, args.port, args.workers or default_workers())
    return 0


def _demo(args) -> int:
    setup_django()
    migrate()
    from prt.web.demo import SITE_NAME, create_demo

    logins = create_demo()
    print(f"Demo site: {SITE_NAME}. One login per role (new passwords each run):")
    width = max(len(login.username) for login in logins)
    for login in logins:
        totp = f"  TOTP secret {login.totp_secret}" if login.totp_secret else ""
        print(f"  {login.role:<12} {login.username:<{width}}  {login.password}{totp}")
    print("Staff logins ask for a 6-digit code after the password: add the TOTP secret to an "
          "authenticator app (or run: oathtool --totp -b SECRET).")
    print("Start the server with: prt serve   (then open http://127.0.0.1:8000)")
    return 0


def _worker(args) -> int:
    setup_django()
    from prt.web import worker

    worker.run(periodic=not args.no_periodic, batch=args.batch)
    return 0


def _manage(args) -> int:
    setup_django()
    from django.core.management import execute_from_command_line

    execute_from_command_line(["prt web manage", *args.arguments])
    return 0
