"""Learning from real questions through the real command: ask and chat log, review promotes, stats count."""

from __future__ import annotations

import json
import re
import sqlite3
from typing import Any

import pytest

from bot.engine import Answer
from bot.knowledge import load_knowledge
from bot.questionlog import QuestionLog
from conftest import ProjectCopy, RunRolebot

OFF_TOPIC = "how do I renew my passport?"


def ask_json(rolebot: RunRolebot, question: str) -> dict[str, Any]:
    result = rolebot("ask", "--json", question)
    assert result.code == 0, result.stderr
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def test_ask_and_chat_log_every_question_with_their_channel(project: ProjectCopy, rolebot: RunRolebot) -> None:
    assert rolebot("ask", "what does an IT manager do?").code == 0
    assert rolebot("ask", "--json", "-", stdin="what is a PM's focus?\nand for the IT manager?\n").code == 0
    assert rolebot("chat", stdin="hello\nwhat does a PM do?\n/sources\n/quit\n").code == 0

    log = QuestionLog(project.data_dir)
    stats = log.stats()
    assert stats.total == 5  # /sources and /quit are commands, not questions
    db = sqlite3.connect(log.path)
    try:
        logged = db.execute("SELECT question, channel FROM questions ORDER BY id").fetchall()
    finally:
        db.close()
    assert logged == [
        ("what does an IT manager do?", "cli"),
        ("what is a PM's focus?", "cli"),
        ("and for the IT manager?", "cli"),
        ("hello", "console"),
        ("what does a PM do?", "console"),
    ]


def test_review_promote_makes_the_next_asker_get_the_right_passage(project: ProjectCopy, rolebot: RunRolebot) -> None:
    question = "Who keeps the lights on for the company's systems?"
    for _ in range(2):
        ask_json(rolebot, OFF_TOPIC)
    # The same gap, met by someone on Telegram.
    QuestionLog(project.data_dir).log_answer(Answer(question, "fallback", (), 0.0), "telegram", user=42)

    listed = rolebot("review")
    assert listed.code == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert lines[0].split() == ["N", "asked", "why", "last", "answer", "question"]
    assert re.match(r"\s+1\s+2\s+fallback x2\s+fallback", lines[1]) and lines[1].endswith(OFF_TOPIC)
    assert re.match(r"\s+3\s+1\s+fallback x1\s+", lines[2]) and lines[2].endswith(question)
    assert "rolebot review --promote N --to PASSAGE_ID" in listed.stdout

    promoted = rolebot("review", "--promote", "3", "--to", "itm-responsibilities")
    assert promoted.code == 0, promoted.stderr
    assert promoted.stdout.strip() == f"promoted 3: {question!r} is now a phrasing of itm-responsibilities"
    assert question in load_knowledge(project.knowledge_dir).by_id("itm-responsibilities").questions  # type: ignore[union-attr]
    assert ask_json(rolebot, question)["sources"][0]["id"] == "itm-responsibilities"

    dismissed = rolebot("review", "--dismiss", "1")
    assert (dismissed.code, dismissed.stdout.strip()) == (0, "dismissed 1 (2 logged questions)")
    empty = rolebot("review")
    assert empty.stdout.strip().startswith("nothing to review")


def test_review_errors_are_one_line_with_exit_2_and_change_nothing(project: ProjectCopy, rolebot: RunRolebot) -> None:
    ask_json(rolebot, OFF_TOPIC)
    before = (project.knowledge_dir / "article.yaml").read_text()
    cases = [
        (("review", "--promote", "1"), "--promote needs --to PASSAGE_ID"),
        (("review", "--promote", "1", "--to", "no-such-passage"), "no passage with id 'no-such-passage'"),
        (("review", "--promote", "77", "--to", "overview"), "no logged question number 77"),
        (("review", "--dismiss", "77"), "no logged question number 77"),
        (("review", "--to", "overview"), "--to goes with --promote N"),
    ]
    for args, message in cases:
        result = rolebot(*args)
        assert result.code == 2, args
        assert result.stderr.strip() == f"rolebot: error: {message}", args
    assert (project.knowledge_dir / "article.yaml").read_text() == before
    assert [i.number for i in QuestionLog(project.data_dir).review()] == [1]


@pytest.mark.parametrize("args", [("stats", "--days", "0"), ("stats", "--days", "-3"), ("review", "--limit", "0"),
                                  ("review", "--limit", "x")])
def test_counts_below_one_are_refused(project: ProjectCopy, rolebot: RunRolebot, args: tuple[str, ...]) -> None:
    ask_json(rolebot, OFF_TOPIC)
    result = rolebot(*args)
    assert result.code == 2
    assert result.stdout == ""
    assert result.stderr.splitlines()[-1].startswith(f"rolebot {args[0]}: error: argument {args[1]}: ")


def test_stats_print_counts_by_day_and_kind_and_the_rates(project: ProjectCopy, rolebot: RunRolebot) -> None:
    assert rolebot("stats").stdout.strip() == "no questions logged yet"
    first = ask_json(rolebot, "what does an IT manager do?")
    ask_json(rolebot, OFF_TOPIC)
    log = QuestionLog(project.data_dir)
    log.record_feedback(1, helpful=True)

    result = rolebot("stats")
    assert result.code == 0, result.stderr
    lines = result.stdout.splitlines()
    kinds = sorted({first["kind"], "fallback"}, key=["intent", "retrieval", "comparison", "smalltalk", "fallback"].index)
    assert lines[0].split() == ["day", "total", *kinds]
    assert re.match(r"\d{4}-\d\d-\d\d\s+2\s+1\s+1$", lines[1])
    assert lines[2].split() == ["all", "days", "2", "1", "1"]
    assert lines[-1] == "fallback rate: 50.0% (1 of 2)   helpful rate: 100.0% of 1 rated"


def test_a_broken_log_never_stops_answers(project: ProjectCopy, rolebot: RunRolebot) -> None:
    project.data_dir.mkdir()
    (project.data_dir / "questions.sqlite3").write_text("this is not a database")
    result = rolebot("ask", "what does an IT manager do?")
    assert result.code == 0
    assert "IT Manager" in result.stdout
    assert result.stderr.startswith("rolebot: warning: questions are not being logged")


def test_a_promoted_question_wins_over_the_out_of_scope_examples(project: ProjectCopy, rolebot: RunRolebot) -> None:
    # "renew my passport" is an out-of-scope example word for word; an operator decides it is in scope.
    assert ask_json(rolebot, OFF_TOPIC)["kind"] == "fallback"
    promoted = rolebot("review", "--promote", "1", "--to", "itm-responsibilities")
    assert promoted.code == 0, promoted.stderr
    answer = ask_json(rolebot, OFF_TOPIC)
    assert (answer["kind"], answer["sources"][0]["id"]) == ("retrieval", "itm-responsibilities")
