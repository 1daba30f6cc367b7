"""Loading the knowledge folder: the article's 19 passages, and malformed files refused whole."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pytest

from bot.knowledge import (
    CORE_TOPICS,
    KnowledgeBase,
    KnowledgeError,
    Passage,
    load_knowledge,
    load_passage_file,
    parse_role,
    slugify,
    topic_title,
)

KNOWLEDGE_DIR = Path(__file__).resolve().parent.parent / "knowledge"
PM = "it-project-manager"
ITM = "it-manager"

# The article: one passage per role subsection, plus the overview and conclusion about both roles.
ARTICLE_PASSAGES = {
    "overview": ("overview", None),
    "pm-responsibilities": ("responsibilities", PM),
    "itm-responsibilities": ("responsibilities", ITM),
    "pm-qualifications-and-skills": ("qualifications-and-skills", PM),
    "itm-qualifications-and-skills": ("qualifications-and-skills", ITM),
    "pm-focus": ("focus", PM),
    "itm-focus": ("focus", ITM),
    "pm-scope-of-work": ("scope-of-work", PM),
    "itm-scope-of-work": ("scope-of-work", ITM),
    "pm-technical-knowledge": ("technical-knowledge", PM),
    "itm-technical-knowledge": ("technical-knowledge", ITM),
    "pm-leadership": ("leadership", PM),
    "itm-leadership": ("leadership", ITM),
    "pm-communication-skills": ("communication-skills", PM),
    "itm-communication-skills": ("communication-skills", ITM),
    "pm-project-management": ("project-management", PM),
    "pm-resource-management": ("resource-management", PM),
    "pm-vendor-management": ("vendor-management", PM),
    "conclusion": ("conclusion", None),
}

GOOD_FILE = """\
passages:
- id: good
  topic: focus
  role: it-manager
  text: An IT Manager keeps the whole IT estate running.
