"""aiogram routers, one conversation per module; `routers()` gives them in matching order."""

from __future__ import annotations

from aiogram import Router


def routers() -> list[Router]:
    """Routers in priority order: global commands first, the catch-all last."""
    from handlers import errors, feedback, info, officer_link, pledge, report, start, status, subscribe

    # The outreach flows come before the tip form so their commands and menu buttons work from inside it.
    found = [
        start.router,
        officer_link.router,
        subscribe.router,
        pledge.router,
        feedback.router,
        info.router,
        report.router,
        status.router,
        errors.router,
    ]
    for router in found:
        # Module-level routers accept one parent; a restart or a test builds a new dispatcher.
        router._parent_router = None
    return found
