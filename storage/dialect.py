"""Small helpers for the two supported SQL dialects."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Executable
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

Write = tuple[Executable, list[dict[str, Any]]]  # one statement, run once per parameter set (executemany)


def insert_for(session: AsyncSession | Session, table: Any) -> Any:
    """An INSERT that supports ON CONFLICT on both SQLite and PostgreSQL."""
    return dialect_insert(session.get_bind().dialect.name, table)


def dialect_insert(name: str, table: Any) -> Any:
    """The ON CONFLICT-capable INSERT of the named dialect."""
    if name == "postgresql":
        return postgresql.insert(table)
    if name == "sqlite":
        return sqlite.insert(table)
    raise NotImplementedError(f"unsupported dialect {name}")
