"""PATCH /api/v1/tips/{id}: transitions, outcome rules, assignee scope, duplicates, field rules, audit."""

from __future__ import annotations

import httpx
from sqlalchemy import select

from bot.context import AppContext
from storage.domain import MessageAuthor
from storage.models import AuditEvent, Tip
from tests.admin_api.conftest import HA_NOI, HCM, HOAN_KIEM, make_officer, make_tip
from tests.admin_api.test_tips_support import follow_up_tip, thread

URL = "/api/v1/tips"


async def load(context: AppContext, tip_id: int) -> Tip:
    """The tip as stored now."""
    async with context.sessions() as session:
        tip = await session.get(Tip, tip_id)
        assert tip is not None
        return tip


async def test_valid_and_invalid_transitions(api: httpx.AsyncClient, app_context: AppContext) -> None:
    officer = await make_officer(app_context, "hn_officer", provinces=(HA_NOI,))
    tip, _ = await make_tip(app_context)

    async def patch(body: dict[str, object]) -> httpx.Response:
        return await api.patch(f"{URL}/{tip.id}", headers=officer.headers, json=body)

    moved = await patch({"status": "in_review", "priority": "high"})
    assert moved.status_code == 200, moved.text
    assert moved.json()["status"] == "in_review" and moved.json()["priority"] == "high"
    assert moved.json()["first_response_seconds"] is not None
    assert (await patch({"status": "new"})).status_code == 409
    assert (await patch({"status": "needs_info"})).status_code == 200
    assert (await patch({"status": "forwarded"})).status_code == 409  # needs_info → in_review or closed only
    assert (await patch({"status": "in_review"})).status_code == 200
    assert (await patch({"status": "forwarded"})).status_code == 200
    assert (await patch({"status": "closed"})).status_code == 422  # outcome required
    closed = await patch({"status": "closed", "outcome": "not_actionable"})
    assert closed.status_code == 200 and closed.json()["outcome"] == "not_actionable"
    assert closed.json()["closed_at"] is not None
    assert (await patch({"status": "in_review"})).status_code == 409
    assert (await patch({"status": "closed", "outcome": "valuable"})).status_code == 422  # already closed
    async with app_context.sessions() as session:
        stmt = select(AuditEvent).where(AuditEvent.tip_id == tip.id, AuditEvent.action == "tip_updated")
        events = [(e.detail["field"], e.detail["before"], e.detail["after"]) for e in await session.scalars(stmt)]
    assert events == [
        ("status", "new", "in_review"),
        ("priority", "normal", "high"),
        ("status", "in_review", "needs_info"),
        ("status", "needs_info", "in_review"),
        ("status", "in_review", "forwarded"),
        ("status", "forwarded", "closed"),
        ("outcome", None, "not_actionable"),
    ]


async def test_field_rules(api: httpx.AsyncClient, app_context: AppContext) -> None:
    officer = await make_officer(app_context, "hn_officer", provinces=(HA_NOI,))
    tip, _ = await make_tip(app_context)
    url = f"{URL}/{tip.id}"
    for body in (
        {"colour": "red"},
        {"id": 5},
        {"ref": "TB-XXXX"},
        {"created_at": "2026-01-01T00:00:00Z"},
        {"description": "sửa"},
        {"status": None},
        {"priority": "whenever"},
        {"outcome": "valuable"},  # only when closing
        {"status": "in_review", "outcome": "valuable"},
        {"assignee_id": 0},
    ):
        response = await api.patch(url, headers=officer.headers, json=body)
        assert response.status_code == 422, body
    assert (await api.patch(url, headers=officer.headers, json={})).status_code == 200
    stored = await load(app_context, tip.id)
    assert stored.status.value == "new" and stored.first_response_at is None and stored.description == tip.description


