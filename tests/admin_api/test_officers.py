"""Officer management: admins only, inside their own jurisdiction; no mass assignment."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from bot.context import AppContext
from storage.domain import OfficerRole
from tests.admin_api.conftest import HA_NOI, HCM, HOAN_KIEM, PASSWORD, ApiOfficer, make_officer

OFFICERS = "/api/v1/officers"
HCM_WARD = 26506  # Phường Vũng Tàu, Hồ Chí Minh


def new_officer(username: str, **fields: Any) -> dict[str, Any]:
    """A valid create body."""
    return {"username": username, "password": PASSWORD, **fields}


@pytest.fixture
async def chief(app_context: AppContext) -> ApiOfficer:
    """A nationwide admin with the restricted permission."""
    return await make_officer(app_context, "chief", role=OfficerRole.ADMIN, nationwide=True, restricted=True)


@pytest.fixture
async def hanoi_admin(app_context: AppContext) -> ApiOfficer:
    """An admin of Hà Nội without the restricted permission."""
    return await make_officer(app_context, "hanoi.admin", role=OfficerRole.ADMIN, provinces=(HA_NOI,))


async def test_only_admins_manage_officers(api: httpx.AsyncClient, app_context: AppContext, chief: ApiOfficer) -> None:
    """Officers and supervisors get 403 on every officer endpoint, even for themselves."""
    for role in (OfficerRole.OFFICER, OfficerRole.SUPERVISOR):
        caller = await make_officer(app_context, f"hn.{role.value}", role=role, provinces=(HA_NOI,))
        calls = [
            api.get(OFFICERS, headers=caller.headers),
            api.post(OFFICERS, json=new_officer(f"x.{role.value}", province_codes=[HA_NOI]), headers=caller.headers),
            api.get(f"{OFFICERS}/{caller.id}", headers=caller.headers),
            api.patch(f"{OFFICERS}/{caller.id}", json={"role": "admin"}, headers=caller.headers),
            api.delete(f"{OFFICERS}/{chief.id}", headers=caller.headers),
        ]
        for call in calls:
            assert (await call).status_code == 403


async def test_create_officer_and_log_in(api: httpx.AsyncClient, chief: ApiOfficer) -> None:
    """A created officer can log in; the answer never carries secrets."""
    body = new_officer("Ward.Officer", role="officer", ward_codes=[HOAN_KIEM], can_view_restricted=True)
    created = await api.post(OFFICERS, json=body, headers=chief.headers)
    assert created.status_code == 201, created.text
    read = created.json()
    assert read["username"] == "ward.officer" and read["ward_codes"] == [HOAN_KIEM] and read["province_codes"] == []
    assert read["can_view_restricted"] is True and read["active"] is True
    assert not {"password", "password_hash", "totp_secret_enc"} & set(read)
    assert PASSWORD not in created.text
    login = await api.post("/api/v1/auth/token", data={"username": "ward.officer", "password": PASSWORD})
    assert login.status_code == 200
    duplicate = await api.post(
        OFFICERS, json=new_officer("WARD.officer", province_codes=[HA_NOI]), headers=chief.headers
    )
    assert duplicate.status_code == 409
    unknown = await api.post(OFFICERS, json=new_officer("nowhere", province_codes=[2]), headers=chief.headers)
    assert unknown.status_code == 422 and "unknown province" in unknown.text


@pytest.mark.parametrize(
    ("fields", "status"),
    [
        ({"province_codes": [HA_NOI]}, 201),
        ({"ward_codes": [HOAN_KIEM]}, 201),
        ({"role": "admin", "province_codes": [HA_NOI]}, 201),
        ({"province_codes": [HCM]}, 403),
        ({"ward_codes": [HCM_WARD]}, 403),
        ({"province_codes": [HA_NOI, HCM]}, 403),
        ({"nationwide": True}, 403),
        ({"province_codes": [HA_NOI], "can_view_restricted": True}, 403),
        ({}, 422),
        ({"province_codes": [2]}, 403),
        ({"province_codes": [2**63]}, 422),
        ({"ward_codes": [-1]}, 422),
    ],
)
async def test_province_admin_creates_only_inside_their_jurisdiction(
    api: httpx.AsyncClient, hanoi_admin: ApiOfficer, fields: dict[str, Any], status: int
) -> None:
    """Hà Nội's admin may create officers for Hà Nội and its communes, nothing wider."""
    response = await api.post(OFFICERS, json=new_officer("new.one", **fields), headers=hanoi_admin.headers)
    assert response.status_code == status, response.text


