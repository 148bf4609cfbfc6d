"""Campaigns through the officer API: scoping per role, validation, the seeded national days, state rules."""

from __future__ import annotations

import os
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, update

from bot.context import AppContext
from storage.domain import ALL_TOPICS_MASK, TOPIC_BITS, CampaignState, OfficerRole, SubscriberState, Topic
from storage.models import AuditEvent, Campaign, Officer, OfficerProvince, OfficerWard, Reporter, Subscriber, Ward
from storage.officers import issue_token
from tests.admin_api.conftest import HA_NOI, HCM, HOAN_KIEM, ApiOfficer

API = "/api/v1/campaigns"
HCM_WARD = 26506
NATIONAL_SLUGS = {
    "drug-prevention-month",
    "drug-prevention-day",
    "anti-trafficking-day",
    "security-festival-day",
    "fire-prevention-day",
    "traffic-safety-month",
}


async def make_subscriber(
    context: AppContext,
    *,
    province: int | None = HA_NOI,
    ward: int | None = None,
    topics: tuple[Topic, ...] = (),
    state: SubscriberState = SubscriberState.ACTIVE,
    chat_id: int | None = None,
) -> int:
    """A subscriber as the bot stores one (sealed chat id, pseudonymous reporter); returns its id."""
    async with context.sessions() as session:
        reporter = Reporter(key_hash=secrets.token_bytes(32), alias="NG-" + secrets.token_hex(4).upper())
        session.add(reporter)
        await session.flush()
        chat = chat_id if chat_id is not None else 500_000_000 + reporter.id
        row = Subscriber(
            reporter_id=reporter.id,
            chat_enc=context.keys.encrypt_text(str(chat), purpose="subscriber_chat"),
            province_code=province,
            ward_code=ward,
            topics_mask=sum(TOPIC_BITS[t] for t in topics) if topics else ALL_TOPICS_MASK,
            state=state,
        )
        session.add(row)
        await session.commit()
        return row.id


async def other_hanoi_ward(context: AppContext) -> int:
    """A Hà Nội commune other than Hoàn Kiếm."""
    async with context.sessions() as session:
        code = await session.scalar(
            select(Ward.code).where(Ward.province_code == HA_NOI, Ward.code != HOAN_KIEM).order_by(Ward.code)
        )
    assert code is not None
    return code


async def seed_national_days(context: AppContext) -> None:
    """PostgreSQL test runs truncate every non-reference table, seeded campaigns included: put them back."""
    async with context.sessions() as session:
        if await session.scalar(select(func.count()).select_from(Campaign).where(Campaign.slug.is_not(None))):
            return
        for slug in sorted(NATIONAL_SLUGS):
            session.add(
                Campaign(
                    slug=slug,
                    title=slug,
                    body_html="Hôm nay là <b>ngày hội</b>.",
                    target_nationwide=True,
                    schedule_kind="yearly",
                    yearly_month=6,
                    yearly_day=26,
                )
            )
        await session.commit()


def campaign_body(**extra: Any) -> dict[str, Any]:
    """A valid campaign for Hà Nội."""
    body: dict[str, Any] = {
        "title": "Cao điểm phòng, chống ma túy",
        "body_html": "<b>Công an Hà Nội</b> đề nghị bà con báo nơi mua bán ma túy qua /report.",
        "topic": "drugs",
        "target_province_codes": [HA_NOI],
    }
    return body | extra


def future(days: int = 3) -> str:
    """An ISO moment some days ahead."""
    return (datetime.now(UTC) + timedelta(days=days)).isoformat()


async def quick_officer(
    context: AppContext,
    username: str,
    *,
    role: OfficerRole = OfficerRole.OFFICER,
    nationwide: bool = False,
    provinces: tuple[int, ...] = (),
    wards: tuple[int, ...] = (),
) -> ApiOfficer:
    """Like conftest.make_officer without hashing a password (these officers never log in): keeps tests fast."""
    async with context.sessions() as session:
        officer = Officer(
            username=username,
            password_hash="!",  # matches no password: these officers use tokens only
            role=role,
            nationwide=nationwide,
            provinces=[OfficerProvince(province_code=c) for c in provinces],
            wards=[OfficerWard(ward_code=c) for c in wards],
        )
        session.add(officer)
        await session.flush()
        token, _ = await issue_token(session, officer_id=officer.id, lifetime=timedelta(minutes=30))
        await session.commit()
        return ApiOfficer(officer.id, username, token)


