"""The passage classifier: the second vote beside retrieval."""

from __future__ import annotations

import pytest

from bot import classifier
from bot.classifier import OUT_OF_SCOPE, PassageClassifier

EXAMPLES = [
    ("who negotiates with suppliers", "vendors"),
    ("who signs contracts with the outsourcing firm", "vendors"),
    ("who chases the agency when it is late", "vendors"),
    ("who fixes my laptop", "support"),
    ("who resets passwords", "support"),
    ("who keeps the wifi running", "support"),
    ("what is the capital of france", OUT_OF_SCOPE),
    ("recipe for pancakes", OUT_OF_SCOPE),
    ("who won the football match", OUT_OF_SCOPE),
]


def test_probabilities_cover_every_label_and_sum_to_one() -> None:
    votes = PassageClassifier(EXAMPLES).probabilities("who haggles with the outsourcing agency")
    assert set(votes) == {"vendors", "support", OUT_OF_SCOPE}
    assert sum(votes.values()) == pytest.approx(1.0)
    assert max(votes, key=votes.__getitem__) == "vendors"


def test_out_of_scope_is_a_label_like_any_other() -> None:
    votes = PassageClassifier(EXAMPLES).probabilities("capital of spain")
    assert max(votes, key=votes.__getitem__) == OUT_OF_SCOPE


@pytest.mark.parametrize(
    "examples",
    [[], [("who negotiates with suppliers", "vendors")], [(f"question {i}", f"p{i}") for i in range(5)]],
    ids=["no examples", "one label", "above the label cap"],
)
def test_it_abstains_with_too_few_or_too_many_labels(examples: list[tuple[str, str]]) -> None:
    assert PassageClassifier(examples, max_labels=4).probabilities("who negotiates with suppliers") == {}


def test_an_empty_question_gets_no_votes() -> None:
    assert PassageClassifier(EXAMPLES, prepare=lambda text: text.replace("?", "")).probabilities("?") == {}


def test_the_same_examples_are_fitted_once(monkeypatch: pytest.MonkeyPatch) -> None:
    classifier._CACHE.clear()
    first = PassageClassifier(EXAMPLES)
    monkeypatch.setattr(classifier, "FeatureUnion", None)  # a second fit would fail
    second = PassageClassifier(EXAMPLES)
    assert first._fitted is not None and second._fitted is not None
    assert second._fitted[1] is first._fitted[1]
