"""A Bot API stand-in for tests: a local HTTP server that answers and checks requests the way Telegram does."""

from __future__ import annotations

import asyncio
import html
import json
import re
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, TypeVar
from urllib.parse import parse_qsl

TOKEN = "123456789:AAF-fake-token-for-tests_0123456789ab"
BOT_ID = 123456789
BOT_USERNAME = "rolebot_test_bot"
MESSAGE_LIMIT = 4096
CALLBACK_DATA_LIMIT = 64
NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)
ALLOWED_TAGS = {
    "b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler",
    "a", "code", "pre", "blockquote", "tg-emoji",
}  # fmt: skip
# Form fields PTB sends as plain strings; every other field is JSON-encoded.
STRING_FIELDS = {"text", "parse_mode", "url", "secret_token", "callback_query_id", "action", "inline_message_id"}

T = TypeVar("T")


class ApiError(Exception):
    """A request Telegram would refuse: an error code and its description."""

    def __init__(self, code: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.code, self.description, self.retry_after = code, description, retry_after


@dataclass
class Call:
    """One request the stand-in received, and how it answered."""

    method: str
    params: dict[str, Any]
    status: int = 200
    at: float = field(default_factory=time.monotonic)
    outcome: str = "ok"
    result: Any = None


@dataclass
class Fault:
    method: str
    status: int = 502
    description: str = "Bad Gateway"
    retry_after: int | None = None
    hang: bool = False


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[^<>]*)?)>")
_ENTITY = re.compile(r"&(lt|gt|amp|quot|#[0-9]+|#x[0-9a-fA-F]+);")


def parse_html(text: str) -> str:
    """Parse Telegram HTML as strictly as Telegram does; return the visible text or raise ApiError."""
    visible: list[str] = []
    stack: list[str] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char == "<":
            tag = _TAG.match(text, i)
            if tag is None:
                raise ApiError(400, f"Bad Request: can't parse entities: unexpected '<' at byte offset {i}")
            closing, name = tag.group(1), tag.group(2).lower()
            if name not in ALLOWED_TAGS:
                raise ApiError(400, f'Bad Request: can\'t parse entities: unsupported start tag "{name}" at byte offset {i}')
            if closing:
                if not stack or stack[-1] != name:
                    raise ApiError(400, f'Bad Request: can\'t parse entities: unmatched end tag "{name}" at byte offset {i}')
                stack.pop()
            else:
                stack.append(name)
            i = tag.end()
        elif char == "&":
            entity = _ENTITY.match(text, i)
            if entity is None:
                raise ApiError(400, f"Bad Request: can't parse entities: unescaped '&' at byte offset {i}")
            visible.append(html.unescape(entity.group(0)))
            i = entity.end()
        elif char == ">":
            raise ApiError(400, f"Bad Request: can't parse entities: unescaped '>' at byte offset {i}")
        else:
            visible.append(char)
            i += 1
    if stack:
        raise ApiError(400, f'Bad Request: can\'t parse entities: can\'t find end tag corresponding to start tag "{stack[-1]}"')
    return "".join(visible)


def check_markup(markup: Any) -> None:
    """Refuse inline keyboards Telegram refuses: empty labels, callback_data over 64 bytes."""
    if markup is None:
        return
    for row in markup.get("inline_keyboard", []):
        for button in row:
            if not button.get("text"):
                raise ApiError(400, "Bad Request: text buttons are unallowed in the inline keyboard")
            data = button.get("callback_data")
            if data is not None and not 1 <= len(data.encode("utf-8")) <= CALLBACK_DATA_LIMIT:
                raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")


