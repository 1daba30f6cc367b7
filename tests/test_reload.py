"""Hot reload: a running engine or console picks up knowledge changed by another process."""

from __future__ import annotations

import logging
import queue
import subprocess
import threading
import time
from pathlib import Path
from typing import Callable

import pytest

from bot.engine import Engine, load_engine
from bot.knowledge import load_knowledge
from bot.reload import KnowledgeWatcher, ReloadResult, apply_knowledge
from conftest import ProjectCopy, RunRolebot, rolebot_command

DEADLINE = 15.0  # generous for a loaded machine; the watcher itself polls every 0.5 s
NEW_TEXT = "An IT manager sets the rules for quantum computing pilots and keeps their hardware budget in check."
NEW_QUESTION = "who sets the rules for quantum computing pilots?"


def wait_for(condition: Callable[[], bool], timeout: float = DEADLINE) -> float:
    """Poll until condition() holds; return the seconds it took, or fail."""
    start = time.monotonic()
    while not condition():
        if time.monotonic() - start > timeout:
            pytest.fail(f"condition not met within {timeout} s")
        time.sleep(0.05)
    return time.monotonic() - start


def top_source(engine: Engine, question: str) -> str | None:
    answer = engine.ask(question)
    return answer.sources[0].id if answer.sources else None


@pytest.fixture
def engine(project: ProjectCopy) -> Engine:
    return load_engine(project.knowledge_dir, project.intents_dir)


def test_pure_appends_are_added_without_a_rebuild(engine: Engine, project: ProjectCopy) -> None:
    retriever = engine.retriever
    (project.knowledge_dir / "more.yaml").write_text(
        f"source: more\npassages:\n- id: itm-quantum\n  topic: quantum-pilots\n  role: it-manager\n  text: {NEW_TEXT}\n"
    )
    assert apply_knowledge(engine, load_knowledge(project.knowledge_dir)) == ReloadResult("added", added=1)
    assert engine.retriever is retriever  # the same index, grown in place
    assert apply_knowledge(engine, load_knowledge(project.knowledge_dir)) == ReloadResult("unchanged")


def test_running_engine_answers_a_passage_added_by_another_process(engine: Engine, project: ProjectCopy, rolebot: RunRolebot) -> None:
    results: list[ReloadResult] = []
    with KnowledgeWatcher(engine, project.knowledge_dir, on_reload=results.append):
        assert "quantum" not in str(top_source(engine, NEW_QUESTION))
        added = rolebot("add", "--topic", "quantum-pilots", "--role", "it-manager", NEW_TEXT)
        assert added.code == 0, added.stderr
        new_id = added.stdout.split()[1]
        seconds = wait_for(lambda: top_source(engine, NEW_QUESTION) == new_id)
    assert results == [ReloadResult("added", added=1)]
    assert seconds < DEADLINE


def test_edit_by_another_process_replaces_the_knowledge(engine: Engine, project: ProjectCopy) -> None:
    article = project.knowledge_dir / "article.yaml"
    with KnowledgeWatcher(engine, project.knowledge_dir, interval=0.2) as watcher:
        article.write_text(article.read_text().replace("In the world of technology", "In the realm of zeppelins"))
        wait_for(lambda: "zeppelins" in (engine.knowledge.by_id("overview") or engine.knowledge.passages[0]).text)
        assert watcher.last_error is None


def test_invalid_edit_leaves_the_old_knowledge_serving(engine: Engine, project: ProjectCopy, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.ERROR, logger="rolebot.reload")
    article = project.knowledge_dir / "article.yaml"
    good = article.read_text()
    before = top_source(engine, "what does an IT manager do?")
    results: list[ReloadResult] = []
    with KnowledgeWatcher(engine, project.knowledge_dir, interval=0.2, on_reload=results.append) as watcher:
        article.write_text(good.replace("role: it-manager", "role: chief-wizard", 1))
        wait_for(lambda: bool(results))
        assert results[0].outcome == "failed"
        assert "unknown role 'chief-wizard'" in (watcher.last_error or "")
        assert f"{article}:" in caplog.text and "still serving the last good knowledge" in caplog.text
        assert top_source(engine, "what does an IT manager do?") == before
        assert len(engine.knowledge.passages) == 19

        article.write_text(good.replace("In the world of technology", "In the realm of zeppelins"))
        wait_for(lambda: len(results) >= 2)
        assert results[1].outcome == "replaced"
        assert watcher.last_error is None


def test_invalid_reference_is_refused_too(engine: Engine, project: ProjectCopy) -> None:
    article = project.knowledge_dir / "article.yaml"
    results: list[ReloadResult] = []
    with KnowledgeWatcher(engine, project.knowledge_dir, interval=0.2, on_reload=results.append):
        # Renaming a passage an intent points at, behind the store's back.
        article.write_text(article.read_text().replace("id: conclusion", "id: the-end"))
        wait_for(lambda: bool(results))
    assert results[0].outcome == "failed"
    assert "unknown passage 'conclusion'" in (results[0].error or "")
    assert engine.knowledge.by_id("conclusion") is not None


class Console:
    """A running `rolebot chat` process, driven line by line."""

    MARKER = "/end-of-answer"

    def __init__(self, cwd: Path) -> None:
        self.process = subprocess.Popen(
            [*rolebot_command(), "chat"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True, cwd=cwd,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line)

    def ask(self, question: str) -> str:
        """Send a question; return the reply (everything up to the marker command's reply)."""
        assert self.process.stdin is not None
        self.process.stdin.write(f"{question}\n{self.MARKER}\n")
        self.process.stdin.flush()
        reply: list[str] = []
        while True:
            line = self.lines.get(timeout=60)
            if line.startswith(f"bot> Unknown command {self.MARKER}"):
                return "".join(reply)
            reply.append(line)

    def close(self) -> int:
        assert self.process.stdin is not None
        self.process.stdin.close()
        return self.process.wait(timeout=30)


def test_running_console_picks_up_a_passage_added_by_another_process(project: ProjectCopy, rolebot: RunRolebot) -> None:
    console = Console(project.root)
    try:
        assert "quantum-pilots" not in console.ask(NEW_QUESTION)
        added = rolebot("add", "--topic", "quantum-pilots", "--role", "it-manager", NEW_TEXT)
        assert added.code == 0, added.stderr
        new_id = added.stdout.split()[1]
        wait_for(lambda: f"Source: {new_id}" in console.ask(NEW_QUESTION))
    finally:
        assert console.close() == 0


def test_running_console_reports_an_invalid_change_and_keeps_answering(project: ProjectCopy) -> None:
    console = Console(project.root)
    broken = project.knowledge_dir / "broken.yaml"
    try:
        console.ask("hello")  # past the greeting
        before = console.ask("What does an IT manager do?")
        assert "Source: itm-responsibilities" in before
        broken.write_text("passages:\n- id: broken\n  topic: focus\n  role: ceo\n  text: some words here\n")
        time.sleep(2.0)  # the watcher polls every 0.5 s
        assert console.ask("What does an IT manager do?") == before
    finally:
        assert console.close() == 0
    assert console.process.stderr is not None
    errors = console.process.stderr.read().splitlines()
    assert errors == [
        "rolebot: error: knowledge change not loaded, still serving the last good knowledge: "
        f"{broken}:4: unknown role 'ceo' (known: it-project-manager, it-manager, both)"
    ]
