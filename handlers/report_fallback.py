"""Bad input inside the tip form: re-ask the current question with a one-line hint, losing nothing."""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.commands import COMMANDS
from bot.i18n import _
from handlers.keyboards import all_menu_labels
from handlers.report_steps import STATES, STEP_OF_STATE, ask

router = Router(name="report_fallback")
# Other flows' commands and menu buttons must reach their routers, so they are not caught here.
_KNOWN_COMMANDS = tuple(f"/{name}" for name, _text in COMMANDS)
_MENU = set().union(*(all_menu_labels(a) for a in ("report", "status", "privacy", "language", "help")))
_FORM_STATES = [state for name, state in STATES.items()]


def _is_known_command(text: str | None) -> bool:
    if not text or not text.startswith("/"):
        return False
    command = text.split()[0].split("@")[0].lower()
    return command in _KNOWN_COMMANDS


def hint_for(message: Message) -> str:
    """One line saying what was wrong with this message."""
    if message.sticker:
        return _("Stickers cannot be used here.")
    if message.text and message.text.startswith("/"):
        return _("Unknown command. To stop the form, send /cancel.")
    if message.text:
        return _("Please use the buttons below.")
    return _("This kind of message cannot be used here. Please answer the question below.")


@router.message(StateFilter(*_FORM_STATES), ~F.func(lambda m: _is_known_command(m.text)), ~F.text.in_(_MENU))
async def bad_input(message: Message, state: FSMContext, session: AsyncSession, bot: Bot, raw_state: str) -> None:
    """Anything a step cannot use: say why and show the step's question again."""
    step = STEP_OF_STATE.get(raw_state)
    if step is None:
        return
    await ask(step, bot, message.chat.id, state, session, hint=hint_for(message))
