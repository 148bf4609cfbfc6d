"""GET /api/v1/tips/{id}: content, thread, files, related tips, audit trail, identity by role."""

from __future__ import annotations

from datetime import date

import httpx
from sqlalchemy import select, update

from bot.context import AppContext
from storage.domain import Anonymity, AttachmentKind, Category, MessageAuthor, MessageKind, OfficerRole, WhenKind
from storage.models import AuditEvent, Tip, TipMessage
from storage.tips import NewAttachment, add_tipster_message
from tests.admin_api.conftest import HA_NOI, HCM, make_officer, make_tip
from tests.admin_api.test_tips_support import dated_tip, days_ago, follow_up_tip, get_json

URL = "/api/v1/tips"
PHOTO = NewAttachment(kind=AttachmentKind.PHOTO, file_id="f1", file_unique_id="u1", size=1234, mime_type="image/jpeg")
VOICE = NewAttachment(kind=AttachmentKind.VOICE, file_id="f2", file_unique_id="u2", size=99, mime_type="audio/ogg")


async def audit_actions(context: AppContext, tip_id: int) -> list[tuple[str, int | None]]:
    """(action, officer) of a tip's audit events, oldest first."""
    async with context.sessions() as session:
        stmt = select(AuditEvent).where(AuditEvent.tip_id == tip_id).order_by(AuditEvent.id)
        return [(e.action, e.officer_id) for e in (await session.scalars(stmt)).all()]


async def test_detail_content_thread_and_files(api: httpx.AsyncClient, app_context: AppContext) -> None:
    officer = await make_officer(app_context, "hn_officer", provinces=(HA_NOI,))
    colleague = await make_officer(app_context, "hn_colleague", provinces=(HA_NOI,))
    tip, _ = await make_tip(
        app_context,
        place_detail="Ngõ 5, cạnh quán nước",
        latitude=21.03,
        longitude=105.85,
        attachments=(PHOTO,),
    )
    async with app_context.sessions() as session:
        await session.execute(
            update(Tip).where(Tip.id == tip.id).values(when_kind=WhenKind.DATE, occurred_on=date(2026, 1, 5))
        )
        await add_tipster_message(session, tip_id=tip.id, body="Thêm: xe máy đỏ", attachments=(VOICE,))
        await session.commit()
    note = await api.post(f"{URL}/{tip.id}/notes", headers=colleague.headers, json={"body": "Kiểm tra camera"})
    assert note.status_code == 201 and note.json()["kind"] == "note"
    body = await get_json(api, f"{URL}/{tip.id}", officer.headers)
    assert body["description"] == tip.description and body["place_detail"] == "Ngõ 5, cạnh quán nước"
    assert body["when"] == {"kind": "date", "date": "2026-01-05"}
    assert body["pin"] == {"latitude": 21.03, "longitude": 105.85}
    assert body["identified"] is False and body["identity"] is None
    assert body["unread_messages"] == 1  # as found; reading marks it
    assert [(a["index"], a["type"], a["size"]) for a in body["attachments"]] == [(1, "photo", 1234), (2, "voice", 99)]
    tipster, note_entry = body["messages"]
    assert tipster["author"] == "tipster" and tipster["attachments"] == [2] and tipster["officer_username"] is None
    assert note_entry["author"] == "officer" and note_entry["kind"] == "note"
    assert note_entry["officer_username"] == "hn_colleague" and note_entry["delivery_state"] is None
    assert [e["action"] for e in body["audit"]] == ["note_added"]
    async with app_context.sessions() as session:
        rows = (await session.scalars(select(TipMessage).where(TipMessage.author == MessageAuthor.TIPSTER))).all()
        assert all(r.read_by_officer for r in rows)
    assert (await audit_actions(app_context, tip.id))[-1] == ("tip_viewed", officer.id)


