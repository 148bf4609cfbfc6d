"""Helpers for broadcaster and scheduler tests: subscribers in bulk, campaigns, sandbox bookkeeping."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.context import AppContext
from sandbox.runner import RunningSandbox
from sandbox.state import World
from storage.domain import ALL_TOPICS_MASK, CampaignState, DeliveryStatus, ScheduleKind, SubscriberState
from storage.models import Campaign, CampaignRun, Delivery, Reporter, Subscriber, utcnow
from storage.privacy import PrivacyKeys

FIRST_CHAT = 700_000_000


def chat_ids(count: int, start: int = FIRST_CHAT) -> list[int]:
    """Telegram-like private chat ids for simulated subscribers."""
    return list(range(start, start + count))


async def seed_subscribers(
    sessions: async_sessionmaker[AsyncSession],
    keys: PrivacyKeys,
    chats: Sequence[int],
    *,
    province_code: int | None = None,
    ward_code: int | None = None,
    topics_mask: int = ALL_TOPICS_MASK,
    state: SubscriberState = SubscriberState.ACTIVE,
) -> list[int]:
    """Insert one reporter + subscriber per chat in bulk; returns the subscriber ids in chat order."""
    async with sessions() as session:
        first = int(await session.scalar(select(func.coalesce(func.max(Reporter.id), 0))) or 0) + 1
        now = utcnow()
        reporters = [
            {
                "id": first + i,
                "key_hash": keys.reporter_hash(chat),
                "alias": f"T-{chat}",
                "locale": "vi",
                "created_at": now,
            }
            for i, chat in enumerate(chats)
        ]
        await session.execute(insert(Reporter), reporters)
        first_sub = int(await session.scalar(select(func.coalesce(func.max(Subscriber.id), 0))) or 0) + 1
        subscribers = [
            {
                "id": first_sub + i,
                "reporter_id": first + i,
                "chat_enc": keys.encrypt_text(str(chat), purpose="subscriber_chat"),
                "locale": "vi",
                "province_code": province_code,
                "ward_code": ward_code,
                "topics_mask": topics_mask,
                "state": state,
                "created_at": now,
                "updated_at": now,
            }
            for i, chat in enumerate(chats)
        ]
        await session.execute(insert(Subscriber), subscribers)
        await session.commit()
    return [first_sub + i for i in range(len(chats))]


def register_chats(sandbox: RunningSandbox, token: str, chats: Iterable[int]) -> World:
    """Make the chats known to the sandbox, as if each citizen had written to the bot."""
    world = sandbox.state.world(token)
    for chat in chats:
        world.ensure_chat({"id": chat, "type": "private", "first_name": "Công dân"})
    return world


async def make_campaign(
    sessions: async_sessionmaker[AsyncSession],
    *,
    title: str = "Tháng hành động phòng, chống ma túy",
    body_html: str = "Hãy cùng <i>chung tay</i> phòng, chống ma túy.",
    send_at: datetime | None = None,
    schedule_kind: ScheduleKind = ScheduleKind.ONCE,
    state: CampaignState = CampaignState.SCHEDULED,
    **fields: Any,
) -> int:
    """A scheduled once-campaign to the whole country (send_at defaults to a second ago)."""
    async with sessions() as session:
        campaign = Campaign(
            title=title,
            body_html=body_html,
            schedule_kind=schedule_kind,
            send_at=send_at
            if send_at is not None or schedule_kind is ScheduleKind.YEARLY
            else utcnow() - timedelta(seconds=1),
            state=state,
            **fields,
        )
        session.add(campaign)
        await session.commit()
        return campaign.id


async def delivery_counts(sessions: async_sessionmaker[AsyncSession], campaign_id: int) -> Counter[str]:
    """Deliveries of a campaign's runs by status."""
    async with sessions() as session:
        rows = await session.execute(
            select(Delivery.status, func.count())
            .join(CampaignRun, CampaignRun.id == Delivery.run_id)
            .where(CampaignRun.campaign_id == campaign_id)
            .group_by(Delivery.status)
        )
        return Counter({str(status): int(n) for status, n in rows})


async def campaign_state(sessions: async_sessionmaker[AsyncSession], campaign_id: int) -> CampaignState:
    """A campaign's state now."""
    async with sessions() as session:
        state = await session.scalar(select(Campaign.state).where(Campaign.id == campaign_id))
        assert state is not None
        return state


async def wait_until_sent(
    sessions: async_sessionmaker[AsyncSession], campaign_id: int, *, limit_seconds: float = 30.0
) -> Counter[str]:
    """Poll the database until the campaign has no open deliveries and at least one run."""
    deadline = time.monotonic() + limit_seconds
    while time.monotonic() < deadline:
        counts = await delivery_counts(sessions, campaign_id)
        if counts and not counts[DeliveryStatus.PENDING] and not counts[DeliveryStatus.SENDING]:
            return counts
        await asyncio.sleep(0.1)
    raise TimeoutError(f"campaign {campaign_id} still sending: {dict(await delivery_counts(sessions, campaign_id))}")


def successful_sends(world: World, method: str = "sendMessage") -> Counter[int]:
    """Accepted sends per chat, from the sandbox request log."""
    return Counter(int(r.params["chat_id"]) for r in world.request_log if r.method == method and r.status == 200)


def unhonoured_429s(world: World, *, in_flight: float = 0.25, retry_after: float = 1.0) -> list[tuple[float, float]]:
    """(429 time, send time) pairs where a send arrived while a retry_after was running.

    The sandbox log has no retry_after, but every 429 it gives for these limits says 1 s (the wait is
    rounded up to whole seconds). Requests that arrive within `in_flight` of the 429 were already on
    their way when it was answered, so only later ones count as not honouring it.
    """
    sends = [r for r in world.request_log if r.method in ("sendMessage", "sendPhoto")]
    limits = [r.ts for r in sends if r.status == 429]
    bad = []
    for t0 in limits:
        for record in sends:
            if t0 + in_flight < record.ts < t0 + retry_after - 0.02:
                bad.append((t0, record.ts))
    return bad


def context_keys(context: AppContext) -> PrivacyKeys:
    """The privacy keys of a context (short alias for tests)."""
    return context.keys
