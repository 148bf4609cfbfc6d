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


# In these states a flood of messages is content (a long story, an album): keep it, reply less.
COLLECTING_STATES: frozenset[str] = frozenset(
    str(s.state) for s in (ReportForm.description, ReportForm.evidence, StatusFlow.adding)
)
