"""The real `rolebot telegram` process against the Bot API stand-in: start-up, polling, webhook, reload, SIGTERM."""

from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path
from typing import Any, Iterator

import pytest
from botapi_fake import TOKEN, FakeBotAPI, free_port, message_update

from bot.telegram_bot import APOLOGY

SECRET = "s3cret-for_tests"
ROLEBOT = Path(sys.executable).with_name("rolebot")


def command(*args: str) -> list[str]:
    if ROLEBOT.exists():
        return [str(ROLEBOT), *args]
    return [sys.executable, "-m", "bot", *args]  # pragma: no cover - no console script installed


@pytest.fixture
def fake() -> Iterator[FakeBotAPI]:
    with FakeBotAPI() as api:
        yield api


@pytest.fixture
def environment(tmp_path: Path, fake: FakeBotAPI) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "ROLEBOT_"))}
    env |= {
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_BASE_URL": fake.base_url,
        "ROLEBOT_DATA_DIR": str(tmp_path / "data"),
        "PYTHONUNBUFFERED": "1",
        # Anything that tried the real network would fail fast instead of hanging.
        "HTTPS_PROXY": "http://127.0.0.1:9",
        "HTTP_PROXY": "http://127.0.0.1:9",
        "NO_PROXY": "127.0.0.1,localhost",
    }
    return env


class Bot:
    """A running `rolebot telegram` process, its output collected in files."""

    def __init__(self, args: list[str], env: dict[str, str], workdir: Path) -> None:
        self.stdout_path, self.stderr_path = workdir / "stdout.txt", workdir / "stderr.txt"
        self.process = subprocess.Popen(
            command("telegram", *args),
            env=env,
            cwd=workdir,
            stdin=subprocess.DEVNULL,
            stdout=self.stdout_path.open("w"),
            stderr=self.stderr_path.open("w"),
        )

    @property
    def output(self) -> str:
        return self.stdout_path.read_text() + self.stderr_path.read_text()

    def terminate(self, timeout: float = 20.0) -> tuple[int, float]:
        """Send SIGTERM; return the exit code and how long stopping took."""
        started = time.monotonic()
        self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout)
        return code, time.monotonic() - started

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)


@pytest.fixture
def launch(environment: dict[str, str], tmp_path: Path) -> Iterator[Any]:
    started: list[Bot] = []

    def start(*args: str, env: dict[str, str] | None = None) -> Bot:
        bot = Bot(list(args), env or environment, tmp_path)
        started.append(bot)
        return bot

    yield start
    for bot in started:
        bot.kill()


def run(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command(*args), env=env, cwd=cwd, capture_output=True, text=True, timeout=60)


def test_no_token_is_a_one_line_error_and_exit_2(environment: dict[str, str], tmp_path: Path) -> None:
    del environment["TELEGRAM_BOT_TOKEN"]
    result = run(["telegram"], environment, tmp_path)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1 and "TELEGRAM_BOT_TOKEN" in result.stderr


def test_a_rejected_token_is_a_clear_error_with_no_retry_loop(
    fake: FakeBotAPI, environment: dict[str, str], tmp_path: Path
) -> None:
    rejected = "987654321:AAH-not-the-right-token_0123456789"
    environment["TELEGRAM_BOT_TOKEN"] = rejected
    started = time.monotonic()
    result = run(["telegram"], environment, tmp_path)
    assert result.returncode == 1
    assert "Telegram rejected the token (401 Unauthorized)" in result.stderr
    assert rejected not in result.stdout + result.stderr
    assert rejected.partition(":")[2] not in result.stdout + result.stderr
    assert [c.method for c in fake.calls] == ["getMe"]  # asked once, not again and again
    assert time.monotonic() - started < 30


def test_webhook_mode_needs_a_secret(environment: dict[str, str], tmp_path: Path) -> None:
    result = run(["telegram", "--webhook", "https://example.org/hook"], environment, tmp_path)
    assert result.returncode == 2
    assert "TELEGRAM_WEBHOOK_SECRET" in result.stderr


