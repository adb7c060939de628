"""CLI: ``prt imaging demo | behaviour | localizer | roi-effects | connectivity``.

The edge of :mod:`prt.imaging`: parses arguments, shows a progress bar for the permutations,
writes each step's output folder (:mod:`prt.imaging.outputs`, all or nothing) and prints where.
The steps chain through their outputs: ``roi-effects --clusters LOCALIZER_OUT`` and
``connectivity --seeds ROI_OUT`` (without them the earlier steps run first). Heavy imports stay
inside the handlers so ``prt --help`` stays instant.
"""

from __future__ import annotations

import sys

from prt.cliargs import ProgressBar, print_help, whole_number


def register(commands, groups) -> None:
    help_text = "brain imaging: demo data, in-scanner pain, localizer, ROI treatment effects, connectivity"
    imaging = commands.add_parser("imaging", help=help_text, description=help_text + " (docs/imaging.md)")
    sub = imaging.add_subparsers(dest="subcommand", metavar="SUBCOMMAND")
    imaging.set_defaults(handler=lambda args, parser=imaging: print_help(parser))

    p = sub.add_parser(
        "demo", help="write a synthetic BIDS-derivatives imaging dataset with planted effects",
        description="Write synthetic first-level evoked-pain maps, rest scans, events, participants.tsv and "
                    "the project's masks into OUT, with planted effects (demo_truth.json): a cingulate and an "
                    "insula response that fall in PRT after treatment, an insula-S1 coupling that rises. "
                    "Defaults: 36 participants, 6 mm voxels, 240 rest volumes (about 300 MB).")
    p.add_argument("out", metavar="OUT", help="folder to write (new, empty, or a previous demo)")
    p.add_argument("--participants", type=whole_number, default=36, metavar="N", help="participants (6-1000, default 36)")
    p.add_argument("--voxel-size", type=float, default=6.0, metavar="MM", help="voxel size in mm (2-12, default 6)")
    p.add_argument("--rest-volumes", type=whole_number, default=240, metavar="N", help="rest volumes (default 240)")
    p.add_argument("--tr", type=float, default=2.0, metavar="S", help="repetition time of the rest scans (default 2)")
    p.add_argument("--seed", type=whole_number, default=0, metavar="S", help="random seed (default 0)")
    p.set_defaults(handler=_demo)

    p = sub.add_parser(
        "behaviour", help="in-scanner evoked and spontaneous pain by arm x time (mixed model)",
        description="Mean evoked-pain rating per scan (after the exclusion rules) and mean spontaneous-pain "
                    "rating at rest, each by arm x time with the analysis engine's mixed model (REML, "
                    "Satterthwaite df). Writes results.json, behaviour.csv and scans.csv.")
    _common(p, permutations=False)
    p.set_defaults(handler=_behaviour)

    p = sub.add_parser(
        "localizer", help="baseline pain-intensity clusters in the localizer mask (TFCE permutation test)",
        description="One-sample test of the baseline evoked-pain intensity maps within the localizer mask, "
                    "sign flipping with TFCE, family-wise corrected; clusters (p < alpha, positive) with peak "
                    "MNI coordinates and sizes. Writes results.json, localizer_clusters.csv, the cluster "
                    "label image and the t, TFCE and -log10 p maps.")
    _common(p)
    p.set_defaults(handler=_localizer)

    p = sub.add_parser(
        "roi-effects", help="treatment effects on each localizer cluster (mixed model, one-tailed, FDR)",
        description="Each cluster's mean evoked response per participant and session, arm x time mixed model "
                    "per cluster; one-tailed p for a larger fall in PRT, Benjamini-Hochberg FDR beside. "
                    "Clusters with one-tailed p < alpha are written as the connectivity seeds (seeds_dseg).")
    _common(p)
    p.add_argument("--clusters", metavar="PATH",
                   help="a localizer output folder or a cluster label image (default: run the localizer)")
    p.set_defaults(handler=_roi_effects)

    p = sub.add_parser(
        "connectivity", help="seed connectivity change, PRT vs each control (TFCE permutation test)",
        description="Seed-to-voxel correlation (Fisher z) in the target mask per session after regressing out "
                    "the rating task; the change (post - pre) compared between PRT and each control by "
                    "Freedman-Lane permutation with TFCE, age and sex as covariates; corrected p maps and "
                    "cluster tables.")
    _common(p)
    p.add_argument("--seeds", metavar="PATH",
                   help="a roi-effects output folder or a seed label image (default: run localizer and roi-effects)")
    p.add_argument("--one-sided", action="store_true", help="test increases in PRT only (default: both directions)")
    p.set_defaults(handler=_connectivity)


