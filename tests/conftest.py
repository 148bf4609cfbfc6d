"""Shared fixtures: a clean database per test (SQLite, or PostgreSQL/Redis when asked), the sandbox, the bot."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import Settings, load_settings
from bot.context import AppContext
from bot.factory import build_context
from sandbox.client import SandboxClient
from sandbox.runner import RunningSandbox, start_sandbox
from storage.db import create_engine
from storage.migrate import upgrade
from storage.models import Base
from tests.citizen import Citizen, UpdateTracker

TEST_SECRET = "test-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz"
POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL")
REDIS_URL = os.environ.get("TEST_REDIS_URL")
REFERENCE_TABLES = {"provinces", "wards", "alembic_version"}
# Rows the migrations seed (national-day campaigns, pledge texts): restored after each truncation.
SEEDED_TABLES = ("campaigns", "pledge_texts")
_seeded_rows: dict[str, list[dict[str, Any]]] = {}


def pytest_report_header() -> list[str]:
    """Say which backends this run uses, and what it skips."""
    db = "PostgreSQL (TEST_POSTGRES_URL)" if POSTGRES_URL else "SQLite (set TEST_POSTGRES_URL for PostgreSQL)"
    redis = "Redis (TEST_REDIS_URL)" if REDIS_URL else "no Redis: FSM and dedupe in the database (set TEST_REDIS_URL)"
    return [f"tinbao database: {db}", f"tinbao state: {redis}"]


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, copied for every test (migrating 3,321 communes each time is slow)."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    upgrade(f"sqlite+aiosqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_migrated() -> str | None:
    """Migrate the PostgreSQL test database once per run."""
    if not POSTGRES_URL:
        return None
    engine_url = POSTGRES_URL

    async def reset() -> None:
        engine = create_engine(engine_url)
        async with engine.begin() as conn:
            await conn.execute(text("DROP SCHEMA public CASCADE"))
            await conn.execute(text("CREATE SCHEMA public"))
        await engine.dispose()

    asyncio.run(reset())
    upgrade(engine_url)

    async def snapshot() -> None:
        engine = create_engine(engine_url)
        async with engine.connect() as conn:
            for name in SEEDED_TABLES:
                table = Base.metadata.tables[name]
                _seeded_rows[name] = [dict(row._mapping) for row in await conn.execute(table.select())]
        await engine.dispose()

    asyncio.run(snapshot())
    return engine_url


@pytest.fixture
def database_url(tmp_path: Path, sqlite_template: Path, postgres_migrated: str | None) -> Iterator[str]:
    """A clean database for one test: a fresh SQLite copy, or truncated PostgreSQL tables."""
    if postgres_migrated:

        async def truncate() -> None:
            engine = create_engine(postgres_migrated)
            tables = [t.name for t in Base.metadata.sorted_tables if t.name not in REFERENCE_TABLES]
            async with engine.begin() as conn:
                await conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
                for name, rows in _seeded_rows.items():
                    table = Base.metadata.tables[name]
                    if rows:
                        await conn.execute(table.insert(), rows)
                    # Keep the id sequence past the restored rows, as after the migration.
                    await conn.execute(
                        text(f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), GREATEST(MAX(id), 1)) FROM {name}")  # noqa: S608 - fixed table names
                    )
            await engine.dispose()

        asyncio.run(truncate())
        yield postgres_migrated
        return
    path = tmp_path / "tinbao.db"
    shutil.copy(sqlite_template, path)
    yield f"sqlite+aiosqlite:///{path}"


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    """Test settings: a fixed secret, the test database, Redis when the run asks for it."""
    overrides: dict[str, Any] = {
        "database_url": database_url,
        "secret_key": TEST_SECRET,
        "data_dir": tmp_path / "data",
        "redis_url": REDIS_URL,
        "log_level": "DEBUG",
    }
    return load_settings(**overrides)


@pytest.fixture
async def sandbox() -> AsyncIterator[RunningSandbox]:
    """The Telegram emulator on a free port."""
    running = await start_sandbox(host="127.0.0.1", port=0)
    try:
        yield running
    finally:
        await running.stop()


async def _flush_redis() -> None:
    if REDIS_URL:
        from redis.asyncio import Redis

        redis = Redis.from_url(REDIS_URL)
        await redis.flushdb()
        await redis.aclose()


@pytest.fixture
async def app_context(settings: Settings, sandbox: RunningSandbox) -> AsyncIterator[AppContext]:
    """The real bot and dispatcher pointed at the sandbox (not yet receiving updates)."""
    await _flush_redis()
    context = build_context(settings, api_base=sandbox.base_url)
    try:
        yield context
    finally:
        await context.close()


@dataclass
class RunningBot:
    """A polling bot plus a control client for the sandbox."""

    context: AppContext
    client: SandboxClient
    task: asyncio.Task[None]
    tracker: UpdateTracker

    @property
    def sessions(self) -> async_sessionmaker[AsyncSession]:
        """Sessions on the bot's database, for assertions."""
        return self.context.sessions

    def citizen(self, user_id: int = 100000001, **kwargs: Any) -> Citizen:
        """A citizen who chats with the bot through the sandbox."""
        kwargs.setdefault("tracker", self.tracker)
        return Citizen(self.client, user_id=user_id, **kwargs)


