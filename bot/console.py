"""The console chat: a read-answer loop around `Engine.ask`, with line editing and history."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Callable, TextIO

from bot.engine import Answer, Conversation, Engine

HELP = """Ask about IT Project Managers and IT Managers in plain words. Commands:
  /help      this help
  /sources   why the last answer: passages, scores, matched intent
  /reset     start a new conversation
  /quit      leave (Ctrl-D works too)"""


def render(answer: Answer) -> str:
    """Plain-text answer with its source line, as the console and `rolebot ask` print it."""
    return f"{answer.text}\n[{answer.citation}]" if answer.citation else answer.text


def explain(answer: Answer | None) -> str:
    """Describe why the last answer was given."""
    if answer is None:
        return "No answer yet."
    lines = [f"kind: {answer.kind}   confidence: {answer.confidence:.2f}"]
    if answer.intent:
        lines.append(f"matched intent: {answer.intent}")
    for source in answer.sources:
        lines.append(f"cited   {source.id:<34} {source.score:.3f}")
    ranked = [source for source in answer.candidates if source.score > 0]
    for source in ranked:
        lines.append(f"ranked  {source.id:<34} {source.score:.3f}")
    if answer.candidates and not ranked:
        lines.append("ranked  (no passage shares words with this question; it was read in context)")
    return "\n".join(lines)


def _enable_line_editing(history: Path) -> None:
    try:
        import readline
    except ImportError:  # pragma: no cover - Windows without pyreadline
        return
    try:
        history.parent.mkdir(parents=True, exist_ok=True)
        if history.exists():
            readline.read_history_file(history)
    except OSError:
        return
    readline.set_history_length(1000)
    import atexit

    atexit.register(lambda: _save_history(readline, history))


def _save_history(readline: object, history: Path) -> None:
    try:
        readline.write_history_file(history)  # type: ignore[attr-defined]
    except OSError:
        pass


def run_console(
    engine: Engine,
    *,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
    history: Path | None = None,
    on_answer: Callable[[Answer], None] | None = None,
) -> int:
    """Chat until /quit or end of input; return the exit code. `on_answer` sees every answer (logging)."""
    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout
    interactive = stdin.isatty() and stdout.isatty()
    if interactive and history is not None:
        _enable_line_editing(history)
    conversation = Conversation()
    print("rolebot: ask me about IT Project Managers and IT Managers. /help for commands.", file=stdout)
    while True:
        try:
            line = input("you> ") if interactive else stdin.readline()
        except (EOFError, KeyboardInterrupt):
            print(file=stdout)
            return 0
        if not interactive and line == "":
            return 0
        text = line.strip()
        if not text:
            continue
        if not interactive:
            print(f"you> {text}", file=stdout)
        command = text.lower()
        if command in ("/quit", "/exit", "/q"):
            return 0
        if command == "/help":
            reply = HELP
        elif command == "/sources":
            reply = explain(conversation.last)
        elif command == "/reset":
            conversation.reset()
            reply = "New conversation."
        elif command.startswith("/"):
            reply = f"Unknown command {text.split()[0]}. /help lists the commands."
        else:
            answer = engine.ask(text, conversation)
            if on_answer is not None:
                on_answer(answer)
            reply = render(answer)
        print(f"bot> {reply}\n", file=stdout, flush=True)
