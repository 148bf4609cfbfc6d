"""Pure helpers: entity parsing, flood-control buckets, generated JPEGs, command entities, update order."""

from __future__ import annotations

import gc

import pytest

from sandbox.__main__ import keep_collector_off_the_record
from sandbox.errors import ApiError
from sandbox.formatting import parse_html, parse_markdown_v2, render, utf16_len
from sandbox.incoming import command_entities
from sandbox.jpeg import jpeg_size, solid_jpeg
from sandbox.ratelimit import SendLimiter
from sandbox.state import World


def test_html_entities_use_utf16_offsets() -> None:
    text, entities = parse_html('😀 <b>đậm</b> <a href="https://x.vn/?a=1&amp;b=2">link</a> &lt;3')
    assert text == "😀 đậm link <3"
    assert entities == [
        {"type": "bold", "offset": 3, "length": 3},
        {"type": "text_link", "url": "https://x.vn/?a=1&b=2", "offset": 7, "length": 4},
    ]
    assert utf16_len("😀") == 2


@pytest.mark.parametrize("bad", ["a < b", "<b>open", "<x>y</x>", "<b>a</i>", "</b>"])
def test_html_errors_like_telegram(bad: str) -> None:
    with pytest.raises(ApiError) as caught:
        parse_html(bad)
    assert caught.value.status == 400
    assert caught.value.description.startswith("Bad Request: can't parse entities")


def test_markdown_v2() -> None:
    text, entities = parse_markdown_v2(r"*đậm* _nghiêng_ `mã` \. [xem](https://x.vn)")
    assert text == "đậm nghiêng mã . xem"
    assert [e["type"] for e in entities] == ["bold", "italic", "code", "text_link"]
    with pytest.raises(ApiError, match="reserved"):
        parse_markdown_v2("Cảm ơn.")
    assert render("plain <b>", None) == ("plain <b>", [])


def test_limiter_burst_retry_after_and_refill() -> None:
    now = [0.0]
    limiter = SendLimiter(global_rate=30, per_chat_rate=1, per_chat_burst=1, clock=lambda: now[0])
    assert limiter.acquire(1) is None
    assert limiter.acquire(1) == 1
    assert limiter.acquire(2) is None  # another chat has its own bucket
    now[0] = 1.0
    assert limiter.acquire(1) is None
    limiter.configure(global_rate=2, per_chat_rate=100, per_chat_burst=100)
    assert limiter.acquire(3, cost=5) is None  # an oversize album needs a full bucket, then owes
    assert limiter.acquire(4) == 2


def test_generated_jpeg_has_requested_size() -> None:
    picture = solid_jpeg(123, 45)
    assert picture.startswith(b"\xff\xd8") and picture.endswith(b"\xff\xd9")
    assert jpeg_size(picture) == (123, 45)
    assert jpeg_size(b"not a jpeg") is None


def test_command_entity() -> None:
    assert command_entities("/start abc") == [{"type": "bot_command", "offset": 0, "length": 6}]
    assert command_entities("/help@tinbao_sandbox_bot") == [{"type": "bot_command", "offset": 0, "length": 24}]
    assert command_entities("hello /start") == []


def test_redelivered_update_sorts_first_and_is_confirmed_after_delivery() -> None:
    world = World("1:" + "a" * 25)
    first = world.enqueue_update({"message": {"text": "a"}})
    world.enqueue_update({"message": {"text": "b"}})
    world.confirm_updates(first + 2)
    assert world.redeliver(first)
    world.enqueue_update({"message": {"text": "c"}})
    world.confirm_updates(first + 2)  # a redelivery survives until it has been fetched once
    assert [e.update_id for e in world.updates] == [first, first + 2]
    world.updates[0].delivered = True
    world.confirm_updates(first + 1)
    assert [e.update_id for e in world.updates] == [first + 2]


def test_standalone_emulator_keeps_full_collections_off_its_record() -> None:
    before = gc.get_threshold()
    try:
        keep_collector_off_the_record()
        assert gc.get_freeze_count() > 0  # what start-up built is out of every collection's way
        young, middle, full = gc.get_threshold()
        # A full collection needs `full` middle ones, each `middle` young ones of `young` allocations.
        assert young * middle * full >= 500_000_000
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
