"""FSM storages whose keys are keyed hashes and whose data is sealed: database (default) or Redis."""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from typing import Any

from aiogram.fsm.state import State
from aiogram.fsm.storage.base import BaseStorage, KeyBuilder, StateType, StorageKey
from aiogram.fsm.storage.redis import RedisStorage
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.fsm_memory import ConversationMemory, PendingFsm
from bot.unit import current_unit
from storage.fsm import load_fsm, save_fsm
from storage.privacy import PrivacyKeys

_PURPOSE = "fsm"


def storage_key_hash(keys: PrivacyKeys, key: StorageKey) -> str:
    """Hash every part of aiogram's key, so no chat or user id is ever written."""
    return keys.state_hash(key.bot_id, key.chat_id, key.user_id, key.thread_id, key.business_connection_id, key.destiny)


def _state_name(state: StateType) -> str | None:
    return state.state if isinstance(state, State) else state


class DatabaseStorage(BaseStorage):
    """Drafts survive a restart; writes join the current update's transaction when there is one."""

    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        keys: PrivacyKeys,
        memory: ConversationMemory | None = None,
    ) -> None:
        self._sessions = session_factory
        self._keys = keys
        self.memory = memory

    def _seal(self, data: Mapping[str, Any]) -> bytes | None:
        if not data:
            return None
        return self._keys.encrypt(json.dumps(dict(data), ensure_ascii=False).encode(), purpose=_PURPOSE)

    def _open(self, blob: bytes | None) -> dict[str, Any]:
        if blob is None:
            return {}
        loaded: dict[str, Any] = json.loads(self._keys.decrypt(blob, purpose=_PURPOSE))
        return loaded

    async def _load(self, key_hash: str) -> tuple[str | None, bytes | None]:
        unit = current_unit.get()
        if unit is not None:
            known = unit.pending_fsm.get(key_hash) or unit.fsm_cache.get(key_hash)
            if known is None and self.memory is not None:
                known = self.memory.get(key_hash)
            if known is None:
                known = PendingFsm(*await load_fsm(unit.session, key_hash=key_hash))
                if self.memory is not None:
                    self.memory.store({key_hash: known})
            unit.fsm_cache[key_hash] = known
            return known.state, known.data_enc
        async with self._sessions() as session:
            return await load_fsm(session, key_hash=key_hash)

    async def _save(self, key_hash: str, state: str | None, data_enc: bytes | None) -> None:
        unit = current_unit.get()
        if unit is not None:
            unit.pending_fsm[key_hash] = unit.fsm_cache[key_hash] = PendingFsm(state, data_enc)
            return
        async with self._sessions() as session:
            await save_fsm(session, key_hash=key_hash, state=state, data_enc=data_enc)
            await session.commit()
        if self.memory is not None:
            self.memory.store({key_hash: PendingFsm(state, data_enc)})

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        """Set the conversation's state, keeping its data."""
        key_hash = storage_key_hash(self._keys, key)
        _old_state, data_enc = await self._load(key_hash)
        await self._save(key_hash, _state_name(state), data_enc)

    async def get_state(self, key: StorageKey) -> str | None:
        """The conversation's state."""
        state, _data = await self._load(storage_key_hash(self._keys, key))
        return state

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        """Replace the conversation's data, keeping its state."""
        key_hash = storage_key_hash(self._keys, key)
        state, _old = await self._load(key_hash)
        await self._save(key_hash, state, self._seal(data))

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        """The conversation's data."""
        _state, data_enc = await self._load(storage_key_hash(self._keys, key))
        return self._open(data_enc)

    async def close(self) -> None:
        """Nothing to release: sessions are per call."""


class HashedKeyBuilder(KeyBuilder):
    """Redis keys made of a keyed hash instead of chat and user ids."""

    def __init__(self, keys: PrivacyKeys, prefix: str = "tinbao:fsm") -> None:
        self._keys = keys
        self._prefix = prefix

    def build(self, key: StorageKey, part: Any = None) -> str:
        """The Redis key for one part (state or data) of a conversation."""
        suffix = f":{part}" if part else ""
        return f"{self._prefix}:{storage_key_hash(self._keys, key)}{suffix}"


def create_redis_storage(redis: Redis, keys: PrivacyKeys, ttl_seconds: int) -> RedisStorage:
    """Redis FSM storage with hashed keys and sealed data, for several web workers."""

    def dumps(value: Any) -> str:
        sealed = keys.encrypt(json.dumps(value, ensure_ascii=False).encode(), purpose=_PURPOSE)
        return base64.b64encode(sealed).decode()

    def loads(value: Any) -> Any:
        raw = value.encode() if isinstance(value, str) else value
        return json.loads(keys.decrypt(base64.b64decode(raw), purpose=_PURPOSE))

    return RedisStorage(
        redis,
        key_builder=HashedKeyBuilder(keys),
        state_ttl=ttl_seconds,
        data_ttl=ttl_seconds,
        json_dumps=dumps,
        json_loads=loads,
    )
