"""State gates: a router skips updates in states none of its handlers takes, and hides nothing else."""

from __future__ import annotations

from aiogram import Dispatcher, F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.state import State, StatesGroup

from bot.state_routing import EVENTS, InStates, _handler_domain, add_state_gates
from handlers import routers


class Form(StatesGroup):
    """Two states of a made-up form."""

    name = State()
    age = State()


def _gate(router: Router, event: str) -> frozenset[str | None] | None:
    gates = [f.callback for f in router.observers[event]._handler.filters or [] if isinstance(f.callback, InStates)]
    return gates[0].states if gates else None


def _subtree(router: Router) -> list[Router]:
    return [router, *(r for child in router.sub_routers for r in _subtree(child))]


def test_gates_follow_the_handlers_state_filters() -> None:
    parent, child, anywhere = Router(name="parent"), Router(name="child"), Router(name="anywhere")
    parent.message(Command("form"))(lambda: None)
    child.message(StateFilter(Form.name), F.text)(lambda: None)
    child.message(Form.age)(lambda: None)
    child.callback_query(StateFilter(Form))(lambda: None)
    anywhere.message(F.text)(lambda: None)
    parent.include_router(child)
    dispatcher = Dispatcher()
    dispatcher.include_routers(parent, anywhere)
    add_state_gates(dispatcher)
    assert _gate(parent, "message") is None  # /form works in any state
    assert _gate(child, "message") == {"Form:name", "Form:age"}
    assert _gate(child, "callback_query") == {"Form:name", "Form:age"}
    assert _gate(anywhere, "message") is None
    assert _gate(anywhere, "callback_query") == frozenset()  # no handler: nothing can match


def test_no_gate_on_the_real_routers_hides_a_handler() -> None:
    dispatcher = Dispatcher()
    dispatcher.include_routers(*routers())
    gates = add_state_gates(dispatcher)
    assert gates > 10
    assert add_state_gates(dispatcher) == gates  # a second dispatcher over the same routers adds no more
    for router in dispatcher.chain_tail:
        for event in EVENTS:
            gate = _gate(router, event)
            if gate is None:
                continue
            for inner in _subtree(router):
                for handler in inner.observers[event].handlers:
                    domain = _handler_domain(handler.filters)
                    assert domain is not None and domain <= gate, (router.name, inner.name, event)
