"""The passage classifier: the second vote beside retrieval."""

from __future__ import annotations

from pathlib import Path

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
    monkeypatch.setattr(classifier, "_fit_now", None)  # a second fit would fail
    second = PassageClassifier(EXAMPLES)
    assert first._fitted is not None and second._fitted is not None
    assert second._fitted[1] is first._fitted[1]


def test_a_fit_kept_on_disk_serves_a_new_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    classifier._CACHE.clear()
    first = PassageClassifier(EXAMPLES, cache_dir=tmp_path)
    assert len(list(tmp_path.glob("classifier-*.pickle"))) == 1
    classifier._CACHE.clear()  # as if a new process started
    monkeypatch.setattr(classifier, "_fit_now", None)  # a second fit would fail
    second = PassageClassifier(EXAMPLES, cache_dir=tmp_path)
    question = "who haggles with the outsourcing agency"
    assert second.probabilities(question) == pytest.approx(first.probabilities(question))


def test_a_fit_with_other_settings_is_never_reused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    classifier._CACHE.clear()
    PassageClassifier(EXAMPLES, cache_dir=tmp_path)
    real = classifier.LogisticRegression
    monkeypatch.setattr(classifier, "LogisticRegression", lambda **params: real(**{**params, "tol": 0.5}))
    PassageClassifier(EXAMPLES, cache_dir=tmp_path)  # a new version of the code, fitting differently
    assert len(list(tmp_path.glob("classifier-*.pickle"))) == 2


def test_an_unreadable_cache_file_is_fitted_again_and_replaced(tmp_path: Path) -> None:
    classifier._CACHE.clear()
    PassageClassifier(EXAMPLES, cache_dir=tmp_path)
    (kept,) = tmp_path.glob("classifier-*.pickle")
    kept.write_bytes(b"torn")
    classifier._CACHE.clear()
    votes = PassageClassifier(EXAMPLES, cache_dir=tmp_path).probabilities("capital of spain")
    assert max(votes, key=votes.__getitem__) == OUT_OF_SCOPE
    assert kept.read_bytes() != b"torn"


def test_the_disk_cache_keeps_only_the_most_recent_fits(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(classifier, "_DISK_CACHE_SIZE", 2)
    for i in range(4):
        PassageClassifier([*EXAMPLES, (f"who orders spare part {i}", "support")], cache_dir=tmp_path)
    assert len(list(tmp_path.glob("classifier-*.pickle"))) == 2
    assert not list(tmp_path.glob(".classifier-*"))  # no temporary file left behind


def test_an_unwritable_cache_folder_only_costs_the_cache(tmp_path: Path) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    classifier._CACHE.clear()
    votes = PassageClassifier(EXAMPLES, cache_dir=blocked / "cache").probabilities("capital of spain")
    assert max(votes, key=votes.__getitem__) == OUT_OF_SCOPE
