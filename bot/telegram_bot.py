"""The Telegram adapter: python-telegram-bot handlers around `Engine.ask`, and the `rolebot telegram` runner."""

from __future__ import annotations

import argparse
import asyncio
import bisect
import hashlib
import html
import logging
import re
import signal
import sqlite3
import sys
import time
import warnings
from collections import OrderedDict, deque
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, Callable, Coroutine, Iterable, Sequence
from urllib.parse import urlsplit

from telegram import (
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    Message,
    ReplyParameters,
    Update,
)
from telegram.constants import ChatAction, ChatType, MessageEntityType, ParseMode
from telegram.warnings import PTBDeprecationWarning
from telegram.error import BadRequest, InvalidToken, NetworkError, RetryAfter, TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    ApplicationHandlerStop,
    BaseRateLimiter,
    BaseUpdateProcessor,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.console import explain
from bot.engine import Answer, Conversation, Engine, load_engine
from bot.knowledge import KnowledgeError, load_knowledge, slugify, topic_title
from bot.questionlog import QuestionLog, QuestionLogError, ReviewItem
from bot.reload import POLL_INTERVAL, KnowledgeWatcher, apply_knowledge
from bot.settings import Settings
from bot.store import ValidationError, add_passage

log = logging.getLogger(__name__)

MESSAGE_LIMIT = 4096
"""Telegram's limit on a message's text, in UTF-16 code units after entity parsing."""
CALLBACK_DATA_LIMIT = 64
"""Telegram's limit on a button's callback_data, in bytes."""
ALLOWED_UPDATES = ("message", "callback_query")
USAGE_ERROR = 2
FAILURE = 1

START_EXAMPLES = (
    "What does an IT project manager do?",
    "What does an IT manager do?",
    "What is the difference between an IT project manager and an IT manager?",
)
GREETING = (
    "Hi! I answer questions about two jobs that are often confused: the <b>IT Project Manager</b> "
    "and the <b>IT Manager</b>: what each does, the skills they need, how they lead, and how they differ.\n\n"
    "Ask in your own words, or tap an example:"
)
HELP = (
    "Ask me anything about IT Project Managers and IT Managers in plain words; "
    "follow-up questions like <i>and the IT manager?</i> work too.\n\n"
    "/topics - the topics I know; tap one to see both roles on it\n"
    "/compare TOPIC - both roles side by side, e.g. <code>/compare leadership</code>\n"
    "/sources - why I gave the last answer\n"
    "/reset - start a new conversation\n"
    "/help - this help\n\n"
    "In groups, mention me or reply to my message."
)
ADMIN_HELP = (
    "\n\nAs an admin you can also use:\n"
    "/add TOPIC ROLE TEXT - add a passage, e.g. <code>/add budgets it-manager IT managers plan the budget.</code>\n"
    "/review - questions to review, in a private chat"
)
ADD_USAGE = "Usage: <code>/add TOPIC ROLE TEXT</code>, where ROLE is it-project-manager, it-manager or both."
NON_TEXT_HINT = "I can only read text. Type your question, for example: <i>What does an IT manager do?</i>"
FLOOD_NOTICE = "You're sending messages faster than I can answer. Please slow down and try again in a minute."
APOLOGY = "Sorry, something went wrong on my side. Please try again."
EXPIRED_BUTTON = "That button has expired. Please ask again."
NOT_ADMIN = "Sorry, only the bot's admins can add knowledge."
NOT_ADMIN_REVIEW = "Sorry, only the bot's admins can review questions."
REVIEW_IN_PRIVATE = "Send /review to me in a private chat: it lists what people have asked."
REVIEW_NO_LOG = "The question log is not available, so there is nothing to review. The bot's log says why."
REVIEW_EMPTY = "Nothing to review: no fallbacks, low-confidence or thumbs-down answers are open."
REVIEW_HANDLED = "That question was already promoted or dismissed."
FEEDBACK_THANKS = "Thanks for the feedback!"
FEEDBACK_NOT_SAVED = "Sorry, I could not save that. Please try again later."
REVIEW_LIMIT = 8
"""How many questions /review lists at once; the rest follow as these are handled."""
PROMOTE_TARGETS = 4
"""How many passages /review offers to promote a question to: the one it was answered with, then the best-ranked."""
ABSORB_TIMEOUT = 3.0
"""Seconds to wait for the knowledge watcher to load a change the bot itself wrote, before loading it directly."""
COMMANDS = (
    BotCommand("start", "What I can answer"),
    BotCommand("help", "The commands"),
    BotCommand("topics", "The topics I know"),
    BotCommand("compare", "Both roles side by side on a topic"),
    BotCommand("reset", "Start a new conversation"),
)

NO_PREVIEW = LinkPreviewOptions(is_disabled=True)

# Button payloads are "<action>:<argument>", far under the 64-byte limit: questions and topics are
# referred to by a short hash, resolved against what the engine knows, and votes and review items by
# their question-log row id, so every button survives a restart.
ASK, TOPIC, HELPFUL, UNHELPFUL = "q", "t", "f+", "f-"
REVIEW_LIST, REVIEW_ITEM, REVIEW_PROMOTE, REVIEW_DISMISS = "rl", "ri", "rp", "rd"
REVIEW_ACTIONS = frozenset({REVIEW_LIST, REVIEW_ITEM, REVIEW_PROMOTE, REVIEW_DISMISS})
ROW_ID = re.compile(r"[0-9]{1,15}")


# -- formatting ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Block:
    """One piece of a message as the reader sees it: plain text, a style, and what separates it from the last."""

    text: str
    style: str = ""
    """An HTML tag to wrap the text in ("b", "i") or "" for plain text."""
    glue: str = "\n\n"