async def test_assignee_must_cover_the_tip(api: httpx.AsyncClient, app_context: AppContext) -> None:
    officer = await make_officer(app_context, "hn_officer", provinces=(HA_NOI,))
    ward_officer = await make_officer(app_context, "hk_officer", wards=(HOAN_KIEM,))
    saigon = await make_officer(app_context, "hcm_officer", provinces=(HCM,))
    tip, _ = await make_tip(app_context)
    url = f"{URL}/{tip.id}"
    assert (await api.patch(url, headers=officer.headers, json={"assignee_id": saigon.id})).status_code == 422
    assert (await api.patch(url, headers=officer.headers, json={"assignee_id": 999999})).status_code == 422
    assigned = await api.patch(url, headers=officer.headers, json={"assignee_id": ward_officer.id})
    assert assigned.status_code == 200
    assert assigned.json()["assignee"] == {"id": ward_officer.id, "username": "hk_officer"}
    listed = await api.get(URL, headers=officer.headers, params={"assignee_id": ward_officer.id})
    assert [i["id"] for i in listed.json()["items"]] == [tip.id]
    cleared = await api.patch(url, headers=officer.headers, json={"assignee_id": None})
    assert cleared.status_code == 200 and cleared.json()["assignee"] is None


async def test_duplicates(api: httpx.AsyncClient, app_context: AppContext) -> None:
    officer = await make_officer(app_context, "hn_officer", provinces=(HA_NOI,))
    original, _ = await make_tip(app_context)
    foreign, _ = await make_tip(app_context, province=HCM, ward=None)
    tip, _ = await make_tip(app_context)
    url = f"{URL}/{tip.id}"
    for bad in (tip.id, foreign.id, 999999):
        assert (await api.patch(url, headers=officer.headers, json={"duplicate_of_id": bad})).status_code == 422
    mixed = {"status": "closed", "outcome": "valuable", "duplicate_of_id": original.id}
    assert (await api.patch(url, headers=officer.headers, json=mixed)).status_code == 422
    no_original = {"status": "closed", "outcome": "duplicate"}
    assert (await api.patch(url, headers=officer.headers, json=no_original)).status_code == 422
    closed = await api.patch(url, headers=officer.headers, json={"status": "closed", "duplicate_of_id": original.id})
    assert closed.status_code == 200 and closed.json()["outcome"] == "duplicate"
    assert (await load(app_context, tip.id)).duplicate_of_id == original.id


async def test_status_notices_follow_the_anonymity_level(api: httpx.AsyncClient, app_context: AppContext) -> None:
    officer = await make_officer(app_context, "hn_officer", provinces=(HA_NOI,))
    anonymous, _ = await make_tip(app_context)
    followed, _ = await follow_up_tip(app_context, 555010, locale="en")
    for tip in (anonymous, followed):
        url = f"{URL}/{tip.id}"
        assert (await api.patch(url, headers=officer.headers, json={"status": "needs_info"})).status_code == 200
        assert (await api.patch(url, headers=officer.headers, json={"priority": "low"})).status_code == 200
        closing = {"status": "closed", "outcome": "valuable"}
        assert (await api.patch(url, headers=officer.headers, json=closing)).status_code == 200
    assert await thread(app_context, anonymous.id) == []  # /status shows the status; nothing is pushed
    notices = await thread(app_context, followed.id)
    assert [(n.author, n.delivery_state.value if n.delivery_state else None) for n in notices] == [
        (MessageAuthor.SYSTEM, "queued"),
        (MessageAuthor.SYSTEM, "queued"),
    ]
    assert "question" in notices[0].body and "hn_officer" not in notices[0].body
    assert "valuable" in notices[1].body and "/status" in notices[1].body


async def test_tipster_answer_moves_needs_info_back_once(api: httpx.AsyncClient, app_context: AppContext) -> None:
    from storage.followup import add_followup

    officer = await make_officer(app_context, "hn_officer", provinces=(HA_NOI,))
    tip, _ = await make_tip(app_context)
    assert (
        await api.patch(f"{URL}/{tip.id}", headers=officer.headers, json={"status": "needs_info"})
    ).status_code == 200
    for body in ("Áo xanh", "Xe máy đỏ"):
        async with app_context.sessions() as session:
            await add_followup(session, tip_id=tip.id, body=body)
            await session.commit()
    assert (await load(app_context, tip.id)).status.value == "in_review"
    async with app_context.sessions() as session:
        stmt = select(AuditEvent).where(AuditEvent.tip_id == tip.id, AuditEvent.action == "tipster_replied")
        [event] = (await session.scalars(stmt)).all()
    assert event.officer_id is None and event.detail["after"] == "in_review"
