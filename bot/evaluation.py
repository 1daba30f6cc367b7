"""Evaluation: run a labelled question set through the engine and measure what it gets right."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence

import yaml

from bot.engine import BOTH_ROLES, Answer, Conversation, Engine
from bot.knowledge import KnowledgeError, parse_role

CATEGORIES = ("direct", "everyday", "typo", "keyword", "comparison", "out-of-scope", "follow-up")
FALLBACK = "fallback"
DECLINED = frozenset({FALLBACK, "smalltalk"})
"""Answer kinds that take nothing from the knowledge: right for an out-of-scope case. A small-talk reply
("ok" -> "Glad that helps", "are you a bot?" -> what the bot is) declines as honestly as a fallback."""


@dataclass(frozen=True)
class Case:
    """One labelled question, or a short conversation judged on its last turn."""

    turns: tuple[str, ...]
    category: str
    pairs: frozenset[tuple[str, str | None]] = frozenset()
    compare: str | None = None
    fallback: bool = False
    line: int = 0

    @property
    def question(self) -> str:
        return " → ".join(self.turns)


@dataclass(frozen=True)
class Outcome:
    case: Case
    answer: Answer
    hit1: bool
    hit3: bool

    @property
    def answered(self) -> str:
        a = self.answer
        if a.kind == FALLBACK:
            return "fallback"
        if not a.sources:
            return a.kind
        cited = ", ".join(f"{s.topic}/{s.role or 'both'}" for s in a.sources)
        return f"{a.kind}: {cited}"


@dataclass
class Report:
    """Every figure the harness reports, computed from the outcomes of one run."""

    name: str
    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def in_scope(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.case.fallback]

    @property
    def out_of_scope(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.case.fallback]

    def rate(self, outcomes: Sequence[Outcome], attr: str = "hit1") -> float:
        return sum(getattr(o, attr) for o in outcomes) / len(outcomes) if outcomes else 0.0

    @property
    def hit1(self) -> float:
        return self.rate(self.in_scope)

    @property
    def hit3(self) -> float:
        return self.rate(self.in_scope, "hit3")

    @property
    def fallback_recall(self) -> float:
        oos = self.out_of_scope
        return sum(o.answer.kind in DECLINED for o in oos) / len(oos) if oos else 1.0

    @property
    def fallback_precision(self) -> float:
        fallbacks = [o for o in self.outcomes if o.answer.kind == FALLBACK]
        return sum(o.case.fallback for o in fallbacks) / len(fallbacks) if fallbacks else 1.0

    @property
    def false_fallback(self) -> float:
        ins = self.in_scope
        return sum(o.answer.kind == FALLBACK for o in ins) / len(ins) if ins else 0.0

    def by_category(self) -> dict[str, list[Outcome]]:
        groups: dict[str, list[Outcome]] = defaultdict(list)
        for outcome in self.outcomes:
            groups[outcome.case.category].append(outcome)
        return dict(sorted(groups.items(), key=lambda kv: CATEGORIES.index(kv[0]) if kv[0] in CATEGORIES else 99))

    def category_hit1(self, category: str) -> float:
        return self.rate(self.by_category().get(category, []))

    def role_confusions(self) -> list[Outcome]:
        """In-scope misses that answered an expected topic for the wrong role."""
        confused = []
        for o in self.in_scope:
            if o.hit1 or not o.answer.sources:
                continue
            first = o.answer.sources[0]
            topics = {t for t, _ in o.case.pairs} | ({o.case.compare} if o.case.compare else set())
            if first.topic in topics:
                confused.append(o)
        return confused

    def topic_confusion(self) -> Counter[tuple[str, str]]:
        """Count (expected topic, answered topic) over in-scope questions."""
        counts: Counter[tuple[str, str]] = Counter()
        for o in self.in_scope:
            expected = o.case.compare or sorted(t for t, _ in o.case.pairs)[0]
            answered = o.answer.sources[0].topic if o.answer.sources and o.answer.kind != FALLBACK else FALLBACK
            counts[(expected, answered)] += 1
        return counts

    def misses(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.hit1]

    def comparisons_cite_both(self) -> float:
        rows = [o for o in self.outcomes if o.case.category == "comparison"]
        return sum(_cites_both(o.answer) for o in rows) / len(rows) if rows else 1.0


def _cites_both(answer: Answer) -> bool:
    roles = {s.role for s in answer.sources}
    return None in roles or set(BOTH_ROLES) <= roles


def load_cases(path: Path) -> list[Case]:
    """Load a labelled question set (see tests/eval/FORMAT.md); raise KnowledgeError on a bad entry."""
    try:
        root = yaml.compose(path.read_text(encoding="utf-8"), Loader=yaml.SafeLoader)
    except (OSError, UnicodeDecodeError) as exc:
        raise KnowledgeError(path, None, f"cannot read: {exc}") from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise KnowledgeError(path, mark.line + 1 if mark else None, f"invalid YAML: {exc}") from exc
    if root is None or not isinstance(root, yaml.SequenceNode):
        raise KnowledgeError(path, None, "expected a list of questions")
    loader = yaml.SafeLoader("")
    cases = []
    for node in root.value:
        line = node.start_mark.line + 1
        data: Any = loader.construct_document(node)
        try:
            cases.append(_case_from(data, line))
        except (ValueError, TypeError) as exc:
            raise KnowledgeError(path, line, str(exc)) from exc
    return cases


def _case_from(data: Any, line: int) -> Case:
    if not isinstance(data, dict):
        raise ValueError("each entry must be a mapping with q or turns, category and expect")
    turns = data.get("turns") or ([data["q"]] if "q" in data else None)
    if not turns or not all(isinstance(t, str) for t in turns):
        raise ValueError("entry needs 'q' (text) or 'turns' (list of text)")
    category = str(data.get("category", "direct"))
    expect = data.get("expect")
    if expect == FALLBACK:
        return Case(tuple(turns), category, fallback=True, line=line)
    if isinstance(expect, dict) and "compare" in expect:
        return Case(tuple(turns), category, compare=str(expect["compare"]), line=line)
    if isinstance(expect, list) and expect:
        pairs = set()
        for pair in expect:
            if not isinstance(pair, list) or len(pair) != 2:
                raise ValueError(f"expected [topic, role] pairs, got {pair!r}")
            pairs.add((str(pair[0]), parse_role(pair[1])))
        return Case(tuple(turns), category, pairs=frozenset(pairs), line=line)
    raise ValueError("'expect' must be fallback, {compare: TOPIC} or a list of [topic, role] pairs")


def judge(case: Case, answer: Answer) -> tuple[bool, bool]:
    """Return (hit@1, hit@3) for one answer."""
    if case.fallback:
        ok = answer.kind in DECLINED
        return ok, ok
    if answer.kind == FALLBACK or not answer.sources:
        return False, False
    if case.compare is not None:
        cited = {(s.topic, s.role) for s in answer.sources}
        ok = answer.sources[0].topic == case.compare and all((case.compare, r) in cited for r in BOTH_ROLES)
        ranked = [s.topic for s in answer.sources] + [s.topic for s in answer.candidates]
        return ok, ok or case.compare in _first_distinct(ranked, 3)
    first = answer.sources[0]
    hit1 = (first.topic, first.role) in case.pairs
    ranked_pairs = [(s.topic, s.role) for s in answer.sources] + [(s.topic, s.role) for s in answer.candidates]
    hit3 = hit1 or any(p in case.pairs for p in _first_distinct(ranked_pairs, 3))
    return hit1, hit3


def _first_distinct(items: Iterable[Any], n: int) -> list[Any]:
    seen: list[Any] = []
    for item in items:
        if item not in seen:
            seen.append(item)
        if len(seen) == n:
            break
    return seen


def evaluate(engine: Engine, cases: Iterable[Case], *, name: str = "") -> Report:
    """Ask every case in a fresh conversation and judge the last turn."""
    report = Report(name)
    for case in cases:
        conversation = Conversation()
        answer = None
        for turn in case.turns:
            answer = engine.ask(turn, conversation)
        assert answer is not None
        hit1, hit3 = judge(case, answer)
        report.outcomes.append(Outcome(case, answer, hit1, hit3))
    return report


def format_report(report: Report, *, show_misses: bool = True) -> str:
    """Render a report as plain-text tables."""
    lines = [f"== {report.name} ({len(report.outcomes)} questions) =="]
    lines.append(f"{'category':<14}{'n':>5}{'hit@1':>9}{'hit@3':>9}")
    for category, outcomes in report.by_category().items():
        lines.append(
            f"{category:<14}{len(outcomes):>5}{report.rate(outcomes):>9.1%}{report.rate(outcomes, 'hit3'):>9.1%}"
        )
    lines.append(f"{'in-scope':<14}{len(report.in_scope):>5}{report.hit1:>9.1%}{report.hit3:>9.1%}")
    lines.append("")
    chatted = sum(o.answer.kind != FALLBACK for o in report.out_of_scope if o.hit1)
    lines.append(
        f"fallback recall (out-of-scope answered with fallback, or small talk: {chatted}): {report.fallback_recall:.1%}"
    )
    lines.append(f"fallback precision: {report.fallback_precision:.1%}")
    lines.append(f"false fallback (in-scope sent to fallback): {report.false_fallback:.1%}")
    lines.append(f"comparisons citing both roles: {report.comparisons_cite_both():.1%}")
    confused = report.role_confusions()
    lines.append(f"role confusion (right topic, wrong role): {len(confused)}")
    if show_misses and report.misses():
        lines.append("")
        lines.append("misses:")
        for o in report.misses():
            expected = (
                "fallback" if o.case.fallback
                else f"compare {o.case.compare}" if o.case.compare
                else ", ".join(f"{t}/{r or 'both'}" for t, r in sorted(o.case.pairs, key=str))
            )
            lines.append(f"  [{o.case.category}] {o.case.question!r}")
            lines.append(f"      expected {expected}; answered {o.answered}")
    return "\n".join(lines)


def plot_report(reports: Sequence[Report], path: Path) -> None:
    """Draw per-category hit@1 and the topic confusion matrix to a PNG (needs matplotlib)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 1 + len(reports), figsize=(6 + 5 * len(reports), 5))
    bars = axes[0]
    categories = [c for c in CATEGORIES if any(c in r.by_category() for r in reports)]
    width = 0.8 / max(1, len(reports))
    for i, report in enumerate(reports):
        values = [report.category_hit1(c) for c in categories]
        bars.bar([x + i * width for x in range(len(categories))], values, width, label=report.name)
    bars.set_xticks([x + width * (len(reports) - 1) / 2 for x in range(len(categories))])
    bars.set_xticklabels(categories, rotation=30, ha="right")
    bars.set_ylim(0, 1.05)
    bars.set_ylabel("hit@1")
    bars.legend()
    bars.set_title("Per category")
    for ax, report in zip(axes[1:], reports):
        counts = report.topic_confusion()
        labels = sorted({t for pair in counts for t in pair})
        grid = [[counts.get((e, a), 0) for a in labels] for e in labels]
        ax.imshow(grid, cmap="Blues")
        ax.set_xticks(range(len(labels)))
        ax.set_xticklabels(labels, rotation=60, ha="right", fontsize=7)
        ax.set_yticks(range(len(labels)))
        ax.set_yticklabels(labels, fontsize=7)
        ax.set_xlabel("answered")
        ax.set_ylabel("expected")
        ax.set_title(f"Topic confusion: {report.name}")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
