"""Synthetic BIDS-derivatives imaging data with planted effects (``prt imaging demo OUT``).

No scans can be downloaded here, so the analyses are shown to work on data whose truth is known.
For each participant (arms balanced, ages and sexes drawn) and session (pre, post) it writes:

- the evoked-pain effect map (slope per intensity level): smooth Gaussian noise (participant and
  session fields, FWHM ``fwhm`` mm) plus Gaussian blobs of positive pain response in the
  cingulate (aMCC), left anterior insula and medial prefrontal cortex (:data:`EVOKED`); at post, the
  PRT arm's aMCC and insula responses fall (``prt_change``), the other blobs and arms stay;
- the preprocessed rest series (TR ``tr`` s): smooth AR(1) noise, a seed signal in the insula and
  cingulate blobs, the left dorsal S1 coupled to the insula signal with a strength that rises at post
  in PRT (:data:`COUPLING`), and the response to the rating each minute in the seeds and the
  precuneus (what the analysis regresses out);
- the events: 20 pressure trials of 37 s at 4 levels in 16 minutes, each rated 0-100 (baseline means
  by level 32.2 / 37.9 / 46.7 / 52.7, protocol notes), and 8 ratings of spontaneous pain at rest;
  falls at post by arm (:data:`BEHAVIOUR`); three scans break the exclusion rules on purpose;
- participants.tsv, the project's masks (:mod:`prt.imaging.masks`), dataset_description.json and
  ``demo_truth.json`` (every planted effect, for tests and for reading the results against).

Everything comes from ``numpy.random.default_rng(seed)``: one seed, one dataset.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable, NamedTuple

import numpy as np
from scipy import ndimage, signal

from prt.errors import InputError
from prt.files import atomic_write, write_output_dir
from prt.imaging import masks as project_masks
from prt.imaging.dataset import EVOKED_TASK, REST_TASK, SESSIONS
from prt.imaging.signals import task_regressor
from prt.imaging.volumes import Grid, nifti_bytes
from prt.vocabulary import ARMS, SEXES

SPACE = "MNI152NLin2009cAsym"


class Blob(NamedTuple):
    """A planted Gaussian response: centre (MNI mm), sigma (mm), baseline amplitude (noise SDs) and
    the PRT arm's relative change at post (-0.8: falls by 80%)."""

    region: str
    centre: tuple[float, float, float]
    sigma: float
    amplitude: float
    prt_change: float


#: Evoked-pain responses (localizer clusters); aMCC and insula fall in PRT after treatment.
EVOKED = (
    Blob("cingulate", (0, 14, 38), 7.0, 2.0, -0.8),
    Blob("insula_left", (-38, 8, 2), 7.0, 2.0, -0.7),
    Blob("medial_prefrontal", (0, 52, 8), 7.0, 1.6, 0.0),
)


class Coupling(NamedTuple):
    """A planted rest coupling: the ``target`` blob carries ``strength`` x the seed region's signal."""

    seed: str
    target: str
    target_centre: tuple[float, float, float]
    sigma: float
    pre: float
    prt_post: float
    between_sd: float


#: The insula's signal reaches the left dorsal S1, more so after PRT (the paper's aIns-S1 finding).
COUPLING = Coupling("insula_left", "s1_left_dorsal", (-30, -36, 64), 8.0, 0.2, 1.0, 0.1)
#: SD of a session's noise in the evoked-pain maps (the participant's own field has SD 0.5).
SESSION_NOISE = 0.5
#: Seed signal amplitude in the seed blobs, and the rating response's amplitude (noise SDs).
SEED_AMPLITUDE = 1.0
RATING_AMPLITUDE = 1.5
RATING_REGIONS = ("insula_left", "cingulate", "precuneus")

#: Behaviour: baseline evoked pain by level (protocol notes) and falls at post by arm (0-100 VAS).
EVOKED_BY_LEVEL = (32.2, 37.9, 46.7, 52.7)
BEHAVIOUR = {
    "evoked_fall": {"prt": 12.0, "placebo": 4.0, "usual_care": 0.0},
    "spontaneous_fall": {"prt": 20.0, "placebo": 6.0, "usual_care": 2.0},
}
#: Task timing: 20 trials of 37 s, each followed by a 7-s rating, in a 16-minute run; rest ratings
#: each minute for 8 minutes (protocol notes).
TRIALS, TRIAL_SECONDS, TRIAL_PERIOD, RATING_SECONDS = 20, 37.0, 48.0, 7.0
REST_RATINGS = 8