def test_polling_answers_and_sigterm_stops_cleanly(fake: FakeBotAPI, launch: Any) -> None:
    bot = launch()
    fake.wait_for(lambda: fake.calls_of("getUpdates"), timeout=60, what="the bot to start polling")
    fake.push(message_update("/start"))
    last_id = fake.push(message_update("What does an IT manager do?"))
    replies = fake.wait_sent(1001, 2, timeout=60)
    assert "IT Project Manager" in replies[0]["visible"]
    assert replies[1]["visible"].startswith("IT Manager · Responsibilities")

    code, took = bot.terminate()
    assert code == 0
    assert took < 10
    assert TOKEN not in bot.output and TOKEN.partition(":")[2] not in bot.output
    assert "Traceback" not in bot.output
    # on the way out, it confirms what it fetched so nothing is answered twice after a restart
    last_poll = fake.calls_of("getUpdates")[-1].params
    assert last_poll["offset"] == last_id + 1 and last_poll["timeout"] == 0


def test_sigterm_during_a_hung_send_stops_within_seconds(fake: FakeBotAPI, launch: Any) -> None:
    bot = launch()
    fake.wait_for(lambda: fake.calls_of("getUpdates"), timeout=60, what="the bot to start polling")
    fake.hang("sendMessage")
    fake.push(message_update("What does an IT manager do?"))
    fake.wait_for(lambda: fake.calls_of("sendMessage", outcome="hung"), timeout=60, what="the hung send")
    code, took = bot.terminate()
    assert code == 0
    assert took < 12  # the hung request times out (5 s); no retries after the signal
    # the answer is dropped, not retried while stopping; the user is asked to try again
    assert [m["text"] for m in fake.sent(1001)] == [APOLOGY]
    assert "while stopping; dropped" in bot.output
    assert TOKEN not in bot.output and TOKEN.partition(":")[2] not in bot.output  # errors name no URL with it


NEW_TEXT = "An IT manager sets the rules for quantum computing pilots and keeps their hardware budget in check."
NEW_QUESTION = "Who sets the rules for quantum computing pilots?"


def test_knowledge_added_by_another_process_is_answered_within_two_seconds_and_questions_are_logged(
    fake: FakeBotAPI, launch: Any, environment: dict[str, str], tmp_path: Path
) -> None:
    knowledge = tmp_path / "knowledge"
    shutil.copytree(Path(__file__).resolve().parent.parent / "knowledge", knowledge)
    environment["ROLEBOT_KNOWLEDGE_DIR"] = str(knowledge)
    bot = launch(env=environment)
    fake.wait_for(lambda: fake.calls_of("getUpdates"), timeout=60, what="the bot to start polling")
    fake.push(message_update(NEW_QUESTION))
    [before] = fake.wait_sent(1001, 1, timeout=60)
    assert NEW_TEXT not in before["visible"]

    added = run(["add", "--topic", "quantum-pilots", "--role", "it-manager", NEW_TEXT], environment, tmp_path)
    assert added.returncode == 0, added.stderr
    time.sleep(2.0)
    fake.push(message_update(NEW_QUESTION))
    [after] = fake.wait_sent(1001, 2, timeout=60)[1:]
    assert NEW_TEXT in after["visible"]

    # An invalid change is logged, and the last good knowledge keeps answering.
    (knowledge / "broken.yaml").write_text("source: broken\npassages:\n- id: [unclosed\n")
    fake.wait_for(lambda: "knowledge change not loaded" in bot.output, timeout=30, what="the reload error")
    fake.push(message_update(NEW_QUESTION))
    [still] = fake.wait_sent(1001, 3, timeout=60)[2:]
    assert NEW_TEXT in still["visible"]

    code, took = bot.terminate()
    assert code == 0 and took < 10
    assert "Traceback" not in bot.output
    with closing(sqlite3.connect(tmp_path / "data" / "questions.sqlite3")) as db:
        logged = db.execute("SELECT channel, question, user_hash FROM questions ORDER BY id").fetchall()
    assert [(channel, question) for channel, question, _ in logged] == [("telegram", NEW_QUESTION)] * 3
    assert all(user_hash and "1001" not in user_hash for _, _, user_hash in logged)


def post_update(port: int, update: dict[str, Any], secret: str | None) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    try:
        connection.request("POST", "/telegram/hook", body=json.dumps(update), headers=headers)
        return connection.getresponse().status
    finally:
        connection.close()


