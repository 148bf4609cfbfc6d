"""Asking each question of the tip form, and moving on (or back to the summary when editing)."""

from __future__ import annotations

import html
from contextlib import suppress
from typing import Any

from aiogram import Bot, F
from aiogram.exceptions import TelegramBadRequest
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message, ReplyKeyboardMarkup, ReplyKeyboardRemove
from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import _
from handlers import report_keyboards as kb
from handlers.report_draft import Draft, description
from handlers.report_summary import number, summary_text
from handlers.states import ReportForm
from storage.areas import get_province, list_provinces
from storage.domain import DESCRIPTION_MAX_CHARS, MAX_ATTACHMENTS, NAME_MAX_CHARS, PLACE_DETAIL_MAX_CHARS, CategoryGroup

Markup = InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove | None

# The order of the questions; "where" and "privacy" span several states.
ORDER = (
    "category",
    "danger",
    "province",
    "ward",
    "place_detail",
    "location",
    "when",
    "description",
    "evidence",
    "anonymity",
    "summary",
)
STATES: dict[str, State] = {
    "category": ReportForm.category,
    "danger": ReportForm.danger,
    "province": ReportForm.province,
    "ward": ReportForm.ward,
    "place_detail": ReportForm.place_detail,
    "location": ReportForm.location,
    "when": ReportForm.when,
    "description": ReportForm.description,
    "evidence": ReportForm.evidence,
    "anonymity": ReportForm.anonymity,
    "identity": ReportForm.identity,
    "summary": ReportForm.summary,
}
STEP_OF_STATE = {st.state: name for name, st in STATES.items()}
# After these steps an edit goes back to the summary; the others are the middle of a chain.
CHAIN_ENDS = frozenset({"category", "danger", "location", "when", "description", "evidence", "anonymity", "identity"})
EDIT_START = {"where": "province"}


async def question(step: str, session: AsyncSession, draft: Draft) -> tuple[str, Markup]:
    """The text and keyboard of one step, given what the draft already holds."""
    if step == "category":
        group = draft.get("group")
        if group:
            return _("1️⃣ What is it about? Choose one."), kb.category_keyboard(CategoryGroup(group))
        return _("1️⃣ What is it about? Choose a group."), kb.group_keyboard()
    if step == "danger":
        return _("2️⃣ Is it happening now, or is someone in danger?"), kb.yes_no_keyboard("rp:danger")
    if step == "province":
        provinces = await list_provinces(session)
        page = int(draft.get("prov_page", 0))
        text = _("3️⃣ Where did it happen? Choose the province or city, or type its name.")
        return text, kb.province_keyboard(provinces, page)
    if step == "ward":
        province = await get_province(session, code=int(draft["province"]))
        name = province.name if province else "—"
        text = _(
            "Type part of the name of the commune or ward in {province}, with or without accents. Example: hoan kiem"
        ).format(province=name)
        return text, kb.ward_prompt_keyboard()
    if step == "place_detail":
        text = _(
            "Any detail about the place? For example a street, a house number or a landmark "
            "(up to {limit} characters). Or press Skip."
        ).format(limit=number(PLACE_DETAIL_MAX_CHARS))
        return text, kb.skip_keyboard("rp:place:skip")
    if step == "location":
        text = _(
            "You can also send a map pin (optional).\n"
            "⚠️ A pin shows an exact place, maybe your home. Send it only if that is safe. Otherwise press Skip."
        )
        return text, kb.location_keyboard()
    if step == "when":
        return _("4️⃣ When did it happen? Press a button, or type a date like 25/12/2025."), kb.when_keyboard()
    if step == "description":
        return description_question(draft)
    if step == "evidence":
        text = _(
            "6️⃣ Do you have photos, videos, voice notes or files? Send them now (up to {max}). Or press Skip."
        ).format(max=MAX_ATTACHMENTS)
        return text, kb.evidence_keyboard(bool(draft.get("files")), bool(draft.get("editing")))
    if step == "anonymity":
        return anonymity_question(), kb.anonymity_keyboard()
    if step == "identity":
        if draft.get("id_phone"):
            text = _("Which name should officers see? Type it (up to {limit} characters), or press the button.")
            markup: Markup = kb.contact_name_keyboard(draft.get("id_contact_name") or "")
            if not draft.get("id_contact_name"):
                markup = None
            return text.format(limit=NAME_MAX_CHARS), markup
        return _("Please share your phone number with the button below. Officers will see it."), kb.contact_keyboard()
    return await summary_text(session, draft), kb.summary_keyboard()