async def test_out_of_scope_is_404(api: httpx.AsyncClient, app_context: AppContext) -> None:
    officer = await make_officer(app_context, "hn_officer", provinces=(HA_NOI,))
    foreign, _ = await make_tip(app_context, province=HCM, ward=None)
    restricted, _ = await make_tip(app_context, category=Category.POLITICAL_SECURITY)
    for tip_id in (foreign.id, restricted.id, 999999):
        assert (await api.get(f"{URL}/{tip_id}", headers=officer.headers)).status_code == 404
        patch = await api.patch(f"{URL}/{tip_id}", headers=officer.headers, json={"priority": "high"})
        assert patch.status_code == 404
        for kind in ("notes", "replies"):
            posted = await api.post(f"{URL}/{tip_id}/{kind}", headers=officer.headers, json={"body": "x"})
            assert posted.status_code == 404
    assert await audit_actions(app_context, foreign.id) == []


async def test_identity_visible_to_supervisor_only_and_audited(api: httpx.AsyncClient, app_context: AppContext) -> None:
    officer = await make_officer(app_context, "officer", provinces=(HA_NOI,))
    supervisor = await make_officer(app_context, "chief", role=OfficerRole.SUPERVISOR, provinces=(HA_NOI,))
    tip, _ = await follow_up_tip(
        app_context,
        555002,
        anonymity=Anonymity.IDENTIFIED,
        identity_name="Nguyễn Thị Hoa",
        identity_phone="+84901112233",
    )
    seen = await get_json(api, f"{URL}/{tip.id}", officer.headers)
    assert seen["identified"] is True and seen["identity"] is None
    assert "Hoa" not in str(seen) and "84901112233" not in str(seen)
    shown = await get_json(api, f"{URL}/{tip.id}", supervisor.headers)
    assert shown["identity"] == {"name": "Nguyễn Thị Hoa", "phone": "+84901112233"}
    assert shown["reporter_alias"].startswith("NG-") and "555002" not in str(shown)
    actions = await audit_actions(app_context, tip.id)
    assert actions == [("tip_viewed", officer.id), ("tip_viewed", supervisor.id), ("identity_viewed", supervisor.id)]


async def test_related_tips(api: httpx.AsyncClient, app_context: AppContext) -> None:
    officer = await make_officer(app_context, "hn_officer", provinces=(HA_NOI,))
    tip, _ = await follow_up_tip(app_context, 555003)
    same_reporter = await dated_tip(app_context, days_ago(200), category=Category.FRAUD, ward=None)
    async with app_context.sessions() as session:
        await session.execute(update(Tip).where(Tip.id == same_reporter.id).values(reporter_id=tip.reporter_id))
        await session.commit()
    same_place = await dated_tip(app_context, days_ago(20))
    await dated_tip(app_context, days_ago(40))  # too old
    await make_tip(app_context, category=Category.FRAUD)  # another category
    await make_tip(app_context, province=HCM, ward=None)  # out of scope
    body = await get_json(api, f"{URL}/{tip.id}", officer.headers)
    related = {r["id"]: r["reason"] for r in body["related"]}
    assert related == {same_reporter.id: "same_reporter", same_place.id: "same_place"}


async def test_notes_never_reach_the_tipster(api: httpx.AsyncClient, app_context: AppContext) -> None:
    from tests.admin_api.test_tips_support import deliver, thread

    officer = await make_officer(app_context, "hn_officer", provinces=(HA_NOI,))
    tip, _ = await follow_up_tip(app_context, 555004)
    posted = await api.post(f"{URL}/{tip.id}/notes", headers=officer.headers, json={"body": "Nghi phạm quen biết"})
    assert posted.status_code == 201
    assert await deliver(app_context) == 0
    [row] = await thread(app_context, tip.id)
    assert row.kind is MessageKind.NOTE and row.delivery_state is None and row.officer_id == officer.id
    too_long = await api.post(f"{URL}/{tip.id}/notes", headers=officer.headers, json={"body": "x" * 4001})
    assert too_long.status_code == 422
    empty = await api.post(f"{URL}/{tip.id}/notes", headers=officer.headers, json={"body": "   "})
    assert empty.status_code == 422
    extra = await api.post(f"{URL}/{tip.id}/notes", headers=officer.headers, json={"body": "x", "officer_id": 1})
    assert extra.status_code == 422
