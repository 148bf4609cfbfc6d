"""One unit of work per Telegram update: a session plus buffered FSM writes, committed together."""

from __future__ import annotations

import asyncio
from contextvars import ContextVar
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.db import session_has_written
from storage.fsm import save_fsm, save_fsm_many
from storage.updates import record_update, record_updates


@dataclass(slots=True)
class PendingFsm:
    """A conversation's state and sealed data waiting for the update's commit."""

    state: str | None
    data_enc: bytes | None


@dataclass(slots=True)
class _Batch:
    """What one update hands to the group committer."""

    fsm: dict[str, PendingFsm]
    update_id: int | None
    done: asyncio.Future[None]


class GroupCommitter:
    """Commit many updates' FSM changes and update ids in one transaction (one fsync instead of many).

    SQLite allows one writer and each durable commit costs an fsync (about 4 ms on a cloud disk), so
    committing update by update caps intake near 200 updates/s. Updates that wrote nothing else queue
    here; one task drains the queue in batches. Each caller still waits until its own data is durable.
    """

    def __init__(self, session_factory: async_sessionmaker[AsyncSession], max_batch: int = 200) -> None:
        self._sessions = session_factory
        self._max_batch = max_batch
        self._queue: list[_Batch] = []
        self._draining: asyncio.Task[None] | None = None

    async def commit(self, fsm: dict[str, PendingFsm], update_id: int | None) -> None:
        """Queue the writes and wait until they are committed."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue.append(_Batch(dict(fsm), update_id, done))
        if self._draining is None or self._draining.done():
            self._draining = asyncio.create_task(self._drain())
        await done

    async def _drain(self) -> None:
        while self._queue:
            batch, self._queue = self._queue[: self._max_batch], self._queue[self._max_batch :]
            try:
                # Later items win for the same key: the queue is in commit order.
                records = {key: (p.state, p.data_enc) for item in batch for key, p in item.fsm.items()}
                update_ids = [item.update_id for item in batch if item.update_id is not None]
                async with self._sessions() as session:
                    await save_fsm_many(session, records=records)
                    await record_updates(session, update_ids=update_ids)
                    await session.commit()
            except Exception as exc:  # every waiter learns of the failure; none is left hanging
                for item in batch:
                    if not item.done.done():
                        item.done.set_exception(exc)
                continue
            for item in batch:
                if not item.done.done():
                    item.done.set_result(None)


@dataclass(slots=True)
class UpdateUnit:
    """The database work of one update; FSM writes are held so the write lock is taken once, briefly."""

    session: AsyncSession
    update_id: int | None = None
    pending_fsm: dict[str, PendingFsm] = field(default_factory=dict)
    # Records already read in this update, so get_state/get_data/set_data cost one query, not three.
    fsm_cache: dict[str, PendingFsm] = field(default_factory=dict)
    committed: bool = False
    group: GroupCommitter | None = None

    async def commit(self) -> None:
        """Write buffered FSM changes and the update record with the session's work, in one transaction."""
        update_id = None if self.committed else self.update_id
        if self.group is not None and not session_has_written(self.session):
            # Nothing else to make durable with them: let the group committer share one fsync.
            pending, self.pending_fsm = self.pending_fsm, {}
            # Ending the read-only transaction hands the pooled connection back: if every waiting update kept
            # its connection, the group committer could not get one and all would wait for the pool timeout.
            await self.session.rollback()
            await self.group.commit(pending, update_id)
            self.committed = True
            return
        for key_hash, item in self.pending_fsm.items():
            await save_fsm(self.session, key_hash=key_hash, state=item.state, data_enc=item.data_enc)
        self.pending_fsm.clear()
        if update_id is not None:
            await record_update(self.session, update_id=update_id)
        await self.session.commit()
        self.committed = True


current_unit: ContextVar[UpdateUnit | None] = ContextVar("tinbao_update_unit", default=None)
