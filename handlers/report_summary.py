"""The plain-words summary of a draft, and the receipt shown after sending."""

from __future__ import annotations

import html
from collections import Counter
from datetime import date

from babel.numbers import format_decimal
from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import _, current_locale
from handlers.report_draft import Draft, description
from handlers.report_keyboards import ANONYMITY_LABELS, CATEGORY_LABELS, KIND_LABELS, WHEN_LABELS
from handlers.texts import emergency_text
from storage.areas import get_province, get_ward
from storage.domain import Anonymity, AttachmentKind, Category, WhenKind

SUMMARY_DESCRIPTION_CHARS = 300


def number(value: int) -> str:
    """A count with the reader's thousands separator (1.234 in Vietnamese, 1,234 in English)."""
    return format_decimal(value, locale=current_locale())


def show_date(value: date) -> str:
    """dd/mm/yyyy, as Vietnamese write dates."""
    return value.strftime("%d/%m/%Y")


def when_text(draft: Draft) -> str:
    """The time answer in words."""
    kind = WhenKind(draft.get("when", WhenKind.UNKNOWN.value))
    occurred = draft.get("occurred_on")
    if kind is WhenKind.DATE and occurred:
        return show_date(date.fromisoformat(occurred))
    label = _(WHEN_LABELS.get(kind, WHEN_LABELS[WhenKind.UNKNOWN]))
    return f"{label} ({show_date(date.fromisoformat(occurred))})" if occurred else label


def files_text(draft: Draft) -> str:
    """Files counted by kind, e.g. "2 photos, 1 files"; or "none"."""
    counts = Counter(AttachmentKind(f["kind"]) for f in draft.get("files", []))
    if not counts:
        return _("none")
    return ", ".join(f"{n} {_(KIND_LABELS[kind])}" for kind, n in counts.items())


def shorten(text: str, limit: int = SUMMARY_DESCRIPTION_CHARS) -> str:
    """The first `limit` characters, with an ellipsis when cut."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


async def place_names(session: AsyncSession, draft: Draft) -> tuple[str, str]:
    """Province and commune names (commune "unknown" when not given)."""
    province = await get_province(session, code=int(draft["province"])) if draft.get("province") else None
    ward = await get_ward(session, code=int(draft["ward"])) if draft.get("ward") else None
    return (province.name if province else "—", ward[0].name if ward else _("unknown"))


async def summary_text(session: AsyncSession, draft: Draft) -> str:
    """Every answer in plain words, for a last check before sending."""
    province, ward = await place_names(session, draft)
    yes, no = _("Yes"), _("No")
    category = _(CATEGORY_LABELS[Category(draft["category"])]) if draft.get("category") else "—"
    detail = draft.get("place_detail")
    anonymity = Anonymity(draft.get("anonymity", Anonymity.FOLLOW_UP.value))
    lines = [
        _("<b>Please check your tip</b>"),
        "",
        _("<b>Category:</b> {value}").format(value=category),
        _("<b>Happening now / someone in danger:</b> {value}").format(value=yes if draft.get("urgent") else no),
        _("<b>Province:</b> {value}").format(value=html.escape(province)),
        _("<b>Commune/ward:</b> {value}").format(value=html.escape(ward)),
        _("<b>Place detail:</b> {value}").format(value=html.escape(detail) if detail else "—"),
        _("<b>Map pin:</b> {value}").format(value=yes if draft.get("lat") is not None else no),
        _("<b>When:</b> {value}").format(value=when_text(draft)),
        _("<b>What happened:</b> {value}").format(value=html.escape(shorten(description(draft)))),
        _("<b>Files:</b> {value}").format(value=files_text(draft)),
        _("<b>Privacy:</b> {value}").format(value=_(ANONYMITY_LABELS[anonymity])),
    ]
    if anonymity is Anonymity.IDENTIFIED and draft.get("id_name"):
        lines.append(_("<b>Name shown to officers:</b> {value}").format(value=html.escape(draft["id_name"])))
    lines += ["", _("Nothing is sent until you press <b>✅ Send</b>.")]
    return "\n".join(lines)


def receipt_text(code: str, anonymity: Anonymity, urgent: bool) -> str:
    """The receipt: the code to copy, why to keep it, and what happens next."""
    next_steps = {
        Anonymity.ANONYMOUS: _(
            "Nothing links this tip to your account, so officers cannot write to you. "
            "Check for answers with /status and your code."
        ),
        Anonymity.FOLLOW_UP: _(
            "If officers have questions, this bot will send them to you. Officers see only a code name. "
            "You can also check with /status."
        ),
        Anonymity.IDENTIFIED: _(
            "Authorised officers can see the name and phone you shared and may contact you. "
            "You can also check with /status."
        ),
    }
    parts = [
        _("✅ <b>Your tip was sent.</b> Thank you."),
        _("Your receipt code (tap to copy):\n<code>{code}</code>").format(code=code),
        _("Keep it secret and write it down: it is the only way to follow up your tip with /status."),
        next_steps[anonymity],
    ]
    if urgent:
        parts.append(emergency_text())
    return "\n\n".join(parts)