def _common(p, permutations: bool = True) -> None:
    p.add_argument("dataset", metavar="DATASET", help="BIDS-derivatives folder (as prt imaging demo writes)")
    p.add_argument("--out", required=True, metavar="DIR",
                   help="output folder: new, empty, or a previous output of the same step (replaced whole)")
    p.add_argument("--allow-missing-sessions", action="store_true",
                   help="let participants without a session's files enter with the sessions they have")
    if permutations:
        p.add_argument("--permutations", type=whole_number, default=5000, metavar="N",
                       help="permutations (default 5000)")
        p.add_argument("--seed", type=whole_number, default=0, metavar="S", help="random seed (default 0)")
        p.add_argument("--alpha", type=float, default=0.05, metavar="A",
                       help="corrected p threshold for clusters and seeds (default 0.05)")
        p.add_argument("--min-voxels", type=whole_number, default=1, metavar="K", help="smallest cluster reported")


def _open(args, kinds):
    from prt.imaging.dataset import open_dataset

    return open_dataset(args.dataset, kinds=kinds, allow_missing_sessions=args.allow_missing_sessions)


def _notes(command: str, notes) -> None:
    for note in dict.fromkeys(notes):  # each once, in order (the steps repeat the dataset's notes)
        print(f"prt imaging {command}: note: {note}", file=sys.stderr)


def _demo(args) -> int:
    from prt.imaging.demo import DemoSettings, generate

    settings = DemoSettings(participants=args.participants, voxel_size=args.voxel_size,
                            rest_volumes=args.rest_volumes, tr=args.tr, seed=args.seed)
    with ProgressBar("scans", "scan") as progress:
        generate(args.out, settings, progress)
    print(f"wrote {args.out}: {args.participants} participants x 2 sessions (planted effects: demo_truth.json)")
    return 0


def _behaviour(args) -> int:
    from prt.imaging.analyses import behaviour
    from prt.imaging.outputs import write_behaviour

    dataset = _open(args, ("evoked_events", "rest_events"))
    result = behaviour(dataset)
    write_behaviour(args.out, result, dataset)
    print(f"wrote {args.out}: {len(result.records)} arm x time tests")
    _notes("behaviour", result.notes)
    return 0


def _run_localizer(args, dataset):
    from prt.imaging.analyses import localizer

    with ProgressBar("localizer permutations", "perm") as progress:
        return localizer(dataset, n_permutations=args.permutations, seed=args.seed, alpha=args.alpha,
                         min_voxels=args.min_voxels, progress=progress)


def _localizer(args) -> int:
    from prt.imaging.outputs import write_localizer

    dataset = _open(args, ("evoked", "evoked_events"))
    result = _run_localizer(args, dataset)
    write_localizer(args.out, result, dataset)
    print(f"wrote {args.out}: {len(result.clusters.table)} cluster(s)")
    _notes("localizer", result.notes)
    return 0


def _run_roi(args, dataset):
    from prt.imaging.analyses import roi_effects
    from prt.imaging.outputs import LOCALIZER_CLUSTERS, read_clusters

    located = None
    if getattr(args, "clusters", None):
        clusters = read_clusters(args.clusters, LOCALIZER_CLUSTERS)
    else:
        located = _run_localizer(args, dataset)
        clusters = located.clusters
    return roi_effects(dataset, clusters, alpha=args.alpha), located


def _roi_effects(args) -> int:
    from prt.imaging.outputs import write_roi_effects

    dataset = _open(args, ("evoked", "evoked_events"))
    result, located = _run_roi(args, dataset)
    write_roi_effects(args.out, result, dataset, located)
    print(f"wrote {args.out}: {len(result.records)} tests, {len(result.seeds.names)} seed(s)")
    _notes("roi-effects", (located.notes if located else []) + result.notes)
    return 0


def _connectivity(args) -> int:
    from prt.imaging.analyses import connectivity
    from prt.imaging.outputs import SEEDS, read_clusters, write_connectivity

    if args.seeds:
        dataset = _open(args, ("rest", "rest_events"))
        seeds = read_clusters(args.seeds, SEEDS)
        earlier = []
    else:
        dataset = _open(args, ("evoked", "evoked_events", "rest", "rest_events"))
        roi, located = _run_roi(args, dataset)
        seeds = roi.seeds
        earlier = located.notes + roi.notes
    with ProgressBar("connectivity permutations", "perm") as progress:
        result = connectivity(dataset, seeds, n_permutations=args.permutations, seed=args.seed, alpha=args.alpha,
                              two_sided=not args.one_sided, min_voxels=args.min_voxels, progress=progress)
    write_connectivity(args.out, result, dataset, seeds)
    print(f"wrote {args.out}: {len(result.tests)} test(s), {len(result.clusters)} cluster(s)")
    _notes("connectivity", earlier + result.notes)
    return 0
