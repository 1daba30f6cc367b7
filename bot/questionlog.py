"""The question log: every question asked, how it was answered, and what people thought of it (SQLite)."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import sqlite3
import tempfile
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterator

from bot.engine import Answer
from bot.knowledge import Passage
from bot.language import normalize
from bot.store import add_question

SCHEMA_VERSION = 1
DATABASE_FILE = "questions.sqlite3"
SALT_FILE = "questionlog.salt"
LOW_CONFIDENCE = 0.5
"""Answers below this confidence are listed for review (the engine's own `low_confidence` default)."""
CHANNELS = ("console", "cli", "telegram")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS questions (
    id          INTEGER PRIMARY KEY,
    asked_at    TEXT    NOT NULL,              -- UTC, ISO 8601
    day         TEXT    NOT NULL,              -- UTC date, for counts by day
    channel     TEXT    NOT NULL,
    user_hash   TEXT,                          -- salted hash of a Telegram user id; never a name
    question    TEXT    NOT NULL,
    normalized  TEXT    NOT NULL,              -- groups the same question asked in different ways
    kind        TEXT    NOT NULL,
    confidence  REAL    NOT NULL,
    sources     TEXT    NOT NULL,              -- JSON list of {id, role, topic, score}
    candidates  TEXT    NOT NULL,              -- JSON list of the best-ranked passage ids
    intent      TEXT,
    helpful     INTEGER,                       -- 1 thumbs up, 0 thumbs down, NULL no feedback
    status      TEXT    NOT NULL DEFAULT 'open', -- open, promoted, dismissed
    promoted_to TEXT
);
CREATE INDEX IF NOT EXISTS questions_normalized ON questions (normalized);
CREATE INDEX IF NOT EXISTS questions_day ON questions (day);
"""

_NEEDS_REVIEW = "(kind = 'fallback' OR confidence < :low OR helpful = 0)"


@dataclass(frozen=True)
class ReviewItem:
    """A question that needs attention, with every time it was asked grouped under its number."""

    number: int
    """The id of its first logged row; `promote` and `dismiss` take it."""
    question: str
    asked: int
    fallbacks: int
    low_confidence: int
    unhelpful: int
    last_kind: str
    last_confidence: float
    last_source: str | None
    last_asked: str
    candidates: tuple[str, ...] = ()
    """Passages the retriever ranked best for it: likely targets for `promote`."""

    @property
    def reasons(self) -> str:
        parts = []
        if self.fallbacks:
            parts.append(f"fallback x{self.fallbacks}")
        if self.low_confidence:
            parts.append(f"low confidence x{self.low_confidence}")
        if self.unhelpful:
            parts.append(f"thumbs down x{self.unhelpful}")
        return ", ".join(parts)


@dataclass(frozen=True)
class DayCount:
    day: str
    kind: str
    count: int


@dataclass(frozen=True)
class Stats:
    """Counts by day and answer kind, and the two rates an operator watches."""

    total: int
    by_day: tuple[DayCount, ...]
    by_kind: dict[str, int]
    fallbacks: int
    rated: int
    helpful: int

    @property
    def fallback_rate(self) -> float | None:
        return self.fallbacks / self.total if self.total else None

    @property
    def helpful_rate(self) -> float | None:
        return self.helpful / self.rated if self.rated else None


class QuestionLogError(ValueError):
    """A review action that cannot be done; the message is one line for the user."""


class QuestionLog:
    """The SQLite question log in a data folder. Each call opens its own connection, so any thread may use it."""

    def __init__(self, data_dir: Path, *, clock: Callable[[], datetime] | None = None) -> None:
        self.data_dir = Path(data_dir)
        self.path = self.data_dir / DATABASE_FILE
        self._clock = clock or (lambda: datetime.now(timezone.utc))
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._salt = _load_salt(self.data_dir / SALT_FILE)
        with self._connect() as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(_SCHEMA)
            row = db.execute("SELECT version FROM schema_version").fetchone()
            if row is None:
                db.execute("INSERT INTO schema_version (version) VALUES (?)", (SCHEMA_VERSION,))
            elif row[0] > SCHEMA_VERSION:
                raise QuestionLogError(
                    f"{self.path} has schema version {row[0]}; this rolebot knows {SCHEMA_VERSION}: upgrade rolebot"
                )

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        """Yield a connection inside one transaction: committed on success, rolled back on error."""
        with closing(sqlite3.connect(self.path, timeout=30.0)) as db:
            db.execute("PRAGMA busy_timeout = 30000")
            with db:
                yield db

    def hash_user(self, user: int | str) -> str:
        """Return the salted hash a user id is stored as; the same id always maps to the same hash."""
        return hmac.new(self._salt, str(user).encode(), hashlib.sha256).hexdigest()[:32]

    # -- writing ------------------------------------------------------------------------------

    def log_answer(self, answer: Answer, channel: str, user: int | str | None = None) -> int:
        """Record a question and its answer; return the row id (keep it to attach feedback later)."""
        now = self._clock().astimezone(timezone.utc)
        sources = json.dumps([s.to_dict() for s in answer.sources], ensure_ascii=False)
        ranked = [s.id for s in (*answer.sources, *answer.candidates)]
        candidates = json.dumps(list(dict.fromkeys(ranked))[:5])
        with self._connect() as db:
            cursor = db.execute(
                "INSERT INTO questions (asked_at, day, channel, user_hash, question, normalized, kind, confidence,"
                " sources, candidates, intent) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    now.isoformat(timespec="seconds"),
                    now.date().isoformat(),
                    channel,
                    None if user is None else self.hash_user(user),
                    answer.question,
                    normalize(answer.question) or answer.question.strip().lower(),
                    answer.kind,
                    float(answer.confidence),
                    sources,
                    candidates,
                    answer.intent,
                ),
            )
            return int(cursor.lastrowid or 0)

    def record_feedback(self, row_id: int, helpful: bool) -> bool:
        """Attach thumbs up (True) or down (False) to a logged answer; return False for an unknown row."""
        with self._connect() as db:
            cursor = db.execute("UPDATE questions SET helpful = ? WHERE id = ?", (int(helpful), row_id))
            return cursor.rowcount > 0

    # -- reviewing ----------------------------------------------------------------------------

    def review(self, *, limit: int = 20, low_confidence: float = LOW_CONFIDENCE) -> list[ReviewItem]:
        """List open questions that need attention, most often asked first."""
        with self._connect() as db:
            rows = db.execute(
                f"""
                SELECT MIN(id), normalized, COUNT(*),
                       SUM(kind = 'fallback'), SUM(kind != 'fallback' AND confidence < :low),
                       SUM(helpful = 0), MAX(id)
                FROM questions
                WHERE status = 'open' AND {_NEEDS_REVIEW}
                GROUP BY normalized
                ORDER BY COUNT(*) DESC, MAX(id) DESC
                LIMIT :limit
                """,
                {"low": low_confidence, "limit": limit},
            ).fetchall()
            items = []
            for first, _normalized, asked, fallbacks, low, unhelpful, last in rows:
                question, kind, confidence, sources, candidates, asked_at = db.execute(
                    "SELECT question, kind, confidence, sources, candidates, asked_at FROM questions WHERE id = ?",
                    (last,),
                ).fetchone()
                cited = json.loads(sources)
                items.append(
                    ReviewItem(
                        number=int(first),
                        question=question,
                        asked=int(asked),
                        fallbacks=int(fallbacks or 0),
                        low_confidence=int(low or 0),
                        unhelpful=int(unhelpful or 0),
                        last_kind=kind,
                        last_confidence=float(confidence),
                        last_source=cited[0]["id"] if cited else None,
                        last_asked=asked_at,
                        candidates=tuple(json.loads(candidates)),
                    )
                )
            return items

    def item(self, number: int) -> ReviewItem | None:
        """Return the open review item with this number, or None."""
        for item in self.review(limit=1_000_000):
            if item.number == number:
                return item
        return None

    def promote(self, number: int, passage_id: str, knowledge_dir: Path) -> tuple[Passage, bool]:
        """Add item `number`'s question to the passage's alternate phrasings; close every row like it.

        Returns the passage as stored and whether the phrasing was new. Raises QuestionLogError for an
        unknown item and store.ValidationError for an unknown passage.
        """
        question, normalized = self._open_question(number)
        passage, added = add_question(knowledge_dir, passage_id, question)
        with self._connect() as db:
            db.execute(
                "UPDATE questions SET status = 'promoted', promoted_to = ? WHERE normalized = ? AND status = 'open'",
                (passage.id, normalized),
            )
        return passage, added

    def dismiss(self, number: int) -> int:
        """Hide item `number` (and every row of the same question) from review; return rows hidden."""
        _question, normalized = self._open_question(number)
        with self._connect() as db:
            cursor = db.execute(
                "UPDATE questions SET status = 'dismissed' WHERE normalized = ? AND status = 'open'", (normalized,)
            )
            return cursor.rowcount

    def _open_question(self, number: int) -> tuple[str, str]:
        with self._connect() as db:
            row = db.execute("SELECT normalized FROM questions WHERE id = ?", (number,)).fetchone()
            if row is None:
                raise QuestionLogError(f"no logged question number {number}")
            latest = db.execute(
                "SELECT question FROM questions WHERE normalized = ? AND status = 'open' ORDER BY id DESC LIMIT 1",
                (row[0],),
            ).fetchone()
            if latest is None:
                raise QuestionLogError(f"question {number} was already promoted or dismissed")
            return str(latest[0]), str(row[0])

    # -- counting -----------------------------------------------------------------------------

    def stats(self) -> Stats:
        """Count questions by day and kind; compute the fallback and helpful rates."""
        with self._connect() as db:
            by_day = tuple(
                DayCount(day, kind, count)
                for day, kind, count in db.execute(
                    "SELECT day, kind, COUNT(*) FROM questions GROUP BY day, kind ORDER BY day, kind"
                )
            )
            total, fallbacks, rated, helpful = db.execute(
                "SELECT COUNT(*), SUM(kind = 'fallback'), COUNT(helpful), SUM(helpful = 1) FROM questions"
            ).fetchone()
        by_kind: dict[str, int] = {}
        for entry in by_day:
            by_kind[entry.kind] = by_kind.get(entry.kind, 0) + entry.count
        return Stats(
            total=int(total),
            by_day=by_day,
            by_kind=by_kind,
            fallbacks=int(fallbacks or 0),
            rated=int(rated or 0),
            helpful=int(helpful or 0),
        )


def _load_salt(path: Path) -> bytes:
    """Read the data folder's secret salt, creating it once (owner-only) even if two processes race."""
    if not path.exists():
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="ascii") as handle:
                handle.write(secrets.token_bytes(32).hex() + "\n")
                handle.flush()
                os.fsync(handle.fileno())
            try:
                os.link(tmp, path)  # appears whole or not at all; the loser of a race reads the winner's
            except FileExistsError:
                pass
        finally:
            os.unlink(tmp)
    try:
        salt = bytes.fromhex(path.read_text(encoding="ascii").strip())
    except ValueError:
        salt = b""
    if len(salt) < 16:
        raise QuestionLogError(f"{path}: the salt is damaged; delete the question log and the salt together")
    return salt
