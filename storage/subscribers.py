"""Campaign subscribers (one per citizen) and the campaigns a citizen sees running now in /info."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from storage.areas import get_province, get_ward
from storage.domain import ALL_TOPICS_MASK, TOPIC_BITS, CampaignState, ScheduleKind, SubscriberState, Topic
from storage.errors import ValidationFailed
from storage.models import Campaign, Subscriber, Ward, utcnow

LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
RECENT_ONCE = timedelta(days=7)
# Only campaigns officers switched on count as running; drafts and cancelled ones never show.
LIVE_STATES = (CampaignState.SCHEDULED, CampaignState.SENDING, CampaignState.DONE)


def topics_of(mask: int) -> list[Topic]:
    """The topics whose bit is set, in the enum's order."""
    return [topic for topic, bit in TOPIC_BITS.items() if mask & bit]


def mask_of(topics: list[Topic]) -> int:
    """The bit mask of some topics."""
    return sum(TOPIC_BITS[t] for t in set(topics))


async def get_subscription(session: AsyncSession, *, reporter_id: int) -> Subscriber | None:
    """The citizen's subscription row in any state, or None."""
    return await session.scalar(select(Subscriber).where(Subscriber.reporter_id == reporter_id))


async def _check_area(session: AsyncSession, province_code: int | None, ward_code: int | None) -> None:
    if province_code is None:
        if ward_code is not None:
            raise ValidationFailed("a commune needs its province")
        return
    if await get_province(session, code=province_code) is None:
        raise ValidationFailed("unknown province")
    if ward_code is not None:
        found = await get_ward(session, code=ward_code)
        if found is None or found[1] != province_code:
            raise ValidationFailed("the commune is not in the province")


async def save_subscription(
    session: AsyncSession,
    *,
    reporter_id: int,
    chat_enc: bytes,
    locale: str,
    province_code: int | None,
    ward_code: int | None,
    topics_mask: int,
) -> Subscriber:
    """Create or update the citizen's subscription and make it active (chat id already sealed)."""
    if topics_mask <= 0 or topics_mask & ~ALL_TOPICS_MASK:
        raise ValidationFailed("choose at least one known topic")
    await _check_area(session, province_code, ward_code)
    values = {
        "chat_enc": chat_enc,
        "locale": locale,
        "province_code": province_code,
        "ward_code": ward_code,
        "topics_mask": topics_mask,
        "state": SubscriberState.ACTIVE,
    }
    for _attempt in range(3):
        found = await get_subscription(session, reporter_id=reporter_id)
        if found is not None:
            for name, value in values.items():
                setattr(found, name, value)
            found.updated_at = utcnow()
            await session.flush()
            return found
        try:
            # Two quick presses of Save can race; the unique reporter_id makes the second an update.
            async with session.begin_nested():
                row = Subscriber(reporter_id=reporter_id, **values)
                session.add(row)
                await session.flush()
            return row
        except IntegrityError:
            continue
    raise RuntimeError("could not save the subscription")


async def unsubscribe(session: AsyncSession, *, reporter_id: int) -> bool:
    """Stop all notices in one step and forget the sealed chat id; True if the citizen was subscribed."""
    result = await session.execute(
        update(Subscriber)
        .where(Subscriber.reporter_id == reporter_id, Subscriber.state == SubscriberState.ACTIVE)
        .values(state=SubscriberState.UNSUBSCRIBED, chat_enc=b"", updated_at=utcnow())
    )
    return bool(getattr(result, "rowcount", 0))


async def set_subscriber_locale(session: AsyncSession, *, reporter_id: int, locale: str) -> None:
    """Keep the notices' language in step with the citizen's /language choice."""
    await session.execute(update(Subscriber).where(Subscriber.reporter_id == reporter_id).values(locale=locale))


def local_today(now: datetime | None = None) -> date:
    """Today's date in Asia/Ho_Chi_Minh."""
    return (now or utcnow()).astimezone(LOCAL_TZ).date()


def yearly_running(campaign: Campaign, today: date) -> bool:
    """Whether a yearly campaign's day, or date range (which may wrap past New Year), includes today."""
    if campaign.yearly_month is None or campaign.yearly_day is None:
        return False
    start = (campaign.yearly_month, campaign.yearly_day)
    end = (campaign.yearly_end_month or start[0], campaign.yearly_end_day or start[1])
    if campaign.yearly_end_month is None or campaign.yearly_end_day is None:
        end = start
    current = (today.month, today.day)
    if start <= end:
        return start <= current <= end
    return current >= start or current <= end


async def _reaches(session: AsyncSession, campaign: Campaign, subscriber: Subscriber | None) -> bool:
    """The audience rule, for one citizen: see storage/audience.py for the SQL form used when sending."""
    if campaign.target_nationwide:
        return True
    if subscriber is None or subscriber.state != SubscriberState.ACTIVE or subscriber.province_code is None:
        return False
    if subscriber.province_code in (campaign.target_province_codes or []):
        return True
    wards = list(campaign.target_ward_codes or [])
    if subscriber.ward_code is not None:
        return subscriber.ward_code in wards
    if not wards:
        return False
    # A whole-province subscriber hears about any commune of their province.
    found = await session.scalar(
        select(Ward.code).where(Ward.code.in_(wards), Ward.province_code == subscriber.province_code).limit(1)
    )
    return found is not None


async def running_campaigns(
    session: AsyncSession, *, subscriber: Subscriber | None, now: datetime | None = None, limit: int = 5
) -> list[Campaign]:
    """Campaigns running today (yearly ranges) or sent in the last 7 days (once), for the citizen's area."""
    now = now or utcnow()
    today = local_today(now)
    rows = await session.scalars(select(Campaign).where(Campaign.state.in_(LIVE_STATES)).order_by(Campaign.id))
    found: list[Campaign] = []
    for campaign in rows:
        if campaign.schedule_kind == ScheduleKind.YEARLY:
            running = yearly_running(campaign, today)
        else:
            running = campaign.send_at is not None and now - RECENT_ONCE <= campaign.send_at <= now
        if running and await _reaches(session, campaign, subscriber):
            found.append(campaign)
    return found[:limit]
