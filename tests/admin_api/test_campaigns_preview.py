"""Campaign preview (exactly what subscribers get, recipient counts), photos, and progress numbers."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

import httpx
import pytest
from aiogram.types import BufferedInputFile
from PIL import Image
from sqlalchemy import select

from bot.broadcast import render_text as broadcast_render_text
from bot.context import AppContext
from sandbox.client import SandboxClient, SandboxUser
from sandbox.runner import RunningSandbox
from storage.campaign_admin import campaign_messages, render_text
from storage.domain import CampaignState, DeliveryStatus, SubscriberState, Topic
from storage.models import Campaign, CampaignRun, Delivery, utcnow
from tests.admin_api.conftest import HA_NOI, HCM, HOAN_KIEM, ApiOfficer
from tests.admin_api.test_campaigns import (
    API,
    HCM_WARD,
    create,
    future,
    make_staff,
    make_subscriber,
    other_hanoi_ward,
)


@pytest.fixture
async def staff(app_context: AppContext) -> dict[str, ApiOfficer]:
    """Officers of every role and reach."""
    return await make_staff(app_context)


def image(kind: str = "JPEG", size: tuple[int, int] = (64, 48), exif: bool = True) -> bytes:
    """A small image, with camera metadata (EXIF with a GPS tag) unless asked otherwise."""
    buffer = io.BytesIO()
    picture = Image.new("RGB", size, (200, 30, 30))
    if kind == "JPEG" and exif:
        data = Image.Exif()
        data[0x010F] = "CameraMaker"
        data[0x8825] = {2: (21.0, 1.0, 3.0)}  # GPSLatitude
        picture.save(buffer, "JPEG", exif=data.tobytes(), comment=b"secret comment")
    else:
        picture.save(buffer, kind)
    return buffer.getvalue()


async def preview(api: httpx.AsyncClient, officer: ApiOfficer, campaign_id: int) -> dict[str, Any]:
    """GET .../preview as the officer (asserting 200)."""
    response = await api.get(f"{API}/{campaign_id}/preview", headers=officer.headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_recipient_counts_follow_the_audience_rule(
    api: httpx.AsyncClient, app_context: AppContext, staff: dict[str, ApiOfficer]
) -> None:
    """Area and topic decide who gets a campaign; inactive subscribers never count."""
    other = await other_hanoi_ward(app_context)
    await make_subscriber(app_context, province=None)  # whole country: nationwide campaigns only
    await make_subscriber(app_context, province=HA_NOI)  # whole Hà Nội
    await make_subscriber(app_context, province=HA_NOI, ward=HOAN_KIEM, topics=(Topic.DRUGS,))
    await make_subscriber(app_context, province=HA_NOI, ward=HOAN_KIEM, topics=(Topic.FIRE,))
    await make_subscriber(app_context, province=HA_NOI, ward=other)
    await make_subscriber(app_context, province=HCM, ward=HCM_WARD)
    await make_subscriber(app_context, province=HA_NOI, state=SubscriberState.UNSUBSCRIBED)
    await make_subscriber(app_context, province=HA_NOI, state=SubscriberState.GONE)
    cases: list[tuple[ApiOfficer, dict[str, Any], int]] = [
        (staff["nation"], {"target_province_codes": [], "target_nationwide": True, "topic": None}, 6),
        (staff["nation"], {"target_province_codes": [], "target_nationwide": True, "topic": "drugs"}, 5),
        (staff["hn.sup"], {"topic": None}, 4),
        (staff["hn.sup"], {"topic": "fire"}, 3),
        (staff["hn.sup"], {"target_province_codes": [], "target_ward_codes": [HOAN_KIEM], "topic": None}, 3),
        (staff["ward.sup"], {"target_province_codes": [], "target_ward_codes": [HOAN_KIEM], "topic": "drugs"}, 2),
        (staff["hcm.sup"], {"target_province_codes": [HCM], "topic": "drugs"}, 1),
    ]
    for officer, extra, expected in cases:
        created = await create(api, officer, **extra)
        assert (await preview(api, officer, created["id"]))["recipients"] == expected, extra


async def test_preview_is_exactly_what_the_emulator_shows(
    api: httpx.AsyncClient, app_context: AppContext, sandbox: RunningSandbox, staff: dict[str, ApiOfficer]
) -> None:
    """Sending the preview's request through the bot gives a message whose text is the preview's visible text."""
    body = (
        '<b>Cảnh báo</b> lừa đảo: <i>không</i> chuyển tiền &amp; không bấm <a href="https://congan.gov.vn/">'
        "link lạ</a>.\n<blockquote>Gọi 113 khi cần.</blockquote> <tg-spoiler>bí mật</tg-spoiler> &lt;3"
    )
    created = await create(api, staff["hn.sup"], body_html=body, topic="scams", title="Cảnh giác <lừa đảo>")
    shown = await preview(api, staff["hn.officer"], created["id"])
    assert shown["has_photo"] is False and shown["ready"] is False and "send_at" in shown["problem"]
    [message] = shown["messages"]
    assert message["method"] == "sendMessage" and message["parse_mode"] == "HTML"
    assert message["text"] == "<b>Cảnh giác &lt;lừa đảo&gt;</b>\n\n" + body and message["caption"] is None
    assert message["limit"] == 4096
    assert message["visible_text"].startswith("Cảnh giác <lừa đảo>\n\nCảnh báo lừa đảo: không chuyển tiền & không")
    assert message["visible_text"].endswith("bí mật <3")
    assert message["visible_length"] == len(message["visible_text"])
    # The broadcaster's own rendering gives the same request.
    assert broadcast_render_text(created["title"], body) == message["text"] == render_text(created["title"], body)
    user = SandboxUser(id=700_000_001, first_name="Lan")
    client = SandboxClient(sandbox.base_url, app_context.settings.bot_token)
    try:
        await client.send_text(user, "/start")
        await app_context.bot.send_message(user.id, message["text"], parse_mode=message["parse_mode"])
        sent = (await client.messages(user.id))[-1]
        assert sent["text"] == message["visible_text"]
        kinds = [e["type"] for e in sent["entities"]]
        assert kinds == ["bold", "bold", "italic", "text_link", "blockquote", "spoiler"]
        files = {"file": ("poster.png", image("PNG"), "image/png")}
        put = await api.put(f"{API}/{created['id']}/photo", files=files, headers=staff["hn.sup"].headers)
        assert put.status_code == 200, put.text
        with_photo = await preview(api, staff["hn.officer"], created["id"])
        [photo] = with_photo["messages"]
        assert photo["method"] == "sendPhoto" and photo["caption"] == message["text"] and photo["text"] is None
        assert photo["limit"] == 1024 and with_photo["has_photo"] is True
        stored = (await api.get(f"{API}/{created['id']}/photo", headers=staff["hn.officer"].headers)).content
        await app_context.bot.send_photo(
            user.id, BufferedInputFile(stored, "poster.png"), caption=photo["caption"], parse_mode=photo["parse_mode"]
        )
        sent = (await client.messages(user.id))[-1]
        assert sent["caption"] == photo["visible_text"]
    finally:
        await client.aclose()


def test_a_stored_text_too_long_for_a_caption_previews_as_photo_then_text() -> None:
    """Rows made outside the API may hold a long text with a photo: the sender sends the photo, then the text."""
    messages = campaign_messages("Tiêu đề", "x" * 2000, has_photo=True)
    assert [(m.method, m.text is None) for m in messages] == [("sendPhoto", True), ("sendMessage", False)]
    assert messages[1].text == render_text("Tiêu đề", "x" * 2000)
    assert [m.method for m in campaign_messages("T", "", has_photo=True)] == ["sendPhoto"]


async def test_photo_upload_strips_metadata_and_checks_type_size_and_caption(
    api: httpx.AsyncClient, app_context: AppContext, staff: dict[str, ApiOfficer]
) -> None:
    """JPEG/PNG only, at most 5 MB, EXIF/GPS/comments removed, and the text must then fit a caption."""
    sup = staff["hn.sup"].headers
    created = await create(api, staff["hn.sup"])
    url = f"{API}/{created['id']}/photo"
    original = image("JPEG")
    assert b"CameraMaker" in original and b"secret comment" in original
    response = await api.put(url, files={"file": ("a.jpg", original, "image/jpeg")}, headers=sup)
    assert response.status_code == 200 and response.json()["has_photo"] is True
    async with app_context.sessions() as session:
        stored = await session.scalar(select(Campaign.photo).where(Campaign.id == created["id"]))
    assert stored is not None and stored.startswith(b"\xff\xd8")
    assert b"CameraMaker" not in stored and b"secret comment" not in stored and b"Exif" not in stored
    Image.open(io.BytesIO(stored)).load()
    gif = io.BytesIO()
    Image.new("RGB", (8, 8)).save(gif, "GIF")
    for name, data in (("a.gif", gif.getvalue()), ("a.jpg", b"\xff\xd8garbage"), ("a.txt", b"hello")):
        bad = await api.put(url, files={"file": (name, data, "image/jpeg")}, headers=sup)
        assert bad.status_code == 422, (name, bad.text)
    thin = await api.put(url, files={"file": ("t.png", image("PNG", (2000, 40)), "image/png")}, headers=sup)
    assert thin.status_code == 422 and "ratio" in thin.text
    huge = await api.put(
        url, files={"file": ("h.jpg", b"\xff\xd8" + b"0" * (5 * 1024 * 1024), "image/jpeg")}, headers=sup
    )
    assert huge.status_code == 413
    long_text = await create(api, staff["hn.sup"], body_html="a" * 1500)
    refused = await api.put(
        f"{API}/{long_text['id']}/photo", files={"file": ("a.png", image("PNG"), "image/png")}, headers=sup
    )
    assert refused.status_code == 422 and "1024" in refused.text
    too_long = await api.patch(f"{API}/{created['id']}", json={"body_html": "b" * 1025}, headers=sup)
    assert too_long.status_code == 422 and "1024" in too_long.text
    removed = await api.delete(url, headers=sup)
    assert removed.status_code == 200 and removed.json()["has_photo"] is False
    assert (await api.get(url, headers=sup)).status_code == 404
    assert (await api.patch(f"{API}/{created['id']}", json={"body_html": "b" * 1025}, headers=sup)).status_code == 200


async def _run(context: AppContext, campaign_id: int, run_key: str, statuses: list[tuple[DeliveryStatus, int]]) -> None:
    """A run with deliveries in the given statuses; `sent` ones get sent_at `seconds` ago (the int)."""
    now = utcnow()
    subscribers = [await make_subscriber(context, province=HA_NOI) for _ in statuses]
    async with context.sessions() as session:
        run = CampaignRun(campaign_id=campaign_id, run_key=run_key, state=CampaignState.SENDING, started_at=now)
        session.add(run)
        await session.flush()
        for subscriber, (status, ago) in zip(subscribers, statuses, strict=True):
            sent_at = now - timedelta(seconds=ago) if status == DeliveryStatus.SENT else None
            session.add(Delivery(run_id=run.id, subscriber_id=subscriber, status=status, sent_at=sent_at))
        await session.commit()


async def test_progress_counts_rate_and_time_left(
    api: httpx.AsyncClient, app_context: AppContext, staff: dict[str, ApiOfficer]
) -> None:
    """By status, sends over the last minute as a rate, and the time left at that rate."""
    created = await create(api, staff["hn.sup"])
    cid = created["id"]
    url = f"{API}/{cid}/progress"
    empty = (await api.get(url, headers=staff["hn.officer"].headers)).json()
    assert empty["run"] is None and empty["run_keys"] == []
    await _run(app_context, cid, "2025", [(DeliveryStatus.SENT, 5)] * 2)
    statuses = (
        [(DeliveryStatus.SENT, 10)] * 30
        + [(DeliveryStatus.SENT, 600)] * 5  # sent long ago: not part of the rate
        + [(DeliveryStatus.PENDING, 0)] * 60
        + [(DeliveryStatus.SENDING, 0)] * 3
        + [(DeliveryStatus.GONE, 0)] * 2
        + [(DeliveryStatus.FAILED, 0)] * 1
    )
    await _run(app_context, cid, "2026", statuses)
    body = (await api.get(url, headers=staff["hn.officer"].headers)).json()
    assert body["run_keys"] == ["2026", "2025"]
    run = body["run"]
    assert run["run_key"] == "2026" and run["total"] == 101
    expected = {"pending": 60, "sending": 3, "sent": 35, "gone": 2, "failed": 1}
    assert run["by_status"] == {status.value: expected.get(status.value, 0) for status in DeliveryStatus}
    assert run["sent_last_minute"] == 30 and run["rate_per_second"] == 0.5
    assert run["eta_seconds"] == 126  # 63 left at 0.5/s
    assert body["recipients_now"] == 103  # every subscriber made above lives in Hà Nội
    old = (await api.get(url, params={"run_key": "2025"}, headers=staff["hn.officer"].headers)).json()["run"]
    assert old["by_status"]["sent"] == 2 and old["eta_seconds"] == 0
    assert (await api.get(url, params={"run_key": "1999"}, headers=staff["hn.officer"].headers)).status_code == 404
    stalled = await create(api, staff["hn.sup"])
    await _run(app_context, stalled["id"], "once", [(DeliveryStatus.PENDING, 0)] * 3)
    waiting = (await api.get(f"{API}/{stalled['id']}/progress", headers=staff["hn.sup"].headers)).json()["run"]
    assert waiting["rate_per_second"] == 0 and waiting["eta_seconds"] is None
    assert (await api.get(url, headers=staff["hcm.sup"].headers)).status_code == 404


async def test_scheduled_preview_is_ready(api: httpx.AsyncClient, staff: dict[str, ApiOfficer]) -> None:
    """A complete campaign previews as ready, without a problem."""
    created = await create(api, staff["hn.sup"], send_at=future())
    assert (await preview(api, staff["hn.sup"], created["id"]))["ready"] is True