"""


@pytest.fixture(scope="module")
def article() -> KnowledgeBase:
    return load_knowledge(KNOWLEDGE_DIR)


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


# -- the article -------------------------------------------------------------------------------


def test_article_has_nineteen_passages(article: KnowledgeBase) -> None:
    assert len(article.passages) == 19


def test_article_passages_have_the_right_ids_topics_and_roles(article: KnowledgeBase) -> None:
    found = {p.id: (p.topic, p.role) for p in article.passages}
    assert found == ARTICLE_PASSAGES


def test_article_topics_come_in_reading_order(article: KnowledgeBase) -> None:
    assert article.topics() == list(CORE_TOPICS)


def test_every_passage_has_text_and_knows_where_it_came_from(article: KnowledgeBase) -> None:
    for passage in article.passages:
        assert passage.text.strip() == passage.text and passage.text
        assert Path(passage.path).parent == KNOWLEDGE_DIR
        assert passage.line > 0


def test_lookups(article: KnowledgeBase) -> None:
    assert article.by_id("pm-focus") is not None
    assert article.by_id("no-such-passage") is None
    assert [p.id for p in article.in_topic("focus")] == ["pm-focus", "itm-focus"]
    found = article.find("responsibilities", ITM)
    assert found is not None and found.id == "itm-responsibilities"
    assert article.find("vendor-management", ITM) is None


def test_synonyms_are_loaded_beside_the_passages(article: KnowledgeBase) -> None:
    assert article.synonyms, "knowledge/synonyms.yaml should give the synonym map"
    assert all(isinstance(v, tuple) for v in article.synonyms.values())


def test_passage_is_frozen(article: KnowledgeBase) -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        article.passages[0].text = "changed"  # type: ignore[misc]


def test_passage_names_its_role_and_topic() -> None:
    passage = Passage("x", "scope-of-work", ITM, "one two three four")
    assert passage.role_name == "IT Manager"
    assert passage.topic_title == "Scope of work"
    assert Passage("y", "overview", None, "t").role_name == "Both roles"
    assert passage.first_words(2) == "one two …"
    assert passage.first_words(4) == "one two three four"


@pytest.mark.parametrize(
    ("value", "role"),
    [
        (None, None),
        ("both", None),
        ("it-project-manager", PM),
        ("PM", PM),
        ("it-manager", ITM),
        (" IT-Manager ", ITM),
    ],
)
def test_parse_role(value: str | None, role: str | None) -> None:
    assert parse_role(value) == role


def test_parse_role_refuses_an_unknown_role() -> None:
    with pytest.raises(ValueError, match="unknown role 'ceo'"):
        parse_role("ceo")


def test_slugs_and_titles() -> None:
    assert slugify("Scope of Work") == "scope-of-work"
    assert slugify("  Remote work / VPN!  ") == "remote-work-vpn"
    assert topic_title("qualifications-and-skills") == "Qualifications and skills"


# -- more files --------------------------------------------------------------------------------


def test_every_yaml_file_in_the_folder_is_loaded(tmp_path: Path) -> None:
    folder = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE_DIR, folder)
    write(folder, "zz-extra.yaml", GOOD_FILE)
    write(folder, "notes.txt", "not knowledge")
    knowledge = load_knowledge(folder)
    assert len(knowledge.passages) == 20
    assert knowledge.passages[-1].id == "good"


def test_an_empty_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(KnowledgeError, match="no passages"):
        load_knowledge(tmp_path)


def test_a_missing_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(KnowledgeError, match="does not exist"):
        load_knowledge(tmp_path / "nowhere")


# -- malformed files: refused with file, line and reason ---------------------------------------

MALFORMED = {
    "bad-yaml": (
        "passages:\n- id: a\n  topic: focus\n\t role: null\n  text: hello\n",
        4,
        "invalid YAML",
    ),
    "missing-field": (
        "passages:\n- id: a\n  topic: focus\n  role: null\n  text: hello\n- id: b\n  role: null\n  text: hi\n",
        6,
        "missing 'topic'",
    ),
    "missing-role": (
        "passages:\n- id: a\n  topic: focus\n  text: hello\n",
        2,
        "missing 'role'",
    ),
    "unknown-role": (
        "passages:\n- id: a\n  topic: focus\n  role: ceo\n  text: hello\n",
        4,
        "unknown role 'ceo'",
    ),
    "empty-text": (
        "passages:\n- id: a\n  topic: focus\n  role: null\n  text: '   '\n",
        5,
        "empty text",
    ),
    "null-text": (
        "passages:\n- id: a\n  topic: focus\n  role: null\n  text:\n",
        5,
        "empty text",
    ),
    "unknown-field": (
        "passages:\n- id: a\n  topic: focus\n  role: null\n  text: hi\n  colour: red\n",
        6,
        "unknown field 'colour'",
    ),
    "bad-id": (
        "passages:\n- id: Not A Slug\n  topic: focus\n  role: null\n  text: hi\n",
        2,
        "lowercase slug",
    ),
    "not-a-mapping": ("- just\n- a list\n", 1, "passages"),
    "text-too-long": (
        "passages:\n- id: a\n  topic: focus\n  role: null\n  text: " + "x" * 4001 + "\n",
        5,
        "over 4000",
    ),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_file_is_refused_with_file_line_and_reason(tmp_path: Path, case: str) -> None:
    text, line, reason = MALFORMED[case]
    path = write(tmp_path, "broken.yaml", text)
    with pytest.raises(KnowledgeError) as caught:
        load_knowledge(tmp_path)
    error = caught.value
    assert error.path == str(path)
    assert error.line == line
    assert reason in error.reason
    assert str(error).startswith(f"{path}:{line}: ")
    assert "\n" not in str(error)


def test_duplicate_id_across_files_names_both_places(tmp_path: Path) -> None:
    first = write(tmp_path, "a.yaml", GOOD_FILE)
    second = write(
        tmp_path,
        "b.yaml",
        "# more\npassages:\n- id: other\n  topic: focus\n  role: null\n  text: hi\n"
        "- id: good\n  topic: leadership\n  role: null\n  text: again\n",
    )
    with pytest.raises(KnowledgeError) as caught:
        load_knowledge(tmp_path)
    assert str(caught.value) == f"{second}:7: duplicate id 'good' (first at {first}:2)"


def test_a_file_that_is_not_utf8_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes(GOOD_FILE.replace("whole", "caf\xe9").encode("latin-1"))
    with pytest.raises(KnowledgeError, match="cannot read") as caught:
        load_knowledge(tmp_path)
    assert caught.value.path == str(path)


def test_one_bad_file_refuses_the_whole_folder(tmp_path: Path) -> None:
    """Nothing is half-loaded: the good files do not make it through on their own."""
    folder = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE_DIR, folder)
    write(folder, "zz-broken.yaml", MALFORMED["unknown-role"][0])
    with pytest.raises(KnowledgeError, match="zz-broken.yaml:4: unknown role"):
        load_knowledge(folder)


def test_a_single_file_loads_on_its_own(tmp_path: Path) -> None:
    passages = load_passage_file(write(tmp_path, "one.yaml", GOOD_FILE))
    assert [(p.id, p.topic, p.role, p.line) for p in passages] == [("good", "focus", ITM, 2)]
    assert passages[0].source == "one"
