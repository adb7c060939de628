"""``prt score`` and ``prt instruments``: score a form from JSON or FHIR; list and export instruments.

Edge code: reads files/stdin and prints JSON. Bad input raises InputError, which ``prt.cli.main``
turns into one stderr line and exit status 2.
"""

from __future__ import annotations

import argparse
import json
import sys

SCORE_HELP = "score one completed instrument (JSON responses or a FHIR QuestionnaireResponse)"
LIST_HELP = "list the instruments (ids and titles), or export one as a FHIR R4 Questionnaire"


def register(commands, groups) -> None:
    score = commands.add_parser(
        "score", help=SCORE_HELP, description=SCORE_HELP + ". Prints one JSON object: "
        '{"instrument", "total", "subscales", "answered", "prorated"}.')
    score.add_argument("instrument", nargs="?", metavar="INSTRUMENT_ID",
                       help="instrument id (see `prt instruments`); optional with --fhir")
    source = score.add_mutually_exclusive_group()
    source.add_argument("--responses", metavar="FILE",
                        help='JSON object {"1": code, "2": code, ...}; default: stdin')
    source.add_argument("--fhir", metavar="FILE",
                        help="FHIR R4 QuestionnaireResponse JSON ('-' for stdin)")
    score.add_argument("--variant", metavar="NAME",
                       help="capture variant declared by the instrument (e.g. odi: redcap_1_6)")
    score.add_argument("--details", action="store_true",
                       help="also print t_score and the published interpretation band")
    score.add_argument("--partial", action="store_true",
                       help="with --fhir: also score a response whose status is in-progress or "
                            "stopped (each score still needs its published minimum of answers)")
    score.set_defaults(handler=_score)

    listing = commands.add_parser("instruments", help=LIST_HELP, description=LIST_HELP + ".")
    listing.add_argument("--fhir", metavar="INSTRUMENT_ID",
                         help="print this instrument as a FHIR R4 Questionnaire (JSON)")
    listing.add_argument("--show", metavar="INSTRUMENT_ID",
                         help="print this instrument's definition (items, codes, rules) as JSON")
    listing.set_defaults(handler=_instruments)


def _read(path: str | None, what: str) -> tuple[str, str]:
    """(text, name for messages) of a file or stdin, decoded by prt.files (BOM, UTF-16, binary)."""
    from prt.files import decode_text, read_text

    if path is None or path == "-":
        label = f"{what} (stdin)"
        raw = getattr(sys.stdin, "buffer", None)
        return (decode_text(raw.read(), label) if raw is not None else sys.stdin.read()), label
    return read_text(path, what), f"{what} {path}"


def _score(args: argparse.Namespace) -> int:
    from prt.errors import InputError
    from prt.instruments import responses_from_json, score, score_questionnaire_response

    if args.fhir is not None:
        text, source = _read(args.fhir, "QuestionnaireResponse")
        result = score_questionnaire_response(text, args.instrument, args.variant,
                                              partial=args.partial, source=source)
    else:
        if args.instrument is None:
            raise InputError("INSTRUMENT_ID is required (or use --fhir FILE)")
        if args.partial:
            raise InputError("--partial applies to --fhir only (JSON responses have no status)")
        text, source = _read(args.responses, "responses")
        result = score(args.instrument, responses_from_json(text, source), variant=args.variant)
    print(json.dumps(result.to_dict(details=args.details)))
    return 0


def _instruments(args: argparse.Namespace) -> int:
    from prt.instruments import definition_dict, get, ids
    from prt.instruments.fhir import questionnaire

    if args.fhir is not None:
        print(json.dumps(questionnaire(args.fhir), indent=2))
        return 0
    if args.show is not None:
        print(json.dumps(definition_dict(args.show), indent=2))
        return 0
    for inst_id in ids():
        print(f"{inst_id}\t{get(inst_id).title}")
    return 0
