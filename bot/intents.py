"""Intents: common questions and small talk, matched fuzzily (rapidfuzz) and routed to knowledge."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable

import yaml
from rapidfuzz import fuzz, process

from bot.knowledge import SLUG, KnowledgeBase, KnowledgeError, compose_yaml, parse_role
from bot.language import normalize

Scorer = Callable[..., float]


@dataclass(frozen=True)
class Intent:
    """A named kind of message: small talk with its own reply, or a route to knowledge."""

    name: str
    examples: tuple[str, ...]
    reply: str | None = None
    topic: str | None = None
    role: str | None = None
    passages: tuple[str, ...] = ()
    compare: bool = False
    needs_role: bool = False
    out_of_scope: bool = False
    path: str = ""
    line: int = 0

    @property
    def is_smalltalk(self) -> bool:
        return self.reply is not None and not self.out_of_scope

    @property
    def is_route(self) -> bool:
        return not self.is_smalltalk and not self.out_of_scope


@dataclass(frozen=True)
class IntentMatch:
    intent: Intent
    example: str
    score: float


def load_intents(directory: Path) -> tuple[Intent, ...]:
    """Load every intents file in a folder; raise KnowledgeError naming file and line."""
    if not directory.is_dir():
        raise KnowledgeError(directory, None, "intents folder does not exist")
    intents: list[Intent] = []
    seen: dict[str, Intent] = {}
    for path in sorted(p for p in directory.iterdir() if p.suffix in (".yaml", ".yml")):
        for intent in _load_file(path):
            if intent.name in seen:
                raise KnowledgeError(path, intent.line, f"duplicate intent name {intent.name!r}")
            seen[intent.name] = intent
            intents.append(intent)
    return tuple(intents)


def _load_file(path: Path) -> list[Intent]:
    root = compose_yaml(path)
    if root is None:
        return []
    if not isinstance(root, yaml.SequenceNode):
        raise KnowledgeError(path, root.start_mark.line + 1, "expected a list of intents")
    loader = yaml.SafeLoader("")
    intents = []
    for node in root.value:
        line = node.start_mark.line + 1
        data: Any = loader.construct_document(node)
        intents.append(_intent_from(path, line, data))
    return intents


def _intent_from(path: Path, line: int, data: Any) -> Intent:
    if not isinstance(data, dict):
        raise KnowledgeError(path, line, "each intent must be a mapping")
    unknown = set(data) - {
        "name", "examples", "reply", "topic", "role", "passages", "compare", "needs_role", "out_of_scope"
    }
    if unknown:
        raise KnowledgeError(path, line, f"unknown field {sorted(unknown)[0]!r}")
    name = data.get("name")
    if not isinstance(name, str) or not SLUG.match(name):
        raise KnowledgeError(path, line, f"intent name {name!r} must be a lowercase slug")
    examples = data.get("examples")
    if not isinstance(examples, list) or not examples or not all(isinstance(e, str) for e in examples):
        raise KnowledgeError(path, line, f"intent {name!r} needs a list of example phrasings")
    reply, topic, passages = data.get("reply"), data.get("topic"), data.get("passages") or []
    out_of_scope = bool(data.get("out_of_scope", False))
    if reply is None and topic is None and not passages and not out_of_scope:
        raise KnowledgeError(
            path, line, f"intent {name!r} needs a reply (small talk), a topic or passages, or out_of_scope: true"
        )
    if (reply is not None or out_of_scope) and (topic is not None or passages):
        raise KnowledgeError(path, line, f"intent {name!r}: small talk and out-of-scope cannot route to knowledge")
    try:
        role = parse_role(data.get("role"))
    except ValueError as exc:
        raise KnowledgeError(path, line, f"intent {name!r}: {exc}") from exc
    return Intent(
        name=name,
        examples=tuple(str(e) for e in examples),
        reply=str(reply).strip() if reply is not None else None,
        topic=topic,
        role=role,
        passages=tuple(str(p) for p in passages),
        compare=bool(data.get("compare", False)),
        needs_role=bool(data.get("needs_role", False)),
        out_of_scope=out_of_scope,
        path=str(path),
        line=line,
    )


def check_references(intents: Iterable[Intent], knowledge: KnowledgeBase) -> None:
    """Raise KnowledgeError for an intent that points at a passage or topic the knowledge lacks."""
    topics = set(knowledge.topics())
    for intent in intents:
        for passage_id in intent.passages:
            if knowledge.by_id(passage_id) is None:
                raise KnowledgeError(intent.path, intent.line, f"intent {intent.name!r}: unknown passage {passage_id!r}")
        if intent.topic is not None and intent.topic not in topics:
            raise KnowledgeError(intent.path, intent.line, f"intent {intent.name!r}: unknown topic {intent.topic!r}")


class IntentMatcher:
    """Match a message against every intent's examples with a rapidfuzz scorer."""

    def __init__(
        self,
        intents: Iterable[Intent],
        *,
        prepare: Callable[[str], str] = normalize,
        scorer: Scorer = fuzz.ratio,
        score_cutoff: float = 86.0,
    ) -> None:
        self.prepare = prepare
        self.scorer = scorer
        self.score_cutoff = score_cutoff
        self._choices: list[str] = []
        self._owners: list[Intent] = []
        for intent in intents:
            for example in intent.examples:
                prepared = prepare(example)
                if prepared:
                    self._choices.append(prepared)
                    self._owners.append(intent)

    def match(self, text: str, *, score_cutoff: float | None = None) -> IntentMatch | None:
        """Return the best intent for already-prepared text, or None below the cut-off."""
        if not text or not self._choices:
            return None
        cutoff = self.score_cutoff if score_cutoff is None else score_cutoff
        best = process.extractOne(text, self._choices, scorer=self.scorer, score_cutoff=cutoff)
        if best is None:
            return None
        example, score, index = best
        return IntentMatch(self._owners[index], example, float(score) / 100.0)
