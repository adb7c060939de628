"""The ``prt`` command line: one program, a subcommand per job.

Each domain package contributes its subcommands through a ``register(commands, groups)`` function
in its ``cli`` module; heavy imports stay inside the handlers so ``prt --help`` is instant.
A :class:`prt.errors.PrtError` becomes one line on stderr and its exit status (2 for bad input,
3 for a tampered allocation log); an OS error (read-only or full disk, a missing folder) becomes one
line naming the path, exit 2. No traceback reaches a user for anything prt can explain.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from prt import __version__
from prt.cliargs import print_help
from prt.errors import PrtError

#: Modules whose ``register(commands, groups)`` adds subcommands, in help order.
REGISTRARS = (
    "prt.instruments.cli",
    "prt.analysis.cli",
    "prt.trial.cli",
    "prt.trial.cli_simulation",
    "prt.program.cli",
    "prt.imaging.cli",
    "prt.attribution.cli",
    "prt.web.cli",
)

#: Command groups (``prt trial ...``) shared by several registrars.
GROUPS = {"trial": "run a trial: eligibility, allocation, schedule, CONSORT, REDCap"}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="prt",
        description="Run, deliver and analyse Pain Reprocessing Therapy trials.",
    )
    parser.add_argument("--version", action="version", version=f"prt {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    groups = {}
    for name, help_text in GROUPS.items():
        group_parser = commands.add_parser(name, help=help_text, description=help_text)
        groups[name] = group_parser.add_subparsers(dest="subcommand", metavar="SUBCOMMAND")
        group_parser.set_defaults(handler=lambda args, p=group_parser: print_help(p))
    for module_name in REGISTRARS:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:  # a part not built yet
            if exc.name != module_name:
                raise
            continue
        module.register(commands, groups)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 2
    prog = " ".join(p for p in ("prt", args.command, getattr(args, "subcommand", None)) if p)
    try:
        status = handler(args)
    except PrtError as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return exc.exit_status
    except BrokenPipeError:
        return 0
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"{prog}: error: {where}{exc.strerror or exc}", file=sys.stderr)
        return 2
    except MemoryError:
        print(f"{prog}: error: out of memory (the input is too large for this machine)", file=sys.stderr)
        return 2
    return int(status or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
