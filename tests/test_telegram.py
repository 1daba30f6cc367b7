"""The Telegram bot, running in-process against the local Bot API stand-in and driven by real updates."""

from __future__ import annotations

import json
import logging
import random
import shutil
import socket
import string
import time
from pathlib import Path
from typing import Any, Callable

import pytest
from botapi_fake import (
    BOT_USERNAME,
    TOKEN,
    BotThread,
    FakeBotAPI,
    buttons,
    callback_update,
    message_update,
    photo_update,
    sticker_update,
    voice_update,
)

from bot.engine import Conversation, Engine, load_engine
from bot.settings import PROJECT_ROOT, Settings
from bot.store import add_passage
from bot.telegram_bot import (
    APOLOGY,
    EXPIRED_BUTTON,
    FLOOD_NOTICE,
    MESSAGE_LIMIT,
    NOT_ADMIN,
    DeliveryLimiter,
    FloodLimit,
    Pacer,
    build_application,
    utf16_len,
)

ADMIN = 42
NO_PACING = Pacer(per_chat=0, per_group=0, overall=0)


@pytest.fixture(autouse=True)
def no_internet(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail any connection that is not to this machine, as python-telegram-bot's own suite does."""
    real_connect = socket.socket.connect

    def connect(self: socket.socket, address: Any) -> None:
        if self.family in (socket.AF_INET, socket.AF_INET6) and address[0] not in ("127.0.0.1", "::1"):
            raise OSError(f"a test tried to reach {address[0]}")
        return real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", connect)


@pytest.fixture(scope="module")
def shared_engine() -> Engine:
    """The default knowledge, for tests that only read it."""
    return load_engine(PROJECT_ROOT / "knowledge", PROJECT_ROOT / "intents")


@pytest.fixture
def fake() -> Any:
    with FakeBotAPI() as api:
        yield api


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake: FakeBotAPI) -> Settings:
    shutil.copytree(PROJECT_ROOT / "knowledge", tmp_path / "knowledge")
    monkeypatch.setenv("ROLEBOT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("ROLEBOT_KNOWLEDGE_DIR", str(tmp_path / "knowledge"))
    monkeypatch.setenv("ROLEBOT_ADMIN_IDS", f"{ADMIN},7")
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("TELEGRAM_API_BASE_URL", fake.base_url)
    return Settings.from_env()


@pytest.fixture
def run_bot(settings: Settings, shared_engine: Engine) -> Any:
    """Start the bot in a thread (stopped after the test); options go to build_application."""
    running: list[BotThread] = []

    def start(*, engine: Engine | None = None, **options: Any) -> BotThread:
        options.setdefault("pacer", NO_PACING)
        application = build_application(settings, engine or shared_engine, **options)
        thread = BotThread(application).start()
        running.append(thread)
        return thread

    yield start
    for thread in running:
        thread.stop()


def fresh_engine(settings: Settings) -> Engine:
    return load_engine(settings.knowledge_dir, settings.intents_dir)


def say(fake: FakeBotAPI, text: str | None = None, *, chat_id: int = 1001, update: dict | None = None,
        expect: int = 1, **kwargs: Any) -> list[dict[str, Any]]:  # fmt: skip
    """Send the bot an update and return the `expect` messages it sends back to the chat."""
    before = len(fake.sent(chat_id))
    fake.push(update or message_update(text, chat_id=chat_id, **kwargs))
    return fake.wait_sent(chat_id, before + expect)[before:]


def tap(fake: FakeBotAPI, message: dict[str, Any], data: str, *, user_id: int | None = None) -> str:
    """Tap a button under a sent message; return the callback query id."""
    stored = fake.messages[(message["chat_id"], message["message_id"])]
    update = callback_update(stored, data, user_id=user_id)
    fake.push(update)
    return update["callback_query"]["id"]


def callback_answer(fake: FakeBotAPI, query_id: str) -> dict[str, Any]:
    return fake.wait_for(
        lambda: next((c.params for c in fake.calls_of("answerCallbackQuery")
                      if c.params.get("callback_query_id") == query_id), None),  # fmt: skip
        what=f"the answer to callback query {query_id}",
    )


def button(message: dict[str, Any], label: str) -> str:
    """Return the callback_data of the button whose label contains `label`."""
    for candidate in buttons(message):
        if label in candidate["text"]:
            return str(candidate["callback_data"])
    raise AssertionError(f"no button {label!r} in {buttons(message)}")


def plain(engine: Engine, *questions: str) -> str:
    """What the console's engine says to the last of `questions`, as Telegram shows it."""
    conversation = Conversation()
    for question in questions:
        answer = engine.ask(question, conversation)
    return f"{answer.text}\n\n{answer.citation}" if answer.citation else answer.text


# -- what users see ------------------------------------------------------------------------------


def test_start_greets_with_example_questions_that_can_be_tapped(fake: FakeBotAPI, run_bot: Callable) -> None:
    run_bot()
    [greeting] = say(fake, "/start")
    assert "IT Project Manager" in greeting["visible"] and "IT Manager" in greeting["visible"]
    examples = buttons(greeting)
    assert len(examples) >= 3
    assert all(b["callback_data"].startswith("q:") for b in examples)

    query = tap(fake, greeting, examples[0]["callback_data"])
    [answer] = fake.wait_sent(1001, 2)[1:]
    assert callback_answer(fake, query)
    assert answer["visible"].startswith(f"IT Project Manager · Responsibilities")


def test_help_lists_the_commands(fake: FakeBotAPI, run_bot: Callable) -> None:
    run_bot()
    [reply] = say(fake, "/help")
    for command in ("/topics", "/compare", "/reset", "/sources", "/help"):
        assert command in reply["visible"]


def test_commands_menu_is_set_at_startup(fake: FakeBotAPI, run_bot: Callable) -> None:
    run_bot()
    [call] = fake.wait_for(lambda: fake.calls_of("setMyCommands"), what="setMyCommands")
    assert {c["command"] for c in call.params["commands"]} >= {"start", "help", "topics", "compare"}


def test_topics_are_buttons_and_a_topic_shows_both_roles(
    fake: FakeBotAPI, run_bot: Callable, shared_engine: Engine
) -> None:
    run_bot()
    [menu] = say(fake, "/topics")
    assert len(buttons(menu)) == len(shared_engine.knowledge.topics())
    tap(fake, menu, button(menu, "Leadership"))
    [answer] = fake.wait_sent(1001, 2)[1:]
    assert "IT Project Manager · Leadership" in answer["visible"]
    assert "IT Manager · Leadership" in answer["visible"]
    # the topic becomes the conversation's: a follow-up stays on it
    [follow_up] = say(fake, "and the IT manager?")
    assert follow_up["visible"].startswith("IT Manager · Leadership")


def test_compare_gives_both_roles_side_by_side(fake: FakeBotAPI, run_bot: Callable, shared_engine: Engine) -> None:
    run_bot()
    [answer] = say(fake, "/compare leadership")
    expected = shared_engine.compare("leadership")
    assert expected is not None
    assert answer["visible"] == f"{expected.text}\n\n{expected.citation}"
    assert "IT Project Manager · Leadership" in answer["visible"] and "IT Manager · Leadership" in answer["visible"]
    [answer] = say(fake, "/compare scope of work")
    assert "IT Project Manager · Scope of work" in answer["visible"]
    assert "IT Manager · Scope of work" in answer["visible"]


def test_compare_without_or_with_an_unknown_topic_offers_the_topics(fake: FakeBotAPI, run_bot: Callable) -> None:
    run_bot()
    [asked] = say(fake, "/compare")
    assert buttons(asked) and all(b["callback_data"].startswith("t:") for b in buttons(asked))
    [unknown] = say(fake, "/compare <b>tea & cake</b>")
    assert "I don't know the topic <b>tea & cake</b>" in unknown["visible"]
    assert "&lt;b&gt;tea &amp; cake&lt;/b&gt;" in unknown["text"]
    assert buttons(unknown)


@pytest.mark.parametrize(
    "questions",
    [
        ("What does an IT project manager do?",),
        ("What skills does an IT manager need?",),
        ("How do the two roles differ in leadership?",),
        ("What does an IT project manager do?", "and the IT manager?"),
    ],
)
def test_a_question_gets_the_console_answer_in_html_with_a_source_line(
    fake: FakeBotAPI, run_bot: Callable, shared_engine: Engine, questions: tuple[str, ...]
) -> None:
    run_bot()
    for question in questions:
        [answer] = say(fake, question)
    assert answer["parse_mode"] == "HTML"
    assert answer["visible"] == plain(shared_engine, *questions)
    assert "Source: " in answer["visible"]
    assert "<b>" in answer["text"] and "<i>Source: " in answer["text"]


def test_user_and_passage_text_is_escaped(fake: FakeBotAPI, run_bot: Callable, settings: Settings) -> None:
    add_passage(settings.knowledge_dir, topic="budget-rules", role="it-manager",
                text="Budget rules: spend < 10k & approvals > 2 need a <b>signed</b> form; see R&D notes.")  # fmt: skip
    run_bot(engine=fresh_engine(settings))
    [answer] = say(fake, "What are the budget rules about signed approvals?")
    # The stand-in refuses malformed HTML, so arriving at all proves the escaping; check the text too.
    assert "spend < 10k & approvals > 2 need a <b>signed</b> form; see R&D notes." in answer["visible"]
    [unknown] = say(fake, "/nope<&>")
    assert "/nope<&>" in unknown["visible"]


def long_text(seed: int, paragraphs: int, words: int = 70) -> str:
    """Make distinct, HTML-hostile passage text: made-up words, with < & > sprinkled in."""
    rng = random.Random(seed)
    out = []
    for index in range(paragraphs):
        made_up = ["".join(rng.choices(string.ascii_lowercase, k=rng.randint(3, 9))) for _ in range(words)]
        out.append(f"Paragraph {seed}-{index}: vendor audits & reviews <check> " + " ".join(made_up) + ".")
    return "\n\n".join(out)


def test_long_answers_are_split_at_paragraphs_under_the_limit_and_paced(
    fake: FakeBotAPI, run_bot: Callable, settings: Settings
) -> None:
    pm_text, itm_text = long_text(1, 6), long_text(2, 6)
    assert 3000 < len(pm_text) < 4000 and 3000 < len(itm_text) < 4000
    add_passage(settings.knowledge_dir, topic="vendor-audits", role="it-project-manager", text=pm_text)
    add_passage(settings.knowledge_dir, topic="vendor-audits", role="it-manager", text=itm_text)
    run_bot(engine=fresh_engine(settings), pacer=Pacer(per_chat=1.0, per_group=3.0, overall=1 / 30))

    say(fake, "/compare vendor audits", expect=2)
    say(fake, "/help")  # a chat's updates are handled in order: every part came before this
    parts = fake.sent(1001)[:-1]
    assert len(parts) >= 2
    assert all(utf16_len(p["visible"]) <= MESSAGE_LIMIT for p in parts)
    paragraphs = (pm_text + "\n\n" + itm_text).split("\n\n")
    for paragraph in paragraphs:  # every paragraph arrives whole, in exactly one message
        assert sum(paragraph in p["visible"] for p in parts) == 1, paragraph[:30]
    assert parts[-1]["visible"].endswith(")")  # the source line closes the last part
    assert buttons(parts[-1]) and not any(buttons(p) for p in parts[:-1])
    gaps = [b["at"] - a["at"] for a, b in zip(parts, parts[1:])]
    assert all(gap >= 0.9 for gap in gaps), gaps  # about one message a second in a chat


def test_low_confidence_offers_suggestions_that_ask_when_tapped(
    fake: FakeBotAPI, run_bot: Callable, shared_engine: Engine
) -> None:
    run_bot()
    [fallback] = say(fake, "blorp the quantum llama")
    assert fallback["visible"].startswith("Sorry, I don't know that.")
    suggestions = [b for b in buttons(fallback) if b["callback_data"].startswith("q:")]
    assert suggestions
    tap(fake, fallback, suggestions[0]["callback_data"])
    [answer] = fake.wait_sent(1001, 2)[1:]
    question = suggestions[0]["text"]
    assert answer["visible"] == plain(shared_engine, question)


def test_feedback_is_recorded_with_the_question_once(fake: FakeBotAPI, run_bot: Callable, settings: Settings) -> None:
    run_bot()
    [answer] = say(fake, "What does an IT manager do?")
    query = tap(fake, answer, button(answer, "Helpful"))
    assert "Thanks" in callback_answer(fake, query)["text"]
    feedback = settings.data_dir / "feedback.jsonl"
    [vote] = [json.loads(line) for line in feedback.read_text().splitlines()]
    assert vote["question"] == "What does an IT manager do?"
    assert vote["helpful"] is True and vote["sources"] == ["itm-responsibilities"]
    # the feedback row is taken away, and a second tap changes nothing
    fake.wait_for(lambda: fake.calls_of("editMessageReplyMarkup"), what="the buttons to be removed")
    assert not buttons(fake.messages[(1001, answer["message_id"])])
    again = tap(fake, answer, button(answer, "Helpful"))
    assert callback_answer(fake, again)["text"] == EXPIRED_BUTTON
    assert len(feedback.read_text().splitlines()) == 1

    [other] = say(fake, "blorp the quantum llama")
    tap(fake, other, button(other, "Not helpful"))
    fake.wait_for(lambda: len(feedback.read_text().splitlines()) == 2, what="the second vote")
    vote = json.loads(feedback.read_text().splitlines()[1])
    assert vote == vote | {"question": "blorp the quantum llama", "helpful": False, "kind": "fallback"}
    # suggestions stay after voting
    fake.wait_for(lambda: len(fake.calls_of("editMessageReplyMarkup")) == 2, what="the second edit")
    assert all(b["callback_data"].startswith("q:") for b in buttons(fake.messages[(1001, other["message_id"])]))


def test_follow_ups_are_remembered_per_chat(fake: FakeBotAPI, run_bot: Callable) -> None:
    run_bot()
    say(fake, "What does an IT project manager do?", chat_id=1001)
    say(fake, "How does an IT manager lead a team?", chat_id=1002)
    [first] = say(fake, "and the IT manager?", chat_id=1001)
    [second] = say(fake, "and the project manager?", chat_id=1002)
    assert first["visible"].startswith("IT Manager · Responsibilities")
    assert second["visible"].startswith("IT Project Manager · Leadership")
    [reset] = say(fake, "/reset", chat_id=1001)
    assert reset["visible"] == "New conversation."
    [why] = say(fake, "/sources", chat_id=1002)
    assert "pm-leadership" in why["visible"]


def test_group_chats_are_answered_only_when_spoken_to(fake: FakeBotAPI, run_bot: Callable) -> None:
    run_bot()
    group = -5001
    fake.push(message_update("What does an IT manager do?", chat_id=group, user_id=11))
    fake.push(message_update("/help@some_other_bot", chat_id=group, user_id=11))
    fake.push(sticker_update(chat_id=group, user_id=11))
    [mentioned] = say(fake, f"@{BOT_USERNAME} what does an IT manager do?", chat_id=group, user_id=11)
    assert mentioned["visible"].startswith("IT Manager · Responsibilities")  # the overheard ones got nothing
    asked = fake.calls_of("sendMessage")[-1].params
    assert asked["reply_parameters"]["message_id"]  # quoted, so the group sees whom it answers

    bot_message = fake.messages[(group, mentioned["message_id"])]
    [replied] = say(fake, "and the project manager?", chat_id=group, user_id=12, reply_to=bot_message)
    assert replied["visible"].startswith("IT Project Manager · Responsibilities")
    [helped] = say(fake, f"/help@{BOT_USERNAME}", chat_id=group, user_id=12)
    assert "/topics" in helped["visible"]
    [started] = say(fake, "/start", chat_id=group, user_id=12)
    assert buttons(started)
    assert len(fake.sent(group)) == 4


def test_private_chats_answer_every_message(fake: FakeBotAPI, run_bot: Callable) -> None:
    run_bot()
    for text in ("hello", "What does an IT manager do?", "thanks"):
        assert say(fake, text)


def test_non_text_messages_get_a_one_line_hint(fake: FakeBotAPI, run_bot: Callable) -> None:
    run_bot()
    for update in (sticker_update(), photo_update(), voice_update()):
        [hint] = say(fake, update=update)
        assert hint["visible"].startswith("I can only read text.")
        assert "\n" not in hint["visible"]


def test_edited_messages_are_not_answered_again(fake: FakeBotAPI, run_bot: Callable) -> None:
    run_bot()
    [answer] = say(fake, "What does an IT manager do?")
    fake.push(message_update("What does an IT project manager do?", edited=True))
    [after] = say(fake, "/help")  # chats are handled in order: the edit was seen before this
    assert len(fake.sent(1001)) == 2


def test_admin_add_is_validated_saved_and_answerable_at_once(
    fake: FakeBotAPI, run_bot: Callable, settings: Settings
) -> None:
    run_bot(engine=fresh_engine(settings))
    added_file = settings.knowledge_dir / "added.yaml"
    text = "Quarterly supplier security reviews check every vendor's controls & flag gaps older than 30 days."
    [refused] = say(fake, f"/add supplier-reviews it-manager {text}", user_id=43, chat_id=43)
    assert refused["visible"] == NOT_ADMIN
    assert not added_file.exists()
    [bad] = say(fake, f"/add supplier-reviews wizard {text}", user_id=ADMIN, chat_id=ADMIN)
    assert bad["visible"].startswith("Not added: ")
    [usage] = say(fake, "/add supplier-reviews", user_id=ADMIN, chat_id=ADMIN)
    assert usage["visible"].startswith("Usage: /add TOPIC ROLE TEXT")

    [done] = say(fake, f"/add supplier-reviews it-manager {text}", user_id=ADMIN, chat_id=ADMIN)
    assert done["visible"].startswith("Added itm-supplier-reviews-")
    assert text in added_file.read_text()
    [answer] = say(fake, "How often are supplier security reviews done?", user_id=43, chat_id=43)
    assert text in answer["visible"]
    [duplicate] = say(fake, f"/add supplier-reviews it-manager {text}", user_id=ADMIN, chat_id=ADMIN)
    assert "near-duplicate" in duplicate["visible"]


def test_a_typing_indicator_comes_before_the_answer(fake: FakeBotAPI, run_bot: Callable) -> None:
    run_bot()
    say(fake, "What does an IT manager do?")
    methods = [c.method for c in fake.calls if c.method in ("sendChatAction", "sendMessage")]
    assert methods == ["sendChatAction", "sendMessage"]
    assert fake.calls_of("sendChatAction")[0].params["action"] == "typing"


# -- reliability and security --------------------------------------------------------------------


def test_an_unhandled_error_is_logged_with_the_update_id_and_apologised_for(
    fake: FakeBotAPI, run_bot: Callable, caplog: pytest.LogCaptureFixture
) -> None:
    run_bot()
    fake.fail("sendMessage", status=400, description="Bad Request: can't parse entities")
    update = message_update("What does an IT manager do?")
    with caplog.at_level(logging.ERROR, logger="bot.telegram_bot"):
        [apology] = say(fake, update=update)
    assert apology["text"] == APOLOGY
    assert f"update {update['update_id']}" in caplog.text
    [answer] = say(fake, "What does an IT manager do?")  # the next update is handled normally
    assert answer["visible"].startswith("IT Manager · Responsibilities")


@pytest.mark.filterwarnings("ignore:.*retry_after.*")  # python-telegram-bot's own, building the error
def test_flood_control_429_is_waited_out_and_the_reply_sent_once(fake: FakeBotAPI, run_bot: Callable) -> None:
    run_bot()
    fake.fail("sendMessage", status=429, description="Too Many Requests: retry after 1", retry_after=1)
    [answer] = say(fake, "What does an IT manager do?")
    [refused] = fake.calls_of("sendMessage", outcome="error")
    delivered = fake.calls_of("sendMessage")[0]
    assert delivered.at - refused.at >= 0.95
    say(fake, "/help")
    assert len(fake.sent(1001)) == 2


def test_bad_gateway_and_a_hung_request_are_retried_and_delivered_once(
    fake: FakeBotAPI, run_bot: Callable
) -> None:
    run_bot(read_timeout=1.5, limiter=DeliveryLimiter(NO_PACING, backoff=0.2))
    fake.fail("sendMessage", status=502)
    say(fake, "What does an IT manager do?")
    fake.hang("sendMessage")
    say(fake, "What does an IT project manager do?")
    assert len(fake.calls_of("sendMessage", outcome="error")) == 1
    assert len(fake.calls_of("sendMessage", outcome="hung")) == 1
    say(fake, "/help")
    visible = [m["visible"].split("\n")[0] for m in fake.sent(1001)]
    assert visible[:2] == ["IT Manager · Responsibilities", "IT Project Manager · Responsibilities"]
    assert len(visible) == 3


def test_the_same_update_id_is_answered_once(fake: FakeBotAPI, run_bot: Callable) -> None:
    bot = run_bot()
    update = message_update("What does an IT manager do?", update_id=fake.next_update_id())
    bot.feed(update)
    bot.feed(json.loads(json.dumps(update)))  # redelivered, as Telegram does when unsure
    fake.push(message_update("/help"))
    fake.wait_sent(1001, 2)
    assert [m["visible"].split("\n")[0] for m in fake.sent(1001)][0] == "IT Manager · Responsibilities"
    assert len(fake.sent(1001)) == 2


def test_unknown_and_old_buttons_are_answered_gracefully(
    fake: FakeBotAPI, run_bot: Callable, settings: Settings, shared_engine: Engine
) -> None:
    first = run_bot()
    [fallback] = say(fake, "blorp the quantum llama")
    first.stop()
    run_bot()  # a restart: in-memory state is gone
    suggestion = next(b for b in buttons(fallback) if b["callback_data"].startswith("q:"))
    tap(fake, fallback, suggestion["callback_data"])
    [answer] = fake.wait_sent(1001, 2)[1:]
    assert answer["visible"] == plain(shared_engine, suggestion["text"])
    old_vote = tap(fake, fallback, button(fallback, "Helpful"))
    assert callback_answer(fake, old_vote)["text"] == EXPIRED_BUTTON
    unknown = tap(fake, fallback, "zz:what-is-this")
    assert callback_answer(fake, unknown)["text"] == EXPIRED_BUTTON
    assert not (settings.data_dir / "feedback.jsonl").exists()
    assert len(fake.sent(1001)) == 2


def test_every_button_fits_in_64_bytes(fake: FakeBotAPI, run_bot: Callable, settings: Settings) -> None:
    long_topic = "-".join(["governance"] * 12)
    add_passage(settings.knowledge_dir, topic=long_topic, role=None, text="Governance boards meet monthly.")
    run_bot(engine=fresh_engine(settings))
    [menu] = say(fake, "/topics")
    [greeting] = say(fake, "/start")
    [fallback] = say(fake, "blorp the quantum llama")
    for message in (menu, greeting, fallback):
        assert all(len(b["callback_data"].encode()) <= 64 for b in buttons(message))
    tap(fake, menu, buttons(menu)[-1]["callback_data"])
    [topic] = fake.wait_sent(1001, 4)[3:]
    assert "Governance boards meet monthly." in topic["visible"]


def test_one_flooding_user_is_told_to_slow_down_and_others_are_unaffected(
    fake: FakeBotAPI, run_bot: Callable
) -> None:
    run_bot(flood=FloodLimit(max_messages=5, per_seconds=60))
    for _ in range(8):
        fake.push(message_update("What does an IT manager do?", chat_id=2001))
    [answer] = say(fake, "What does an IT project manager do?", chat_id=2002)
    assert answer["visible"].startswith("IT Project Manager")
    first = fake.wait_sent(2001, 6)[0]
    query = tap(fake, first, "zz:x")
    callback_answer(fake, query)  # handled after every message before it in the chat
    texts = [m["visible"] for m in fake.sent(2001)]
    assert texts.count(FLOOD_NOTICE) == 1
    assert len(texts) == 6, texts
