"""The evaluation harness: how a labelled case is judged and what the report counts."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.engine import Answer, Source
from bot.evaluation import Case, Outcome, Report, judge, load_cases
from bot.knowledge import KnowledgeError
from bot.language import ITM, PM


def answer(kind: str, *cited: tuple[str, str | None]) -> Answer:
    sources = tuple(Source(f"{topic}-{role}", role, topic, 0.5) for topic, role in cited)
    return Answer(question="q", kind=kind, sections=(), confidence=0.5, sources=sources)


OUT_OF_SCOPE = Case(("what is the capital of peru",), "out-of-scope", fallback=True)
VENDORS = Case(("who handles vendors",), "direct", pairs=frozenset({("vendor-management", PM)}))
COMPARE = Case(("pm vs itm: leadership",), "comparison", compare="leadership")


@pytest.mark.parametrize(
    ("case", "given", "right"),
    [
        (OUT_OF_SCOPE, answer("fallback"), True),
        (OUT_OF_SCOPE, answer("smalltalk"), True),  # "ok" -> "Glad that helps": nothing from the knowledge
        (OUT_OF_SCOPE, answer("retrieval", ("overview", None)), False),
        (VENDORS, answer("retrieval", ("vendor-management", PM)), True),
        (VENDORS, answer("retrieval", ("vendor-management", None)), False),  # right topic, wrong role
        (VENDORS, answer("fallback"), False),
        (VENDORS, answer("smalltalk"), False),
        (COMPARE, answer("comparison", ("leadership", PM), ("leadership", ITM)), True),
        (COMPARE, answer("comparison", ("leadership", PM)), False),  # must cite both roles
        (COMPARE, answer("comparison", ("focus", PM), ("focus", ITM)), False),
    ],
)
def test_a_case_is_judged_on_the_answer_s_first_source(case: Case, given: Answer, right: bool) -> None:
    assert judge(case, given)[0] is right


def test_the_report_counts_fallbacks_on_both_sides() -> None:
    outcomes = [
        Outcome(OUT_OF_SCOPE, answer("fallback"), True, True),
        Outcome(OUT_OF_SCOPE, answer("retrieval", ("overview", None)), False, False),
        Outcome(VENDORS, answer("retrieval", ("vendor-management", PM)), True, True),
        Outcome(VENDORS, answer("fallback"), False, False),
    ]
    report = Report("set", outcomes)
    assert (report.hit1, report.fallback_recall, report.false_fallback) == (0.5, 0.5, 0.5)
    assert report.fallback_precision == 0.5
    assert [o.case for o in report.misses()] == [OUT_OF_SCOPE, VENDORS]


def test_a_conversation_is_loaded_as_turns(tmp_path: Path) -> None:
    path = tmp_path / "set.yaml"
    path.write_text(
        '- turns: ["what does an IT PM do?", "and the IT manager?"]\n'
        "  category: follow-up\n"
        "  expect: [[responsibilities, it-manager]]\n"
    )
    (case,) = load_cases(path)
    assert case.turns == ("what does an IT PM do?", "and the IT manager?")
    assert case.pairs == {("responsibilities", ITM)}


@pytest.mark.parametrize(
    "text",
    ["- q: hi\n  expect: maybe\n", "- q: hi\n  expect: [[focus]]\n", "q: not a list\n", "- [unclosed\n"],
)
def test_a_malformed_set_names_the_file(tmp_path: Path, text: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(KnowledgeError, match="bad.yaml"):
        load_cases(path)
