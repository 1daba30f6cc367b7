"""Writing knowledge: validated, locked, atomic changes to the passage files."""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import stat
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Iterator, Sequence

import yaml
from filelock import FileLock
from rapidfuzz import fuzz, process

from bot.article import Draft
from bot.intents import Intent, check_references, load_intents
from bot.knowledge import (
    ADDED_FILE,
    MAX_PASSAGE_CHARS,
    ROLE_SHORT,
    SLUG,
    SYNONYMS_FILE,
    KnowledgeBase,
    KnowledgeError,
    Passage,
    dump_passages,
    knowledge_files,
    load_knowledge,
    load_passage_file,
    load_synonyms,
    parse_role,
    passage_record,
    slugify,
)
from bot.language import normalize

DUPLICATE_CUTOFF = 90.0
# A passage is an answer: fewer words than this ("x", "ok", "1 2 3") is a slip, not knowledge.
MIN_PASSAGE_WORDS = 3
_LETTER = re.compile(r"[^\W\d_]")
LOCK_TIMEOUT = 30.0
ADDED_SOURCE = "Added by operators"
IMPORTED_HEADER = "# Imported with `rolebot import`. Safe to edit by hand; keep the ids.\n"
ADDED_HEADER = "# Passages added with `rolebot add` or Telegram /add. Safe to edit by hand; keep the ids.\n"


class ValidationError(ValueError):
    """A change that would make the knowledge worse; the message is one line for the user."""


def knowledge_lock(directory: Path) -> FileLock:
    """Return the lock that serializes every read-modify-write of a knowledge folder across processes."""
    return FileLock(str(directory / ".rolebot.lock"), timeout=LOCK_TIMEOUT)


def _create_temporary(path: Path) -> tuple[int, Path]:
    """Create a new, empty file beside `path` with the mode `path` has, or 0666 less the umask if new."""
    try:
        mode: int | None = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        mode = None
    while True:
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
        try:
            # Not mkstemp: its 0600 would lock other accounts (a bot run as another user) out of the file.
            # Creating with 0666 lets the kernel apply the umask without changing it for every thread.
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o666)
        except FileExistsError:  # pragma: no cover - 48 random bits collided
            continue
        break
    if mode is not None:
        try:
            os.fchmod(fd, mode)
        except BaseException:
            os.close(fd)
            tmp.unlink(missing_ok=True)
            raise
    return fd, tmp


def atomic_write(path: Path, text: str) -> None:
    """Replace a file's contents so a reader sees the old file or the new one, never half of either.

    The file keeps its permissions; a new one gets the usual 0666 less the umask.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = _create_temporary(path)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
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
    words = [word for word in cleaned.split() if _LETTER.search(word)]
    if len(words) < MIN_PASSAGE_WORDS:
        raise ValidationError(
            f"passage text is too short: it needs at least {MIN_PASSAGE_WORDS} words with letters, "
            f"it has {len(words)}"
        )
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


# -- importing, removing, editing, checking ----------------------------------------------------


@dataclass(frozen=True)
class ImportReport:
    """What an import did: the passages it stored and the drafts it skipped as near-duplicates."""

    path: Path
    added: tuple[Passage, ...]
    skipped: tuple[tuple[Draft, Passage], ...]


@dataclass(frozen=True)
class IntentReference:
    """An intent that points at a passage, by id or through the passage's topic."""

    intent: Intent
    by_topic: bool = False

    def describe(self) -> str:
        how = "routes to its topic" if self.by_topic else "points at it"
        return f"intent {self.intent.name!r} ({self.intent.path}:{self.intent.line}) {how}"


def file_header(path: Path) -> str:
    """Return a knowledge file's leading comment lines, so rewriting the file keeps them."""
    if not path.exists():
        return ""
    header = []
    for line in path.read_text(encoding="utf-8").splitlines(keepends=True):
        if not line.startswith("#"):
            break
        header.append(line)
    return "".join(header)


