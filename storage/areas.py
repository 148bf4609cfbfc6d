"""Provinces and communes from `vietnam-provinces`: seeding, lookup and accent-insensitive search."""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass
from typing import Any
from weakref import WeakKeyDictionary

import vietnam_provinces
from sqlalchemy import select
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


@dataclass(frozen=True, slots=True)
class _Ward:
    ref: AreaRef
    province_code: int
    folded: str


@dataclass(frozen=True, slots=True)
class _Directory:
    """Every province and ward, loaded once per database: the reform's list changes only by migration."""

    provinces: list[AreaRef]
    province_by_code: dict[int, AreaRef]
    ward_by_code: dict[int, _Ward]
    wards_by_province: dict[int, list[_Ward]]


# Keyed by the engine, so tests and tools that open several databases each get their own copy.
_directories: WeakKeyDictionary[object, _Directory] = WeakKeyDictionary()


async def _directory(session: AsyncSession) -> _Directory:
    """The area directory of the session's database (read from it on first use)."""
    engine = session.get_bind()
    known = _directories.get(engine)
    if known is not None:
        return known
    provinces = [
        AreaRef(code, name)
        for code, name in await session.execute(select(Province.code, Province.name).order_by(Province.name_folded))
    ]
    wards: dict[int, _Ward] = {}
    by_province: dict[int, list[_Ward]] = {}
    rows = await session.execute(select(Ward.code, Ward.name, Ward.province_code, Ward.name_folded))
    for code, name, province_code, folded in rows:
        ward = _Ward(AreaRef(code, name), province_code, folded)
        wards[code] = ward
        by_province.setdefault(province_code, []).append(ward)
    directory = _Directory(provinces, {p.code: p for p in provinces}, wards, by_province)
    if provinces:  # an unmigrated or emptied database is not remembered
        with suppress(TypeError):  # a bind that cannot be weakly referenced is simply asked again
            _directories[engine] = directory
    return directory


async def list_provinces(session: AsyncSession) -> list[AreaRef]:
    """All provinces, in Vietnamese alphabetical order of their folded names."""
    return list((await _directory(session)).provinces)


async def get_province(session: AsyncSession, *, code: int) -> AreaRef | None:
    """One province by code, or None."""
    return (await _directory(session)).province_by_code.get(code)


async def get_ward(session: AsyncSession, *, code: int) -> tuple[AreaRef, int] | None:
    """One ward by code with its province code, or None."""
    ward = (await _directory(session)).ward_by_code.get(code)
    return (ward.ref, ward.province_code) if ward else None


async def search_wards(session: AsyncSession, *, province_code: int, query: str, limit: int = 8) -> Sequence[AreaRef]:
    """Wards of a province whose name contains the typed words, with or without diacritics."""
    words = fold_place_query(query).split()
    if not words:
        return []
    wards = (await _directory(session)).wards_by_province.get(province_code, [])
    found = sorted(
        (w for w in wards if all(word in w.folded for word in words)), key=lambda w: (len(w.folded), w.folded)
    )
    # Names that start with the query (after the division word) rank first, then shorter names.
    phrase = " ".join(words)
    rows = [w.ref for w in found[: limit * 4]]
    rows.sort(key=lambda r: (not fold_place_query(r.name).startswith(phrase), len(r.name)))
    return rows[:limit]