@dataclass(frozen=True)
class DemoSettings:
    """What to generate: counts, grid, timing and noise (defaults: about 300 MB in a minute;
    ``voxel_size=8, participants=24`` about 90 MB)."""

    participants: int = 36
    voxel_size: float = 6.0
    rest_volumes: int = 240
    tr: float = 2.0
    fwhm: float = 10.0
    seed: int = 0

    def check(self) -> "DemoSettings":
        if not isinstance(self.participants, int) or not 6 <= self.participants <= 1000:
            raise InputError(f"participants: expected a whole number from 6 to 1000, got {self.participants!r}")
        if not 2.0 <= float(self.voxel_size) <= 12.0:
            raise InputError(f"voxel size: expected 2 to 12 mm, got {self.voxel_size!r}")
        if not isinstance(self.rest_volumes, int) or not 30 <= self.rest_volumes <= 2000:
            raise InputError(f"rest volumes: expected a whole number from 30 to 2000, got {self.rest_volumes!r}")
        if not 0.2 <= float(self.tr) <= 5.0:
            raise InputError(f"TR: expected 0.2 to 5 seconds, got {self.tr!r}")
        if self.rest_volumes * self.tr < REST_RATINGS * 60:
            raise InputError(f"rest volumes x TR: {self.rest_volumes * self.tr:g} s is shorter than the 8 minutes of "
                             "ratings")
        if not 0.0 <= float(self.fwhm) <= 30.0:
            raise InputError(f"FWHM: expected 0 to 30 mm, got {self.fwhm!r}")
        return self


def _smooth(noise: np.ndarray, sigma_vox: float, axes_offset: int = 0) -> np.ndarray:
    """Gaussian smoothing over the last three axes, rescaled to unit SD."""
    if sigma_vox <= 0:
        return noise
    sigma = (0,) * axes_offset + (sigma_vox,) * 3
    out = ndimage.gaussian_filter(noise, sigma, mode="constant")
    return out / out.std()


def _profile(grid: Grid, centre, sigma: float) -> np.ndarray:
    xyz = project_masks.mni_coordinates(grid)
    d2 = np.sum((xyz - np.asarray(centre, dtype=float)) ** 2, axis=-1)
    return np.exp(-0.5 * d2 / sigma**2)


def _tsv(columns: list[str], rows: list[list]) -> str:
    def cell(v):
        if v is None or (isinstance(v, float) and np.isnan(v)):
            return "n/a"
        return f"{v:.1f}" if isinstance(v, float) else str(v)

    return "\t".join(columns) + "\n" + "".join("\t".join(cell(v) for v in row) + "\n" for row in rows)


def _write_json(path: Path, payload) -> None:
    atomic_write(path, json.dumps(payload, indent=2) + "\n")


def _people(rng: np.random.Generator, n: int):
    arms = np.array([ARMS[i % 3] for i in range(n)], dtype=object)
    rng.shuffle(arms)
    ages = np.clip(np.round(rng.normal(41, 15, n)), 21, 70)
    sexes = np.array(SEXES, dtype=object)[rng.integers(0, 2, n)]
    ids = [f"{i + 1:03d}" for i in range(n)]
    return ids, arms, ages, sexes


def generate(out, settings: DemoSettings = DemoSettings(), progress: Callable[[int, int], None] | None = None) -> dict:
    """Write the demo dataset to ``out`` (all or nothing) and return its truth (``demo_truth.json``)."""
    settings = settings.check()

    def fill(work: Path) -> dict:
        return _fill(work, settings, progress)

    return write_output_dir(out, fill, kind="imaging demo")