class FakeBotAPI:
    """Serves POST /bot<TOKEN>/<method> on 127.0.0.1, records every call, and injects faults on request."""

    def __init__(self, token: str = TOKEN, *, bot_id: int = BOT_ID, username: str = BOT_USERNAME) -> None:
        self.token, self.bot_id, self.username = token, bot_id, username
        self.calls: list[Call] = []
        self.webhook: dict[str, Any] | None = None
        self.messages: dict[tuple[int, int], dict[str, Any]] = {}
        self._updates: list[dict[str, Any]] = []
        self._chats: dict[int, dict[str, Any]] = {}
        self._faults: list[Fault] = []
        self._answered_queries: set[Any] = set()
        self._next_update_id = 1000
        self._next_message_id = 1
        self._lock = threading.Condition()
        self._closing = threading.Event()
        self._server: ThreadingHTTPServer | None = None

    # -- lifecycle ------------------------------------------------------------------------------

    def start(self) -> FakeBotAPI:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802 - the http.server API
                fake._handle(self)

            def do_GET(self) -> None:  # noqa: N802
                fake._handle(self)

            def log_message(self, format: str, *args: Any) -> None:
                return None

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, name="fake-bot-api", daemon=True).start()
        return self

    def stop(self) -> None:
        self._closing.set()
        with self._lock:
            self._lock.notify_all()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def __enter__(self) -> FakeBotAPI:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._server is not None
        return self._server.server_address[1]

    @property
    def base_url(self) -> str:
        """What TELEGRAM_API_BASE_URL should be: the token and method are appended to it."""
        return f"http://127.0.0.1:{self.port}/bot"

    # -- driving it ---------------------------------------------------------------------------

    def push(self, update: dict[str, Any]) -> int:
        """Queue an update for getUpdates; give it the next update_id unless it has one."""
        with self._lock:
            if "update_id" not in update:
                update["update_id"] = self._next_update_id
            self._next_update_id = max(self._next_update_id, update["update_id"]) + 1
            self._remember_chat(update)
            self._updates.append(update)
            self._lock.notify_all()
        return update["update_id"]

    def next_update_id(self) -> int:
        with self._lock:
            self._next_update_id += 1
            return self._next_update_id - 1

    def fail(
        self,
        method: str,
        *,
        status: int = 502,
        description: str = "Bad Gateway",
        retry_after: int | None = None,
        times: int = 1,
    ) -> None:
        """Answer the next `times` calls of `method` with an error (429 with retry_after, 502, 400...)."""
        with self._lock:
            self._faults += [Fault(method, status, description, retry_after) for _ in range(times)]

    def hang(self, method: str, *, times: int = 1) -> None:
        """Never answer the next `times` calls of `method` (until the stand-in stops); they are not delivered."""
        with self._lock:
            self._faults += [Fault(method, hang=True) for _ in range(times)]

    def calls_of(self, method: str, *, outcome: str | None = "ok") -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method == method and (outcome is None or c.outcome == outcome)]

    def sent(self, chat_id: int | None = None) -> list[dict[str, Any]]:
        """Return the messages delivered with sendMessage (to one chat if given), oldest first."""
        return [
            c.params | {"message_id": c.result["message_id"], "visible": c.result["text"], "at": c.at}
            for c in self.calls_of("sendMessage")
            if chat_id is None or c.params.get("chat_id") == chat_id
        ]

    def wait_for(self, condition: Callable[[], T], *, timeout: float = 30.0, what: str = "condition") -> T:
        """Poll until `condition()` is truthy and return it; fail after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            result = condition()
            if result:
                return result
            if time.monotonic() > deadline:
                methods = [f"{c.method}:{c.outcome}" for c in self.calls if c.method != "getUpdates"]
                raise AssertionError(f"timed out waiting for {what}; calls so far: {methods}")
            time.sleep(0.05)

    def wait_sent(self, chat_id: int, count: int = 1, *, timeout: float = 30.0) -> list[dict[str, Any]]:
        """Wait until `count` messages have reached the chat; return them all."""
        return self.wait_for(
            lambda: (sent := self.sent(chat_id)) and len(sent) >= count and sent,
            timeout=timeout,
            what=f"{count} message(s) to chat {chat_id}",
        )

    # -- serving --------------------------------------------------------------------------------

    def _handle(self, request: BaseHTTPRequestHandler) -> None:
        length = int(request.headers.get("Content-Length") or 0)
        body = request.rfile.read(length) if length else b""
        match = re.fullmatch(r"/bot([^/]+)/(\w+)", request.path.split("?")[0])
        if match is None:
            self._respond(request, 404, {"ok": False, "error_code": 404, "description": "Not Found"})
            return
        token, method = match.groups()
        params = self._params(request.headers.get("Content-Type", ""), body)
        call = Call(method, params)
        with self._lock:
            self.calls.append(call)
        if token != self.token:
            call.status, call.outcome = 401, "unauthorized"
            self._respond(request, 401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
            return
        fault = self._take_fault(method)
        if fault is not None and fault.hang:
            call.status, call.outcome = 0, "hung"
            self._closing.wait(120)  # the client gives up first; nothing is delivered
            request.close_connection = True
            return
        try:
            if fault is not None:
                raise ApiError(fault.status, fault.description, fault.retry_after)
            call.result = getattr(self, f"_api_{method}", self._api_unknown)(params)
        except ApiError as exc:
            call.status, call.outcome = exc.code, "error"
            answer: dict[str, Any] = {"ok": False, "error_code": exc.code, "description": exc.description}
            if exc.retry_after is not None:
                answer["parameters"] = {"retry_after": exc.retry_after}
            self._respond(request, exc.code, answer)
            return
        self._respond(request, 200, {"ok": True, "result": call.result})

    @staticmethod
    def _respond(request: BaseHTTPRequestHandler, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        try:
            request.send_response(status)
            request.send_header("Content-Type", "application/json")
            request.send_header("Content-Length", str(len(data)))
            request.end_headers()
            request.wfile.write(data)
        except OSError:  # the client went away (it timed out); nothing to tell it
            pass

    @staticmethod
    def _params(content_type: str, body: bytes) -> dict[str, Any]:
        if not body:
            return {}
        if content_type.startswith("application/json"):
            return dict(json.loads(body))
        params: dict[str, Any] = {}
        for key, value in parse_qsl(body.decode(), keep_blank_values=True):
            if key in STRING_FIELDS:
                params[key] = value
            else:
                try:
                    params[key] = json.loads(value)
                except ValueError:
                    params[key] = value
        return params

    def _take_fault(self, method: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.method == method:
                    self._faults.remove(fault)
                    return fault
        return None

    def _remember_chat(self, update: dict[str, Any]) -> None:
        for key in ("message", "edited_message"):
            if key in update:
                chat = update[key]["chat"]
                self._chats[chat["id"]] = chat

    def _chat(self, chat_id: Any) -> dict[str, Any]:
        if not isinstance(chat_id, int):
            raise ApiError(400, "Bad Request: chat not found")
        return self._chats.get(chat_id) or {"id": chat_id, "type": "private", "first_name": "Someone"}

    def _bot_user(self) -> dict[str, Any]:
        return {"id": self.bot_id, "is_bot": True, "first_name": "Rolebot", "username": self.username}

    @staticmethod
    def _text(params: dict[str, Any]) -> str:
        text = params.get("text")
        if not isinstance(text, str) or not text.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        visible = parse_html(text) if str(params.get("parse_mode", "")).upper() == "HTML" else text
        if utf16_len(visible) > MESSAGE_LIMIT:
            raise ApiError(400, "Bad Request: message is too long")
        if not visible.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        return visible

    # -- the methods --------------------------------------------------------------------------

    def _api_unknown(self, params: dict[str, Any]) -> Any:
        raise ApiError(404, "Not Found")

    def _api_getMe(self, params: dict[str, Any]) -> Any:  # noqa: N802 - Bot API method names
        return self._bot_user() | {"can_join_groups": True, "can_read_all_group_messages": False,
                                   "supports_inline_queries": False}  # fmt: skip

    def _api_deleteWebhook(self, params: dict[str, Any]) -> Any:  # noqa: N802
        self.webhook = None
        if params.get("drop_pending_updates"):
            with self._lock:
                self._updates.clear()
        return True

    def _api_setWebhook(self, params: dict[str, Any]) -> Any:  # noqa: N802
        self.webhook = params
        return True

    def _api_getWebhookInfo(self, params: dict[str, Any]) -> Any:  # noqa: N802
        return {"url": (self.webhook or {}).get("url", ""), "has_custom_certificate": False, "pending_update_count": 0}

    def _api_getUpdates(self, params: dict[str, Any]) -> Any:  # noqa: N802
        if self.webhook is not None:
            raise ApiError(409, "Conflict: can't use getUpdates method while webhook is active")
        offset = int(params.get("offset") or 0)
        timeout = float(params.get("timeout") or 0)
        limit = int(params.get("limit") or 100)
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                if offset:  # confirm everything before the offset, as Telegram does
                    self._updates = [u for u in self._updates if u["update_id"] >= offset]
                ready = self._updates[:limit]
                remaining = deadline - time.monotonic()
                if ready or remaining <= 0 or self._closing.is_set():
                    return ready
                self._lock.wait(min(remaining, 0.5))

    def _api_sendMessage(self, params: dict[str, Any]) -> Any:  # noqa: N802
        chat = self._chat(params.get("chat_id"))
        visible = self._text(params)
        check_markup(params.get("reply_markup"))
        with self._lock:
            message_id = self._next_message_id
            self._next_message_id += 1
        message = {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": chat,
            "from": self._bot_user(),
            "text": visible,
        }
        if params.get("reply_markup"):
            message["reply_markup"] = params["reply_markup"]
        self.messages[(chat["id"], message_id)] = message
        return message

    def _edited(self, params: dict[str, Any]) -> dict[str, Any]:
        key = (params.get("chat_id"), params.get("message_id"))
        if key not in self.messages:
            raise ApiError(400, "Bad Request: message to edit not found")
        return self.messages[key]  # type: ignore[index]

    def _api_editMessageText(self, params: dict[str, Any]) -> Any:  # noqa: N802
        message = self._edited(params)
        text = self._text(params)
        check_markup(params.get("reply_markup"))
        if text == message["text"] and (params.get("reply_markup") or None) == message.get("reply_markup"):
            raise ApiError(400, NOT_MODIFIED)
        message["text"] = text
        if params.get("reply_markup"):  # the new buttons replace the old; none given, none kept
            message["reply_markup"] = params["reply_markup"]
        else:
            message.pop("reply_markup", None)
        message["edit_date"] = int(time.time())
        return message

    def _api_editMessageReplyMarkup(self, params: dict[str, Any]) -> Any:  # noqa: N802
        message = self._edited(params)
        check_markup(params.get("reply_markup"))
        if (params.get("reply_markup") or None) == message.get("reply_markup"):
            raise ApiError(400, NOT_MODIFIED)
        if params.get("reply_markup"):
            message["reply_markup"] = params["reply_markup"]
        else:
            message.pop("reply_markup", None)
        return message

    def _api_answerCallbackQuery(self, params: dict[str, Any]) -> Any:  # noqa: N802
        query_id = params.get("callback_query_id")
        with self._lock:
            repeated = query_id in self._answered_queries
            self._answered_queries.add(query_id)
        if not query_id or repeated:  # a query is answered once; Telegram refuses the second answer
            raise ApiError(400, "Bad Request: query is too old and response timeout expired or query ID is invalid")
        if len(params.get("text") or "") > 200:
            raise ApiError(400, "Bad Request: MESSAGE_TOO_LONG")
        return True

    def _api_sendChatAction(self, params: dict[str, Any]) -> Any:  # noqa: N802
        self._chat(params.get("chat_id"))
        return True

    def _api_setMyCommands(self, params: dict[str, Any]) -> Any:  # noqa: N802
        for command in params.get("commands") or []:
            if not re.fullmatch(r"[a-z0-9_]{1,32}", command.get("command", "")):
                raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
        return True

    def _api_getMyCommands(self, params: dict[str, Any]) -> Any:  # noqa: N802
        return []

    def _api_close(self, params: dict[str, Any]) -> Any:
        return True

    def _api_logOut(self, params: dict[str, Any]) -> Any:  # noqa: N802
        return True


# -- updates, built the way Telegram sends them --------------------------------------------------


def user(user_id: int, first_name: str = "Ada") -> dict[str, Any]:
    return {"id": user_id, "is_bot": False, "first_name": first_name}


def chat(chat_id: int) -> dict[str, Any]:
    if chat_id > 0:
        return {"id": chat_id, "type": "private", "first_name": "Ada"}
    return {"id": chat_id, "type": "supergroup", "title": "IT folks"}


def _entities(text: str) -> list[dict[str, Any]]:
    """Mark commands and @mentions as Telegram does (offsets in UTF-16 code units)."""
    entities = []
    for match in re.finditer(r"(?<![\w@/])(/[A-Za-z0-9_]+(?:@\w+)?|@\w{5,32})", text):
        offset = utf16_len(text[: match.start()])
        kind = "bot_command" if match.group(1).startswith("/") else "mention"
        if kind == "bot_command" and match.start() != 0:
            continue
        entities.append({"type": kind, "offset": offset, "length": utf16_len(match.group(1))})
    return entities


_message_ids = iter(range(10_000, 10**9))


def message_update(
    text: str | None,
    *,
    chat_id: int = 1001,
    user_id: int | None = None,
    reply_to: dict[str, Any] | None = None,
    edited: bool = False,
    extra: dict[str, Any] | None = None,
    update_id: int | None = None,
) -> dict[str, Any]:
    """Build an update carrying a user's message (or an edit of one); text None for a non-text message."""
    message: dict[str, Any] = {
        "message_id": next(_message_ids),
        "date": int(time.time()),
        "chat": chat(chat_id),
        "from": user(user_id if user_id is not None else abs(chat_id)),
    }
    if text is not None:
        message["text"] = text
        if entities := _entities(text):
            message["entities"] = entities
    if reply_to is not None:
        message["reply_to_message"] = reply_to
    if edited:
        message["edit_date"] = int(time.time())
    message |= extra or {}
    update: dict[str, Any] = {"edited_message" if edited else "message": message}
    if update_id is not None:
        update["update_id"] = update_id
    return update


