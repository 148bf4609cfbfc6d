"""Conversation states of every flow, and which of them collect free text or files."""

from __future__ import annotations

from aiogram.fsm.state import State, StatesGroup


class ReportForm(StatesGroup):
    """The guided tip form, one state per question."""

    category = State()
    danger = State()
    province = State()
    ward = State()
    place_detail = State()
    location = State()
    when = State()
    description = State()
    evidence = State()
    anonymity = State()
    identity = State()
    summary = State()
    submitted = State()


class StatusFlow(StatesGroup):
    """Following a tip up with its receipt code."""

    code = State()
    viewing = State()
    adding = State()


class SubscribeFlow(StatesGroup):
    """Choosing (or changing) the area and topics of campaign notices."""

    current = State()
    province = State()
    ward = State()
    topics = State()


class PledgeFlow(StatesGroup):
    """Signing a safety pledge."""

    kind = State()
    province = State()
    ward = State()
    name = State()
    confirm = State()


class FeedbackFlow(StatesGroup):
    """An anonymous opinion to the police of an area."""

    province = State()
    ward = State()
    body = State()
    confirm = State()


# In these states a flood of messages is content (a long story, an album): keep it, reply less.
COLLECTING_STATES: frozenset[str] = frozenset(
    str(s.state) for s in (ReportForm.description, ReportForm.evidence, StatusFlow.adding)
)
