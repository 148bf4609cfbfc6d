"""A worker process killed with SIGKILL mid-broadcast, twice: everyone gets the notice, few get it twice."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import time
from pathlib import Path

import pytest

from bot.context import AppContext
from sandbox.runner import RunningSandbox
from sandbox.state import World
from storage.domain import CampaignState, DeliveryStatus
from tests.bot.broadcast_fixtures import (
    campaign_state,
    chat_ids,
    delivery_counts,
    make_campaign,
    register_chats,
    seed_subscribers,
    successful_sends,
    unhonoured_429s,
)
from tests.conftest import REDIS_URL, TEST_SECRET

ROOT = Path(__file__).resolve().parents[2]
CONCURRENCY = 8
RATE = 250


def _worker_env(context: AppContext, sandbox: RunningSandbox, tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "DATABASE_", "REDIS_"))}
    env.update(
        DATABASE_URL=str(context.settings.effective_database_url),
        SECRET_KEY=TEST_SECRET,
        DATA_DIR=str(tmp_path / "worker-data"),
        TELEGRAM_API_BASE=sandbox.base_url,
        BROADCAST_RATE=str(RATE),
        BROADCAST_CONCURRENCY=str(CONCURRENCY),
        QUIET_HOURS_START="0",
        QUIET_HOURS_END="0",
        LEASE_SECONDS="2",
        SCHEDULER_RESYNC_SECONDS="1",
        LOG_LEVEL="WARNING",
        PYTHONUNBUFFERED="1",
    )
    if REDIS_URL:
        env["REDIS_URL"] = REDIS_URL
    return env


async def _spawn(env: dict[str, str], log: Path) -> asyncio.subprocess.Process:
    with log.open("ab") as out:
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", "--role", "worker", cwd=ROOT, env=env, stdout=out, stderr=out
        )


async def _wait_for_sends(world: World, at_least: int, *, limit_seconds: float = 60.0) -> None:
    deadline = time.monotonic() + limit_seconds
    while sum(successful_sends(world).values()) < at_least:
        if time.monotonic() > deadline:
            raise TimeoutError(f"only {sum(successful_sends(world).values())} sends seen")
        await asyncio.sleep(0.01)


@pytest.mark.timeout(300)  # three real worker processes boot here (aiogram's import alone takes seconds)
async def test_sigkill_twice_mid_broadcast_resumes_without_skipping(
    app_context: AppContext, sandbox: RunningSandbox, tmp_path: Path
) -> None:
    token = app_context.settings.bot_token
    chats = chat_ids(2000)
    blocked = set(chats[::40])
    world = register_chats(sandbox, token, chats)
    world.behaviour.blocked_chats |= blocked
    world.behaviour.limits_enabled = True
    world.limiter.configure(1000, 1, 1)
    await seed_subscribers(app_context.sessions, app_context.keys, chats)
    campaign_id = await make_campaign(app_context.sessions)
    env = _worker_env(app_context, sandbox, tmp_path)
    log = tmp_path / "worker.log"

    kills = 0
    process = await _spawn(env, log)
    try:
        for threshold in (400, 1100):
            await _wait_for_sends(world, threshold)
            os.kill(process.pid, signal.SIGKILL)
            await process.wait()
            kills += 1
            process = await _spawn(env, log)
        counts = await _wait_done(app_context, campaign_id, process, log)
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(process.wait(), timeout=15)
            except TimeoutError:
                process.kill()
                await process.wait()

    sends = successful_sends(world)
    delivered = set(chats) - blocked
    assert set(sends) == delivered, "every subscriber who did not block the bot got the notice"
    duplicates = sum(n - 1 for n in sends.values())
    assert duplicates <= CONCURRENCY * kills, f"{duplicates} duplicates after {kills} kills"
    assert counts == {DeliveryStatus.SENT: 1950, DeliveryStatus.GONE: 50}
    assert unhonoured_429s(world) == []
    assert await campaign_state(app_context.sessions, campaign_id) is CampaignState.DONE


async def _wait_done(
    context: AppContext, campaign_id: int, process: asyncio.subprocess.Process, log: Path
) -> dict[str, int]:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        counts = await delivery_counts(context.sessions, campaign_id)
        if counts and not counts[DeliveryStatus.PENDING] and not counts[DeliveryStatus.SENDING]:
            return dict(counts)
        if process.returncode is not None:
            break
        await asyncio.sleep(0.1)
    tail = ""
    with contextlib.suppress(OSError):
        tail = (await asyncio.to_thread(log.read_text))[-4000:]
    left = dict(await delivery_counts(context.sessions, campaign_id))
    raise AssertionError(f"broadcast did not finish: {left}\nworker log:\n{tail}")
