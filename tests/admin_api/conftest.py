"""Officer API fixtures: the real app over httpx, officers with tokens, tips created as the bot does."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from admin_api.app import create_app
from bot.context import AppContext
from storage.domain import Anonymity, Category, OfficerRole, WhenKind
from storage.models import Tip
from storage.officers import Jurisdiction, create_officer, issue_token
from storage.privacy import new_receipt_code
from storage.tips import NewTip, create_tip

HA_NOI, HCM = 1, 79
HOAN_KIEM = 70  # a ward of Hà Nội
PASSWORD = "correct-horse-battery-staple"


@dataclass
class ApiOfficer:
    """An officer account with a live bearer token."""

    id: int
    username: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@pytest.fixture
async def api(app_context: AppContext) -> AsyncIterator[httpx.AsyncClient]:
    """httpx client on the real FastAPI app (same database and sandbox as the bot)."""
    transport = httpx.ASGITransport(app=create_app(app_context))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


async def make_officer(
    context: AppContext,
    username: str,
    *,
    role: OfficerRole = OfficerRole.OFFICER,
    nationwide: bool = False,
    provinces: tuple[int, ...] = (),
    wards: tuple[int, ...] = (),
    restricted: bool = False,
) -> ApiOfficer:
    """Create an officer directly in storage and give them a token."""
    from datetime import timedelta

    async with context.sessions() as session:
        officer = await create_officer(
            session,
            username=username,
            password=PASSWORD,
            role=role,
            jurisdiction=Jurisdiction(nationwide=nationwide, province_codes=provinces, ward_codes=wards),
            can_view_restricted=restricted,
        )
        token, _ = await issue_token(session, officer_id=officer.id, lifetime=timedelta(minutes=30))
        await session.commit()
        return ApiOfficer(officer.id, officer.username, token)


async def make_tip(
    context: AppContext,
    *,
    province: int = HA_NOI,
    ward: int | None = HOAN_KIEM,
    category: Category = Category.DRUGS,
    anonymity: Anonymity = Anonymity.ANONYMOUS,
    urgent: bool = False,
    description: str = "Có người bán ma túy sau chợ.",
    **extra: Any,
) -> tuple[Tip, str]:
    """A tip as the bot would store it; returns it with its receipt code."""
    code = new_receipt_code()
    async with context.sessions() as session:
        tip = await create_tip(
            session,
            tip=NewTip(
                category=category,
                urgent=urgent,
                province_code=province,
                ward_code=ward,
                when_kind=WhenKind.TODAY,
                description=description,
                anonymity=anonymity,
                **extra,
            ),
            reporter_id=None,
            receipt_hash=context.keys.receipt_hash(code),
            keys=context.keys,
        )
        await session.commit()
        return tip, code
