"""What every ``prt`` subcommand's CLI module shares: argument types, the group help, a progress bar.

A leaf module (argparse and sys only; tqdm when a bar is drawn), so each package's ``cli`` module
and :mod:`prt.cli` itself use one definition of each.
"""

from __future__ import annotations

import argparse
import sys


def whole_number(text: str) -> int:
    """An argparse type: a whole number, 0 or more (counts, seeds)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a whole number 0 or more, got {text!r}")
    return value


def print_help(parser: argparse.ArgumentParser) -> int:
    """A command group called without a subcommand: its help, exit status 2."""
    parser.print_help()
    return 2


class ProgressBar:
    """A tqdm bar on stderr, only on a terminal, driven by a ``progress(done, total)`` callback.

    ``with ProgressBar("bootstrap", "model") as progress:`` gives the callback, or None when stderr
    is not a terminal (the engines then report nothing)."""

    def __init__(self, desc: str, unit: str, enabled: bool | None = None) -> None:
        self.enabled = sys.stderr.isatty() if enabled is None else enabled
        self.bar, self.desc, self.unit = None, desc, unit

    def __enter__(self):
        return self.update if self.enabled else None

    def update(self, done: int, total: int) -> None:
        if self.bar is None:
            from tqdm import tqdm

            self.bar = tqdm(total=total, desc=self.desc, unit=self.unit, file=sys.stderr, leave=False)
        self.bar.update(done - self.bar.n)

    def __exit__(self, *exc) -> None:
        if self.bar is not None:
            self.bar.close()