def import_passages(
    directory: Path,
    drafts: Sequence[Draft],
    *,
    into: str,
    source: str,
    allow_duplicate: bool = False,
) -> ImportReport:
    """Store an article's drafts in knowledge/INTO.yaml in one locked, atomic write; skip near-duplicates.

    Any other invalid draft (empty, too long, unknown role) refuses the whole import.
    """
    name = slugify(into)
    if not name or f"{name}.yaml" == SYNONYMS_FILE:
        raise ValidationError(f"cannot import into {into!r}: choose another file name")
    with locked_knowledge(directory) as knowledge:
        path = directory / f"{name}.yaml"
        existing = load_passage_file(path) if path.exists() else []
        taken = {p.id for p in knowledge.passages}
        pool = list(knowledge.passages)
        added: list[Passage] = []
        skipped: list[tuple[Draft, Passage]] = []
        for draft in drafts:
            current = KnowledgeBase(passages=tuple(pool), synonyms=knowledge.synonyms)
            try:
                topic, role, text = validate_new_passage(
                    current, topic=draft.topic, role=draft.role, text=draft.text, allow_duplicate=True
                )
            except ValidationError as exc:
                raise ValidationError(f"line {draft.line} ({draft.topic}): {exc}; nothing imported") from None
            duplicate = None if allow_duplicate else find_near_duplicate(text, pool)
            if duplicate is not None:
                skipped.append((draft, duplicate))
                continue
            passage = Passage(
                id=new_passage_id(topic, role, text, taken),
                topic=topic,
                role=role,
                text=text,
                questions=draft.questions,
                source=existing[0].source if existing else source,
                path=str(path),
            )
            taken.add(passage.id)
            pool.append(passage)
            added.append(passage)
        if added:
            header = file_header(path) or IMPORTED_HEADER
            write_passage_file(path, [*existing, *added], source=added[0].source, header=header)
        return ImportReport(path=path, added=tuple(added), skipped=tuple(skipped))


def intent_references(intents: Sequence[Intent], knowledge: KnowledgeBase, passage: Passage) -> list[IntentReference]:
    """Return the intents that would lose their target if `passage` went away or changed."""
    references = [IntentReference(i) for i in intents if passage.id in i.passages]
    last_of_topic = [p.id for p in knowledge.in_topic(passage.topic)] == [passage.id]
    if last_of_topic:
        references += [IntentReference(i, by_topic=True) for i in intents if i.topic == passage.topic]
    return references


def _refuse_referenced(references: Sequence[IntentReference], passage_id: str, verb: str, *, force: bool) -> None:
    by_topic = [r for r in references if r.by_topic]
    if by_topic:
        # --force cannot help here: the intent would route to a topic with no passage at all.
        raise ValidationError(
            f"cannot {verb} {passage_id!r}: it is the last passage of its topic and "
            f"{by_topic[0].describe()}; change that intent first"
        )
    if references and not force:
        raise ValidationError(
            f"refusing to {verb} {passage_id!r}: {references[0].describe()}"
            + (f" (and {len(references) - 1} more)" if len(references) > 1 else "")
            + "; use --force to go ahead"
        )


def remove_passage(directory: Path, intents_dir: Path, passage_id: str, *, force: bool = False) -> Passage:
    """Delete one passage from the file that holds it; with force, also drop intents' references to it."""
    with locked_knowledge(directory) as knowledge:
        passage = knowledge.by_id(passage_id)
        if passage is None:
            raise ValidationError(f"no passage with id {passage_id!r}")
        if len(knowledge.passages) == 1:
            raise ValidationError(f"refusing to remove {passage_id!r}: it is the last passage")
        intents = load_intents(intents_dir)
        references = intent_references(intents, knowledge, passage)
        _refuse_referenced(references, passage_id, "remove", force=force)
        last_of_topic = len(knowledge.in_topic(passage.topic)) == 1
        for reference in references:
            if last_of_topic and set(reference.intent.passages) == {passage_id} and reference.intent.topic is None:
                raise ValidationError(
                    f"cannot remove {passage_id!r}: {reference.describe()} and nothing else, and its topic "
                    "has no other passage; change that intent first"
                )
        path = Path(passage.path)
        remaining = [p for p in load_passage_file(path) if p.id != passage_id]
        # Intents first: an intent briefly missing a reference is harmless, a dangling one is not.
        for reference in references:
            rewrite_intent_passages(reference.intent, {passage_id: None}, fallback_topic=passage.topic)
        write_passage_file(path, remaining, source=passage.source, header=file_header(path))
        return passage


