"""The /status view text: escaping and splitting to fit Telegram's limit, whatever the thread holds."""

from __future__ import annotations

import html

from hypothesis import given, settings
from hypothesis import strategies as st

from handlers.status_view import CHUNK_BUDGET, _escape_pieces, pack, units


@settings(max_examples=200, deadline=None)
@given(st.text(min_size=0, max_size=9000), st.integers(min_value=8, max_value=CHUNK_BUDGET))
def test_escaped_pieces_fit_and_lose_nothing(raw: str, budget: int) -> None:
    pieces = _escape_pieces(raw, budget)
    assert all(units(piece) <= budget for piece in pieces)
    # Unescaping piece by piece gives the text back only if no entity was cut in half.
    assert "".join(html.unescape(piece) for piece in pieces) == raw


@given(st.lists(st.text(min_size=1, max_size=1500), min_size=1, max_size=12))
def test_pack_keeps_every_block_under_the_limit(blocks: list[str]) -> None:
    chunks = pack(blocks)
    assert all(units(chunk) <= CHUNK_BUDGET for chunk in chunks)
    assert "\n\n".join(chunks) == "\n\n".join(blocks)


def test_emoji_count_twice() -> None:
    pieces = _escape_pieces("😀" * 3000, CHUNK_BUDGET)
    assert len(pieces) == 2 and all(units(p) <= CHUNK_BUDGET for p in pieces)
