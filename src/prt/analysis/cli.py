"""CLI: ``prt analyze INPUT --out DIR`` runs every analysis of a trial export and writes the report.

Heavy imports stay inside the handler so ``prt --help`` stays fast. Everything is written into a
temporary directory beside DIR and renamed into place only when all of it succeeded, so DIR never
holds a partial ``results.json``.
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
    p.add_argument("--out", required=True, metavar="DIR", help="output directory (replaced as a whole)")
    p.add_argument("--bootstrap", type=_count, default=10_000, metavar="N",
                   help="bootstrap resamples per effect size (default 10000)")
    p.add_argument("--mediation-bootstrap", type=_count, default=5_000, metavar="N",
                   help="bootstrap resamples per mediation model (default 5000)")
    p.add_argument("--seed", type=int, default=0, metavar="S", help="random seed (default 0)")
    p.add_argument("--mapping", metavar="FILE", help="YAML/JSON mapping of a non-Boulder REDCap project")
    p.set_defaults(handler=_analyze)


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number of resamples, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError("the number of resamples must be 0 or more")
    return value


def _analyze(args) -> int:
    import json
    import os
    import shutil
    import tempfile
    from pathlib import Path

    from prt.analysis.engine import jsonable, run_analysis
    from prt.data import load_mapping, read_trial
    from prt.errors import InputError

    source = Path(args.input)
    if not source.is_file():
        raise InputError(f"input file {args.input!r} not found")
    mapping = load_mapping(args.mapping) if args.mapping else None
    trial = read_trial(source, mapping=mapping)
    results = run_analysis(
        trial, bootstrap=args.bootstrap, mediation_bootstrap=args.mediation_bootstrap,
        seed=args.seed, progress=sys.stderr.isatty(),
    )
    text = json.dumps(jsonable(results), indent=1, allow_nan=False)

    out = Path(args.out)
    parent = out.resolve().parent
    parent.mkdir(parents=True, exist_ok=True)
    if out.exists() and not out.is_dir():
        raise InputError(f"--out {args.out!r} exists and is not a directory")
    work = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=parent))
    try:
        (work / "results.json").write_text(text + "\n", encoding="utf-8")
        written = _write_report(results, trial, work)
        old = None
        if out.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=parent))
            os.replace(out, old / out.name)
        os.replace(work, out)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    print(f"wrote {out / 'results.json'}" + (f" and {len(written)} report files" if written else ""))
    return 0


def _write_report(results: dict, trial, out_dir) -> list:
    """Tables, figures and report.html by :mod:`prt.analysis.report` (absent: results.json only)."""
    try:
        from prt.analysis.report import write_outputs
    except ImportError as exc:  # the report part not installed
        print(f"prt analyze: note: report not written ({exc})", file=sys.stderr)
        return []
    return write_outputs(results, trial, out_dir)
