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
    score.set_defaults(handler=_score)

    listing = commands.add_parser("instruments", help=LIST_HELP, description=LIST_HELP + ".")
    listing.add_argument("--fhir", metavar="INSTRUMENT_ID",
                         help="print this instrument as a FHIR R4 Questionnaire (JSON)")
    listing.add_argument("--show", metavar="INSTRUMENT_ID",
                         help="print this instrument's definition (items, codes, rules) as JSON")
    listing.set_defaults(handler=_instruments)


def _read(path: str | None) -> str:
    from prt.errors import InputError

    if path is None or path == "-":
        return sys.stdin.read()
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}") from None


def _reject_constant(name: str):
    from prt.errors import InputError

    raise InputError(f"responses: {name} is not valid JSON; use null for a missing item")


def _score(args: argparse.Namespace) -> int:
    from prt.errors import InputError
    from prt.instruments import score
    from prt.instruments.fhir import score_questionnaire_response

    if args.fhir is not None:
        result = score_questionnaire_response(_read(args.fhir), args.instrument, args.variant)
    else:
        if args.instrument is None:
            raise InputError("INSTRUMENT_ID is required (or use --fhir FILE)")
        text = _read(args.responses)
        try:
            responses = json.loads(text, parse_constant=_reject_constant)
        except json.JSONDecodeError as exc:
            raise InputError(f"responses: malformed JSON (line {exc.lineno}, column {exc.colno}); "
                             'expected an object like {"1": 2, "2": 0}') from None
        if not isinstance(responses, dict):
            raise InputError('responses: expected a JSON object like {"1": 2, "2": 0}')
        result = score(args.instrument, responses, variant=args.variant)
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
