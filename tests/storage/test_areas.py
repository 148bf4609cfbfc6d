"""The 2025 map: 34 provinces, 3,321 communes, accent-insensitive commune search."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.areas import fold, fold_place_query, get_province, get_ward, list_provinces, search_wards
from storage.db import create_engine, create_session_factory
from storage.models import Province, Ward

HA_NOI = 1


@pytest.fixture
async def session(database_url: str) -> AsyncIterator[AsyncSession]:
    engine = create_engine(database_url)
    async with create_session_factory(engine)() as s:
        yield s
    await engine.dispose()


async def test_counts_after_the_reform(session: AsyncSession) -> None:
    assert await session.scalar(select(func.count()).select_from(Province)) == 34
    assert await session.scalar(select(func.count()).select_from(Ward)) == 3321
    provinces = await list_provinces(session)
    assert len(provinces) == 34
    assert any(p.name == "Thành phố Hà Nội" for p in provinces)


@pytest.mark.parametrize("query", ["hoan kiem", "Hoàn Kiếm", "HOAN KIEM", "phuong hoan kiem", "hoàn kiem", "kiem"])
async def test_commune_search_with_or_without_diacritics(session: AsyncSession, query: str) -> None:
    found = await search_wards(session, province_code=HA_NOI, query=query)
    assert "Phường Hoàn Kiếm" in [w.name for w in found]


async def test_search_ranks_prefix_matches_first_and_stays_in_province(session: AsyncSession) -> None:
    found = await search_wards(session, province_code=HA_NOI, query="ba dinh")
    assert found[0].name == "Phường Ba Đình"
    for ward in found:
        located = await get_ward(session, code=ward.code)
        assert located is not None and located[1] == HA_NOI


async def test_search_handles_d_stroke_and_nonsense(session: AsyncSession) -> None:
    assert [w.name for w in await search_wards(session, province_code=HA_NOI, query="dinh")]
    assert await search_wards(session, province_code=HA_NOI, query="zzzzqqq") == []
    assert await search_wards(session, province_code=HA_NOI, query="   ") == []
    assert await search_wards(session, province_code=HA_NOI, query="%_") == []


async def test_lookup_by_code(session: AsyncSession) -> None:
    province = await get_province(session, code=HA_NOI)
    assert province is not None and province.name == "Thành phố Hà Nội"
    assert await get_province(session, code=9999) is None
    assert await get_ward(session, code=-1) is None


def test_fold_examples() -> None:
    assert fold("Phường Hoàn Kiếm") == "phuong hoan kiem"
    assert fold("Đặc khu Phú Quốc") == "dac khu phu quoc"
    assert fold_place_query("Xã Đông Anh") == "dong anh"


@given(st.text(max_size=60))
def test_fold_output_is_plain_ascii(text: str) -> None:
    folded = fold(text)
    assert folded == folded.strip()
    assert all(c.isascii() and (c.isalnum() or c == " ") for c in folded)
