"""Settings read from the environment, then `.env`; refuses unsafe values outside dev."""

from __future__ import annotations

import re
import secrets
from enum import StrEnum
from pathlib import Path
from typing import Self

from pydantic import Field, SecretStr, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PLACEHOLDER_SECRETS = {"changethis", "change-me", "changeme", "secret", "xxx", ""}
TOKEN_PATTERN = re.compile(r"^\d+:[A-Za-z0-9_-]{20,}$")
# The sandbox accepts any well-formed token; this one is only ever sent to our own emulator.
SANDBOX_TOKEN = "123456789:SANDBOX-tinbao-local-token-not-secret"  # noqa: S105
DEFAULT_TELEGRAM_API = "https://api.telegram.org"


class AppEnv(StrEnum):
    """Where the process runs: dev allows generated secrets, prod refuses them."""

    DEV = "dev"
    PROD = "prod"


class BotMode(StrEnum):
    """How updates arrive from Telegram."""

    POLLING = "polling"
    WEBHOOK = "webhook"


class Settings(BaseSettings):
    """Every TinBáo setting; `.env.example` documents each one."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    app_env: AppEnv = AppEnv.DEV
    log_level: str = "INFO"
    data_dir: Path = Path("data")

    telegram_bot_token: SecretStr | None = None
    telegram_api_base: str | None = None
    bot_mode: BotMode = BotMode.POLLING
    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    webhook_path: str = "/telegram/webhook"
    webhook_max_connections: int = Field(default=40, ge=1, le=100)

    api_host: str = "127.0.0.1"
    api_port: int = Field(default=8000, ge=1, le=65535)
    sandbox_host: str = "127.0.0.1"
    sandbox_port: int = Field(default=8081, ge=0, le=65535)

    database_url: str | None = None
    redis_url: str | None = None
    secret_key: SecretStr | None = None

    default_locale: str = "vi"
    status_max_attempts: int = Field(default=5, ge=1)
    status_window_seconds: int = Field(default=600, ge=1)
    flood_max_updates: int = Field(default=8, ge=1)
    flood_window_seconds: float = Field(default=4.0, gt=0)
    access_token_minutes: int = Field(default=30, ge=1, le=24 * 60)
    require_totp_for_admins: bool = False
    urgent_ack_hours: float = Field(default=2.0, gt=0)
    processed_update_retention_days: int = Field(default=7, ge=1)
    draft_retention_days: int = Field(default=30, ge=1)
    broadcast_rate: float = Field(default=25.0, gt=0, le=1000)
    broadcast_concurrency: int = Field(default=16, ge=1, le=256)
    quiet_hours_start: int = Field(default=21, ge=0, le=23)
    quiet_hours_end: int = Field(default=7, ge=0, le=23)
    misfire_grace_seconds: int = Field(default=12 * 3600, ge=0)
    lease_seconds: float = Field(default=30.0, ge=1, le=3600)
    scheduler_resync_seconds: float = Field(default=30.0, gt=0, le=3600)

    @model_validator(mode="after")
    def _check(self) -> Self:
        if self.telegram_bot_token is not None:
            token = self.telegram_bot_token.get_secret_value()
            if not TOKEN_PATTERN.match(token):
                raise ValueError("TELEGRAM_BOT_TOKEN: not a bot token (expected 123456:ABC...)")
        if self.bot_mode is BotMode.WEBHOOK:
            if not self.webhook_url:
                raise ValueError("WEBHOOK_URL: required when BOT_MODE=webhook")
            if self.webhook_secret is None or len(self.webhook_secret.get_secret_value()) < 16:
                raise ValueError("WEBHOOK_SECRET: required when BOT_MODE=webhook, at least 16 characters")
            if not re.fullmatch(r"[A-Za-z0-9_-]{16,256}", self.webhook_secret.get_secret_value()):
                raise ValueError("WEBHOOK_SECRET: only A-Z, a-z, 0-9, _ and - are allowed by Telegram")
        if self.app_env is AppEnv.PROD:
            if self.secret_key is None or self.secret_key.get_secret_value().lower() in PLACEHOLDER_SECRETS:
                raise ValueError("SECRET_KEY: must be set to a random value outside dev")
            if len(self.secret_key.get_secret_value()) < 32:
                raise ValueError("SECRET_KEY: at least 32 characters")
            if self.telegram_bot_token is None:
                raise ValueError("TELEGRAM_BOT_TOKEN: required outside dev")
        return self

    @property
    def uses_sandbox(self) -> bool:
        """True when no real token is configured, so the local emulator stands in for Telegram."""
        return self.telegram_bot_token is None

    @property
    def bot_token(self) -> str:
        """The token the bot authenticates with (the sandbox token when none is configured)."""
        if self.telegram_bot_token is None:
            return SANDBOX_TOKEN
        return self.telegram_bot_token.get_secret_value()

    @property
    def effective_database_url(self) -> str:
        """DATABASE_URL, or an SQLite file inside the data directory."""
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{self.data_dir / 'tinbao.db'}"

    def master_secret(self) -> bytes:
        """The key material every privacy key is derived from; a dev key is made once and kept."""
        if self.secret_key is not None and self.secret_key.get_secret_value():
            return self.secret_key.get_secret_value().encode()
        key_file = self.data_dir / "dev-secret.key"
        if not key_file.exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            key_file.write_text(secrets.token_urlsafe(48))
            key_file.chmod(0o600)
        return key_file.read_text().strip().encode()


class ConfigError(Exception):
    """A setting is missing or wrong; the message names it."""


def load_settings(**overrides: object) -> Settings:
    """Read settings, turning validation errors into one readable message naming the setting."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            name = "_".join(str(p) for p in err["loc"]).upper() or "settings"
            message = str(err["msg"]).removeprefix("Value error, ")
            lines.append(message if not err["loc"] else f"{name}: {message}")
        raise ConfigError("; ".join(lines)) from None
