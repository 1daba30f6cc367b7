"""TF-IDF retrieval on tiny inline corpora, with exact expected rankings."""

from __future__ import annotations

import dataclasses

import pytest

from bot.knowledge import Passage
from bot.language import normalize
from bot.retrieval import Hit, Retriever

PM = "it-project-manager"
ITM = "it-manager"

# Graded overlap: "a" says budget, vendors and firewalls; "b" two of them; "c" one; "d" none.
CORPUS = (
    Passage("a", "planning", ITM, "Review the budget, the vendors and the firewalls every quarter."),
    Passage("b", "purchasing", PM, "Review the budget and the vendors every quarter."),
    Passage("c", "finance", None, "Review the budget every quarter."),
    Passage("d", "leadership", PM, "Motivate the team and resolve conflicts."),
)
REMOTE = Passage(
    "e",
    "remote-work",
    ITM,
    "Set the remote work policy and VPN access.",
    questions=("Who decides about working from home?",),
)


@pytest.fixture
def retriever() -> Retriever:
    return Retriever(CORPUS, prepare=normalize)


def ranking(hits: list[Hit]) -> list[str]:
    return [hit.passage.id for hit in hits]


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("budget vendors firewalls", ["a", "b", "c", "d"]),  # more shared words, higher
        ("budget", ["c", "b", "a", "d"]),  # same word: the shorter passage is more about it
    ],
)
def test_exact_ranking(retriever: Retriever, question: str, expected: list[str]) -> None:
    assert ranking(retriever.search(question)) == expected


@pytest.mark.parametrize(
    ("question", "best"),
    [("firewalls", "a"), ("Who motivates the team?", "d")],  # stemming: "motivates" meets "Motivate"
)
def test_best_passage_clearly_ahead(retriever: Retriever, question: str, best: str) -> None:
    hits = retriever.search(question)
    assert ranking(hits)[0] == best
    assert all(hit.score < hits[0].score / 10 for hit in hits[1:])


def test_a_question_sharing_no_word_scores_near_nothing(retriever: Retriever) -> None:
    assert all(hit.score < 0.05 for hit in retriever.search("cooking pasta"))


def test_scores_are_between_zero_and_one_and_best_first(retriever: Retriever) -> None:
    for question in ("budget vendors firewalls", "quarter", "team conflicts", "zebra"):
        scores = [hit.score for hit in retriever.search(question)]
        assert all(0.0 <= s <= 1.0 for s in scores)
        assert scores == sorted(scores, reverse=True)


def test_limit(retriever: Retriever) -> None:
    assert ranking(retriever.search("budget vendors firewalls", limit=2)) == ["a", "b"]


def test_roles_filter(retriever: Retriever) -> None:
    assert ranking(retriever.search("budget vendors firewalls", roles=[PM])) == ["b", "d"]
    assert ranking(retriever.search("budget vendors firewalls", roles=[ITM, None])) == ["a", "c"]
    assert ranking(retriever.search("budget", roles=[])) == []


def test_alternate_questions_are_indexed() -> None:
    retriever = Retriever([*CORPUS, REMOTE], prepare=normalize)
    # None of these words is in the passage's text, only in its alternate question.
    assert ranking(retriever.search("who decides about working from home"))[0] == "e"


def test_topic_title_is_indexed(retriever: Retriever) -> None:
    assert ranking(retriever.search("leadership"))[0] == "d"


def test_empty_retriever_finds_nothing() -> None:
    retriever = Retriever(prepare=normalize)
    assert len(retriever) == 0
    assert retriever.search("budget") == []


def test_incremental_add_makes_the_new_passage_rank_first(retriever: Retriever) -> None:
    assert ranking(retriever.search("remote work vpn"))[0] != "e"
    retriever.add([REMOTE])
    assert len(retriever) == 5
    assert ranking(retriever.search("remote work vpn"))[0] == "e"
    assert ranking(retriever.search("budget vendors firewalls"))[:3] == ["a", "b", "c"]


def test_incremental_add_scores_like_a_fresh_index(retriever: Retriever) -> None:
    """Adding one passage must leave the index as if it had been built with that passage."""
    retriever.add([REMOTE])
    fresh = Retriever([*CORPUS, REMOTE], prepare=normalize)
    for question in ("budget vendors firewalls", "remote work", "team"):
        added = {h.passage.id: h.score for h in retriever.search(question)}
        built = {h.passage.id: h.score for h in fresh.search(question)}
        assert added == pytest.approx(built, abs=1e-9)


def test_hit_is_frozen(retriever: Retriever) -> None:
    hit = retriever.search("budget")[0]
    with pytest.raises(dataclasses.FrozenInstanceError):
        hit.score = 1.0  # type: ignore[misc]
