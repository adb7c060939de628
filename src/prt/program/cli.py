"""CLI: ``prt program validate [FILE] | fidelity RATINGS.csv``.

The edge of :mod:`prt.program`: parses arguments, calls the domain functions and prints. Heavy
imports stay inside the handlers so ``prt --help`` stays fast; an InputError becomes one line on
stderr and exit status 2 (prt.cli.main).
"""

from __future__ import annotations

import argparse
import json

from prt.cliargs import print_help

HELP = "the PRT program: check the curriculum or a site's changes, fidelity statistics"


def register(commands, groups) -> None:
    program = commands.add_parser("program", help=HELP, description=HELP + ".")
    sub = program.add_subparsers(dest="subcommand", metavar="SUBCOMMAND")
    program.set_defaults(handler=lambda args, parser=program: print_help(parser))

    p = sub.add_parser(
        "validate", help="check the packaged curriculum, a site's change file or a whole curriculum",
        description="Validate a curriculum and print a summary: without FILE the packaged one; a FILE that "
                    "declares 'site:' is a site's changes, applied to the packaged curriculum (or to --base); "
                    "any other FILE is a whole curriculum. Markdown named by 'text' keys is read beside the "
                    "file. Errors name the file and the key (exit 2).")
    p.add_argument("file", nargs="?", metavar="FILE", help="curriculum or site YAML (default: the packaged one)")
    p.add_argument("--base", metavar="CURRICULUM", default=None,
                   help="with a site FILE: the whole curriculum it changes (default: the packaged one)")
    p.add_argument("--json", action="store_true", help="print the validated curriculum as JSON")
    p.set_defaults(handler=_validate)

    p = sub.add_parser(
        "fidelity", help="fidelity per therapist and per patient, beside the trial's reference",
        description="Read a ratings CSV (columns therapist, participant, session, optional rater, and one per "
                    "fidelity element: 1/0, yes/no or present/absent) and print the score (elements present) "
                    "mean, SD, minimum and maximum overall, per therapist and per patient, with the trial's "
                    "reference (mean 4.93, SD 0.87, minimum 3) beside them.")
    p.add_argument("ratings", metavar="RATINGS.csv")
    p.add_argument("--curriculum", metavar="FILE", default=None,
                   help="curriculum or site file declaring the elements (default: the packaged curriculum)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(handler=_fidelity)


def _validate(args: argparse.Namespace) -> int:
    from prt.errors import InputError
    from prt.program.curriculum import load_curriculum

    if args.base is not None and args.file is None:
        raise InputError("--base needs a site FILE to apply to it")
    if args.base is not None:
        curriculum = load_curriculum(args.base, site=args.file)
    else:
        curriculum = load_curriculum(args.file)
    if args.json:
        print(json.dumps(curriculum.to_dict(), indent=2, ensure_ascii=False))
        return 0
    for line in summary_lines(curriculum):
        print(line)
    return 0


def summary_lines(c) -> list[str]:
    """The validated curriculum in a few lines (what ``prt program validate`` prints)."""
    where = c.origin or "packaged"
    core = [x.id for x in c.components if x.phase == "core"]
    needed = [x.id for x in c.components if x.phase == "as_needed"]
    lines = [f"valid: curriculum {c.name} version {c.version} ({where})", f"title: {c.title}",
             f"components: {len(c.components)} (core: {', '.join(core)}; as needed: {', '.join(needed) or 'none'})",
             f"steps: {len(c.steps)}; home practice assignments: {len(c.assignments)}; "
             f"sessions: {len(c.sessions)}"]
    width = max(len(s.title) for s in c.sessions)
    for s in c.sessions:
        extra = c.session_components(s.number, as_needed=True)
        planned = c.session_components(s.number)
        added = [x for x in extra if x not in planned]
        lines.append(f"  session {s.number:>2}  {s.title:<{width}}  {s.minutes} min  "
                     f"{', '.join(planned)}{' (+ as needed: ' + ', '.join(added) + ')' if added else ''}"
                     f"; home: {', '.join(s.assignments) or 'none'}")
    bands = ", ".join(f"{b.minimum}{'' if b.minimum == b.maximum else '-' + str(b.maximum)} {b.label}"
                      for b in c.evidence.bands)
    lines.append(f"evidence sheet: {len(c.evidence.items)} kinds; strength by kinds with examples: {bands}")
    t = c.tracking
    phases = ", ".join(f"{p.id} {p.seconds} s" for p in t.phases)
    lines.append(f"somatic tracking: {phases} ({t.seconds / 60:g} min); pain >= {t.high_pain_from}: {t.high.tool}, "
                 f"else {t.low.tool}")
    e = c.exposure
    lines.append(f"graded exposure: a step is mastered after {e.attempts} attempts with fear <= "
                 f"max({e.fear_floor}, {e.fear_fraction:g} x its rated fear); hold off at {e.hold_off_at}/10")
    f = c.fidelity
    lines.append(f"fidelity: {len(f.elements)} elements; reference mean {f.reference.mean:g} (SD {f.reference.sd:g}), "
                 f"minimum {f.reference.minimum}; raters' sample: {f.sessions_per_patient} sessions from "
                 f"{f.patient_fraction:.0%} of patients")
    v = c.evaluation
    lines.append(f"physician evaluation: {len(v.red_flags)} red flags (any found blocks referral), "
                 f"{len(v.education)} education topics, {len(v.factors)} centralization factors, "
                 f"{len(v.imaging_findings)} imaging findings")
    for arm in c.control_arms:
        later = sorted({i.release_after for i in arm.items if i.release_after})
        lines.append(f"control arm {arm.arm}: {len(arm.items)} items, event {arm.event}"
                     + (f"; released after {', '.join(later)}: "
                        + ", ".join(i.id for i in arm.items if i.release_after) if later else ""))
    lines.append(f"Markdown handouts: {len(c.texts())}")
    return lines


def _fidelity(args: argparse.Namespace) -> int:
    from prt.program.curriculum import load_curriculum
    from prt.program.fidelity import fidelity_summary, read_ratings

    curriculum = load_curriculum(args.curriculum)
    summary = fidelity_summary(read_ratings(args.ratings, curriculum), curriculum)
    if args.json:
        print(json.dumps(summary.to_dict(), indent=2))
        return 0
    for line in fidelity_lines(summary, args.ratings):
        print(line)
    return 0


def fidelity_lines(summary, source: str = "ratings") -> list[str]:
    """The fidelity table: overall, the trial's reference, each therapist, each patient."""
    ref, n = summary.reference, summary.elements_total
    groups = [("all", summary.overall), *((f"therapist {g.name}", g) for g in summary.therapists),
              *((f"patient {g.name}", g) for g in summary.participants)]
    width = max(len("trial reference"), *(len(label) for label, _ in groups))
    below = f"below {ref.minimum}"
    head = f"{'':<{width}}  {'sessions':>8}  {'mean':>5}  {'SD':>5}  {'min':>3}  {'max':>3}  {below:>7}"

    def line(label, g):
        sd = "-" if g.sd is None else f"{g.sd:.2f}"
        return (f"{label:<{width}}  {g.sessions:>8}  {g.mean:>5.2f}  {sd:>5}  {g.minimum:>3}  {g.maximum:>3}  "
                f"{g.below_minimum:>7}")

    out = [f"fidelity: {source}: {summary.overall.sessions} rated sessions, {len(summary.participants)} patients, "
           f"{len(summary.therapists)} therapists; score = elements present of {n}", head,
           line("all", summary.overall),
           f"{'trial reference':<{width}}  {'':>8}  {ref.mean:>5.2f}  {ref.sd:>5.2f}  {ref.minimum:>3}"]
    out.extend(line(label, g) for label, g in groups[1:])
    out.append(f"trial reference: {ref.source}")
    out.append("elements present:")
    out.extend(f"  {i}. {e.id}: {e.present}/{e.rated} ({e.share:.0%})" for i, e in enumerate(summary.elements, 1))
    if summary.below_minimum:
        out.append(f"sessions below the trial's minimum ({ref.minimum}):")
        out.extend(f"  patient {r.participant} session {r.session} (therapist {r.therapist}"
                   f"{', rater ' + r.rater if r.rater else ''}): {r.score}" for r in summary.below_minimum)
    else:
        out.append(f"no session below the trial's minimum ({ref.minimum})")
    return out
