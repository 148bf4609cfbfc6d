"""Fixtures: an in-process sandbox on a free port, an aiogram Bot and a control client pointed at it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer

from sandbox.client import SandboxClient, SandboxUser
from sandbox.runner import RunningSandbox, start_sandbox

TOKEN = "123456789:AAsandboxTestTokenForTinBao_000"


@pytest.fixture
async def sandbox() -> AsyncIterator[RunningSandbox]:
    running = await start_sandbox(port=0)
    try:
        yield running
    finally:
        await running.stop()


@pytest.fixture
async def bot(sandbox: RunningSandbox) -> AsyncIterator[Bot]:
    session = AiohttpSession(api=TelegramAPIServer.from_base(sandbox.base_url))
    instance = Bot(TOKEN, session=session)
    try:
        yield instance
    finally:
        await session.close()


@pytest.fixture
async def client(sandbox: RunningSandbox) -> AsyncIterator[SandboxClient]:
    async with SandboxClient(sandbox.base_url, TOKEN) as control:
        yield control


@pytest.fixture
def token() -> str:
    return TOKEN


@pytest.fixture
def citizen() -> SandboxUser:
    return SandboxUser(id=100000001, first_name="Công dân", language_code="vi")
