"""Conversation state rows for the database-backed FSM storage (keys and data arrive sealed)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import Executable, delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.dialect import dialect_insert, insert_for
from storage.models import FsmRecord, utcnow


async def load_fsm(session: AsyncSession, *, key_hash: str) -> tuple[str | None, bytes | None]:
    """The stored state and sealed data for a key, or (None, None)."""
    row = (
        await session.execute(select(FsmRecord.state, FsmRecord.data_enc).where(FsmRecord.key_hash == key_hash))
    ).first()
    return (row[0], row[1]) if row else (None, None)


async def save_fsm(session: AsyncSession, *, key_hash: str, state: str | None, data_enc: bytes | None) -> None:
    """Upsert a key's state and data; an empty record is deleted instead."""
    if state is None and data_enc is None:
        await session.execute(delete(FsmRecord).where(FsmRecord.key_hash == key_hash))
        return
    now = utcnow()
    stmt = insert_for(session, FsmRecord).values(key_hash=key_hash, state=state, data_enc=data_enc, updated_at=now)
    stmt = stmt.on_conflict_do_update(
        index_elements=[FsmRecord.key_hash], set_={"state": state, "data_enc": data_enc, "updated_at": now}
    )
    await session.execute(stmt)


async def prune_fsm(session: AsyncSession, *, before: datetime) -> int:
    """Drop abandoned drafts untouched since `before`."""
    result = await session.execute(delete(FsmRecord).where(FsmRecord.updated_at < before))
    return int(getattr(result, "rowcount", 0) or 0)


def fsm_batch_statements(records: Mapping[str, tuple[str | None, bytes | None]], dialect: str) -> list[Executable]:
    """Statements that upsert many keys (empty records are deleted), for group commits."""
    statements: list[Executable] = []
    empty = [key for key, (state, data) in records.items() if state is None and data is None]
    if empty:
        statements.append(delete(FsmRecord).where(FsmRecord.key_hash.in_(empty)))
    now = utcnow()
    rows = [
        {"key_hash": key, "state": state, "data_enc": data, "updated_at": now}
        for key, (state, data) in records.items()
        if not (state is None and data is None)
    ]
    if rows:
        stmt = dialect_insert(dialect, FsmRecord).values(rows)
        stmt = stmt.on_conflict_do_update(
            index_elements=[FsmRecord.key_hash],
            set_={
                "state": stmt.excluded.state,
                "data_enc": stmt.excluded.data_enc,
                "updated_at": stmt.excluded.updated_at,
            },
        )
        statements.append(stmt)
    return statements


async def save_fsm_many(session: AsyncSession, *, records: dict[str, tuple[str | None, bytes | None]]) -> None:
    """Upsert many keys in one statement (empty records are deleted), for group commits."""
    for stmt in fsm_batch_statements(records, session.get_bind().dialect.name):
        await session.execute(stmt)
