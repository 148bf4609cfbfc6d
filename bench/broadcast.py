"""Broadcast benchmark: one campaign to N subscribers through the emulator enforcing Telegram's limits.

    python -m bench.broadcast --subscribers 10000 --limit 30 [--rate R] [--concurrency C] [--peer]
                              [--database-url URL]

The emulator runs as its own process (`python -m sandbox`) with flood control on (global `--limit` msg/s,
1 msg/s per chat); every subscriber's chat is registered through its control API first. TinBáo's sender
(bot.broadcast.Broadcaster, durable deliveries in SQLite or the given database) sends the campaign; with
`--peer`, python-telegram-bot's AIORateLimiter then sends the same text to the same chats through the
same emulator under another bot token (its own flood buckets). Rates are read from the emulator's request
log: accepted sends per second between the first and the last one, plus 429s, duplicates and losses.
Only 127.0.0.1 is used; every wait is bounded.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bench.intake import free_port, host_pressure, start_process, stop_process, tail, wait_until_up
from bot.broadcast import BroadcastConfig, Broadcaster
from bot.config import SANDBOX_TOKEN, load_settings
from bot.factory import build_context
from bot.scheduler import CampaignScheduler
from sandbox.client import SandboxClient
from storage.campaign_runs import run_progress
from storage.domain import ALL_TOPICS_MASK, CampaignState, ScheduleKind, SubscriberState
from storage.migrate import upgrade_async
from storage.models import Campaign, CampaignRun, Reporter, Subscriber, utcnow
from storage.privacy import PrivacyKeys

HOST = "127.0.0.1"
ROOT = Path(__file__).resolve().parents[1]
PEER_TOKEN = "987654321:PTB-peer-benchmark-token-not-secret"  # only ever sent to the local emulator
FIRST_CHAT = 600_000_001
TITLE = "Tháng hành động phòng, chống ma túy"
BODY = (
    "Từ ngày 1 đến 30/6, cả nước hưởng ứng <b>Tháng hành động phòng, chống ma túy</b>. "
    "Hãy nói không với ma túy và báo cho Công an khi phát hiện mua bán, tổ chức sử dụng trái phép. "
    "Gọi <b>113</b> khi khẩn cấp."
)


@dataclass
class Measured:
    """One sender's result as the emulator saw it."""

    name: str
    accepted: int
    rate_window: float
    rate_wall: float
    too_many: int
    duplicates: int
    lost: int
    wall: float
    note: str = ""

    def line(self) -> str:
        """One table row."""
        return (
            f"| {self.name} | {self.accepted} | {self.rate_window:.1f} | {self.rate_wall:.1f} | {self.too_many} "
            f"| {self.duplicates} | {self.lost} | {self.wall:.1f} | {self.note} |"
        )


HEADER = (
    "| sender | accepted | msg/s (first→last send) | msg/s (wall) | 429s | duplicates | lost | seconds | note |\n"
    "|---|---|---|---|---|---|---|---|---|"
)


async def register(control: SandboxClient, chats: Sequence[int], limit: int) -> None:
    """Every subscriber has written to the bot once (the emulator answers 400 "chat not found" otherwise)."""
    gate = asyncio.Semaphore(32)

    async def one(chat: int) -> None:
        async with gate:
            await control.add_chat({"id": chat, "type": "private", "first_name": "Công dân"})

    await asyncio.gather(*(one(chat) for chat in chats))
    await control.set_behaviour(limits_enabled=True, global_rate=limit, per_chat_rate=1, per_chat_burst=1)


