"""Privacy scan: tips at every anonymity level leave no identity in the database, Redis or the logs."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select, text

from bot.config import Settings
from bot.context import AppContext
from bot.factory import build_context
from bot.logsetup import configure_logging
from sandbox.client import SandboxClient
from sandbox.runner import RunningSandbox
from storage.db import create_engine, is_sqlite
from storage.domain import Anonymity
from storage.models import Reporter, Tip
from storage.tips import find_tip_by_receipt
from tests.citizen import BotMessage, Citizen, UpdateTracker
from tests.conftest import REDIS_URL, RunningBot, stop_polling_bot
from tests.handlers.test_report_support import (
    QUIET,
    RECEIPT,
    settings,  # noqa: F401 - the form is walked faster than any person
    texts,
)

PHONE = "+84912345678"
PHONE_FORMS = (PHONE, "84912345678", "0912345678")
WRONG_CODE = "ZZ7K-4QWX-9M2P-HT3V"


@dataclass(frozen=True)
class Identity:
    """A test citizen's Telegram identity and what they typed."""

    user_id: int
    username: str
    first_name: str
    last_name: str
    language: str
    level: Anonymity
    story: tuple[str, str]


ALPHA = Identity(
    731905246,
    "tipster_scan_alpha",
    "Trần Thị Hoà",
    "Lương Scanvy",
    "vi",
    Anonymity.ANONYMOUS,
    ("Ông chủ tiệm cầm đồ Quýt Xanh bán thuốc lắc.", "Xe biển số 29X-777.31 đến lúc tám giờ tối."),
)
BRAVO = Identity(
    731905247,
    "tipster_scan_bravo",
    "Walterscan",
    "Pinkfieldson",
    "en",
    Anonymity.FOLLOW_UP,
    ("Blue van unloading crates behind the Zebraworks depot.", "Men wear orange vests labelled Q-Delta."),
)
CHARLIE = Identity(
    731905248,
    "tipster_scan_charlie",
    "Đỗ Khánh Uyên",
    "Phùng Scanthư",
    "vi",
    Anonymity.IDENTIFIED,
    ("Bãi cát lậu ở bến Đò Vàng Kim hoạt động ban đêm.", "Có khoảng mười chiếc sà lan Kim Quy chở cát."),
)
TYPED_NAME = "Cô Uyên Scanhạnh"
FOLLOW_UP_TEXT = "Addendum: the Zebraworks van returns every Tuesday."
EVERYONE = (ALPHA, BRAVO, CHARLIE)
# Loggers of the harness itself (the control API client plays Telegram and the citizens, so its own
# request lines name chats); nothing in the bot uses httpx.
HARNESS_MARK = "/control/"
# The SQL echo (SQLAlchemy's engine logger, aiosqlite's statement log) repeats stored rows and bound parameters;
# the description is stored as plain text by design, so those loggers are scanned for identities only. The
# product keeps them at WARNING even at LOG_LEVEL=DEBUG (the second test checks that).
SQL_LOGGERS = ("sqlalchemy.engine", "aiosqlite")


def variants(value: str) -> set[str]:
    """The value as typed, and in both Unicode normal forms."""
    return {value, unicodedata.normalize("NFC", value), unicodedata.normalize("NFD", value)}


def identity_needles(receipt_codes: list[str]) -> set[str]:
    """What must never be stored in readable form or logged."""
    needles: set[str] = set(PHONE_FORMS)
    for who in EVERYONE:
        for value in (str(who.user_id), who.username, who.first_name, who.last_name):
            needles |= variants(value)
    needles |= variants(TYPED_NAME)
    for code in receipt_codes:
        needles |= {code, code.replace("-", "")}
    return needles


def typed_needles() -> set[str]:
    """What citizens typed: never logged (it is stored, as the tip itself)."""
    found: set[str] = set(variants(TYPED_NAME)) | variants(FOLLOW_UP_TEXT) | {WRONG_CODE, WRONG_CODE.replace("-", "")}
    for who in EVERYONE:
        for line in who.story:
            found |= variants(line)
    return found


def hits(haystack: bytes, needles: set[str]) -> list[str]:
    """Needles found in the haystack (case-insensitive for ASCII letters)."""
    lowered = haystack.lower()
    return sorted(n for n in needles if n.encode().lower() in lowered)


