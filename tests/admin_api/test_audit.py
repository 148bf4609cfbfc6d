"""GET /api/v1/audit: admins only, filtered, paged, limited to the admin's jurisdiction."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx

from bot.context import AppContext
from storage.audit import record_audit
from storage.domain import Category, OfficerRole
from tests.admin_api.conftest import HA_NOI, HCM, HOAN_KIEM, PASSWORD, make_officer, make_tip

URL = "/api/v1/audit"


async def _event(context: AppContext, officer_id: int | None, action: str, tip_id: int | None = None) -> None:
    async with context.sessions() as session:
        await record_audit(session, officer_id=officer_id, action=action, tip_id=tip_id, detail={"note": action})
        await session.commit()


async def test_admins_only(api: httpx.AsyncClient, app_context: AppContext) -> None:
    assert (await api.get(URL)).status_code == 401
    for role in (OfficerRole.OFFICER, OfficerRole.SUPERVISOR):
        other = await make_officer(app_context, f"user_{role.value}", role=role, nationwide=True, restricted=True)
        assert (await api.get(URL, headers=other.headers)).status_code == 403


async def test_jurisdiction_filters_and_paging(api: httpx.AsyncClient, app_context: AppContext) -> None:
    root = await make_officer(app_context, "root_admin", role=OfficerRole.ADMIN, nationwide=True, restricted=True)
    hn_admin = await make_officer(app_context, "hn_admin", role=OfficerRole.ADMIN, provinces=(HA_NOI,))
    hn_officer = await make_officer(app_context, "hn_officer", provinces=(HA_NOI,))
    ward_officer = await make_officer(app_context, "hk_officer", wards=(HOAN_KIEM,))
    hcm_officer = await make_officer(app_context, "hcm_officer", provinces=(HCM,))
    hn_tip, _ = await make_tip(app_context, province=HA_NOI)
    hcm_tip, _ = await make_tip(app_context, province=HCM, ward=None)
    secret_tip, _ = await make_tip(app_context, province=HA_NOI, category=Category.POLITICAL_SECURITY)

    await _event(app_context, hn_officer.id, "tip_read", hn_tip.id)
    await _event(app_context, ward_officer.id, "tip_status_changed", hn_tip.id)
    await _event(app_context, hcm_officer.id, "tip_read", hcm_tip.id)
    await _event(app_context, hn_officer.id, "tip_read", secret_tip.id)  # restricted: hn_admin lacks the permission
    await _event(app_context, hcm_officer.id, "tip_read", hn_tip.id)  # a HN tip, whoever read it
    await _event(app_context, None, "login_throttled")
    r = await api.post("/api/v1/auth/token", data={"username": "hn_officer", "password": PASSWORD})
    assert r.status_code == 200
    r = await api.post("/api/v1/auth/token", data={"username": "hcm_officer", "password": PASSWORD})
    assert r.status_code == 200
    await api.get("/api/v1/tips/export.csv", headers=hn_officer.headers)

    everything = (await api.get(URL, params={"limit": 500}, headers=root.headers)).json()
    assert everything["total"] == 9
    assert [e["action"] for e in everything["items"]][:3] == ["tips_exported", "login", "login"]  # newest first

    page = (await api.get(URL, params={"limit": 500}, headers=hn_admin.headers)).json()
    seen = {(e["officer_username"], e["action"], e["tip_id"]) for e in page["items"]}
    assert seen == {
        ("hn_officer", "tip_read", hn_tip.id),
        ("hk_officer", "tip_status_changed", hn_tip.id),
        ("hcm_officer", "tip_read", hn_tip.id),
        ("hn_officer", "login", None),
        ("hn_officer", "tips_exported", None),
    }
    assert page["total"] == 5
    item = next(e for e in page["items"] if e["action"] == "tip_status_changed")
    assert item["tip_ref"] == hn_tip.ref
    assert item["officer_id"] == ward_officer.id
    assert item["detail"] == {"note": "tip_status_changed"}
    assert datetime.fromisoformat(item["at"]).tzinfo is not None

    def params(**kw: str | int) -> dict[str, str | int]:
        return kw

    r = await api.get(URL, params=params(officer_id=hn_officer.id), headers=hn_admin.headers)
    assert {e["action"] for e in r.json()["items"]} == {"tip_read", "login", "tips_exported"}
    r = await api.get(URL, params=params(action="tip_read"), headers=hn_admin.headers)
    assert r.json()["total"] == 2
    r = await api.get(URL, params=params(tip_id=hcm_tip.id), headers=hn_admin.headers)
    assert r.json() == {"items": [], "total": 0, "limit": 100, "offset": 0}
    r = await api.get(URL, params=params(tip_id=hcm_tip.id), headers=root.headers)
    assert r.json()["total"] == 1

    r1 = (await api.get(URL, params=params(limit=2), headers=hn_admin.headers)).json()
    r2 = (await api.get(URL, params=params(limit=2, offset=2), headers=hn_admin.headers)).json()
    r3 = (await api.get(URL, params=params(limit=2, offset=4), headers=hn_admin.headers)).json()
    ids = [e["id"] for page_ in (r1, r2, r3) for e in page_["items"]]
    assert len(ids) == 5 == len(set(ids))
    assert ids == sorted(ids, reverse=True)

    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    past = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    assert (await api.get(URL, params=params(since=future), headers=root.headers)).json()["total"] == 0
    assert (await api.get(URL, params=params(until=past), headers=root.headers)).json()["total"] == 0
    assert (await api.get(URL, params=params(since=past, until=future), headers=root.headers)).json()["total"] == 9
    r = await api.get(URL, params=params(since="2026-01-01T00:00:00"), headers=root.headers)
    assert r.status_code == 422
    assert (await api.get(URL, params=params(limit=0), headers=root.headers)).status_code == 422
    assert (await api.get(URL, params=params(limit=501), headers=root.headers)).status_code == 422
    assert (await api.get(URL, params=params(tip_id=2**40), headers=root.headers)).status_code == 422


async def test_nationwide_admin_without_restricted_permission(api: httpx.AsyncClient, app_context: AppContext) -> None:
    admin = await make_officer(app_context, "nation_admin", role=OfficerRole.ADMIN, nationwide=True)
    secret_tip, _ = await make_tip(app_context, category=Category.POLITICAL_SECURITY)
    plain_tip, _ = await make_tip(app_context)
    await _event(app_context, admin.id, "tip_read", secret_tip.id)
    await _event(app_context, admin.id, "tip_read", plain_tip.id)
    await _event(app_context, None, "login_throttled")
    items = (await api.get(URL, headers=admin.headers)).json()["items"]
    assert {(e["action"], e["tip_id"]) for e in items} == {("tip_read", plain_tip.id), ("login_throttled", None)}
