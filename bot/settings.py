"""Settings: one frozen value read from the environment at the program's edge, never at import."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_API_BASE_URL = "https://api.telegram.org/bot"


@dataclass(frozen=True)
class Settings:
    """Where knowledge, intents and runtime state live, and how to reach Telegram."""

    knowledge_dir: Path = PROJECT_ROOT / "knowledge"
    intents_dir: Path = PROJECT_ROOT / "intents"
    data_dir: Path = Path("data")
    cache_dir: Path | None = None
    """Fitted models, so a new process starts without refitting; `data_dir`/cache unless set."""
    telegram_token: str | None = None
    telegram_api_base_url: str = DEFAULT_API_BASE_URL
    telegram_webhook_secret: str | None = None
    admin_ids: frozenset[int] = frozenset()

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read settings from environment variables (ROLEBOT_*, TELEGRAM_*); raise ValueError if malformed."""
        env = os.environ if environ is None else environ
        admins: set[int] = set()
        for part in env.get("ROLEBOT_ADMIN_IDS", "").split(","):
            if part.strip():
                try:
                    admins.add(int(part.strip()))
                except ValueError:
                    raise ValueError(f"ROLEBOT_ADMIN_IDS: {part.strip()!r} is not a numeric user id") from None
        data_dir = Path(env.get("ROLEBOT_DATA_DIR") or cls.data_dir)
        return cls(
            knowledge_dir=Path(env.get("ROLEBOT_KNOWLEDGE_DIR") or cls.knowledge_dir),
            intents_dir=Path(env.get("ROLEBOT_INTENTS_DIR") or cls.intents_dir),
            data_dir=data_dir,
            cache_dir=Path(env.get("ROLEBOT_CACHE_DIR") or data_dir / "cache"),
            telegram_token=env.get("TELEGRAM_BOT_TOKEN") or None,
            telegram_api_base_url=env.get("TELEGRAM_API_BASE_URL") or DEFAULT_API_BASE_URL,
            telegram_webhook_secret=env.get("TELEGRAM_WEBHOOK_SECRET") or None,
            admin_ids=frozenset(admins),
        )
