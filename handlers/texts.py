"""Short texts reused by several flows."""

from __future__ import annotations

from bot.i18n import _


def emergency_text() -> str:
    """The emergency numbers, always the same three."""
    return _("🚨 Emergency: call 113 (police), 114 (fire and rescue), 115 (ambulance).")


def help_text() -> str:
    """The command list with one line each."""
    return "\n".join(
        [
            _("<b>What you can do</b>"),
            _("/report – send a tip to the police"),
            _("/status – follow up a tip with its receipt code"),
            _("/subscribe – campaign notices for your area; /unsubscribe – stop them"),
            _("/pledge – sign a safety pledge"),
            _("/feedback – send a suggestion or opinion to the police"),
            _("/info – emergency numbers, campaigns now, prevention advice"),
            _("/privacy – how your identity is protected"),
            _("/language – Tiếng Việt / English"),
            _("/cancel – stop what you are doing"),
            _("/help – this list"),
            "",
            emergency_text(),
        ]
    )
