"""Knowledge passages: the YAML files a reviewer edits, loaded and validated as one whole."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import yaml

ROLES: dict[str, str] = {
    "it-project-manager": "IT Project Manager",
    "it-manager": "IT Manager",
}
ROLE_SHORT: dict[str, str] = {"it-project-manager": "pm", "it-manager": "itm"}
CORE_TOPICS: tuple[str, ...] = (
    "overview",
    "responsibilities",
    "qualifications-and-skills",
    "focus",
    "scope-of-work",
    "technical-knowledge",
    "leadership",
    "communication-skills",
    "project-management",
    "resource-management",
    "vendor-management",
    "conclusion",
)
MAX_PASSAGE_CHARS = 4000
SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
KNOWLEDGE_SUFFIXES = (".yaml", ".yml")
SYNONYMS_FILE = "synonyms.yaml"
ADDED_FILE = "added.yaml"
FILE_VERSION = 1


class KnowledgeError(ValueError):
    """A knowledge or intents file that cannot be loaded; the message names file, line and reason."""

    def __init__(self, path: Path | str, line: int | None, reason: str) -> None:
        self.path = str(path)
        self.line = line
        self.reason = reason
        where = f"{path}:{line}" if line else f"{path}"
        super().__init__(f"{where}: {reason}")


@dataclass(frozen=True)
class Passage:
    """One answerable piece of knowledge about a topic, for one role or (role None) for both."""

    id: str
    topic: str
    role: str | None
    text: str
    questions: tuple[str, ...] = ()
    source: str = ""
    path: str = ""
    line: int = 0

    @property
    def role_name(self) -> str:
        return ROLES[self.role] if self.role else "Both roles"

    @property
    def topic_title(self) -> str:
        return topic_title(self.topic)

    def first_words(self, n: int = 12) -> str:
        words = self.text.split()
        return " ".join(words[:n]) + (" …" if len(words) > n else "")


@dataclass(frozen=True)
class KnowledgeBase:
    """Every passage, plus the synonym map used to read questions."""

    passages: tuple[Passage, ...]
    synonyms: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def by_id(self, passage_id: str) -> Passage | None:
        for passage in self.passages:
            if passage.id == passage_id:
                return passage
        return None

    def topics(self) -> list[str]:
        """Return topics in reading order: the article's first, then new ones alphabetically."""
        present = {p.topic for p in self.passages}
        ordered = [t for t in CORE_TOPICS if t in present]
        return ordered + sorted(present - set(ordered))

    def in_topic(self, topic: str) -> list[Passage]:
        return [p for p in self.passages if p.topic == topic]

    def find(self, topic: str, role: str | None) -> Passage | None:
        for passage in self.passages:
            if passage.topic == topic and passage.role == role:
                return passage
        return None


def topic_title(topic: str) -> str:
    """Turn a topic slug into a heading: 'scope-of-work' -> 'Scope of work'."""
    words = topic.replace("-", " ").split()
    return " ".join(words).capitalize() if words else topic


def slugify(text: str) -> str:
    """Make a topic slug from a heading: 'Scope of Work' -> 'scope-of-work'."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def parse_role(value: object) -> str | None:
    """Read a role from text: a role slug, 'both'/'none'/'null' for None; ValueError otherwise."""
    if value is None:
        return None
    text = str(value).strip().lower()
    if text in ("", "both", "none", "null", "-"):
        return None
    aliases = {"pm": "it-project-manager", "itpm": "it-project-manager", "itm": "it-manager"}
    text = aliases.get(text, text)
    if text not in ROLES:
        known = ", ".join([*ROLES, "both"])
        raise ValueError(f"unknown role {value!r} (known: {known})")
    return text


def compose_yaml(path: Path) -> yaml.Node | None:
    """Read a UTF-8 YAML file into a node tree; raise KnowledgeError with file, line and a one-line reason."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise KnowledgeError(path, None, f"cannot read: {exc}") from exc
    try:
        return yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        raise KnowledgeError(path, line, f"invalid YAML: {problem}") from exc


def _construct(node: yaml.Node) -> Any:
    return yaml.SafeLoader(  # type: ignore[no-untyped-call]
        ""
    ).construct_document(node)


def _line(node: yaml.Node) -> int:
    return int(node.start_mark.line) + 1


def _mapping_items(node: yaml.Node) -> dict[str, yaml.Node]:
    assert isinstance(node, yaml.MappingNode)
    return {str(key.value): value for key, value in node.value}


def load_passage_file(path: Path) -> list[Passage]:
    """Load one knowledge file; raise KnowledgeError naming the line of the first problem."""
    root = compose_yaml(path)
    if root is None:
        return []
    if not isinstance(root, yaml.MappingNode):
        raise KnowledgeError(path, _line(root), "expected a mapping with a 'passages' list")
    items = _mapping_items(root)
    source_node = items.get("source")
    source = str(_construct(source_node)) if source_node is not None else path.stem
    passages_node = items.get("passages")
    if passages_node is None:
        raise KnowledgeError(path, _line(root), "missing 'passages' list")
    if not isinstance(passages_node, yaml.SequenceNode):
        raise KnowledgeError(path, _line(passages_node), "'passages' must be a list")
    passages = []
    for entry in passages_node.value:
        passages.append(_passage_from_node(path, entry, source))
    return passages


