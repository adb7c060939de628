"""CLI: ``prt simulate``, ``prt power``, ``prt trial redcap-dictionary``, ``prt trial convert``.

The edge only: each handler parses its arguments, calls one package function
(:mod:`prt.trial.simulation`, :mod:`prt.trial.power`, :mod:`prt.trial.redcap_dictionary`,
:mod:`prt.trial.convert`) and prints. Heavy imports stay inside the handlers so ``prt --help`` stays fast.
"""

from __future__ import annotations

import argparse
import json
import sys


def register(commands, groups) -> None:
    p = commands.add_parser(
        "simulate",
        help="write a synthetic PRT trial calibrated to the Boulder study (demo data)",
        description=(
            "Write a synthetic trial in the REDCap layout of the shared data, calibrated to the Boulder "
            "Back Pain Study's published arm x timepoint means, SDs, correlations and attrition "
            "(docs/simulation.md)."
        ),
    )
    p.add_argument("--n", type=int, default=151, help="participants randomized (default 151)")
    p.add_argument("--seed", type=int, default=None, help="random seed (same seed, same trial)")
    p.add_argument("--out", required=True, help="CSV file to write")
    p.add_argument("--layout", choices=("flat", "long", "tidy"), default="flat",
                   help="REDCap flat (default) or long export, or prt's tidy CSV")
    p.add_argument("--attrition", choices=("monotone", "observed"), default="monotone",
                   help="monotone dropout (default) or the trial's own per-timepoint counts")
    p.set_defaults(handler=_simulate)

    p = commands.add_parser(
        "power",
        help="power of the primary mixed-model test by simulation",
        description=(
            "Estimate the power of the trial's primary analysis (REML random-intercept model, time x arm, "
            "Satterthwaite t test; PRT vs one control) by simulation, with a Monte Carlo interval. "
            "EFFECT is the standardized difference in pre->post change in units of the post SD."
        ),
    )
    p.add_argument("--per-arm", type=int, required=True, help="participants per arm")
    p.add_argument("--effect", type=float, required=True, help="standardized effect D (e.g. 0.62)")
    p.add_argument("--alpha", type=float, default=0.05, help="two-sided significance level (default 0.05)")
    p.add_argument("--attrition", type=float, default=0.0, help="fraction per arm missing post (default 0)")
    p.add_argument("--correlation", type=float, default=0.5, help="pre-post correlation (default 0.5)")
    p.add_argument("--seed", type=int, default=None, help="random seed")
    p.add_argument("--simulations", type=int, default=1000, help="simulated trials (default 1000)")
    p.add_argument("--interval", choices=("wilson", "clopper-pearson"), default="wilson",
                   help="Monte Carlo 95%% interval (default wilson)")
    p.add_argument("--json", action="store_true",
                   help='print one JSON object {"power", "ci_low", "ci_high", "simulations"}')
    p.set_defaults(handler=_power)

    trial = groups["trial"]
    p = trial.add_parser(
        "redcap-dictionary",
        help="write a REDCap data dictionary, arms, events and instrument-event mapping",
        description=(
            "Write the REDCap project of a PRT trial: data_dictionary.csv (REDCap's 18 columns), arms.csv, "
            "events.csv and instrument_event_mapping.csv, with the Boulder study's field and event names."
        ),
    )
    p.add_argument("--out", required=True,
                   help="directory to write the four CSV files into (new, empty, or written by prt before)")
    p.set_defaults(handler=_redcap_dictionary)

    p = trial.add_parser(
        "convert",
        help="convert trial data between REDCap flat, REDCap long and tidy layouts",
        description="Read a REDCap flat or long export or a tidy CSV and write it in another layout.",
    )
    p.add_argument("input", help="the export to read (layout detected)")
    p.add_argument("--to", required=True, choices=("flat", "long", "tidy"), help="layout to write")
    p.add_argument("--out", required=True, help="CSV file to write")
    p.add_argument("--mapping", default=None, help="mapping file (YAML/JSON) for a non-Boulder project")
    p.set_defaults(handler=_convert)


def _simulate(args: argparse.Namespace) -> int:
    from prt.trial.convert import write_trial
    from prt.trial.simulation import check_output, simulate_trial
    from prt.vocabulary import ARMS

    check_output(args.out)                    # a bad --out (or real data there) fails before the simulation runs
    trial = simulate_trial(args.n, seed=args.seed, attrition=args.attrition)
    write_trial(trial, args.out, args.layout)
    counts = trial.arms.value_counts()
    print(f"wrote {len(trial.participants)} simulated participants "
          f"({', '.join(f'{a} {counts.get(a, 0)}' for a in ARMS)}) to {args.out}", file=sys.stderr)
    return 0


def _power(args: argparse.Namespace) -> int:
    from prt.trial.power import simulate_power

    result = simulate_power(
        args.per_arm, args.effect, alpha=args.alpha, attrition=args.attrition, correlation=args.correlation,
        simulations=args.simulations, seed=args.seed, interval=args.interval,
    )
    if args.json:
        print(json.dumps({"power": result.power, "ci_low": result.ci_low, "ci_high": result.ci_high,
                          "simulations": result.simulations}))
    else:
        print(
            f"power {result.power:.3f} (95% {result.interval} interval {result.ci_low:.3f}-{result.ci_high:.3f}; "
            f"{result.rejections} of {result.simulations} simulated trials significant at alpha {result.alpha:g}; "
            f"{result.per_arm} per arm, D = {result.effect:g}, attrition {result.attrition:g}, "
            f"pre-post r = {result.correlation:g}, {result.method})"
        )
    return 0


def _redcap_dictionary(args: argparse.Namespace) -> int:
    from prt.trial.redcap_dictionary import project_warnings, write_project

    for warning in project_warnings():
        print(f"warning: {warning}", file=sys.stderr)
    for path in write_project(args.out).values():
        print(path)
    return 0


def _convert(args: argparse.Namespace) -> int:
    from prt.trial.convert import convert_trial

    result = convert_trial(args.input, args.to, args.out, args.mapping)
    for note in result.notes:
        print(f"note: {note}", file=sys.stderr)
    return 0
