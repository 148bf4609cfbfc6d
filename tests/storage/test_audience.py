"""The audience rule: who receives a campaign by area, topic and subscription state."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from sqlalchemy import select

from bot.context import AppContext
from storage.audience import audience_clause, count_audience
from storage.domain import ALL_TOPICS_MASK, TOPIC_BITS, SubscriberState, Topic
from storage.models import Subscriber, Ward
from tests.bot.broadcast_fixtures import seed_subscribers

HA_NOI = 1


@dataclass
class Target:
    """An unsaved campaign target, as a preview would pass it."""

    topic: Topic | None = None
    target_nationwide: bool = False
    target_province_codes: list[int] = field(default_factory=list)
    target_ward_codes: list[int] = field(default_factory=list)


@pytest.fixture
async def people(app_context: AppContext) -> dict[str, int]:
    """One subscriber per kind of area choice, named, plus inactive ones."""
    async with app_context.sessions() as session:
        wards = list(await session.scalars(select(Ward).where(Ward.province_code == HA_NOI).limit(2)))
        other = await session.scalar(select(Ward).where(Ward.province_code != HA_NOI).limit(1))
    assert len(wards) == 2 and other is not None
    keys, sessions = app_context.keys, app_context.sessions
    found: dict[str, int] = {}
    chat = iter(range(900_000_000, 900_001_000))

    async def add(name: str, **kwargs: object) -> None:
        [found[name]] = await seed_subscribers(sessions, keys, [next(chat)], **kwargs)  # type: ignore[arg-type]

    await add("country")
    await add("hanoi", province_code=HA_NOI)
    await add("ward_a", province_code=HA_NOI, ward_code=wards[0].code)
    await add("ward_b", province_code=HA_NOI, ward_code=wards[1].code)
    await add("elsewhere", province_code=other.province_code)
    await add("elsewhere_ward", province_code=other.province_code, ward_code=other.code)
    await add("drugs_only", province_code=HA_NOI, topics_mask=TOPIC_BITS[Topic.DRUGS])
    await add("left", province_code=HA_NOI, state=SubscriberState.UNSUBSCRIBED)
    await add("blocked", province_code=HA_NOI, state=SubscriberState.GONE)
    found["ward_a_code"], found["ward_b_code"], found["other_province"] = (
        wards[0].code,
        wards[1].code,
        other.province_code,
    )
    return found


async def _reached(context: AppContext, target: Target, people: dict[str, int]) -> set[str]:
    async with context.sessions() as session:
        ids = set(await session.scalars(select(Subscriber.id).where(audience_clause(target))))
        assert await count_audience(session, campaign=target) == len(ids)
    return {name for name, sid in people.items() if sid in ids and not name.endswith(("_code", "_province"))}


async def test_nationwide_reaches_every_active_subscriber(app_context: AppContext, people: dict[str, int]) -> None:
    reached = await _reached(app_context, Target(target_nationwide=True), people)
    assert reached == {"country", "hanoi", "ward_a", "ward_b", "elsewhere", "elsewhere_ward", "drugs_only"}


async def test_a_province_reaches_its_whole_province_and_commune_subscribers(
    app_context: AppContext, people: dict[str, int]
) -> None:
    reached = await _reached(app_context, Target(target_province_codes=[HA_NOI]), people)
    assert reached == {"hanoi", "ward_a", "ward_b", "drugs_only"}  # not the whole-country subscriber


async def test_a_commune_reaches_its_own_subscribers_and_whole_province_ones(
    app_context: AppContext, people: dict[str, int]
) -> None:
    reached = await _reached(app_context, Target(target_ward_codes=[people["ward_a_code"]]), people)
    assert reached == {"ward_a", "hanoi", "drugs_only"}  # not ward_b, not the country, not elsewhere


async def test_topic_needs_the_subscribers_bit(app_context: AppContext, people: dict[str, int]) -> None:
    fire = await _reached(app_context, Target(topic=Topic.FIRE, target_province_codes=[HA_NOI]), people)
    assert fire == {"hanoi", "ward_a", "ward_b"}
    drugs = await _reached(app_context, Target(topic=Topic.DRUGS, target_province_codes=[HA_NOI]), people)
    assert drugs == {"hanoi", "ward_a", "ward_b", "drugs_only"}


async def test_no_target_reaches_nobody_and_mixed_targets_add_up(
    app_context: AppContext, people: dict[str, int]
) -> None:
    assert await _reached(app_context, Target(), people) == set()
    mixed = Target(target_province_codes=[people["other_province"]], target_ward_codes=[people["ward_b_code"]])
    assert await _reached(app_context, mixed, people) == {
        "elsewhere",
        "elsewhere_ward",
        "ward_b",
        "hanoi",
        "drugs_only",
    }


def test_all_topics_mask_has_every_bit() -> None:
    assert all(ALL_TOPICS_MASK & bit for bit in TOPIC_BITS.values())