def test_webhook_mode_checks_the_secret_and_answers_each_update_once(
    fake: FakeBotAPI, launch: Any, environment: dict[str, str]
) -> None:
    port = free_port()
    environment["TELEGRAM_WEBHOOK_SECRET"] = SECRET
    url = "https://bot.example.org/telegram/hook"
    bot = launch("--webhook", url, "--listen", f"127.0.0.1:{port}", env=environment)
    registered = fake.wait_for(lambda: fake.webhook, timeout=60, what="setWebhook")
    assert registered["url"] == url and registered["secret_token"] == SECRET

    def ready() -> bool:
        try:
            return post_update(port, {}, None) == 403
        except OSError:
            return False

    fake.wait_for(ready, timeout=60, what="the webhook server to listen")

    assert post_update(port, message_update("What does an IT manager do?", update_id=5001), None) == 403
    assert post_update(port, message_update("What does an IT manager do?", update_id=5002), "wrong") == 403
    question = message_update("What does an IT project manager do?", update_id=5003)
    assert post_update(port, question, SECRET) == 200
    assert post_update(port, question, SECRET) == 200  # Telegram redelivers when unsure
    assert post_update(port, message_update("/help", update_id=5004), SECRET) == 200
    replies = fake.wait_sent(1001, 2, timeout=60)
    assert replies[0]["visible"].startswith("IT Project Manager · Responsibilities")
    assert "/topics" in replies[1]["visible"]

    code, took = bot.terminate()
    assert code == 0 and took < 10
    assert len(fake.sent(1001)) == 2  # nothing for the refused ones, and the repeat was not answered
    assert TOKEN not in bot.output and SECRET not in bot.output


# -- the Docker image's start command, run as the image would run it ------------------------------

PROJECT = Path(__file__).resolve().parent.parent


def dockerfile() -> tuple[list[str], dict[str, str], str]:
    """Read the Dockerfile's CMD (exec form), ENV and VOLUME lines; Docker itself cannot run here."""
    text = (PROJECT / "Dockerfile").read_text().replace("\\\n", " ")
    [cmd] = [json.loads(line[4:]) for line in text.splitlines() if line.startswith("CMD ")]
    env_lines = " ".join(line[4:] for line in text.splitlines() if line.startswith("ENV "))
    env = dict(re.findall(r'(\w+)=("[^"]*"|\S+)', env_lines))
    [volumes] = [line for line in text.splitlines() if line.startswith("VOLUME ")]
    return cmd, {k: v.strip('"') for k, v in env.items()}, volumes


def test_the_docker_image_runs_the_telegram_bot_with_a_token_and_keeps_data_on_a_volume(
    fake: FakeBotAPI, environment: dict[str, str], tmp_path: Path
) -> None:
    cmd, image_env, volumes = dockerfile()
    assert image_env["ROLEBOT_DATA_DIR"] == "/app/data" and '"/app/data"' in volumes
    readme = (PROJECT / "README.md").read_text()
    assert "docker run -d" in readme and "-e TELEGRAM_BOT_TOKEN=" in readme and ":/app/data" in readme
    # /app/.venv/bin is the project's virtual environment here; /app/data a folder of this test
    environment["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{environment.get('PATH', '')}"
    environment["ROLEBOT_DATA_DIR"] = str(tmp_path / "data")

    without = subprocess.run(
        cmd, env={k: v for k, v in environment.items() if k != "TELEGRAM_BOT_TOKEN"}, cwd=tmp_path,
        input="What does an IT manager do?\n", capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert without.returncode == 0, without.stderr
    assert "IT Manager · Responsibilities" in without.stdout  # the console chat
    assert not fake.calls

    bot = subprocess.Popen(cmd, env=environment, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        fake.wait_for(lambda: fake.calls_of("getUpdates"), timeout=60, what="the bot to start polling")
        fake.push(message_update("What does an IT manager do?"))
        [answer] = fake.wait_sent(1001, 1, timeout=60)
        assert answer["visible"].startswith("IT Manager · Responsibilities")
        started = time.monotonic()
        bot.send_signal(signal.SIGTERM)  # docker stop: the shell exec'd the bot, so the bot gets it
        assert bot.wait(20) == 0 and time.monotonic() - started < 10
    finally:
        if bot.poll() is None:
            bot.kill()
        output = bot.communicate(timeout=10)[0].decode()
    assert TOKEN not in output
    assert (tmp_path / "data" / "questions.sqlite3").exists()  # state lands in the data folder
