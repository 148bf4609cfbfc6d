"""GET /api/v1/tips: scope, filters, sorts, keyset pages without gaps or duplicates, totals, audit."""

from __future__ import annotations

import base64
import json

import httpx
import pytest
from sqlalchemy import select, update

from bot.context import AppContext
from storage import tip_queries
from storage.domain import Anonymity, Category, MessageAuthor, Priority, TipStatus
from storage.models import AuditEvent, Tip, TipMessage
from tests.admin_api.conftest import HA_NOI, HCM, HOAN_KIEM, make_officer, make_tip
from tests.admin_api.test_tips_support import dated_tip, days_ago, follow_up_tip, get_json

CUA_NAM = 73  # another ward of Hà Nội
URL = "/api/v1/tips"


async def test_list_is_scoped_and_shaped(api: httpx.AsyncClient, app_context: AppContext) -> None:
    hanoi = await make_officer(app_context, "hn_officer", provinces=(HA_NOI,))
    mine, _ = await make_tip(app_context)
    await make_tip(app_context, province=HCM, ward=None)
    await make_tip(app_context, category=Category.POLITICAL_SECURITY)  # restricted: needs the permission
    followed, _ = await follow_up_tip(app_context, 555001, ward=CUA_NAM)
    body = await get_json(api, URL, hanoi.headers)
    assert body["total"] == 2 and body["next_cursor"] is None
    assert [i["id"] for i in body["items"]] == [followed.id, mine.id]
    item = body["items"][1]
    assert item["ref"] == mine.ref and item["category"] == "drugs" and item["group"] == "social_evils"
    assert item["province_name"] == "Thành phố Hà Nội" and item["ward_code"] == HOAN_KIEM
    assert item["ward_name"] == "Phường Hoàn Kiếm"
    assert item["status"] == "new" and item["priority"] == "normal" and item["urgent"] is False
    assert item["assignee"] is None and item["first_response_seconds"] is None
    assert item["unread_messages"] == 0 and item["overdue"] is False
    assert item["anonymity"] == "anonymous" and item["reporter_alias"] is None
    assert body["items"][0]["reporter_alias"].startswith("NG-")
    # Nothing that could identify a Telegram account: no ids, chats, names or phones.
    assert "555001" not in str(body) and "chat" not in str(body)


async def test_filters(api: httpx.AsyncClient, app_context: AppContext) -> None:
    boss = await make_officer(app_context, "boss", nationwide=True, restricted=True)
    urgent = await dated_tip(app_context, days_ago(1), urgent=True, description="Cháy kho hàng lớn")
    old = await dated_tip(app_context, days_ago(10), category=Category.FRAUD, description="Lừa đảo 50% lãi")
    hcm = await dated_tip(app_context, days_ago(2), province=HCM, ward=None, category=Category.GAMBLING)
    ward = await dated_tip(app_context, days_ago(3), ward=CUA_NAM)
    async with app_context.sessions() as session:
        await session.execute(
            update(Tip).where(Tip.id == ward.id).values(status=TipStatus.IN_REVIEW, assignee_id=boss.id)
        )
        await session.execute(update(Tip).where(Tip.id == hcm.id).values(priority=Priority.LOW))
        await session.commit()

    async def ids(**params: object) -> list[int]:
        body = await get_json(api, URL, boss.headers, **params)
        assert body["total"] == len(body["items"])
        return [i["id"] for i in body["items"]]

    assert await ids() == [urgent.id, hcm.id, ward.id, old.id]
    assert await ids(status="in_review") == [ward.id]
    assert await ids(status=["new", "in_review"]) == [urgent.id, hcm.id, ward.id, old.id]
    assert await ids(category="fraud") == [old.id]
    assert await ids(group="social_evils") == [urgent.id, hcm.id, ward.id]
    assert await ids(province_code=HCM) == [hcm.id]
    assert await ids(ward_code=CUA_NAM) == [ward.id]
    assert await ids(priority="urgent") == [urgent.id]
    assert await ids(assignee_id=boss.id) == [ward.id]
    assert await ids(unassigned="true") == [urgent.id, hcm.id, old.id]
    assert await ids(urgent="true") == [urgent.id]
    assert await ids(overdue="true") == [urgent.id, hcm.id, old.id]  # new, never answered, older than 2 h
    assert await ids(created_from=days_ago(5).isoformat(), created_to=days_ago(1.5).isoformat()) == [hcm.id, ward.id]
    assert await ids(q="50%") == [old.id]
    assert await ids(q="KHO HÀNG") == [urgent.id]
    assert await ids(q=old.ref) == [old.id]
    assert await ids(outcome="valuable") == []