async def measure(control: SandboxClient, name: str, chats: Sequence[int], wall: float, note: str = "") -> Measured:
    """Accepted sends per chat and their pace, from the emulator's request log."""
    log = await control.requests("sendMessage")
    accepted = [r for r in log if r["status"] == 200]
    per_chat = Counter(int(r["params"]["chat_id"]) for r in accepted)
    stamps = sorted(float(r["ts"]) for r in accepted)
    window = stamps[-1] - stamps[0] if len(stamps) > 1 else 0.0
    stats = await control.stats()
    return Measured(
        name=name,
        accepted=len(accepted),
        rate_window=(len(stamps) - 1) / window if window > 0 else 0.0,
        rate_wall=len(accepted) / wall if wall > 0 else 0.0,
        too_many=int(stats["too_many_requests"]),
        duplicates=sum(n - 1 for n in per_chat.values() if n > 1),
        lost=sum(1 for chat in chats if per_chat[chat] == 0),
        wall=wall,
        note=note,
    )


async def seed(sessions: async_sessionmaker[AsyncSession], keys: PrivacyKeys, chats: Sequence[int]) -> None:
    """One reporter and one whole-country subscriber per chat, in bulk, plus the campaign (due now)."""
    now = utcnow()
    async with sessions() as session:
        first = int(await session.scalar(select(func.coalesce(func.max(Reporter.id), 0))) or 0) + 1
        for start in range(0, len(chats), 2000):
            part = list(enumerate(chats))[start : start + 2000]
            await session.execute(
                insert(Reporter),
                [
                    {"id": first + i, "key_hash": keys.reporter_hash(c), "alias": f"B-{c}", "created_at": now}
                    for i, c in part
                ],
            )
            await session.execute(
                insert(Subscriber),
                [
                    {
                        "reporter_id": first + i,
                        "chat_enc": keys.encrypt_text(str(c), purpose="subscriber_chat"),
                        "locale": "vi",
                        "topics_mask": ALL_TOPICS_MASK,
                        "state": SubscriberState.ACTIVE,
                        "created_at": now,
                        "updated_at": now,
                    }
                    for i, c in part
                ],
            )
        session.add(
            Campaign(
                title=TITLE,
                body_html=BODY,
                schedule_kind=ScheduleKind.ONCE,
                send_at=now,
                state=CampaignState.SCHEDULED,
            )
        )
        await session.commit()


async def run_tinbao(options: argparse.Namespace, url: str, chats: Sequence[int], folder: Path) -> Measured:
    """TinBáo's sender: scheduler starts the run, the broadcaster sends it to the end."""
    control = SandboxClient(url, SANDBOX_TOKEN)
    try:
        await register(control, chats, options.limit)
        database_url = options.database_url or f"sqlite+aiosqlite:///{folder / 'bench.db'}"
        await upgrade_async(database_url)
        settings = load_settings(
            database_url=database_url,
            secret_key=secrets.token_urlsafe(48),
            data_dir=folder / "data",
            telegram_api_base=url,
            log_level="WARNING",
        )
        context = build_context(settings, api_base=url)
        config = BroadcastConfig(rate=options.rate, concurrency=options.concurrency, quiet_start=0, quiet_end=0)
        sender = Broadcaster(context, config=config)
        try:
            await seed(context.sessions, context.keys, chats)
            await CampaignScheduler(context, sender).sync()
            started = time.perf_counter()
            await sender.run_until_idle(limit_seconds=options.max_seconds)
            wall = time.perf_counter() - started
            async with context.sessions() as session:
                run_id = await session.scalar(select(func.max(CampaignRun.id)))
                progress = await run_progress(session, run_id=int(run_id or 0), now=utcnow())
        finally:
            await sender.close()
            await context.close()
        counts = ", ".join(f"{k.value} {v}" for k, v in progress.counts.items() if v)
        note = f"rate {options.rate:g}, window {options.concurrency}, {database_url.split(':')[0]}; rows: {counts}"
        return await measure(control, "TinBáo Broadcaster", chats, wall, note)
    finally:
        await control.aclose()