@contextlib.contextmanager
def every_logger_at_debug() -> Iterator[None]:
    """Let every logger, including libraries pinned quieter, propagate DEBUG records to the root."""
    saved: list[tuple[logging.Logger, int, bool, bool]] = []
    for logger in [logging.getLogger(name) for name in list(logging.root.manager.loggerDict)]:
        saved.append((logger, logger.level, logger.propagate, logger.disabled))
        logger.setLevel(logging.NOTSET)
        logger.propagate = True
        logger.disabled = False
    for name in ("aiogram", "sqlalchemy", "httpx", "httpcore", "aiohttp", "aiosqlite", "asyncpg", "redis", "sandbox"):
        logger = logging.getLogger(name)
        saved.append((logger, logger.level, logger.propagate, logger.disabled))
        logger.setLevel(logging.DEBUG)
        logger.propagate = True
    try:
        yield
    finally:
        for logger, level, propagate, disabled in reversed(saved):
            logger.setLevel(level)
            logger.propagate = propagate
            logger.disabled = disabled


def citizen(client: SandboxClient, tracker: UpdateTracker, who: Identity) -> Citizen:
    """The test citizen for an identity."""
    return Citizen(
        client,
        tracker=tracker,
        user_id=who.user_id,
        first_name=who.first_name,
        last_name=who.last_name,
        username=who.username,
        language_code=who.language,
    )


async def find_button(c: Citizen, wanted: str, label: str = "", *, within: float = 10.0) -> tuple[BotMessage, str]:
    """The newest message with a button whose data starts with `wanted` (and label has `label`), waiting.

    Three citizens and DEBUG logging slow the bot down, so a reply may come after `replies()` went quiet.
    """
    deadline = time.monotonic() + within
    while True:
        for message in reversed(c.seen[-8:]):
            fresh = await c.refresh(message)
            for shown, data in fresh.buttons:
                if data.startswith(wanted) and label in shown:
                    return fresh, data
        if time.monotonic() > deadline:
            raise AssertionError(f"no button {wanted!r} on recent messages")
        await c.replies(timeout=0.5, quiet=0.2, expect=False)


async def tap(c: Citizen, wanted: str, label: str = "", *, expect: bool = True) -> list[BotMessage]:
    """Press the newest button whose callback data starts with `wanted` (and whose label has `label`)."""
    message, data = await find_button(c, wanted, label)
    return await c.press_data(message.message_id, data, quiet=QUIET, expect=expect)


async def walk_form(c: Citizen, who: Identity) -> str:
    """/start, /language, then the whole /report form at this identity's level; returns the receipt code."""
    await c.send("/start", quiet=QUIET)
    await c.send("/language", quiet=QUIET)
    await tap(c, f"lang:{who.language}")
    await c.send("/report", quiet=QUIET)
    await tap(c, "rp:grp:social_evils", expect=False)  # the group edits the message in place
    await tap(c, "rp:cat:drugs")
    await tap(c, "rp:danger:no")
    await c.send("ha noi", quiet=QUIET)
    await tap(c, "rp:prov:", "Hà Nội")
    await c.send("hoan kiem", quiet=QUIET)
    await tap(c, "rp:ward:", "Hoàn Kiếm")
    await tap(c, "rp:place:skip")
    await c.send("⏭ Bỏ qua" if who.language == "vi" else "⏭ Skip", quiet=QUIET)
    await tap(c, "rp:when:today")
    for line in who.story:
        await c.send(line, quiet=QUIET)
    await tap(c, "rp:desc:done")
    sent = await c.client.send_photo(c.user)
    await c.replies(update_id=sent["update_id"])
    await tap(c, "rp:ev:done")
    await tap(c, f"rp:anon:{who.level.value}")
    if who.level is Anonymity.IDENTIFIED:
        sent = await c.client.send_contact(c.user, phone=PHONE, first_name=who.first_name, last_name=who.last_name)
        await c.replies(update_id=sent["update_id"])
        await c.send(TYPED_NAME, quiet=QUIET)
    await tap(c, "rp:send")
    deadline = time.monotonic() + 10
    while not (match := RECEIPT.search(texts(c.seen[-4:]))):
        assert time.monotonic() < deadline, "no receipt code"
        await c.replies(timeout=0.5, quiet=0.2, expect=False)
    return match.group(0)


