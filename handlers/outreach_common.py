"""Helpers shared by /subscribe, /pledge, /feedback and /info: labels, text filters, asking a step."""

from __future__ import annotations

import html

from aiogram import Bot, F
from aiogram.filters import Filter
from aiogram.types import InlineKeyboardMarkup, Message, ReplyKeyboardMarkup, ReplyKeyboardRemove
from sqlalchemy.ext.asyncio import AsyncSession

from bot.commands import COMMANDS
from bot.i18n import N_, _
from handlers.keyboards import all_menu_labels
from handlers.report_fallback import hint_for
from storage.areas import get_province, get_ward
from storage.domain import SignerKind, Topic

Markup = InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove | None

MENU_ACTIONS = ("report", "status", "privacy", "language", "help", "subscribe", "pledge", "feedback", "info")
ALL_MENU_TEXTS: frozenset[str] = frozenset().union(*(all_menu_labels(a) for a in MENU_ACTIONS))
KNOWN_COMMANDS = frozenset(f"/{name}" for name, _text in COMMANDS)

TOPIC_LABELS: dict[Topic, str] = {
    Topic.DRUGS: N_("Drugs"),
    Topic.TRAFFICKING: N_("Human trafficking"),
    Topic.FIRE: N_("Fire prevention"),
    Topic.TRAFFIC: N_("Traffic safety"),
    Topic.SCAMS: N_("Scams, cybercrime"),
    Topic.SECURITY_FESTIVAL: N_("Security festival day"),
}
SIGNER_LABELS: dict[SignerKind, str] = {
    SignerKind.HOUSEHOLD: N_("🏠 Household"),
    SignerKind.AGENCY: N_("🏛 Agency"),
    SignerKind.ENTERPRISE: N_("🏭 Enterprise"),
    SignerKind.SCHOOL: N_("🏫 School"),
}


def is_known_command(text: str | None) -> bool:
    """A command some router handles (/cancel, /report, /subscribe ...)."""
    if not text or not text.startswith("/"):
        return False
    return text.split()[0].split("@")[0].lower() in KNOWN_COMMANDS


# Text typed as an answer: not a command and not a main-menu button.
PLAIN_TEXT = F.text & ~F.text.startswith("/") & ~F.text.in_(ALL_MENU_TEXTS)


class NotForAnotherFlow(Filter):
    """Input the step's fallback may answer: not a known command, not a menu button (those go elsewhere)."""

    async def __call__(self, message: Message) -> bool:
        """True when this flow should answer the message with a hint."""
        return not is_known_command(message.text) and message.text not in ALL_MENU_TEXTS


def bad_input_hint(message: Message) -> str:
    """One line saying why this message cannot be used at this step."""
    return hint_for(message)


async def send_step(bot: Bot, chat_id: int, text: str, markup: Markup, *, hint: str | None = None) -> None:
    """Send a step's question, with a one-line hint first after bad input."""
    await bot.send_message(chat_id, f"{hint}\n\n{text}" if hint else text, reply_markup=markup)


async def area_text(session: AsyncSession, province_code: int | None, ward_code: int | None) -> str:
    """The chosen area in words (HTML-escaped)."""
    if province_code is None:
        return _("the whole country")
    province = await get_province(session, code=province_code)
    province_name = html.escape(province.name if province else "—")
    if ward_code is None:
        return _("{province} (whole province)").format(province=province_name)
    found = await get_ward(session, code=ward_code)
    ward_name = html.escape(found[0].name if found else "—")
    return f"{ward_name}, {province_name}"
