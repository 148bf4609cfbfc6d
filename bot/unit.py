"""One unit of work per Telegram update: a session plus buffered FSM writes, committed together."""

from __future__ import annotations

import asyncio
from contextvars import ContextVar
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from bot.fsm_memory import ConversationMemory, PendingFsm
from storage.batch_writer import BatchWriter
from storage.db import session_has_written
from storage.fsm import save_fsm
from storage.updates import record_update


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

    def __init__(self, writer: BatchWriter, max_batch: int = 200) -> None:
        self._writer = writer
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
                await self._writer.write(records, update_ids)
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
    memory: ConversationMemory | None = None

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
            self._committed(pending)
            return
        pending, self.pending_fsm = self.pending_fsm, {}
        for key_hash, item in pending.items():
            await save_fsm(self.session, key_hash=key_hash, state=item.state, data_enc=item.data_enc)
        if update_id is not None:
            await record_update(self.session, update_id=update_id)
        await self.session.commit()
        self._committed(pending)

    def _committed(self, written: dict[str, PendingFsm]) -> None:
        """Mark the unit done and let the memory learn the records that are now durable."""
        self.committed = True
        if self.memory is not None:
            self.memory.store(written)


current_unit: ContextVar[UpdateUnit | None] = ContextVar("tinbao_update_unit", default=None)
