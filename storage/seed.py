"""Bulk-load synthetic tips for statistics tests and benchmarks (no ORM object per row)."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime
from itertools import islice
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from storage.domain import CATEGORY_GROUPS, Anonymity, Category, Priority, TipStatus, WhenKind
from storage.models import Tip, utcnow
from storage.privacy import RECEIPT_ALPHABET

BATCH_ROWS = 5000
# Columns a seeded row carries; everything else stays NULL.
COLUMNS = (
    "ref",
    "receipt_hash",
    "anonymity",
    "locale",
    "category",
    "category_group",
    "urgent",
    "priority",
    "status",
    "outcome",
    "province_code",
    "ward_code",
    "when_kind",
    "description",
    "created_at",
    "updated_at",
    "first_response_at",
    "closed_at",
    "assignee_id",
)
TIME_COLUMNS = ("created_at", "updated_at", "first_response_at", "closed_at")
ALLOWED = frozenset(COLUMNS) - {"ref", "receipt_hash", "category_group"}


def _encode(number: int, width: int) -> str:
    """A fixed-width code in the receipt alphabet (unique per number)."""
    base = len(RECEIPT_ALPHABET)
    chars = []
    for _ in range(width):
        number, digit = divmod(number, base)
        chars.append(RECEIPT_ALPHABET[digit])
    return "".join(reversed(chars))


def _defaults() -> dict[str, Any]:
    return {
        "anonymity": Anonymity.ANONYMOUS.value,
        "locale": "vi",
        "urgent": False,
        "priority": Priority.NORMAL.value,
        "status": TipStatus.NEW.value,
        "outcome": None,
        "ward_code": None,
        "when_kind": WhenKind.UNKNOWN.value,
        "description": "Tin báo mẫu.",
        "first_response_at": None,
        "closed_at": None,
        "assignee_id": None,
    }


def _sqlite_time(value: datetime) -> str:
    """SQLAlchemy's SQLite storage format for our UTC datetimes."""
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    return value.isoformat(" ", "microseconds")[:26]  # drop "+00:00"; same text as strftime, faster


def _records(
    batch: list[Mapping[str, Any]], *, seed: str, first: int, now: datetime, sqlite: bool
) -> list[tuple[Any, ...]]:
    """Complete rows (ref, receipt hash, group, defaults) as tuples in COLUMNS order."""
    base = _defaults()
    # Unique filler, not an HMAC of any receipt code: seeded tips cannot be looked up by citizens.
    # Increasing values keep the unique indexes append-only, which makes the load several times faster.
    hash_prefix = hashlib.sha256(f"seed:{seed}".encode()).digest()[:24]
    records = []
    for i, row in enumerate(batch, start=first):
        if not row.keys() <= ALLOWED:
            raise ValueError(f"unsupported seed columns: {sorted(row.keys() - ALLOWED)}")
        full = base | dict(row)
        created = full.setdefault("created_at", now)
        full.setdefault("updated_at", created)
        full["category_group"] = CATEGORY_GROUPS[Category(full["category"])]
        full["ref"] = f"TB-{seed}{i:08d}"
        full["receipt_hash"] = hash_prefix + i.to_bytes(8, "big")
        if sqlite:
            created_text = _sqlite_time(created)
            for column in TIME_COLUMNS:
                value = full[column]
                if value is not None:
                    full[column] = created_text if value is created else _sqlite_time(value)
        # StrEnum members are str, so drivers store their values without conversion.
        records.append(tuple([full[c] for c in COLUMNS]))
    return records


def _batches(rows: Iterable[Mapping[str, Any]], size: int) -> Iterator[list[Mapping[str, Any]]]:
    iterator = iter(rows)
    while batch := list(islice(iterator, size)):
        yield batch


async def bulk_load_tips(
    session: AsyncSession, rows: Iterable[Mapping[str, Any]], *, batch_rows: int = BATCH_ROWS
) -> int:
    """Insert many tips fast (COPY on PostgreSQL, multi-row INSERTs on SQLite); returns how many.

    Rows need `category` and `province_code`; `created_at` defaults to now, the group is derived.
    """
    seed = _encode(secrets.randbelow(len(RECEIPT_ALPHABET) ** 4), 4)
    now = utcnow()
    sqlite = session.get_bind().dialect.name == "sqlite"
    connection = await session.connection()
    driver: Any = (await connection.get_raw_connection()).driver_connection
    count = 0
    for batch in _batches(rows, batch_rows):
        records = _records(batch, seed=seed, first=count, now=now, sqlite=sqlite)
        if sqlite:
            # Multi-row INSERTs, not executemany: with the count triggers (migration 0005) every statement opens a
            # statement journal, and one statement per row made a 208,229-tip load 4x slower.
            for first in range(0, len(records), SQLITE_ROWS_PER_INSERT):
                chunk = records[first : first + SQLITE_ROWS_PER_INSERT]
                await driver.execute(_sqlite_insert(len(chunk)), [value for record in chunk for value in record])
        else:
            await driver.copy_records_to_table(Tip.__tablename__, records=records, columns=COLUMNS)
        count += len(records)
    return count


# 19 columns × 1,000 rows stays under SQLite's 32,766 parameters per statement.
SQLITE_ROWS_PER_INSERT = 1000
_SQLITE_ROW = f"({', '.join('?' for _ in COLUMNS)})"


def _sqlite_insert(rows: int) -> str:
    """An INSERT of `rows` tips in one statement."""
    return f"INSERT INTO tips ({', '.join(COLUMNS)}) VALUES {', '.join([_SQLITE_ROW] * rows)}"  # noqa: S608
