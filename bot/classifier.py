"""A second vote beside retrieval: which passage, if any, a question is about, learned from examples.

Retrieval compares a question with each alternate question one at a time, so a question that borrows a
word from one alternate and a word from another gets little credit for either. A linear classifier over
all of a passage's alternate questions at once learns which words tell its passages apart (and which
tell out-of-scope questions apart, from the out-of-scope examples), and generalises past the exact
phrasings. It is trained on the examples only, never on evaluation questions.
"""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
import tempfile
import threading
import warnings
from collections import Counter, OrderedDict
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import sklearn
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion

OUT_OF_SCOPE = ""
"""The label of out-of-scope examples (passage ids are never empty)."""
MAX_LABELS = 300
"""Above this many labels the classifier abstains: refitting it on every added passage would be slow."""

log = logging.getLogger(__name__)

Fitted = tuple[FeatureUnion, LogisticRegression]
_CACHE: OrderedDict[str, Fitted] = OrderedDict()
_CACHE_LOCK = threading.Lock()
_CACHE_SIZE = 8
_DISK_CACHE_SIZE = 8
"""Fitted models kept on disk per cache folder (about 5 MB each); the least recently used go first."""


def _load(cache_dir: Path, digest: str) -> Fitted | None:
    path = cache_dir / f"classifier-{digest}.pickle"
    try:
        with path.open("rb") as file:
            fitted = pickle.load(file)  # our own file, written by _save below
        path.touch()  # recently used
    except FileNotFoundError:
        return None
    except Exception as exc:  # a torn or foreign file: fit again, and overwrite it
        log.warning("ignoring unreadable classifier cache %s: %s", path, exc)
        return None
    return fitted if isinstance(fitted, tuple) and len(fitted) == 2 else None


def _save(cache_dir: Path, digest: str, fitted: Fitted) -> None:
    """Write atomically (a reader never sees half a file), then drop the least recently used fits."""
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=cache_dir, prefix=".classifier-", delete=False) as file:
            pickle.dump(fitted, file, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(file.name, cache_dir / f"classifier-{digest}.pickle")
        kept = sorted(cache_dir.glob("classifier-*.pickle"), key=lambda p: p.stat().st_mtime, reverse=True)
        for old in kept[_DISK_CACHE_SIZE:]:
            old.unlink(missing_ok=True)
    except OSError as exc:  # a read-only or full disk costs only the next start's fit
        log.warning("cannot cache the classifier in %s: %s", cache_dir, exc)


def _fit(
    texts: Sequence[str], labels: Sequence[str], regularization: float, cache_dir: Path | None = None
) -> Fitted:
    """Fit features and model, reusing a fit of the very same examples: from memory (engines are rebuilt on
    reloads) or from `cache_dir` (a new process: the console, a test run of the command)."""
    features, model = _unfitted(labels, regularization)
    # Every setting of the fit is part of the key: a changed setting must never load an old model.
    settings = [model.get_params(deep=False)] + [v.get_params(deep=False) for _, v in features.transformer_list]
    key = (sklearn.__version__, settings, list(zip(texts, labels)))
    digest = hashlib.sha256(repr(key).encode("utf-8")).hexdigest()
    with _CACHE_LOCK:
        if digest in _CACHE:
            _CACHE.move_to_end(digest)
            return _CACHE[digest]
    fitted = _load(cache_dir, digest) if cache_dir is not None else None
    if fitted is None:
        fitted = _fit_now(features, model, texts, labels)
        if cache_dir is not None:
            _save(cache_dir, digest, fitted)
    with _CACHE_LOCK:
        _CACHE[digest] = fitted
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return fitted


def _unfitted(labels: Sequence[str], regularization: float) -> Fitted:
    features = FeatureUnion(
        [
            ("words", TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, token_pattern=r"(?u)\b\w+\b")),
            ("chars", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True)),
        ]
    )
    # saga reaches the same answers as lbfgs here in a quarter of the time; a fixed seed keeps fits identical.
    # A loose tolerance (33 passes instead of 148) changed no answer on the 1,334 tuning questions.
    # Balanced class weights, except that a label with few examples (a passage just added, with no
    # alternate questions) weighs as if it had ten: a huge weight on one example slows the fit tenfold.
    counts = Counter(labels)
    weights = {label: len(labels) / (len(counts) * max(count, 10)) for label, count in counts.items()}
    model = LogisticRegression(
        C=regularization, solver="saga", max_iter=200, tol=1e-2, class_weight=weights, random_state=0
    )
    return features, model


def _fit_now(features: FeatureUnion, model: LogisticRegression, texts: Sequence[str], labels: Sequence[str]) -> Fitted:
    matrix = features.fit_transform(texts)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # a looser fit still ranks the passages the same
        model.fit(matrix, labels)
    return features, model


class PassageClassifier:
    """Probability that a question is about each passage, or out of scope (label `OUT_OF_SCOPE`).

    Trained on (text, label) examples: passages' alternate questions labelled with their ids, and
    out-of-scope examples labelled `OUT_OF_SCOPE`. It abstains (no probabilities) with fewer than two
    labels, or more than `max_labels`: a large knowledge base is served by retrieval alone, since a
    model over thousands of passages would be slow to refit on every added passage.
    """

    def __init__(
        self,
        examples: Sequence[tuple[str, str]],
        *,
        prepare: Callable[[str], str] = lambda text: text,
        regularization: float = 10.0,
        max_labels: int = MAX_LABELS,
        cache_dir: Path | None = None,
    ) -> None:
        self.prepare = prepare
        self.labels: tuple[str, ...] = ()
        self._fitted: Fitted | None = None
        if not 2 <= len({label for _, label in examples}) <= max_labels:
            return
        prepared = [(prepare(text), label) for text, label in examples]
        prepared = [(text, label) for text, label in prepared if text.strip()]
        if len({label for _, label in prepared}) >= 2:
            texts, labels = zip(*prepared)
            self._fitted = _fit(texts, labels, regularization, cache_dir)
            self.labels = tuple(str(label) for label in self._fitted[1].classes_)

    def probabilities(self, text: str) -> dict[str, float]:
        """Return each label's probability for a question ({} when the classifier abstains)."""
        if self._fitted is None:
            return {}
        prepared = self.prepare(text)
        if not prepared.strip():
            return {}
        features, model = self._fitted
        row = np.asarray(model.predict_proba(features.transform([prepared]))).ravel()
        return dict(zip(self.labels, (float(p) for p in row)))