def _fill(work: Path, settings: DemoSettings, progress) -> dict:
    rng = np.random.default_rng(settings.seed)
    grid = project_masks.mni_grid(settings.voxel_size)
    brain = project_masks.brain_mask(grid)
    sigma_vox = settings.fwhm / (2.0 * np.sqrt(2.0 * np.log(2.0))) / settings.voxel_size
    (work / "masks").mkdir()
    localizer, localizer_names = project_masks.label_image(grid, project_masks.LOCALIZER)
    targets, target_names = project_masks.label_image(grid, project_masks.TARGETS)
    for name, labels, names in (("localizer", localizer, localizer_names), ("targets", targets, target_names)):
        atomic_write(work / "masks" / f"space-{SPACE}_desc-{name}_dseg.nii.gz", nifti_bytes(labels, grid, np.int16))
        atomic_write(work / "masks" / f"desc-{name}_dseg.tsv",
                     _tsv(["index", "name"], [[i, n] for i, n in names.items()]))
    atomic_write(work / "masks" / f"space-{SPACE}_desc-brain_mask.nii.gz", nifti_bytes(brain, grid, np.uint8))

    ids, arms, ages, sexes = _people(rng, settings.participants)
    atomic_write(work / "participants.tsv",
                 _tsv(["participant_id", "arm", "age", "sex"],
                      [[f"sub-{p}", a, int(g), s] for p, a, g, s in zip(ids, arms, ages, sexes)]))
    _write_json(work / "participants.json", {
        "arm": {"Description": "randomized arm", "Levels": {a: a for a in ARMS}},
        "age": {"Description": "age at enrolment", "Units": "years"},
        "sex": {"Description": "sex", "Levels": {s: s for s in SEXES}},
    })
    _write_json(work / "dataset_description.json", {
        "Name": "prt imaging demo (synthetic data with planted effects)",
        "BIDSVersion": "1.9.0",
        "DatasetType": "derivative",
        "GeneratedBy": [{"Name": "prt imaging demo", "Description": "synthetic; see demo_truth.json"}],
    })

    evoked_profiles = {b.region: _profile(grid, b.centre, b.sigma) for b in EVOKED}
    target_profile = _profile(grid, COUPLING.target_centre, COUPLING.sigma)
    precuneus = project_masks.ellipsoid(grid, project_masks.TARGETS[4])
    rating_in = np.zeros(grid.shape)
    for region in RATING_REGIONS:
        if region in evoked_profiles:
            rating_in = np.maximum(rating_in, evoked_profiles[region])
    rating_in = np.maximum(rating_in, precuneus * 1.0)
    rest_onsets = np.array([60.0 * m - RATING_SECONDS for m in range(1, REST_RATINGS + 1)])
    rating_response = task_regressor(rest_onsets, np.full(REST_RATINGS, RATING_SECONDS), settings.tr,
                                     settings.rest_volumes)
    rating_response = rating_response / rating_response.max()
    phi = 0.4
    excluded = {(ids[1], "post"): "missing", (ids[2], "pre"): "near_zero", (ids[3], "pre"): "range"}
    total = len(ids) * len(SESSIONS)
    done = 0
    person_field = {}
    coupling_of = {}
    for i, participant in enumerate(ids):
        arm = arms[i]
        person_field[participant] = 0.5 * _smooth(rng.normal(size=grid.shape), sigma_vox)
        gain = 1.0 + 0.2 * rng.normal(size=len(EVOKED))
        offset_evoked = rng.normal(0, 10)
        base_spont = float(np.clip(rng.normal(45, 15), 10, 90))
        coupling_of[participant] = rng.normal(0, COUPLING.between_sd)
        for session in SESSIONS:
            func = work / f"sub-{participant}" / f"ses-{session}" / "func"
            func.mkdir(parents=True)
            stem = f"sub-{participant}_ses-{session}"
            post = session == "post"
            # Evoked-pain effect map.
            effect = person_field[participant] + SESSION_NOISE * _smooth(rng.normal(size=grid.shape), sigma_vox)
            for blob, g in zip(EVOKED, gain):
                change = blob.prt_change if (post and arm == "prt") else 0.0
                effect = effect + blob.amplitude * g * (1.0 + change) * evoked_profiles[blob.region]
            effect = np.where(brain, effect, 0.0).astype(np.float32)
            atomic_write(func / f"{stem}_task-{EVOKED_TASK}_space-{SPACE}_desc-intensity_effect.nii.gz",
                         nifti_bytes(effect, grid, np.float32))
            # Evoked-pain events and ratings.
            levels = rng.permutation(np.repeat(np.arange(1, 5), TRIALS // 4))
            fall = BEHAVIOUR["evoked_fall"][arm] if post else 0.0
            ratings = np.array(EVOKED_BY_LEVEL)[levels - 1] + offset_evoked - fall + rng.normal(0, 6, TRIALS)
            kind = excluded.get((participant, session))
            if kind == "missing":
                ratings[rng.choice(TRIALS, size=TRIALS * 3 // 10, replace=False)] = np.nan
            elif kind == "near_zero":
                ratings = rng.uniform(0, 3, TRIALS)
            elif kind == "range":
                ratings = 50.0 + rng.uniform(-4, 4, TRIALS)
            ratings = np.clip(ratings, 0, 100)
            rows = [[round(4.0 + TRIAL_PERIOD * t, 1), TRIAL_SECONDS, "pressure", int(levels[t]),
                     float(np.round(ratings[t], 1))] for t in range(TRIALS)]
            atomic_write(func / f"{stem}_task-{EVOKED_TASK}_events.tsv",
                         _tsv(["onset", "duration", "trial_type", "intensity", "rating"], rows))
            # Rest series.
            t_vol, n_vox_shape = settings.rest_volumes, grid.shape
            noise = rng.normal(size=(t_vol,) + n_vox_shape).astype(np.float32)
            noise = signal.lfilter([np.sqrt(1 - phi**2)], [1.0, -phi], noise, axis=0).astype(np.float32)
            noise = _smooth(noise, sigma_vox, axes_offset=1).astype(np.float32)
            seed_signal = {b.region: rng.normal(size=t_vol) for b in EVOKED}
            bold = noise
            for blob in EVOKED:
                bold += (SEED_AMPLITUDE * seed_signal[blob.region][:, None, None, None]
                         * evoked_profiles[blob.region][None]).astype(np.float32)
            strength = (COUPLING.prt_post if (post and arm == "prt") else COUPLING.pre) + coupling_of[participant]
            bold += (strength * seed_signal[COUPLING.seed][:, None, None, None] * target_profile[None]).astype(
                np.float32)
            bold += (RATING_AMPLITUDE * rating_response[:, None, None, None] * rating_in[None]).astype(np.float32)
            bold = np.where(brain[None], 1000.0 + 10.0 * bold, 0.0).astype(np.float32)
            atomic_write(func / f"{stem}_task-{REST_TASK}_space-{SPACE}_desc-preproc_bold.nii.gz",
                         nifti_bytes(np.moveaxis(bold, 0, -1), grid, np.int16, tr=settings.tr))
            _write_json(func / f"{stem}_task-{REST_TASK}_space-{SPACE}_desc-preproc_bold.json",
                        {"RepetitionTime": settings.tr, "TaskName": REST_TASK, "SkullStripped": False})
            spont_fall = BEHAVIOUR["spontaneous_fall"][arm] if post else 0.0
            spont = np.clip(base_spont - spont_fall + rng.normal(0, 6, REST_RATINGS), 0, 100)
            atomic_write(func / f"{stem}_task-{REST_TASK}_events.tsv",
                         _tsv(["onset", "duration", "trial_type", "rating"],
                              [[float(o), RATING_SECONDS, "rating", float(np.round(r, 1))]
                               for o, r in zip(rest_onsets, spont)]))
            done += 1
            if progress is not None:
                progress(done, total)
    truth = {
        "settings": asdict(settings),
        "space": SPACE,
        "affine": grid.affine.tolist(),
        "shape": list(grid.shape),
        "evoked": [b._asdict() for b in EVOKED],
        "coupling": COUPLING._asdict(),
        "seed_amplitude": SEED_AMPLITUDE,
        "session_noise": SESSION_NOISE,
        "behaviour": {**BEHAVIOUR, "evoked_by_level": list(EVOKED_BY_LEVEL)},
        "excluded_scans": [{"participant": p, "session": s, "rule": k} for (p, s), k in excluded.items()],
        "participants": {"ids": ids, "arms": list(arms)},
    }
    _write_json(work / "demo_truth.json", truth)
    return truth


__all__ = ["BEHAVIOUR", "COUPLING", "DemoSettings", "EVOKED", "SPACE", "generate"]
