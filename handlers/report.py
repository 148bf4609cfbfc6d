"""/report: the citizen tip form. Entry, category and danger here; later steps in report_*.py."""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message, ReplyKeyboardRemove
from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import _
from handlers import report_content, report_fallback, report_finish, report_where
from handlers.keyboards import all_menu_labels
from handlers.report_keyboards import category_keyboard, group_keyboard
from handlers.report_steps import advance, ask, drop_keyboard, update
from handlers.states import ReportForm
from handlers.texts import emergency_text
from storage.domain import CATEGORY_GROUPS, Category, CategoryGroup

router = Router(name="report")


@router.message(Command("report"))
@router.message(F.text.in_(all_menu_labels("report")))
async def start_report(message: Message, state: FSMContext, session: AsyncSession, bot: Bot) -> None:
    """Start a fresh draft; remember where the conversation starts so it can be deleted later."""
    await state.clear()
    await state.set_data({"trail_start": message.message_id})
    intro = _(
        "📝 <b>Send a tip to the police</b>\n"
        "A few short questions. Press /cancel to stop at any time. "
        "Nothing is sent until you press <b>Send</b> at the end."
    )
    await message.answer(intro, reply_markup=ReplyKeyboardRemove())
    await ask("category", bot, message.chat.id, state, session)


@router.callback_query(StateFilter(ReportForm.category), F.data.startswith("rp:grp:"))
async def choose_group(callback: CallbackQuery, state: FSMContext) -> None:
    """Show the group's categories, or the groups again after Back (same message)."""
    value = (callback.data or "").removeprefix("rp:grp:")
    await callback.answer()
    if value == "back":
        await update(state, group=None)
        text, markup = _("1️⃣ What is it about? Choose a group."), group_keyboard()
    elif value in CategoryGroup._value2member_map_:
        await update(state, group=value)
        text, markup = _("1️⃣ What is it about? Choose one."), category_keyboard(CategoryGroup(value))
    else:
        return
    if callback.message is not None and isinstance(callback.message, Message):
        await callback.message.edit_text(text, reply_markup=markup)


@router.callback_query(StateFilter(ReportForm.category), F.data.startswith("rp:cat:"))
async def choose_category(callback: CallbackQuery, state: FSMContext, session: AsyncSession, bot: Bot) -> None:
    """Keep the category and move on."""
    value = (callback.data or "").removeprefix("rp:cat:")
    await callback.answer()
    if value not in Category._value2member_map_:
        return
    await update(state, category=value, group=CATEGORY_GROUPS[Category(value)].value)
    await drop_keyboard(callback)
    await advance("category", bot, callback.from_user.id, state, session)


@router.callback_query(StateFilter(ReportForm.danger), F.data.startswith("rp:danger:"))
async def answer_danger(callback: CallbackQuery, state: FSMContext, session: AsyncSession, bot: Bot) -> None:
    """Urgent tips show the emergency numbers at once; the form goes on either way."""
    urgent = callback.data == "rp:danger:yes"
    await callback.answer()
    await update(state, urgent=urgent)
    await drop_keyboard(callback)
    if urgent:
        await bot.send_message(callback.from_user.id, emergency_text())
    await advance("danger", bot, callback.from_user.id, state, session)


router.include_routers(report_where.router, report_content.router, report_finish.router, report_fallback.router)
