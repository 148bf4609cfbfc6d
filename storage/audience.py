"""Who receives a campaign: the one place the audience rule is written as SQL."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from sqlalchemy import ColumnElement, and_, false, func, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from storage.domain import TOPIC_BITS, SubscriberState, Topic
from storage.models import Subscriber, Ward


class CampaignTarget(Protocol):
    """What the audience rule reads from a campaign (a Campaign row, or an unsaved draft for previews)."""

    @property
    def topic(self) -> Topic | None: ...
    @property
    def target_nationwide(self) -> bool: ...
    @property
    def target_province_codes(self) -> Sequence[int]: ...
    @property
    def target_ward_codes(self) -> Sequence[int]: ...


def area_clause(campaign: CampaignTarget) -> ColumnElement[bool]:
    """The area half of the rule.

    A nationwide campaign reaches everyone. Otherwise a subscriber is reached when their province is
    targeted (whole-province and commune subscribers alike), when their commune is targeted, or when they
    chose a whole province that contains a targeted commune. A whole-country subscriber (province NULL)
    only hears nationwide campaigns: they asked for national news, not every commune's.
    """
    if campaign.target_nationwide:
        return true()
    provinces = sorted({int(code) for code in campaign.target_province_codes or ()})
    wards = sorted({int(code) for code in campaign.target_ward_codes or ()})
    parts: list[ColumnElement[bool]] = []
    if provinces:
        parts.append(Subscriber.province_code.in_(provinces))
    if wards:
        parts.append(Subscriber.ward_code.in_(wards))
        ward_provinces = select(Ward.province_code).where(Ward.code.in_(wards)).scalar_subquery()
        parts.append(and_(Subscriber.ward_code.is_(None), Subscriber.province_code.in_(ward_provinces)))
    if not parts:
        return false()
    return or_(*parts)


def topic_clause(campaign: CampaignTarget) -> ColumnElement[bool]:
    """A campaign without a topic reaches every topic; otherwise the subscriber's mask must have its bit."""
    if campaign.topic is None:
        return true()
    return Subscriber.topics_mask.op("&")(TOPIC_BITS[Topic(campaign.topic)]) != 0


def audience_clause(campaign: CampaignTarget) -> ColumnElement[bool]:
    """WHERE clause over `subscribers` selecting exactly the active recipients of the campaign."""
    return and_(Subscriber.state == SubscriberState.ACTIVE, area_clause(campaign), topic_clause(campaign))


async def count_audience(session: AsyncSession, *, campaign: CampaignTarget) -> int:
    """How many active subscribers the campaign would reach now (preview counts)."""
    total = await session.scalar(select(func.count()).select_from(Subscriber).where(audience_clause(campaign)))
    return int(total or 0)