def sticker_update(*, chat_id: int = 1001, **kwargs: Any) -> dict[str, Any]:
    sticker = {
        "file_id": "CAACAgIAAxkBAAE", "file_unique_id": "AgADsticker", "type": "regular",
        "width": 512, "height": 512, "is_animated": False, "is_video": False,
    }  # fmt: skip
    return message_update(None, chat_id=chat_id, extra={"sticker": sticker}, **kwargs)


def photo_update(*, chat_id: int = 1001, **kwargs: Any) -> dict[str, Any]:
    photo = [{"file_id": "AgACAgIAAxkBAAE", "file_unique_id": "AQADphoto", "width": 90, "height": 90}]
    return message_update(None, chat_id=chat_id, extra={"photo": photo}, **kwargs)


def voice_update(*, chat_id: int = 1001, **kwargs: Any) -> dict[str, Any]:
    voice = {"file_id": "AwACAgIAAxkBAAE", "file_unique_id": "AgADvoice", "duration": 3}
    return message_update(None, chat_id=chat_id, extra={"voice": voice}, **kwargs)


def callback_update(
    message: dict[str, Any], data: str, *, user_id: int | None = None, update_id: int | None = None
) -> dict[str, Any]:
    """Build the update Telegram sends when someone taps an inline button under `message`."""
    sent = {k: v for k, v in message.items() if k in ("message_id", "date", "chat", "from", "text", "reply_markup")}
    query = {
        "id": str(next(_message_ids)),
        "from": user(user_id if user_id is not None else abs(message["chat"]["id"])),
        "chat_instance": "-4242",
        "message": sent,
        "data": data,
    }
    update: dict[str, Any] = {"callback_query": query}
    if update_id is not None:
        update["update_id"] = update_id
    return update


