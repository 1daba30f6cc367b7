"""Hot reload: notice knowledge files changed by another process and swap them into a running engine."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from bot.engine import Engine
from bot.knowledge import SYNONYMS_FILE, KnowledgeBase, KnowledgeError, knowledge_files, load_knowledge, passage_record

POLL_INTERVAL = 0.5
"""Seconds between looks at the knowledge folder; a change is served within about two of these."""

log = logging.getLogger("rolebot.reload")

Snapshot = tuple[tuple[str, int, int, int], ...]


@dataclass(frozen=True)
class ReloadResult:
    """What one reload did: 'added' (pure appends), 'replaced', 'unchanged', or 'failed' with the error."""

    outcome: str
    added: int = 0
    error: str | None = None


def snapshot(directory: Path) -> Snapshot:
    """Return name, size, mtime and inode of every knowledge file: any write changes one of them."""
    entries = []
    try:
        paths = knowledge_files(directory)
    except KnowledgeError:
        return ()
    synonyms = directory / SYNONYMS_FILE
    for path in [*paths, synonyms]:
        try:
            stat = path.stat()
        except FileNotFoundError:
            continue  # removed between listing and looking: the next poll sees the folder as it is
        entries.append((path.name, stat.st_size, stat.st_mtime_ns, stat.st_ino))
    return tuple(entries)


def apply_knowledge(engine: Engine, knowledge: KnowledgeBase) -> ReloadResult:
    """Bring the engine up to `knowledge`: add only the new passages when nothing else changed."""
    current = {p.id: passage_record(p) for p in engine.knowledge.passages}
    incoming = {p.id: passage_record(p) for p in knowledge.passages}
    kept = all(incoming.get(pid) == record for pid, record in current.items())
    if kept and knowledge.synonyms == engine.knowledge.synonyms:
        new = [p for p in knowledge.passages if p.id not in current]
        if not new:
            return ReloadResult("unchanged")
        engine.add_passages(new)
        return ReloadResult("added", added=len(new))
    engine.replace_knowledge(knowledge)  # raises KnowledgeError if an intent lost its target
    return ReloadResult("replaced")


class KnowledgeWatcher:
    """Poll a knowledge folder and keep an engine serving its latest valid contents.

    A change is loaded and validated off to the side; only a whole, valid knowledge base reaches the
    engine. A change that fails validation is logged once and the last good knowledge keeps serving.
    """

    def __init__(
        self,
        engine: Engine,
        directory: Path,
        *,
        interval: float = POLL_INTERVAL,
        on_reload: Callable[[ReloadResult], None] | None = None,
    ) -> None:
        self.engine = engine
        self.directory = Path(directory)
        self.interval = interval
        self.on_reload = on_reload
        self.last_error: str | None = None
        self._seen = snapshot(self.directory)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def check(self) -> ReloadResult:
        """Look once: reload if the files changed since the last look."""
        current = snapshot(self.directory)
        if current == self._seen:
            return ReloadResult("unchanged")
        self._seen = current
        try:
            result = apply_knowledge(self.engine, load_knowledge(self.directory))
        except KnowledgeError as exc:
            self.last_error = str(exc)
            log.error("knowledge change not loaded, still serving the last good knowledge: %s", exc)
            result = ReloadResult("failed", error=str(exc))
        else:
            if result.outcome != "unchanged":
                self.last_error = None
                log.info("knowledge reloaded: %s (%d new passages)", result.outcome, result.added)
        if self.on_reload is not None and result.outcome != "unchanged":
            self.on_reload(result)
        return result

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.check()
            except Exception:  # the watcher must outlive any one bad reload
                log.exception("knowledge watcher failed; trying again")

    def start(self) -> KnowledgeWatcher:
        """Start polling in a background thread; return self."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="rolebot-knowledge-watcher", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> KnowledgeWatcher:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
