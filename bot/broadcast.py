"""The campaign sender: durable per-recipient deliveries sent at Telegram's pace.

Claim → send → mark: a batch of deliveries is claimed (status `sending`, committed), each is sent once
through a token bucket, and results are committed in small batches. A window of `concurrency` slots
bounds the messages sent but not yet recorded: a slot is taken before a send and given back only after
its result is committed, so a crash can repeat at most `concurrency` messages.

Its own lane: a dedicated Bot session without the RetryMiddleware, so a 429 pauses only this bucket and
never makes replies to tipsters wait. Logs carry run, campaign and delivery ids, never chats or text.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import logging
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from zoneinfo import ZoneInfo

from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.enums import ParseMode
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.types import BufferedInputFile
from cryptography.exceptions import InvalidTag
from sqlalchemy import ColumnElement

from bot.context import AppContext
from bot.telegram_session import TelegramSession
from bot.token_bucket import TokenBucket
from storage.campaign_runs import (
    CANCELLED_ERROR,
    ActiveRun,
    Claimed,
    Outcome,
    active_runs,
    cache_photo_file_id,
    campaign_state,
    cancel_open_deliveries,
    claim_batch,
    fill_run,
    finish_run_if_done,
    record_outcomes,
)
from storage.domain import CampaignState, DeliveryStatus, SubscriberState
from storage.models import Campaign

logger = logging.getLogger(__name__)

LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
CAPTION_LIMIT = 1024
CHAT_INTERVAL = 1.0  # Telegram: about one message per chat per second
MAX_ATTEMPTS = 5  # 5xx and timeouts, then failed
MAX_BACKOFF = 300.0
MAX_INLINE_429 = 20  # 429s for one message before it goes back to the queue (not counted as an attempt)
SLICE_SECONDS = 10.0  # a run yields to others (an urgent campaign) this often
GATHER_SECONDS = 0.02  # the recorder waits at most this long to commit several results at once
STATE_CHECK_SECONDS = 0.5  # how often the recorder looks whether the campaign was cancelled
_TAG = re.compile(r"<[^>]*>")

Fence = Callable[[], ColumnElement[bool]]
Part = Callable[[int], Awaitable[None]]
Now = Callable[[], datetime]


def _utcnow() -> datetime:
    return datetime.now(UTC)


def visible_length(html_text: str) -> int:
    """Length Telegram counts for HTML text: tags removed, entities decoded, in UTF-16 code units."""
    plain = html.unescape(_TAG.sub("", html_text))
    return len(plain.encode("utf-16-le")) // 2


def render_text(title: str, body_html: str) -> str:
    """Title in bold, then the (already validated) Telegram HTML body."""
    head = f"<b>{html.escape(title)}</b>"
    return f"{head}\n\n{body_html}" if body_html.strip() else head


def in_quiet_hours(moment: datetime, start: int, end: int) -> bool:
    """Whether local time (Asia/Ho_Chi_Minh) is inside [start, end) hours; start == end means never."""
    hour = moment.astimezone(LOCAL_TZ).hour
    if start == end:
        return False
    if start < end:
        return start <= hour < end
    return hour >= start or hour < end


def create_campaign_bot(context: AppContext, *, timeout: float = 15.0) -> Bot:
    """A Bot for campaigns only: same server and token, no retry middleware (429s are handled here)."""
    session = TelegramSession(api=context.bot.session.api, timeout=timeout, limit=256)
    return Bot(context.settings.bot_token, session=session, default=DefaultBotProperties(parse_mode=ParseMode.HTML))


@dataclass(slots=True)
class Content:
    """What one campaign sends, loaded once per slice."""

    campaign_id: int
    text: str
    photo: bytes | None
    photo_file_id: str | None
    photo_lock: asyncio.Lock = field(default_factory=asyncio.Lock)


@dataclass(slots=True)
class BroadcastStats:
    """Counters since the sender started (benchmarks and tests read them)."""

    sent: int = 0
    retry_after: int = 0
    gone: int = 0
    failed: int = 0
    retried: int = 0
    first_send: float | None = None
    last_send: float | None = None


@dataclass(frozen=True, slots=True)
class BroadcastConfig:
    """The sender's knobs (from Settings, or set directly by tests and benchmarks)."""

    rate: float = 25.0
    concurrency: int = 16
    quiet_start: int = 21
    quiet_end: int = 7
    poll_seconds: float = 2.0
    max_attempts: int = MAX_ATTEMPTS
    base_backoff: float = 2.0

    @property
    def batch(self) -> int:
        """Deliveries claimed per transaction: about half a second of sending, at least the window."""
        return max(self.concurrency * 2, min(500, int(self.rate / 2)))