async def test_sorts_and_keyset_pages(api: httpx.AsyncClient, app_context: AppContext) -> None:
    officer = await make_officer(app_context, "pager", provinces=(HA_NOI,))
    same_moment = days_ago(1)
    tips = [await dated_tip(app_context, days_ago(2 + i)) for i in range(5)]
    tips += [await dated_tip(app_context, same_moment) for _ in range(4)]  # ties broken by id
    async with app_context.sessions() as session:
        for tip, priority in zip(tips, [Priority.LOW, Priority.HIGH, Priority.URGENT, Priority.HIGH], strict=False):
            await session.execute(update(Tip).where(Tip.id == tip.id).values(priority=priority))
        await session.commit()
        rows = (await session.execute(select(Tip.id, Tip.created_at, Tip.priority))).all()
    rank = {p: i for i, p in enumerate(Priority)}
    expected = {
        "-created_at": [r.id for r in sorted(rows, key=lambda r: (r.created_at, r.id), reverse=True)],
        "created_at": [r.id for r in sorted(rows, key=lambda r: (r.created_at, r.id))],
        "priority": [r.id for r in sorted(rows, key=lambda r: (rank[r.priority], -r.created_at.timestamp(), -r.id))],
        "-priority": [r.id for r in sorted(rows, key=lambda r: (-rank[r.priority], -r.created_at.timestamp(), -r.id))],
    }
    for sort, want in expected.items():
        seen: list[int] = []
        cursor = None
        for _ in range(10):
            params: dict[str, object] = {"sort": sort, "limit": 2}
            if cursor:
                params["cursor"] = cursor
            body = await get_json(api, URL, officer.headers, **params)
            assert body["total"] == 9
            seen += [i["id"] for i in body["items"]]
            cursor = body["next_cursor"]
            if cursor is None:
                break
        assert seen == want, sort
    default = await get_json(api, URL, officer.headers, limit=200)
    assert [i["id"] for i in default["items"]] == expected["-created_at"]
    updated = await get_json(api, URL, officer.headers, sort="-updated_at", limit=3)
    assert len(updated["items"]) == 3 and updated["next_cursor"]


async def test_bad_paging_input(api: httpx.AsyncClient, app_context: AppContext) -> None:
    officer = await make_officer(app_context, "pager", provinces=(HA_NOI,))
    for _ in range(3):
        await make_tip(app_context)
    first = await get_json(api, URL, officer.headers, limit=1)
    assert (await api.get(URL, headers=officer.headers, params={"limit": 0})).status_code == 422
    assert (await api.get(URL, headers=officer.headers, params={"limit": 201})).status_code == 422
    assert (await api.get(URL, headers=officer.headers, params={"sort": "description"})).status_code == 422
    foreign_sort = {"cursor": first["next_cursor"], "sort": "priority"}
    assert (await api.get(URL, headers=officer.headers, params=foreign_sort)).status_code == 422
    assert (await api.get(URL, headers=officer.headers, params={"cursor": "garbage!"})).status_code == 422
    assert (await api.get(URL)).status_code == 401


async def test_unread_first_response_and_audit(api: httpx.AsyncClient, app_context: AppContext) -> None:
    officer = await make_officer(app_context, "reader", provinces=(HA_NOI,))
    tip, _ = await make_tip(app_context, anonymity=Anonymity.ANONYMOUS)
    async with app_context.sessions() as session:
        for body in ("một", "hai"):
            session.add(TipMessage(tip_id=tip.id, author=MessageAuthor.TIPSTER, body=body))
        await session.commit()
    [item] = (await get_json(api, URL, officer.headers))["items"]
    assert item["unread_messages"] == 2
    await get_json(api, f"{URL}/{tip.id}", officer.headers)  # reading the tip marks them read
    response = await api.patch(f"{URL}/{tip.id}", headers=officer.headers, json={"status": "in_review"})
    assert response.status_code == 200
    [item] = (await get_json(api, URL, officer.headers, status="in_review"))["items"]
    assert item["unread_messages"] == 0 and item["first_response_seconds"] is not None
    async with app_context.sessions() as session:
        listed = (await session.scalars(select(AuditEvent).where(AuditEvent.action == "tips_listed"))).all()
    assert len(listed) == 2 and all(e.officer_id == officer.id for e in listed)
    assert listed[-1].detail["status"] == ["in_review"] and listed[-1].detail["total"] == 1


async def test_total_is_capped(
    api: httpx.AsyncClient, app_context: AppContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    officer = await make_officer(app_context, "counter", provinces=(HA_NOI,))
    for _ in range(3):
        await make_tip(app_context)
    exact = await get_json(api, URL, officer.headers)
    assert exact["total"] == 3 and exact["total_capped"] is False
    monkeypatch.setattr(tip_queries, "TOTAL_CAP", 2)
    capped = await get_json(api, URL, officer.headers)
    assert capped["total"] == 2 and capped["total_capped"] is True and len(capped["items"]) == 3
    # A text search counts to its own, lower cap.
    monkeypatch.setattr(tip_queries, "TEXT_TOTAL_CAP", 1)
    searched = await get_json(api, URL, officer.headers, q="ma túy")
    assert searched["total"] == 1 and searched["total_capped"] is True and len(searched["items"]) == 3


async def test_altered_cursor_is_422_not_500(api: httpx.AsyncClient, app_context: AppContext) -> None:
    officer = await make_officer(app_context, "pager", provinces=(HA_NOI,))
    for values in (["-created_at", "0001-01-01T00:30:00+09:00", 1], ["-created_at", "2026-01-01T00:00:00", 1]):
        cursor = base64.urlsafe_b64encode(json.dumps(values).encode()).decode()
        response = await api.get(URL, headers=officer.headers, params={"cursor": cursor})
        assert response.status_code == 422, values
