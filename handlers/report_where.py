"""Tip form step 3: province (paged or typed), commune search, place detail, optional map pin."""

from __future__ import annotations

import html
from contextlib import suppress

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message, ReplyKeyboardRemove
from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import _
from handlers import report_keyboards as kb
from handlers.report_steps import PLAIN_TEXT, advance, drop_keyboard, update
from handlers.report_summary import number
from handlers.states import ReportForm
from storage.areas import fold, get_province, get_ward, list_provinces, search_wards
from storage.domain import PLACE_DETAIL_MAX_CHARS

router = Router(name="report_where")


@router.callback_query(StateFilter(ReportForm.province), F.data.startswith("rp:provpage:"))
async def turn_page(callback: CallbackQuery, state: FSMContext, session: AsyncSession) -> None:
    """Show another page of provinces in the same message."""
    await callback.answer()
    page = int((callback.data or "0").rsplit(":", 1)[1] or 0)
    await update(state, prov_page=page)
    if isinstance(callback.message, Message):
        provinces = await list_provinces(session)
        with suppress(TelegramBadRequest):  # pressing the page counter changes nothing
            await callback.message.edit_text(
                _("3️⃣ Where did it happen? Choose the province or city, or type its name."),
                reply_markup=kb.province_keyboard(provinces, page),
            )


@router.callback_query(StateFilter(ReportForm.province), F.data.startswith("rp:prov:"))
async def choose_province(callback: CallbackQuery, state: FSMContext, session: AsyncSession, bot: Bot) -> None:
    """Keep the province; a new province forgets the old commune."""
    await callback.answer()
    code = int((callback.data or "").rsplit(":", 1)[1])
    province = await get_province(session, code=code)
    if province is None:
        return
    draft = await state.get_data()
    if draft.get("province") != code:
        await update(state, province=code, ward=None)
    await drop_keyboard(callback)
    await bot.send_message(callback.from_user.id, "📍 " + html.escape(province.name))
    await advance("province", bot, callback.from_user.id, state, session)


@router.message(StateFilter(ReportForm.province), PLAIN_TEXT)
async def type_province(message: Message, session: AsyncSession) -> None:
    """A typed province name: offer the matches as buttons."""
    query = fold(message.text or "")
    provinces = await list_provinces(session)
    found = [p for p in provinces if query and query in fold(p.name)][:12]
    if not found:
        text = _("No province or city matches “{query}”. Please choose from the list.").format(
            query=html.escape(message.text or "")
        )
        await message.answer(text, reply_markup=kb.province_keyboard(provinces, 0))
        return
    await message.answer(_("Choose the province or city:"), reply_markup=kb.province_matches_keyboard(found))


@router.message(StateFilter(ReportForm.ward), PLAIN_TEXT)
async def search_ward(message: Message, state: FSMContext, session: AsyncSession) -> None:
    """Search the province's communes by a part of the name; keep the province if nothing matches."""
    draft = await state.get_data()
    province_code = int(draft["province"])
    query = (message.text or "").strip()
    wards = await search_wards(session, province_code=province_code, query=query, limit=8)
    if wards:
        await message.answer(_("Choose the commune or ward:"), reply_markup=kb.ward_results_keyboard(wards))
        return
    province = await get_province(session, code=province_code)
    text = _(
        "No commune or ward in {province} matches “{query}”. Try fewer letters, for example one word of the name."
    ).format(province=html.escape(province.name if province else ""), query=html.escape(query[:60]))
    await message.answer(text, reply_markup=kb.ward_prompt_keyboard())


@router.callback_query(StateFilter(ReportForm.ward), F.data.startswith("rp:ward:"))
async def choose_ward(callback: CallbackQuery, state: FSMContext, session: AsyncSession, bot: Bot) -> None:
    """A commune from the results, "unknown", or search again."""
    await callback.answer()
    value = (callback.data or "").removeprefix("rp:ward:")
    chat_id = callback.from_user.id
    if value == "again":
        await drop_keyboard(callback)
        await bot.send_message(chat_id, _("Type part of the commune or ward name again."), reply_markup=None)
        return
    if value == "unknown":
        await update(state, ward=None)
        await drop_keyboard(callback)
        await bot.send_message(chat_id, _("Commune/ward: unknown. That is fine."))
        await advance("ward", bot, chat_id, state, session)
        return
    draft = await state.get_data()
    found = await get_ward(session, code=int(value)) if value.isdigit() else None
    if found is None or found[1] != draft.get("province"):
        return
    await update(state, ward=found[0].code)
    await drop_keyboard(callback)
    await bot.send_message(chat_id, "📍 " + html.escape(found[0].name))
    await advance("ward", bot, chat_id, state, session)


@router.message(StateFilter(ReportForm.place_detail), PLAIN_TEXT)
async def place_detail(message: Message, state: FSMContext, session: AsyncSession, bot: Bot) -> None:
    """Free text about the place, within the limit."""
    text = (message.text or "").strip()
    if len(text) > PLACE_DETAIL_MAX_CHARS:
        refuse = _(
            "That is {count} characters; the limit is {limit}. Please send a shorter text. Your other answers are kept."
        ).format(count=number(len(text)), limit=number(PLACE_DETAIL_MAX_CHARS))
        await message.answer(refuse, reply_markup=kb.skip_keyboard("rp:place:skip"))
        return
    await update(state, place_detail=text or None)
    await advance("place_detail", bot, message.chat.id, state, session)


@router.callback_query(StateFilter(ReportForm.place_detail), F.data == "rp:place:skip")
async def skip_place_detail(callback: CallbackQuery, state: FSMContext, session: AsyncSession, bot: Bot) -> None:
    """No place detail."""
    await callback.answer()
    await update(state, place_detail=None)
    await drop_keyboard(callback)
    await advance("place_detail", bot, callback.from_user.id, state, session)


@router.message(StateFilter(ReportForm.location), F.location)
async def got_location(message: Message, state: FSMContext, session: AsyncSession, bot: Bot) -> None:
    """Keep the pin and remove the reply keyboard."""
    assert message.location is not None
    await update(state, lat=message.location.latitude, lon=message.location.longitude)
    await message.answer(_("📍 Map pin saved."), reply_markup=ReplyKeyboardRemove())
    await advance("location", bot, message.chat.id, state, session)


@router.message(StateFilter(ReportForm.location), F.text.in_(kb.in_all_locales("⏭ Skip")))
async def skip_location(message: Message, state: FSMContext, session: AsyncSession, bot: Bot) -> None:
    """No pin (and forget an earlier one when editing)."""
    await update(state, lat=None, lon=None)
    await message.answer(_("No map pin."), reply_markup=ReplyKeyboardRemove())
    await advance("location", bot, message.chat.id, state, session)
