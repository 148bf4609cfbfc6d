"""/info: emergency numbers, the campaigns running now in the citizen's area, and prevention advice."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from storage.domain import CampaignState, ScheduleKind, Topic
from storage.models import Campaign, utcnow
from tests.conftest import RunningBot
from tests.handlers.test_report_support import settings  # noqa: F401 - relaxed flood limit
from tests.handlers.test_subscribe_support import QUIET, area_codes, choose_province, tap, texts

LOCAL = ZoneInfo("Asia/Ho_Chi_Minh")


def yearly(title: str, *, state: CampaignState = CampaignState.SCHEDULED, **target: object) -> Campaign:
    """A yearly campaign whose date range runs from yesterday to tomorrow (local time)."""
    today = datetime.now(LOCAL).date()
    start, end = today - timedelta(days=1), today + timedelta(days=1)
    return Campaign(
        title=title,
        body_html=f"<b>{title}</b> nội dung",
        topic=Topic.DRUGS,
        schedule_kind=ScheduleKind.YEARLY,
        yearly_month=start.month,
        yearly_day=start.day,
        yearly_end_month=end.month,
        yearly_end_day=end.day,
        state=state,
        **target,
    )


def once(title: str, days_ago: int, **target: object) -> Campaign:
    """A once-campaign sent some days ago."""
    return Campaign(
        title=title,
        body_html="Thông báo một lần",
        schedule_kind=ScheduleKind.ONCE,
        send_at=utcnow() - timedelta(days=days_ago),
        state=CampaignState.DONE,
        **target,
    )


async def add(bot: RunningBot, *campaigns: Campaign) -> None:
    async with bot.sessions() as session:
        session.add_all(campaigns)
        await session.commit()


async def test_info_shows_running_nationwide_campaigns_and_advice(bot: RunningBot) -> None:
    hanoi, _ward = await area_codes(bot)
    await add(
        bot,
        yearly("Tháng cao điểm phòng chống ma túy"),
        yearly("Bản nháp chưa bật", state=CampaignState.DRAFT),
        yearly("Đã hủy", state=CampaignState.CANCELLED),
        yearly("Chỉ cho Hà Nội", target_nationwide=False, target_province_codes=[hanoi]),
        once("Cảnh báo lừa đảo mới", 2),
        once("Tin cũ", 10),
        Campaign(
            title="Thẻ hỏng",
            body_html="<b>Không đóng thẻ",
            schedule_kind=ScheduleKind.ONCE,
            send_at=utcnow() - timedelta(hours=1),
            state=CampaignState.SENDING,
        ),
    )
    c = bot.citizen()
    shown = await c.send("/info", quiet=QUIET)
    all_text = texts(shown)
    for number in ("113", "114", "115"):
        assert number in all_text
    assert "Tháng cao điểm phòng chống ma túy" in all_text and "nội dung" in all_text
    assert "Cảnh báo lừa đảo mới" in all_text
    assert "Thẻ hỏng\nKhông đóng thẻ" in all_text  # markup Telegram refuses is shown as plain text
    for hidden in ("Bản nháp chưa bật", "Đã hủy", "Chỉ cho Hà Nội", "Tin cũ"):
        assert hidden not in all_text
    assert "/subscribe" in all_text
    assert shown[-1].button("Lừa đảo") == "in:adv:scams"
    advice = await tap(c, "in:adv:scams")
    assert "OTP" in advice[-1].text and "113" in advice[-1].text and "chuyển tiền" in advice[-1].text
    for topic, words in (("drugs", "ma túy"), ("trafficking", "hộ chiếu"), ("fire", "114"), ("traffic", "mũ bảo hiểm")):
        advice = await tap(c, f"in:adv:{topic}")
        assert words in advice[-1].text


async def test_info_for_a_subscriber_shows_their_area_campaigns(bot: RunningBot) -> None:
    hanoi, _hoan_kiem = await area_codes(bot)
    _other, ba_dinh = await area_codes(bot, ward="ba dinh")
    await add(
        bot,
        yearly("Chỉ cho Hà Nội", target_nationwide=False, target_province_codes=[hanoi]),
        yearly("Chỉ cho phường Ba Đình", target_nationwide=False, target_ward_codes=[ba_dinh]),
        yearly("Cho tỉnh khác", target_nationwide=False, target_province_codes=[hanoi + 1000]),
    )
    c = bot.citizen()
    await c.send("/subscribe", quiet=QUIET)
    await choose_province(c)
    await tap(c, "sb:ward:all")
    await tap(c, "sb:save")
    shown = await c.send("ℹ️ Thông tin", quiet=QUIET)
    all_text = texts(shown)
    assert "Thành phố Hà Nội" in all_text and "Chỉ cho Hà Nội" in all_text
    assert "Chỉ cho phường Ba Đình" in all_text  # a whole-province subscriber hears about its communes
    assert "Cho tỉnh khác" not in all_text and "/subscribe" not in all_text.split("\n")[-1]


async def test_info_in_english_and_advice_buttons_never_expire(bot: RunningBot) -> None:
    c = bot.citizen(language_code="en")
    shown = await c.send("ℹ️ Info", quiet=QUIET)
    assert "Emergency" in texts(shown) and "No campaign is running" in texts(shown)
    advice = await tap(c, "in:adv:scams")
    assert "OTP code" in advice[-1].text and "transfer money" in advice[-1].text
    await c.send("/pledge", quiet=QUIET)
    old = await c.press_data(shown[-1].message_id, "in:adv:fire", force=True, quiet=QUIET)
    assert "114" in old[-1].text and "wet cloth" in old[-1].text
    # /info does not end a form in progress.
    await c.send("/info", quiet=QUIET)
    chosen = await tap(c, "pl:kind:household")
    assert "province" in chosen[-1].text