def replace_passage(
    directory: Path, intents_dir: Path, original: Passage, updated: Passage, *, force: bool = False
) -> Passage:
    """Save an edited passage in place of `original`, if nobody changed it meanwhile; return it as stored."""
    with locked_knowledge(directory) as knowledge:
        current = knowledge.by_id(original.id)
        if current is None:
            raise ValidationError(f"passage {original.id!r} was removed while you were editing; nothing saved")
        if passage_record(current) != passage_record(original):
            raise ValidationError(f"passage {original.id!r} changed while you were editing; nothing saved")
        if updated.id != original.id and knowledge.by_id(updated.id) is not None:
            raise ValidationError(f"id {updated.id!r} is already used by another passage")
        others = [p for p in knowledge.passages if p.id != original.id]
        if not force:
            duplicate = find_near_duplicate(updated.text, others)
            if duplicate is not None:
                raise ValidationError(f"near-duplicate of passage {duplicate.id!r}; nothing saved (--force keeps it)")
        intents = load_intents(intents_dir)
        references = intent_references(intents, knowledge, current)
        if updated.topic == current.topic:
            references = [r for r in references if not r.by_topic]
        _refuse_referenced(references, original.id, "edit", force=force)
        path = Path(current.path)
        stored = replace(updated, source=current.source, path=str(path))
        passages = [stored if p.id == original.id else p for p in load_passage_file(path)]
        if updated.id != original.id:
            for reference in references:
                rewrite_intent_passages(reference.intent, {original.id: updated.id}, fallback_topic=updated.topic)
        write_passage_file(path, passages, source=current.source, header=file_header(path))
        return stored


def add_question(directory: Path, passage_id: str, question: str) -> tuple[Passage, bool]:
    """Add an alternate phrasing to a passage in the file that holds it; return (passage, whether added)."""
    phrasing = " ".join(question.split())
    if not phrasing:
        raise ValidationError("the question is empty")
    with locked_knowledge(directory) as knowledge:
        passage = knowledge.by_id(passage_id)
        if passage is None:
            raise ValidationError(f"no passage with id {passage_id!r}")
        if normalize(phrasing) in {normalize(q) for q in passage.questions}:
            return passage, False
        path = Path(passage.path)
        updated = replace(passage, questions=(*passage.questions, phrasing))
        passages = [updated if p.id == passage_id else p for p in load_passage_file(path)]
        write_passage_file(path, passages, source=passage.source, header=file_header(path))
        return updated, True


def rewrite_intent_passages(intent: Intent, renames: dict[str, str | None], *, fallback_topic: str) -> None:
    """Rewrite an intent's `passages:` list in its file (renaming or dropping ids), keeping the rest as is.

    An intent left with no passages routes to `fallback_topic` instead, so it still answers.
    """
    path = Path(intent.path)
    text = path.read_text(encoding="utf-8")
    root = yaml.compose(text, Loader=yaml.SafeLoader)
    assert isinstance(root, yaml.SequenceNode)
    for node in root.value:
        if not isinstance(node, yaml.MappingNode):
            continue
        fields = {str(k.value): (k, v) for k, v in node.value}
        name = fields.get("name")
        if name is None or name[1].value != intent.name or "passages" not in fields:
            continue
        key, value = fields["passages"]
        ids = [str(item.value) for item in value.value]
        kept = [renames.get(i, i) for i in ids]
        new_ids = [i for i in kept if i is not None]
        span = text[key.start_mark.index : value.end_mark.index]
        tail = span[len(span.rstrip()) :]  # a block list's span runs into the next key's indent
        if new_ids:
            replacement = f"passages: [{', '.join(new_ids)}]"
        elif "topic" in fields:
            replacement = "passages: []"
        else:
            replacement = f"topic: {fallback_topic}"
        text = text[: key.start_mark.index] + replacement + tail + text[value.end_mark.index :]
        break
    else:
        return
    atomic_write(path, text)


def check_folder(knowledge_dir: Path, intents_dir: Path) -> list[KnowledgeError]:
    """Validate knowledge and intents as a whole; return every problem found, each with file and line."""
    problems: list[KnowledgeError] = []
    passages: list[Passage] = []
    try:
        files = knowledge_files(knowledge_dir)
    except KnowledgeError as exc:
        return [exc]
    for path in files:
        try:
            passages.extend(load_passage_file(path))
        except KnowledgeError as exc:
            problems.append(exc)
    try:
        synonyms = load_synonyms(knowledge_dir / SYNONYMS_FILE)
    except KnowledgeError as exc:
        problems.append(exc)
        synonyms = {}
    seen: dict[str, Passage] = {}
    for passage in passages:
        first = seen.setdefault(passage.id, passage)
        if first is not passage:
            problems.append(
                KnowledgeError(passage.path, passage.line, f"duplicate id {passage.id!r} (first at {first.path}:{first.line})")
            )
    if not passages and not problems:
        problems.append(KnowledgeError(knowledge_dir, None, "no passages found"))
    knowledge = KnowledgeBase(passages=tuple(passages), synonyms=synonyms)
    try:
        intents = load_intents(intents_dir)
    except KnowledgeError as exc:
        problems.append(exc)
        intents = ()
    for intent in intents:
        try:
            check_references([intent], knowledge)
        except KnowledgeError as exc:
            problems.append(exc)
    return problems