async def run_peer(options: argparse.Namespace, url: str, chats: Sequence[int]) -> Measured:
    """python-telegram-bot's AIORateLimiter sending the same list (its own token, so fresh flood buckets)."""
    from bench.ptb_peer import ptb_broadcast

    control = SandboxClient(url, PEER_TOKEN)
    try:
        await register(control, chats, options.limit)
        text = f"<b>{TITLE}</b>\n\n{BODY}"
        result = await ptb_broadcast(url, PEER_TOKEN, chats, text, rate=options.rate, connections=options.concurrency)
        errors = ", ".join(f"{k} {v}" for k, v in result.errors.items()) or "no errors"
        limiter = f"AIORateLimiter(overall_max_rate={options.rate:g}, max_retries=5)"
        note = f"{limiter}, {options.peer_style}, {options.concurrency} connections; {errors}"
        return await measure(control, "python-telegram-bot AIORateLimiter", chats, result.seconds, note)
    finally:
        await control.aclose()


async def run(options: argparse.Namespace) -> list[Measured]:
    """Start the emulator, run the senders one after the other, stop the emulator."""
    folder = Path(tempfile.mkdtemp(prefix="tinbao-bench-broadcast-"))
    port = free_port()
    url = f"http://{HOST}:{port}"
    log = folder / "sandbox.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "DATABASE_", "REDIS_"))}
    sandbox = await start_process(
        [sys.executable, "-m", "sandbox", "--host", HOST, "--port", str(port)], env, ROOT, log
    )
    chats = list(range(FIRST_CHAT, FIRST_CHAT + options.subscribers))
    results: list[Measured] = []
    try:
        await wait_until_up(f"{url}/bot{SANDBOX_TOKEN}/getMe", sandbox, log)
        if not options.peer_only:
            results.append(await run_tinbao(options, url, chats, folder))
            print(results[-1].line(), flush=True)
        if options.peer or options.peer_only:
            results.append(await run_peer(options, url, chats))
            print(results[-1].line(), flush=True)
    except Exception:
        print(tail(log), file=sys.stderr)
        raise
    finally:
        await stop_process(sandbox)
    return results


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(prog="python -m bench.broadcast", description=__doc__.split("\n")[0])
    parser.add_argument("--subscribers", type=int, default=10_000)
    parser.add_argument("--limit", type=int, default=30, help="the emulator's global flood limit, msg/s")
    parser.add_argument("--rate", type=float, default=None, help="the senders' rate (default: the limit)")
    parser.add_argument("--concurrency", type=int, default=None, help="send window / connections")
    parser.add_argument("--peer", action="store_true", help="also run python-telegram-bot's AIORateLimiter")
    parser.add_argument("--peer-only", action="store_true", help="only run the python-telegram-bot peer")
    parser.add_argument(
        "--peer-style",
        choices=["workers", "gather"],
        default="workers",
        help="peer sends from a pool of --concurrency coroutines, or gathers one coroutine per recipient",
    )
    parser.add_argument("--database-url", default=None, help="an empty database (default: a new SQLite file)")
    parser.add_argument("--max-seconds", type=float, default=3600.0, help="give up after this long")
    options = parser.parse_args(argv)
    if not 1 <= options.subscribers <= 200_000:
        parser.error("--subscribers must be between 1 and 200000")
    options.rate = options.rate or float(options.limit)
    options.concurrency = options.concurrency or (8 if options.limit <= 100 else 64)
    return options


def main(argv: list[str] | None = None) -> None:
    """Entry point."""
    options = parse_args(argv)
    print(
        f"broadcast benchmark: {options.subscribers} subscribers, emulator limit {options.limit} msg/s, "
        f"{os.cpu_count()} CPUs, {host_pressure()}",
        flush=True,
    )
    print(HEADER, flush=True)
    results = asyncio.run(run(options))
    print(f"after: {host_pressure()}")
    worst = [r for r in results if r.lost or r.duplicates]
    raise SystemExit(1 if worst else 0)


if __name__ == "__main__":
    main()
