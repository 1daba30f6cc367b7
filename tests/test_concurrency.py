"""Never lose a passage: concurrent writers all land, and a writer killed mid-write leaves files whole."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from bot.knowledge import ADDED_FILE, load_knowledge, load_passage_file
from bot.store import add_passage
from conftest import ProjectCopy, RunRolebot

WRITERS = 8

ADD_AFTER_GO = """\
import sys, time
from pathlib import Path
from bot.store import add_passage
knowledge, go, n = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
while not go.exists():  # start together, so the adds really contend for the lock
    time.sleep(0.005)
passage = add_passage(knowledge, topic="parallel-work", role="both",
                      text=f"Writer number {n} says distinct thing {n * 7919} about {'abcdefgh'[n % 8] * (n + 3)}.")
print(passage.id)
"""

WRITE_FOREVER = """\
import sys
from pathlib import Path
from bot.knowledge import ADDED_FILE, Passage
from bot.store import ADDED_HEADER, ADDED_SOURCE, knowledge_lock, write_passage_file
knowledge = Path(sys.argv[1])
round = 0
while True:  # rewrite a large file again and again until killed
    round += 1
    passages = [Passage(id=f"bulk-{round}-{i}", topic="bulk", role=None, text=f"Bulk passage {i} of round {round}. " * 20)
                for i in range(800)]
    with knowledge_lock(knowledge):
        write_passage_file(knowledge / ADDED_FILE, passages, source=ADDED_SOURCE, header=ADDED_HEADER)
    print(round, flush=True)
"""


def test_concurrent_writers_all_land(project: ProjectCopy, tmp_path: Path) -> None:
    go = tmp_path / "go"
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", ADD_AFTER_GO, str(project.knowledge_dir), str(go), str(n)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(WRITERS)
    ]
    time.sleep(1.0)  # let every interpreter import and start waiting
    go.touch()
    ids = []
    for writer in writers:
        out, err = writer.communicate(timeout=120)
        assert writer.returncode == 0, err
        ids.append(out.strip())
    stored = {p.id for p in load_passage_file(project.knowledge_dir / ADDED_FILE)}
    assert stored == set(ids)
    assert len(stored) == WRITERS
    assert len(load_knowledge(project.knowledge_dir).passages) == 19 + WRITERS


def test_cli_add_and_store_add_at_the_same_moment_both_land(project: ProjectCopy, rolebot: RunRolebot) -> None:
    cli = subprocess.Popen(
        [sys.executable, "-m", "bot", "add", "--topic", "remote-teams", "--role", "it-manager",
         "An IT manager sets the rules for remote work tools and keeps them secure."],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=project.root,
    )
    add_passage(project.knowledge_dir, topic="remote-teams", role="pm",
                text="A project manager schedules stand-ups across time zones for a remote project team.")
    out, err = cli.communicate(timeout=120)
    assert cli.returncode == 0, err
    roles = {p.role for p in load_knowledge(project.knowledge_dir).in_topic("remote-teams")}
    assert roles == {"it-manager", "it-project-manager"}


def test_writer_killed_mid_write_leaves_the_file_whole(project: ProjectCopy) -> None:
    added = project.knowledge_dir / ADDED_FILE
    for attempt, delay in enumerate((0.3, 0.45, 0.7)):
        writer = subprocess.Popen(
            [sys.executable, "-c", WRITE_FOREVER, str(project.knowledge_dir)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        assert writer.stdout is not None
        if attempt:
            writer.stdout.readline()  # at least one round written, so a kill lands mid-rewrite
        time.sleep(delay)
        os.kill(writer.pid, signal.SIGKILL)
        writer.wait(timeout=30)
        assert writer.returncode == -signal.SIGKILL
        if added.exists():
            passages = load_passage_file(added)  # raises if the kill left half a file
            assert len(passages) == 800
            assert len({p.id.rsplit("-", 1)[0] for p in passages}) == 1  # one whole round, not a mix
        knowledge = load_knowledge(project.knowledge_dir)
        assert knowledge.by_id("overview") is not None

    # The lock died with the writer: the next add goes straight through.
    passage = add_passage(project.knowledge_dir, topic="after-the-crash", role="both",
                          text="Written after a writer was killed in the middle of its work.")
    assert load_knowledge(project.knowledge_dir).by_id(passage.id) is not None
