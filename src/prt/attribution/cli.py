"""CLI: ``prt attribution code | train | evaluate`` (docs/attribution.md).

The edge of :mod:`prt.attribution`: reads files, prints tables, writes CSV and model files.
Heavy imports stay inside the handlers so ``prt --help`` stays fast.
"""

from __future__ import annotations

import argparse
import json
import sys

from prt.cliargs import print_help, whole_number

CODER_CHOICES = ("lemma", "ngram", "embedding")


def register(commands, groups) -> None:
    group = commands.add_parser(
        "attribution", help="code what patients believe causes their pain (IPQ-R causal item)",
        description="Code free-text pain attributions into the study's 17 categories and mind-brain "
                    "yes/no (Ashar et al., JAMA Network Open 2023), train a coder, and measure its "
                    "agreement with hand codes (docs/attribution.md).")
    sub = group.add_subparsers(dest="subcommand", metavar="SUBCOMMAND")
    group.set_defaults(handler=lambda args, p=group: print_help(p))

    p = sub.add_parser(
        "code", help="code every answer of an export or answers file",
        description="Code every attributed cause of INPUT (a trial export with attributed_cause_1..3, or a "
                    "CSV with a 'text' column) and write FILE: one row per answer with the category, its "
                    "12-category merge, mind-brain yes/no, the confidence and whether it is queued for a "
                    "human (needs_review). Without --model or --training the lemma coder is used.")
    p.add_argument("input", metavar="INPUT", help="trial export (REDCap flat/long, tidy) or answers CSV")
    p.add_argument("--out", required=True, metavar="FILE", help="coded answers CSV to write")
    _coder_options(p)
    p.add_argument("--reviews", metavar="FILE",
                   help="a coded file whose 'review_category' a human filled in: those codes win")
    p.add_argument("--mapping", metavar="FILE", help="YAML/JSON mapping of a non-Boulder REDCap project")
    p.set_defaults(handler=_code)

    p = sub.add_parser(
        "train", help="train an n-gram or embedding coder on hand-coded answers",
        description="Train a coder on TRAINING (an export with attributed_cause_1..3 and cat1..3, or a CSV "
                    "with 'text' and 'category') and write the model (.npz: vocabularies and weights, no "
                    "pickled code). A model trained on someone's data is theirs: prt ships none.")
    p.add_argument("training", metavar="TRAINING", help="hand-coded answers (export or CSV)")
    p.add_argument("--coder", choices=CODER_CHOICES[1:], default="ngram", help="which coder (default ngram)")
    p.add_argument("--out", required=True, metavar="FILE", help="model file to write (.npz)")
    p.add_argument("--review-below", type=_probability, default=None, metavar="P",
                   help="confidence below which answers are queued for a human (default per coder)")
    p.add_argument("--mapping", metavar="FILE", help="YAML/JSON mapping of a non-Boulder REDCap project")
    p.set_defaults(handler=_train)

    p = sub.add_parser(
        "evaluate", help="cross-validated agreement of the coders with hand codes",
        description="Participant-grouped K-fold cross-validation on hand-coded answers: accuracy and Cohen's "
                    "kappa against the human codes (17 categories, 12, mind-brain) for each coder, with the "
                    "share queued for review. With a trial export, also the shares of mind-brain attributions "
                    "by arm and time from the human codes and from each coder's out-of-fold codes.")
    p.add_argument("training", metavar="TRAINING", help="hand-coded answers (export or CSV)")
    p.add_argument("--coders", default="lemma,ngram,embedding",
                   help="comma-separated coders: lemma, ngram, embedding (default all three)")
    p.add_argument("--folds", type=whole_number, default=5, metavar="K", help="folds (default 5)")
    p.add_argument("--seed", type=whole_number, default=0, metavar="S", help="fold shuffling and bootstrap seed (default 0)")
    p.add_argument("--lemmas", metavar="FILE", help="word list for the lemma coder (default: prt's)")
    p.add_argument("--bootstrap", type=whole_number, default=2000, metavar="N",
                   help="bootstrap resamples for the Hedges g of the side-by-side shares (default 2000)")
    p.add_argument("--json", action="store_true", help="print the results as JSON")
    p.add_argument("--mapping", metavar="FILE", help="YAML/JSON mapping of a non-Boulder REDCap project")
    p.set_defaults(handler=_evaluate)


def _coder_options(p) -> None:
    p.add_argument("--coder", choices=CODER_CHOICES, default=None,
                   help="lemma (default; no training), ngram or embedding (need --training or --model)")
    p.add_argument("--model", metavar="FILE", help="a model file from prt attribution train")
    p.add_argument("--training", metavar="FILE", help="hand-coded answers to train the coder on now")
    p.add_argument("--lemmas", metavar="FILE", help="word list for the lemma coder (default: prt's)")
    p.add_argument("--review-below", type=_probability, default=None, metavar="P",
                   help="confidence below which answers are queued for a human (default per coder)")


def _probability(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number from 0 to 1, got {text!r}") from None
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"expected a number from 0 to 1, got {text!r}")
    return value


