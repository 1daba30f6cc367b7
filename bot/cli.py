"""The `rolebot` command: argument parsing and the subcommands that wrap the engine."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Callable, Sequence

from bot.engine import Conversation, Engine, load_engine
from bot.knowledge import KnowledgeError, load_knowledge
from bot.settings import Settings
from bot.store import ValidationError, add_passage

USAGE_ERROR = 2


class CommandError(Exception):
    """A user-facing failure: one line on stderr and an exit code."""

    def __init__(self, message: str, code: int = USAGE_ERROR) -> None:
        super().__init__(message)
        self.code = code


def _engine(settings: Settings) -> Engine:
    try:
        return load_engine(settings.knowledge_dir, settings.intents_dir)
    except KnowledgeError as exc:
        raise CommandError(str(exc)) from exc


def _read_text(value: str) -> str:
    return sys.stdin.read() if value == "-" else value


def cmd_chat(args: argparse.Namespace, settings: Settings) -> int:
    from bot.console import run_console

    return run_console(_engine(settings), history=settings.data_dir / "console_history")


def cmd_ask(args: argparse.Namespace, settings: Settings) -> int:
    from bot.console import render

    engine = _engine(settings)
    if args.question == ["-"]:
        conversation = Conversation()
        for raw in sys.stdin:
            line = raw.strip()
            if not line:
                conversation = Conversation()  # an empty line starts a new conversation
                continue
            answer = engine.ask(line, conversation)
            if args.json:
                print(json.dumps(answer.to_dict(), ensure_ascii=False), flush=True)
            else:
                print(f"> {line}\n{render(answer)}\n", flush=True)
        return 0
    question = " ".join(args.question).strip()
    if not question:
        raise CommandError("the question is empty")
    answer = engine.ask(question)
    print(json.dumps(answer.to_dict(), ensure_ascii=False) if args.json else render(answer))
    return 0


def cmd_add(args: argparse.Namespace, settings: Settings) -> int:
    _engine(settings)  # refuse to add to a knowledge base that does not load
    text = _read_text(args.text)
    try:
        passage = add_passage(
            settings.knowledge_dir, topic=args.topic, role=args.role, text=text, questions=args.question or ()
        )
    except ValidationError as exc:
        raise CommandError(str(exc)) from exc
    except KnowledgeError as exc:
        raise CommandError(str(exc)) from exc
    print(f"added {passage.id} ({passage.role_name}, {passage.topic_title}) to {passage.path}")
    return 0


def cmd_passages(args: argparse.Namespace, settings: Settings) -> int:
    try:
        knowledge = load_knowledge(settings.knowledge_dir)
    except KnowledgeError as exc:
        raise CommandError(str(exc)) from exc
    rows = [p for p in knowledge.passages if (not args.topic or p.topic == args.topic)]
    for p in rows:
        print(f"{p.id:<34} {p.role or 'both':<19} {p.topic:<26} {p.first_words(8)}")
    print(f"{len(rows)} passages")
    return 0


def cmd_eval(args: argparse.Namespace, settings: Settings) -> int:
    from bot.evaluation import evaluate, format_report, load_cases, plot_report

    engine = _engine(settings)
    reports = []
    for path in args.files:
        try:
            cases = load_cases(Path(path))
        except KnowledgeError as exc:
            raise CommandError(str(exc)) from exc
        report = evaluate(engine, cases, name=Path(path).stem)
        reports.append(report)
        print(format_report(report, show_misses=not args.quiet))
        print()
    if args.plot:
        try:
            plot_report(reports, Path(args.plot))
        except ImportError:
            raise CommandError("--plot needs matplotlib: pip install 'rolebot[plot]'") from None
        print(f"plot written to {args.plot}")
    failures = []
    for report in reports:
        if args.min_hit1 is not None and report.hit1 < args.min_hit1:
            failures.append(f"{report.name}: hit@1 {report.hit1:.1%} < {args.min_hit1:.1%}")
        if args.min_category_hit1:
            for spec in args.min_category_hit1:
                category, _, bar = spec.partition("=")
                if report.category_hit1(category) < float(bar):
                    failures.append(f"{report.name}: {category} hit@1 {report.category_hit1(category):.1%} < {float(bar):.1%}")
        if args.min_fallback_recall is not None and report.fallback_recall < args.min_fallback_recall:
            failures.append(f"{report.name}: fallback recall {report.fallback_recall:.1%} < {args.min_fallback_recall:.1%}")
        if args.max_false_fallback is not None and report.false_fallback > args.max_false_fallback:
            failures.append(f"{report.name}: false fallback {report.false_fallback:.1%} > {args.max_false_fallback:.1%}")
    for failure in failures:
        print(f"below the bar: {failure}", file=sys.stderr)
    return 1 if failures else 0


def cmd_telegram(args: argparse.Namespace, settings: Settings) -> int:
    from bot.telegram_bot import run_from_cli

    return run_from_cli(args, settings)


def _fraction(value: str) -> float:
    try:
        number = float(value.rstrip("%")) / (100 if value.endswith("%") else 1)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number") from None
    if not 0 <= number <= 1:
        raise argparse.ArgumentTypeError(f"{value!r} must be between 0 and 1 (or 0% and 100%)")
    return number


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rolebot", description="Answers questions about IT Project Managers and IT Managers."
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    chat = sub.add_parser("chat", help="chat in the console (the default)")
    chat.set_defaults(func=cmd_chat)

    ask = sub.add_parser("ask", help="answer one question, or one a line from stdin with '-'")
    ask.add_argument("question", nargs="+", help="the question, or '-' to read questions from stdin")
    ask.add_argument("--json", action="store_true", help="print one JSON object per answer")
    ask.set_defaults(func=cmd_ask)

    add = sub.add_parser("add", help="add a knowledge passage, answerable at once")
    add.add_argument("--topic", required=True, help="topic slug, e.g. vendor-management (a new one is fine)")
    add.add_argument("--role", required=True, help="it-project-manager, it-manager or both")
    add.add_argument("--question", action="append", help="an alternate phrasing to index with it (repeatable)")
    add.add_argument("text", help="the passage text, or '-' to read it from stdin")
    add.set_defaults(func=cmd_add)

    passages = sub.add_parser("passages", help="list knowledge passages")
    passages.add_argument("--topic", help="only this topic")
    passages.set_defaults(func=cmd_passages)

    ev = sub.add_parser("eval", help="evaluate answers on labelled question sets")
    ev.add_argument("files", nargs="+", help="question set YAML files (see tests/eval/FORMAT.md)")
    ev.add_argument("--min-hit1", type=_fraction, help="fail below this in-scope hit@1 (0.95 or 95%%)")
    ev.add_argument("--min-category-hit1", action="append", metavar="CATEGORY=BAR",
                    help="fail below this hit@1 in one category, e.g. typo=0.9 (repeatable)")
    ev.add_argument("--min-fallback-recall", type=_fraction, help="fail below this out-of-scope fallback rate")
    ev.add_argument("--max-false-fallback", type=_fraction, help="fail above this in-scope fallback rate")
    ev.add_argument("--plot", metavar="FILE.png", help="draw per-category figures and topic confusion")
    ev.add_argument("--quiet", action="store_true", help="leave out the list of misses")
    ev.set_defaults(func=cmd_eval)

    telegram = sub.add_parser("telegram", help="run the Telegram bot (TELEGRAM_BOT_TOKEN)")
    telegram.add_argument("--webhook", metavar="URL", help="public HTTPS URL for webhook mode")
    telegram.add_argument("--listen", metavar="HOST:PORT", default="0.0.0.0:8443", help="webhook listen address")
    telegram.set_defaults(func=cmd_telegram)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    func: Callable[[argparse.Namespace, Settings], int] = getattr(args, "func", cmd_chat)
    try:
        settings = Settings.from_env()
    except ValueError as exc:
        print(f"rolebot: error: {exc}", file=sys.stderr)
        return USAGE_ERROR
    try:
        return func(args, settings)
    except CommandError as exc:
        print(f"rolebot: error: {exc}", file=sys.stderr)
        return exc.code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
