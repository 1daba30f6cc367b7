"""Intents: fuzzy matching on inline intents, and intents files refused with file, line and reason."""

from __future__ import annotations

from pathlib import Path

import pytest
from rapidfuzz import fuzz

from bot.intents import Intent, IntentMatcher, check_references, load_intents
from bot.knowledge import KnowledgeBase, KnowledgeError, Passage, load_knowledge

PROJECT_ROOT = Path(__file__).resolve().parent.parent

GREETING = Intent("greeting", ("hi", "hello there"), reply="Hello!")
VENDORS = Intent("vendors", ("who handles vendors", "who manages suppliers"), topic="vendor-management")
DUTIES = Intent("duties", ("what does a do",), topic="responsibilities")
INTENTS = (GREETING, VENDORS, DUTIES)


@pytest.fixture
def matcher() -> IntentMatcher:
    return IntentMatcher(INTENTS)


# -- matching ----------------------------------------------------------------------------------


def test_exact_example_matches_with_full_score(matcher: IntentMatcher) -> None:
    found = matcher.match("who handles vendors")
    assert found is not None
    assert (found.intent, found.example, found.score) == (VENDORS, "who handles vendors", 1.0)


def test_close_phrasing_matches_with_a_lower_score(matcher: IntentMatcher) -> None:
    found = matcher.match("who handle vendors")
    assert found is not None and found.intent is VENDORS
    assert 0.86 <= found.score < 1.0


def test_examples_are_prepared_like_the_question(matcher: IntentMatcher) -> None:
    found = matcher.match("hello there")
    assert found is not None and found.intent is GREETING


@pytest.mark.parametrize("text", ["how do i renew my passport", "vendors who handles", "hello", ""])
def test_below_the_cut_off_is_none(matcher: IntentMatcher, text: str) -> None:
    assert matcher.match(text) is None


def test_cut_off_is_a_keyword_per_call(matcher: IntentMatcher) -> None:
    assert matcher.match("who handle vendors", score_cutoff=99) is None
    found = matcher.match("vendors who handles", score_cutoff=50)
    assert found is not None and found.intent is VENDORS


def test_cut_off_is_a_keyword_of_the_matcher() -> None:
    assert IntentMatcher(INTENTS, score_cutoff=99).match("who handle vendors") is None


def test_scorer_is_injectable() -> None:
    """Word order does not matter to token_set_ratio, so the shuffled question now matches."""
    found = IntentMatcher(INTENTS, scorer=fuzz.token_set_ratio).match("vendors who handles")
    assert found is not None and found.intent is VENDORS and found.score == 1.0


def test_a_plain_function_can_score() -> None:
    seen: list[tuple[str, str]] = []

    def only_hi(question: str, example: str, **_: object) -> float:
        seen.append((question, example))
        return 100.0 if example == "hi" else 0.0

    found = IntentMatcher(INTENTS, scorer=only_hi).match("anything at all")
    assert found is not None and found.intent is GREETING
    assert ("anything at all", "hi") in seen


def test_prepare_is_injectable() -> None:
    matcher = IntentMatcher(INTENTS, prepare=lambda text: text.upper())
    found = matcher.match("WHO HANDLES VENDORS")
    assert found is not None and found.intent is VENDORS


def test_no_intents_match_nothing() -> None:
    assert IntentMatcher(()).match("who handles vendors") is None


def test_small_talk_has_a_reply_and_routes_do_not() -> None:
    assert GREETING.is_smalltalk
    assert not VENDORS.is_smalltalk


# -- the project's intents files ---------------------------------------------------------------


def test_project_intents_load_and_point_at_real_knowledge() -> None:
    intents = load_intents(PROJECT_ROOT / "intents")
    names = {intent.name for intent in intents}
    assert {"greeting", "thanks", "help", "capabilities"} <= names
    check_references(intents, load_knowledge(PROJECT_ROOT / "knowledge"))


# -- intents files refused with file, line and reason ------------------------------------------

ROUTE = "- name: vendors\n  examples: [who handles vendors]\n  topic: vendor-management\n"

