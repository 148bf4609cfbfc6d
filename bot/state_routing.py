"""Let a router skip, in one check, the updates whose conversation state none of its handlers accepts."""

from __future__ import annotations

from inspect import isclass
from typing import Any

from aiogram import Router
from aiogram.filters import Filter, StateFilter
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import TelegramObject

Domain = frozenset[str | None]
EVENTS = ("message", "callback_query")


class InStates(Filter):
    """Passes when the conversation's raw state is one of a fixed set (None: no state)."""

    def __init__(self, states: Domain) -> None:
        self.states = states

    async def __call__(self, event: TelegramObject, raw_state: str | None = None) -> bool:
        """One set lookup."""
        return raw_state in self.states


def _state_names(allowed: Any) -> Domain | None:
    """The raw states one StateFilter argument admits; None when it admits any."""
    if allowed is None or isinstance(allowed, str):
        return None if allowed == "*" else frozenset({allowed})
    if isinstance(allowed, State):
        return None if allowed.state == "*" else frozenset({allowed.state})
    group = allowed if isclass(allowed) else type(allowed)
    if issubclass(group, StatesGroup):
        return frozenset(group.__all_states_names__)
    return None


def filter_domain(callback: Any) -> Domain | None:
    """The raw states a handler filter admits, or None when it is not a state filter (or admits any)."""
    if isinstance(callback, StateFilter):
        names: set[str | None] = set()
        for allowed in callback.states:
            found = _state_names(allowed)
            if found is None:
                return None
            names |= found
        return frozenset(names)
    if isinstance(callback, State | StatesGroup):
        return _state_names(callback)
    return None


def _handler_domain(filters: list[Any] | None) -> Domain | None:
    """Filters are ANDed, so any one state filter bounds the handler."""
    for event_filter in filters or []:
        found = filter_domain(event_filter.callback)
        if found is not None:
            return found
    return None


def _router_domain(router: Router, event: str) -> Domain | None:
    """States in which some handler of the router's subtree may take the event (None: unbounded); gates the
    router, and every sub-router below it, on those states."""
    observer = router.observers[event]
    found = [_handler_domain(handler.filters) for handler in observer.handlers]
    found += [_router_domain(child, event) for child in router.sub_routers]  # every child gets its own gate
    bounded = [domain for domain in found if domain is not None]
    if len(bounded) < len(found):
        return None
    domain: Domain = frozenset().union(*bounded)
    own = _handler_domain(observer._handler.filters)  # a router-level state filter already narrows it
    if own is None or not domain >= own:
        observer.filter(InStates(domain))
    return domain


def add_state_gates(root: Router) -> int:
    """Give every sub-router whose handlers all require certain states a root filter on those states.

    aiogram offers an update to routers in order and checks each handler's filters, copying the update's context
    for each check; a citizen in the tip form paid for dozens of checks in the outreach routers first. A root
    filter that fails ends the router's whole subtree at once. It is derived from the handlers' own state
    filters, so it never hides an update that some handler would take. Returns how many gates there are.
    """
    for router in root.chain_tail:  # module-level routers outlive a dispatcher: drop gates from an earlier one
        for event in EVENTS:
            handler = router.observers[event]._handler
            if handler.filters:
                handler.filters = [f for f in handler.filters if not isinstance(f.callback, InStates)]
    for event in EVENTS:
        for child in root.sub_routers:
            _router_domain(child, event)
    return sum(
        isinstance(event_filter.callback, InStates)
        for router in root.chain_tail
        for event in EVENTS
        for event_filter in router.observers[event]._handler.filters or []
    )
