"""CLI: ``prt trial screen | enrol | keygen | init-log | allocate | verify-log | replay-log |
simulate-allocation | schedule | consort``.

The edge of :mod:`prt.trial`: reads CSV/YAML, appends to the JSON Lines logs, prints tables or
JSON. Heavy imports stay inside the handlers so ``prt --help`` stays fast.
"""

from __future__ import annotations

import argparse
import json
import sys


def register(commands, groups) -> None:
    trial = groups["trial"]

    p = trial.add_parser(
        "screen", help="screen people against the eligibility rules and append to the screening log",
        description="Screen each row of a CSV of screening answers (one column per rule field) against "
                    "the trial's eligibility rules (or --rules, plus --site changes); print eligible / "
                    "ineligible (all reason codes) / incomplete (missing fields) and append each result "
                    "to the screening log.")
    p.add_argument("answers", help="CSV, one row per person screened")
    p.add_argument("--log", required=True, help="screening log (JSON Lines, appended)")
    p.add_argument("--rules", default=None, help="rules YAML (default: the trial's criteria)")
    p.add_argument("--site", default=None, help="site YAML adding, overriding or disabling rules")
    p.add_argument("--id-column", default="participant", help="record id column (default participant)")
    p.add_argument("--config", default=None,
                   help="minimization YAML whose factor answers an eligible screening keeps (default: the "
                        "trial's: age, sex, pain_avg_week, opioid)")
    p.add_argument("--json", action="store_true", help="print the results as JSON")
    p.set_defaults(handler=_screen)

    p = trial.add_parser(
        "enrol", help="record that an eligible person enrolled (consented) or did not",
        description="Append an enrolment decision for a participant whose latest screening is eligible.")
    p.add_argument("participant")
    p.add_argument("--log", required=True, help="screening log (JSON Lines, appended)")
    p.add_argument("--not-enrolled", metavar="REASON", default=None,
                   help="did not enrol, with a reason ('declined' counts as declined to participate)")
    p.set_defaults(handler=_enrol)

    p = trial.add_parser(
        "keygen", help="create the secret key that signs an allocation log",
        description="Write a new random 256-bit key to --out (mode 0600; an existing file is never "
                    "replaced). The unblinded statistician keeps it: every line of an allocation log is "
                    "signed with it (HMAC-SHA256), so nobody without it can forge or edit the log.")
    p.add_argument("--out", required=True, help="key file to create (must not exist)")
    p.set_defaults(handler=_keygen)

    p = trial.add_parser(
        "init-log", help="start a signed allocation log (minimization config, random source)",
        description="Create a new, empty allocation log holding the minimization config, the random "
                    "source (numpy PCG64 seeded from --seed or from the OS's secrets; or 'secrets' draws) "
                    "and the key's id, signed with --key. The log is created exclusively: an existing file "
                    "is refused.")
    p.add_argument("--log", required=True, help="allocation log to create (must not exist)")
    p.add_argument("--key", required=True, help="key file (prt trial keygen) that signs the log")
    p.add_argument("--config", default=None, help="minimization YAML (default: the trial's factors)")
    p.add_argument("--source", choices=("pcg64", "secrets"), default="pcg64", help="random source")
    p.add_argument("--seed", default=None, help="PCG64 seed, 0 to 2**128 - 1 (default: 128 bits from secrets)")
    p.add_argument("--witness", default=None,
                   help="witness file: append 'seq head time' of the header (keep it out of the log's reach)")
    p.set_defaults(handler=_init_log)

    p = trial.add_parser(
        "allocate", help="allocate one enrolled, eligible participant by minimization",
        description="Allocate a participant by minimization and append the signed allocation to the log; "
                    "print the arm and the new head hash, the receipt to record outside the log. The factors "
                    "come from the participant's screening record; a --factor fills a factor the record "
                    "lacks and must agree with it. Refused unless the latest screening is eligible, the "
                    "participant is enrolled, every factor is known and valid, and the log verifies with "
                    "the key (and the witness) and replays. A participant already in the log gets the "
                    "recorded allocation again, marked as a repeat (exit 0, nothing written).")
    p.add_argument("--log", required=True, help="allocation log (created by init-log)")
    p.add_argument("--key", required=True, help="the log's key file (prt trial keygen)")
    p.add_argument("--screening-log", required=True, help="screening log with the eligibility, answers and enrolment")
    p.add_argument("--participant", required=True)
    p.add_argument("--factor", action="append", default=[], metavar="NAME=VALUE",
                   help="a factor value the screening record lacks, e.g. sex=female opioid=no (repeat)")
    p.add_argument("--witness", default=None,
                   help="witness file: check the log against it, then append 'seq head time' of the new head")
    p.add_argument("--json", action="store_true", help="print the allocation as JSON")
    p.set_defaults(handler=_allocate)

    p = trial.add_parser(
        "verify-log", help="check an allocation log's signatures and hash chain",
        description="Check every line's signature (with --key), hash and link; with --head, that the anchored "
                    "head hash is in the log; with --witness, that every witnessed head is (detects lines "
                    "removed at the end and a regenerated log). Exit 3 naming the first bad line, 2 for "
                    "bad input. Without --key only --allow-unsigned checks the chain alone (unauthenticated).")
    _log_check_arguments(p)
    p.set_defaults(handler=_verify_log)

    p = trial.add_parser(
        "replay-log", help="recompute every allocation in a log from config, inputs and draws",
        description="Verify (as verify-log), then recompute each allocation from the config, the inputs and "
                    "the recorded draws (regenerating PCG64 draws from the recorded states); with "
                    "--screening-log, also check each participant was screened eligible, enrolled, and "
                    "allocated with their screening answers. Exit 3 on any mismatch.")
    _log_check_arguments(p)
    p.add_argument("--screening-log", default=None, help="screening log to check every allocation against")
    p.add_argument("--json", action="store_true", help="print the allocations as JSON")
    p.set_defaults(handler=_replay_log)

    p = trial.add_parser(
        "simulate-allocation", help="balance and predictability: minimization vs simple vs permuted blocks",
        description="Simulate many trials at once with minimization, simple randomization and permuted "
                    "blocks on the same participants; report arm and marginal (factor-level) imbalance and "
                    "the correct-guess rate of observers guessing the minimization-favoured arm and the "
                    "arm with fewest allocations.")
    p.add_argument("--config", default=None, help="minimization YAML (default: the trial's factors)")
    p.add_argument("--participants", type=int, default=151, help="participants per trial (default 151)")
    p.add_argument("--trials", type=int, default=1000, help="simulated trials (default 1000)")
    p.add_argument("--seed", type=int, default=None, help="random seed")
    p.add_argument("--population", default=None,
                   help="trial data (REDCap export or tidy CSV) to resample participants' factors from "
                        "(age, sex, baseline pain, opioid use); default: uniform over levels")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(handler=_simulate_allocation)

    p = trial.add_parser(
        "schedule", help="visits due, overdue and missed on a date",
        description="From a CSV of participants (participant, arm, optional withdrawn date, and one column "
                    "per event holding the date it happened), list the visits due, overdue and missed on "
                    "--date, and who has withdrawn (nothing is owed after a withdrawal).")
    p.add_argument("--participants", required=True,
                   help="CSV: participant, arm, withdrawn, eligibility, pre, ...")
    p.add_argument("--date", required=True, help="report date YYYY-MM-DD")
    p.add_argument("--schedule", default=None, help="schedule YAML (default: the trial's)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(handler=_schedule)

    p = trial.add_parser(
        "consort", help="draw the CONSORT 2010 flow diagram (SVG and PNG) from the trial's records",
        description="Count and draw the CONSORT 2010 flow diagram from the screening log, the allocation "
                    "log and a follow-up CSV (participant, received, not_received_reason, follow_up "
                    "[completed|lost|discontinued], follow_up_reason, analysed, not_analysed_reason).")
    p.add_argument("--screening-log", required=True)
    p.add_argument("--allocation-log", required=True)
    p.add_argument("--key", required=True, help="the allocation log's key file (prt trial keygen)")
    p.add_argument("--flow", required=True, help="follow-up CSV, one row per randomized participant")
    p.add_argument("--out", required=True, help="output stem: writes STEM.svg and STEM.png")
    p.add_argument("--title", default=None)
    p.add_argument("--json", action="store_true", help="also print the counts as JSON")
    p.set_defaults(handler=_consort)


def _log_check_arguments(p) -> None:
    """The options verify-log and replay-log share: the log, its key and its external anchors."""
    p.add_argument("log")
    p.add_argument("--key", default=None, help="the log's key file (prt trial keygen)")
    p.add_argument("--head", default=None, help="a head hash recorded outside the log")
    p.add_argument("--witness", default=None, help="witness file of heads recorded at each allocation")
    p.add_argument("--allow-unsigned", action="store_true",
                   help="without a key, or for an old unsigned log: check the hash chain alone, which "
                        "anyone able to edit the file can forge (unauthenticated)")


def _read_csv(path: str, what: str):
    """A CSV table as a DataFrame of text (:func:`prt.trial.inputs.read_csv`: errors name file, row)."""
    from prt.trial.inputs import read_csv

    return read_csv(path, what).frame()


def _screen(args: argparse.Namespace) -> int:
    from prt.errors import InputError
    from prt.trial.eligibility import append_screenings, load_rules, screen_table
    from prt.trial.inputs import read_csv
    from prt.trial.minimization import load_config

    rules = load_rules(args.rules, args.site)
    factors = load_config(args.config).factors
    table = read_csv(args.answers, "screening answers")
    if args.id_column not in table.columns:
        raise InputError(f"screening answers {args.answers}: no {args.id_column!r} column")
    results = screen_table(table.records, rules, id_field=args.id_column, factors=factors, rows=table.rows)
    append_screenings(args.log, results)   # every row checked first: a failure writes nothing
    if args.json:
        print(json.dumps([r.to_dict() for r in results], indent=2))
    else:
        for r in results:
            detail = ",".join(r.reasons) if r.reasons else ""
            if r.missing:
                detail = (detail + " " if detail else "") + "missing: " + ",".join(r.missing)
            print(f"{r.participant}\t{r.status}\t{detail}".rstrip())
    return 0


def _enrol(args: argparse.Namespace) -> int:
    from prt.trial.eligibility import record_enrolment

    enrolled = args.not_enrolled is None
    decision = record_enrolment(args.log, args.participant, enrolled, args.not_enrolled or "")
    print(f"{decision.participant}\t{'enrolled' if decision.enrolled else 'not enrolled: ' + decision.reason}")
    return 0


def _keygen(args: argparse.Namespace) -> int:
    from prt.trial.allocation_log import create_key

    kid = create_key(args.out)
    print(f"created {args.out}\tkey id {kid}\t(mode 0600: keep it secret and backed up; without it the log "
          "can be neither verified nor extended)")
    return 0


def _log_options(args: argparse.Namespace) -> dict:
    """The key (loaded) and head (checked) options of init-log / allocate / verify-log / replay-log."""
    from prt.trial.allocation_log import load_key, parse_head

    options = {"key": load_key(args.key) if getattr(args, "key", None) else None}
    if getattr(args, "head", None) is not None:
        options["head"] = parse_head(args.head)
    return options


def _init_log(args: argparse.Namespace) -> int:
    from prt.trial.allocation_log import create_log, parse_seed
    from prt.trial.minimization import load_config

    seed = None if args.seed is None else parse_seed(args.seed, "--seed")
    key = _log_options(args)["key"]
    header = create_log(args.log, load_config(args.config), args.source, seed, key=key, witness=args.witness)
    print(f"created {args.log}\tkey id {header['key_id']}\thead {header['hash']}")
    return 0


def _allocate(args: argparse.Namespace) -> int:
    from prt.trial.allocation_log import allocate
    from prt.trial.eligibility import read_screening_log
    from prt.trial.minimization import parse_factor_args

    factors = parse_factor_args(args.factor)
    key = _log_options(args)["key"]
    screening = read_screening_log(args.screening_log)
    result = allocate(args.log, args.participant, factors, key=key, screening=screening, witness=args.witness)
    if args.json:
        print(json.dumps({"seq": result.seq, "participant": result.participant, "arm": result.arm,
                          "probabilities": list(result.probabilities), "head": result.hash,
                          "repeat": result.repeat}))
    else:
        note = "\trepeat: already allocated, nothing written" if result.repeat else ""
        print(f"{result.participant}\t{result.arm}\treceipt: seq {result.seq} head {result.hash}{note}")
    return 0


def _unauthenticated_warning(check) -> None:
    if not check.authenticated:
        print("warning: UNAUTHENTICATED check (no key, or an unsigned log): the hash chain proves nothing "
              "against anyone able to edit the file", file=sys.stderr)


def _verify_log(args: argparse.Namespace) -> int:
    from prt.trial.allocation_log import verify_log

    check = verify_log(args.log, allow_unsigned=args.allow_unsigned, witness=args.witness, **_log_options(args))
    how = (f"signatures verify with key id {check.key_id}" if check.authenticated
           else "hash chain intact (UNAUTHENTICATED)")
    witnessed = f", {check.witnessed} witnessed heads agree" if args.witness else ""
    print(f"ok: {check.n_allocations} allocations, {how}{witnessed}, head {check.head}")
    _unauthenticated_warning(check)
    return 0


def _replay_log(args: argparse.Namespace) -> int:
    from prt.trial.allocation_log import replay_file
    from prt.trial.eligibility import read_screening_log

    screening = read_screening_log(args.screening_log) if args.screening_log else None
    replay = replay_file(args.log, allow_unsigned=args.allow_unsigned, witness=args.witness, screening=screening,
                         **_log_options(args))
    allocations = replay.allocations
    if args.json:
        print(json.dumps([{"seq": a.seq, "participant": a.participant, "arm": a.arm, "draw": a.draw,
                           "probabilities": list(a.probabilities)} for a in allocations], indent=2))
    else:
        for a in allocations:
            print(f"{a.seq}\t{a.participant}\t{a.arm}")
        checked = " and agree with the screening log" if screening is not None else ""
        print(f"ok: {len(allocations)} allocations replayed and match{checked}", file=sys.stderr)
    _unauthenticated_warning(replay.verification)
    return 0


def _simulate_allocation(args: argparse.Namespace) -> int:
    from prt.trial.inputs import check_seed
    from prt.trial.minimization import load_config
    from prt.trial.randomization_simulation import compare_schemes, load_population

    check_seed(args.seed, "--seed")
    config = load_config(args.config)
    population = load_population(args.population, config) if args.population else None
    result = compare_schemes(config, args.participants, args.trials, args.seed, population=population)
    if args.json:
        print(json.dumps({k: v.to_dict() for k, v in result.items()}, indent=2))
        return 0
    print(f"{args.trials} simulated trials of {args.participants} participants; measure {config.measure}, "
          f"p_preferred {config.p_preferred}")
    header = ("scheme", "arm range", "max level range", "sum level ranges", "guess (minim.)", "guess (fewest)")
    print("\t".join(header))
    for name, s in result.items():
        print(f"{name}\t{s.arm_range_mean:.2f}\t{s.marginal_max_mean:.2f}\t{s.marginal_total_mean:.2f}\t"
              f"{s.guess_minimization:.3f}\t{s.guess_convergence:.3f}")
    return 0


def _schedule(args: argparse.Namespace) -> int:
    from prt.trial.schedule import Schedule, iso_date, load_schedule, read_participants, schedule_report

    on = iso_date(args.date, "--date")
    schedule = load_schedule(args.schedule) if args.schedule else Schedule()
    report = schedule_report(read_participants(args.participants), on, schedule)
    if args.json:
        print(json.dumps(report.to_dict(), indent=2))
        return 0
    for state in ("due", "overdue", "missed"):
        visits = report.where(state)
        print(f"{state} on {on.isoformat()}: {len(visits)}")
        for v in visits:
            print(f"  {v.participant}\t{v.event}\ttarget {v.target.isoformat()}\t"
                  f"window {v.window_open.isoformat()}..{v.window_close.isoformat()}")
    if report.withdrawals:
        print(f"withdrawn by {on.isoformat()}: {len(report.withdrawals)}")
        for participant, left in report.withdrawals:
            print(f"  {participant}\twithdrew {left.isoformat()}")
    return 0


def _consort(args: argparse.Namespace) -> int:
    from prt.trial.allocation_log import replay_log
    from prt.trial.consort import consort_counts, read_flows, write_consort
    from prt.trial.eligibility import read_screening_log
    from prt.trial.inputs import output_file

    for suffix in ("svg", "png"):
        output_file(f"{args.out}.{suffix}")     # a bad --out fails before anything is read
    screening = read_screening_log(args.screening_log)
    from prt.trial.allocation_log import load_key

    allocations = {a.participant: a.arm for a in replay_log(args.allocation_log, key=load_key(args.key))}
    counts = consort_counts(screening, allocations, read_flows(args.flow))
    paths = write_consort(counts, args.out, title=args.title)
    if args.json:
        print(json.dumps(counts.to_dict(), indent=2))
    else:
        print("wrote " + " ".join(str(p) for p in paths))
    return 0
