"""GET /api/v1/subscribers: counts inside the jurisdiction only, never a chat id or a person."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select

from bot.context import AppContext
from storage.domain import SubscriberState, Topic
from storage.models import AuditEvent
from tests.admin_api.conftest import HA_NOI, HCM, HOAN_KIEM, ApiOfficer
from tests.admin_api.test_campaigns import HCM_WARD, make_staff, make_subscriber, other_hanoi_ward

URL = "/api/v1/subscribers"


@pytest.fixture
async def staff(app_context: AppContext) -> dict[str, ApiOfficer]:
    """Officers of every role and reach."""
    return await make_staff(app_context)


async def test_counts_by_state_topic_and_area_inside_the_scope(
    api: httpx.AsyncClient, app_context: AppContext, staff: dict[str, ApiOfficer]
) -> None:
    """Each officer counts only subscribers of their areas; whole-country ones only count nationwide."""
    other = await other_hanoi_ward(app_context)
    chat = 424_242_4242
    await make_subscriber(app_context, province=None, chat_id=chat)
    await make_subscriber(app_context, province=HA_NOI, topics=(Topic.DRUGS, Topic.FIRE))
    await make_subscriber(app_context, province=HA_NOI, ward=HOAN_KIEM, topics=(Topic.DRUGS,))
    await make_subscriber(app_context, province=HA_NOI, ward=HOAN_KIEM, state=SubscriberState.UNSUBSCRIBED)
    await make_subscriber(app_context, province=HA_NOI, ward=other, state=SubscriberState.GONE)
    await make_subscriber(app_context, province=HCM, ward=HCM_WARD, topics=(Topic.SCAMS,))
    nation = await api.get(URL, headers=staff["nation"].headers)
    assert nation.status_code == 200
    body = nation.json()
    assert body["total"] == 6 and body["active"] == 4 and body["whole_country"] == 1
    assert body["by_state"] == {"active": 4, "unsubscribed": 1, "gone": 1}
    assert body["by_topic"]["drugs"] == 3 and body["by_topic"]["scams"] == 2 and body["by_topic"]["traffic"] == 1
    assert {p["code"]: p["count"] for p in body["by_province"]} == {HA_NOI: 2, HCM: 1}
    assert str(chat) not in nation.text and "chat" not in nation.text
    hanoi = (await api.get(URL, headers=staff["hn.officer"].headers)).json()
    assert hanoi["total"] == 4 and hanoi["active"] == 2 and hanoi["whole_country"] == 0
    assert hanoi["whole_province"] == 1
    assert {c["code"]: c["count"] for c in hanoi["by_commune"]} == {HOAN_KIEM: 1}
    assert hanoi["by_state"] == {"active": 2, "unsubscribed": 1, "gone": 1}
    ward = (await api.get(URL, headers=staff["ward.officer"].headers)).json()
    assert ward["total"] == 2 and ward["active"] == 1 and ward["by_topic"]["drugs"] == 1
    hcm = (await api.get(URL, params={"province_code": HA_NOI}, headers=staff["hcm.sup"].headers)).json()
    assert hcm["total"] == 0
    async with app_context.sessions() as session:
        audits = (await session.scalars(select(AuditEvent).where(AuditEvent.action == "subscribers_counted"))).all()
    assert len(audits) == 4


async def test_subscribers_need_a_token(api: httpx.AsyncClient) -> None:
    """No token → 401."""
    assert (await api.get(URL)).status_code == 401
