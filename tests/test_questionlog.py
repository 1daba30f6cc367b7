"""The question log: what is stored, how review groups and closes questions, and the stats."""

from __future__ import annotations

import json
import sqlite3
import stat
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from bot.engine import Answer, Engine, Section, Source, load_engine
from bot.knowledge import load_passage_file
from bot.questionlog import SCHEMA_VERSION, QuestionLog, QuestionLogError
from bot.store import ValidationError
from conftest import ProjectCopy

DAY_ONE = datetime(2025, 3, 1, 9, 30, tzinfo=timezone.utc)


def answer(question: str, kind: str = "retrieval", confidence: float = 0.9, source: str | None = "pm-focus") -> Answer:
    """A hand-built answer: the log only reads its fields."""
    sources = (Source(source, "it-project-manager", "focus", 0.5),) if source else ()
    return Answer(question, kind, (Section("", "text"),), confidence, sources=sources)


class Clock:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock(DAY_ONE)


@pytest.fixture
def log(tmp_path: Path, clock: Clock) -> QuestionLog:
    return QuestionLog(tmp_path / "data", clock=clock)


def rows(log: QuestionLog) -> list[sqlite3.Row]:
    db = sqlite3.connect(log.path)
    db.row_factory = sqlite3.Row
    try:
        return db.execute("SELECT * FROM questions ORDER BY id").fetchall()
    finally:
        db.close()


def test_database_is_wal_with_a_schema_version(log: QuestionLog) -> None:
    db = sqlite3.connect(log.path)
    try:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert db.execute("SELECT version FROM schema_version").fetchall() == [(SCHEMA_VERSION,)]
    finally:
        db.close()


def test_a_newer_schema_is_refused(log: QuestionLog) -> None:
    db = sqlite3.connect(log.path)
    with db:
        db.execute("UPDATE schema_version SET version = ?", (SCHEMA_VERSION + 1,))
    db.close()
    with pytest.raises(QuestionLogError, match="upgrade rolebot"):
        QuestionLog(log.data_dir)


def test_log_answer_stores_question_answer_and_channel(log: QuestionLog) -> None:
    first = log.log_answer(answer("What is a PM's focus?"), "console")
    second = log.log_answer(answer("passport?", kind="fallback", confidence=0.02, source=None), "cli")
    assert second == first + 1
    stored = rows(log)
    assert [(r["question"], r["kind"], r["channel"], r["day"]) for r in stored] == [
        ("What is a PM's focus?", "retrieval", "console", "2025-03-01"),
        ("passport?", "fallback", "cli", "2025-03-01"),
    ]
    assert json.loads(stored[0]["sources"]) == [
        {"id": "pm-focus", "role": "it-project-manager", "topic": "focus", "score": 0.5}
    ]
    assert stored[0]["confidence"] == 0.9
    assert stored[0]["user_hash"] is None
    assert stored[0]["helpful"] is None


def test_user_ids_are_stored_as_salted_hashes(tmp_path: Path, log: QuestionLog) -> None:
    log.log_answer(answer("hi"), "telegram", user=123456789)
    log.log_answer(answer("hi again"), "telegram", user=123456789)
    stored = [r["user_hash"] for r in rows(log)]
    assert stored[0] == stored[1] == log.hash_user(123456789)
    assert "123456789" not in stored[0]
    salt = log.data_dir / "questionlog.salt"
    assert stat.S_IMODE(salt.stat().st_mode) == 0o600
    assert QuestionLog(log.data_dir).hash_user(123456789) == stored[0]  # the salt is kept
    other = QuestionLog(tmp_path / "elsewhere")
    assert other.hash_user(123456789) != stored[0]  # a different salt, a different hash
    assert b"123456789" not in log.path.read_bytes()


def test_feedback_is_attached_to_its_row(log: QuestionLog) -> None:
    row = log.log_answer(answer("What is a PM's focus?"), "telegram", user=1)
    assert log.record_feedback(row, helpful=False) is True
    assert log.record_feedback(row + 100, helpful=True) is False
    assert rows(log)[0]["helpful"] == 0


def test_review_lists_what_needs_attention_most_frequent_first(log: QuestionLog) -> None:
    log.log_answer(answer("What is a PM's focus?"), "cli")  # fine: not listed
    for _ in range(3):
        log.log_answer(answer("How do I renew my passport?", kind="fallback", confidence=0.02, source=None), "cli")
    log.log_answer(answer("how do i renew my PASSPORT", kind="fallback", confidence=0.02, source=None), "cli")
    log.log_answer(answer("budget owner?", confidence=0.3, source="pm-project-management"), "cli")
    disliked = log.log_answer(answer("Who hires people?", source="itm-resource-management"), "telegram")
    log.record_feedback(disliked, helpful=False)

    items = log.review()
    assert [(i.number, i.asked, i.reasons) for i in items] == [
        (2, 4, "fallback x4"),
        (disliked, 1, "thumbs down x1"),
        (6, 1, "low confidence x1"),
    ]
    assert items[0].question == "how do i renew my PASSPORT"  # the latest wording
    assert items[1].last_source == "itm-resource-management"
    assert items[2].candidates == ("pm-project-management",)


