"""The Telegram bot, running in-process against the local Bot API stand-in and driven by real updates."""

from __future__ import annotations

import hashlib
import json
import logging
import random
import shutil
import sqlite3
import string
import threading
import time
from dataclasses import replace
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

from bot.engine import Answer, Conversation, Engine, Source, load_engine
from bot.questionlog import QuestionLog
from bot.settings import PROJECT_ROOT, Settings
from bot.store import add_passage
from bot.telegram_bot import (
    APOLOGY,
    EXPIRED_BUTTON,
    FEEDBACK_THANKS,
    FLOOD_NOTICE,
    MESSAGE_LIMIT,
    NOT_ADMIN,
    NOT_ADMIN_REVIEW,
    REVIEW_EMPTY,
    REVIEW_HANDLED,
    REVIEW_IN_PRIVATE,
    REVIEW_NO_LOG,
    DeliveryLimiter,
    FloodLimit,
    Pacer,
    build_application,
    utf16_len,
)

ADMIN = 42
LOGGED_USER = 987650123
NO_PACING = Pacer(per_chat=0, per_group=0, overall=0)


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


def logged(settings: Settings) -> list[dict[str, Any]]:
    """Read the question log's rows straight from its SQLite file, oldest first."""
    db = sqlite3.connect(settings.data_dir / "questions.sqlite3")
    db.row_factory = sqlite3.Row
    try:
        return [dict(row) for row in db.execute("SELECT * FROM questions ORDER BY id")]
    finally:
        db.close()


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
    assert "/add" not in reply["visible"] and "/review" not in reply["visible"]  # not theirs to use
    [admin] = say(fake, "/help", chat_id=ADMIN, user_id=ADMIN)
    assert admin["visible"].startswith(reply["visible"])
    assert "/add TOPIC ROLE TEXT" in admin["visible"] and "/review" in admin["visible"]


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


UNSURE = "What skills does an IT manager need?"


