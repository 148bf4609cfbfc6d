"""What subscribers receive: bold title + HTML body, a photo with caption, photo then text when too long."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from bot.broadcast import BroadcastConfig, Broadcaster, render_text, visible_length
from bot.context import AppContext
from bot.scheduler import CampaignScheduler
from sandbox.jpeg import solid_jpeg
from sandbox.runner import RunningSandbox
from storage.domain import DeliveryStatus
from storage.models import Campaign
from tests.bot.broadcast_fixtures import (
    chat_ids,
    delivery_counts,
    make_campaign,
    register_chats,
    seed_subscribers,
)

CONFIG = BroadcastConfig(rate=1000, concurrency=4, quiet_start=0, quiet_end=0)


def test_title_is_bold_and_escaped_and_the_body_kept() -> None:
    text = render_text("An toàn <PCCC> & bạn", "Gọi <b>114</b> khi có cháy.")
    assert text == "<b>An toàn &lt;PCCC&gt; &amp; bạn</b>\n\nGọi <b>114</b> khi có cháy."
    assert render_text("Chỉ tiêu đề", "  ") == "<b>Chỉ tiêu đề</b>"


def test_visible_length_counts_text_not_tags() -> None:
    assert visible_length("<b>ab</b> &amp; <a href='x'>c</a>") == len("ab & c")
    assert visible_length("😀") == 2  # Telegram counts UTF-16 code units


async def _send(context: AppContext, **fields: Any) -> tuple[int, Broadcaster]:
    campaign_id = await make_campaign(context.sessions, **fields)
    sender = Broadcaster(context, config=CONFIG)
    await CampaignScheduler(context, sender).sync()
    await sender.run_until_idle(limit_seconds=20)
    await sender.close()
    return campaign_id, sender


@pytest.fixture
def chats(app_context: AppContext, sandbox: RunningSandbox) -> list[int]:
    """Three chats the sandbox knows."""
    ids = chat_ids(3)
    register_chats(sandbox, app_context.settings.bot_token, ids)
    return ids


async def test_text_campaign_arrives_as_one_html_message(
    app_context: AppContext, sandbox: RunningSandbox, chats: list[int]
) -> None:
    await seed_subscribers(app_context.sessions, app_context.keys, chats)
    await _send(app_context, title="Ngày hội", body_html="Tham gia <b>ngày hội</b> toàn dân.")
    message = next(iter(sandbox.state.world(app_context.settings.bot_token).chats[chats[0]].messages.values()))
    assert message.data["text"] == "Ngày hội\n\nTham gia ngày hội toàn dân."
    assert [e["type"] for e in message.data["entities"]] == ["bold", "bold"]


async def test_photo_with_caption_is_uploaded_once_then_reused(
    app_context: AppContext, sandbox: RunningSandbox, chats: list[int]
) -> None:
    await seed_subscribers(app_context.sessions, app_context.keys, chats)
    campaign_id, _ = await _send(app_context, title="Phòng cháy", body_html="Kiểm tra bếp.", photo=solid_jpeg(64, 48))
    world = sandbox.state.world(app_context.settings.bot_token)
    photos = [r for r in world.request_log if r.method == "sendPhoto"]
    assert [r.status for r in photos] == [200, 200, 200]
    uploads = [r for r in photos if str(r.params["photo"]).startswith("attach://")]
    assert len(uploads) == 1  # one upload, then the file_id Telegram gave back
    assert not [r for r in world.request_log if r.method == "sendMessage"]
    async with app_context.sessions() as session:
        file_id = await session.scalar(select(Campaign.photo_file_id).where(Campaign.id == campaign_id))
    assert file_id and [r.params["photo"] for r in photos if r not in uploads] == [file_id, file_id]
    assert await delivery_counts(app_context.sessions, campaign_id) == {DeliveryStatus.SENT: 3}


async def test_a_caption_over_1024_characters_becomes_photo_then_text(
    app_context: AppContext, sandbox: RunningSandbox, chats: list[int]
) -> None:
    await seed_subscribers(app_context.sessions, app_context.keys, chats[:1])
    body = "Phòng, chống ma túy. " * 60
    await _send(app_context, title="Tháng hành động", body_html=body, photo=solid_jpeg(64, 48))
    world = sandbox.state.world(app_context.settings.bot_token)
    sent = [(r.method, r.status) for r in world.request_log if r.method in ("sendPhoto", "sendMessage")]
    assert sent == [("sendPhoto", 200), ("sendMessage", 200)]
    photo = next(r for r in world.request_log if r.method == "sendPhoto")
    assert not photo.params.get("caption")