def test_dismiss_hides_every_row_of_the_question(log: QuestionLog) -> None:
    for _ in range(2):
        log.log_answer(answer("passport?", kind="fallback", confidence=0.0, source=None), "cli")
    assert log.dismiss(1) == 2
    assert log.review() == []
    with pytest.raises(QuestionLogError, match="already promoted or dismissed"):
        log.dismiss(1)
    with pytest.raises(QuestionLogError, match="no logged question number 99"):
        log.dismiss(99)
    log.log_answer(answer("passport?", kind="fallback", confidence=0.0, source=None), "cli")
    assert [i.number for i in log.review()] == [3]  # asked again after dismissal: back for review


def test_promote_adds_the_question_to_the_passage_and_the_engine_then_answers_it(project: ProjectCopy, log: QuestionLog) -> None:
    question = "Who keeps the lights on for the company's systems?"
    number = log.log_answer(answer(question, kind="fallback", confidence=0.0, source=None), "cli")

    passage, added = log.promote(number, "itm-responsibilities", project.knowledge_dir)
    assert added is True
    assert passage.questions[-1] == question
    stored = {p.id: p for p in load_passage_file(project.knowledge_dir / "article.yaml")}
    assert stored["itm-responsibilities"].questions[-1] == question
    assert log.review() == []
    assert rows(log)[0]["status"] == "promoted" and rows(log)[0]["promoted_to"] == "itm-responsibilities"

    fresh: Engine = load_engine(project.knowledge_dir, project.intents_dir)
    assert fresh.ask(question).sources[0].id == "itm-responsibilities"


def test_promote_refuses_unknown_items_and_passages(project: ProjectCopy, log: QuestionLog) -> None:
    number = log.log_answer(answer("passport?", kind="fallback", confidence=0.0, source=None), "cli")
    with pytest.raises(ValidationError, match="no passage with id 'nope'"):
        log.promote(number, "nope", project.knowledge_dir)
    assert [i.number for i in log.review()] == [number]  # still open
    with pytest.raises(QuestionLogError):
        log.promote(number + 1, "overview", project.knowledge_dir)


def test_promoting_a_phrasing_already_there_changes_no_file(project: ProjectCopy, log: QuestionLog) -> None:
    before = (project.knowledge_dir / "article.yaml").read_text()
    number = log.log_answer(answer("what is this about", confidence=0.2), "cli")
    passage, added = log.promote(number, "overview", project.knowledge_dir)
    assert added is False
    assert (project.knowledge_dir / "article.yaml").read_text() == before


def test_stats_count_by_day_and_kind_with_rates(log: QuestionLog, clock: Clock) -> None:
    assert log.stats().total == 0 and log.stats().fallback_rate is None
    good = log.log_answer(answer("a"), "cli")
    log.log_answer(answer("b", kind="fallback", confidence=0.0, source=None), "cli")
    clock.now = DAY_ONE + timedelta(days=1)
    liked = log.log_answer(answer("c", kind="comparison"), "telegram")
    log.log_answer(answer("d"), "telegram")
    log.record_feedback(good, helpful=True)
    log.record_feedback(liked, helpful=True)
    log.record_feedback(4, helpful=False)

    stats = log.stats()
    assert [(d.day, d.kind, d.count) for d in stats.by_day] == [
        ("2025-03-01", "fallback", 1),
        ("2025-03-01", "retrieval", 1),
        ("2025-03-02", "comparison", 1),
        ("2025-03-02", "retrieval", 1),
    ]
    assert stats.by_kind == {"fallback": 1, "retrieval": 2, "comparison": 1}
    assert (stats.total, stats.fallbacks, stats.rated, stats.helpful) == (4, 1, 3, 2)
    assert stats.fallback_rate == 0.25
    assert stats.helpful_rate == pytest.approx(2 / 3)


def test_two_logs_on_one_database_interleave(log: QuestionLog) -> None:
    other = QuestionLog(log.data_dir)
    ids = [log.log_answer(answer("x"), "cli"), other.log_answer(answer("y"), "telegram"), log.log_answer(answer("z"), "cli")]
    assert ids == [1, 2, 3]
