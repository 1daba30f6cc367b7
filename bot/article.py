"""Articles to import: Markdown with topic and role headings, or plain paragraphs, read into drafts."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.knowledge import ROLES, parse_role, slugify
from bot.language import find_roles, normalize

_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_EMPHASIS = re.compile(r"(\*\*|__|\*|`)")
_BOTH = {"both", "both roles", "both-roles", "general", "common"}


class ArticleError(ValueError):
    """An article that cannot be split into passages; the message names the line."""

    def __init__(self, line: int, reason: str) -> None:
        self.line = line
        self.reason = reason
        super().__init__(f"line {line}: {reason}")


@dataclass(frozen=True)
class Draft:
    """A passage read from an article, not yet validated or stored."""

    topic: str
    role: str | None
    text: str
    line: int = 0
    questions: tuple[str, ...] = ()


@dataclass(frozen=True)
class Article:
    """What an article file holds: its title (if it has one) and its passages in reading order."""

    title: str
    drafts: tuple[Draft, ...]


def looks_like_markdown(text: str) -> bool:
    """Tell a Markdown article (it has ## topic headings) from plain paragraphs."""
    return any(_HEADING.match(line) and line.startswith("##") for line in text.splitlines())


def heading_role(heading: str) -> str | None:
    """Read a role subheading ('IT Project Manager', 'IT Manager', 'Both'); ValueError otherwise."""
    cleaned = _plain(heading).strip().rstrip(":").strip()
    if cleaned.lower() in _BOTH:
        return None
    if slugify(cleaned) in ROLES:
        return slugify(cleaned)
    mentions = find_roles(normalize(cleaned))
    if len(mentions.roles) == 1 and len(mentions.remainder.split()) <= 2:
        return mentions.roles[0]
    return parse_role(cleaned)  # raises ValueError naming the known roles


def parse_markdown(text: str, *, topic: str | None = None, role: str | None = None) -> Article:
    """Split Markdown into one draft per role subsection (### under ##), or per topic without one.

    `topic` is used for text before the first ## heading (default 'overview'); `role` for topic
    text that has no role subheading (default: both roles).
    """
    title = ""
    current_topic = slugify(topic) if topic else "overview"
    current_role = role
    drafts: list[Draft] = []
    lines: list[str] = []
    start = 0

    def flush() -> None:
        nonlocal start
        body = _paragraphs(lines)
        if body:
            drafts.append(Draft(current_topic, current_role, "\n\n".join(body), line=start))
        lines.clear()
        start = 0

    for number, raw in enumerate(text.splitlines(), start=1):
        match = _HEADING.match(raw)
        if match is None:
            if not start and raw.strip():
                start = number
            lines.append(raw)
            continue
        level, heading = len(match.group(1)), _plain(match.group(2)).strip()
        if level == 1:
            flush()
            title = title or heading
        elif level == 2:
            flush()
            current_topic = slugify(heading)
            current_role = role
            if not current_topic:
                raise ArticleError(number, f"topic heading {raw.strip()!r} has no words")
        elif level == 3:
            flush()
            try:
                current_role = heading_role(heading)
            except ValueError:
                raise ArticleError(
                    number, f"role heading {raw.strip()!r} is not a role (IT Project Manager, IT Manager or Both)"
                ) from None
        else:
            lines.append(heading)  # a deeper heading is part of the text it introduces
    flush()
    return Article(title=title, drafts=tuple(drafts))


def parse_paragraphs(text: str, *, topic: str, role: str | None) -> Article:
    """Split plain text into one draft per paragraph (blank-line separated), all on one topic and role."""
    drafts: list[Draft] = []
    block: list[str] = []
    start = 0
    for number, raw in enumerate([*text.splitlines(), ""], start=1):
        if raw.strip():
            if not block:
                start = number
            block.append(raw)
        elif block:
            drafts.append(Draft(slugify(topic), role, " ".join(" ".join(block).split()), line=start))
            block = []
    return Article(title="", drafts=tuple(drafts))


def _paragraphs(lines: list[str]) -> list[str]:
    """Join Markdown lines into paragraphs of plain text: bullets stay one per line."""
    paragraphs: list[str] = []
    block: list[str] = []
    for raw in [*lines, ""]:
        line = raw.strip()
        if not line:
            if block:
                paragraphs.append("\n".join(block) if any(b.startswith("- ") for b in block) else " ".join(block))
                block = []
            continue
        bullet = re.match(r"^(?:[-*+]|\d+[.)])\s+(.*)$", line)
        block.append(f"- {_plain(bullet.group(1))}" if bullet else _plain(line))
    return paragraphs


def _plain(text: str) -> str:
    """Drop Markdown markup a reader of the answer should not see: links, emphasis, code ticks."""
    return " ".join(_EMPHASIS.sub("", _LINK.sub(r"\1", text)).split())
