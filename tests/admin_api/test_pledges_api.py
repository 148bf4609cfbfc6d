"""Pledges through the officer API: coverage counts, a scoped list, names for supervisors only (audited), texts."""

from __future__ import annotations

import secrets

import httpx
import pytest
from sqlalchemy import select

from bot.context import AppContext
from storage.domain import SignerKind
from storage.models import AuditEvent, Pledge, PledgeText, Reporter
from storage.pledges import pledge_year
from tests.admin_api.conftest import HA_NOI, HCM, HOAN_KIEM, ApiOfficer
from tests.admin_api.test_campaigns import HCM_WARD, make_staff, other_hanoi_ward

URL = "/api/v1/pledges"


@pytest.fixture
async def staff(app_context: AppContext) -> dict[str, ApiOfficer]:
    """Officers of every role and reach."""
    return await make_staff(app_context)


async def make_text(context: AppContext, kind: SignerKind = SignerKind.HOUSEHOLD, version: int = 1) -> int:
    """A national pledge text (tests do not rely on the seeded ones: PostgreSQL runs truncate them)."""
    async with context.sessions() as session:
        text = PledgeText(version=version, signer_kind=kind, body=f"Chúng tôi cam kết (bản {version}).")
        session.add(text)
        await session.commit()
        return text.id


async def make_pledge(
    context: AppContext,
    *,
    text_id: int,
    province: int = HA_NOI,
    ward: int | None = HOAN_KIEM,
    kind: SignerKind = SignerKind.HOUSEHOLD,
    name: str = "Nguyễn Văn An",
    year: int | None = None,
) -> int:
    """A signed pledge as the bot stores it (name sealed); returns its id."""
    async with context.sessions() as session:
        reporter = Reporter(key_hash=secrets.token_bytes(32), alias="NG-" + secrets.token_hex(4).upper())
        session.add(reporter)
        await session.flush()
        pledge = Pledge(
            reporter_id=reporter.id,
            signer_kind=kind,
            province_code=province,
            ward_code=ward,
            representative_enc=context.keys.encrypt_text(name, purpose="pledge_name"),
            text_id=text_id,
            year=year or pledge_year(),
        )
        session.add(pledge)
        await session.commit()
        return pledge.id