class _Pipeline:
    """One slice of one run: a window of slots, the send tasks, and a recorder committing results."""

    def __init__(self, sender: Broadcaster, run: ActiveRun, content: Content) -> None:
        self.sender = sender
        self.run = run
        self.content = content
        self.window = asyncio.Semaphore(sender.config.concurrency)
        self.outcomes: list[tuple[Outcome, bool]] = []
        self.wake_recorder = asyncio.Event()
        self.tasks: set[asyncio.Task[None]] = set()
        self.cancelled = False
        self.gather = max(1, sender.config.concurrency // 2)
        self.checked_state_at = 0.0
        self.recorder = asyncio.create_task(self._record_forever(), name=f"broadcast-recorder-{run.run_id}")
        self.closing = False

    def add(self, outcome: Outcome, *, holds_slot: bool) -> None:
        """Queue a result for the recorder (the slot, if any, is released once it is committed)."""
        self.outcomes.append((outcome, holds_slot))
        self.wake_recorder.set()

    async def _record_forever(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await self.wake_recorder.wait()
            self.wake_recorder.clear()
            # Gather a few results per commit (each commit is a disk sync), but never hold slots long.
            deadline = loop.time() + GATHER_SECONDS
            while not self.closing and len(self.outcomes) < self.gather and loop.time() < deadline:
                self.wake_recorder.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.wake_recorder.wait(), deadline - loop.time())
            await self.flush()
            if self.closing and not self.outcomes:
                return

    async def flush(self) -> None:
        """Commit every queued result; on a database error keep them and try again (sending waits)."""
        while self.outcomes:
            batch, self.outcomes = self.outcomes, []
            try:
                async with self.sender.context.sessions() as session:
                    await record_outcomes(session, outcomes=[o for o, _ in batch], now=self.sender.now())
                    state = None
                    if time.monotonic() - self.checked_state_at > STATE_CHECK_SECONDS:
                        state = await campaign_state(session, campaign_id=self.run.campaign_id)
                        self.checked_state_at = time.monotonic()
                    await session.commit()
            except Exception as exc:
                logger.warning(
                    "broadcast run %d: recording results failed (%s), retrying", self.run.run_id, type(exc).__name__
                )
                self.outcomes = batch + self.outcomes
                await asyncio.sleep(0.5)
                continue
            if state == CampaignState.CANCELLED:
                self.cancelled = True
            for _outcome, holds_slot in batch:
                if holds_slot:
                    self.window.release()

    async def close(self) -> None:
        """Wait for every send in flight, then for the recorder to commit the last results."""
        if self.tasks:
            await asyncio.gather(*self.tasks, return_exceptions=True)
        self.closing = True
        self.wake_recorder.set()
        await self.recorder


class Broadcaster:
    """Sends every active campaign run; `run_once()` for tests, `start()`/`stop()` for the worker."""

    def __init__(
        self,
        context: AppContext,
        *,
        config: BroadcastConfig | None = None,
        bot: Bot | None = None,
        now: Now = _utcnow,
        fence: Fence | None = None,
    ) -> None:
        self.context = context
        self.config = config or BroadcastConfig(
            rate=context.settings.broadcast_rate,
            concurrency=context.settings.broadcast_concurrency,
            quiet_start=context.settings.quiet_hours_start,
            quiet_end=context.settings.quiet_hours_end,
        )
        self._own_bot = bot is None
        self.bot = bot or create_campaign_bot(context)
        self.now = now
        self.fence = fence
        # A tenth of a second of burst: a send that woke late (a busy event loop) is caught up instead of
        # lost, while any window still stays within Telegram's one-second allowance.
        self.bucket = TokenBucket(self.config.rate, burst=max(1, round(self.config.rate / 10)))
        self.stats = BroadcastStats()
        self._last_sent: dict[int, float] = {}  # subscriber id → monotonic time (per-chat pace)
        self._filled: set[int] = set()
        self._wake = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None

    # --- lifecycle --------------------------------------------------------------------------

    def wake(self) -> None:
        """A run started (or quiet hours ended): look now instead of at the next poll."""
        self._wake.set()

    def start(self) -> None:
        """Send in the background until `stop()`."""
        if self._task is None:
            self._stopping = False
            self._task = asyncio.create_task(self._forever(), name="campaign-sender")

    async def stop(self, *, grace: float = 10.0) -> None:
        """Stop claiming, let messages in flight finish and be recorded, then end (cancel after `grace` seconds)."""
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            try:
                await asyncio.wait_for(asyncio.shield(self._task), timeout=grace)
            except TimeoutError:
                self._task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._task
            self._task = None

    async def close(self) -> None:
        """Stop and close the campaign bot's HTTP session (if this sender made it)."""
        await self.stop()
        if self._own_bot:
            await self.bot.session.close()

    async def _forever(self) -> None:
        while not self._stopping:
            self._wake.clear()
            busy = 0
            try:
                busy = await self.run_once()
            except Exception as exc:  # a bad round must not end broadcasting for good
                logger.error("campaign sender round failed: %s", type(exc).__name__)
            if not busy and not self._stopping:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=self.config.poll_seconds)

    # --- rounds -----------------------------------------------------------------------------

    def quiet_now(self) -> bool:
        """Whether non-urgent campaigns are held right now."""
        return in_quiet_hours(self.now(), self.config.quiet_start, self.config.quiet_end)

    async def run_once(self) -> int:
        """One round over the active runs (urgent first); returns how many deliveries reached a result."""
        async with self.context.sessions() as session:
            runs = await active_runs(session)
        handled = 0
        for run in sorted(runs, key=lambda r: not r.urgent):
            if self._stopping:
                break
            if run.cancelled:
                await self._cancel(run)
                continue
            await self._ensure_filled(run)  # even in quiet hours: progress shows who is waiting
            if not run.urgent and self.quiet_now():
                continue
            handled += await self._send_slice(run)
            async with self.context.sessions() as session:
                if await finish_run_if_done(session, run_id=run.run_id, now=self.now()):
                    logger.info("campaign %d run %d: done", run.campaign_id, run.run_id)
                await session.commit()
        return handled

    async def run_until_idle(self, *, limit_seconds: float = 60.0) -> None:
        """Rounds until no run is active or nothing more can be sent now (tests and benchmarks)."""
        deadline = time.monotonic() + limit_seconds
        while time.monotonic() < deadline:
            handled = await self.run_once()
            async with self.context.sessions() as session:
                runs = await active_runs(session)
            if not runs:
                return
            if not handled:
                await asyncio.sleep(0.05)
        raise TimeoutError("broadcast did not finish in time")

    async def _cancel(self, run: ActiveRun) -> None:
        async with self.context.sessions() as session:
            stopped = await cancel_open_deliveries(session, campaign_id=run.campaign_id, now=self.now())
            await session.commit()
        logger.info("campaign %d cancelled: %d deliveries stopped", run.campaign_id, stopped)

    async def _ensure_filled(self, run: ActiveRun) -> None:
        """Create the run's deliveries once per process (idempotent, so a crash mid-way is repaired here)."""
        if run.run_id in self._filled:
            return
        after = 0
        while True:
            async with self.context.sessions() as session:
                campaign = await session.get(Campaign, run.campaign_id)
                if campaign is None:
                    return
                boundary = await fill_run(session, run_id=run.run_id, campaign=campaign, after_subscriber_id=after)
                await session.commit()
            if boundary is None:
                break
            after = boundary
        self._filled.add(run.run_id)

    async def _load_content(self, campaign_id: int) -> Content | None:
        async with self.context.sessions() as session:
            campaign = await session.get(Campaign, campaign_id)
            if campaign is None:
                return None
            return Content(
                campaign_id=campaign.id,
                text=render_text(campaign.title, campaign.body_html),
                photo=campaign.photo,
                photo_file_id=campaign.photo_file_id,
            )

    async def _send_slice(self, run: ActiveRun) -> int:
        """Claim and send for up to SLICE_SECONDS; returns how many deliveries got a result."""
        content = await self._load_content(run.campaign_id)
        if content is None:
            return 0
        pipeline = _Pipeline(self, run, content)
        handled = 0
        slice_end = time.monotonic() + SLICE_SECONDS
        try:
            while time.monotonic() < slice_end and not self._stopping and not pipeline.cancelled:
                if not run.urgent and self.quiet_now():
                    break
                async with self.context.sessions() as session:
                    fence = self.fence() if self.fence is not None else None
                    batch = await claim_batch(
                        session, run_id=run.run_id, now=self.now(), limit=self.config.batch, fence=fence
                    )
                    await session.commit()
                if not batch:
                    break
                handled += len(batch)
                await self._feed(pipeline, run, batch)
        finally:
            await pipeline.close()
        return handled

    async def _feed(self, pipeline: _Pipeline, run: ActiveRun, batch: list[Claimed]) -> None:
        """Start a send task per claimed delivery, each once a window slot is free."""
        for index, item in enumerate(batch):
            if self._stopping or pipeline.cancelled or (not run.urgent and self.quiet_now()):
                # Claimed but never sent: back to pending (or cancelled) without counting a try.
                status = DeliveryStatus.CANCELLED if pipeline.cancelled else DeliveryStatus.PENDING
                for rest in batch[index:]:
                    pipeline.add(
                        Outcome(
                            rest.delivery_id,
                            rest.subscriber_id,
                            status,
                            counted=False,
                            error=CANCELLED_ERROR if pipeline.cancelled else None,
                        ),
                        holds_slot=False,
                    )
                return
            await pipeline.window.acquire()
            task = asyncio.create_task(self._deliver(pipeline, item))
            pipeline.tasks.add(task)
            task.add_done_callback(pipeline.tasks.discard)

    # --- one delivery -----------------------------------------------------------------------

    async def _deliver(self, pipeline: _Pipeline, item: Claimed) -> None:
        """Send one delivery and queue its outcome; the slot is released when the outcome is committed."""
        try:
            outcome = await self._attempt(pipeline.content, item)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # never lose a slot: an unexpected error is a counted retry
            logger.error("broadcast delivery %d: unexpected %s", item.delivery_id, type(exc).__name__)
            outcome = self._retry(item, "unexpected error")
        pipeline.add(outcome, holds_slot=True)

    async def _attempt(self, content: Content, item: Claimed) -> Outcome:
        """The Telegram side of one delivery, mapped to an outcome (429s are waited out here)."""
        if item.subscriber_state is SubscriberState.GONE:
            return Outcome(item.delivery_id, item.subscriber_id, DeliveryStatus.GONE, counted=False)
        if item.subscriber_state is not SubscriberState.ACTIVE:
            return Outcome(
                item.delivery_id, item.subscriber_id, DeliveryStatus.CANCELLED, "unsubscribed", counted=False
            )
        try:
            chat_id = int(self.context.keys.decrypt_text(item.chat_enc, purpose="subscriber_chat"))
        except (ValueError, InvalidTag):
            logger.warning("broadcast delivery %d: unreadable chat", item.delivery_id)
            return Outcome(item.delivery_id, item.subscriber_id, DeliveryStatus.FAILED, "unreadable chat")
        parts = self._parts(content)
        for index, part in enumerate(parts):
            try:
                delivered = await self._send_part(part, chat_id, item.subscriber_id, later=index > 0)
            except TelegramForbiddenError:
                self.stats.gone += 1
                return Outcome(item.delivery_id, item.subscriber_id, DeliveryStatus.GONE, "blocked")
            except (TelegramBadRequest, TelegramNotFound) as exc:
                self.stats.failed += 1
                return Outcome(item.delivery_id, item.subscriber_id, DeliveryStatus.FAILED, exc.message[:200])
            except TelegramAPIError as exc:  # 5xx, timeouts, 401/409/413...: limited retries with backoff
                return self._retry(item, type(exc).__name__)
            if not delivered:
                return Outcome(item.delivery_id, item.subscriber_id, DeliveryStatus.PENDING, counted=False)
        self.stats.sent += 1
        return Outcome(item.delivery_id, item.subscriber_id, DeliveryStatus.SENT)

    async def _send_part(self, part: Part, chat_id: int, subscriber_id: int, *, later: bool) -> bool:
        """Send one message of a delivery: wait out 429s (pausing the whole lane); False if they never end.

        A later part (the text after a photo) is retried here on transient errors, because retrying the
        whole delivery would send the photo twice.
        """
        failures = 0
        for _ in range(MAX_INLINE_429):
            await self._pace(subscriber_id)
            try:
                await part(chat_id)
            except TelegramRetryAfter as exc:
                self.stats.retry_after += 1
                self.bucket.pause(float(exc.retry_after))
                logger.info("broadcast: 429, pausing the campaign lane %ss", exc.retry_after)
                continue
            except (TelegramServerError, TelegramNetworkError):
                failures += 1
                if not later or failures >= self.config.max_attempts:
                    raise
                await asyncio.sleep(min(MAX_BACKOFF, self.config.base_backoff * 2 ** (failures - 1)))
                continue
            return True
        return False

    def _parts(self, content: Content) -> list[Part]:
        """Text; or photo with the text as caption; or photo, then text when the caption would be too long."""
        if content.photo is None and content.photo_file_id is None:
            return [partial(self._send_text, content)]
        if visible_length(content.text) <= CAPTION_LIMIT:
            return [partial(self._send_photo, content, content.text)]
        return [partial(self._send_photo, content, None), partial(self._send_text, content)]

    async def _send_text(self, content: Content, chat_id: int) -> None:
        await self.bot.send_message(chat_id, content.text)

    def _retry(self, item: Claimed, error: str) -> Outcome:
        """A transient failure: back off exponentially, and give up after max_attempts tries."""
        attempts = item.attempts + 1
        if attempts >= self.config.max_attempts:
            self.stats.failed += 1
            return Outcome(item.delivery_id, item.subscriber_id, DeliveryStatus.FAILED, error[:200])
        self.stats.retried += 1
        delay = min(MAX_BACKOFF, self.config.base_backoff * 2 ** (attempts - 1))
        retry_at = self.now() + timedelta(seconds=delay)
        return Outcome(item.delivery_id, item.subscriber_id, DeliveryStatus.PENDING, error[:200], retry_at=retry_at)

    async def _pace(self, subscriber_id: int) -> None:
        """Wait for the per-chat interval, then for a token of the campaign bucket."""
        last = self._last_sent.get(subscriber_id)
        if last is not None:
            wait = last + CHAT_INTERVAL - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
        await self.bucket.acquire()
        now = time.monotonic()
        self._last_sent[subscriber_id] = now
        if len(self._last_sent) > 50_000:
            self._last_sent = {k: v for k, v in self._last_sent.items() if v > now - CHAT_INTERVAL}
        if self.stats.first_send is None:
            self.stats.first_send = now
        self.stats.last_send = now

    async def _send_photo(self, content: Content, caption: str | None, chat_id: int) -> None:
        """Upload the photo once; every later copy reuses Telegram's file_id (cached in the database)."""
        if content.photo_file_id is None and content.photo is not None:
            async with content.photo_lock:
                if content.photo_file_id is None:
                    upload = BufferedInputFile(content.photo, filename="campaign.jpg")
                    message = await self.bot.send_photo(chat_id, upload, caption=caption)
                    if message.photo:
                        content.photo_file_id = message.photo[-1].file_id
                        async with self.context.sessions() as session:
                            await cache_photo_file_id(
                                session, campaign_id=content.campaign_id, file_id=content.photo_file_id
                            )
                            await session.commit()
                    return
        if content.photo_file_id is None:  # the upload did not return a photo; send it again
            await self.bot.send_photo(chat_id, BufferedInputFile(content.photo or b"", "campaign.jpg"), caption=caption)
            return
        await self.bot.send_photo(chat_id, content.photo_file_id, caption=caption)
