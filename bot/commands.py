"""The command menu Telegram shows, registered in Vietnamese (default) and English."""

from __future__ import annotations

from aiogram import Bot
from aiogram.types import BotCommand

from bot.i18n import N_, SUPPORTED_LOCALES, translate

COMMANDS: tuple[tuple[str, str], ...] = (
    ("start", N_("Main menu")),
    ("report", N_("Send a tip to the police")),
    ("status", N_("Follow up a tip with its receipt code")),
    ("subscribe", N_("Campaign notices for your area")),
    ("unsubscribe", N_("Stop campaign notices")),
    ("pledge", N_("Sign a safety pledge")),
    ("feedback", N_("Send an opinion to the police")),
    ("info", N_("Emergency numbers, campaigns, advice")),
    ("privacy", N_("How your identity is protected")),
    ("language", N_("Change language")),
    ("help", N_("List of commands")),
    ("cancel", N_("Stop what you are doing")),
)


def command_list(locale: str) -> list[BotCommand]:
    """The commands with descriptions in one language."""
    return [BotCommand(command=name, description=translate(text, locale)) for name, text in COMMANDS]


async def register_commands(bot: Bot) -> None:
    """setMyCommands for the default (Vietnamese) list and each other language."""
    await bot.set_my_commands(command_list("vi"))
    for locale in SUPPORTED_LOCALES:
        await bot.set_my_commands(command_list(locale), language_code=locale)