async def start_polling_bot(context: AppContext, sandbox: RunningSandbox) -> RunningBot:
    """Start the dispatcher polling the sandbox, as `tinbao run` does."""
    client = SandboxClient(sandbox.base_url, context.settings.bot_token)
    tracker = UpdateTracker()
    tracker.attach(context.dispatcher)
    task = asyncio.create_task(
        context.dispatcher.start_polling(
            context.bot, handle_signals=False, polling_timeout=1, allowed_updates=["message", "callback_query"]
        )
    )
    return RunningBot(context=context, client=client, task=task, tracker=tracker)


async def stop_polling_bot(running: RunningBot) -> None:
    """Stop polling and close the control client."""
    with contextlib.suppress(RuntimeError):
        await running.context.dispatcher.stop_polling()
    await asyncio.wait_for(running.task, timeout=10)
    await running.client.aclose()


@pytest.fixture
async def bot(app_context: AppContext, sandbox: RunningSandbox) -> AsyncIterator[RunningBot]:
    """The bot polling the sandbox; tests talk to it as citizens over HTTP."""
    running = await start_polling_bot(app_context, sandbox)
    try:
        yield running
    finally:
        await stop_polling_bot(running)


WEBHOOK_SECRET = "test-webhook-secret-0123456789"


@dataclass
class WebhookBot:
    """The FastAPI app served by uvicorn, with the sandbox pushing updates to its webhook."""

    context: AppContext
    client: SandboxClient
    url: str
    server: Any
    tracker: UpdateTracker

    def citizen(self, user_id: int = 100000001, **kwargs: Any) -> Citizen:
        """A citizen who chats with the bot through the sandbox."""
        kwargs.setdefault("tracker", self.tracker)
        return Citizen(self.client, user_id=user_id, **kwargs)


async def serve_app(context: AppContext) -> tuple[Any, asyncio.Task[None], str]:
    """Serve the ASGI app on a free loopback port; returns the server, its task and base URL."""
    import socket

    import uvicorn

    from admin_api.app import create_app

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(context), log_config=None, access_log=False, lifespan="off"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        await asyncio.sleep(0.01)
    return server, task, f"http://127.0.0.1:{port}"


@pytest.fixture
async def webhook_bot(settings: Settings, sandbox: RunningSandbox) -> AsyncIterator[WebhookBot]:
    """The bot in webhook mode: sandbox → POST /telegram/webhook with the secret header."""
    await _flush_redis()
    webhook_settings = settings.model_copy(update={"webhook_secret": SecretStr(WEBHOOK_SECRET), "bot_mode": "webhook"})
    context = build_context(webhook_settings, api_base=sandbox.base_url)
    tracker = UpdateTracker()
    tracker.attach(context.dispatcher)
    server, task, base = await serve_app(context)
    url = base + webhook_settings.webhook_path
    await context.bot.set_webhook(url, secret_token=WEBHOOK_SECRET)
    client = SandboxClient(sandbox.base_url, context.settings.bot_token)
    try:
        yield WebhookBot(context=context, client=client, url=url, server=server, tracker=tracker)
    finally:
        await context.bot.delete_webhook()
        server.should_exit = True
        await asyncio.wait_for(task, timeout=10)
        await client.aclose()
        await context.close()
