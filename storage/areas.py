"""Provinces and communes from `vietnam-provinces`: seeding, lookup and accent-insensitive search."""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import vietnam_provinces
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Province, Ward

# Division words a citizen rarely types; dropping them lets "hoan kiem" match "Phường Hoàn Kiếm".
_DIVISION_PREFIXES = ("thanh pho", "dac khu", "phuong", "tinh", "xa", "tp")


def fold(text: str) -> str:
    """Lower-case ASCII form without diacritics (đ → d), single-spaced."""
    text = text.replace("Đ", "D").replace("đ", "d")
    decomposed = unicodedata.normalize("NFD", text)
    stripped = "".join(c for c in decomposed if unicodedata.category(c) != "Mn")
    cleaned = re.sub(r"[^0-9a-z]+", " ", stripped.lower())
    return " ".join(cleaned.split())


def fold_place_query(text: str) -> str:
    """Fold a typed search and drop a leading division word ("phuong", "xa", ...)."""
    folded = fold(text)
    for prefix in _DIVISION_PREFIXES:
        if folded.startswith(prefix + " "):
            return folded[len(prefix) + 1 :]
    return folded


def area_rows() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Province and ward rows ready for bulk insert, read from the package's data file."""
    data = json.loads(vietnam_provinces.NESTED_DIVISIONS_JSON_PATH.read_text(encoding="utf-8"))
    provinces: list[dict[str, Any]] = []
    wards: list[dict[str, Any]] = []
    for p in data:
        provinces.append(
            {
                "code": p["code"],
                "name": p["name"],
                "name_folded": fold(p["name"]),
                "division_type": p["division_type"],
                "codename": p["codename"],
            }
        )
        for w in p["wards"]:
            wards.append(
                {
                    "code": w["code"],
                    "province_code": p["code"],
                    "name": w["name"],
                    "name_folded": fold(w["name"]),
                    "division_type": w["division_type"],
                    "codename": w["codename"],
                }
            )
    return provinces, wards


@dataclass(frozen=True, slots=True)
class AreaRef:
    """A province or ward as the bot and API show it."""

    code: int
    name: str


async def list_provinces(session: AsyncSession) -> list[AreaRef]:
    """All provinces, in Vietnamese alphabetical order of their folded names."""
    rows = await session.execute(select(Province.code, Province.name).order_by(Province.name_folded))
    return [AreaRef(code, name) for code, name in rows]


async def get_province(session: AsyncSession, *, code: int) -> AreaRef | None:
    """One province by code, or None."""
    row = (await session.execute(select(Province.code, Province.name).where(Province.code == code))).first()
    return AreaRef(row[0], row[1]) if row else None


async def get_ward(session: AsyncSession, *, code: int) -> tuple[AreaRef, int] | None:
    """One ward by code with its province code, or None."""
    row = (await session.execute(select(Ward.code, Ward.name, Ward.province_code).where(Ward.code == code))).first()
    return (AreaRef(row[0], row[1]), row[2]) if row else None


async def search_wards(session: AsyncSession, *, province_code: int, query: str, limit: int = 8) -> Sequence[AreaRef]:
    """Wards of a province whose name contains the typed words, with or without diacritics."""
    words = fold_place_query(query).split()
    if not words:
        return []
    stmt = select(Ward.code, Ward.name).where(Ward.province_code == province_code)
    for word in words:
        stmt = stmt.where(Ward.name_folded.contains(word, autoescape=True))
    # Names that start with the query (after the division word) rank first, then shorter names.
    phrase = " ".join(words)
    stmt = stmt.order_by(func.length(Ward.name_folded), Ward.name_folded).limit(limit * 4)
    rows = [(code, name) for code, name in await session.execute(stmt)]
    rows.sort(key=lambda r: (not fold_place_query(r[1]).startswith(phrase), len(r[1])))
    return [AreaRef(code, name) for code, name in rows[:limit]]