MALFORMED = {
    "unknown-field": (ROUTE + "- name: x\n  examples: [a]\n  reply: b\n  colour: red\n", 4, "unknown field 'colour'"),
    "name-not-a-slug": (ROUTE + "- name: Not A Slug\n  examples: [a]\n  reply: b\n", 4, "lowercase slug"),
    "no-examples": (ROUTE + "- name: x\n  examples: []\n  reply: b\n", 4, "example phrasings"),
    "no-reply-or-route": (ROUTE + "- name: x\n  examples: [a]\n", 4, "needs a reply"),
    "small-talk-that-routes": (ROUTE + "- name: x\n  examples: [a]\n  reply: b\n  topic: focus\n", 4, "cannot"),
    "unknown-role": (ROUTE + "- name: x\n  examples: [a]\n  topic: focus\n  role: ceo\n", 4, "unknown role 'ceo'"),
    "duplicate-name": (ROUTE + ROUTE, 4, "duplicate intent name 'vendors'"),
    "not-a-list": ("name: x\nexamples: [a]\n", 1, "list of intents"),
    "not-a-mapping": ("- just text\n", 1, "mapping"),
    "bad-yaml": (ROUTE + "- name: x\n\t examples: [a]\n", 5, "invalid YAML"),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_intents_file_is_refused(tmp_path: Path, case: str) -> None:
    text, line, reason = MALFORMED[case]
    path = tmp_path / "intents.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(KnowledgeError) as caught:
        load_intents(tmp_path)
    assert caught.value.path == str(path)
    assert caught.value.line == line
    assert reason in caught.value.reason
    assert str(caught.value).startswith(f"{path}:{line}: ")


def test_duplicate_name_across_files_is_refused(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(ROUTE, encoding="utf-8")
    (tmp_path / "b.yaml").write_text("# again\n" + ROUTE, encoding="utf-8")
    with pytest.raises(KnowledgeError, match=r"b\.yaml:2: duplicate intent name 'vendors'"):
        load_intents(tmp_path)


def test_intents_yaml_error_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "intents.yaml"
    path.write_text("- name: x\n  examples: [a\n", encoding="utf-8")
    with pytest.raises(KnowledgeError) as caught:
        load_intents(tmp_path)
    assert "\n" not in str(caught.value)
    assert str(caught.value) == f"{path}:3: invalid YAML: expected ',' or ']', but got '<stream end>'"


def test_intents_file_that_is_not_utf8_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "intents.yaml"
    path.write_bytes("- name: x\n  examples: [caf\xe9]\n  reply: hi\n".encode("latin-1"))
    with pytest.raises(KnowledgeError) as caught:
        load_intents(tmp_path)
    assert (caught.value.path, caught.value.line) == (str(path), None)
    assert str(caught.value).startswith(f"{path}: cannot read: 'utf-8' codec can't decode")
    assert "\n" not in str(caught.value)


def test_missing_intents_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(KnowledgeError, match="does not exist"):
        load_intents(tmp_path / "nowhere")


def test_empty_intents_file_is_no_intents(tmp_path: Path) -> None:
    (tmp_path / "empty.yaml").write_text("# nothing yet\n", encoding="utf-8")
    assert load_intents(tmp_path) == ()


def test_loaded_intent_knows_its_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "intents.yaml"
    path.write_text("# routes\n" + ROUTE, encoding="utf-8")
    (intent,) = load_intents(tmp_path)
    assert (intent.name, intent.topic, intent.examples) == ("vendors", "vendor-management", ("who handles vendors",))
    assert (intent.path, intent.line) == (str(path), 2)


# -- references into the knowledge -------------------------------------------------------------

KNOWLEDGE = KnowledgeBase(passages=(Passage("pm-focus", "focus", "it-project-manager", "Deliver projects."),))


def test_references_to_known_passages_and_topics_pass() -> None:
    check_references([Intent("a", ("x",), passages=("pm-focus",)), Intent("b", ("y",), topic="focus")], KNOWLEDGE)


@pytest.mark.parametrize(
    ("intent", "reason"),
    [
        (Intent("a", ("x",), passages=("nope",), path="i.yaml", line=3), "i.yaml:3: intent 'a': unknown passage 'nope'"),
        (Intent("b", ("x",), topic="nope", path="i.yaml", line=7), "i.yaml:7: intent 'b': unknown topic 'nope'"),
    ],
)
def test_references_to_missing_knowledge_are_refused(intent: Intent, reason: str) -> None:
    with pytest.raises(KnowledgeError) as caught:
        check_references([intent], KNOWLEDGE)
    assert str(caught.value) == reason
