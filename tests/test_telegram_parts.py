"""The Telegram adapter's small parts: message splitting, limits, callback data, vote buttons and log redaction."""

from __future__ import annotations

import io
import json
import logging
import urllib.error
import urllib.request
from typing import Any

import pytest
from botapi_fake import TOKEN, ApiError, FakeBotAPI, parse_html
from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.engine import Answer, Section, Source
from bot.telegram_bot import (
    ASK,
    CALLBACK_DATA_LIMIT,
    HELPFUL,
    REVIEW_PROMOTE,
    UNHELPFUL,
    Block,
    FloodLimit,
    Pacer,
    RedactToken,
    SeenUpdates,
    _listen_address,
    _offers,
    _without_feedback,
    button_data,
    configure_logging,
    format_answer,
    short_key,
    split_message,
    utf16_len,
)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def visible(message: str) -> str:
    return parse_html(message)  # the stand-in's parser: also proves the HTML is well formed


def test_a_short_answer_is_one_message_with_escaped_text() -> None:
    answer = Answer(
        question="q",
        kind="retrieval",
        sections=(Section("IT Manager · Budgets", "Spend < 10k & sign-off > 2 <b>people</b>.", "itm-budgets"),),
        confidence=0.9,
        sources=(Source("itm-budgets", "it-manager", "budgets", 0.9),),
    )
    [message] = format_answer(answer)
    assert message.startswith("<b>IT Manager · Budgets</b>\nSpend &lt; 10k &amp; sign-off &gt; 2 &lt;b&gt;")
    assert visible(message) == f"{answer.text}\n\n{answer.citation}"


def test_splitting_breaks_between_paragraphs_and_keeps_every_word() -> None:
    paragraphs = [f"paragraph {i} " + "word &" * 150 for i in range(12)]
    blocks = [Block("Title", "b")] + [Block(p, "", "\n" if i == 0 else "\n\n") for i, p in enumerate(paragraphs)]
    messages = split_message(blocks, limit=2000)
    assert len(messages) > 1
    seen = [visible(m) for m in messages]
    assert all(utf16_len(text) <= 2000 for text in seen)
    for paragraph in paragraphs:
        assert sum(paragraph.strip() in text for text in seen) == 1
    assert "\n\n".join(seen) == "Title\n" + "\n\n".join(p.strip() for p in paragraphs)


def test_a_section_title_moves_to_the_next_message_with_its_first_paragraph() -> None:
    blocks = [Block("A" * 900), Block("Title two", "b"), Block("B" * 300, "", "\n"), Block("C" * 50)]
    first, second = (visible(m) for m in split_message(blocks, limit=1000))
    assert first == "A" * 900  # not "...\n\nTitle two", a heading cut off from its text
    assert second == "Title two\n" + "B" * 300 + "\n\n" + "C" * 50
    # a title and a paragraph that could never share a message still keep every word, under the limit
    huge = [Block("Title", "b"), Block("word " * 400, "", "\n")]
    assert all(utf16_len(visible(m)) <= 1000 for m in split_message(huge, limit=1000))


def test_a_paragraph_over_the_limit_is_cut_at_sentences_then_words_then_characters() -> None:
    sentences = " ".join(f"Sentence {i} is here." for i in range(400))
    messages = split_message([Block(sentences)], limit=500)
    assert all(utf16_len(visible(m)) <= 500 for m in messages)
    assert all(visible(m).endswith(".") for m in messages)
    unbroken = "x" * 1200
    assert [len(visible(m)) for m in split_message([Block(unbroken, "i")], limit=500)] == [500, 500, 200]


def test_length_is_counted_in_utf16_units_as_telegram_does() -> None:
    assert utf16_len("👍") == 2 and utf16_len("é") == 1
    emoji = "👍 " * 3000  # 6000 code points, 9000 UTF-16 units
    messages = split_message([Block(emoji)])
    assert all(utf16_len(visible(m)) <= 4096 for m in messages)
    assert len(messages) == 3


def test_the_stand_in_rejects_what_telegram_rejects() -> None:
    for bad in ("a < b", "R&D", "x > y", "<br>", "<b>open", "<b><i>crossed</b></i>", "</b>"):
        with pytest.raises(ApiError):
            parse_html(bad)
    assert parse_html("<b>a</b> &lt;&amp;&gt; &#39;<a href='x'>l</a>") == "a <&> 'l"