async def test_coverage_counts_households_per_commune_by_kind_and_text(
    api: httpx.AsyncClient, app_context: AppContext, staff: dict[str, ApiOfficer]
) -> None:
    """Household pledges per commune; all kinds; the text versions signed; last year's stay out."""
    v1 = await make_text(app_context)
    v2 = await make_text(app_context, version=2)
    school = await make_text(app_context, SignerKind.SCHOOL)
    other = await other_hanoi_ward(app_context)
    for text_id in (v1, v1, v2):
        await make_pledge(app_context, text_id=text_id)
    await make_pledge(app_context, text_id=v2, ward=other)
    await make_pledge(app_context, text_id=school, kind=SignerKind.SCHOOL, ward=None)
    await make_pledge(app_context, text_id=v1, province=HCM, ward=HCM_WARD)
    await make_pledge(app_context, text_id=v1, year=pledge_year() - 1)
    response = await api.get(f"{URL}/coverage", headers=staff["hn.officer"].headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["year"] == pledge_year() and body["total"] == 5
    assert body["by_kind"] == {"household": 4, "agency": 0, "enterprise": 0, "school": 1}
    assert {c["code"]: c["count"] for c in body["households_by_commune"]} == {HOAN_KIEM: 3, other: 1}
    assert all(c["province_code"] == HA_NOI for c in body["households_by_commune"])
    assert {(t["text_id"], t["version"], t["count"]) for t in body["by_text"]} == {
        (v1, 1, 2),
        (v2, 2, 2),
        (school, 1, 1),
    }
    ward = (await api.get(f"{URL}/coverage", headers=staff["ward.officer"].headers)).json()
    assert ward["total"] == 3 and [c["code"] for c in ward["households_by_commune"]] == [HOAN_KIEM]
    nation = (await api.get(f"{URL}/coverage", headers=staff["nation"].headers)).json()
    assert nation["total"] == 6 and {p["code"] for p in nation["by_province"]} == {HA_NOI, HCM}
    last = await api.get(f"{URL}/coverage", params={"year": pledge_year() - 1}, headers=staff["nation"].headers)
    assert last.json()["total"] == 1
    kind = await api.get(f"{URL}/coverage", params={"signer_kind": "school"}, headers=staff["hn.officer"].headers)
    assert kind.json()["total"] == 1


async def test_list_hides_names_from_officers_and_audits_every_reveal(
    api: httpx.AsyncClient, app_context: AppContext, staff: dict[str, ApiOfficer]
) -> None:
    """Officers get no names (and 403 when asking); supervisors get them on request, audited with the ids."""
    text = await make_text(app_context)
    mine = await make_pledge(app_context, text_id=text, name="Trần Thị Bình")
    await make_pledge(app_context, text_id=text, province=HCM, ward=HCM_WARD, name="Lê Văn Cường")
    plain = await api.get(URL, headers=staff["hn.officer"].headers)
    assert plain.status_code == 200
    assert [p["id"] for p in plain.json()["items"]] == [mine] and plain.json()["total"] == 1
    assert plain.json()["items"][0]["representative"] is None and "Bình" not in plain.text
    assert plain.json()["items"][0]["text_version"] == 1 and plain.json()["items"][0]["ward_code"] == HOAN_KIEM
    assert (await api.get(URL, params={"names": True}, headers=staff["hn.officer"].headers)).status_code == 403
    named = await api.get(URL, params={"names": True}, headers=staff["hn.sup"].headers)
    assert named.status_code == 200
    assert [p["representative"] for p in named.json()["items"]] == ["Trần Thị Bình"]
    assert "Cường" not in named.text
    unnamed = await api.get(URL, headers=staff["hn.sup"].headers)
    assert unnamed.json()["items"][0]["representative"] is None
    async with app_context.sessions() as session:
        reveals = (await session.scalars(select(AuditEvent).where(AuditEvent.action == "pledge_names_viewed"))).all()
        listed = (await session.scalars(select(AuditEvent).where(AuditEvent.action == "pledges_listed"))).all()
    assert [(r.officer_id, r.detail["pledge_ids"]) for r in reveals] == [(staff["hn.sup"].id, [mine])]
    assert len(listed) == 3
    assert (await api.get(URL, headers=staff["hcm.sup"].headers)).json()["total"] == 1


async def test_admins_create_text_versions_for_their_own_area(
    api: httpx.AsyncClient, app_context: AppContext, staff: dict[str, ApiOfficer]
) -> None:
    """A new version retires the previous one of the same area; national texts need a nationwide admin."""
    await make_text(app_context)
    body = {
        "signer_kind": "household",
        "body": "Hộ gia đình chúng tôi cam kết giữ gìn an ninh.",
        "province_code": HA_NOI,
    }
    assert (await api.post(f"{URL}/texts", json=body, headers=staff["hn.sup"].headers)).status_code == 403
    created = await api.post(f"{URL}/texts", json=body, headers=staff["hn.admin"].headers)
    assert created.status_code == 201, created.text
    assert created.json()["version"] == 2 and created.json()["active"] is True
    again = await api.post(f"{URL}/texts", json=body, headers=staff["hn.admin"].headers)
    assert again.json()["version"] == 3
    national = {"signer_kind": "household", "body": "Bản toàn quốc."}
    assert (await api.post(f"{URL}/texts", json=national, headers=staff["hn.admin"].headers)).status_code == 403
    foreign = body | {"province_code": HCM}
    assert (await api.post(f"{URL}/texts", json=foreign, headers=staff["hn.admin"].headers)).status_code == 403
    mismatch = body | {"ward_code": HCM_WARD}
    assert (await api.post(f"{URL}/texts", json=mismatch, headers=staff["hn.admin"].headers)).status_code == 422
    assert (await api.post(f"{URL}/texts", json=national, headers=staff["nation"].headers)).status_code == 201
    texts = await api.get(f"{URL}/texts", params={"signer_kind": "household"}, headers=staff["hn.officer"].headers)
    versions = {(t["version"], t["province_code"], t["active"]) for t in texts.json()["items"]}
    assert {(2, HA_NOI, False), (3, HA_NOI, True), (4, None, True), (1, None, False)} == versions
    hcm = (await api.get(f"{URL}/texts", headers=staff["hcm.sup"].headers)).json()["items"]
    assert all(t["province_code"] is None for t in hcm)
    async with app_context.sessions() as session:
        audited = (await session.scalars(select(AuditEvent).where(AuditEvent.action == "pledge_text_created"))).all()
    assert len(audited) == 3
