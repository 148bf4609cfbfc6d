"""A province and commune picker shared by /subscribe, /pledge and /feedback.

Callback data are "<prefix>:prov:<code>", "<prefix>:provpage:<n>", "<prefix>:country" and
"<prefix>:ward:<code|all|again>"; every handler is filtered by the flow's state, so old buttons expire.
"""

from __future__ import annotations

import html
from collections.abc import Awaitable, Callable, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import _
from handlers.keyboards import inline
from handlers.outreach_common import PLAIN_TEXT, send_step
from handlers.report_keyboards import PROVINCES_PER_PAGE, page_count
from handlers.report_steps import drop_keyboard
from storage.areas import AreaRef, fold, get_province, get_ward, list_provinces, search_wards

Done = Callable[[Bot, int, FSMContext, AsyncSession], Awaitable[None]]
Draft = dict[str, Any]


def _always(_draft: Draft) -> bool:
    return True


@dataclass
class AreaPicker:
    """One flow's area question: a province (or the whole country), then a commune."""

    prefix: str
    province_state: State
    ward_state: State
    province_question: Callable[[], str]
    done: Done
    allow_country: bool = False
    # Whether "whole province" may be chosen instead of a commune (a household pledge needs its commune).
    whole_province_ok: Callable[[Draft], bool] = field(default=_always)

    # ----- keyboards -----

    def province_keyboard(self, provinces: Sequence[AreaRef], page: int) -> InlineKeyboardMarkup:
        """One page of provinces, two per row, ◀ ▶ to turn pages, and "whole country" when allowed."""
        pages = page_count(len(provinces))
        page = min(max(page, 0), pages - 1)
        chunk = provinces[page * PROVINCES_PER_PAGE : (page + 1) * PROVINCES_PER_PAGE]
        buttons = [(p.name, f"{self.prefix}:prov:{p.code}") for p in chunk]
        rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
        if self.allow_country:
            rows.insert(0, [(_("🇻🇳 Whole country"), f"{self.prefix}:country")])
        nav: list[tuple[str, str]] = []
        if page > 0:
            nav.append(("◀", f"{self.prefix}:provpage:{page - 1}"))
        nav.append((f"{page + 1}/{pages}", f"{self.prefix}:provpage:{page}"))
        if page < pages - 1:
            nav.append(("▶", f"{self.prefix}:provpage:{page + 1}"))
        rows.append(nav)
        return inline(rows)

    def matches_keyboard(self, provinces: Sequence[AreaRef]) -> InlineKeyboardMarkup:
        """Provinces matching a typed name, and a way back to the full list."""
        rows = [[(p.name, f"{self.prefix}:prov:{p.code}")] for p in provinces]
        rows.append([(_("📋 Show all provinces"), f"{self.prefix}:provpage:0")])
        return inline(rows)

    def ward_keyboard(
        self, draft: Draft, wards: Sequence[AreaRef] = (), *, again: bool = False
    ) -> InlineKeyboardMarkup:
        """Search results (if any), "whole province" when allowed, and "search again"."""
        rows = [[(w.name, f"{self.prefix}:ward:{w.code}")] for w in wards]
        if self.whole_province_ok(draft):
            rows.append([(_("🏙 Whole province"), f"{self.prefix}:ward:all")])
        if again:
            rows.append([(_("🔍 Search again"), f"{self.prefix}:ward:again")])
        return inline(rows)

    # ----- questions -----

    async def ask_province(
        self, bot: Bot, chat_id: int, state: FSMContext, session: AsyncSession, *, hint: str | None = None
    ) -> None:
        """Enter the province step and show the list."""
        await state.set_state(self.province_state)
        draft = await state.get_data()
        provinces = await list_provinces(session)
        markup = self.province_keyboard(provinces, int(draft.get("prov_page", 0)))
        await send_step(bot, chat_id, self.province_question(), markup, hint=hint)

    async def ask_ward(
        self, bot: Bot, chat_id: int, state: FSMContext, session: AsyncSession, *, hint: str | None = None
    ) -> None:
        """Enter the commune step: type part of the name."""
        await state.set_state(self.ward_state)
        draft = await state.get_data()
        province = await get_province(session, code=int(draft["province"]))
        text = _(
            "Type part of the name of the commune or ward in {province}, with or without accents. Example: hoan kiem"
        ).format(province=html.escape(province.name if province else "—"))
        markup: InlineKeyboardMarkup | None = None
        if self.whole_province_ok(draft):
            text += "\n" + _("Or press “Whole province”.")
            markup = self.ward_keyboard(draft)
        await send_step(bot, chat_id, text, markup, hint=hint)

    # ----- handlers -----

    def router(self) -> Router:
        """The picker's handlers for this flow."""
        router = Router(name=f"{self.prefix}_area")
        p = self.prefix
        router.callback_query.register(
            self._turn_page, StateFilter(self.province_state), F.data.startswith(f"{p}:provpage:")
        )
        router.callback_query.register(
            self._choose_province, StateFilter(self.province_state), F.data.startswith(f"{p}:prov:")
        )
        router.message.register(self._type_province, StateFilter(self.province_state), PLAIN_TEXT)
        if self.allow_country:
            router.callback_query.register(
                self._choose_country, StateFilter(self.province_state), F.data == f"{p}:country"
            )
        router.message.register(self._search_ward, StateFilter(self.ward_state), PLAIN_TEXT)
        router.callback_query.register(self._choose_ward, StateFilter(self.ward_state), F.data.startswith(f"{p}:ward:"))
        return router

    async def _turn_page(self, callback: CallbackQuery, state: FSMContext, session: AsyncSession) -> None:
        """Show another page of provinces in the same message."""
        await callback.answer()
        raw = (callback.data or "").rsplit(":", 1)[1]
        page = int(raw) if raw.isdigit() else 0
        await state.update_data(prov_page=page)
        if isinstance(callback.message, Message):
            provinces = await list_provinces(session)
            with suppress(TelegramBadRequest):  # pressing the page counter changes nothing
                await callback.message.edit_text(
                    self.province_question(), reply_markup=self.province_keyboard(provinces, page)
                )

    async def _choose_province(
        self, callback: CallbackQuery, state: FSMContext, session: AsyncSession, bot: Bot
    ) -> None:
        """Keep the province (a new one forgets the old commune) and ask for the commune."""
        await callback.answer()
        raw = (callback.data or "").rsplit(":", 1)[1]
        province = await get_province(session, code=int(raw)) if raw.isdigit() else None
        if province is None:
            return
        draft = await state.get_data()
        if draft.get("province") != province.code:
            await state.update_data(province=province.code, ward=None)
        await drop_keyboard(callback)
        await bot.send_message(callback.from_user.id, "📍 " + html.escape(province.name))
        await self.ask_ward(bot, callback.from_user.id, state, session)

    async def _choose_country(
        self, callback: CallbackQuery, state: FSMContext, session: AsyncSession, bot: Bot
    ) -> None:
        """The whole country: no province, no commune."""
        await callback.answer()
        await state.update_data(province=None, ward=None)
        await drop_keyboard(callback)
        await self.done(bot, callback.from_user.id, state, session)

    async def _type_province(self, message: Message, session: AsyncSession) -> None:
        """A typed province name: offer the matches as buttons."""
        query = fold(message.text or "")
        provinces = await list_provinces(session)
        found = [p for p in provinces if query and query in fold(p.name)][:12]
        if not found:
            text = _("No province or city matches “{query}”. Please choose from the list.").format(
                query=html.escape((message.text or "")[:60])
            )
            await message.answer(text, reply_markup=self.province_keyboard(provinces, 0))
            return
        await message.answer(_("Choose the province or city:"), reply_markup=self.matches_keyboard(found))

    async def _search_ward(self, message: Message, state: FSMContext, session: AsyncSession) -> None:
        """Search the province's communes by part of the name; nothing entered is lost on no match."""
        draft = await state.get_data()
        province_code = int(draft["province"])
        query = (message.text or "").strip()
        wards = await search_wards(session, province_code=province_code, query=query, limit=8)
        if wards:
            markup = self.ward_keyboard(draft, wards, again=True)
            await message.answer(_("Choose the commune or ward:"), reply_markup=markup)
            return
        province = await get_province(session, code=province_code)
        text = _(
            "No commune or ward in {province} matches “{query}”. Try fewer letters, for example one word of the name."
        ).format(province=html.escape(province.name if province else ""), query=html.escape(query[:60]))
        await message.answer(text, reply_markup=self.ward_keyboard(draft) if self.whole_province_ok(draft) else None)

    async def _choose_ward(self, callback: CallbackQuery, state: FSMContext, session: AsyncSession, bot: Bot) -> None:
        """A commune from the results, the whole province, or search again."""
        value = (callback.data or "").rsplit(":", 1)[1]
        chat_id = callback.from_user.id
        draft = await state.get_data()
        if value == "again":
            await callback.answer()
            await drop_keyboard(callback)
            markup = self.ward_keyboard(draft) if self.whole_province_ok(draft) else None
            await bot.send_message(chat_id, _("Type part of the commune or ward name again."), reply_markup=markup)
            return
        if value == "all":
            if not self.whole_province_ok(draft):
                await callback.answer(_("This button has expired."))
                return
            await callback.answer()
            await state.update_data(ward=None)
            await drop_keyboard(callback)
            await self.done(bot, chat_id, state, session)
            return
        found = await get_ward(session, code=int(value)) if value.isdigit() else None
        if found is None or found[1] != draft.get("province"):
            await callback.answer(_("This button has expired."))
            return
        await callback.answer()
        await state.update_data(ward=found[0].code)
        await drop_keyboard(callback)
        await bot.send_message(chat_id, "📍 " + html.escape(found[0].name))
        await self.done(bot, chat_id, state, session)