def utf16_len(text: str) -> int:
    """Count text the way Telegram does: in UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def answer_blocks(answer: Answer) -> list[Block]:
    """Lay an answer out as blocks: note, titled sections, and the source line."""
    blocks: list[Block] = []
    if answer.note:
        blocks.append(Block(answer.note, "i"))
    for section in answer.sections:
        paragraphs = [p.strip() for p in section.text.split("\n\n") if p.strip()]
        if section.title:
            blocks.append(Block(section.title, "b"))
        for index, paragraph in enumerate(paragraphs):
            blocks.append(Block(paragraph, "", "\n" if section.title and index == 0 else "\n\n"))
    if answer.suggestions:
        blocks.append(Block("Did you mean one of these? Tap to ask.", "i"))
    if answer.citation:
        blocks.append(Block(answer.citation, "i"))
    return blocks


def _cut(text: str, limit: int) -> list[str]:
    """Cut plain text into pieces under `limit`: at paragraphs, else lines, sentences, words, characters."""
    if utf16_len(text) <= limit:
        return [text]
    for separator in ("\n\n", "\n", ". ", " "):
        parts = text.split(separator)
        if len(parts) == 1:
            continue
        units = [part + separator for part in parts[:-1]] + [parts[-1]]  # keep each separator
        pieces: list[str] = []
        current = ""
        for unit in units:
            if current and utf16_len(current + unit) > limit:
                pieces.append(current)
                current = unit
            else:
                current += unit
        pieces.append(current)
        return [cut for piece in pieces if piece.strip() for cut in _cut(piece.strip(), limit)]
    hard: list[str] = []  # no boundary at all: cut hard, never inside a character
    chars: list[str] = []
    size = 0
    for char in text:
        width = utf16_len(char)
        if size + width > limit:
            hard.append("".join(chars))
            chars, size = [], 0
        chars.append(char)
        size += width
    return hard + ["".join(chars)]


def render_block(block: Block) -> str:
    """Return one block as Telegram HTML, its text escaped."""
    escaped = html.escape(block.text, quote=False)
    return f"<{block.style}>{escaped}</{block.style}>" if block.style else escaped


def split_message(blocks: Sequence[Block], *, limit: int = MESSAGE_LIMIT) -> list[str]:
    """Pack blocks into HTML messages whose visible text stays under `limit`, breaking between paragraphs.

    A block glued to the next by a single line break (a section title and its first paragraph) moves
    to the next message with it rather than ending a message on its own.
    """
    messages: list[str] = []
    current: list[str] = []
    size = 0
    for position, block in enumerate(blocks):
        cuts = _cut(block.text, limit)
        following = blocks[position + 1] if position + 1 < len(blocks) else None
        kept_with = 0  # room the next block's first piece needs beside this one
        if following is not None and following.glue == "\n" and len(cuts) == 1:
            kept_with = utf16_len(following.glue + _cut(following.text, limit)[0])
        for index, text in enumerate(cuts):
            glue = (block.glue if index == 0 else "") if current else ""
            needed = utf16_len(glue + text) + (kept_with if utf16_len(text) + kept_with <= limit else 0)
            if current and size + needed > limit:
                messages.append("".join(current))
                current, size, glue = [], 0, ""
            current.append(glue + render_block(Block(text, block.style)))
            size += utf16_len(glue + text)
            if index < len(cuts) - 1:  # a block cut in pieces: each piece fills its own message
                messages.append("".join(current))
                current, size = [], 0
    if current:
        messages.append("".join(current))
    return messages


def format_answer(answer: Answer, *, limit: int = MESSAGE_LIMIT) -> list[str]:
    """Render an answer as one or more HTML messages under Telegram's limit."""
    return split_message(answer_blocks(answer), limit=limit)


def short_key(text: str) -> str:
    """Name a question or topic in a button: a stable hash, so it fits and survives restarts."""
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:16]


def button_data(action: str, argument: str) -> str:
    """Build callback_data; refuse anything over Telegram's 64-byte limit."""
    data = f"{action}:{argument}"
    if len(data.encode("utf-8")) > CALLBACK_DATA_LIMIT:
        raise ValueError(f"callback_data is over {CALLBACK_DATA_LIMIT} bytes: {data!r}")
    return data


def _button_label(text: str, width: int = 60) -> str:
    return _short(text, width)


