"""The `rolebot` command: argument parsing and the subcommands that wrap the engine."""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Sequence

from bot.engine import Answer, Conversation, Engine, load_engine
from bot.knowledge import KnowledgeError, dump_passages, load_knowledge, load_passage_file, parse_role, passage_record
from bot.settings import Settings
from bot.store import ValidationError, add_passage

if TYPE_CHECKING:
    from bot.questionlog import QuestionLog

USAGE_ERROR = 2


class CommandError(Exception):
    """A user-facing failure: one line on stderr and an exit code."""

    def __init__(self, message: str, code: int = USAGE_ERROR) -> None:
        super().__init__(message)
        self.code = code


def _engine(settings: Settings) -> Engine:
    try:
        return load_engine(settings.knowledge_dir, settings.intents_dir, model_cache=settings.cache_dir)
    except KnowledgeError as exc:
        raise CommandError(str(exc)) from exc


def _read_text(words: Sequence[str]) -> str:
    """The passage text: '-' reads stdin; several unquoted words are joined with spaces, as `ask` does."""
    return sys.stdin.read() if list(words) == ["-"] else " ".join(words)


def _answer_logger(settings: Settings, channel: str) -> Callable[[Answer], None]:
    """Return a function that logs answers to the question log; a broken log warns once, never stops answers."""
    from bot.questionlog import QuestionLog, QuestionLogError

    try:
        question_log: QuestionLog | None = QuestionLog(settings.data_dir)
    except (OSError, sqlite3.Error, QuestionLogError) as exc:
        print(f"rolebot: warning: questions are not being logged: {exc}", file=sys.stderr)
        question_log = None

    def log_answer(answer: Answer) -> None:
        nonlocal question_log
        if question_log is None:
            return
        try:
            question_log.log_answer(answer, channel)
        except (OSError, sqlite3.Error) as exc:
            print(f"rolebot: warning: questions are not being logged: {exc}", file=sys.stderr)
            question_log = None

    return log_answer


def cmd_chat(args: argparse.Namespace, settings: Settings) -> int:
    from bot.console import run_console
    from bot.reload import KnowledgeWatcher

    engine = _engine(settings)
    _log_reload_errors()
    with KnowledgeWatcher(engine, settings.knowledge_dir):
        return run_console(
            engine, history=settings.data_dir / "console_history", on_answer=_answer_logger(settings, "console")
        )


def _log_reload_errors() -> None:
    """Show hot-reload problems as one line in the CLI's error style, not as bare log text."""
    import logging

    log = logging.getLogger("rolebot.reload")
    if not any(getattr(h, "rolebot_console", False) for h in log.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("rolebot: error: %(message)s"))
        handler.setLevel(logging.WARNING)
        handler.rolebot_console = True  # type: ignore[attr-defined]
        log.addHandler(handler)


def cmd_ask(args: argparse.Namespace, settings: Settings) -> int:
    from bot.console import render

    engine = _engine(settings)
    log_answer = _answer_logger(settings, "cli")
    if args.question == ["-"]:
        conversation = Conversation()
        for raw in sys.stdin:
            line = raw.strip()
            if not line:
                conversation = Conversation()  # an empty line starts a new conversation
                continue
            answer = engine.ask(line, conversation)
            log_answer(answer)
            if args.json:
                print(json.dumps(answer.to_dict(), ensure_ascii=False), flush=True)
            else:
                print(f"> {line}\n{render(answer)}\n", flush=True)
        return 0
    question = " ".join(args.question).strip()
    if not question:
        raise CommandError("the question is empty")
    answer = engine.ask(question)
    log_answer(answer)
    print(json.dumps(answer.to_dict(), ensure_ascii=False) if args.json else render(answer))
    return 0


