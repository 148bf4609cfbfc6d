"""APScheduler wiring: the database says which campaign runs are due; the scheduler only wakes us then.

APScheduler 3 cannot share a job store between processes, so jobs live in memory and are rebuilt from
the campaigns table at start and at every re-sync (which also picks up campaigns scheduled through the
API in another process). A firing job, the re-sync and a late start all end in the same `sync()`: start
every due run (idempotent on campaign + run key) and wake the sender.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.broadcast import Broadcaster
from bot.context import AppContext
from storage.campaign_runs import Firing, compute_schedule, return_missed_to_draft, start_run

logger = logging.getLogger(__name__)

LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
JOB_PREFIX = "campaign:"
RESYNC_JOB = "resync"
QUIET_END_JOB = "quiet-end"


@dataclass(slots=True)
class Clock:
    """Wall-clock UTC time, shifted by `offset` (tests move "now" to any date and APScheduler follows)."""

    offset: timedelta = timedelta(0)

    def now(self) -> datetime:
        """The current (possibly shifted) time."""
        return datetime.now(UTC) + self.offset

    def to_real(self, moment: datetime) -> datetime:
        """The real moment at which this clock shows `moment` (what APScheduler must be given)."""
        return moment - self.offset

    @classmethod
    def at(cls, moment: datetime) -> Clock:
        """A clock that shows `moment` now and runs forward in real time."""
        return cls(offset=moment - datetime.now(UTC))


def next_quiet_end(now: datetime, end_hour: int) -> datetime:
    """The next local end_hour:00 after `now` (when held campaigns may go out again)."""
    local = now.astimezone(LOCAL_TZ)
    candidate = local.replace(hour=end_hour, minute=0, second=0, microsecond=0)
    if candidate <= local:
        candidate += timedelta(days=1)
    return candidate


class CampaignScheduler:
    """Starts due campaign runs and keeps one in-memory job per upcoming firing."""

    def __init__(
        self,
        context: AppContext,
        broadcaster: Broadcaster,
        *,
        clock: Clock | None = None,
        grace_seconds: float | None = None,
        resync_seconds: float | None = None,
    ) -> None:
        settings = context.settings
        self.context = context
        self.broadcaster = broadcaster
        self.clock = clock or Clock()
        self.grace = timedelta(seconds=settings.misfire_grace_seconds if grace_seconds is None else grace_seconds)
        self.resync_seconds = resync_seconds or settings.scheduler_resync_seconds
        self.quiet_end = settings.quiet_hours_end
        self.scheduler = AsyncIOScheduler(timezone=UTC)
        self._lock = asyncio.Lock()
        self.started_runs: list[int] = []

    async def start(self) -> None:
        """Start APScheduler, then sync at once (this is the late start: due runs within the grace go out)."""
        self.scheduler.start()
        self.scheduler.add_job(
            self.sync,
            IntervalTrigger(seconds=self.resync_seconds, timezone=UTC),
            id=RESYNC_JOB,
            replace_existing=True,
            coalesce=True,
            max_instances=1,
        )
        await self.sync()

    async def stop(self) -> None:
        """Drop every job (they are rebuilt from the database by the next leader)."""
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)

    async def sync(self, *, now: datetime | None = None) -> list[int]:
        """Start due runs, return missed once-campaigns to draft, rebuild the jobs; returns started run ids."""
        async with self._lock:
            now = now or self.clock.now()
            async with self.context.sessions() as session:
                schedule = await compute_schedule(session, now=now, grace=self.grace)
                if schedule.missed:
                    await return_missed_to_draft(session, campaign_ids=schedule.missed)
                    logger.warning("campaigns %s missed their time beyond the grace: back to draft", schedule.missed)
                await session.commit()
            started = [run_id for firing in schedule.due if (run_id := await self._start(firing, now)) is not None]
            if self.scheduler.running:
                self._rebuild_jobs(schedule.upcoming, now)
            if started:
                self.broadcaster.wake()
            return started

    async def _start(self, firing: Firing, now: datetime) -> int | None:
        async with self.context.sessions() as session:
            run_id = await start_run(session, firing=firing, now=now)
            await session.commit()
        if run_id is not None:
            self.started_runs.append(run_id)
            logger.info("campaign %d run %s started (run %d)", firing.campaign_id, firing.run_key, run_id)
        return run_id

    async def _fire(self, fire_at: datetime) -> None:
        """A job's moment came: sync as of at least that moment (the database still decides)."""
        await self.sync(now=max(self.clock.now(), fire_at))

    def _rebuild_jobs(self, upcoming: list[Firing], now: datetime) -> None:
        wanted: dict[str, Firing] = {f"{JOB_PREFIX}{f.campaign_id}:{f.run_key}": f for f in upcoming}
        for job in self.scheduler.get_jobs():
            if job.id.startswith(JOB_PREFIX) and job.id not in wanted:
                job.remove()
        for job_id, firing in wanted.items():
            self._add_date_job(job_id, firing.fire_at, self._fire, [firing.fire_at])
        self._add_date_job(QUIET_END_JOB, next_quiet_end(now, self.quiet_end), self._wake_sender, [])

    def _add_date_job(self, job_id: str, moment: datetime, func: Any, args: list[Any]) -> None:
        existing = self.scheduler.get_job(job_id)
        real = self.clock.to_real(moment)
        if existing is not None and getattr(existing.trigger, "run_date", None) == real:
            return
        self.scheduler.add_job(
            func,
            DateTrigger(run_date=real, timezone=UTC),
            args=args,
            id=job_id,
            replace_existing=True,
            misfire_grace_time=max(1, int(self.grace.total_seconds())),
            coalesce=True,
        )

    async def _wake_sender(self) -> None:
        """Quiet hours are over: held campaigns may be sent now."""
        self.broadcaster.wake()

    def job_times(self) -> dict[str, datetime]:
        """Job id → the (clock) moment it fires; for tests and diagnostics."""
        return {
            job.id: job.trigger.run_date + self.clock.offset
            for job in self.scheduler.get_jobs()
            if isinstance(job.trigger, DateTrigger)
        }
