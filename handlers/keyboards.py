"""Keyboard builders shared by the flows."""

from __future__ import annotations

from collections.abc import Sequence

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup, KeyboardButton, ReplyKeyboardMarkup

from bot.i18n import _


def inline(rows: Sequence[Sequence[tuple[str, str]]]) -> InlineKeyboardMarkup:
    """An inline keyboard from rows of (label, callback_data)."""
    return InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text=label, callback_data=data) for label, data in row] for row in rows]
    )


def main_menu() -> ReplyKeyboardMarkup:
    """The persistent main menu: big buttons for every action."""
    return ReplyKeyboardMarkup(
        keyboard=[
            [KeyboardButton(text=menu_label("report"))],
            [KeyboardButton(text=menu_label("status")), KeyboardButton(text=menu_label("subscribe"))],
            [KeyboardButton(text=menu_label("pledge")), KeyboardButton(text=menu_label("feedback"))],
            [KeyboardButton(text=menu_label("info")), KeyboardButton(text=menu_label("privacy"))],
            [KeyboardButton(text=menu_label("language")), KeyboardButton(text=menu_label("help"))],
        ],
        resize_keyboard=True,
        is_persistent=True,
    )


def menu_label(action: str) -> str:
    """The visible text of a main-menu button in the current language."""
    labels = {
        "report": _("📝 Send a tip"),
        "status": _("🔎 Follow up a tip"),
        "privacy": _("🔒 Privacy"),
        "language": _("🌐 Language"),
        "help": _("❓ Help"),
        "subscribe": _("📢 Campaigns"),
        "pledge": _("✍️ Pledge"),
        "feedback": _("💬 Feedback"),
        "info": _("ℹ️ Info"),
    }
    return labels[action]


def all_menu_labels(action: str) -> set[str]:
    """The button text in every language, so a button pressed before a language switch still works."""
    from bot.i18n import SUPPORTED_LOCALES, use_locale

    found = set()
    for locale in SUPPORTED_LOCALES:
        with use_locale(locale):
            found.add(menu_label(action))
    return found
