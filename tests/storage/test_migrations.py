"""Every migration goes up, down and up again, and matches the models."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from storage.db import create_engine
from storage.migrate import downgrade, upgrade
from storage.models import Base
from tests.conftest import POSTGRES_URL


def _table_names(url: str) -> set[str]:
    async def read() -> set[str]:
        engine = create_engine(url)
        async with engine.connect() as conn:
            names = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
        await engine.dispose()
        return names

    return asyncio.run(read())


def _diff(url: str) -> list[object]:
    async def read() -> list[object]:
        engine = create_engine(url)
        async with engine.connect() as conn:
            diff = await conn.run_sync(lambda c: compare_metadata(MigrationContext.configure(c), Base.metadata))
        await engine.dispose()
        return list(diff)

    return asyncio.run(read())


def test_upgrade_downgrade_upgrade_sqlite(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'm.db'}"
    upgrade(url)
    assert {"tips", "reporters", "wards", "provinces", "fsm_records"} <= _table_names(url)
    assert _diff(url) == []
    downgrade(url, "base")
    assert _table_names(url) <= {"alembic_version"}
    upgrade(url)
    assert "tips" in _table_names(url)


@pytest.mark.skipif(not POSTGRES_URL, reason="TEST_POSTGRES_URL not set")
def test_models_match_migrations_on_postgres(database_url: str) -> None:
    assert _diff(database_url) == []