async def follow_up_by_status(c: Citizen, code: str) -> None:
    """Open the tip with /status, add a text and a photo, then try a wrong code."""
    await c.send("/status", quiet=QUIET)
    opened = await c.send(code.lower().replace("-", " "), quiet=QUIET)
    assert "Your tip" in texts(opened), texts(opened)
    await c.press("Add information", quiet=QUIET)
    await c.send(FOLLOW_UP_TEXT, quiet=QUIET)
    sent = await c.client.send_photo(c.user)
    await c.replies(update_id=sent["update_id"])
    await c.press("Done", quiet=QUIET)
    await c.send("/status", quiet=QUIET)
    wrong = await c.send(WRONG_CODE, quiet=QUIET)
    assert "No tip could be opened" in texts(wrong)


async def check_rows(context: AppContext, codes: dict[int, str]) -> None:
    """Levels as chosen; the anonymous tip has no reporter; identity is sealed but recoverable."""
    keys = context.keys
    async with context.sessions() as session:
        found: dict[int, Tip] = {}
        for user_id, code in codes.items():
            tip = await find_tip_by_receipt(session, receipt_hash=keys.receipt_hash(code))
            assert tip is not None
            found[user_id] = tip
        anonymous, follow_up, identified = found[ALPHA.user_id], found[BRAVO.user_id], found[CHARLIE.user_id]
        assert anonymous.anonymity is Anonymity.ANONYMOUS and anonymous.reporter_id is None
        assert anonymous.identity_name_enc is None and anonymous.identity_phone_enc is None
        assert follow_up.anonymity is Anonymity.FOLLOW_UP and follow_up.identity_phone_enc is None
        reporter = await session.scalar(select(Reporter).where(Reporter.id == follow_up.reporter_id))
        assert reporter is not None and reporter.chat_enc is not None
        assert keys.decrypt_text(reporter.chat_enc, purpose="chat") == str(BRAVO.user_id)
        assert identified.anonymity is Anonymity.IDENTIFIED
        assert identified.identity_name_enc is not None and identified.identity_phone_enc is not None
        assert keys.decrypt_text(identified.identity_name_enc, purpose="identity_name") == TYPED_NAME
        assert keys.decrypt_text(identified.identity_phone_enc, purpose="identity_phone") == PHONE
        # Reporters of anonymous-only citizens keep no chat address.
        alpha_reporter = await session.scalar(
            select(Reporter).where(Reporter.key_hash == keys.reporter_hash(ALPHA.user_id))
        )
        assert alpha_reporter is not None and alpha_reporter.chat_enc is None


def file_bytes(folder: Path) -> bytes:
    """Every file under the test's folder: the SQLite database with its -wal/-shm files, and the data folder."""
    files = [p for p in sorted(folder.rglob("*")) if p.is_file()]
    assert any(p.name.endswith(".db") for p in files), files
    return b"\n".join(p.read_bytes() for p in files)


async def database_bytes(database_url: str, folder: Path) -> bytes:
    """Everything the database holds: raw SQLite files (with -wal/-shm), or every PostgreSQL row as JSON."""
    if is_sqlite(database_url):
        return file_bytes(folder)
    engine = create_engine(database_url)
    try:
        async with engine.connect() as conn:
            names = (
                await conn.scalars(
                    text("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'")
                )
            ).all()
            assert "tips" in names
            chunks: list[str] = []
            for name in names:
                rows = await conn.scalars(text(f'SELECT row_to_json(t)::text FROM "{name}" t'))  # noqa: S608
                chunks.extend(rows.all())
    finally:
        await engine.dispose()
    return "\n".join(chunks).encode()


async def redis_bytes() -> bytes:
    """Every Redis key and value."""
    if not REDIS_URL:
        return b""
    from redis.asyncio import Redis

    redis = Redis.from_url(REDIS_URL)
    chunks: list[object] = []
    try:
        async for key in redis.scan_iter(count=500):
            chunks.append(key)
            raw_kind: object = await redis.type(key)
            kind = raw_kind.decode() if isinstance(raw_kind, bytes) else str(raw_kind)
            if kind == "string":
                chunks.append(await redis.get(key))
            elif kind == "hash":
                chunks.extend((await redis.hgetall(key)).items())
            elif kind == "list":
                chunks.extend(await redis.lrange(key, 0, -1))
            elif kind == "set":
                chunks.extend(await redis.smembers(key))
            elif kind == "zset":
                chunks.extend(await redis.zrange(key, 0, -1))
            else:
                chunks.append(kind)
    finally:
        await redis.aclose()
    # repr() would escape non-ASCII bytes; join the raw values (pairs of a hash flattened) instead.
    flat: list[bytes] = []
    for chunk in chunks:
        for part in chunk if isinstance(chunk, tuple) else (chunk,):
            flat.append(part if isinstance(part, bytes) else str(part).encode())
    return b"\n".join(flat)


