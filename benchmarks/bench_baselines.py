"""rolebot against simple retrieval baselines, side by side on labelled question sets.

Run: .venv/bin/python benchmarks/bench_baselines.py [tests/eval/test.yaml tests/eval/dev.yaml ...]

Baselines (fitted on the knowledge base's passages only, nothing tuned on any question set):
  word tf-idf       TfidfVectorizer(stop_words="english") on passage texts, cosine, top-1 passage
  char tf-idf       TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5)) on passage texts
  char tf-idf + q1  the same over passage text + its first alternate question
  rapidfuzz WRatio  process.extractOne(fuzz.WRatio) against each passage's first alternate question
                    (lower-cased with rapidfuzz.utils.default_process)

A baseline judges a case on its last question alone (no conversation). Its top-1 passage is the answer: a hit
when (topic, role) is an expected pair, or, for {compare: TOPIC} cases, when its topic is TOPIC. A baseline
never falls back, so its hit@1 ignores rejection. Its rejection threshold is the 5th percentile of in-scope top
scores. "OOS rejected" is the share of out-of-scope questions scoring below it. "in-scope rejected" is the
share of in-scope questions below it (at most 5% by construction).
rolebot is run by bot.evaluation.evaluate: every turn asked in one Conversation. Its figures equal
`rolebot eval`: hit@1 (fallbacks count as misses; comparisons must cite both roles), fallback recall and
false fallback.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
from rapidfuzz import fuzz, process, utils
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics.pairwise import linear_kernel

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.engine import load_engine  # noqa: E402
from bot.evaluation import Case, evaluate, load_cases  # noqa: E402
from bot.knowledge import Passage, load_knowledge  # noqa: E402

Ranker = Callable[[str], tuple[int, float]]
"""Question -> (index of the top passage, its score)."""


def first_question(p: Passage) -> str:
    return p.questions[0] if p.questions else p.text


def tfidf_ranker(docs: Sequence[str], **options: object) -> Ranker:
    vectorizer = TfidfVectorizer(**options)
    matrix = vectorizer.fit_transform(docs)

    def rank(question: str) -> tuple[int, float]:
        scores = linear_kernel(vectorizer.transform([question]), matrix)[0]  # rows are L2-normalised: cosine
        best = int(scores.argmax())
        return best, float(scores[best])

    return rank


def fuzz_ranker(choices: Sequence[str]) -> Ranker:
    def rank(question: str) -> tuple[int, float]:
        _, score, index = process.extractOne(question, choices, scorer=fuzz.WRatio, processor=utils.default_process)
        return int(index), float(score)

    return rank


def baselines(passages: Sequence[Passage]) -> dict[str, Callable[[], Ranker]]:
    texts = [p.text for p in passages]
    with_q1 = [f"{p.text}\n{first_question(p)}" for p in passages]
    return {
        "word tf-idf": lambda: tfidf_ranker(texts, stop_words="english"),
        "char tf-idf": lambda: tfidf_ranker(texts, analyzer="char_wb", ngram_range=(3, 5)),
        "char tf-idf + q1": lambda: tfidf_ranker(with_q1, analyzer="char_wb", ngram_range=(3, 5)),
        "rapidfuzz WRatio q1": lambda: fuzz_ranker([first_question(p) for p in passages]),
    }


def is_hit(case: Case, passage: Passage) -> bool:
    if case.compare is not None:
        return passage.topic == case.compare
    return (passage.topic, passage.role) in case.pairs


def share_below(scores: Sequence[float], threshold: float, *, inclusive: bool = False) -> float:
    if not scores:
        return 0.0
    return sum(s <= threshold if inclusive else s < threshold for s in scores) / len(scores)


def score_baseline(
    rank: Ranker, passages: Sequence[Passage], cases: Sequence[Case], notes: list[str], method: str
) -> tuple[float, float, float]:
    """Return (in-scope hit@1, OOS rejected, in-scope rejected) for one baseline on one question set."""
    hits, ins, oos = [], [], []
    for case in cases:
        index, score = rank(case.turns[-1])
        (oos if case.fallback else ins).append(score)
        if not case.fallback:
            hits.append(is_hit(case, passages[index]))
    threshold = float(np.percentile(ins, 5)) if ins else 0.0
    if ins and threshold <= min(ins):  # ties at the bottom (e.g. score 0: no shared word) make it reject nothing
        notes.append(
            f"{method}: threshold {threshold:.3g} is the lowest in-scope score, so it rejects nothing; "
            f"{share_below(ins, threshold, inclusive=True):.1%} of in-scope and "
            f"{share_below(oos, threshold, inclusive=True):.1%} of out-of-scope questions score {threshold:.3g}."
        )
    return (sum(hits) / len(hits) if hits else 0.0), share_below(oos, threshold), share_below(ins, threshold)


def print_table(
    name: str, cases: Sequence[Case], rows: dict[str, tuple[float, float, float]], notes: Sequence[str]
) -> None:
    n_in = sum(not c.fallback for c in cases)
    print(f"\n{name}: {n_in} in-scope, {len(cases) - n_in} out-of-scope questions\n")
    print("| method | in-scope hit@1 | OOS rejected | in-scope rejected |")
    print("|---|---:|---:|---:|")
    for method, (hit1, oos_rej, in_rej) in rows.items():
        print(f"| {method} | {hit1:.1%} | {oos_rej:.1%} | {in_rej:.1%} |")
    for note in notes:
        print(f"\nnote: {note}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", default=[str(ROOT / "tests/eval/test.yaml")], help="labelled sets")
    parser.add_argument("--knowledge", type=Path, default=ROOT / "knowledge")
    parser.add_argument("--intents", type=Path, default=ROOT / "intents")
    args = parser.parse_args(argv)

    sets = {Path(f).name: load_cases(Path(f)) for f in args.files}
    passages = load_knowledge(args.knowledge).passages
    seconds: dict[str, float] = {}
    results: dict[str, dict[str, tuple[float, float, float]]] = {name: {} for name in sets}
    notes: dict[str, list[str]] = {name: [] for name in sets}

    for method, build in baselines(passages).items():
        start = time.perf_counter()
        rank = build()
        for name, cases in sets.items():
            results[name][method] = score_baseline(rank, passages, cases, notes[name], method)
        seconds[method] = time.perf_counter() - start

    start = time.perf_counter()
    engine = load_engine(args.knowledge, args.intents)
    for name, cases in sets.items():
        report = evaluate(engine, cases, name=name)
        results[name]["rolebot"] = (report.hit1, report.fallback_recall, report.false_fallback)
    seconds["rolebot"] = time.perf_counter() - start

    for name, cases in sets.items():
        print_table(name, cases, results[name], notes[name])
    print(f"\ntime per method (fit/load + every question of {len(sets)} set(s), seconds):")
    for method, secs in seconds.items():
        print(f"  {method:<20}{secs:8.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
