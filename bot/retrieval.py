"""TF-IDF retrieval over passages: word and character n-grams fused, updated one passage at a time."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Callable, Iterable, Sequence

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import HashingVectorizer

from bot.knowledge import Passage
from bot.language import content_words, stem, tokens

N_FEATURES = 2**20
BODY, QUESTION, TITLE = 0, 1, 2


@dataclass(frozen=True)
class Hit:
    """A passage and how well it matches a question (0..1), with the parts of that score."""

    passage: Passage
    score: float
    word: float = 0.0
    char: float = 0.0


def word_features(text: str, keep: frozenset[str] = frozenset()) -> list[str]:
    """Stemmed content words (and any `keep` words) and their adjacent pairs."""
    words = [stem(w) for w in content_words(tokens(text), keep=keep)]
    return words + [f"{a} {b}" for a, b in zip(words, words[1:])]


def char_text(text: str) -> str:
    """The text that character n-grams are taken from: content words only."""
    return " ".join(content_words(tokens(text)))


class _Channel:
    """One way of counting terms (words or character n-grams), with document frequencies kept current.

    Term counts are hashed, so no vocabulary is fitted: adding a document only counts its terms and
    bumps the frequencies. Rows keep their sublinear term frequencies; the IDF weights and each row's
    norm are applied at search time, and the norms are recomputed lazily after an add, so adding one
    passage to a large index costs its own terms, not a pass over every row.
    """

    def __init__(self, vectorizer: HashingVectorizer, prepare: Callable[[str], str], *, ignore_unseen: bool) -> None:
        self.vectorizer = vectorizer
        self.ignore_unseen = ignore_unseen
        self.prepare = prepare
        self.tf = sp.csr_matrix((0, N_FEATURES), dtype=np.float64)
        self.df = np.zeros(N_FEATURES, dtype=np.float64)
        self._idf = np.ones(N_FEATURES, dtype=np.float64)
        self._norms: np.ndarray | None = np.zeros(0)

    def add(self, texts: Sequence[str]) -> None:
        if not texts:
            return
        new = self.vectorizer.transform([self.prepare(t) for t in texts]).tocsr()
        self.df += np.bincount(new.indices, minlength=N_FEATURES)
        new.data = 1.0 + np.log(new.data)  # sublinear tf
        self.tf = sp.vstack([self.tf, new], format="csr")
        n_docs = self.tf.shape[0]
        self._idf = np.log((1.0 + n_docs) / (1.0 + self.df)) + 1.0
        self._norms = None  # every row's TF-IDF norm moved with the frequencies

    def _row_norms(self) -> np.ndarray:
        """Return each row's TF-IDF norm under the current frequencies, computing it once per change."""
        if self._norms is None:
            squared = sp.csr_matrix((self.tf.data**2, self.tf.indices, self.tf.indptr), shape=self.tf.shape)
            norms = np.sqrt(squared @ (self._idf**2))
            norms[norms == 0] = 1.0
            self._norms = norms
        return self._norms

    def _weigh(self, counts: sp.csr_matrix) -> sp.csr_matrix:
        weighted = counts.copy()
        weighted.data = 1.0 + np.log(weighted.data)  # sublinear tf
        weighted = weighted.multiply(self._idf).tocsr()
        norms = np.sqrt(np.asarray(weighted.multiply(weighted).sum(axis=1)).ravel())
        norms[norms == 0] = 1.0
        return sp.csr_matrix(sp.diags(1.0 / norms) @ weighted)

    def similarities(self, text: str) -> np.ndarray:
        """Cosine of each row's TF-IDF vector with the query's: (tf . idf*q) / |tf*idf|."""
        counts = self.vectorizer.transform([self.prepare(text)]).tocsr()
        # Like a fitted vocabulary, ignore terms no row has: they would only dilute the query's norm.
        if self.ignore_unseen:
            counts.data = np.where(self.df[counts.indices] > 0, counts.data, 0.0)
            counts.eliminate_zeros()
        query = self._weigh(counts)
        scaled = query.multiply(self._idf).tocsr()
        dots = np.asarray((self.tf @ scaled.T).toarray()).ravel()
        return dots / self._row_norms()


