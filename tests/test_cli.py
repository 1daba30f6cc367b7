"""The `rolebot` command, driven through its real entry point: output, exit codes, files on disk."""

from __future__ import annotations

import json
import os
import stat
import sys
from pathlib import Path

import pytest

from bot.engine import Conversation, load_engine
from bot.intents import load_intents
from bot.knowledge import load_knowledge
from bot.settings import Settings
from conftest import ProjectCopy, Run, RunRolebot, run_command

KINDS = {"intent", "retrieval", "comparison", "smalltalk", "fallback"}
REMOTE_WORK = (
    "An IT Manager sets the remote work policy: VPN access, laptop security and home office equipment "
    "for every member of staff."
)


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file in a folder, byte for byte (the lock file aside: taking a lock is not a write)."""
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.name != ".rolebot.lock"}


def one_line_error(run: Run) -> str:
    assert run.code == 2, run
    assert run.stdout == ""
    lines = run.stderr.splitlines()
    assert len(lines) == 1, run.stderr
    assert lines[0].startswith("rolebot: error: ")
    return lines[0]


# -- rolebot ask -------------------------------------------------------------------------------


def test_ask_prints_the_answer_and_its_source(rolebot: RunRolebot, project: ProjectCopy) -> None:
    passage = load_knowledge(project.knowledge_dir).by_id("itm-responsibilities")
    assert passage is not None
    run = rolebot("ask", "What does an IT manager do?")
    assert (run.code, run.stderr) == (0, "")
    assert run.stdout == (
        f"IT Manager · Responsibilities\n{passage.text}\n"
        "[Source: itm-responsibilities (IT Manager, Responsibilities)]\n"
    )


def test_the_fitted_classifier_is_kept_for_the_next_start(
    rolebot: RunRolebot, project: ProjectCopy, tmp_path: Path
) -> None:
    cache = tmp_path / "model-cache"
    first = rolebot("ask", "who haggles with our outsourcing partners?", env={"ROLEBOT_CACHE_DIR": str(cache)})
    assert first.code == 0 and len(list(cache.glob("classifier-*.pickle"))) == 1
    again = rolebot("ask", "who haggles with our outsourcing partners?", env={"ROLEBOT_CACHE_DIR": str(cache)})
    assert again.stdout == first.stdout
    added = rolebot("add", "--topic", "budget", "--role", "it-project-manager",
                    "The IT project manager tracks the project's budget.", env={"ROLEBOT_CACHE_DIR": str(cache)})
    assert added.code == 0, added.stderr
    rolebot("ask", "who tracks the budget?", env={"ROLEBOT_CACHE_DIR": str(cache)})
    assert len(list(cache.glob("classifier-*.pickle"))) == 2  # new knowledge, a new fit; the old one stays


def test_settings_keep_the_model_cache_in_the_data_folder_unless_told() -> None:
    assert Settings.from_env({"ROLEBOT_DATA_DIR": "/srv/rolebot"}).cache_dir == Path("/srv/rolebot/cache")
    assert Settings.from_env({"ROLEBOT_CACHE_DIR": "/tmp/models"}).cache_dir == Path("/tmp/models")


def test_ask_json_prints_one_object(rolebot: RunRolebot) -> None:
    run = rolebot("ask", "--json", "What", "does", "a", "PM", "do?")
    assert (run.code, run.stderr) == (0, "")
    assert len(run.stdout.splitlines()) == 1
    answer = json.loads(run.stdout)
    assert list(answer) == ["question", "answer", "kind", "confidence", "sources", "suggestions"]
    assert answer["question"] == "What does a PM do?"
    assert answer["kind"] in {"intent", "retrieval"}
    assert isinstance(answer["answer"], str) and answer["answer"]
    assert 0 <= answer["confidence"] <= 1
    assert isinstance(answer["suggestions"], list)
    for source in answer["sources"]:
        assert list(source) == ["id", "role", "topic", "score"]
        assert 0 <= source["score"] <= 1
    first = answer["sources"][0]
    assert (first["id"], first["role"], first["topic"]) == (
        "pm-responsibilities",
        "it-project-manager",
        "responsibilities",
    )


def test_ask_json_from_stdin_keeps_conversations_apart(rolebot: RunRolebot, project: ProjectCopy) -> None:
    """One object a line, in order; consecutive lines are one conversation, an empty line starts another."""
    conversations = [
        ["What are the responsibilities of a PM?", "and for the IT manager?"],
        ["and the other role?", "how do I renew my passport?"],
    ]
    stdin = "\n\n".join("\n".join(lines) for lines in conversations) + "\n"
    run = rolebot("ask", "--json", "-", stdin=stdin)
    assert (run.code, run.stderr) == (0, "")
    answers = [json.loads(line) for line in run.stdout.splitlines()]

    engine = load_engine(project.knowledge_dir, project.intents_dir)
    expected = []
    for lines in conversations:
        conversation = Conversation()
        expected += [engine.ask(line, conversation).to_dict() for line in lines]
    assert answers == expected

    assert [a["question"] for a in answers] == [line for lines in conversations for line in lines]
    assert answers[1]["sources"][0]["id"] == "itm-responsibilities"  # the follow-up kept the topic
    assert answers[3]["kind"] == "fallback" and answers[3]["sources"] == []
    assert 2 <= len(answers[3]["suggestions"]) <= 3
    # The empty line mattered: in the first conversation, "the other role" would have had a meaning.
    carried_on = Conversation()
    for line in conversations[0]:
        engine.ask(line, carried_on)
    assert answers[2] != engine.ask("and the other role?", carried_on).to_dict()


def test_ask_refuses_an_empty_question(rolebot: RunRolebot) -> None:
    assert one_line_error(rolebot("ask", "  ")) == "rolebot: error: the question is empty"


# -- rolebot add -------------------------------------------------------------------------------


def test_add_then_the_next_ask_answers_from_it(rolebot: RunRolebot, project: ProjectCopy) -> None:
    added = rolebot("add", "--topic", "remote-work", "--role", "it-manager", REMOTE_WORK)
    assert (added.code, added.stderr) == (0, "")
    passage_id = added.stdout.split()[1]
    assert added.stdout == (
        f"added {passage_id} (IT Manager, Remote work) to {project.knowledge_dir / 'added.yaml'}\n"
    )
    assert passage_id.startswith("itm-remote-work-")

    stored = load_knowledge(project.knowledge_dir).by_id(passage_id)
    assert stored is not None
    assert (stored.topic, stored.role, stored.text) == ("remote-work", "it-manager", REMOTE_WORK)

    run = rolebot("ask", "--json", "Who sets the remote work policy?")
    answer = json.loads(run.stdout)
    assert answer["kind"] != "fallback"
    assert answer["sources"][0] == {**answer["sources"][0], "id": passage_id, "topic": "remote-work"}


def test_add_reads_text_from_stdin(rolebot: RunRolebot, project: ProjectCopy) -> None:
    text = "Both roles report progress to senior leadership at least once a month, in plain language."
    added = rolebot("add", "--topic", "reporting", "--role", "both", "-", stdin=f"\n  {text}\n\n")
    assert (added.code, added.stderr) == (0, "")
    listed = rolebot("passages", "--topic", "reporting")
    assert listed.code == 0
    rows = listed.stdout.splitlines()
    assert rows[-1] == "1 passage"
    assert rows[0].split()[1:4] == ["both", "reporting", "Both"]
    (stored,) = load_knowledge(project.knowledge_dir).in_topic("reporting")
    assert (stored.role, stored.text) == (None, text)


def near_duplicate(project: ProjectCopy) -> str:
    passage = load_knowledge(project.knowledge_dir).by_id("pm-vendor-management")
    assert passage is not None
    return passage.text.replace("effectively", "efficiently").upper()


BAD_ADDS = {
    "empty text": (["--topic", "focus", "--role", "pm", ""], None, "passage text is empty"),
    "whitespace text": (["--topic", "focus", "--role", "pm", "  \n\t "], None, "passage text is empty"),
    "empty stdin": (["--topic", "focus", "--role", "pm", "-"], "\n\n", "passage text is empty"),
    "one character": (["--topic", "focus", "--role", "pm", "x"], None, "at least 3 words with letters, it has 1"),
    "two words": (["--topic", "focus", "--role", "pm", "Plans budgets."], None, "at least 3 words with letters"),
    "no letters": (["--topic", "focus", "--role", "pm", "1 2 3 4 -- ?!"], None, "at least 3 words with letters, it has 0"),
    "unknown role": (["--topic", "focus", "--role", "ceo", "A fine passage."], None, "unknown role 'ceo'"),
    "too long": (["--topic", "focus", "--role", "pm", "word " * 801], None, "the limit is 4000"),
    "unusable topic": (["--topic", "!!!", "--role", "pm", "A fine passage."], None, "topic '!!!'"),
    "near-duplicate": (["--topic", "vendor-management", "--role", "pm"], None, "near-duplicate"),
}


@pytest.mark.parametrize("case", list(BAD_ADDS))
def test_bad_add_changes_nothing(rolebot: RunRolebot, project: ProjectCopy, case: str) -> None:
    args, stdin, reason = BAD_ADDS[case]
    if case == "near-duplicate":
        args = [*args, near_duplicate(project)]
    before = snapshot(project.knowledge_dir)
    error = one_line_error(rolebot("add", *args, stdin=stdin))
    assert reason in error
    assert snapshot(project.knowledge_dir) == before


def test_add_joins_unquoted_words_like_ask(rolebot: RunRolebot, project: ProjectCopy) -> None:
    added = rolebot("add", "--topic", "remote-work", "--role", "itm", *REMOTE_WORK.split())
    assert (added.code, added.stderr) == (0, "")
    (stored,) = load_knowledge(project.knowledge_dir).in_topic("remote-work")
    assert stored.text == REMOTE_WORK


def test_sources_leaves_out_passages_that_scored_nothing() -> None:
    from bot.console import explain
    from bot.engine import Answer, Source

    cited = (Source("itm-focus", "it-manager", "focus", 0.31),)
    unranked = tuple(Source(pid, None, "overview", 0.0) for pid in ("overview", "conclusion"))
    follow_up = Answer("and the IT manager?", "retrieval", (), 0.8, sources=cited, candidates=unranked)
    assert explain(follow_up).splitlines() == [
        "kind: retrieval   confidence: 0.80",
        "cited   itm-focus                          0.310",
        "ranked  (no passage shares words with this question; it was read in context)",
    ]
    ranked = (Source("pm-focus", "it-project-manager", "focus", 0.2), *unranked)
    lines = explain(Answer("focus?", "retrieval", (), 0.7, sources=cited, candidates=ranked)).splitlines()
    assert [line.split()[:2] for line in lines[2:]] == [["ranked", "pm-focus"]]


def test_adding_the_same_passage_twice_is_refused(rolebot: RunRolebot, project: ProjectCopy) -> None:
    assert rolebot("add", "--topic", "remote-work", "--role", "itm", REMOTE_WORK).code == 0
    before = snapshot(project.knowledge_dir)
    error = one_line_error(rolebot("add", "--topic", "remote-work", "--role", "itm", REMOTE_WORK))
    assert "near-duplicate of passage 'itm-remote-work-" in error
    assert snapshot(project.knowledge_dir) == before


def test_added_file_gets_ordinary_permissions(rolebot: RunRolebot, project: ProjectCopy) -> None:
    umask = os.umask(0)
    os.umask(umask)
    assert rolebot("add", "--topic", "remote-work", "--role", "itm", REMOTE_WORK).code == 0
    mode = stat.S_IMODE((project.knowledge_dir / "added.yaml").stat().st_mode)
    assert mode == 0o666 & ~umask


def test_rewritten_file_keeps_its_permissions(rolebot: RunRolebot, project: ProjectCopy) -> None:
    added = project.knowledge_dir / "added.yaml"
    assert rolebot("add", "--topic", "remote-work", "--role", "itm", REMOTE_WORK).code == 0
    added.chmod(0o640)
    assert rolebot("add", "--topic", "budgets", "--role", "pm", "The IT project manager tracks spend weekly.").code == 0
    assert stat.S_IMODE(added.stat().st_mode) == 0o640
    assert [p.name for p in project.knowledge_dir.iterdir() if p.name.endswith(".tmp")] == []


# -- rolebot passages --------------------------------------------------------------------------


def test_passages_lists_id_role_topic_and_first_words(rolebot: RunRolebot, project: ProjectCopy) -> None:
    run = rolebot("passages")
    assert (run.code, run.stderr) == (0, "")
    *rows, total = run.stdout.splitlines()
    knowledge = load_knowledge(project.knowledge_dir)
    assert total == "19 passages"
    assert len(rows) == 19
    for row, passage in zip(rows, knowledge.passages):
        id_, role, topic, *words = row.split()
        assert (id_, role, topic) == (passage.id, passage.role or "both", passage.topic)
        assert passage.text.startswith(" ".join(words[:3]))


# -- a broken knowledge base stops every command -----------------------------------------------


@pytest.mark.parametrize("command", [["ask", "What does a PM do?"], ["chat"], ["passages"]])
def test_broken_knowledge_is_refused_with_file_and_line(
    rolebot: RunRolebot, project: ProjectCopy, command: list[str]
) -> None:
    broken = project.knowledge_dir / "zz-broken.yaml"
    broken.write_text("passages:\n- id: x\n  topic: focus\n  role: ceo\n  text: hi\n", encoding="utf-8")
    error = one_line_error(rolebot(*command, stdin="hello\n"))
    assert error == f"rolebot: error: {broken}:4: unknown role 'ceo' (known: it-project-manager, it-manager, both)"


# -- rolebot chat ------------------------------------------------------------------------------

HELP = """\
Ask about IT Project Managers and IT Managers in plain words. Commands:
  /help      this help
  /sources   why the last answer: passages, scores, matched intent
  /reset     start a new conversation
  /quit      leave (Ctrl-D works too)"""


def test_chat_transcript(rolebot: RunRolebot, project: ProjectCopy) -> None:
    greeting = next(i.reply for i in load_intents(project.intents_dir) if i.name == "greeting")
    duties = load_knowledge(project.knowledge_dir).by_id("itm-responsibilities")
    assert duties is not None
    stdin = "hello\n/sources\nWhat does an IT manager do?\n\n/reset\n/sources\n/help\n/bogus\n/quit\nnever read\n"
    run = rolebot("chat", stdin=stdin)
    assert (run.code, run.stderr) == (0, "")
    assert run.stdout == (
        "rolebot: ask me about IT Project Managers and IT Managers. /help for commands.\n"
        "you> hello\n"
        f"bot> {greeting}\n\n"
        "you> /sources\n"
        "bot> kind: smalltalk   confidence: 1.00\n"
        "matched intent: greeting\n\n"
        "you> What does an IT manager do?\n"
        "bot> IT Manager · Responsibilities\n"
        f"{duties.text}\n"
        "[Source: itm-responsibilities (IT Manager, Responsibilities)]\n\n"
        "you> /reset\n"
        "bot> New conversation.\n\n"
        "you> /sources\n"
        "bot> No answer yet.\n\n"
        "you> /help\n"
        f"bot> {HELP}\n\n"
        "you> /bogus\n"
        "bot> Unknown command /bogus. /help lists the commands.\n\n"
        "you> /quit\n"
    )


def test_chat_ends_cleanly_at_end_of_input(rolebot: RunRolebot, project: ProjectCopy) -> None:
    thanks = next(i.reply for i in load_intents(project.intents_dir) if i.name == "thanks")
    run = rolebot("chat", stdin="thanks")  # no /quit, not even a final newline
    assert (run.code, run.stderr) == (0, "")
    assert run.stdout.startswith("rolebot: ask me about")
    assert run.stdout.endswith(f"you> thanks\nbot> {thanks}\n\n")


# -- python -m bot -----------------------------------------------------------------------------


def test_python_dash_m_bot_is_the_same_command(project: ProjectCopy) -> None:
    run = run_command([sys.executable, "-m", "bot", "ask", "--json", "What does a PM do?"], cwd=project.root)
    assert (run.code, run.stderr) == (0, "")
    assert json.loads(run.stdout)["sources"][0]["id"] == "pm-responsibilities"