def log_lines(records: list[logging.LogRecord]) -> tuple[list[str], list[str]]:
    """Rendered log lines (message and traceback): all of them, and those outside the SQL echo."""
    every: list[str] = []
    outside_sql: list[str] = []
    formatter = logging.Formatter()
    for record in records:
        line = f"{record.name}: {record.getMessage()}"
        if HARNESS_MARK in line:
            continue
        if record.exc_info:
            line += "\n" + formatter.formatException(record.exc_info)
        if record.exc_text:
            line += "\n" + record.exc_text
        if record.stack_info:
            line += "\n" + record.stack_info
        every.append(line)
        if not record.name.startswith(SQL_LOGGERS):
            outside_sql.append(line)
    return every, outside_sql


def line_hits(lines: list[str], needles: set[str]) -> list[tuple[str, str]]:
    """(needle, line) for every needle found in a log line."""
    return [(n, line[:300]) for line in lines for n in needles if n.lower() in line.lower()]


async def test_no_identity_in_database_redis_or_logs(
    settings: Settings,  # noqa: F811 - the relaxed flood limit from the form helpers
    sandbox: RunningSandbox,
    database_url: str,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    if REDIS_URL:
        from tests.conftest import _flush_redis

        await _flush_redis()
    db_folder = tmp_path
    baseline = await database_bytes(database_url, db_folder)
    # The needles are chosen so that the fresh database (3,321 communes) does not contain them.
    assert hits(baseline, identity_needles([])) == []
    caplog.set_level(logging.DEBUG)
    with every_logger_at_debug():
        context = build_context(settings, api_base=sandbox.base_url)
        await context.bot.get_me()  # makes the bot's world known, so the client can say "default"
        # "default" instead of the token keeps the token out of the harness's own request lines too.
        client = SandboxClient(sandbox.base_url, "default")
        tracker = UpdateTracker()
        tracker.attach(context.dispatcher)
        task = asyncio.create_task(
            context.dispatcher.start_polling(
                context.bot, handle_signals=False, polling_timeout=1, allowed_updates=["message", "callback_query"]
            )
        )
        running = RunningBot(context=context, client=client, task=task, tracker=tracker)
        try:
            people = {who.user_id: citizen(client, tracker, who) for who in EVERYONE}
            walked = await asyncio.gather(*(walk_form(people[who.user_id], who) for who in EVERYONE))
            codes = {who.user_id: code for who, code in zip(EVERYONE, walked, strict=True)}
            assert all(RECEIPT.fullmatch(code) for code in walked)
            await follow_up_by_status(people[BRAVO.user_id], codes[BRAVO.user_id])
            await check_rows(context, codes)
        finally:
            await stop_polling_bot(running)
            await context.close()
        in_redis = await redis_bytes()
        stored = await database_bytes(database_url, db_folder) + b"\n" + in_redis
    records = list(caplog.records)

    # The scan must be able to see plain text where it is meant to be: the stored description is there.
    assert hits(stored, variants(ALPHA.story[0])) != []
    assert b"tinbao:fsm:" in in_redis or not REDIS_URL
    needles = identity_needles(list(codes.values()))
    assert hits(stored, needles) == []

    every, outside_sql = log_lines(records)
    assert any("tip" in line and "created" in line for line in every), "log capture saw nothing"
    assert line_hits(every, needles) == []
    found = line_hits(outside_sql, typed_needles())
    assert found == [], "\n".join(f"{n!r} IN {line}" for n, line in found)
    token = settings.bot_token
    assert not [line for line in every if token in line or token.split(":", 1)[1] in line]


def test_product_logging_never_echoes_sql_or_http() -> None:
    """Even at LOG_LEVEL=DEBUG the SQL echo (rows, parameters) and HTTP client lines stay off."""
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    quiet = (*SQL_LOGGERS, "httpx", "httpcore", "aiohttp.client", "aiohttp.access")
    saved_levels = {name: logging.getLogger(name).level for name in quiet}
    try:
        configure_logging("DEBUG", ["a-secret-value"])
        for name in quiet:
            assert logging.getLogger(name).getEffectiveLevel() >= logging.WARNING, name
    finally:
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)
        for name, level in saved_levels.items():
            logging.getLogger(name).setLevel(level)
