"""/info: emergency numbers, the campaigns running now in the citizen's area, and prevention advice."""

from __future__ import annotations

import html
import logging
import re

from aiogram import F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import N_, _
from handlers.keyboards import all_menu_labels, inline
from handlers.outreach_common import area_text
from handlers.texts import emergency_text
from storage.domain import SubscriberState, Topic
from storage.models import Campaign
from storage.reporters import ReporterRef
from storage.subscribers import get_subscription, running_campaigns

logger = logging.getLogger(__name__)
router = Router(name="info")
MESSAGE_LIMIT = 4096

ADVICE_LABELS: dict[Topic, str] = {
    Topic.SCAMS: N_("🛡 Scams"),
    Topic.DRUGS: N_("🛡 Drugs"),
    Topic.TRAFFICKING: N_("🛡 Human trafficking"),
    Topic.FIRE: N_("🛡 Fire"),
    Topic.TRAFFIC: N_("🛡 Traffic"),
}
ADVICE: dict[Topic, tuple[str, ...]] = {
    Topic.SCAMS: (
        N_("<b>Scams and online fraud</b>"),
        N_(
            "• Never give anyone an OTP code, a password or your bank card number, "
            "even if they say they are the bank or the police."
        ),
        N_(
            "• The police never ask you by phone to transfer money or to “hold” money for them, "
            "and never work with you by Zalo or Facebook calls."
        ),
        N_("• Do not open strange links and do not install apps because a stranger tells you to."),
        N_("• Be careful with “easy work, high pay”, online “tasks” or prizes that ask you to pay first."),
        N_("• In doubt? Hang up, call your relative yourself or call 113, or go to the nearest police station."),
        N_("• Already sent money? Call your bank at once to block it, then tell the police."),
    ),
    Topic.DRUGS: (
        N_("<b>Drugs</b>"),
        N_(
            "• Never try drugs, not even once. Drugs can be hidden in “party water”, sweets "
            "or e-cigarettes of unknown origin."
        ),
        N_("• Do not take drinks, cigarettes or sweets from strangers. Keep your drink in sight."),
        N_("• Never carry or keep a package for someone if you do not know what is inside."),
        N_(
            "• Watch your children: new friends, often asking for money, coming home late, sudden mood changes. "
            "Talk with them calmly."
        ),
        N_("• Know a place where drugs are sold or used? Report it with /report. You can stay anonymous."),
    ),
    Topic.TRAFFICKING: (
        N_("<b>Human trafficking</b>"),
        N_(
            "• Be careful with offers of easy work and high pay, especially abroad, across the border, "
            "or jobs offered only on social media."
        ),
        N_("• Never give your ID card or passport to a broker or an employer to keep."),
        N_(
            "• Before working far from home, check the workplace, give your family its address and phone number, "
            "and call home often."
        ),
        N_("• Be careful with online “lovers” or friends who ask you to meet far away or to go abroad."),
        N_("• Suspect trafficking? Call 113 at once, or report it with /report."),
    ),
    Topic.FIRE: (
        N_("<b>Fire prevention</b>"),
        N_("• Turn off the stove and the gas when you leave the kitchen. Check gas bottles and hoses for leaks."),
        N_(
            "• Do not plug too many devices into one socket. Unplug them when you go out. "
            "Do not charge electric bikes overnight unwatched or in the way out."
        ),
        N_("• Keep a fire extinguisher and learn to use it. A house with window bars needs a second way out."),
        N_("• Do not store petrol or many things that burn easily in the house."),
        N_(
            "• If there is a fire: call 114, get out quickly, cover your nose and mouth with a wet cloth and stay low. "
            "Do not use the lift. Do not go back for belongings."
        ),
    ),
    Topic.TRAFFIC: (
        N_("<b>Traffic safety</b>"),
        N_("• On a motorbike always wear a helmet with the strap fastened, children too."),
        N_("• After drinking alcohol or beer, do not drive."),
        N_("• Do not use your phone while driving. Keep to the speed limit, your lane and the traffic lights."),
        N_("• Do not let small children sit in the front seat of a car."),
        N_(
            "• At an accident: call 115 (ambulance) and 113 (police). Leave the scene as it is "
            "and help the injured safely."
        ),
    ),
}


def advice_keyboard() -> InlineKeyboardMarkup:
    """One button per advice topic, two per row."""
    buttons = [(_(label), f"in:adv:{topic.value}") for topic, label in ADVICE_LABELS.items()]
    return inline([buttons[i : i + 2] for i in range(0, len(buttons), 2)])


def advice_text(topic: Topic) -> str:
    """A few short practical lines about one topic."""
    return "\n".join(_(line) for line in ADVICE[topic])


def campaign_text(campaign: Campaign) -> str:
    """Title and body as subscribers get them; an over-long body is shown as plain text, shortened."""
    title = f"📢 <b>{html.escape(campaign.title)}</b>"
    text = f"{title}\n{campaign.body_html}" if campaign.body_html else title
    if len(text) <= MESSAGE_LIMIT:
        return text
    plain = html.escape(html.unescape(re.sub(r"<[^>]+>", "", campaign.body_html)))
    room = MESSAGE_LIMIT - len(title) - 2
    return f"{title}\n{plain[: room - 1]}…"


@router.message(Command("info"))
@router.message(F.text.in_(all_menu_labels("info")))
async def show_info(message: Message, session: AsyncSession, reporter: ReporterRef) -> None:
    """Emergency numbers, then the running campaigns, then the advice buttons (does not end a form)."""
    found = await get_subscription(session, reporter_id=reporter.id)
    subscriber = found if found is not None and found.state == SubscriberState.ACTIVE else None
    campaigns = await running_campaigns(session, subscriber=subscriber)
    lines = [_("ℹ️ <b>Information</b>"), emergency_text(), ""]
    if subscriber is not None:
        area = await area_text(session, subscriber.province_code, subscriber.ward_code)
        lines.append(_("Campaigns now for your area ({area}):").format(area=area))
    else:
        lines.append(_("Campaigns now across the country:"))
    if not campaigns:
        lines.append(_("No campaign is running at the moment."))
    if subscriber is None:
        lines.append(_("To get notices for your area, send /subscribe."))
    await message.answer("\n".join(lines))
    for campaign in campaigns:
        try:
            await message.answer(campaign_text(campaign))
        except TelegramBadRequest:
            # Officers' HTML is validated when saved; if Telegram still refuses it, show it as plain text.
            logger.warning("campaign %d body refused by Telegram in /info", campaign.id)
            await message.answer(html.escape(html.unescape(re.sub(r"<[^>]+>", "", campaign_text(campaign)))))
    await message.answer(_("🛡 <b>Prevention advice</b>: choose a topic."), reply_markup=advice_keyboard())


@router.callback_query(F.data.startswith("in:adv:"))
async def show_advice(callback: CallbackQuery) -> None:
    """Advice never expires, so these buttons work on old messages too."""
    value = (callback.data or "").removeprefix("in:adv:")
    if value not in Topic._value2member_map_ or Topic(value) not in ADVICE:
        await callback.answer(_("This button has expired."))
        return
    await callback.answer()
    if isinstance(callback.message, Message):
        await callback.message.answer(advice_text(Topic(value)))
