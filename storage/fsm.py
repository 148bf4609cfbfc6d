"""Conversation state rows for the database-backed FSM storage (keys and data arrive sealed)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from functools import cache
from typing import cast

from sqlalchemy import Executable, Table, bindparam, delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.dialect import Write, dialect_insert, insert_for
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


FSM_TABLE = cast(Table, FsmRecord.__table__)  # Core statements: executemany without the ORM's bulk machinery


@cache
def _batch_upsert(dialect: str) -> Executable:
    """Upsert one record; built once per dialect so its compiled form is cached, whatever the batch size."""
    stmt = dialect_insert(dialect, FSM_TABLE)
    return stmt.on_conflict_do_update(  # type: ignore[no-any-return]
        index_elements=[FSM_TABLE.c.key_hash],
        set_={"state": stmt.excluded.state, "data_enc": stmt.excluded.data_enc, "updated_at": stmt.excluded.updated_at},
    )


_BATCH_DELETE = delete(FSM_TABLE).where(FSM_TABLE.c.key_hash == bindparam("gone"))


def fsm_batch_writes(records: Mapping[str, tuple[str | None, bytes | None]], dialect: str) -> list[Write]:
    """The writes that upsert many keys (empty records are deleted), for group commits.

    One statement with many parameter sets, not one statement with many VALUES rows: the latter is a new
    statement for every batch size, compiled afresh each time while the batch holds the write lock.
    """
    writes: list[Write] = []
    empty = [{"gone": key} for key, (state, data) in records.items() if state is None and data is None]
    if empty:
        writes.append((_BATCH_DELETE, empty))
    now = utcnow()
    rows = [
        {"key_hash": key, "state": state, "data_enc": data, "updated_at": now}
        for key, (state, data) in records.items()
        if not (state is None and data is None)
    ]
    if rows:
        writes.append((_batch_upsert(dialect), rows))
    return writes


async def save_fsm_many(session: AsyncSession, *, records: dict[str, tuple[str | None, bytes | None]]) -> None:
    """Upsert many keys (empty records are deleted), for group commits."""
    for stmt, params in fsm_batch_writes(records, session.get_bind().dialect.name):
        await session.execute(stmt, params)