async def test_province_admin_sees_and_manages_only_their_officers(
    api: httpx.AsyncClient, app_context: AppContext, chief: ApiOfficer, hanoi_admin: ApiOfficer
) -> None:
    """Officers outside the admin's jurisdiction do not exist for them (404, absent from the list)."""
    inside = await make_officer(app_context, "hn.ward", wards=(HOAN_KIEM,))
    outside = await make_officer(app_context, "hcm.officer", provinces=(HCM,))
    mixed = await make_officer(app_context, "hn.hcm", provinces=(HA_NOI, HCM))
    listing = await api.get(OFFICERS, headers=hanoi_admin.headers)
    assert listing.status_code == 200
    names = {o["username"] for o in listing.json()["items"]}
    assert names == {"hanoi.admin", "hn.ward"}
    assert listing.json()["total"] == 2
    assert "hcm.officer" not in listing.text and "chief" not in listing.text
    for hidden in (outside, mixed, chief):
        assert (await api.get(f"{OFFICERS}/{hidden.id}", headers=hanoi_admin.headers)).status_code == 404
        patch = await api.patch(f"{OFFICERS}/{hidden.id}", json={"on_duty": False}, headers=hanoi_admin.headers)
        assert patch.status_code == 404
        assert (await api.delete(f"{OFFICERS}/{hidden.id}", headers=hanoi_admin.headers)).status_code == 404
    assert (await api.get(f"{OFFICERS}/999999", headers=hanoi_admin.headers)).status_code == 404
    assert (await api.get(f"{OFFICERS}/{inside.id}", headers=hanoi_admin.headers)).status_code == 200
    move = await api.patch(f"{OFFICERS}/{inside.id}", json={"province_codes": [HCM]}, headers=hanoi_admin.headers)
    assert move.status_code == 403
    grant = await api.patch(f"{OFFICERS}/{inside.id}", json={"can_view_restricted": True}, headers=hanoi_admin.headers)
    assert grant.status_code == 403
    promote = await api.patch(f"{OFFICERS}/{inside.id}", json={"role": "supervisor"}, headers=hanoi_admin.headers)
    assert promote.status_code == 200 and promote.json()["role"] == "supervisor"
    assert (await api.delete(f"{OFFICERS}/{inside.id}", headers=hanoi_admin.headers)).status_code == 204
    everyone = (await api.get(OFFICERS, headers=chief.headers)).json()
    assert everyone["total"] == 5


async def test_admin_cannot_change_their_own_powers(api: httpx.AsyncClient, hanoi_admin: ApiOfficer) -> None:
    """No self-promotion, self-widening, self-lockout; the duty flag is fine."""
    me = f"{OFFICERS}/{hanoi_admin.id}"
    for body in (
        {"nationwide": True},
        {"province_codes": [HA_NOI, HCM]},
        {"role": "officer"},
        {"active": False},
        {"password": "a-new-long-password-1"},
        {"can_view_restricted": False},
    ):
        assert (await api.patch(me, json=body, headers=hanoi_admin.headers)).status_code == 409, body
    assert (await api.delete(me, headers=hanoi_admin.headers)).status_code == 409
    duty = await api.patch(me, json={"on_duty": False}, headers=hanoi_admin.headers)
    assert duty.status_code == 200 and duty.json()["on_duty"] is False
    assert (await api.get("/api/v1/auth/me", headers=hanoi_admin.headers)).json()["role"] == "admin"


READ_ONLY_CREATE = {
    "id": 1,
    "created_at": "2024-01-01T00:00:00Z",
    "password_hash": "$argon2id$v=19$m=65536,t=3,p=4$abc$def",
    "totp_secret_enc": "AAAA",
    "totp_secret": "JBSWY3DPEHPK3PXP",
    "totp_enabled": True,
    "telegram_linked": True,
    "telegram_chat_enc": "AAAA",
    "active": False,
    "on_duty": False,
    "is_superuser": True,
}
READ_ONLY_UPDATE = {k: v for k, v in READ_ONLY_CREATE.items() if k not in {"active", "on_duty"}} | {
    "username": "renamed",
    "updated_at": "2024-01-01T00:00:00Z",
}


@pytest.mark.parametrize("field", sorted(READ_ONLY_CREATE))
async def test_create_rejects_unknown_and_read_only_fields(
    api: httpx.AsyncClient, chief: ApiOfficer, field: str
) -> None:
    """Mass assignment on POST /officers is a 422 naming the field; nothing is created."""
    body = new_officer("sneaky", province_codes=[HA_NOI], **{field: READ_ONLY_CREATE[field]})
    response = await api.post(OFFICERS, json=body, headers=chief.headers)
    assert response.status_code == 422
    assert any(e["type"] == "extra_forbidden" and e["loc"][-1] == field for e in response.json()["detail"])
    assert "sneaky" not in (await api.get(OFFICERS, headers=chief.headers)).text


@pytest.mark.parametrize("field", sorted(READ_ONLY_UPDATE))
async def test_update_rejects_unknown_and_read_only_fields(
    api: httpx.AsyncClient, app_context: AppContext, chief: ApiOfficer, field: str
) -> None:
    """Mass assignment on PATCH /officers/{id} is a 422; the officer is unchanged."""
    target = await make_officer(app_context, "target", provinces=(HA_NOI,))
    body = {"on_duty": False, field: READ_ONLY_UPDATE[field]}
    response = await api.patch(f"{OFFICERS}/{target.id}", json=body, headers=chief.headers)
    assert response.status_code == 422
    assert any(e["type"] == "extra_forbidden" and e["loc"][-1] == field for e in response.json()["detail"])
    after = (await api.get(f"{OFFICERS}/{target.id}", headers=chief.headers)).json()
    assert after["on_duty"] is True and after["username"] == "target"


@pytest.mark.parametrize("path", ["/api/v1/auth/password", "/api/v1/auth/totp/enable"])
async def test_auth_bodies_reject_extra_fields(api: httpx.AsyncClient, chief: ApiOfficer, path: str) -> None:
    """Own-account bodies forbid extra fields too (e.g. role or officer_id)."""
    for field, value in (("role", "admin"), ("officer_id", 1), ("totp_enabled", False)):
        response = await api.post(path, json={field: value}, headers=chief.headers)
        assert response.status_code == 422
        assert any(e["type"] == "extra_forbidden" and e["loc"][-1] == field for e in response.json()["detail"])


@pytest.mark.parametrize("officer_id", ["0", "-5", str(2**63), "abc"])
async def test_bad_officer_ids_are_422(api: httpx.AsyncClient, chief: ApiOfficer, officer_id: str) -> None:
    """Ids outside the database's range never reach SQL."""
    assert (await api.get(f"{OFFICERS}/{officer_id}", headers=chief.headers)).status_code == 422