def buttons(message: dict[str, Any]) -> list[dict[str, Any]]:
    """Return the inline buttons under a sent message, row by row flattened."""
    markup = message.get("reply_markup") or {}
    return [button for row in markup.get("inline_keyboard", []) for button in row]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# -- running a python-telegram-bot Application in a thread, against the stand-in -----------------


class BotThread:
    """Run a python-telegram-bot Application with long polling on its own thread and event loop, hooks included."""

    def __init__(self, application: Any, *, poll_timeout: float = 1.0) -> None:
        self.application = application
        self.poll_timeout = poll_timeout
        self.error: BaseException | None = None
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._run, name="bot-under-test", daemon=True)

    def start(self, timeout: float = 30.0) -> BotThread:
        self._thread.start()
        if not self._ready.wait(timeout):
            raise AssertionError(f"the bot did not start: {self.error!r}")
        if self.error is not None:
            raise self.error
        return self

    def stop(self, timeout: float = 30.0) -> None:
        if not self._thread.is_alive():
            return
        if self._loop is not None and self._stopping is not None:
            self._loop.call_soon_threadsafe(self._stopping.set)
        self._thread.join(timeout)
        if self._thread.is_alive():
            raise AssertionError("the bot did not stop")

    def feed(self, update: dict[str, Any]) -> None:
        """Put an update straight into the application's queue, as a webhook would."""
        from telegram import Update

        assert self._loop is not None
        parsed = Update.de_json(update, self.application.bot)
        asyncio.run_coroutine_threadsafe(self.application.update_queue.put(parsed), self._loop).result(10)

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as exc:  # noqa: BLE001 - reported to the test thread
            self.error = exc
            self._ready.set()

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stopping = asyncio.Event()
        app = self.application
        async with app:
            if app.post_init:
                await app.post_init(app)
            await app.updater.start_polling(poll_interval=0, timeout=self.poll_timeout, allowed_updates=None)
            await app.start()
            self._ready.set()
            await self._stopping.wait()
            await app.updater.stop()
            await app.stop()
            if app.post_stop:
                await app.post_stop(app)
        if app.post_shutdown:  # after shutdown, in the order run_polling calls them
            await app.post_shutdown(app)
