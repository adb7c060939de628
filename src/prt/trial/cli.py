"""CLI: ``prt trial screen | enrol | init-log | allocate | verify-log | replay-log |
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
        "init-log", help="start an allocation log (minimization config, random source)",
        description="Create a new, empty allocation log holding the minimization config and the random "
                    "source (numpy PCG64 seeded from --seed or from the OS's secrets; or 'secrets' draws).")
    p.add_argument("--log", required=True, help="allocation log to create (must not exist)")
    p.add_argument("--config", default=None, help="minimization YAML (default: the trial's factors)")
    p.add_argument("--source", choices=("pcg64", "secrets"), default="pcg64", help="random source")
    p.add_argument("--seed", type=int, default=None, help="PCG64 seed (default: 128 bits from secrets)")
    p.set_defaults(handler=_init_log)

    p = trial.add_parser(
        "allocate", help="allocate one enrolled, eligible participant by minimization",
        description="Allocate a participant by minimization and append the allocation to the log. "
                    "Refused unless the latest screening is eligible, the participant is enrolled, every "
                    "factor is given, the log verifies and replays, and the participant is not yet allocated.")
    p.add_argument("--log", required=True, help="allocation log (created by init-log)")
    p.add_argument("--screening-log", required=True, help="screening log with the eligibility and enrolment")
    p.add_argument("--participant", required=True)
    p.add_argument("--factor", action="append", default=[], metavar="NAME=VALUE",
                   help="a factor value, e.g. age=45 sex=female pain=6 opioid=no (repeat)")
    p.add_argument("--json", action="store_true", help="print the allocation as JSON")
    p.set_defaults(handler=_allocate)

    p = trial.add_parser(
        "verify-log", help="check an allocation log's hash chain",
        description="Check every line's hash and link; with --head, also that the anchored head hash is "
                    "in the log (detects lines removed at the end). Exit 2 naming the first bad line.")
    p.add_argument("log")
    p.add_argument("--head", default=None, help="a head hash recorded outside the log")
    p.set_defaults(handler=_verify_log)

    p = trial.add_parser(
        "replay-log", help="recompute every allocation in a log from config, inputs and draws",
        description="Verify, then recompute each allocation from the config, the inputs and the recorded "
                    "draws (regenerating PCG64 draws from the recorded states); exit 2 on any mismatch.")
    p.add_argument("log")
    p.add_argument("--head", default=None, help="a head hash recorded outside the log")
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
        description="From a CSV of participants (participant, arm, and one column per event holding the "
                    "date it happened), list the visits due, overdue and missed on --date.")
    p.add_argument("--participants", required=True, help="CSV: participant, arm, eligibility, pre, ...")
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
    p.add_argument("--flow", required=True, help="follow-up CSV, one row per randomized participant")
    p.add_argument("--out", required=True, help="output stem: writes STEM.svg and STEM.png")
    p.add_argument("--title", default=None)
    p.add_argument("--json", action="store_true", help="also print the counts as JSON")
    p.set_defaults(handler=_consort)


def _read_csv(path: str, what: str):
    import pandas as pd

    from prt.errors import InputError

    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False)
    except FileNotFoundError:
        raise InputError(f"{what} {path}: file not found") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError):
        raise InputError(f"{what} {path}: not a readable CSV") from None


def _screen(args: argparse.Namespace) -> int:
    from prt.errors import InputError
    from prt.trial.eligibility import append_screenings, load_rules, screen_table

    rules = load_rules(args.rules, args.site)
    table = _read_csv(args.answers, "screening answers")
    if args.id_column not in table.columns:
        raise InputError(f"screening answers {args.answers}: no {args.id_column!r} column")
    results = screen_table(table.to_dict("records"), rules, id_field=args.id_column)
    append_screenings(args.log, results)
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


def _init_log(args: argparse.Namespace) -> int:
    from prt.trial.allocation_log import create_log
    from prt.trial.minimization import load_config

    header = create_log(args.log, load_config(args.config), args.source, args.seed)
    print(f"created {args.log}\thead {header['hash']}")
    return 0


def _allocate(args: argparse.Namespace) -> int:
    from prt.errors import InputError
    from prt.trial.allocation_log import allocate
    from prt.trial.eligibility import read_screening_log

    factors = {}
    for item in args.factor:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise InputError(f"--factor {item!r}: expected NAME=VALUE")
        if name.strip() in factors:
            raise InputError(f"--factor {name.strip()!r} given twice")
        factors[name.strip()] = value.strip()
    screening = read_screening_log(args.screening_log)
    result = allocate(args.log, args.participant, factors, eligibility=screening.status(args.participant),
                      enrolled=screening.enrolled(args.participant))
    if args.json:
        print(json.dumps({"seq": result.seq, "participant": result.participant, "arm": result.arm,
                          "probabilities": list(result.probabilities), "head": result.hash}))
    else:
        print(f"{result.participant}\t{result.arm}\thead {result.hash}")
    return 0


def _verify_log(args: argparse.Namespace) -> int:
    from prt.trial.allocation_log import verify_log

    check = verify_log(args.log, args.head)
    print(f"ok: {check.n_allocations} allocations, chain intact, head {check.head}")
    return 0


def _replay_log(args: argparse.Namespace) -> int:
    from prt.trial.allocation_log import replay_log

    allocations = replay_log(args.log, args.head)
    if args.json:
        print(json.dumps([{"seq": a.seq, "participant": a.participant, "arm": a.arm, "draw": a.draw,
                           "probabilities": list(a.probabilities)} for a in allocations], indent=2))
    else:
        for a in allocations:
            print(f"{a.seq}\t{a.participant}\t{a.arm}")
        print(f"ok: {len(allocations)} allocations replayed and match", file=sys.stderr)
    return 0


def _population(path: str, config) -> list[dict]:
    import pandas as pd

    from prt.data import read_trial
    from prt.errors import InputError

    needed = {"age", "sex", "pain", "opioid"}
    names = {f.name for f in config.factors}
    if names != needed:
        raise InputError(f"--population fills factors age, sex, pain, opioid; the config has {', '.join(sorted(names))}")
    trial = read_trial(path)
    p = trial.participants
    pain = trial.wide("pain_intensity", ["eligibility", "pre"]).mean(axis=1, skipna=False)
    if "current_opioid_use" not in p.columns:
        raise InputError(f"--population {path}: no current_opioid_use column")
    rows = []
    for pid in p.index:
        values = {"age": p.at[pid, "age"], "sex": p.at[pid, "sex"], "pain": pain.get(pid),
                  "opioid": p.at[pid, "current_opioid_use"]}
        if any(v is None or pd.isna(v) for v in values.values()):
            continue  # incomplete factor data is never allocated; leave it out of the population
        values["opioid"] = "yes" if float(values["opioid"]) == 1.0 else "no"
        values["participant"] = pid
        rows.append(values)
    return rows


def _simulate_allocation(args: argparse.Namespace) -> int:
    from prt.trial.minimization import load_config
    from prt.trial.randomization_simulation import compare_schemes

    config = load_config(args.config)
    population = _population(args.population, config) if args.population else None
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
    from datetime import date

    from prt.errors import InputError
    from prt.trial.schedule import Schedule, schedule_report

    try:
        on = date.fromisoformat(args.date)
    except ValueError:
        raise InputError(f"--date {args.date!r}: expected YYYY-MM-DD") from None
    schedule = Schedule()
    if args.schedule:
        import yaml

        try:
            with open(args.schedule, encoding="utf-8") as fh:
                spec = yaml.safe_load(fh)
        except (OSError, yaml.YAMLError):
            raise InputError(f"schedule {args.schedule}: cannot read as YAML") from None
        schedule = Schedule.from_dict(spec, f"schedule {args.schedule}")
    table = _read_csv(args.participants, "participants")
    if "participant" not in table.columns:
        raise InputError(f"participants {args.participants}: no 'participant' column")
    report = schedule_report(table.to_dict("records"), on, schedule)
    if args.json:
        print(json.dumps(report.to_dict(), indent=2))
        return 0
    for state in ("due", "overdue", "missed"):
        visits = report.where(state)
        print(f"{state} on {on.isoformat()}: {len(visits)}")
        for v in visits:
            print(f"  {v.participant}\t{v.event}\ttarget {v.target.isoformat()}\t"
                  f"window {v.window_open.isoformat()}..{v.window_close.isoformat()}")
    return 0


def _flag(value: str, row: int, column: str) -> bool:
    from prt.errors import InputError

    text = str(value).strip().lower()
    if text in {"1", "yes", "true", "y"}:
        return True
    if text in {"0", "no", "false", "n"}:
        return False
    raise InputError(f"follow-up CSV row {row}, column {column!r}: expected yes/no")


def _consort(args: argparse.Namespace) -> int:
    from prt.errors import InputError
    from prt.trial.allocation_log import replay_log
    from prt.trial.consort import ParticipantFlow, consort_counts, write_consort
    from prt.trial.eligibility import read_screening_log

    screening = read_screening_log(args.screening_log)
    allocations = {a.participant: a.arm for a in replay_log(args.allocation_log)}
    table = _read_csv(args.flow, "follow-up CSV")
    if "participant" not in table.columns:
        raise InputError(f"follow-up CSV {args.flow}: no 'participant' column")
    flows = []
    for i, row in enumerate(table.to_dict("records"), start=2):
        flows.append(ParticipantFlow(
            participant=str(row["participant"]).strip(),
            received=_flag(row.get("received", "yes") or "yes", i, "received"),
            not_received_reason=row.get("not_received_reason", ""),
            follow_up=(row.get("follow_up", "") or "completed").strip(),
            follow_up_reason=row.get("follow_up_reason", ""),
            analysed=_flag(row.get("analysed", "yes") or "yes", i, "analysed"),
            not_analysed_reason=row.get("not_analysed_reason", ""),
        ))
    counts = consort_counts(screening, allocations, flows)
    paths = write_consort(counts, args.out, title=args.title)
    if args.json:
        print(json.dumps(counts.to_dict(), indent=2))
    else:
        print("wrote " + " ".join(str(p) for p in paths))
    return 0