def _code(args) -> int:
    from prt.attribution.answers import read_answers
    from prt.attribution.coders import get_coder
    from prt.attribution.review import apply_reviews, coded_frame, read_reviews
    from prt.errors import InputError
    from prt.files import write_csv

    if args.model and args.training:
        raise InputError("give --model or --training, not both")
    name = args.coder or ("ngram" if args.training else "lemma")
    if args.model and args.coder:
        raise InputError("--coder comes from the model file; leave it out with --model")
    training = read_answers(args.training, require_categories=True, mapping=args.mapping)[0] if args.training else None
    answers, _ = read_answers(args.input, mapping=args.mapping)
    coder = get_coder(name, model=args.model, training=training, lemmas=args.lemmas, review_below=args.review_below)
    coding = coder.code(answers["text"])
    if args.reviews:
        coding = apply_reviews(answers, coding, read_reviews(args.reviews))
    out = coded_frame(answers, coding)
    write_csv(out, args.out)
    queued = int(out["needs_review"].sum())
    print(f"coded {len(out)} answers with the {coder.name} coder: {int(out['mind_brain'].sum())} mind-brain, "
          f"{queued} queued for review; wrote {args.out}")
    return 0


def _train(args) -> int:
    from prt.attribution.answers import read_answers
    from prt.attribution.coders import save_model, train

    answers, _ = read_answers(args.training, require_categories=True, mapping=args.mapping)
    coder = train(args.coder, answers["text"], answers["category"], review_below=args.review_below)
    save_model(coder, args.out)
    print(f"trained the {coder.name} coder on {coder.n_trained} answers ({len(coder.classes)} categories); "
          f"wrote {args.out}")
    return 0


def _evaluate(args) -> int:
    from prt.attribution import analysis
    from prt.attribution.answers import read_answers
    from prt.attribution.coders import get_coder
    from prt.attribution.evaluation import evaluate, reviewed
    from prt.analysis.results import jsonable
    from prt.errors import InputError

    coders = [c.strip() for c in args.coders.split(",") if c.strip()]
    unknown = [c for c in coders if c not in CODER_CHOICES]
    if unknown or not coders:
        raise InputError(f"--coders: expected some of {', '.join(CODER_CHOICES)}")
    answers, trial = read_answers(args.training, require_categories=True, mapping=args.mapping)
    lemma = get_coder("lemma", lemmas=args.lemmas) if args.lemmas else None
    result = evaluate(answers, coders, n_folds=args.folds, seed=args.seed, lemma_coder=lemma)
    side_by_side = None
    if trial is not None:
        codings = {"human": analysis.codes_from(answers)}
        for name, coding in result["codings"].items():
            codings[name] = analysis.codes_from(answers, coding)
        for name, coding in result["codings"].items():
            codings[f"{name}+review"] = analysis.codes_from(answers, reviewed(answers["category"], coding))
        side_by_side = analysis.compare_codings(trial, codings, bootstrap=args.bootstrap, seed=args.seed)
    if args.json:
        payload = {"agreement": result["table"].to_dict("records"), "targets": result["targets"],
                   "n_folds": args.folds, "seed": args.seed, "notes": result["notes"]}
        if side_by_side is not None:
            payload["side_by_side"] = {k: v for k, v in side_by_side.to_dict().items()}
        print(json.dumps(jsonable(payload), indent=2))
        return 0
    print(format_agreement(result["table"], result["targets"], args.folds))
    if side_by_side is not None:
        print()
        print(format_side_by_side(side_by_side))
    for note in result["notes"]:
        print(f"prt attribution evaluate: note: {note}", file=sys.stderr)
    return 0


def format_agreement(table, targets, n_folds: int) -> str:
    """The agreement table as text (the one in docs/attribution.md)."""
    lines = [f"Agreement with the human codes ({n_folds}-fold cross-validation, grouped by participant; "
             f"n = {int(table['n'].iloc[0]) if len(table) else 0} answers)",
             f"{'coder':<10} {'acc 17':>7} {'kappa 17':>9} {'acc 12':>7} {'kappa 12':>9} {'acc MB':>7} "
             f"{'kappa MB':>9} {'queued':>7} {'acc 17 rest':>12} {'k17 reviewed':>13} {'kMB reviewed':>13}"]
    for r in table.to_dict("records"):
        lines.append(f"{r['coder']:<10} {r['accuracy_17']:>7.3f} {r['kappa_17']:>9.3f} {r['accuracy_12']:>7.3f} "
                     f"{r['kappa_12']:>9.3f} {r['accuracy_mind_brain']:>7.3f} {r['kappa_mind_brain']:>9.3f} "
                     f"{r['share_queued']:>7.1%} {r['accuracy_17_not_queued']:>12.3f} "
                     f"{r['kappa_17_after_review']:>13.3f} {r['kappa_mind_brain_after_review']:>13.3f}")
    lines.append("queued: share below the review threshold; 'rest': accuracy of the others; 'reviewed': "
                 "kappa once a human codes the queue")
    lines.append(f"targets (the two human coders' agreement): kappa MB >= {targets['kappa_mind_brain']}, "
                 f"kappa 17 >= {targets['kappa_17']}")
    return "\n".join(lines)


def format_side_by_side(frame) -> str:
    """Shares and effect sizes per coding as text."""
    width = max(len(str(i)) for i in frame.index) + 2
    cols = [max(9, len(str(c))) + 2 for c in frame.columns]
    lines = ["Mind-brain attributions by arm and time: human codes, automatic (out-of-fold) codes, and those "
             "codes once a human codes the queue (+review)",
             " " * width + "".join(f"{c:>{w}}" for c, w in zip(frame.columns, cols))]
    for name, row in frame.iterrows():
        is_share = str(name).startswith("share")
        cells = "".join(f"{v:>{w}.1%}" if is_share else f"{v:>{w}.2f}" for v, w in zip(row, cols))
        lines.append(f"{str(name):<{width}}{cells}")
    return "\n".join(lines)
