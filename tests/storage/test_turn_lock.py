"""The write gate's lock: urgent waiters go first, urgent and ordinary holders alternate, cancels are clean."""

from __future__ import annotations

import asyncio

import pytest

from storage.turn_lock import TurnLock


async def _hold(lock: TurnLock, name: str, order: list[str], *, urgent: bool) -> None:
    await lock.acquire(urgent=urgent)
    order.append(name)
    await asyncio.sleep(0)
    lock.release()


async def test_urgent_first_then_turns() -> None:
    lock = TurnLock()
    order: list[str] = []
    await lock.acquire()  # an ordinary writer holds the gate
    tasks = [
        asyncio.create_task(_hold(lock, "o1", order, urgent=False)),
        asyncio.create_task(_hold(lock, "o2", order, urgent=False)),
        asyncio.create_task(_hold(lock, "u1", order, urgent=True)),
        asyncio.create_task(_hold(lock, "u2", order, urgent=True)),
    ]
    await asyncio.sleep(0)  # everyone queues
    lock.release()
    await asyncio.gather(*tasks)
    assert order == ["u1", "o1", "u2", "o2"]
    assert not lock.locked()


async def test_a_cancelled_waiter_does_not_keep_the_lock() -> None:
    lock = TurnLock()
    await lock.acquire()
    waiting = asyncio.create_task(lock.acquire(urgent=True))
    await asyncio.sleep(0)
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    lock.release()
    assert not lock.locked()
    await asyncio.wait_for(lock.acquire(), 1)  # free again
    lock.release()


async def test_release_without_holding_is_an_error() -> None:
    with pytest.raises(RuntimeError):
        TurnLock().release()