def _passage_from_node(path: Path, node: yaml.Node, source: str) -> Passage:
    line = _line(node)
    if not isinstance(node, yaml.MappingNode):
        raise KnowledgeError(path, line, "each passage must be a mapping with id, topic, role, text")
    fields = _mapping_items(node)
    unknown = set(fields) - {"id", "topic", "role", "text", "questions"}
    if unknown:
        key = sorted(unknown)[0]
        raise KnowledgeError(path, _line(fields[key]), f"unknown field {key!r}")
    for required in ("id", "topic", "text"):
        if required not in fields:
            raise KnowledgeError(path, line, f"passage is missing {required!r}")
    if "role" not in fields:
        raise KnowledgeError(path, line, "passage is missing 'role' (use null for both roles)")
    values = {key: _construct(value) for key, value in fields.items()}
    passage_id = values["id"]
    if not isinstance(passage_id, str) or not SLUG.match(passage_id):
        raise KnowledgeError(path, _line(fields["id"]), f"id {passage_id!r} must be a lowercase slug")
    topic = values["topic"]
    if not isinstance(topic, str) or not SLUG.match(topic):
        raise KnowledgeError(path, _line(fields["topic"]), f"topic {topic!r} must be a lowercase slug")
    try:
        role = parse_role(values["role"])
    except ValueError as exc:
        raise KnowledgeError(path, _line(fields["role"]), str(exc)) from exc
    text = values["text"]
    if not isinstance(text, str) or not text.strip():
        raise KnowledgeError(path, _line(fields["text"]), f"passage {passage_id!r} has empty text")
    if len(text) > MAX_PASSAGE_CHARS:
        raise KnowledgeError(
            path, _line(fields["text"]), f"passage {passage_id!r} is over {MAX_PASSAGE_CHARS} characters"
        )
    questions = values.get("questions") or []
    if not isinstance(questions, list) or not all(isinstance(q, str) and q.strip() for q in questions):
        raise KnowledgeError(path, _line(fields.get("questions", node)), "'questions' must be a list of text")
    return Passage(
        id=passage_id,
        topic=topic,
        role=role,
        text=text.strip(),
        questions=tuple(q.strip() for q in questions),
        source=source,
        path=str(path),
        line=line,
    )


def load_synonyms(path: Path) -> dict[str, tuple[str, ...]]:
    """Load the synonym map: a term the knowledge uses -> the everyday phrasings that mean it."""
    if not path.exists():
        return {}
    root = compose_yaml(path)
    if root is None:
        return {}
    if not isinstance(root, yaml.MappingNode):
        raise KnowledgeError(path, _line(root), "expected a mapping of term -> list of phrasings")
    synonyms: dict[str, tuple[str, ...]] = {}
    for key, value in root.value:
        phrases = _construct(value)
        if not isinstance(phrases, list) or not all(isinstance(p, str) for p in phrases):
            raise KnowledgeError(path, _line(value), f"synonyms of {key.value!r} must be a list of text")
        synonyms[str(key.value)] = tuple(p.lower() for p in phrases)
    return synonyms


def knowledge_files(directory: Path) -> list[Path]:
    """Return the passage files of a knowledge folder, in a stable order."""
    if not directory.is_dir():
        raise KnowledgeError(directory, None, "knowledge folder does not exist")
    return sorted(
        p for p in directory.iterdir() if p.suffix in KNOWLEDGE_SUFFIXES and p.name != SYNONYMS_FILE
    )


def load_knowledge(directory: Path) -> KnowledgeBase:
    """Load and validate a whole knowledge folder, or raise KnowledgeError: never a partial base."""
    passages: list[Passage] = []
    for path in knowledge_files(directory):
        passages.extend(load_passage_file(path))
    check_unique(passages)
    if not passages:
        raise KnowledgeError(directory, None, "no passages found")
    return KnowledgeBase(passages=tuple(passages), synonyms=load_synonyms(directory / SYNONYMS_FILE))


def check_unique(passages: Iterable[Passage]) -> None:
    """Raise KnowledgeError for a passage id used twice."""
    seen: dict[str, Passage] = {}
    for passage in passages:
        if passage.id in seen:
            first = seen[passage.id]
            raise KnowledgeError(
                passage.path, passage.line, f"duplicate id {passage.id!r} (first at {first.path}:{first.line})"
            )
        seen[passage.id] = passage


class _Dumper(yaml.SafeDumper):
    """Write knowledge files the way a person would: long text as folded blocks, keys in order."""


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    style = ">" if len(value) > 70 or "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _represent_str)


def passage_record(passage: Passage) -> dict[str, Any]:
    record: dict[str, Any] = {"id": passage.id, "topic": passage.topic, "role": passage.role}
    if passage.questions:
        record["questions"] = list(passage.questions)
    record["text"] = passage.text
    return record


def dump_passages(source: str, passages: Iterable[Passage], *, header: str = "") -> str:
    """Serialize passages as a knowledge file's text."""
    body = yaml.dump(
        {"source": source, "passages": [passage_record(p) for p in passages]},
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        width=100,
    )
    return header + body
