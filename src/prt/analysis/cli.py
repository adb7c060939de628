"""CLI: ``prt analyze INPUT --out DIR`` runs every analysis of a trial export and writes the report.

Parses arguments and prints; the work is :func:`prt.analysis.run_analysis` and
:func:`prt.analysis.write_analysis` (all or nothing; never replaces a directory prt did not write).
Heavy imports stay inside the handler so ``prt --help`` stays fast.
"""

from __future__ import annotations

import argparse
import sys


def register(commands, groups) -> None:
    p = commands.add_parser(
        "analyze",
        help="analyse a trial export: primary mixed model, effect sizes, responders, mediation, report",
        description=(
            "Run the trial's analyses (Ashar et al., JAMA Psychiatry 2022) on a REDCap flat or long "
            "export or prt's tidy CSV, and write results.json, table1.csv, table2.csv, figures and "
            "report.html into DIR (docs/analysis.md)."
        ),
    )
    p.add_argument("input", metavar="INPUT", help="REDCap flat/long export or tidy CSV")
    p.add_argument("--out", required=True, metavar="DIR", help="output directory: new, empty, or a previous prt analyze output (replaced whole)")
    p.add_argument("--bootstrap", type=_count, default=10_000, metavar="N",
                   help="bootstrap resamples per effect size (default 10000)")
    p.add_argument("--mediation-bootstrap", type=_count, default=5_000, metavar="N",
                   help="bootstrap resamples per mediation model (default 5000)")
    p.add_argument("--seed", type=_count, default=0, metavar="S", help="random seed, 0 or more (default 0)")
    p.add_argument("--mapping", metavar="FILE", help="YAML/JSON mapping of a non-Boulder REDCap project")
    p.add_argument("--dictionary", metavar="FILE",
                   help="REDCap data dictionary CSV: value labels, units and ranges of the project's fields")
    p.set_defaults(handler=_analyze)


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a whole number 0 or more, got {text!r}")
    return value


def _analyze(args) -> int:
    from prt.analysis import run_analysis, write_analysis
    from prt.data import load_mapping, read_trial

    mapping = load_mapping(args.mapping) if args.mapping else None
    trial = read_trial(args.input, mapping=mapping, dictionary=args.dictionary)
    with _progress_bar(sys.stderr.isatty()) as progress:
        results = run_analysis(trial, bootstrap=args.bootstrap, mediation_bootstrap=args.mediation_bootstrap,
                               seed=args.seed, progress=progress)
    written = write_analysis(results, trial, args.out)
    print(f"wrote {written[0]} and {len(written) - 1} report files")
    for note in results.warnings:
        print(f"prt analyze: note: {note}", file=sys.stderr)
    return 0


class _progress_bar:
    """A tqdm bar on stderr driven by the engine's ``progress(done, total)`` callback."""

    def __init__(self, enabled: bool) -> None:
        self.enabled, self.bar = enabled, None

    def __enter__(self):
        return self.update if self.enabled else None

    def update(self, done: int, total: int) -> None:
        if self.bar is None:
            from tqdm import tqdm

            self.bar = tqdm(total=total, desc="bootstrap", unit="model", file=sys.stderr, leave=False)
        self.bar.update(done - self.bar.n)

    def __exit__(self, *exc) -> None:
        if self.bar is not None:
            self.bar.close()