def cmd_add(args: argparse.Namespace, settings: Settings) -> int:
    _engine(settings)  # refuse to add to a knowledge base that does not load
    text = _read_text(args.text)
    try:
        passage = add_passage(
            settings.knowledge_dir,
            topic=args.topic,
            role=args.role,
            text=text,
            questions=args.question or (),
            allow_duplicate=args.force,
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
    print(f"{len(rows)} passage{'s' if len(rows) != 1 else ''}")
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


def cmd_import(args: argparse.Namespace, settings: Settings) -> int:
    from bot.article import ArticleError, looks_like_markdown, parse_markdown, parse_paragraphs
    from bot.store import import_passages

    _engine(settings)  # refuse to import into knowledge that does not load
    name = "stdin" if args.file == "-" else args.file
    try:
        text = sys.stdin.read() if args.file == "-" else Path(args.file).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CommandError(f"cannot read {name}: {exc}") from exc
    try:
        role = parse_role(args.role) if args.role is not None else None
    except ValueError as exc:
        raise CommandError(str(exc)) from exc
    try:
        if looks_like_markdown(text):
            article = parse_markdown(text, topic=args.topic, role=role)
        elif args.topic is None or args.role is None:
            raise CommandError(f"{name} has no ## topic headings: give --topic and --role to import its paragraphs")
        else:
            article = parse_paragraphs(text, topic=args.topic, role=role)
    except ArticleError as exc:
        raise CommandError(f"{name}:{exc.line}: {exc.reason}") from exc
    if not article.drafts:
        raise CommandError(f"{name} holds no text to import")
    stem = Path(args.file).stem if args.file != "-" else "imported"
    try:
        report = import_passages(
            settings.knowledge_dir,
            article.drafts,
            into=args.into or stem,
            source=article.title or stem,
            allow_duplicate=args.force,
        )
    except (ValidationError, KnowledgeError) as exc:
        raise CommandError(f"{name}: {exc}") from exc
    for passage in report.added:
        print(f"added   {passage.id} ({passage.role_name}, {passage.topic_title})")
    for draft, duplicate in report.skipped:
        print(f"skipped {name}:{draft.line} ({draft.topic}): near-duplicate of {duplicate.id}")
    where = f" to {report.path}" if report.added else ""
    print(f"{len(report.added)} added{where}, {len(report.skipped)} skipped as near-duplicates"
          + (" (--force keeps them)" if report.skipped else ""))
    return 0


def cmd_remove(args: argparse.Namespace, settings: Settings) -> int:
    from bot.store import remove_passage

    _engine(settings)
    try:
        passage = remove_passage(settings.knowledge_dir, settings.intents_dir, args.id, force=args.force)
    except (ValidationError, KnowledgeError) as exc:
        raise CommandError(str(exc)) from exc
    print(f"removed {passage.id} ({passage.role_name}, {passage.topic_title}) from {passage.path}")
    return 0


EDIT_HEADER = """# Edit this passage, save and close the editor. It is checked before anything is saved.
# role: it-project-manager, it-manager or null (both). Empty the file to cancel.
"""


def cmd_edit(args: argparse.Namespace, settings: Settings) -> int:
    from bot.intents import load_intents
    from bot.store import intent_references, replace_passage

    engine = _engine(settings)
    original = engine.knowledge.by_id(args.id)
    if original is None:
        raise CommandError(f"no passage with id {args.id!r}")
    pointing = [r for r in intent_references(load_intents(settings.intents_dir), engine.knowledge, original)
                if not r.by_topic]
    if pointing and not args.force:
        raise CommandError(f"refusing to edit {args.id!r}: {pointing[0].describe()}; use --force to go ahead")
    editor = os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"
    with tempfile.TemporaryDirectory(prefix="rolebot-edit-") as folder:
        path = Path(folder) / f"{original.id}.yaml"
        path.write_text(EDIT_HEADER + dump_passages(original.source, [original]), encoding="utf-8")
        try:
            status = subprocess.call([*shlex.split(editor), str(path)])
        except OSError as exc:
            raise CommandError(f"cannot run the editor {editor!r}: {exc}") from exc
        if status != 0:
            raise CommandError(f"the editor exited with status {status}; nothing saved")
        try:
            edited = load_passage_file(path)
        except KnowledgeError as exc:
            raise CommandError(f"line {exc.line}: {exc.reason}; nothing saved" if exc.line else
                               f"{exc.reason}; nothing saved") from exc
    if not edited:
        print("edit cancelled; nothing saved")
        return 0
    if len(edited) != 1:
        raise CommandError(f"the file must hold exactly one passage, not {len(edited)}; nothing saved")
    if passage_record(edited[0]) == passage_record(original):
        print(f"no changes to {original.id}")
        return 0
    try:
        stored = replace_passage(
            settings.knowledge_dir, settings.intents_dir, original, edited[0], force=args.force
        )
    except (ValidationError, KnowledgeError) as exc:
        raise CommandError(str(exc)) from exc
    print(f"saved {stored.id} ({stored.role_name}, {stored.topic_title}) in {stored.path}")
    return 0


def cmd_check(args: argparse.Namespace, settings: Settings) -> int:
    from bot.intents import load_intents
    from bot.store import check_folder

    problems = check_folder(settings.knowledge_dir, settings.intents_dir)
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        print(f"{len(problems)} problem{'s' if len(problems) != 1 else ''} found", file=sys.stderr)
        return 1
    knowledge = load_knowledge(settings.knowledge_dir)
    intents = load_intents(settings.intents_dir)
    files = len({p.path for p in knowledge.passages})
    print(f"ok: {len(knowledge.passages)} passages in {files} file{'s' if files != 1 else ''}, {len(knowledge.topics())} topics, "
          f"{len(intents)} intents")
    return 0


def _question_log(settings: Settings) -> QuestionLog:
    from bot.questionlog import QuestionLog, QuestionLogError

    try:
        return QuestionLog(settings.data_dir)
    except (OSError, sqlite3.Error, QuestionLogError) as exc:
        raise CommandError(f"cannot open the question log in {settings.data_dir}: {exc}") from exc


def cmd_review(args: argparse.Namespace, settings: Settings) -> int:
    from bot.questionlog import QuestionLogError

    question_log = _question_log(settings)
    if args.promote is not None:
        if not args.to:
            raise CommandError("--promote needs --to PASSAGE_ID")
        try:
            passage, added = question_log.promote(args.promote, args.to, settings.knowledge_dir)
        except (QuestionLogError, ValidationError, KnowledgeError) as exc:
            raise CommandError(str(exc)) from exc
        phrasing = passage.questions[-1] if added else "the question"
        print(f"promoted {args.promote}: {phrasing!r} is now a phrasing of {passage.id}"
              + ("" if added else " (it already was)"))
        return 0
    if args.dismiss is not None:
        try:
            hidden = question_log.dismiss(args.dismiss)
        except QuestionLogError as exc:
            raise CommandError(str(exc)) from exc
        print(f"dismissed {args.dismiss} ({hidden} logged question{'s' if hidden != 1 else ''})")
        return 0
    if args.to:
        raise CommandError("--to goes with --promote N")
    items = question_log.review(limit=args.limit)
    if not items:
        print("nothing to review: no fallbacks, low-confidence or thumbs-down answers are open")
        return 0
    print(f"{'N':>5}  {'asked':>5}  {'why':<34} {'last answer':<30} question")
    for item in items:
        last = f"{item.last_kind} {item.last_confidence:.2f}" + (f" {item.last_source}" if item.last_source else "")
        print(f"{item.number:>5}  {item.asked:>5}  {item.reasons:<34} {last:<30} {item.question}")
    print("\nrolebot review --promote N --to PASSAGE_ID   adds question N as a phrasing of that passage")
    print("rolebot review --dismiss N                   hides it")
    return 0


def cmd_stats(args: argparse.Namespace, settings: Settings) -> int:
    from bot.engine import KINDS

    stats = _question_log(settings).stats()
    if not stats.total:
        print("no questions logged yet")
        return 0
    days = sorted({d.day for d in stats.by_day})[-args.days:]
    counts = {(d.day, d.kind): d.count for d in stats.by_day}
    kinds = [k for k in KINDS if k in stats.by_kind] + sorted(set(stats.by_kind) - set(KINDS))
    print(f"{'day':<10}  {'total':>6}" + "".join(f"  {k:>10}" for k in kinds))
    for day in days:
        row = [counts.get((day, k), 0) for k in kinds]
        print(f"{day:<10}  {sum(row):>6}" + "".join(f"  {n:>10}" for n in row))
    print(f"{'all days':<10}  {stats.total:>6}" + "".join(f"  {stats.by_kind[k]:>10}" for k in kinds))
    fallback = f"{stats.fallback_rate:.1%}" if stats.fallback_rate is not None else "n/a"
    helpful = f"{stats.helpful_rate:.1%} of {stats.rated} rated" if stats.helpful_rate is not None else "n/a (no feedback yet)"
    print(f"\nfallback rate: {fallback} ({stats.fallbacks} of {stats.total})   helpful rate: {helpful}")
    return 0


def cmd_telegram(args: argparse.Namespace, settings: Settings) -> int:
    from bot.telegram_bot import run_from_cli

    return run_from_cli(args, settings)


def _positive(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"{value!r} must be 1 or more")
    return number


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
    add.add_argument("--force", action="store_true", help="keep it even if it nearly duplicates a passage")
    add.add_argument("text", nargs="+", help="the passage text (quoting is optional), or '-' to read it from stdin")
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

    imp = sub.add_parser("import", help="import an article: Markdown (## topic, ### role) or plain paragraphs")
    imp.add_argument("file", help="the article file, or '-' for stdin")
    imp.add_argument("--topic", help="topic of plain paragraphs (Markdown: of text before the first ## heading)")
    imp.add_argument("--role", help="role of plain paragraphs (Markdown: of topics with no ### role heading)")
    imp.add_argument("--into", metavar="NAME", help="knowledge file to add to, knowledge/NAME.yaml (default: FILE's name)")
    imp.add_argument("--force", action="store_true", help="keep near-duplicates of existing passages too")
    imp.set_defaults(func=cmd_import)

    rm = sub.add_parser("remove", help="remove a passage")
    rm.add_argument("id", help="the passage id (see `rolebot passages`)")
    rm.add_argument("--force", action="store_true", help="remove it even if an intent points at it")
    rm.set_defaults(func=cmd_remove)

    edit = sub.add_parser("edit", help="edit a passage in $EDITOR; checked before it is saved")
    edit.add_argument("id", help="the passage id (see `rolebot passages`)")
    edit.add_argument("--force", action="store_true", help="save even if an intent points at it, or a near-duplicate")
    edit.set_defaults(func=cmd_edit)

    check = sub.add_parser("check", help="validate knowledge and intents; exit 1 with file:line messages")
    check.set_defaults(func=cmd_check)

    review = sub.add_parser("review", help="list logged questions that need attention, most frequent first")
    review.add_argument("--limit", type=_positive, default=20, help="how many to list (default 20)")
    review.add_argument("--promote", type=int, metavar="N", help="add question N as a phrasing of --to PASSAGE_ID")
    review.add_argument("--to", metavar="PASSAGE_ID", help="the passage that answers question N")
    review.add_argument("--dismiss", type=int, metavar="N", help="hide question N from review")
    review.set_defaults(func=cmd_review)

    stats = sub.add_parser("stats", help="questions by day and answer kind, fallback and helpful rates")
    stats.add_argument("--days", type=_positive, default=14, help="how many recent days to list (default 14)")
    stats.set_defaults(func=cmd_stats)

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