def test_a_low_confidence_answer_keeps_its_passage_and_offers_did_you_mean_buttons(
    fake: FakeBotAPI, run_bot: Callable, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = fresh_engine(settings)
    real_ask = engine.ask
    offered = ("What does an IT manager do?", "How does an IT project manager lead a team?")

    def unsure(text: str, conversation: Conversation | None = None) -> Answer:
        answer = real_ask(text, conversation)
        return replace(answer, confidence=0.3, suggestions=offered) if text == UNSURE else answer

    monkeypatch.setattr(engine, "ask", unsure)
    run_bot(engine=engine)
    [answer] = say(fake, UNSURE)
    assert answer["visible"].startswith("IT ") and "Source: " in answer["visible"]  # a passage, not a fallback
    assert "Did you mean one of these? Tap to ask." in answer["visible"]
    asks = [b for b in buttons(answer) if b["callback_data"].startswith("q:")]
    assert [b["text"] for b in asks] == list(offered)
    assert button(answer, "Not helpful")  # unsure answers can be rated too
    tap(fake, answer, asks[1]["callback_data"])
    [tapped] = fake.wait_sent(1001, 2)[1:]
    assert tapped["visible"].startswith("IT Project Manager · Leadership")


def test_every_answer_is_logged_with_a_salted_hash_of_the_user_never_the_id_or_name(
    fake: FakeBotAPI, run_bot: Callable, settings: Settings
) -> None:
    run_bot()
    say(fake, "What does an IT manager do?", chat_id=LOGGED_USER)
    [fallback] = say(fake, "blorp the quantum llama", chat_id=LOGGED_USER)
    tap(fake, fallback, next(b for b in buttons(fallback) if b["callback_data"].startswith("q:"))["callback_data"])
    fake.wait_sent(LOGGED_USER, 3)
    say(fake, "/compare leadership", chat_id=LOGGED_USER)
    say(fake, f"@{BOT_USERNAME} what does an IT project manager do?", chat_id=-5001, user_id=LOGGED_USER + 1)
    say(fake, "/help", chat_id=LOGGED_USER)  # a command, not a question: not logged

    question_log = QuestionLog(settings.data_dir)
    rows = logged(settings)
    assert [(r["channel"], r["question"]) for r in rows][:2] == [
        ("telegram", "What does an IT manager do?"),
        ("telegram", "blorp the quantum llama"),
    ]
    assert rows[1]["kind"] == "fallback"
    assert rows[0]["sources"] and json.loads(rows[0]["sources"])[0]["id"] == "itm-responsibilities"
    assert len(rows) == 5  # typed, tapped suggestion, /compare, and the group question
    assert rows[4]["question"] == "what does an IT project manager do?"  # without the mention
    hashed = question_log.hash_user(LOGGED_USER)
    assert [r["user_hash"] for r in rows] == [hashed] * 4 + [question_log.hash_user(LOGGED_USER + 1)]
    assert hashed != hashlib.sha256(str(LOGGED_USER).encode()).hexdigest()[:32]  # salted, not guessable
    # Neither the raw id nor the name (the stand-in's users are all "Ada") is stored anywhere.
    for row in rows:
        for value in row.values():
            assert str(LOGGED_USER) not in str(value) and "Ada" not in str(value)
    for path in settings.data_dir.glob("questions.sqlite3*"):
        assert str(LOGGED_USER).encode() not in path.read_bytes()


def test_feedback_buttons_record_the_vote_on_the_logged_row_once(
    fake: FakeBotAPI, run_bot: Callable, settings: Settings
) -> None:
    run_bot()
    [answer] = say(fake, "What does an IT manager do?")
    [row] = logged(settings)
    helpful = button(answer, "Helpful")
    assert helpful == f"f+:{row['id']}" and button(answer, "Not helpful") == f"f-:{row['id']}"
    query = tap(fake, answer, helpful)
    assert callback_answer(fake, query)["text"] == FEEDBACK_THANKS
    assert logged(settings)[0]["helpful"] == 1
    # the feedback row is taken away, and a second tap changes nothing
    fake.wait_for(lambda: fake.calls_of("editMessageReplyMarkup"), what="the buttons to be removed")
    assert not buttons(fake.messages[(1001, answer["message_id"])])
    again = tap(fake, answer, helpful)
    assert callback_answer(fake, again)["text"] == EXPIRED_BUTTON
    again = tap(fake, answer, f"f-:{row['id']}")  # not a button it shows: not counted
    assert callback_answer(fake, again)["text"] == EXPIRED_BUTTON
    assert logged(settings)[0]["helpful"] == 1

    [other] = say(fake, "blorp the quantum llama")
    query = tap(fake, other, button(other, "Not helpful"))
    assert callback_answer(fake, query)["text"] == FEEDBACK_THANKS
    assert [(r["question"], r["helpful"]) for r in logged(settings)] == [
        ("What does an IT manager do?", 1),
        ("blorp the quantum llama", 0),
    ]
    stats = QuestionLog(settings.data_dir).stats()
    assert (stats.rated, stats.helpful) == (2, 1)
    assert [i.question for i in QuestionLog(settings.data_dir).review()] == ["blorp the quantum llama"]
    # suggestions stay after voting
    fake.wait_for(lambda: len(fake.calls_of("editMessageReplyMarkup")) == 2, what="the second edit")
    assert all(b["callback_data"].startswith("q:") for b in buttons(fake.messages[(1001, other["message_id"])]))
    [small] = say(fake, "thanks")  # small talk has nothing to rate
    assert not any(b["callback_data"].startswith("f") for b in buttons(small))
    assert not (settings.data_dir / "feedback.jsonl").exists()


def test_a_broken_question_log_never_stops_answers(
    fake: FakeBotAPI, run_bot: Callable, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    settings.data_dir.mkdir(parents=True)
    (settings.data_dir / "questions.sqlite3").write_text("this is not a database")
    with caplog.at_level(logging.WARNING, logger="bot.telegram_bot"):
        run_bot()
        [answer] = say(fake, "What does an IT manager do?")
    assert answer["visible"].startswith("IT Manager · Responsibilities")
    assert not any(b["callback_data"].startswith("f") for b in buttons(answer))  # nothing to record a vote in
    assert "questions are not being logged" in caplog.text
    [refused] = say(fake, "/review", user_id=ADMIN, chat_id=ADMIN)
    assert refused["visible"] == REVIEW_NO_LOG


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


NEW_TEXT = "An IT manager sets the rules for quantum computing pilots and keeps their hardware budget in check."
NEW_QUESTION = "Who sets the rules for quantum computing pilots?"
RELOAD_WITHIN = 2.0


def test_knowledge_changed_by_another_writer_is_answered_within_two_seconds_without_a_restart(
    fake: FakeBotAPI, run_bot: Callable, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    run_bot(engine=fresh_engine(settings))
    [before] = say(fake, NEW_QUESTION)
    assert NEW_TEXT not in before["visible"]

    # another writer, through the store as `rolebot add` does
    add_passage(settings.knowledge_dir, topic="quantum-pilots", role="it-manager", text=NEW_TEXT)
    written = time.monotonic()
    time.sleep(max(0.0, written + RELOAD_WITHIN - time.monotonic()))
    [after] = say(fake, NEW_QUESTION)
    assert NEW_TEXT in after["visible"]

    # A change that does not validate is logged, and the last good knowledge keeps answering.
    with caplog.at_level(logging.ERROR, logger="rolebot.reload"):
        (settings.knowledge_dir / "broken.yaml").write_text("source: broken\npassages:\n- id: [unclosed\n")
        fake.wait_for(lambda: "knowledge change not loaded" in caplog.text, timeout=10, what="the error to be logged")
    assert "broken.yaml" in caplog.text
    [still] = say(fake, NEW_QUESTION)
    assert NEW_TEXT in still["visible"]
    [old] = say(fake, "What does an IT manager do?")
    assert old["visible"].startswith("IT Manager · Responsibilities")


def test_the_knowledge_watcher_stops_with_the_bot(fake: FakeBotAPI, run_bot: Callable, settings: Settings) -> None:
    bot = run_bot(engine=fresh_engine(settings))
    say(fake, "What does an IT manager do?")
    assert any(t.name == "rolebot-knowledge-watcher" for t in threading.enumerate())
    bot.stop()
    assert not any(t.name == "rolebot-knowledge-watcher" for t in threading.enumerate())


GAP = "Who keeps the lights on for the company's systems?"


def log_gap(settings: Settings) -> int:
    """Log a question the bot could not answer, with the passage the retriever ranked best for it."""
    ranked = (Source("itm-responsibilities", "it-manager", "responsibilities", 0.12),)
    gap = Answer(GAP, "fallback", (), 0.0, candidates=ranked)
    return QuestionLog(settings.data_dir).log_answer(gap, "telegram", user=44)


def edited(fake: FakeBotAPI, message: dict[str, Any], edits: int) -> dict[str, Any]:
    """Wait for the `edits`-th editMessageText and return the message as it is now."""
    fake.wait_for(lambda: len(fake.calls_of("editMessageText")) >= edits, what=f"edit number {edits}")
    return fake.messages[(message["chat_id"], message["message_id"])] | {"chat_id": message["chat_id"]}


def test_admin_review_lists_questions_then_promotes_and_dismisses_them(
    fake: FakeBotAPI, run_bot: Callable, settings: Settings
) -> None:
    run_bot(engine=fresh_engine(settings))
    for _ in range(2):
        say(fake, "blorp the quantum llama", user_id=43, chat_id=43)
    gap = log_gap(settings)

    [listing] = say(fake, "/review", user_id=ADMIN, chat_id=ADMIN)
    lines = listing["visible"].splitlines()
    assert lines[0].startswith("Questions to review")
    assert lines[2:6] == [
        "#1 blorp the quantum llama", "asked 2×: fallback x2", f"#{gap} {GAP}", "asked 1×: fallback x1"
    ]
    assert [b["callback_data"] for b in buttons(listing)] == ["ri:1", f"ri:{gap}"]

    # an item: why it is listed, and the passages to promote it to
    tap(fake, listing, f"ri:{gap}", user_id=ADMIN)
    detail = edited(fake, listing, 1)
    assert "itm-responsibilities: " in detail["text"] and "last answer: fallback" in detail["text"]
    promote = button(detail, "itm-responsibilities")
    assert promote.startswith(f"rp:{gap}:") and len(promote.encode()) <= 64
    assert {b["text"] for b in buttons(detail)} >= {"🗑 Dismiss", "« All questions"}

    query = tap(fake, detail, promote, user_id=ADMIN)
    assert callback_answer(fake, query)["text"] == f"Promoted #{gap}: it is now a phrasing of itm-responsibilities."
    after = edited(fake, listing, 2)
    assert after["text"].startswith(f"✅ Promoted #{gap}")
    assert GAP not in after["text"] and [b["callback_data"] for b in buttons(after)] == ["ri:1"]
    assert GAP in (settings.knowledge_dir / "article.yaml").read_text()
    [answer] = say(fake, GAP, user_id=43, chat_id=43)  # the running bot answers it at once
    assert answer["visible"].startswith("IT Manager · Responsibilities")
    stale = tap(fake, detail, promote, user_id=ADMIN)  # the same button again
    assert callback_answer(fake, stale)["text"] == REVIEW_HANDLED

    tap(fake, after, "ri:1", user_id=ADMIN)
    detail = edited(fake, listing, 4)
    query = tap(fake, detail, button(detail, "Dismiss"), user_id=ADMIN)
    assert callback_answer(fake, query)["text"] == "Dismissed #1 (2 logged questions)."
    done = edited(fake, listing, 5)
    assert done["text"].startswith("✅ Dismissed #1") and REVIEW_EMPTY in done["text"]
    assert not buttons(done)
    statuses = {(r["question"], r["status"], r["promoted_to"]) for r in logged(settings)}
    assert ("blorp the quantum llama", "dismissed", None) in statuses
    assert (GAP, "promoted", "itm-responsibilities") in statuses
    [empty] = say(fake, "/review", user_id=ADMIN, chat_id=ADMIN)
    assert empty["visible"] == REVIEW_EMPTY


def test_review_is_refused_to_non_admins_and_outside_private_chats(
    fake: FakeBotAPI, run_bot: Callable, settings: Settings
) -> None:
    run_bot()
    gap = log_gap(settings)
    [refused] = say(fake, "/review", user_id=43, chat_id=43)
    assert refused["visible"] == NOT_ADMIN_REVIEW
    [in_group] = say(fake, f"/review@{BOT_USERNAME}", user_id=ADMIN, chat_id=-5001)
    assert in_group["visible"] == REVIEW_IN_PRIVATE

    [listing] = say(fake, "/review", user_id=ADMIN, chat_id=ADMIN)
    for data in (f"ri:{gap}", f"rd:{gap}", f"rp:{gap}:{'0' * 16}", "rl:"):
        query = tap(fake, listing, data, user_id=43)  # someone else's tap, e.g. a forged client
        assert callback_answer(fake, query)["text"] == NOT_ADMIN_REVIEW
    assert [i.number for i in QuestionLog(settings.data_dir).review()] == [gap]
    query = tap(fake, listing, f"rp:{gap}:{'0' * 16}", user_id=ADMIN)  # a passage it does not offer
    assert callback_answer(fake, query)["text"] == EXPIRED_BUTTON
    query = tap(fake, listing, "ri:424242", user_id=ADMIN)
    assert callback_answer(fake, query)["text"] == REVIEW_HANDLED
    # ... and shows the list again, unchanged: Telegram refuses an identical edit, which is no error
    query = tap(fake, listing, "rl:", user_id=ADMIN)  # "« All questions" on an unchanged list, the same
    callback_answer(fake, query)
    say(fake, "/help", user_id=ADMIN, chat_id=ADMIN)  # a chat's updates are handled in order
    refused = fake.calls_of("editMessageText", outcome="error")
    assert len(refused) == 2 and all(c.status == 400 for c in refused)
    assert APOLOGY not in [m["text"] for m in fake.sent(ADMIN)]


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


def test_a_crash_in_the_engine_is_logged_with_its_traceback_and_apologised_for(
    fake: FakeBotAPI, run_bot: Callable, settings: Settings, monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    engine = fresh_engine(settings)
    real_ask = engine.ask

    def fragile(text: str, conversation: Conversation | None = None) -> Answer:
        if "explode" in text.lower():
            raise RuntimeError("the engine broke")
        return real_ask(text, conversation)

    monkeypatch.setattr(engine, "ask", fragile)
    run_bot(engine=engine)
    update = message_update("please explode")
    with caplog.at_level(logging.ERROR, logger="bot.telegram_bot"):
        [apology] = say(fake, update=update)
    assert apology["text"] == APOLOGY
    assert f"error while handling update {update['update_id']}" in caplog.text
    assert "Traceback" in caplog.text and "RuntimeError: the engine broke" in caplog.text

    # a button whose handler fails: its spinner is stopped and the chat gets the apology
    [greeting] = say(fake, "/start")
    monkeypatch.setattr(engine, "ask", lambda *args: (_ for _ in ()).throw(RuntimeError("the engine broke")))
    query = tap(fake, greeting, buttons(greeting)[0]["callback_data"])
    [apology] = fake.wait_sent(1001, 3)[2:]
    assert apology["text"] == APOLOGY
    assert callback_answer(fake, query) is not None
    monkeypatch.setattr(engine, "ask", real_ask)
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
    # a vote refers to its question-log row, so it still counts after a restart
    old_vote = tap(fake, fallback, button(fallback, "Helpful"))
    assert callback_answer(fake, old_vote)["text"] == FEEDBACK_THANKS
    assert logged(settings)[0]["helpful"] == 1
    for stale in ("zz:what-is-this", "f+:0a1b2c3d4e5f", "f-:999999", "rv:1", "rp:1:nope", "ri:x"):
        unknown = tap(fake, fallback, stale)
        assert callback_answer(fake, unknown)["text"] in (EXPIRED_BUTTON, NOT_ADMIN_REVIEW), stale
    assert logged(settings)[0]["helpful"] == 1
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
