"""gettext catalogs (vi default, en) read from .po files, and the per-update current language."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from pathlib import Path

from babel.messages.pofile import read_po

LOCALES_DIR = Path(__file__).parent / "locales"
SUPPORTED_LOCALES = ("vi", "en")
DEFAULT_LOCALE = "vi"

_current_locale: ContextVar[str] = ContextVar("tinbao_locale", default=DEFAULT_LOCALE)


@cache
def catalog(locale: str) -> dict[str, str]:
    """msgid → translation for one locale, merged from every domain's .po file (one per flow)."""
    merged: dict[str, str] = {}
    for path in sorted((LOCALES_DIR / locale / "LC_MESSAGES").glob("*.po")):
        with path.open("rb") as handle:
            po = read_po(handle, locale=locale)
        for m in po:
            if m.id and isinstance(m.id, str) and isinstance(m.string, str) and m.string and not m.fuzzy:
                merged[m.id] = m.string
    return merged


def pick_locale(language_code: str | None) -> str:
    """Map Telegram's language_code to a supported locale: English speakers get en, everyone else vi."""
    if language_code and language_code.lower().split("-")[0] == "en":
        return "en"
    return DEFAULT_LOCALE


def current_locale() -> str:
    """The language of the update being handled."""
    return _current_locale.get()


def set_locale(locale: str) -> None:
    """Set the language for the rest of this update."""
    _current_locale.set(locale if locale in SUPPORTED_LOCALES else DEFAULT_LOCALE)


@contextmanager
def use_locale(locale: str) -> Iterator[None]:
    """Temporarily translate into another language (e.g. a notice in the tipster's language)."""
    token = _current_locale.set(locale if locale in SUPPORTED_LOCALES else DEFAULT_LOCALE)
    try:
        yield
    finally:
        _current_locale.reset(token)


def gettext(message: str) -> str:
    """Translate a message into the current language."""
    return catalog(_current_locale.get()).get(message, message)


def translate(message: str, locale: str) -> str:
    """Translate a message into a given language."""
    return catalog(locale).get(message, message)


def gettext_noop(message: str) -> str:
    """Mark a string for extraction without translating it now."""
    return message


_ = gettext
N_ = gettext_noop
