"""An index grown one passage at a time scores exactly like one built from all of them at once."""

from __future__ import annotations

import pytest

from bot.knowledge import Passage
from bot.retrieval import Retriever

CORPUS = (
    Passage("pm-budget", "budget", "it-project-manager", "The project manager tracks the project budget weekly."),
    Passage("itm-budget", "budget", "it-manager", "The IT manager sets the yearly department budget.",
            questions=("Who owns the IT budget?",)),
    Passage("pm-vendors", "vendors", "it-project-manager", "Vendors are chosen by the project manager per project."),
    Passage("itm-security", "security", "it-manager", "Security policies and patching are the IT manager's job."),
)


@pytest.mark.parametrize("question", ["who owns the budget", "vendor chosen per project", "patching policies", "zebra"])
def test_incremental_adds_match_a_full_build(question: str) -> None:
    whole = Retriever(CORPUS)
    grown = Retriever(CORPUS[:1])
    for passage in CORPUS[1:]:
        grown.add([passage])
        grown.search("warm the norms between adds")  # norms computed, then invalidated by the next add
    expected = [(h.passage.id, round(h.score, 12)) for h in whole.search(question, limit=4)]
    assert [(h.passage.id, round(h.score, 12)) for h in grown.search(question, limit=4)] == expected


def test_exact_ranking_after_an_add() -> None:
    retriever = Retriever(CORPUS[:2])
    retriever.add(CORPUS[2:])
    assert [h.passage.id for h in retriever.search("who owns the IT budget?", limit=2)] == ["itm-budget", "pm-budget"]
    assert retriever.search("security patching", limit=1)[0].passage.id == "itm-security"