def description_question(draft: Draft) -> tuple[str, Markup]:
    """Step 5; when editing, say the text so far is kept."""
    text = _(
        "5️⃣ What happened? Describe it in your own words: who, what, where, how. "
        "You can send several messages. Then press Continue."
    )
    if draft.get("editing") and draft.get("parts"):
        count = len(description(draft))
        kept = _("Your text so far ({count}/{limit} characters) is kept; new messages are added to it.")
        return text + "\n\n" + kept.format(count=number(count), limit=number(DESCRIPTION_MAX_CHARS)), (
            kb.description_edit_keyboard()
        )
    return text, kb.description_keyboard()


def anonymity_question() -> str:
    """Step 7: each level explained in one plain sentence."""
    return "\n\n".join(
        [
            _("7️⃣ How do you want to send it?"),
            _(
                "🙈 <b>Anonymous</b>: nothing links the tip to your account. "
                "You see answers only with /status and your code."
            ),
            _(
                "💬 <b>Anonymous with follow-up</b> (recommended): the bot can send you officers' questions. "
                "Officers see only a code name."
            ),
            _("🪪 <b>Identified</b>: your name and phone number are shown to authorised officers."),
        ]
    )


async def ask(
    step: str, bot: Bot, chat_id: int, state: FSMContext, session: AsyncSession, *, hint: str | None = None
) -> None:
    """Enter a step and ask its question (with a one-line hint first after bad input)."""
    await state.set_state(STATES[step])
    draft = await state.get_data()
    text, markup = await question(step, session, draft)
    if hint:
        text = f"{hint}\n\n{text}"
    await bot.send_message(chat_id, text, reply_markup=markup)


async def advance(done: str, bot: Bot, chat_id: int, state: FSMContext, session: AsyncSession) -> None:
    """Go to the step after `done`, or back to the summary when an edit is complete."""
    draft = await state.get_data()
    if done == "anonymity" and draft.get("anonymity") == "identified":
        await ask("identity", bot, chat_id, state, session)
        return
    if draft.get("editing") and done in CHAIN_ENDS:
        await ask("summary", bot, chat_id, state, session)
        return
    following = "summary" if done == "identity" else ORDER[ORDER.index(done) + 1]
    await ask(following, bot, chat_id, state, session)


async def update(state: FSMContext, **values: Any) -> Draft:
    """Merge values into the draft and return it."""
    return await state.update_data(**values)


def _menu_texts() -> set[str]:
    from handlers.keyboards import all_menu_labels

    return set().union(*(all_menu_labels(a) for a in ("report", "status", "privacy", "language", "help")))


# Text a citizen typed as an answer: not a command, not a main-menu button.
PLAIN_TEXT = F.text & ~F.text.startswith("/") & ~F.text.in_(_menu_texts())


async def drop_keyboard(callback: CallbackQuery) -> None:
    """Remove an answered question's buttons (no double press) and show the chosen one under it."""
    message = callback.message
    if not isinstance(message, Message) or message.reply_markup is None:
        return
    markup = message.reply_markup
    chosen = next(
        (b.text for row in getattr(markup, "inline_keyboard", []) for b in row if b.callback_data == callback.data),
        None,
    )
    with suppress(TelegramBadRequest):
        if chosen and message.text:
            # Older people scroll back to check what they pressed: keep the answer visible.
            await message.edit_text(f"{message.html_text}\n\n✅ {html.escape(chosen)}", reply_markup=None)
        else:
            await message.edit_reply_markup(reply_markup=None)
