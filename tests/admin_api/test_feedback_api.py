"""Citizens' feedback through the officer API: scoped list with filters and paging, handled flow, audit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import select

from bot.context import AppContext
from storage.models import AuditEvent, Feedback
from tests.admin_api.conftest import HA_NOI, HCM, HOAN_KIEM, ApiOfficer
from tests.admin_api.test_campaigns import HCM_WARD, make_staff

URL = "/api/v1/feedback"


@pytest.fixture
async def staff(app_context: AppContext) -> dict[str, ApiOfficer]:
    """Officers of every role and reach."""
    return await make_staff(app_context)


async def make_feedback(
    context: AppContext, body: str, *, province: int = HA_NOI, ward: int | None = HOAN_KIEM, days_ago: int = 0
) -> int:
    """An opinion as the bot stores it (anonymous); returns its id."""
    async with context.sessions() as session:
        row = Feedback(
            province_code=province,
            ward_code=ward,
            body=body,
            created_at=datetime.now(UTC) - timedelta(days=days_ago),
        )
        session.add(row)
        await session.commit()
        return row.id


async def test_list_filters_pages_and_hides_other_areas(
    api: httpx.AsyncClient, app_context: AppContext, staff: dict[str, ApiOfficer]
) -> None:
    """Newest first, scoped, filtered by area and date, paged; another province's feedback is a 404."""
    old = await make_feedback(app_context, "Đèn đường hỏng.", days_ago=10)
    province_wide = await make_feedback(app_context, "Cần thêm tuần tra.", ward=None)
    newest = await make_feedback(app_context, "Cảm ơn công an phường.")
    foreign = await make_feedback(app_context, "Ý kiến ở TP.HCM.", province=HCM, ward=HCM_WARD)
    officer = staff["hn.officer"].headers
    listed = await api.get(URL, headers=officer)
    assert listed.status_code == 200
    assert [f["id"] for f in listed.json()["items"]] == [newest, province_wide, old]
    first = listed.json()["items"][0]
    assert first["province_name"] and first["ward_code"] == HOAN_KIEM and first["handled"] is False
    page = await api.get(URL, params={"limit": 1, "offset": 1}, headers=officer)
    assert [f["id"] for f in page.json()["items"]] == [province_wide] and page.json()["total"] == 3
    since = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    recent = await api.get(URL, params={"since": since}, headers=officer)
    assert {f["id"] for f in recent.json()["items"]} == {newest, province_wide}
    assert (await api.get(URL, params={"since": "2026-01-01T00:00:00"}, headers=officer)).status_code == 422
    ward = await api.get(URL, headers=staff["ward.officer"].headers)
    assert {f["id"] for f in ward.json()["items"]} == {newest, old}
    assert (await api.get(f"{URL}/{foreign}", headers=officer)).status_code == 404
    assert (await api.get(f"{URL}/987654", headers=officer)).json() == (
        await api.get(f"{URL}/{foreign}", headers=officer)
    ).json()
    patch = await api.patch(f"{URL}/{foreign}", json={"handled": True}, headers=officer)
    assert patch.status_code == 404
    assert (await api.get(URL, headers=staff["hcm.sup"].headers)).json()["total"] == 1


async def test_mark_handled_and_reopen_is_audited(
    api: httpx.AsyncClient, app_context: AppContext, staff: dict[str, ApiOfficer]
) -> None:
    """PATCH handled=true records who and when; false opens it again; each change and read is audited."""
    fid = await make_feedback(app_context, "Khu chợ hay mất trộm xe.")
    officer = staff["hn.officer"]
    handled = await api.patch(f"{URL}/{fid}", json={"handled": True}, headers=officer.headers)
    assert handled.status_code == 200
    assert handled.json()["handled"] is True and handled.json()["handled_by"] == officer.username
    assert handled.json()["handled_at"] is not None
    same = await api.patch(f"{URL}/{fid}", json={"handled": True}, headers=officer.headers)
    assert same.status_code == 200
    open_list = await api.get(URL, params={"handled": False}, headers=officer.headers)
    assert open_list.json()["total"] == 0
    stats = (await api.get(f"{URL}/stats", headers=officer.headers)).json()
    assert (stats["total"], stats["handled"], stats["open"]) == (1, 1, 0)
    assert stats["by_commune"][0]["code"] == HOAN_KIEM
    reopened = await api.patch(f"{URL}/{fid}", json={"handled": False}, headers=officer.headers)
    assert reopened.json()["handled"] is False and reopened.json()["handled_by"] is None
    assert (await api.patch(f"{URL}/{fid}", json={"handled": "maybe"}, headers=officer.headers)).status_code == 422
    assert (
        await api.patch(f"{URL}/{fid}", json={"handled": True, "body": "x"}, headers=officer.headers)
    ).status_code == 422
    await api.get(f"{URL}/{fid}", headers=officer.headers)
    async with app_context.sessions() as session:
        rows = (await session.scalars(select(AuditEvent).where(AuditEvent.officer_id == officer.id))).all()
    assert [r.action for r in rows] == ["feedback_handled", "feedback_listed", "feedback_reopened", "feedback_viewed"]
    assert all(r.detail.get("feedback_id", fid) == fid for r in rows)
    assert (await api.get(f"{URL}/stats", headers=staff["hcm.sup"].headers)).json()["total"] == 0