STAFF: dict[str, dict[str, Any]] = {
    "nation": {"role": OfficerRole.ADMIN, "nationwide": True},
    "hn.admin": {"role": OfficerRole.ADMIN, "provinces": (HA_NOI,)},
    "hn.sup": {"role": OfficerRole.SUPERVISOR, "provinces": (HA_NOI,)},
    "hn.officer": {"provinces": (HA_NOI,)},
    "ward.sup": {"role": OfficerRole.SUPERVISOR, "wards": (HOAN_KIEM,)},
    "ward.officer": {"wards": (HOAN_KIEM,)},
    "hcm.sup": {"role": OfficerRole.SUPERVISOR, "provinces": (HCM,)},
}


async def make_staff(context: AppContext) -> dict[str, ApiOfficer]:
    """Officers of every role and reach, by name."""
    return {name: await quick_officer(context, name, **kwargs) for name, kwargs in STAFF.items()}


@pytest.fixture
async def staff(app_context: AppContext) -> dict[str, ApiOfficer]:
    """Officers of every role and reach."""
    return await make_staff(app_context)


async def create(api: httpx.AsyncClient, officer: ApiOfficer, **extra: Any) -> dict[str, Any]:
    """Create a campaign and return its body (asserting 201)."""
    response = await api.post(API, json=campaign_body(**extra), headers=officer.headers)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_create_read_and_edit_a_draft(api: httpx.AsyncClient, staff: dict[str, ApiOfficer]) -> None:
    """A supervisor creates a draft for their province, reads it back and edits it."""
    created = await create(api, staff["hn.sup"])
    assert created["state"] == "draft" and created["target_province_codes"] == [HA_NOI]
    assert created["has_photo"] is False and created["topic"] == "drugs"
    campaign_id = created["id"]
    read = await api.get(f"{API}/{campaign_id}", headers=staff["hn.officer"].headers)
    assert read.status_code == 200 and read.json()["title"] == created["title"]
    changed = await api.patch(
        f"{API}/{campaign_id}", json={"title": "Tháng hành động", "topic": None}, headers=staff["hn.sup"].headers
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["title"] == "Tháng hành động" and changed.json()["topic"] is None


async def test_only_supervisors_and_admins_plan_campaigns(api: httpx.AsyncClient, staff: dict[str, ApiOfficer]) -> None:
    """Officers may read campaigns in scope but not create, edit, schedule, cancel or upload (403)."""
    created = await create(api, staff["hn.sup"])
    officer = staff["hn.officer"].headers
    assert (await api.post(API, json=campaign_body(), headers=officer)).status_code == 403
    assert (await api.patch(f"{API}/{created['id']}", json={"title": "x"}, headers=officer)).status_code == 403
    assert (await api.post(f"{API}/{created['id']}/schedule", json={}, headers=officer)).status_code == 403
    assert (await api.post(f"{API}/{created['id']}/cancel", headers=officer)).status_code == 403
    files = {"file": ("a.png", b"\x89PNG\r\n\x1a\n", "image/png")}
    assert (await api.put(f"{API}/{created['id']}/photo", files=files, headers=officer)).status_code == 403
    assert (await api.get(f"{API}/{created['id']}/preview", headers=officer)).status_code == 200
    assert (await api.get(f"{API}/{created['id']}/progress", headers=officer)).status_code == 200


async def test_targets_must_lie_inside_the_jurisdiction(
    api: httpx.AsyncClient, app_context: AppContext, staff: dict[str, ApiOfficer]
) -> None:
    """A province supervisor cannot target the country or another province; a commune one only their commune."""
    hn = staff["hn.sup"].headers
    everyone = campaign_body(target_province_codes=[], target_nationwide=True)
    assert (await api.post(API, json=everyone, headers=hn)).status_code == 403
    assert (await api.post(API, json=campaign_body(target_province_codes=[HCM]), headers=hn)).status_code == 403
    foreign_ward = campaign_body(target_province_codes=[], target_ward_codes=[HCM_WARD])
    assert (await api.post(API, json=foreign_ward, headers=hn)).status_code == 403
    own_ward = campaign_body(target_province_codes=[], target_ward_codes=[HOAN_KIEM])
    assert (await api.post(API, json=own_ward, headers=hn)).status_code == 201
    ward = staff["ward.sup"].headers
    assert (await api.post(API, json=campaign_body(), headers=ward)).status_code == 403
    assert (await api.post(API, json=own_ward, headers=ward)).status_code == 201
    other = campaign_body(target_province_codes=[], target_ward_codes=[await other_hanoi_ward(app_context)])
    assert (await api.post(API, json=other, headers=ward)).status_code == 403
    assert (await api.post(API, json=everyone, headers=staff["nation"].headers)).status_code == 201
    created = await create(api, staff["hn.sup"])
    widen = await api.patch(f"{API}/{created['id']}", json={"target_province_codes": [HA_NOI, HCM]}, headers=hn)
    assert widen.status_code == 403


@pytest.mark.parametrize(
    ("extra", "where"),
    [
        ({"target_province_codes": []}, "target"),
        ({"target_nationwide": True}, "target"),
        ({"target_province_codes": [99_998]}, "unknown"),
        ({"target_province_codes": [], "target_ward_codes": [99_998]}, "unknown"),
        ({"body_html": "<b>chưa đóng thẻ"}, "never closed"),
        ({"body_html": "Giá < 100 nghìn"}, "&lt;"),
        ({"body_html": "<script>alert(1)</script>"}, "not supported"),
        ({"body_html": '<a href="javascript:alert(1)">bấm</a>'}, "http"),
        ({"body_html": "a" * 4097}, "4096"),
        ({"topic": "weather"}, "topic"),
        ({"yearly_month": 2, "yearly_day": 30, "schedule_kind": "yearly"}, "not a date"),
        ({"send_at": "2026-07-01T08:00:00"}, "timezone"),
        ({"role": "admin"}, "extra"),
    ],
)
async def test_bad_campaigns_are_refused(
    api: httpx.AsyncClient, staff: dict[str, ApiOfficer], extra: dict[str, Any], where: str
) -> None:
    """Bad targets, bad Telegram HTML, too long text, unknown fields: 422 with a reason (403 never here)."""
    response = await api.post(API, json=campaign_body(**extra), headers=staff["hn.sup"].headers)
    assert response.status_code == 422, response.text
    assert where in response.text


async def test_out_of_scope_campaigns_look_missing(api: httpx.AsyncClient, staff: dict[str, ApiOfficer]) -> None:
    """Every campaign route answers 404 for a campaign outside the jurisdiction, exactly like a missing one."""
    hcm = await create(api, staff["hcm.sup"], target_province_codes=[HCM])
    hanoi = await create(api, staff["hn.sup"])
    routes = [
        ("GET", ""),
        ("PATCH", ""),
        ("GET", "/preview"),
        ("POST", "/schedule"),
        ("POST", "/cancel"),
        ("GET", "/progress"),
        ("GET", "/photo"),
        ("DELETE", "/photo"),
    ]
    for method, suffix in routes:
        body: dict[str, Any] | None = {} if method in {"PATCH", "POST"} and suffix != "/cancel" else None
        for viewer, hidden in (("hn.sup", hcm["id"]), ("hcm.sup", hanoi["id"]), ("ward.sup", hanoi["id"])):
            headers = staff[viewer].headers
            missing = await api.request(method, f"{API}/987654{suffix}", headers=headers, json=body)
            response = await api.request(method, f"{API}/{hidden}{suffix}", headers=headers, json=body)
            assert response.status_code == missing.status_code == 404, (method, suffix, viewer, response.text)
            assert response.content == missing.content
    listed = await api.get(API, headers=staff["hn.officer"].headers)
    assert {c["id"] for c in listed.json()["items"]} == {hanoi["id"]}
    # The nationwide admin sees both; the commune supervisor sees neither (Hà Nội reaches beyond the commune).
    nation = await api.get(API, headers=staff["nation"].headers)
    assert {hcm["id"], hanoi["id"]} <= {c["id"] for c in nation.json()["items"]}
    assert (await api.get(API, headers=staff["ward.sup"].headers)).json()["total"] == 0


async def test_national_days_are_yearly_drafts_a_nationwide_admin_fills_in_and_switches_on(
    api: httpx.AsyncClient, app_context: AppContext, staff: dict[str, ApiOfficer]
) -> None:
    """The six national days from migration 0004: listed for the nationwide admin only; edit, then schedule."""
    if os.environ.get("TEST_POSTGRES_URL"):
        await seed_national_days(app_context)
    nation = staff["nation"].headers
    listed = await api.get(API, params={"schedule_kind": "yearly", "limit": 200}, headers=nation)
    days = {c["slug"]: c for c in listed.json()["items"] if c["slug"]}
    assert set(days) == NATIONAL_SLUGS
    assert all(c["state"] == "draft" and c["target_nationwide"] for c in days.values())
    hanoi = await api.get(API, headers=staff["hn.admin"].headers)
    assert not any(c["slug"] for c in hanoi.json()["items"])
    day = days["anti-trafficking-day"]
    assert (
        await api.patch(f"{API}/{day['id']}", json={"body_html": "x"}, headers=staff["hn.admin"].headers)
    ).status_code == 404
    filled = await api.patch(
        f"{API}/{day['id']}",
        json={"body_html": "Hôm nay là ngày toàn dân <b>phòng, chống mua bán người</b>. Gọi 113.", "send_hour": 9},
        headers=nation,
    )
    assert filled.status_code == 200, filled.text
    switched = await api.post(f"{API}/{day['id']}/schedule", json={}, headers=nation)
    assert switched.status_code == 200, switched.text
    assert switched.json()["state"] == "scheduled" and switched.json()["schedule_kind"] == "yearly"
    assert switched.json()["send_hour"] == 9
    month = days["drug-prevention-month"]
    ranged = await api.post(
        f"{API}/{month['id']}/schedule",
        json={"yearly_month": 6, "yearly_day": 1, "yearly_end_month": 6, "yearly_end_day": 30},
        headers=nation,
    )
    assert ranged.status_code == 200, ranged.text
    assert (ranged.json()["yearly_end_month"], ranged.json()["yearly_end_day"]) == (6, 30)


async def test_schedule_once_and_yearly_rules(api: httpx.AsyncClient, staff: dict[str, ApiOfficer]) -> None:
    """Once needs a future moment; yearly needs a real date (a range may run past New Year)."""
    sup = staff["hn.sup"].headers
    created = await create(api, staff["hn.sup"])
    url = f"{API}/{created['id']}/schedule"
    assert (await api.post(url, json={}, headers=sup)).status_code == 422  # no send_at yet
    past = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    assert "future" in (await api.post(url, json={"send_at": past}, headers=sup)).text
    assert (await api.post(url, json={"send_at": "1900-01-01T00:00:00Z"}, headers=sup)).status_code == 422
    assert (
        await api.post(url, json={"schedule_kind": "yearly", "yearly_month": 2, "yearly_day": 29}, headers=sup)
    ).status_code == 422
    assert (await api.post(url, json={"schedule_kind": "yearly", "yearly_month": 12}, headers=sup)).status_code == 422
    assert (await api.post(url, json={"send_hour": 24, "send_at": future()}, headers=sup)).status_code == 422
    ok = await api.post(url, json={"send_at": future()}, headers=sup)
    assert ok.status_code == 200 and ok.json()["state"] == "scheduled"
    tet = await create(api, staff["hn.sup"])
    wrap = {
        "schedule_kind": "yearly",
        "yearly_month": 12,
        "yearly_day": 15,
        "yearly_end_month": 2,
        "yearly_end_day": 10,
    }
    response = await api.post(f"{API}/{tet['id']}/schedule", json=wrap, headers=sup)
    assert response.status_code == 200, response.text
    title_only = await create(api, staff["hn.sup"], body_html="")
    accepted = await api.post(f"{API}/{title_only['id']}/schedule", json={"send_at": future()}, headers=sup)
    assert accepted.status_code == 200  # sent as the bold title alone


async def test_edit_until_sending_then_409(
    api: httpx.AsyncClient, app_context: AppContext, staff: dict[str, ApiOfficer]
) -> None:
    """Scheduled campaigns stay editable (and must stay complete); sending or done ones are 409."""
    sup = staff["hn.sup"].headers
    created = await create(api, staff["hn.sup"])
    cid = created["id"]
    assert (await api.post(f"{API}/{cid}/schedule", json={"send_at": future()}, headers=sup)).status_code == 200
    edited = await api.patch(f"{API}/{cid}", json={"body_html": "Nội dung <i>mới</i>."}, headers=sup)
    assert edited.status_code == 200 and edited.json()["state"] == "scheduled"
    assert (await api.patch(f"{API}/{cid}", json={"send_at": None}, headers=sup)).status_code == 422
    for state in (CampaignState.SENDING, CampaignState.DONE):
        await set_state(app_context, cid, state)
        assert (await api.patch(f"{API}/{cid}", json={"title": "muộn"}, headers=sup)).status_code == 409
        assert (await api.post(f"{API}/{cid}/schedule", json={}, headers=sup)).status_code == 409
        assert (await api.delete(f"{API}/{cid}/photo", headers=sup)).status_code == 409
    assert (await api.post(f"{API}/{cid}/cancel", headers=sup)).status_code == 409  # done: history
    async with app_context.sessions() as session:
        title = await session.scalar(select(Campaign.title).where(Campaign.id == cid))
    assert title == created["title"]
    # A sending campaign may still be stopped: the sender sees the state and cancels what is left.
    await set_state(app_context, cid, CampaignState.SENDING)
    stopped = await api.post(f"{API}/{cid}/cancel", headers=sup)
    assert stopped.status_code == 200 and stopped.json()["state"] == "cancelled"


async def set_state(context: AppContext, campaign_id: int, state: CampaignState) -> None:
    """Move a campaign as the sender would."""
    async with context.sessions() as session:
        await session.execute(update(Campaign).where(Campaign.id == campaign_id).values(state=state))
        await session.commit()


async def test_cancel_rules_and_reactivation(api: httpx.AsyncClient, staff: dict[str, ApiOfficer]) -> None:
    """Scheduled → cancelled; cancelling twice changes nothing; a cancelled campaign may be scheduled again."""
    sup = staff["hn.sup"].headers
    created = await create(api, staff["hn.sup"])
    cid = created["id"]
    await api.post(f"{API}/{cid}/schedule", json={"send_at": future()}, headers=sup)
    cancelled = await api.post(f"{API}/{cid}/cancel", headers=sup)
    assert cancelled.status_code == 200 and cancelled.json()["state"] == "cancelled"
    again = await api.post(f"{API}/{cid}/cancel", headers=sup)
    assert again.status_code == 200 and again.json()["state"] == "cancelled"
    listed = await api.get(API, params={"state": "cancelled"}, headers=sup)
    assert [c["id"] for c in listed.json()["items"]] == [cid]
    back = await api.post(f"{API}/{cid}/schedule", json={}, headers=sup)
    assert back.status_code == 200 and back.json()["state"] == "scheduled"


async def test_every_change_and_read_is_audited(
    api: httpx.AsyncClient, app_context: AppContext, staff: dict[str, ApiOfficer]
) -> None:
    """Create, view, list, edit, preview, schedule, cancel, progress: one audit row each, naming the campaign."""
    sup = staff["hn.sup"]
    created = await create(api, sup)
    cid = created["id"]
    await api.get(API, headers=sup.headers)
    await api.get(f"{API}/{cid}", headers=sup.headers)
    await api.patch(f"{API}/{cid}", json={"urgent": True}, headers=sup.headers)
    await api.get(f"{API}/{cid}/preview", headers=sup.headers)
    await api.post(f"{API}/{cid}/schedule", json={"send_at": future()}, headers=sup.headers)
    await api.get(f"{API}/{cid}/progress", headers=sup.headers)
    await api.post(f"{API}/{cid}/cancel", headers=sup.headers)
    async with app_context.sessions() as session:
        rows = (await session.scalars(select(AuditEvent).where(AuditEvent.officer_id == sup.id))).all()
    actions = [r.action for r in rows]
    assert actions == [
        "campaign_created",
        "campaigns_listed",
        "campaign_viewed",
        "campaign_updated",
        "campaign_previewed",
        "campaign_scheduled",
        "campaign_progress_viewed",
        "campaign_cancelled",
    ]
    assert all(r.detail.get("campaign_id") == cid for r in rows if r.action != "campaigns_listed")
    assert next(r for r in rows if r.action == "campaign_updated").detail["fields"] == ["urgent"]
