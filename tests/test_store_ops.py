"""Knowledge operations through the real `rolebot` command: import, remove, edit and check."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from bot.article import Draft, parse_markdown, parse_paragraphs
from bot.knowledge import load_knowledge, load_passage_file
from bot.store import ValidationError, import_passages, remove_passage
from conftest import INTENTS_DIR, KNOWLEDGE_DIR, ProjectCopy, RunRolebot, rolebot_command, run_command

ARTICLE = """\
# Cloud work for IT leaders

## Cloud Costs

### IT Project Manager

The IT project manager keeps the **cloud spend** of a project inside its budget and reports
overruns to the sponsor early.

### IT Manager

The IT manager negotiates reserved capacity with [cloud providers](https://example.com) and sets
the cost policies every team follows.

## Incident Reviews

Both roles attend blameless incident reviews and turn their findings into follow-up work.
"""

PLAIN = """\
An IT project manager plans the data migration in waves so each one can be rolled back.

The IT project manager agrees a cut-over window with the business before moving any data.
"""

SCRIPT_EDITOR = """\
import pathlib, sys
path = pathlib.Path(sys.argv[1])
text = path.read_text()
{action}
"""


def snapshot(folder: Path) -> dict[str, str]:
    """Every file in a folder with its text, to prove a refused command wrote nothing."""
    return {p.name: p.read_text() for p in sorted(folder.iterdir()) if p.is_file() and not p.name.startswith(".")}


def editor(tmp_path: Path, action: str, name: str = "editor.py") -> str:
    """Write a stand-in $EDITOR: a Python script that changes the file it is given."""
    script = tmp_path / name
    script.write_text(SCRIPT_EDITOR.format(action=textwrap.dedent(action)))
    return f"{sys.executable} {script}"


# -- reading articles ---------------------------------------------------------------------------


def test_markdown_splits_into_one_draft_per_role_subsection() -> None:
    article = parse_markdown(ARTICLE)
    assert article.title == "Cloud work for IT leaders"
    assert [(d.topic, d.role, d.line) for d in article.drafts] == [
        ("cloud-costs", "it-project-manager", 7),
        ("cloud-costs", "it-manager", 12),
        ("incident-reviews", None, 17),
    ]
    assert article.drafts[0].text.startswith("The IT project manager keeps the cloud spend of a project")
    assert "cloud providers and sets the cost policies" in article.drafts[1].text  # link and emphasis dropped


def test_plain_text_becomes_one_draft_per_paragraph() -> None:
    article = parse_paragraphs(PLAIN, topic="Data Migration", role="it-project-manager")
    assert [(d.topic, d.role, d.line) for d in article.drafts] == [
        ("data-migration", "it-project-manager", 1),
        ("data-migration", "it-project-manager", 3),
    ]


def test_import_stores_all_or_nothing(project: ProjectCopy) -> None:
    before = snapshot(project.knowledge_dir)
    drafts = [Draft("cloud-costs", None, "Fine text about clouds and their bills.", line=1),
              Draft("cloud-costs", None, "x" * 4001, line=5)]
    with pytest.raises(ValidationError, match="line 5"):
        import_passages(project.knowledge_dir, drafts, into="cloud", source="Cloud")
    assert snapshot(project.knowledge_dir) == before


# -- import --------------------------------------------------------------------------------------


def test_import_markdown_reports_added_then_skips_near_duplicates(project: ProjectCopy, rolebot: RunRolebot) -> None:
    article = project.root / "cloud.md"
    article.write_text(ARTICLE)

    first = rolebot("import", str(article))
    assert first.code == 0, first.stderr
    assert first.stdout.splitlines()[-1] == f"3 added to {project.knowledge_dir / 'cloud.yaml'}, 0 skipped as near-duplicates"
    stored = load_passage_file(project.knowledge_dir / "cloud.yaml")
    assert [(p.topic, p.role) for p in stored] == [
        ("cloud-costs", "it-project-manager"),
        ("cloud-costs", "it-manager"),
        ("incident-reviews", None),
    ]
    assert stored[0].source == "Cloud work for IT leaders"

    answer = rolebot("ask", "--json", "who negotiates reserved capacity with cloud providers?")
    assert '"id": "%s"' % stored[1].id in answer.stdout

    again = rolebot("import", str(article))
    assert again.code == 0
    assert again.stdout.splitlines()[-1] == "0 added, 3 skipped as near-duplicates (--force keeps them)"
    assert f"cloud.md:7 (cloud-costs): near-duplicate of {stored[0].id}" in again.stdout
    assert len(load_passage_file(project.knowledge_dir / "cloud.yaml")) == 3

    forced = rolebot("import", "--force", "--into", "cloud-again", str(article))
    assert forced.code == 0
    assert forced.stdout.splitlines()[-1].startswith("3 added")
    assert rolebot("check").code == 0


def test_import_plain_text_needs_topic_and_role(project: ProjectCopy, rolebot: RunRolebot) -> None:
    notes = project.root / "migration.txt"
    notes.write_text(PLAIN)
    before = snapshot(project.knowledge_dir)

    refused = rolebot("import", str(notes))
    assert refused.code == 2
    assert refused.stderr.strip().count("\n") == 0
    assert "give --topic and --role" in refused.stderr
    assert snapshot(project.knowledge_dir) == before

    done = rolebot("import", "--topic", "data-migration", "--role", "pm", str(notes))
    assert done.code == 0, done.stderr
    assert done.stdout.splitlines()[-1].startswith("2 added")
    migration = load_knowledge(project.knowledge_dir).in_topic("data-migration")
    assert [p.role for p in migration] == ["it-project-manager", "it-project-manager"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("## Budgets\n\n### The CFO\n\nSome text.\n", "bad.md:3: role heading '### The CFO' is not a role"),
        ("## Budgets\n\n### IT Manager\n\n" + "word " * 900 + "\n", "the limit is 4000"),
        ("", "holds no text to import"),
    ],
)
def test_import_refuses_bad_articles_writing_nothing(project: ProjectCopy, rolebot: RunRolebot, content: str, message: str) -> None:
    article = project.root / "bad.md"
    article.write_text(content)
    before = snapshot(project.knowledge_dir)
    result = rolebot("import", "--topic", "budgets", "--role", "both", str(article))
    assert result.code == 2
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert snapshot(project.knowledge_dir) == before


def test_import_refuses_an_unknown_role_option(project: ProjectCopy, rolebot: RunRolebot) -> None:
    notes = project.root / "notes.txt"
    notes.write_text(PLAIN)
    result = rolebot("import", "--topic", "x", "--role", "ceo", str(notes))
    assert result.code == 2
    assert "unknown role 'ceo'" in result.stderr


# -- remove --------------------------------------------------------------------------------------


def test_remove_deletes_the_passage_from_its_file(project: ProjectCopy, rolebot: RunRolebot) -> None:
    result = rolebot("remove", "itm-focus")
    assert result.code == 0, result.stderr
    assert result.stdout.startswith("removed itm-focus (IT Manager, Focus)")
    knowledge = load_knowledge(project.knowledge_dir)
    assert knowledge.by_id("itm-focus") is None
    assert len(knowledge.passages) == 18
    text = (project.knowledge_dir / "article.yaml").read_text()
    assert text.startswith("# The default knowledge base")  # the file's comments survive the rewrite
    assert [p.name for p in project.knowledge_dir.iterdir() if p.name.endswith((".tmp", ".check"))] == []


def test_remove_unknown_id_is_an_error(project: ProjectCopy, rolebot: RunRolebot) -> None:
    result = rolebot("remove", "no-such-passage")
    assert (result.code, result.stderr.strip()) == (2, "rolebot: error: no passage with id 'no-such-passage'")


def test_remove_refuses_a_passage_an_intent_points_at(project: ProjectCopy, rolebot: RunRolebot) -> None:
    (project.intents_dir / "team.yaml").write_text(
        "- name: who-runs-what\n  examples: [who runs what, who is in charge of what]\n"
        "  passages: [pm-responsibilities, itm-responsibilities]\n"
    )
    before = snapshot(project.knowledge_dir)
    refused = rolebot("remove", "pm-responsibilities")
    assert refused.code == 2
    assert "intent 'who-runs-what'" in refused.stderr and "--force" in refused.stderr
    assert snapshot(project.knowledge_dir) == before

    forced = rolebot("remove", "--force", "pm-responsibilities")
    assert forced.code == 0, forced.stderr
    assert "passages: [itm-responsibilities]" in (project.intents_dir / "team.yaml").read_text()
    assert rolebot("check").code == 0
    assert rolebot("ask", "who runs what").code == 0


def test_remove_refuses_the_last_passage_of_a_topic_an_intent_routes_to(project: ProjectCopy, rolebot: RunRolebot) -> None:
    result = rolebot("remove", "--force", "pm-vendor-management")
    assert result.code == 2
    assert "last passage of its topic and intent 'who-handles-vendors'" in result.stderr


def test_remove_refuses_the_only_target_of_an_intent_even_with_force(project: ProjectCopy, rolebot: RunRolebot) -> None:
    result = rolebot("remove", "--force", "conclusion")
    assert result.code == 2
    assert "intent 'difference'" in result.stderr
    assert load_knowledge(project.knowledge_dir).by_id("conclusion") is not None


def test_forced_remove_of_a_sole_reference_routes_the_intent_to_the_topic(project: ProjectCopy) -> None:
    (project.intents_dir / "team.yaml").write_text(
        "# who does what\n- name: pm-duties\n  examples: [pm duties]\n  passages:\n    - pm-responsibilities\n"
        "- name: other\n  examples: [other]\n  topic: focus\n"
    )
    remove_passage(project.knowledge_dir, project.intents_dir, "pm-responsibilities", force=True)
    assert (project.intents_dir / "team.yaml").read_text() == (
        "# who does what\n- name: pm-duties\n  examples: [pm duties]\n  topic: responsibilities\n"
        "- name: other\n  examples: [other]\n  topic: focus\n"
    )


# -- edit ----------------------------------------------------------------------------------------


def test_edit_saves_a_valid_change_in_place(project: ProjectCopy, rolebot: RunRolebot, tmp_path: Path) -> None:
    order = [p.id for p in load_passage_file(project.knowledge_dir / "article.yaml")]
    script = editor(tmp_path, """
        path.write_text(text.replace("negotiating contracts", "negotiating multi-year contracts"))
    """)
    result = rolebot("edit", "pm-vendor-management", env={"EDITOR": script})
    assert result.code == 0, result.stderr
    assert result.stdout.startswith("saved pm-vendor-management")
    passages = load_passage_file(project.knowledge_dir / "article.yaml")
    edited = next(p for p in passages if p.id == "pm-vendor-management")
    assert "negotiating multi-year contracts" in edited.text
    assert [p.id for p in passages] == order


@pytest.mark.parametrize(
    ("action", "message"),
    [
        ('path.write_text(text.replace("role: it-project-manager", "role: chief"))', "unknown role 'chief'"),
        ('path.write_text(text.replace("text: >-", "text: \\"\\"\\n  x: >-"))', "line "),
        ('path.write_text(text + text.split("passages:")[1])', "exactly one passage"),
        ("sys.exit(3)", "the editor exited with status 3"),
    ],
)
def test_edit_refuses_bad_changes_writing_nothing(project: ProjectCopy, rolebot: RunRolebot, tmp_path: Path, action: str, message: str) -> None:
    before = snapshot(project.knowledge_dir)
    result = rolebot("edit", "pm-vendor-management", env={"EDITOR": editor(tmp_path, action)})
    assert result.code == 2
    assert message in result.stderr
    assert "nothing saved" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert snapshot(project.knowledge_dir) == before


def test_edit_without_changes_writes_nothing(project: ProjectCopy, rolebot: RunRolebot, tmp_path: Path) -> None:
    before = snapshot(project.knowledge_dir)
    result = rolebot("edit", "itm-focus", env={"EDITOR": editor(tmp_path, "pass")})
    assert (result.code, result.stdout.strip()) == (0, "no changes to itm-focus")
    assert snapshot(project.knowledge_dir) == before


def test_edit_of_a_passage_an_intent_points_at_needs_force(project: ProjectCopy, rolebot: RunRolebot, tmp_path: Path) -> None:
    script = editor(tmp_path, 'path.write_text(text.replace("In the world of", "Across the world of"))')
    refused = rolebot("edit", "overview", env={"EDITOR": script})
    assert refused.code == 2
    assert "intent 'what-is-this'" in refused.stderr
    forced = rolebot("edit", "--force", "overview", env={"EDITOR": script})
    assert forced.code == 0, forced.stderr
    assert load_knowledge(project.knowledge_dir).by_id("overview").text.startswith("Across the world of")  # type: ignore[union-attr]


def test_edit_renaming_an_id_with_force_rewrites_the_intent(project: ProjectCopy, rolebot: RunRolebot, tmp_path: Path) -> None:
    script = editor(tmp_path, 'path.write_text(text.replace("id: overview", "id: introduction"))')
    result = rolebot("edit", "--force", "overview", env={"EDITOR": script})
    assert result.code == 0, result.stderr
    assert "passages: [introduction]" in (project.intents_dir / "questions.yaml").read_text()
    assert rolebot("check").code == 0


# -- check ---------------------------------------------------------------------------------------


def test_check_passes_on_the_shipped_knowledge_and_intents(tmp_path: Path) -> None:
    """Run `rolebot check` on the repository's own folders, not a copy, so CI fails on a broken edit."""
    env = {
        "ROLEBOT_KNOWLEDGE_DIR": str(KNOWLEDGE_DIR),
        "ROLEBOT_INTENTS_DIR": str(INTENTS_DIR),
        "ROLEBOT_DATA_DIR": str(tmp_path / "data"),
    }
    result = run_command([*rolebot_command(), "check"], env=env, cwd=tmp_path)
    assert (result.code, result.stderr) == (0, "")
    assert result.stdout.startswith("ok: "), result.stdout


def test_check_passes_on_the_project_knowledge(project: ProjectCopy, rolebot: RunRolebot) -> None:
    result = rolebot("check")
    assert result.code == 0, result.stderr
    assert result.stdout.startswith("ok: 19 passages in 1 file,")


def test_check_lists_every_problem_with_file_and_line(project: ProjectCopy, rolebot: RunRolebot) -> None:
    (project.knowledge_dir / "extra.yaml").write_text(
        "source: extra\npassages:\n"
        "- id: overview\n  topic: overview\n  role: null\n  text: A second overview.\n"
        "- id: empty-one\n  topic: budgets\n  role: it-manager\n  text: '   '\n"
    )
    (project.knowledge_dir / "broken.yaml").write_text("source: broken\npassages:\n- id: a\n  topic: [unclosed\n")
    (project.intents_dir / "more.yaml").write_text("- name: ghost\n  examples: [ghost]\n  passages: [no-such-id]\n")
    result = rolebot("check")
    assert result.code == 1
    lines = result.stderr.strip().splitlines()
    knowledge, intents = project.knowledge_dir, project.intents_dir
    assert lines == [
        f"{knowledge / 'broken.yaml'}:5: invalid YAML: expected ',' or ']', but got '<stream end>'",
        f"{knowledge / 'extra.yaml'}:10: passage 'empty-one' has empty text",
        f"{intents / 'more.yaml'}:1: intent 'ghost': unknown passage 'no-such-id'",
        "3 problems found",
    ]


def test_check_reports_duplicate_ids_across_files(project: ProjectCopy, rolebot: RunRolebot) -> None:
    (project.knowledge_dir / "extra.yaml").write_text(
        "source: extra\npassages:\n- id: overview\n  topic: overview\n  role: null\n  text: A second overview.\n"
    )
    result = rolebot("check")
    assert result.code == 1
    assert f"{project.knowledge_dir / 'extra.yaml'}:3: duplicate id 'overview' (first at " in result.stderr