def call(fake: FakeBotAPI, method: str, params: dict[str, Any], token: str = TOKEN) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(
        f"{fake.base_url}{token}/{method}", json.dumps(params).encode(), {"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_the_stand_in_refuses_a_wrong_token_long_text_and_long_callback_data() -> None:
    with FakeBotAPI() as fake:
        assert call(fake, "getMe", {}, token="1:wrong")[0] == 401
        assert call(fake, "sendMessage", {"chat_id": 1, "text": "x" * 4096})[0] == 200
        status, answer = call(fake, "sendMessage", {"chat_id": 1, "text": "👍" * 2049})
        assert (status, answer["description"]) == (400, "Bad Request: message is too long")
        escaped = "&amp;" * 4096  # long as HTML, 4,096 characters once parsed
        assert call(fake, "sendMessage", {"chat_id": 1, "text": escaped, "parse_mode": "HTML"})[0] == 200
        keyboard = {"inline_keyboard": [[{"text": "go", "callback_data": "x" * 65}]]}
        status, answer = call(fake, "sendMessage", {"chat_id": 1, "text": "hi", "reply_markup": keyboard})
        assert (status, answer["description"]) == (400, "Bad Request: BUTTON_DATA_INVALID")
        fake.fail("sendMessage", status=429, retry_after=3, description="Too Many Requests: retry after 3")
        assert call(fake, "sendMessage", {"chat_id": 1, "text": "hi"})[1]["parameters"] == {"retry_after": 3}
        assert call(fake, "noSuchMethod", {})[0] == 404
        assert [c.outcome for c in fake.calls] == ["unauthorized", "ok", "error", "ok", "error", "error", "error"]


def test_callback_data_stays_within_64_bytes() -> None:
    assert len(button_data("q", short_key("x" * 500)).encode()) <= CALLBACK_DATA_LIMIT
    assert short_key("leadership") == short_key("leadership") != short_key("focus")
    with pytest.raises(ValueError):
        button_data("q", "é" * 40)


def test_pacer_spaces_messages_per_chat_per_group_and_overall() -> None:
    clock = Clock()
    pacer = Pacer(per_chat=1.0, per_group=3.0, overall=0.1, clock=clock)
    assert pacer.reserve(1) == 0
    assert pacer.reserve(1) == pytest.approx(1.0)
    assert pacer.reserve(2) == pytest.approx(0.1)  # another chat only keeps the overall gap
    assert pacer.reserve(-5) == pytest.approx(0.2)
    assert pacer.reserve(-5) == pytest.approx(3.2)
    clock.now += 10
    assert pacer.reserve(1) == 0


def test_flood_limit_warns_once_then_drops_and_forgets_after_the_window() -> None:
    clock = Clock()
    flood = FloodLimit(max_messages=3, per_seconds=60, clock=clock)
    assert [flood.check(1) for _ in range(6)] == ["allow"] * 3 + ["notify", "drop", "drop"]
    assert flood.check(2) == "allow"
    clock.now += 61
    assert flood.check(1) == "allow"


def test_seen_updates_remember_a_bounded_number() -> None:
    seen = SeenUpdates(size=3)
    assert [seen.first_time(i) for i in (1, 2, 1, 3, 4, 5)] == [True, True, False, True, True, True]
    assert seen.first_time(1)  # forgotten: long gone from Telegram's redelivery window


def test_a_vote_counts_only_while_its_button_is_shown_and_voting_keeps_the_other_buttons() -> None:
    suggestion = InlineKeyboardButton("What does an IT manager do?", callback_data=button_data(ASK, short_key("x")))
    votes = [
        InlineKeyboardButton("👍 Helpful", callback_data=button_data(HELPFUL, "12")),
        InlineKeyboardButton("👎 Not helpful", callback_data=button_data(UNHELPFUL, "12")),
    ]
    markup = InlineKeyboardMarkup([[suggestion], votes])
    assert _offers(markup, "f+:12") and not _offers(markup, "f+:13") and not _offers(None, "f+:12")
    assert _without_feedback(markup) == InlineKeyboardMarkup([[suggestion]])
    assert _without_feedback(InlineKeyboardMarkup([votes])) is None
    assert len(button_data(REVIEW_PROMOTE, f"{10**15 - 1}:{short_key('a' * 300)}").encode()) <= CALLBACK_DATA_LIMIT


def test_the_token_never_reaches_the_log() -> None:
    stream = io.StringIO()
    handler = configure_logging(TOKEN, stream=stream, level=logging.DEBUG)
    try:
        logging.getLogger("httpx").warning("HTTP Request: POST https://api.telegram.org/bot%s/getMe", TOKEN)
        logging.getLogger("telegram.ext").error("token `%s` was rejected", TOKEN)
        try:
            raise RuntimeError(f"The token `{TOKEN}` was rejected by the server.")
        except RuntimeError:
            logging.getLogger("bot").exception("failed with %s", TOKEN.partition(":")[2])
        assert logging.getLogger("httpx").level == logging.WARNING  # its request lines carry the token
    finally:
        logging.getLogger().removeHandler(handler)
        logging.getLogger().setLevel(logging.WARNING)
    output = stream.getvalue()
    assert TOKEN not in output and TOKEN.partition(":")[2] not in output
    assert output.count("[token]") == 4 and "RuntimeError" in output


def test_redaction_survives_a_malformed_log_call() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "%s %s", (TOKEN,), None)
    RedactToken(TOKEN).filter(record)
    assert TOKEN not in record.getMessage()


def test_listen_address_is_host_and_port() -> None:
    assert _listen_address("0.0.0.0:8443") == ("0.0.0.0", 8443)
    assert _listen_address("[::1]:80") == ("::1", 80)
    for bad in ("8443", "host:", "host:http", "host:70000"):
        with pytest.raises(ValueError):
            _listen_address(bad)
