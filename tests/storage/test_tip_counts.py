"""The tip count rollups (migration 0005) give exactly the raw statistics, whatever the writes were."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import delete, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.db import create_engine
from storage.domain import (
    RESTRICTED_CATEGORIES,
    TIP_TRANSITIONS,
    Anonymity,
    Category,
    CategoryGroup,
    OfficerRole,
    Outcome,
    TipStatus,
    WhenKind,
)
from storage.followup import add_followup
from storage.migrate import upgrade
from storage.models import Tip, TipCommuneCount, TipCount, TipPeriodCount, Ward
from storage.officers import Jurisdiction, create_officer
from storage.privacy import PrivacyKeys
from storage.scope import Scope
from storage.seed import bulk_load_tips
from storage.stats import Period, tip_stats
from storage.tip_counts import count_clauses, split_range
from storage.tip_filters import TipFilter
from storage.tips import NewTip, create_tip
from storage.triage import TipChanges, add_note, update_tip

HA_NOI, HCM, HAI_PHONG = 1, 79, 31
PROVINCES = (HA_NOI, HCM, HAI_PHONG)
KEYS = PrivacyKeys.from_master(b"test-master-secret-0123456789")
VN = timedelta(hours=7)


def _local_midnight(year: int, month: int, day: int = 1) -> datetime:
    """The UTC moment a local (UTC+7) day starts."""
    return datetime(year, month, day, tzinfo=UTC) - VN


@pytest.fixture
async def sessions(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """Sessions on the test database (no app, no emulator: only storage)."""
    engine = create_engine(database_url)
    try:
        yield async_sessionmaker(engine, expire_on_commit=False)
    finally:
        await engine.dispose()


async def _wards(session: AsyncSession) -> dict[int, list[int]]:
    rows = await session.execute(select(Ward.code, Ward.province_code).where(Ward.province_code.in_(PROVINCES)))
    wards: dict[int, list[int]] = {}
    for code, province in rows.all():
        wards.setdefault(int(province), []).append(int(code))
    return {p: sorted(codes)[:40] for p, codes in wards.items()}  # sparse enough that moves empty some


def _moment(rng: random.Random) -> datetime:
    """Random times over three local years, a third of them within a microsecond of a local month start."""
    if rng.random() < 0.33:
        edge = _local_midnight(rng.choice((2024, 2025, 2026)), rng.randint(1, 12))
        return edge + timedelta(microseconds=rng.choice((-1, 0, 1)))
    start = _local_midnight(2024, 1)
    return start + timedelta(seconds=rng.uniform(0, 3 * 365 * 86400))


def _seed_rows(rng: random.Random, wards: dict[int, list[int]], n: int) -> list[dict[str, Any]]:
    rows = []
    for _ in range(n):
        province = rng.choice(PROVINCES)
        created = _moment(rng)
        status = rng.choice(list(TipStatus))
        row: dict[str, Any] = {
            "category": rng.choice(list(Category)),
            "province_code": province,
            "ward_code": rng.choice(wards[province]) if rng.random() < 0.8 else None,
            "created_at": created,
            "status": status,
        }
        if status is TipStatus.CLOSED:
            row["outcome"] = rng.choice(list(Outcome))
        if status is not TipStatus.NEW or rng.random() < 0.2:
            row["first_response_at"] = created + timedelta(seconds=rng.choice((60, 90, 3600, rng.uniform(1, 9e5))))
        rows.append(row)
    return rows


async def _random_changes(
    session: AsyncSession, rng: random.Random, wards: dict[int, list[int]], officer_id: int, steps: int
) -> None:
    """Status, outcome and first-response changes through the storage functions officers and tipsters use."""
    admin = Scope(True, frozenset(), frozenset(), True, OfficerRole.ADMIN)
    ids = list((await session.scalars(select(Tip.id))).all())
    for step in range(steps):
        tip = await session.get(Tip, rng.choice(ids))
        assert tip is not None
        now = datetime.now(UTC)
        roll = rng.random()
        if roll < 0.6 and TIP_TRANSITIONS[tip.status]:
            target = rng.choice(sorted(TIP_TRANSITIONS[tip.status]))
            given = {"status"}
            outcome = None
            if target is TipStatus.CLOSED:
                outcome = rng.choice([o for o in Outcome if o is not Outcome.DUPLICATE])
                given.add("outcome")
            changes = TipChanges(given=frozenset(given), status=target, outcome=outcome)
            await update_tip(session, tip=tip, officer_id=officer_id, scope=admin, changes=changes, now=now)
        elif roll < 0.75:
            await add_note(session, tip=tip, officer_id=officer_id, body="ghi chú", now=now)
        elif roll < 0.85 and tip.status is TipStatus.NEEDS_INFO:
            await add_followup(session, tip_id=tip.id, body="thêm thông tin")
        elif roll < 0.9:
            # Not a product path (tips keep their area and time), but the triggers must follow any write.
            province = rng.choice(PROVINCES)
            await session.execute(
                update(Tip)
                .where(Tip.id == tip.id)
                .values(province_code=province, ward_code=rng.choice(wards[province]), created_at=_moment(rng))
                .execution_options(synchronize_session=False)
            )
            await session.refresh(tip)
        elif roll < 0.93:
            # No product path deletes tips yet (a retention job would); its messages go with it (ON DELETE CASCADE).
            await session.execute(delete(Tip).where(Tip.id == tip.id).execution_options(synchronize_session=False))
            session.expunge(tip)
            ids.remove(tip.id)
        else:
            province = rng.choice(PROVINCES)
            await create_tip(
                session,
                tip=NewTip(
                    category=rng.choice(list(Category)),
                    urgent=False,
                    province_code=province,
                    ward_code=rng.choice(wards[province]),
                    when_kind=WhenKind.TODAY,
                    description="Xe máy bị trộm.",
                    anonymity=Anonymity.ANONYMOUS,
                ),
                reporter_id=None,
                receipt_hash=rng.randbytes(32),
                keys=KEYS,
            )
            ids = list((await session.scalars(select(Tip.id))).all())
        if step % 10 == 9:
            await session.commit()
    await session.commit()


def _scopes(wards: dict[int, list[int]]) -> list[Scope]:
    return [
        Scope(True, frozenset(), frozenset(), True),
        Scope(True, frozenset(), frozenset(), False),
        Scope(False, frozenset({HA_NOI}), frozenset(), False),
        Scope(False, frozenset({HA_NOI, HCM}), frozenset(), True),
        Scope(False, frozenset(), frozenset(wards[HCM][:2]), True),
        Scope(False, frozenset({HAI_PHONG}), frozenset(wards[HA_NOI][:1]), False),
        Scope(False, frozenset({4}), frozenset(), True),
    ]


def _filters(rng: random.Random, wards: dict[int, list[int]]) -> list[TipFilter]:
    moments = [_moment(rng) for _ in range(6)]
    return [
        TipFilter(),
        TipFilter(category=(Category.FRAUD, Category.POLITICAL_SECURITY)),
        TipFilter(group=(CategoryGroup.SOCIAL_EVILS,)),
        TipFilter(status=(TipStatus.CLOSED, TipStatus.NEEDS_INFO)),
        TipFilter(outcome=(Outcome.VALUABLE,)),
        TipFilter(province_code=(HCM,)),
        TipFilter(ward_code=tuple(wards[HA_NOI][:3])),
        TipFilter(created_from=_local_midnight(2025, 1)),
        TipFilter(created_from=_local_midnight(2024, 3), created_to=_local_midnight(2026, 2)),
        TipFilter(created_from=min(moments[:2]), created_to=max(moments[:2])),
        TipFilter(created_to=moments[2], category=(Category.DRUGS,)),
        TipFilter(created_from=moments[3], group=(CategoryGroup.CRIMINAL,), status=(TipStatus.CLOSED,)),
        TipFilter(created_from=_local_midnight(2025, 6), created_to=_local_midnight(2025, 6, 20)),
        TipFilter(created_from=moments[4] - timedelta(days=400), created_to=moments[4], province_code=(HA_NOI,)),
        TipFilter(urgent=False),
    ]


def _recount(tips: list[Tip]) -> tuple[Counter[tuple[Any, ...]], Counter[tuple[Any, ...]], Counter[tuple[Any, ...]]]:
    """What the three rollups must hold, recomputed in Python from the tips."""
    counts: Counter[tuple[Any, ...]] = Counter()
    communes: Counter[tuple[Any, ...]] = Counter()
    periods: Counter[tuple[Any, ...]] = Counter()
    for tip in tips:
        local = (tip.created_at + VN).date()
        for grain, start in (("year", date(local.year, 1, 1)), ("month", local.replace(day=1))):
            outcome = tip.outcome.value if tip.outcome else ""
            key = (grain, start, tip.province_code, tip.category.value, tip.category_group.value, tip.status.value)
            counts[(*key, outcome, "n")] += 1
            counts[(*key, outcome, "responded")] += tip.first_response_at is not None
            restricted = tip.category in RESTRICTED_CATEGORIES
            communes[(grain, start, tip.province_code, tip.ward_code or 0, restricted)] += 1
            periods[(grain, start, tip.province_code, tip.category.value, tip.category_group.value)] += 1
    return +counts, +communes, +periods


async def _stored(session: AsyncSession) -> tuple[Counter[tuple[Any, ...]], ...]:
    counts: Counter[tuple[Any, ...]] = Counter()
    for r in (await session.scalars(select(TipCount))).all():
        key = (r.grain, r.period_start, r.province_code, r.category, r.category_group, r.status, r.outcome)
        counts[(*key, "n")] += r.n
        counts[(*key, "responded")] += r.responded
    communes: Counter[tuple[Any, ...]] = Counter()
    for c in (await session.scalars(select(TipCommuneCount))).all():
        communes[(c.grain, c.period_start, c.province_code, c.ward_code, c.restricted)] += c.n
    periods: Counter[tuple[Any, ...]] = Counter()
    for p in (await session.scalars(select(TipPeriodCount))).all():
        periods[(p.grain, p.period_start, p.province_code, p.category, p.category_group)] += p.n
    assert all(v >= 0 for c in (counts, communes, periods) for v in c.values())
    return +counts, +communes, +periods


@pytest.mark.parametrize("seed", [1, 2])
async def test_rollups_give_the_raw_statistics_after_random_writes(
    sessions: async_sessionmaker[AsyncSession], seed: int
) -> None:
    rng = random.Random(seed)
    async with sessions() as session:
        wards = await _wards(session)
        officer = await create_officer(
            session,
            username="rollup_admin",
            password="correct-horse-battery-staple",
            role=OfficerRole.ADMIN,
            jurisdiction=Jurisdiction(nationwide=True),
            can_view_restricted=True,
        )
        await bulk_load_tips(session, _seed_rows(rng, wards, 400), batch_rows=150)
        await session.commit()
        await _random_changes(session, rng, wards, officer.id, steps=250)

    async with sessions() as session:
        tips = list((await session.scalars(select(Tip))).all())
        assert len(tips) > 350
        assert await _stored(session) == _recount(tips)

    now = datetime.now(UTC)
    compared = 0
    for scope in _scopes(wards):
        for tip_filter in _filters(rng, wards):
            period = rng.choice(list(Period))
            async with sessions() as session:
                raw = await tip_stats(
                    session, tip_filter=tip_filter, scope=scope, now=now, ack_within=timedelta(hours=2),
                    period=period, use_counts=False,
                )  # fmt: skip
                fast = await tip_stats(
                    session, tip_filter=tip_filter, scope=scope, now=now, ack_within=timedelta(hours=2), period=period
                )
            assert fast == raw, (scope, tip_filter, period)
            compared += raw.total > 0
    assert compared > 40  # most comparisons had tips in them


def test_split_range_whole_local_months_and_edges() -> None:
    assert split_range(None, None) is not None
    window = split_range(_local_midnight(2025, 1), _local_midnight(2025, 3))
    assert window is not None
    assert (window.first_month, window.end_month, window.edges) == (date(2025, 1, 1), date(2025, 3, 1), ())
    just_after = _local_midnight(2025, 1) + timedelta(microseconds=1)
    window = split_range(just_after, _local_midnight(2025, 4, 10))
    assert window is not None
    assert (window.first_month, window.end_month) == (date(2025, 2, 1), date(2025, 4, 1))
    assert window.edges == (
        (just_after, _local_midnight(2025, 2)),
        (_local_midnight(2025, 4), _local_midnight(2025, 4, 10)),
    )
    assert split_range(_local_midnight(2025, 1, 2), _local_midnight(2025, 2, 20)) is None  # no whole month
    assert split_range(None, datetime(9999, 12, 31, 20, tzinfo=UTC)) is None  # local time past the calendar's end


def test_ward_scopes_and_other_filters_use_the_raw_queries() -> None:
    assert count_clauses(TipFilter(), Scope(False, frozenset(), frozenset({70}), True)) is None
    assert count_clauses(TipFilter(priority=()), Scope(True, frozenset(), frozenset(), True)) is not None
    assert count_clauses(TipFilter(unassigned=False), Scope(True, frozenset(), frozenset(), True)) is None
    assert count_clauses(TipFilter(text="xe"), Scope(True, frozenset(), frozenset(), True)) is None


async def test_restricted_flag_follows_the_domain(sessions: async_sessionmaker[AsyncSession]) -> None:
    """The migration wrote RESTRICTED_CATEGORIES into the triggers; a change there needs a new migration."""
    async with sessions() as session:
        await bulk_load_tips(session, [{"category": c, "province_code": HA_NOI} for c in Category])
        await session.commit()
        rows = await session.execute(
            select(TipCommuneCount.restricted, TipCommuneCount.n).where(TipCommuneCount.grain == "year")
        )
        assert dict(rows.all()) == {True: len(RESTRICTED_CATEGORIES), False: len(Category) - len(RESTRICTED_CATEGORIES)}


def test_migration_backfills_existing_tips(tmp_path: Any) -> None:
    import asyncio

    url = f"sqlite+aiosqlite:///{tmp_path / 'backfill.db'}"
    upgrade(url, "0004")

    async def load_then_check() -> None:
        engine = create_engine(url)
        factory = async_sessionmaker(engine, expire_on_commit=False)
        rng = random.Random(5)
        async with factory() as session:
            wards = await _wards(session)
            await bulk_load_tips(session, _seed_rows(rng, wards, 300))
            await session.commit()
        await engine.dispose()
        await asyncio.to_thread(upgrade, url)
        engine = create_engine(url)
        factory = async_sessionmaker(engine, expire_on_commit=False)
        async with factory() as session:
            tips = list((await session.scalars(select(Tip))).all())
            assert await _stored(session) == _recount(tips)
            assert int(await session.scalar(text("SELECT count(*) FROM tip_counts")) or 0) > 0
        await engine.dispose()

    asyncio.run(load_then_check())
