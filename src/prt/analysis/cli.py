"""CLI: ``prt analyze INPUT --out DIR`` runs every analysis of a trial export and writes the report.

Parses arguments and prints; the work is :func:`prt.analysis.run_analysis` and
:func:`prt.analysis.write_analysis` (all or nothing; never replaces a directory prt did not write).
The report's extra sections come from the domain packages, composed here (the edge) so that
``prt.analysis`` imports none of them: :func:`prt.program.report.program_section` (``--program``),
:func:`prt.attribution.report.attribution_section` (automatic when the export carries coded
attributions; ``--attribution-model``) and :func:`prt.imaging.report.imaging_section`
(``--imaging``). They are built before the long bootstrap, so bad input fails at once.
Heavy imports stay inside the handler so ``prt --help`` stays fast.
"""

from __future__ import annotations

import sys

from prt.cliargs import ProgressBar, whole_number


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
    p.add_argument("--bootstrap", type=whole_number, default=10_000, metavar="N",
                   help="bootstrap resamples per effect size (default 10000)")
    p.add_argument("--mediation-bootstrap", type=whole_number, default=5_000, metavar="N",
                   help="bootstrap resamples per mediation model (default 5000)")
    p.add_argument("--seed", type=whole_number, default=0, metavar="S", help="random seed, 0 or more (default 0)")
    p.add_argument("--mapping", metavar="FILE", help="YAML/JSON mapping of a non-Boulder REDCap project")
    p.add_argument("--dictionary", metavar="FILE",
                   help="REDCap data dictionary CSV: value labels, units and ranges of the project's fields")
    p.add_argument("--program", metavar="FILE",
                   help="program export (records.csv of prt.program's REDCap export, its folder or the web's zip): "
                        "adds the adherence and fidelity section")
    p.add_argument("--curriculum", metavar="FILE",
                   help="the curriculum (or site file) the program export was made with (default: prt's)")
    p.add_argument("--attribution-model", metavar="FILE",
                   help="a model from 'prt attribution train': automatic codes of the attributed causes beside "
                        "the human ones (the attribution section appears by itself when the export has cat1..3)")
    p.add_argument("--imaging", metavar="DIR", action="append", default=[],
                   help="an output folder of 'prt imaging behaviour|localizer|roi-effects|connectivity', or a "
                        "folder holding them (repeatable): adds the imaging section")
    p.set_defaults(handler=_analyze)


def _analyze(args) -> int:
    from prt.analysis import run_analysis, write_analysis
    from prt.data import load_mapping, read_trial

    mapping = load_mapping(args.mapping) if args.mapping else None
    trial = read_trial(args.input, mapping=mapping, dictionary=args.dictionary)
    sections = _sections(args, trial)
    with ProgressBar("bootstrap", "model") as progress:
        results = run_analysis(trial, bootstrap=args.bootstrap, mediation_bootstrap=args.mediation_bootstrap,
                               seed=args.seed, progress=progress)
    written = write_analysis(results, trial, args.out, sections=sections)
    extra = f" (with {', '.join(s.title.lower() for s in sections)})" if sections else ""
    print(f"wrote {written[0]} and {len(written) - 1} report files{extra}")
    for note in [*results.warnings, *(f"{s.key}: {n}" for s in sections for n in s.notes)]:
        print(f"prt analyze: note: {note}", file=sys.stderr)
    return 0


def _sections(args, trial) -> list:
    """The report's extra sections the arguments and the export call for (docs/analysis.md)."""
    from prt.errors import InputError

    sections = []
    if args.curriculum and not args.program:
        raise InputError("--curriculum describes a program export: give --program FILE with it")
    if args.program:
        from prt.program.curriculum import load_curriculum
        from prt.program.report import program_section

        curriculum = load_curriculum(args.curriculum) if args.curriculum else None
        sections.append(program_section(trial, args.program, curriculum))
    from prt.attribution.report import attribution_section, has_answers

    if args.attribution_model or has_answers(trial):
        section = attribution_section(trial, model=args.attribution_model, bootstrap=args.bootstrap,
                                      mediation_bootstrap=args.mediation_bootstrap, seed=args.seed)
        if section is not None:
            sections.append(section)
    if args.imaging:
        from prt.imaging.report import imaging_section

        sections.append(imaging_section(trial, args.imaging))
    return sections
