"""Committed conversation records kept in memory, so most updates read their state without a query."""

from __future__ import annotations

from dataclasses import dataclass

from bot.recent import RecentCache


@dataclass(slots=True, frozen=True)
class PendingFsm:
    """A conversation's state and sealed data (keys are keyed hashes, data is sealed, as in the table)."""

    state: str | None
    data_enc: bytes | None


class ConversationMemory(RecentCache[str, PendingFsm]):
    """The last committed record of recent conversations, by hashed key.

    Only durable records enter (after the commit, or as read from the table), so a failed update leaves the
    memory as the table is. It is right while this process is the only one handling updates, which is the
    database-FSM mode (with Redis the FSM lives in Redis and this is not used). Entries are re-read after ten
    minutes, so anything done to the table behind our back (pruning, a manual fix) is seen soon.
    """

    def __init__(self, size: int = 5_000, ttl_seconds: float = 600.0) -> None:
        super().__init__(size, ttl_seconds)
