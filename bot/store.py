"""Writing knowledge: validated, locked, atomic changes to the passage files."""

from __future__ import annotations

import hashlib
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Sequence

from filelock import FileLock
from rapidfuzz import fuzz, process

from bot.knowledge import (
    ADDED_FILE,
    MAX_PASSAGE_CHARS,
    ROLE_SHORT,
    SLUG,
    KnowledgeBase,
    KnowledgeError,
    Passage,
    dump_passages,
    load_knowledge,
    load_passage_file,
    parse_role,
    slugify,
)
from bot.language import normalize

DUPLICATE_CUTOFF = 90.0
LOCK_TIMEOUT = 30.0
ADDED_SOURCE = "Added by operators"
ADDED_HEADER = "# Passages added with `rolebot add` or Telegram /add. Safe to edit by hand; keep the ids.\n"


class ValidationError(ValueError):
    """A change that would make the knowledge worse; the message is one line for the user."""


def knowledge_lock(directory: Path) -> FileLock:
    """Return the lock that serializes every read-modify-write of a knowledge folder across processes."""
    return FileLock(str(directory / ".rolebot.lock"), timeout=LOCK_TIMEOUT)


def atomic_write(path: Path, text: str) -> None:
    """Replace a file's contents so a reader sees the old file or the new one, never half of either."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)  # the rename itself must survive a crash
    finally:
        os.close(dir_fd)


def find_near_duplicate(
    text: str, passages: Sequence[Passage], *, score_cutoff: float = DUPLICATE_CUTOFF
) -> Passage | None:
    """Return an existing passage whose text is nearly the same as `text`, or None."""
    if not passages:
        return None
    choices = [normalize(p.text) for p in passages]
    best = process.extractOne(normalize(text), choices, scorer=fuzz.ratio, score_cutoff=score_cutoff)
    return passages[best[2]] if best is not None else None


def validate_new_passage(
    knowledge: KnowledgeBase, *, topic: str, role: str | None, text: str, allow_duplicate: bool = False
) -> tuple[str, str | None, str]:
    """Check a passage someone wants to add; return (topic, role, text) cleaned, or raise ValidationError."""
    cleaned = text.strip()
    if not cleaned:
        raise ValidationError("passage text is empty")
    if len(cleaned) > MAX_PASSAGE_CHARS:
        raise ValidationError(f"passage text is {len(cleaned)} characters; the limit is {MAX_PASSAGE_CHARS}")
    topic_slug = slugify(topic)
    if not topic_slug or not SLUG.match(topic_slug):
        raise ValidationError(f"topic {topic!r} is not usable: use words like 'vendor-management'")
    try:
        role_slug = parse_role(role)
    except ValueError as exc:
        raise ValidationError(str(exc)) from None
    if not allow_duplicate:
        duplicate = find_near_duplicate(cleaned, knowledge.passages)
        if duplicate is not None:
            raise ValidationError(f"near-duplicate of passage {duplicate.id!r}; nothing added")
    return topic_slug, role_slug, cleaned


def new_passage_id(topic: str, role: str | None, text: str, taken: set[str]) -> str:
    """Make a stable, readable id for a new passage: role-topic-hash."""
    prefix = f"{ROLE_SHORT[role]}-{topic}" if role else topic
    digest = hashlib.sha1(f"{topic}\n{role}\n{text}".encode()).hexdigest()
    for size in range(6, len(digest) + 1):
        candidate = f"{prefix}-{digest[:size]}"
        if candidate not in taken:
            return candidate
    raise ValidationError("could not make a unique id")  # pragma: no cover - 40 hex digits all taken


@contextmanager
def locked_knowledge(directory: Path) -> Iterator[KnowledgeBase]:
    """Hold the knowledge lock and yield the current, fully validated knowledge."""
    with knowledge_lock(directory):
        yield load_knowledge(directory)


def add_passage(
    directory: Path,
    *,
    topic: str,
    role: str | None,
    text: str,
    questions: Sequence[str] = (),
    allow_duplicate: bool = False,
) -> Passage:
    """Validate and persist one new passage under the knowledge folder; return it as stored."""
    return add_passages(
        directory, [(topic, role, text, tuple(questions))], allow_duplicate=allow_duplicate
    )[0]


def add_passages(
    directory: Path,
    entries: Sequence[tuple[str, str | None, str, tuple[str, ...]]],
    *,
    allow_duplicate: bool = False,
) -> list[Passage]:
    """Validate and persist several passages in one locked, atomic write; all land or none do."""
    with locked_knowledge(directory) as knowledge:
        path = directory / ADDED_FILE
        existing = load_passage_file(path) if path.exists() else []
        taken = {p.id for p in knowledge.passages}
        pool = list(knowledge.passages)
        added: list[Passage] = []
        for topic, role, text, questions in entries:
            current = KnowledgeBase(passages=tuple(pool), synonyms=knowledge.synonyms)
            topic_slug, role_slug, cleaned = validate_new_passage(
                current, topic=topic, role=role, text=text, allow_duplicate=allow_duplicate
            )
            passage = Passage(
                id=new_passage_id(topic_slug, role_slug, cleaned, taken),
                topic=topic_slug,
                role=role_slug,
                text=cleaned,
                questions=tuple(questions),
                source=ADDED_SOURCE,
                path=str(path),
            )
            taken.add(passage.id)
            pool.append(passage)
            added.append(passage)
        write_passage_file(path, [*existing, *added], source=ADDED_SOURCE, header=ADDED_HEADER)
        return added


def write_passage_file(path: Path, passages: Sequence[Passage], *, source: str, header: str = "") -> None:
    """Serialize, re-read to prove the text loads, then atomically replace the file."""
    text = dump_passages(source, passages, header=header)
    probe = path.with_name(f".{path.name}.check")
    try:
        probe.write_text(text, encoding="utf-8")
        load_passage_file(probe)
    except KnowledgeError as exc:  # pragma: no cover - the dumper writes what the loader reads
        raise ValidationError(f"refusing to write an unreadable file: {exc.reason}") from exc
    finally:
        probe.unlink(missing_ok=True)
    atomic_write(path, text)
