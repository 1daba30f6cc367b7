"""Time to make one new passage answerable on a 10,000-passage knowledge base: incremental add vs rebuild.

Run: .venv/bin/python benchmarks/bench_index.py [--passages 10000]

The knowledge base is synthetic but shaped like the real one: the article's 19 passages, then
passages of ~80 words with 2 alternate questions each, drawn from a 20,000-word vocabulary.
"Answerable" means `Engine.ask` names the new passage as its first source.
"""

from __future__ import annotations

import argparse
import random
import resource
import sys
import time
import tracemalloc
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.engine import Engine  # noqa: E402
from bot.intents import load_intents  # noqa: E402
from bot.knowledge import KnowledgeBase, Passage, load_knowledge  # noqa: E402

NEW = Passage(
    id="itm-quantum-pilots",
    topic="quantum-pilots",
    role="it-manager",
    text="An IT manager sets the rules for quantum computing pilots and keeps their hardware budget in check.",
    questions=("Who sets the rules for quantum computing pilots?",),
)
QUESTION = "who sets the rules for quantum computing pilots?"


def synthetic(n: int, seed: int = 7) -> tuple[Passage, ...]:
    """The article's passages plus synthetic ones up to n passages."""
    rng = random.Random(seed)
    letters = "abcdefghijklmnopqrstuvwxyz"
    vocabulary = ["".join(rng.choice(letters) for _ in range(rng.randint(4, 10))) for _ in range(20_000)]

    def words(count: int) -> str:
        return " ".join(rng.choice(vocabulary) for _ in range(count))

    article = load_knowledge(ROOT / "knowledge").passages
    extra = tuple(
        Passage(
            id=f"synthetic-{i}",
            topic=f"topic-{i % 300}",
            role=rng.choice(["it-project-manager", "it-manager", None]),
            text=words(80) + ".",
            questions=(words(7) + "?", words(7) + "?"),
        )
        for i in range(n - len(article))
    )
    return article + extra


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(action) -> float:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passages", type=int, default=10_000)
    args = parser.parse_args()

    intents = load_intents(ROOT / "intents")
    passages = synthetic(args.passages)
    knowledge = KnowledgeBase(passages=passages, synonyms=load_knowledge(ROOT / "knowledge").synonyms)

    start = time.perf_counter()
    engine = Engine(knowledge, intents)
    build_seconds = time.perf_counter() - start
    engine.ask("what does an IT manager do?")  # first search computes the row norms once
    rss_after_build = rss_mb()

    # Incremental: index only the new passage, then ask (timed without memory tracing, which slows numpy).
    add_seconds = timed(lambda: engine.add_passages([NEW]))
    answer_start = time.perf_counter()
    answer = engine.ask(QUESTION)
    first_ask = time.perf_counter() - answer_start
    assert answer.sources and answer.sources[0].id == NEW.id, answer
    steady = timed(lambda: engine.ask(QUESTION))
    # Memory of one more incremental add and its first answer, traced separately.
    tracemalloc.start()
    engine.add_passages([replace(NEW, id="itm-quantum-pilots-b", text=NEW.text + " Again.")])
    engine.ask(QUESTION)
    _, add_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    # Full rebuild: the whole index again, with the new passage in it.
    rss_before = rss_mb()
    rebuilt = replace(knowledge, passages=passages + (replace(NEW, id="itm-quantum-pilots-2"),))
    rebuild_seconds = timed(lambda: engine.replace_knowledge(rebuilt))
    answer_start = time.perf_counter()
    answer = engine.ask(QUESTION)
    first_ask_rebuilt = time.perf_counter() - answer_start
    assert answer.sources, answer
    rebuild_growth = rss_mb() - rss_before

    print(f"knowledge base: {len(passages):,} passages (+1 new); first build {build_seconds:.1f} s; "
          f"peak RSS {rss_after_build:.0f} MB after the build, {rss_mb():.0f} MB at the end")
    print(f"a later question, norms cached: {steady * 1000:.0f} ms")
    print()
    print(f"| {'method':<16} | {'index update':>12} | {'first answer':>12} | {'answerable after':>16} | {'extra memory':>28} |")
    print(f"|{'-' * 18}|{'-' * 14}|{'-' * 14}|{'-' * 18}|{'-' * 30}|")
    for name, update, ask, memory in (
        ("incremental add", add_seconds, first_ask, f"{add_peak / 2**20:.0f} MB traced peak"),
        ("full rebuild", rebuild_seconds, first_ask_rebuilt, f"+{rebuild_growth:.0f} MB peak RSS"),
    ):
        print(f"| {name:<16} | {update:>10.3f} s | {ask:>10.3f} s | {update + ask:>14.3f} s | {memory:>28} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
