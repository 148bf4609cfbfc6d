"""One unit of work per Telegram update: a session plus buffered FSM writes, committed together."""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from storage.fsm import save_fsm
from storage.updates import record_update


@dataclass(slots=True)
class PendingFsm:
    """A conversation's state and sealed data waiting for the update's commit."""

    state: str | None
    data_enc: bytes | None


@dataclass(slots=True)
class UpdateUnit:
    """The database work of one update; FSM writes are held so the write lock is taken once, briefly."""

    session: AsyncSession
    update_id: int | None = None
    pending_fsm: dict[str, PendingFsm] = field(default_factory=dict)
    # Records already read in this update, so get_state/get_data/set_data cost one query, not three.
    fsm_cache: dict[str, PendingFsm] = field(default_factory=dict)
    committed: bool = False

    async def commit(self) -> None:
        """Write buffered FSM changes and the update record with the session's work, in one transaction."""
        for key_hash, pending in self.pending_fsm.items():
            await save_fsm(self.session, key_hash=key_hash, state=pending.state, data_enc=pending.data_enc)
        self.pending_fsm.clear()
        if self.update_id is not None and not self.committed:
            await record_update(self.session, update_id=self.update_id)
        await self.session.commit()
        self.committed = True


current_unit: ContextVar[UpdateUnit | None] = ContextVar("tinbao_update_unit", default=None)
