"""What /status shows: the tip's status in plain words, its thread, split to fit Telegram, and the buttons."""

from __future__ import annotations

import html
import secrets
from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from aiogram.types import InlineKeyboardMarkup

from bot.i18n import N_, _
from handlers.keyboards import inline
from storage.domain import Category, MessageAuthor
from storage.followup import PublicStatus, public_status
from storage.models import Tip, TipMessage

LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
TELEGRAM_LIMIT = 4096
# Measured on the HTML source, which is never shorter than the text Telegram counts; some room kept spare.
CHUNK_BUDGET = TELEGRAM_LIMIT - 96
CODE_EXAMPLE = "7QK2-M9XD-4HNP-R3TW"
CALLBACK_PREFIX = "st"

STATUS_WORDS: dict[PublicStatus, str] = {
    PublicStatus.RECEIVED: N_("Received, waiting for an officer."),
    PublicStatus.IN_REVIEW: N_("An officer is reviewing it."),
    PublicStatus.NEEDS_INFO: N_('Officers asked you a question (see below). Please answer with "➕ Add information".'),
    PublicStatus.FORWARDED: N_("Handed to an investigating unit."),
    PublicStatus.CLOSED_VALUABLE: N_("Closed. Thank you: your information was valuable (tin có giá trị)."),
    PublicStatus.CLOSED: N_("Closed."),
}

CATEGORY_WORDS: dict[Category, str] = {
    Category.POLITICAL_SECURITY: N_("Political security"),
    Category.THEFT_ROBBERY: N_("Theft, robbery"),
    Category.ASSAULT_MURDER: N_("Assault, murder"),
    Category.FRAUD: N_("Fraud (also online)"),
    Category.CYBERCRIME: N_("Cybercrime"),
    Category.HUMAN_TRAFFICKING: N_("Human trafficking"),
    Category.SMUGGLING_COUNTERFEIT: N_("Smuggling, counterfeit goods"),
    Category.WEAPONS_EXPLOSIVES: N_("Weapons, explosives"),
    Category.DRUGS: N_("Drugs"),
    Category.GAMBLING: N_("Gambling"),
    Category.PROSTITUTION: N_("Prostitution"),
    Category.TRAFFIC: N_("Traffic order and safety"),
    Category.FIRE: N_("Fire prevention and fighting"),
    Category.ENVIRONMENT: N_("Environment"),
    Category.OTHER: N_("Other"),
}


def local_date(moment: datetime) -> str:
    """A date as Vietnamese people write it, in Vietnam's time zone."""
    return moment.astimezone(LOCAL_TZ).strftime("%d/%m/%Y")


def local_time(moment: datetime) -> str:
    """Date and time in Vietnam's time zone."""
    return moment.astimezone(LOCAL_TZ).strftime("%d/%m/%Y %H:%M")


def ask_code_text() -> str:
    """The question for the receipt code."""
    return _(
        "Please send the receipt code of your tip, for example <code>{example}</code>.\n"
        "Spaces, dashes and small letters do not matter."
    ).format(example=CODE_EXAMPLE)


def code_shape_text() -> str:
    """What a code looks like, for text that cannot be one."""
    return _(
        "This does not look like a receipt code. A code has 16 letters and digits in 4 groups, "
        "for example <code>{example}</code>. Please send it again, or /cancel."
    ).format(example=CODE_EXAMPLE)


def summary_text(tip: Tip) -> str:
    """The first message of the view: status, date sent, category."""
    return "\n".join(
        [
            _("<b>Your tip</b>"),
            _("Status: {status}").format(status=_(STATUS_WORDS[public_status(tip)])),
            _("Sent on: {date}").format(date=local_date(tip.created_at)),
            _("Category: {category}").format(category=_(CATEGORY_WORDS[tip.category])),
        ]
    )


def _author(message: TipMessage) -> str:
    # Officers are never named to the tipster: one word for all of them.
    return _("You") if message.author is MessageAuthor.TIPSTER else _("Police")


def units(text: str) -> int:
    """Length as Telegram counts it: UTF-16 code units (an emoji counts twice)."""
    return len(text.encode("utf-16-le")) // 2


def _escape_pieces(raw: str, budget: int) -> list[str]:
    """Escape `raw` and cut it into pieces of at most `budget` units without splitting an entity."""
    pieces: list[str] = []
    current: list[str] = []
    size = 0
    for char in raw:
        escaped = html.escape(char)
        if size + units(escaped) > budget and current:
            pieces.append("".join(current))
            current, size = [], 0
        current.append(escaped)
        size += units(escaped)
    if current or not pieces:
        pieces.append("".join(current))
    return pieces


def _entry_blocks(message: TipMessage, files: int) -> list[str]:
    """One thread entry as blocks that each fit in a message."""
    header = f"<b>{_author(message)}</b> · {local_time(message.created_at)}"
    if files:
        header += " · " + _("{count} file(s)").format(count=files)
    body = message.body or ""
    if not body:
        return [header]
    pieces = _escape_pieces(body, CHUNK_BUDGET - units(header) - 1)
    return [f"{header}\n{piece}" for piece in pieces]


def pack(blocks: Sequence[str], budget: int = CHUNK_BUDGET) -> list[str]:
    """Join blocks with blank lines into as few messages as fit under the budget."""
    chunks: list[str] = []
    current = ""
    for block in blocks:
        candidate = f"{current}\n\n{block}" if current else block
        if units(candidate) > budget and current:
            chunks.append(current)
            current = block
        else:
            current = candidate
    if current:
        chunks.append(current)
    return chunks


def view_texts(tip: Tip, thread: Sequence[TipMessage], files_by_message: dict[int, int]) -> list[str]:
    """Every message of the view, in order; the buttons go on the last one."""
    blocks = [summary_text(tip)]
    if thread:
        blocks.append(_("<b>Messages</b>"))
        for message in thread:
            blocks.extend(_entry_blocks(message, files_by_message.get(message.id, 0)))
    else:
        blocks.append(_("No messages yet. Officers' answers will appear here."))
    return pack(blocks)


def callback(action: str, view: str) -> str:
    """Button data bound to one view, so buttons of an older view cannot act."""
    return f"{CALLBACK_PREFIX}:{action}:{view}"


def view_keyboard(view: str) -> InlineKeyboardMarkup:
    """Buttons under the view."""
    return inline(
        [
            [(_("➕ Add information"), callback("add", view))],
            [(_("🔄 Refresh"), callback("refresh", view)), (_("✖ Close"), callback("close", view))],
        ]
    )


def done_keyboard(view: str) -> InlineKeyboardMarkup:
    """The button that ends adding information."""
    return inline([[(_("✅ Done"), callback("done", view))]])


def new_view_token() -> str:
    """A random token naming one view; it says nothing about the tip."""
    return secrets.token_urlsafe(9)