class Retriever:
    """Rank passages for a question by fused word and character TF-IDF over each passage's fields.

    Each passage is indexed as several rows: its text, each alternate question, and its topic title.
    A passage scores the best of its alternate-question rows, blended with its text row.
    """

    def __init__(
        self,
        passages: Iterable[Passage] = (),
        *,
        prepare: Callable[[str], str] = lambda text: text,
        prepare_body: Callable[[str], str] | None = None,
        word_weight: float = 0.7,
        question_weight: float = 0.4,
        title_weight: float = 0.1,
        ignore_unseen: bool = True,
        keep_words: frozenset[str] = frozenset(),
    ) -> None:
        self.prepare = prepare
        self.prepare_body = prepare_body or prepare
        self.word_weight = word_weight
        self.question_weight = question_weight
        self.title_weight = title_weight
        self.passages: list[Passage] = []
        self._titles: list[frozenset[str]] = []
        self._rows: tuple[np.ndarray, np.ndarray] | None = None
        self._owner: list[int] = []
        self._kind: list[int] = []
        self._words = _Channel(
            HashingVectorizer(n_features=N_FEATURES, analyzer=partial(word_features, keep=keep_words), alternate_sign=False, norm=None),
            prepare=lambda text: text,
            ignore_unseen=ignore_unseen,
        )
        self._chars = _Channel(
            HashingVectorizer(
                n_features=N_FEATURES, analyzer="char_wb", ngram_range=(3, 5), alternate_sign=False, norm=None
            ),
            prepare=char_text,
            ignore_unseen=ignore_unseen,
        )
        self.add(list(passages))

    def add(self, passages: Sequence[Passage]) -> None:
        """Index more passages; they are answerable as soon as this returns."""
        rows: list[str] = []
        for passage in passages:
            index = len(self.passages)
            self.passages.append(passage)
            self._titles.append(frozenset(word_features(self.prepare_body(passage.topic.replace("-", " ")))))
            fields = [(BODY, passage.text), (TITLE, passage.topic.replace("-", " "))]
            fields += [(QUESTION, q) for q in passage.questions]
            for kind, text in fields:
                rows.append(self.prepare(text) if kind == QUESTION else self.prepare_body(text))
                self._owner.append(index)
                self._kind.append(kind)
        self._words.add(rows)
        self._chars.add(rows)
        self._rows = None

    def __len__(self) -> int:
        return len(self.passages)

    def _row_arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """Return each row's passage index and kind as arrays, built once per change."""
        if self._rows is None:
            self._rows = (np.asarray(self._owner), np.asarray(self._kind))
        return self._rows

    def search(self, text: str, *, limit: int = 5, roles: Iterable[str | None] | None = None) -> list[Hit]:
        """Return the best passages for question text (read once through `prepare`), best first."""
        if not self.passages:
            return []
        prepared = self.prepare(text)
        word = self._words.similarities(prepared)
        char = self._chars.similarities(prepared)
        fused = self.word_weight * word + (1.0 - self.word_weight) * char
        owner, kind = self._row_arrays()
        n = len(self.passages)
        body = np.zeros(n)
        question = np.zeros(n)
        best_word = np.zeros(n)
        best_char = np.zeros(n)
        np.maximum.at(body, owner[kind == BODY], fused[kind == BODY])
        np.maximum.at(question, owner[kind == QUESTION], fused[kind == QUESTION])
        # A question that names a topic outright ("project management", "scope of work") gets its title bonus
        # whole, however long the question: containment, not cosine, which long questions would dilute.
        asked = set(word_features(prepared))
        title = np.array([1.0 if words and words <= asked else 0.0 for words in self._titles])
        np.maximum.at(best_word, owner, word)
        np.maximum.at(best_char, owner, char)
        has_questions = np.zeros(n, dtype=bool)
        has_questions[owner[kind == QUESTION]] = True
        qw = np.where(has_questions, self.question_weight, 0.0)
        score = qw * question + (1.0 - qw) * body + self.title_weight * title
        allowed = None if roles is None else set(roles)
        order = np.argsort(-score, kind="stable")
        hits = []
        for i in order:
            passage = self.passages[int(i)]
            if allowed is not None and passage.role not in allowed:
                continue
            hits.append(Hit(passage, float(min(score[i], 1.0)), float(best_word[i]), float(best_char[i])))
            if len(hits) >= limit:
                break
        return hits
