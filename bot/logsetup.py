"""Logging set-up that never lets the bot token or secrets reach a log line."""

from __future__ import annotations

import logging
from collections.abc import Iterable


class RedactFilter(logging.Filter):
    """Replace configured secrets in every formatted record with ***."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self._secrets = [s for s in secrets if s and len(s) >= 8]

    def filter(self, record: logging.LogRecord) -> bool:
        """Render the message once, scrub it, and keep the record."""
        if not self._secrets:
            return True
        message = record.getMessage()
        scrubbed = message
        for secret in self._secrets:
            scrubbed = scrubbed.replace(secret, "***")
        if scrubbed != message or record.args:
            record.msg, record.args = scrubbed, None
        return True


def configure_logging(level: str, secrets: Iterable[str]) -> None:
    """Root logging to stderr, scrubbed of secrets; chatty libraries at WARNING."""
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactFilter(secrets))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    noisy_loggers = (
        "alembic.runtime.plugins",
        "apscheduler",  # re-syncs every 30 s; its INFO lines are noise
        "aiohttp.access",
        "aiohttp.client",
        "httpx",
        "httpcore",
        "aiogram.event",
        "sqlalchemy.engine",
        "aiosqlite",  # at DEBUG it logs every SQL statement with its parameters: stored tip text
    )
    for noisy in noisy_loggers:
        logging.getLogger(noisy).setLevel(logging.WARNING)
