"""Process roles and the worker lease: exactly one process runs the scheduler, the sender and urgent alerts.

`all` runs everything in one process (`make run`); `web` runs intake, the officer API and the outbox
(scale it out); `worker` runs the lease-guarded jobs. Every process that may run them competes for the
`worker` lease row; the holder renews it, the others stay idle and take over when it expires.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from sqlalchemy import ColumnElement

from bot.alerts import AlertLoop
from bot.background import BackgroundTask
from bot.broadcast import Broadcaster
from bot.context import AppContext
from bot.scheduler import CampaignScheduler, Clock
from storage.campaign_runs import requeue_in_flight
from storage.leases import WORKER_LEASE, acquire_lease, holds_lease, release_lease

logger = logging.getLogger(__name__)


class Role(StrEnum):
    """What a `tinbao run` process does."""

    ALL = "all"
    WEB = "web"
    WORKER = "worker"

    @property
    def serves_web(self) -> bool:
        """Intake (polling or webhook), the officer API and the outbox."""
        return self in (Role.ALL, Role.WEB)

    @property
    def runs_worker(self) -> bool:
        """Competes for the lease to run the scheduler, the campaign sender and urgent alerts."""
        return self in (Role.ALL, Role.WORKER)


def new_holder_id() -> str:
    """A lease holder name unique to this process (host and pid help operators; the suffix makes it unique)."""
    return f"{socket.gethostname()[:32]}:{os.getpid()}:{secrets.token_hex(4)}"


def _real_now() -> datetime:
    return datetime.now(UTC)


class LeaderWorker:
    """Holds the worker lease and, while it does, runs the scheduler, the campaign sender and urgent alerts."""

    def __init__(
        self,
        context: AppContext,
        *,
        holder: str | None = None,
        lease_seconds: float | None = None,
        clock: Clock | None = None,
        broadcaster: Broadcaster | None = None,
        with_alerts: bool = True,
    ) -> None:
        self.context = context
        self.holder = holder or new_holder_id()
        self.ttl = timedelta(seconds=lease_seconds or context.settings.lease_seconds)
        self.clock = clock or Clock()
        self.broadcaster = broadcaster or Broadcaster(context, now=self.clock.now, fence=self.fence)
        if broadcaster is not None and broadcaster.fence is None:
            broadcaster.fence = self.fence
        self.scheduler = CampaignScheduler(context, self.broadcaster, clock=self.clock)
        self.alerts = AlertLoop(context) if with_alerts else None
        self.leading = False
        self.became_leader = asyncio.Event()
        self._renewed_at = 0.0
        self._background = BackgroundTask("worker-lease", self._forever)
        self._pokes: set[asyncio.Task[list[int]]] = set()

    def fence(self) -> ColumnElement[bool]:
        """SQL condition true only while this process holds a live lease (checked in every claim)."""
        return holds_lease(name=WORKER_LEASE, holder=self.holder, now=_real_now())

    def start(self) -> None:
        """Compete for the lease in the background."""
        self._background.start()

    async def stop(self) -> None:
        """Stop the jobs and give the lease back so another process can take over at once."""
        await self._background.stop()
        await self._step_down()
        with contextlib.suppress(Exception):
            async with self.context.sessions() as session:
                await release_lease(session, name=WORKER_LEASE, holder=self.holder)
                await session.commit()
        await self.broadcaster.close()

    def poke(self) -> None:
        """Campaigns changed in this process: re-sync the schedule now instead of at the next interval."""
        if self.leading:
            task = asyncio.create_task(self.scheduler.sync())
            self._pokes.add(task)
            task.add_done_callback(self._pokes.discard)

    async def tick(self) -> bool:
        """Try to take or renew the lease once and start or stop the jobs to match; True while leading."""
        loop = asyncio.get_running_loop()
        try:
            async with self.context.sessions() as session:
                held = await acquire_lease(
                    session, name=WORKER_LEASE, holder=self.holder, now=_real_now(), ttl=self.ttl
                )
                await session.commit()
        except Exception as exc:
            logger.warning("worker lease: renewal failed (%s)", type(exc).__name__)
            # Without a renewal we must stop before the lease can run out under us.
            held = self.leading and loop.time() - self._renewed_at < self.ttl.total_seconds() * 0.6
        else:
            if held:
                self._renewed_at = loop.time()
        if held and not self.leading:
            await self._take_over()
        elif not held and self.leading:
            logger.warning("worker lease lost: stopping the scheduler and the sender")
            await self._step_down()
        return self.leading

    async def _forever(self) -> None:
        interval = self.ttl.total_seconds() / 3
        while True:
            await self.tick()
            await asyncio.sleep(interval)

    async def _take_over(self) -> None:
        """Deliveries a dead sender left in flight go back to pending, then the jobs start."""
        async with self.context.sessions() as session:
            requeued = await requeue_in_flight(session)
            await session.commit()
        logger.info("worker lease taken (%d deliveries in flight requeued)", requeued)
        self.leading = True
        self.broadcaster.start()
        await self.scheduler.start()
        if self.alerts is not None:
            self.alerts.start()
        self.became_leader.set()

    async def _step_down(self) -> None:
        if not self.leading:
            return
        self.leading = False
        self.became_leader.clear()
        await self.scheduler.stop()
        if self.alerts is not None:
            await self.alerts.stop()
        await self.broadcaster.stop()
        self.scheduler = CampaignScheduler(self.context, self.broadcaster, clock=self.clock)