def _short(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"


def _offers(markup: InlineKeyboardMarkup | None, data: str | None) -> bool:
    """Return whether a message still shows a button with this callback_data."""
    rows = markup.inline_keyboard if markup is not None else ()
    return data is not None and any(b.callback_data == data for row in rows for b in row)


def _without_feedback(markup: InlineKeyboardMarkup | None) -> InlineKeyboardMarkup | None:
    """Return a message's buttons without the helpful / not helpful row."""
    votes = (f"{HELPFUL}:", f"{UNHELPFUL}:")
    rows = markup.inline_keyboard if markup is not None else ()
    kept = [
        list(row)
        for row in rows
        if not any(isinstance(b.callback_data, str) and b.callback_data.startswith(votes) for b in row)
    ]
    return InlineKeyboardMarkup(kept) if kept else None


# -- limits -------------------------------------------------------------------------------------


class Pacer:
    """Space out messages the way Telegram asks: per private chat, per group, and overall."""

    def __init__(
        self,
        *,
        per_chat: float = 1.0,
        per_group: float = 3.0,
        overall: float = 1 / 30,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.per_chat, self.per_group, self.overall = per_chat, per_group, overall
        self._clock = clock
        self._next_in_chat: dict[object, float] = {}
        self._booked: deque[float] = deque()

    def reserve(self, chat_id: object) -> float:
        """Book the next free slot for a message to this chat; return how long to wait for it."""
        now = self._clock()
        if len(self._next_in_chat) > 10_000:
            self._next_in_chat = {c: t for c, t in self._next_in_chat.items() if t > now}
        while self._booked and self._booked[0] <= now - self.overall:
            self._booked.popleft()
        slot = max(now, self._next_in_chat.get(chat_id, 0.0))
        for booked in self._booked:  # the earliest time at least `overall` away from every other message
            if booked <= slot - self.overall:
                continue
            if booked >= slot + self.overall:
                break
            slot = booked + self.overall
        bisect.insort(self._booked, slot)
        group = (isinstance(chat_id, int) and chat_id < 0) or isinstance(chat_id, str)
        self._next_in_chat[chat_id] = slot + (self.per_group if group else self.per_chat)
        return slot - now

    async def wait(self, chat_id: object) -> None:
        delay = self.reserve(chat_id)
        if delay > 0:
            await asyncio.sleep(delay)


PACED_ENDPOINTS = frozenset({"sendMessage", "editMessageText", "editMessageReplyMarkup"})
UNRETRIED_ENDPOINTS = frozenset({"getUpdates", "sendChatAction"})


def _retry_after(exc: RetryAfter) -> float:
    """Read the wait in seconds, whichever type this python-telegram-bot version gives it."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)  # int now, timedelta in v23
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class DeliveryLimiter(BaseRateLimiter[None]):
    """Pace outgoing messages, and retry the ones that did not get through so each arrives once.

    A 429 (RetryAfter) and a 5xx or dropped connection mean Telegram did not take the request,
    so sending it again cannot duplicate it. A timeout is ambiguous; it is retried too, because
    a dropped answer is worse than a rare repeated one.
    """

    def __init__(
        self, pacer: Pacer | None = None, *, max_attempts: int = 5, backoff: float = 1.0, max_backoff: float = 30.0
    ) -> None:
        self.pacer = pacer or Pacer()
        self.max_attempts, self.backoff, self.max_backoff = max_attempts, backoff, max_backoff
        self._stopping = asyncio.Event()

    def stop_retrying(self) -> None:
        """Give up waiting and retrying: the bot is shutting down, and a late reply is dropped, not delayed."""
        self._stopping.set()

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        attempt = 1
        while True:
            if endpoint in PACED_ENDPOINTS:
                await self.pacer.wait(data.get("chat_id"))
            error: TelegramError
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as exc:
                error, delay = exc, _retry_after(exc)
                reason = f"flood control, retry after {delay:g}s"
            except BadRequest:
                raise
            except NetworkError as exc:  # includes timeouts, 5xx and refused connections
                if endpoint in UNRETRIED_ENDPOINTS:
                    raise
                error, delay, reason = exc, min(self.backoff * 2 ** (attempt - 1), self.max_backoff), str(exc)
            if attempt >= self.max_attempts:
                log.error("%s failed %d times, giving up: %s", endpoint, attempt, reason)
                raise error
            if self._stopping.is_set():
                log.warning("%s failed (%s) while stopping; dropped", endpoint, reason)
                raise error
            log.warning("%s failed (%s); retrying in %.1fs", endpoint, reason, delay)
            try:
                await asyncio.wait_for(self._stopping.wait(), timeout=delay)
            except TimeoutError:
                attempt += 1
                continue
            log.warning("%s dropped: the bot is stopping", endpoint)
            raise error


class FloodLimit:
    """Count each user's messages in a sliding window; past the limit, warn once, then ignore."""

    ALLOW, NOTIFY, DROP = "allow", "notify", "drop"

    def __init__(
        self, *, max_messages: int = 20, per_seconds: float = 60.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.max_messages, self.per_seconds = max_messages, per_seconds
        self._clock = clock
        self._times: dict[int, deque[float]] = {}
        self._warned: set[int] = set()

    def check(self, user_id: int) -> str:
        """Return ALLOW and count the message, NOTIFY the first time a user is over, DROP after that."""
        now = self._clock()
        if len(self._times) > 10_000:
            self._times = {u: t for u, t in self._times.items() if t and t[-1] > now - self.per_seconds}
        times = self._times.setdefault(user_id, deque())
        while times and times[0] <= now - self.per_seconds:
            times.popleft()
        if len(times) < self.max_messages:
            times.append(now)
            self._warned.discard(user_id)
            return self.ALLOW
        if user_id in self._warned:
            return self.DROP
        self._warned.add(user_id)
        return self.NOTIFY


class SeenUpdates:
    """Remember recent update ids, so a redelivered update is not answered twice."""

    def __init__(self, size: int = 10_000) -> None:
        self._order: deque[int] = deque()
        self._ids: set[int] = set()
        self.size = size

    def first_time(self, update_id: int) -> bool:
        if update_id in self._ids:
            return False
        self._ids.add(update_id)
        self._order.append(update_id)
        if len(self._order) > self.size:
            self._ids.discard(self._order.popleft())
        return True


class ChatOrderProcessor(BaseUpdateProcessor):
    """Handle different chats at once but each chat's updates in order, so follow-ups see the answer before."""

    def __init__(self, max_concurrent_updates: int = 64) -> None:
        super().__init__(max_concurrent_updates)
        self._locks: dict[int, asyncio.Lock] = {}
        self._waiting: dict[int, int] = {}

    async def do_process_update(self, update: object, coroutine: Any) -> None:
        chat = update.effective_chat if isinstance(update, Update) else None
        if chat is None:
            await coroutine
            return
        lock = self._locks.setdefault(chat.id, asyncio.Lock())
        self._waiting[chat.id] = self._waiting.get(chat.id, 0) + 1
        try:
            async with lock:
                await coroutine
        finally:
            self._waiting[chat.id] -= 1
            if not self._waiting[chat.id]:
                del self._waiting[chat.id], self._locks[chat.id]

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None


# -- the bot ------------------------------------------------------------------------------------

MESSAGES = filters.UpdateType.MESSAGE  # edited messages are ignored: never answered twice


class TelegramBot:
    """The handlers: each reads an update, asks the engine, and sends the answer back.

    Every answer is logged to `question_log` (when there is one) with the asker's salted hash, and its
    feedback buttons carry the log row. `watcher`, when given, keeps the engine on the latest valid
    knowledge while the bot runs (`start_watching` / `stop_watching`, called by the application).
    """

    def __init__(
        self,
        engine: Engine,
        settings: Settings,
        *,
        flood: FloodLimit | None = None,
        question_log: QuestionLog | None = None,
        watcher: KnowledgeWatcher | None = None,
        max_chats: int = 10_000,
    ) -> None:
        self.engine = engine
        self.settings = settings
        self.flood = flood or FloodLimit()
        self.question_log = question_log
        self.watcher = watcher
        self.seen = SeenUpdates()
        self.max_chats = max_chats
        self._conversations: OrderedDict[int, Conversation] = OrderedDict()
        self._asked: dict[str, str] = {}
        self._watching = False
        self._log_failing = False

    def start_watching(self) -> None:
        """Start reloading knowledge changed by other processes (`rolebot add`, an editor)."""
        if self.watcher is not None and not self._watching:
            self.watcher.start()
            self._watching = True
            log.info("watching %s for knowledge changes", self.watcher.directory)

    def stop_watching(self) -> None:
        if self.watcher is not None and self._watching:
            self.watcher.stop()
            self._watching = False

    def install(self, application: Application) -> None:
        """Register every handler on an application."""
        application.add_handler(TypeHandler(Update, self.drop_repeats), group=-2)
        application.add_handler(TypeHandler(Update, self.limit_flood), group=-1)
        for name, callback in (
            ("start", self.start),
            ("help", self.help),
            ("topics", self.topics),
            ("compare", self.compare),
            ("add", self.add),
            ("review", self.review),
            ("reset", self.reset),
            ("sources", self.sources),
        ):
            application.add_handler(CommandHandler(name, callback, filters=MESSAGES))
        application.add_handler(MessageHandler(MESSAGES & filters.TEXT & ~filters.COMMAND, self.question))
        application.add_handler(MessageHandler(MESSAGES & filters.COMMAND, self.unknown_command))
        application.add_handler(MessageHandler(MESSAGES & ~filters.TEXT & ~filters.StatusUpdate.ALL, self.non_text))
        application.add_handler(CallbackQueryHandler(self.button))
        application.add_error_handler(self.on_error)

    # -- gates, run before the handlers ---------------------------------------------------------

    async def drop_repeats(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        if not self.seen.first_time(update.update_id):
            log.info("update %s was delivered again; ignored", update.update_id)
            raise ApplicationHandlerStop

    async def limit_flood(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        user = update.effective_user
        addressed = update.callback_query is not None or (
            update.message is not None and self._addressed(update.message, context)
        )
        if user is None or not addressed:
            return
        verdict = self.flood.check(user.id)
        if verdict == FloodLimit.ALLOW:
            return
        log.info("user %s is over the flood limit (%s)", user.id, verdict)
        if update.callback_query is not None:
            # CallbackQueries need to be answered, even when nothing else happens.
            await update.callback_query.answer(FLOOD_NOTICE if verdict == FloodLimit.NOTIFY else None)
        elif verdict == FloodLimit.NOTIFY and update.effective_chat is not None:
            await self._send(context, update.effective_chat.id, html.escape(FLOOD_NOTICE), reply_to=update.message)
        raise ApplicationHandlerStop

    # -- commands -------------------------------------------------------------------------------

    async def start(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        rows = [[self._ask_button(q)] for q in START_EXAMPLES]
        await self._reply(update, context, GREETING, InlineKeyboardMarkup(rows))

    async def help(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        admin = update.effective_user is not None and update.effective_user.id in self.settings.admin_ids
        await self._reply(update, context, HELP + (ADMIN_HELP if admin else ""))

    async def topics(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await self._reply(update, context, "Pick a topic to see both roles on it:", self._topic_keyboard())

    async def compare(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        wanted = " ".join(context.args or ()).strip()
        if not wanted:
            await self._reply(update, context, "Compare the roles on which topic?", self._topic_keyboard())
            return
        chat_id = self._chat_id(update)
        conversation = self._conversation(chat_id)
        await self._typing(context, chat_id)
        slug = slugify(wanted)
        exact = slug in self.engine.knowledge.topics()
        if exact:
            answer = await asyncio.to_thread(self.engine.compare, slug)
            if answer is not None:
                conversation.remember(answer)
        else:
            answer = await asyncio.to_thread(self.engine.ask, f"compare {wanted}", conversation)
        if answer is None or (not exact and answer.low_confidence):  # an unsure guess: show the topics there are
            text = f"I don't know the topic <i>{html.escape(wanted, quote=False)}</i>. These are the ones I know:"
            await self._reply(update, context, text, self._topic_keyboard())
            return
        await self._send_answer(context, chat_id, answer, user=self._user_id(update), reply_to=update.message)

    async def add(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        user = update.effective_user
        if user is None or user.id not in self.settings.admin_ids:
            await self._reply(update, context, NOT_ADMIN)
            return
        parts = (update.message.text or "").split(maxsplit=3) if update.message else []
        if len(parts) < 4:
            await self._reply(update, context, ADD_USAGE)
            return
        _, topic, role, text = parts
        try:
            passage = await asyncio.to_thread(
                add_passage, self.settings.knowledge_dir, topic=topic, role=role, text=text
            )
        except (ValidationError, KnowledgeError) as exc:
            await self._reply(update, context, f"Not added: {html.escape(str(exc), quote=False)}")
            return
        await self._absorb(lambda: self.engine.knowledge.by_id(passage.id) is not None)
        if self.engine.knowledge.by_id(passage.id) is None:  # the rest of the folder is invalid; serve it anyway
            self.engine.add_passages([passage])
        log.info("admin %s added passage %s", user.id, passage.id)
        await self._reply(
            update,
            context,
            f"Added <code>{html.escape(passage.id)}</code> ({html.escape(passage.role_name)}, "
            f"{html.escape(passage.topic_title)}). It is answerable now.",
        )

    async def review(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """List the logged questions that need attention, for an admin to promote or dismiss."""
        user = update.effective_user
        if user is None or user.id not in self.settings.admin_ids:
            await self._reply(update, context, NOT_ADMIN_REVIEW)
            return
        if update.effective_chat is None or update.effective_chat.type != ChatType.PRIVATE:
            await self._reply(update, context, REVIEW_IN_PRIVATE)  # the list quotes what other people asked
            return
        if self.question_log is None:
            await self._reply(update, context, REVIEW_NO_LOG)
            return
        text, markup = await asyncio.to_thread(self._review_list)
        await self._reply(update, context, text, markup)

    async def reset(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        self._conversation(self._chat_id(update)).reset()
        await self._reply(update, context, "New conversation.")

    async def sources(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        last = self._conversation(self._chat_id(update)).last
        await self._reply(update, context, f"<pre>{html.escape(explain(last), quote=False)}</pre>")

    async def unknown_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        if update.message is None or not self._addressed(update.message, context):
            return
        command = (update.message.text or "").split()[0]
        await self._reply(update, context, f"Unknown command {html.escape(command)}. /help lists the commands.")

    # -- messages -------------------------------------------------------------------------------

    async def question(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.message
        if message is None or not self._addressed(message, context):
            return
        text = self._without_mention(message, context)
        await self._ask(context, message.chat_id, text, user=self._user_id(update), reply_to=message)

    async def non_text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        if update.message is not None and self._addressed(update.message, context):
            await self._reply(update, context, NON_TEXT_HINT)

    async def button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None
        action, _, argument = (query.data or "").partition(":")
        chat = update.effective_chat
        if chat is None:
            await query.answer(EXPIRED_BUTTON)
            return
        if action == ASK and (question := self._known_question(argument)) is not None:
            await query.answer()
            await self._ask(context, chat.id, question, user=query.from_user.id)
        elif action == TOPIC and (topic := self._known_topic(argument)) is not None:
            await query.answer()
            await self._typing(context, chat.id)
            answer = await asyncio.to_thread(self.engine.topic_answer, topic)
            if answer is not None:
                self._conversation(chat.id).remember(answer)
                await self._send_answer(context, chat.id, answer, user=query.from_user.id)
        elif action in (HELPFUL, UNHELPFUL):
            await self._vote(update, action == HELPFUL, argument)
        elif action in REVIEW_ACTIONS:
            await self._review_button(update, action, argument)
        else:
            await query.answer(EXPIRED_BUTTON)

    async def _vote(self, update: Update, helpful: bool, argument: str) -> None:
        """Record a thumbs up or down against the answer's question-log row, once per message."""
        query = update.callback_query
        assert query is not None
        message = query.message
        # Telegram sends the message as it is now: a vote whose button is gone was already counted.
        if (
            self.question_log is None
            or not ROW_ID.fullmatch(argument)
            or not isinstance(message, Message)
            or not _offers(message.reply_markup, query.data)
        ):
            await query.answer(EXPIRED_BUTTON)
            return
        try:
            recorded = await asyncio.to_thread(self.question_log.record_feedback, int(argument), helpful)
        except (OSError, sqlite3.Error) as exc:
            log.warning("feedback not recorded: %r", exc)
            await query.answer(FEEDBACK_NOT_SAVED)
            return
        if not recorded:
            await query.answer(EXPIRED_BUTTON)
            return
        await query.answer(FEEDBACK_THANKS)
        # Take the feedback row away so nobody votes twice; keep the suggestions.
        await query.edit_message_reply_markup(_without_feedback(message.reply_markup))

    async def _review_button(self, update: Update, action: str, argument: str) -> None:
        """Show one review item, promote or dismiss it, or go back to the list; admins only."""
        query = update.callback_query
        assert query is not None
        if query.from_user.id not in self.settings.admin_ids:
            await query.answer(NOT_ADMIN_REVIEW)
            return
        number_text, _, target = argument.partition(":")
        question_log = self.question_log
        if question_log is None or not isinstance(query.message, Message):
            await query.answer(EXPIRED_BUTTON)
            return
        if action == REVIEW_LIST:
            await query.answer()
            await self._show(query.message, *await asyncio.to_thread(self._review_list))
            return
        if not ROW_ID.fullmatch(number_text):
            await query.answer(EXPIRED_BUTTON)
            return
        number = int(number_text)
        item = await asyncio.to_thread(question_log.item, number)
        if item is None:
            await query.answer(REVIEW_HANDLED)
            await self._show(query.message, *await asyncio.to_thread(self._review_list))
            return
        if action == REVIEW_ITEM:
            await query.answer()
            await self._show(query.message, *self._review_detail(item))
            return
        if action == REVIEW_DISMISS:
            try:
                hidden = await asyncio.to_thread(question_log.dismiss, number)
            except QuestionLogError:
                hidden = 0
            log.info("admin %s dismissed review item %s", query.from_user.id, number)
            done = f"Dismissed #{number} ({hidden} logged question{'s' if hidden != 1 else ''})."
        else:
            passage_id = next((p for p in self._promote_targets(item) if short_key(p) == target), None)
            if passage_id is None:
                await query.answer(EXPIRED_BUTTON)
                return
            try:
                passage, added = await asyncio.to_thread(
                    question_log.promote, number, passage_id, self.settings.knowledge_dir
                )
            except QuestionLogError:
                await query.answer(REVIEW_HANDLED)
                await self._show(query.message, *await asyncio.to_thread(self._review_list))
                return
            except (ValidationError, KnowledgeError) as exc:
                await query.answer(_short(f"Not promoted: {exc}", 200), show_alert=True)
                return
            phrasing = passage.questions[-1] if added else item.question
            await self._absorb(lambda: self._knows_phrasing(passage.id, phrasing))
            log.info("admin %s promoted review item %s to %s", query.from_user.id, number, passage.id)
            done = f"Promoted #{number}: it is now a phrasing of <code>{html.escape(passage.id)}</code>" + (
                "." if added else " (it already was)."
            )
        await query.answer(re.sub(r"<[^>]+>", "", done)[:200])
        await self._show(query.message, *await asyncio.to_thread(self._review_list, done))

    async def on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Log an unhandled error with its update id, and apologise to the chat it came from."""
        update_id = update.update_id if isinstance(update, Update) else None
        # Telegram and network failures are explained by their message; anything else needs its traceback.
        trace = None if isinstance(context.error, TelegramError) else context.error
        log.error("error while handling update %s: %r", update_id, context.error, exc_info=trace)
        if not isinstance(update, Update):
            return
        if update.callback_query is not None:  # stop the button's spinner; it may have been answered already
            try:
                await update.callback_query.answer()
            except TelegramError as exc:
                log.debug("callback query of update %s not answered: %r", update_id, exc)
        if update.effective_chat is not None:
            try:
                await context.bot.send_message(update.effective_chat.id, APOLOGY)
            except TelegramError as exc:
                log.warning("could not apologise for update %s: %r", update_id, exc)

    # -- helpers --------------------------------------------------------------------------------

    async def _ask(
        self,
        context: ContextTypes.DEFAULT_TYPE,
        chat_id: int,
        text: str,
        *,
        user: int | None,
        reply_to: Message | None = None,
    ) -> None:
        await self._typing(context, chat_id)
        conversation = self._conversation(chat_id)
        answer = await asyncio.to_thread(self.engine.ask, text, conversation)
        await self._send_answer(context, chat_id, answer, user=user, reply_to=reply_to)

    async def _send_answer(
        self,
        context: ContextTypes.DEFAULT_TYPE,
        chat_id: int,
        answer: Answer,
        *,
        user: int | None,
        reply_to: Message | None = None,
    ) -> None:
        row = await self._log(answer, user)
        key = str(row) if row is not None and answer.kind != "smalltalk" else None
        for question in answer.suggestions:
            self._asked[short_key(question)] = question
        parts = format_answer(answer)
        for index, part in enumerate(parts):
            last = index == len(parts) - 1
            await self._send(
                context,
                chat_id,
                part,
                self._answer_keyboard(answer, key) if last else None,
                reply_to=reply_to if index == 0 else None,
            )

    async def _log(self, answer: Answer, user: int | None) -> int | None:
        """Log an answer with its asker's salted hash; return the row, or None if the log is not working."""
        if self.question_log is None:
            return None
        try:
            row = await asyncio.to_thread(self.question_log.log_answer, answer, "telegram", user=user)
        except (OSError, sqlite3.Error) as exc:  # a broken log must never stop answers
            if not self._log_failing:
                log.warning("questions are not being logged: %r", exc)
            self._log_failing = True
            return None
        if self._log_failing:
            log.info("questions are being logged again")
            self._log_failing = False
        return row

    async def _absorb(self, known: Callable[[], bool]) -> None:
        """Wait until the engine serves a change the bot just wrote; load it here if nothing else does."""
        deadline = time.monotonic() + (ABSORB_TIMEOUT if self._watching else 0.0)
        # With a watcher running it loads the change; loading it here too could add a passage twice.
        while not known() and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        if not known():
            try:
                await asyncio.to_thread(apply_knowledge, self.engine, load_knowledge(self.settings.knowledge_dir))
            except KnowledgeError as exc:
                log.error("knowledge change not loaded, still serving the last good knowledge: %s", exc)

    def _knows_phrasing(self, passage_id: str, phrasing: str) -> bool:
        passage = self.engine.knowledge.by_id(passage_id)
        return passage is not None and phrasing in passage.questions

    def _review_list(self, done: str = "") -> tuple[str, InlineKeyboardMarkup | None]:
        """Lay out the questions that need attention as a message with one button each."""
        assert self.question_log is not None
        items = self.question_log.review(limit=REVIEW_LIMIT)
        lines = [f"✅ {done}\n"] if done else []
        if not items:
            return "\n".join([*lines, REVIEW_EMPTY]), None
        lines.append("<b>Questions to review</b>, most asked first. Tap one to promote or dismiss it.\n")
        for item in items:
            lines.append(
                f"<b>#{item.number}</b> {html.escape(_short(item.question, 200), quote=False)}\n"
                f"<i>asked {item.asked}×: {html.escape(item.reasons)}</i>"
            )
        rows = [[self._review_button_for(f"#{i.number} {i.question}", REVIEW_ITEM, str(i.number))] for i in items]
        return "\n".join(lines), InlineKeyboardMarkup(rows)

    def _review_detail(self, item: ReviewItem) -> tuple[str, InlineKeyboardMarkup]:
        """Lay out one review item with its choices: promote to a likely passage, dismiss, or go back."""
        last = f"{item.last_kind}, confidence {item.last_confidence:.2f}"
        if item.last_source:
            last += f", from <code>{html.escape(item.last_source)}</code>"
        lines = [
            f"<b>#{item.number}</b> {html.escape(_short(item.question, 1000), quote=False)}",
            f"<i>asked {item.asked}×: {html.escape(item.reasons)}; last answer: {last}</i>",
            "",
        ]
        targets = self._promote_targets(item)
        if targets:
            lines.append("Promote it to the passage that should answer it (it becomes one of its phrasings):")
            for passage_id in targets:
                passage = self.engine.knowledge.by_id(passage_id)
                words = html.escape(passage.first_words(10), quote=False) if passage is not None else ""
                lines.append(f"• <code>{html.escape(passage_id)}</code>: {words}")
        else:
            lines.append("No passage looks like a match: add one with /add, or dismiss it.")
        rows = [[self._review_button_for(f"➕ {p}", REVIEW_PROMOTE, f"{item.number}:{short_key(p)}")] for p in targets]
        rows.append(
            [
                self._review_button_for("🗑 Dismiss", REVIEW_DISMISS, str(item.number)),
                self._review_button_for("« All questions", REVIEW_LIST, ""),
            ]
        )
        return "\n".join(lines), InlineKeyboardMarkup(rows)

    @staticmethod
    def _review_button_for(label: str, action: str, argument: str) -> InlineKeyboardButton:
        return InlineKeyboardButton(_short(label, 40), callback_data=button_data(action, argument))

    def _promote_targets(self, item: ReviewItem) -> list[str]:
        """The passages to offer: the one it was answered with, then the best-ranked, that still exist."""
        ranked = [p for p in (item.last_source, *item.candidates) if p]
        known = [p for p in dict.fromkeys(ranked) if self.engine.knowledge.by_id(p) is not None]
        return known[:PROMOTE_TARGETS]

    async def _show(self, message: Message, text: str, markup: InlineKeyboardMarkup | None) -> None:
        """Replace a review message's text and buttons."""
        try:
            await message.edit_text(
                text, parse_mode=ParseMode.HTML, reply_markup=markup, link_preview_options=NO_PREVIEW
            )
        except BadRequest as exc:
            if "not modified" not in str(exc).lower():  # tapping "back" on an unchanged list
                raise

    async def _reply(
        self,
        update: Update,
        context: ContextTypes.DEFAULT_TYPE,
        text: str,
        markup: InlineKeyboardMarkup | None = None,
    ) -> None:
        await self._send(context, self._chat_id(update), text, markup, reply_to=update.message)

    async def _send(
        self,
        context: ContextTypes.DEFAULT_TYPE,
        chat_id: int,
        text: str,
        markup: InlineKeyboardMarkup | None = None,
        *,
        reply_to: Message | None = None,
    ) -> None:
        # In groups, quote the question so it is clear whom the answer is for.
        quote = reply_to is not None and reply_to.chat.type != ChatType.PRIVATE
        await context.bot.send_message(
            chat_id,
            text,
            parse_mode=ParseMode.HTML,
            reply_markup=markup,
            reply_parameters=ReplyParameters(reply_to.message_id, allow_sending_without_reply=True)
            if quote and reply_to is not None
            else None,
            link_preview_options=NO_PREVIEW,
        )

    async def _typing(self, context: ContextTypes.DEFAULT_TYPE, chat_id: int) -> None:
        try:
            await context.bot.send_chat_action(chat_id, ChatAction.TYPING)
        except TelegramError as exc:  # the indicator is a nicety; the answer matters
            log.debug("typing indicator failed: %r", exc)

    def _answer_keyboard(self, answer: Answer, key: str | None) -> InlineKeyboardMarkup | None:
        rows = [[self._ask_button(q)] for q in answer.suggestions]
        if key is not None:
            rows.append(
                [
                    InlineKeyboardButton("👍 Helpful", callback_data=button_data(HELPFUL, key)),
                    InlineKeyboardButton("👎 Not helpful", callback_data=button_data(UNHELPFUL, key)),
                ]
            )
        return InlineKeyboardMarkup(rows) if rows else None

    def _ask_button(self, question: str) -> InlineKeyboardButton:
        key = short_key(question)
        self._asked[key] = question
        return InlineKeyboardButton(_button_label(question), callback_data=button_data(ASK, key))

    def _topic_keyboard(self) -> InlineKeyboardMarkup:
        buttons = [
            InlineKeyboardButton(_button_label(topic_title(t), 30), callback_data=button_data(TOPIC, short_key(t)))
            for t in self.engine.knowledge.topics()
        ]
        return InlineKeyboardMarkup([buttons[i : i + 2] for i in range(0, len(buttons), 2)])

    def _known_question(self, key: str) -> str | None:
        """Find the question a button stands for, also for buttons sent before a restart."""
        if key in self._asked:
            return self._asked[key]
        for question in (*START_EXAMPLES, *(q for p in self.engine.knowledge.passages for q in p.questions)):
            if short_key(question) == key:
                self._asked[key] = question
                return question
        return None

    def _known_topic(self, key: str) -> str | None:
        return next((t for t in self.engine.knowledge.topics() if short_key(t) == key), None)

    def _conversation(self, chat_id: int) -> Conversation:
        conversation = self._conversations.pop(chat_id, None) or Conversation()
        self._conversations[chat_id] = conversation  # most recently used last
        while len(self._conversations) > self.max_chats:
            self._conversations.popitem(last=False)
        return conversation

    @staticmethod
    def _user_id(update: Update) -> int | None:
        return update.effective_user.id if update.effective_user is not None else None

    @staticmethod
    def _chat_id(update: Update) -> int:
        assert update.effective_chat is not None
        return update.effective_chat.id

    @staticmethod
    def _addressed(message: Message, context: ContextTypes.DEFAULT_TYPE) -> bool:
        """Return whether the bot should answer: always in private, in groups only when spoken to."""
        if message.chat.type == ChatType.PRIVATE:
            return True
        bot = context.bot
        replied = message.reply_to_message
        if replied is not None and replied.from_user is not None and replied.from_user.id == bot.id:
            return True
        username = (bot.username or "").lower()
        for entity, text in message.parse_entities().items():
            if entity.type == MessageEntityType.MENTION and text[1:].lower() == username:
                return True
            if entity.type == MessageEntityType.TEXT_MENTION and entity.user and entity.user.id == bot.id:
                return True
            if entity.type == MessageEntityType.BOT_COMMAND and entity.offset == 0:
                _, _, target = text.partition("@")
                return not target or target.lower() == username
        return False

    @staticmethod
    def _without_mention(message: Message, context: ContextTypes.DEFAULT_TYPE) -> str:
        text = message.text or ""
        username = context.bot.username or ""
        if username:
            text = re.sub(rf"@{re.escape(username)}\b", " ", text, flags=re.IGNORECASE)
        return " ".join(text.split())


def build_application(
    settings: Settings,
    engine: Engine,
    *,
    flood: FloodLimit | None = None,
    pacer: Pacer | None = None,
    limiter: DeliveryLimiter | None = None,
    read_timeout: float = 5.0,
    question_log: QuestionLog | None = None,
    reload_interval: float | None = POLL_INTERVAL,
) -> Application:
    """Build the python-telegram-bot application for the bot, pointed at `settings.telegram_api_base_url`.

    Answers are logged to `question_log`, by default the one in `settings.data_dir`. While the application
    runs, a knowledge watcher polls `settings.knowledge_dir` every `reload_interval` seconds (None: never).
    """
    if not settings.telegram_token:
        raise ValueError("TELEGRAM_BOT_TOKEN is not set")
    bot = TelegramBot(
        engine,
        settings,
        flood=flood,
        question_log=question_log or open_question_log(settings.data_dir),
        watcher=None
        if reload_interval is None
        else KnowledgeWatcher(engine, settings.knowledge_dir, interval=reload_interval),
    )

    async def post_init(application: Application) -> None:
        bot.start_watching()
        try:
            await application.bot.set_my_commands(list(COMMANDS))
        except TelegramError as exc:  # the menu is a nicety; answering matters
            log.warning("could not set the command menu: %r", exc)

    async def post_shutdown(application: Application) -> None:
        await asyncio.to_thread(bot.stop_watching)  # joins the watcher's thread; do not block the loop

    application = (
        ApplicationBuilder()
        .token(settings.telegram_token)
        .base_url(settings.telegram_api_base_url)
        .read_timeout(read_timeout)
        .write_timeout(read_timeout)
        .connect_timeout(read_timeout)
        .rate_limiter(limiter or DeliveryLimiter(pacer))
        .concurrent_updates(ChatOrderProcessor())
        .post_init(post_init)
        .post_shutdown(post_shutdown)
        .build()
    )
    bot.install(application)
    return application


def open_question_log(data_dir: Path) -> QuestionLog | None:
    """Open the question log in `data_dir`; a log that cannot open is reported, and the bot answers unlogged."""
    try:
        return QuestionLog(data_dir)
    except (OSError, sqlite3.Error, QuestionLogError) as exc:
        log.warning("questions are not being logged: %s", exc)
        return None


# -- running ------------------------------------------------------------------------------------


class RedactToken(logging.Filter):
    """Replace the bot token wherever it shows up in a log record, traceback included."""

    def __init__(self, token: str) -> None:
        super().__init__()
        secret = token.partition(":")[2]
        self.secrets = sorted({s for s in (token, secret) if len(s) >= 8}, key=len, reverse=True)

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "[token]")
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # a malformed call; still never let the token through
            message = f"{record.msg} {record.args}"
        record.msg, record.args = self.redact(message), None
        if record.exc_info:
            record.exc_text = self.redact(logging.Formatter().formatException(record.exc_info))
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


def configure_logging(token: str | None, *, level: int = logging.INFO, stream: Any = None) -> logging.Handler:
    """Log to stderr with the token redacted; keep httpx quiet, because its request lines carry the token."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    if token:
        handler.addFilter(RedactToken(token))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(level)
    for noisy in ("httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    return handler


def _listen_address(value: str) -> tuple[str, int]:
    host, _, port = value.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"--listen {value!r} is not HOST:PORT")
    return host.strip("[]"), int(port)


WEBHOOK_SECRET = re.compile(r"^[A-Za-z0-9_-]{1,256}$")


def run_from_cli(args: argparse.Namespace, settings: Settings) -> int:
    """Run the bot until SIGTERM or Ctrl-C; return the exit code."""
    token = settings.telegram_token
    if not token:
        print("rolebot: error: TELEGRAM_BOT_TOKEN is not set; get a token from @BotFather", file=sys.stderr)
        return USAGE_ERROR
    webhook = getattr(args, "webhook", None)
    if webhook:
        secret = settings.telegram_webhook_secret
        if not secret or not WEBHOOK_SECRET.match(secret):
            print(
                "rolebot: error: webhook mode needs TELEGRAM_WEBHOOK_SECRET (1-256 of A-Z a-z 0-9 _ -)",
                file=sys.stderr,
            )
            return USAGE_ERROR
        try:
            host, port = _listen_address(args.listen)
        except ValueError as exc:
            print(f"rolebot: error: {exc}", file=sys.stderr)
            return USAGE_ERROR
    configure_logging(token)
    # python-telegram-bot warns about retry_after's future type when it builds a 429 error; we handle both.
    warnings.filterwarnings("ignore", message=".*retry_after.*", category=PTBDeprecationWarning)
    try:
        engine = load_engine(settings.knowledge_dir, settings.intents_dir, model_cache=settings.cache_dir)
    except KnowledgeError as exc:
        print(f"rolebot: error: {exc}", file=sys.stderr)
        return USAGE_ERROR
    limiter = DeliveryLimiter()
    application = build_application(settings, engine, limiter=limiter)

    def stop(signum: int) -> None:
        log.info("%s received; stopping", signal.Signals(signum).name)
        limiter.stop_retrying()
        raise SystemExit  # as python-telegram-bot's own handler does: run_* then stops gracefully

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop, signum)
    try:
        if webhook:
            log.info("starting in webhook mode on %s:%s", host, port)
            application.run_webhook(
                listen=host,
                port=port,
                url_path=urlsplit(webhook).path.lstrip("/"),
                webhook_url=webhook,
                secret_token=settings.telegram_webhook_secret,
                allowed_updates=list(ALLOWED_UPDATES),
                stop_signals=None,
            )
        else:
            log.info("starting with long polling")
            application.run_polling(allowed_updates=list(ALLOWED_UPDATES), stop_signals=None)
    except InvalidToken:
        print("rolebot: error: Telegram rejected the token (401 Unauthorized); check TELEGRAM_BOT_TOKEN", file=sys.stderr)
        return FAILURE
    except TelegramError as exc:
        print(f"rolebot: error: could not start the bot: {RedactToken(token).redact(str(exc))}", file=sys.stderr)
        return FAILURE
    log.info("stopped")
    return 0
