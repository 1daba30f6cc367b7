"""Shared fixtures: an isolated copy of the project's knowledge and a runner for the real `rolebot` command."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping

import pytest

PROJECT_ROOT = Path(__file__).resolve().parent.parent
KNOWLEDGE_DIR = PROJECT_ROOT / "knowledge"
INTENTS_DIR = PROJECT_ROOT / "intents"


@dataclass(frozen=True)
class ProjectCopy:
    """Folders of a throwaway copy of the project's knowledge, intents and runtime state."""

    root: Path
    knowledge_dir: Path
    intents_dir: Path
    data_dir: Path


@dataclass(frozen=True)
class Run:
    """What one run of a command left behind."""

    code: int
    stdout: str
    stderr: str


RunRolebot = Callable[..., Run]


@pytest.fixture(scope="session", autouse=True)
def shared_model_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One classifier cache for every `rolebot` process the tests start: each would otherwise refit."""
    cache = tmp_path_factory.mktemp("model-cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ROLEBOT_CACHE_DIR", str(cache))
        yield cache


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ProjectCopy:
    """Copy knowledge/ and intents/ into tmp_path and point ROLEBOT_* settings at the copy."""
    copy = ProjectCopy(
        root=tmp_path,
        knowledge_dir=tmp_path / "knowledge",
        intents_dir=tmp_path / "intents",
        data_dir=tmp_path / "data",
    )
    shutil.copytree(KNOWLEDGE_DIR, copy.knowledge_dir)
    shutil.copytree(INTENTS_DIR, copy.intents_dir)
    monkeypatch.setenv("ROLEBOT_KNOWLEDGE_DIR", str(copy.knowledge_dir))
    monkeypatch.setenv("ROLEBOT_INTENTS_DIR", str(copy.intents_dir))
    monkeypatch.setenv("ROLEBOT_DATA_DIR", str(copy.data_dir))
    return copy


def rolebot_command() -> list[str]:
    """Return the installed `rolebot` console script next to this interpreter."""
    script = Path(sys.executable).with_name("rolebot")
    if script.exists():
        return [str(script)]
    found = shutil.which("rolebot")
    if found is None:  # pragma: no cover - the package is installed editable in the venv
        pytest.fail("the rolebot command is not installed; run `pip install -e .`")
    return [found]


def run_command(
    command: list[str],
    *,
    stdin: str | None = None,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    timeout: float = 60.0,
) -> Run:
    """Run a command with the current environment (plus `env`) and return its exit code and output."""
    environ = {**os.environ, **(env or {})}
    # A token in the developer's shell must never make a test reach the real Telegram.
    environ.pop("TELEGRAM_BOT_TOKEN", None)
    completed = subprocess.run(
        command,
        input=stdin if stdin is not None else "",
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=environ,
        cwd=cwd,
        timeout=timeout,
    )
    return Run(completed.returncode, completed.stdout, completed.stderr)


@pytest.fixture
def rolebot(project: ProjectCopy) -> RunRolebot:
    """Run the real `rolebot` entry point against the project copy: rolebot("ask", "hi", stdin=...)."""

    def run(*args: str, stdin: str | None = None, env: Mapping[str, str] | None = None) -> Run:
        return run_command([*rolebot_command(), *args], stdin=stdin, env=env, cwd=project.root)

    return run


@pytest.fixture(autouse=True)
def no_internet(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail any connection that is not to this machine, in every test (python-telegram-bot's suite does so)."""
    real_connect = socket.socket.connect

    def connect(self: socket.socket, address: Any) -> None:
        if self.family in (socket.AF_INET, socket.AF_INET6) and address[0] not in ("127.0.0.1", "::1"):
            raise OSError(f"a test tried to reach {address[0]}")
        return real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
