"""Catalog upkeep: `python -m bot.i18n_tool sync DOMAIN FILE...` adds new msgids; `check` finds gaps."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po, write_po

from bot.i18n import LOCALES_DIR, SUPPORTED_LOCALES

KEYWORDS = {"_": None, "N_": None, "gettext": None, "gettext_noop": None, "translate": (1,)}
SOURCE_DIRS = ("bot", "handlers", "admin_api")


def extract(paths: Iterable[Path]) -> dict[str, list[str]]:
    """msgid → places, from the given Python files."""
    found: dict[str, list[str]] = {}
    for path in paths:
        for lineno, message, _comments, _context in extract_from_file("python", str(path), keywords=KEYWORDS):
            if isinstance(message, str) and message:
                found.setdefault(message, []).append(f"{path}:{lineno}")
    return found


def source_files(root: Path) -> list[Path]:
    """Every Python file whose strings reach citizens or officers."""
    return sorted(p for d in SOURCE_DIRS for p in (root / d).rglob("*.py") if "i18n_tool" not in p.name)


def _po_path(locale: str, domain: str) -> Path:
    return LOCALES_DIR / locale / "LC_MESSAGES" / f"{domain}.po"


def _read(path: Path, locale: str, domain: str) -> Catalog:
    if path.exists():
        with path.open("rb") as handle:
            return read_po(handle, locale=locale, domain=domain)
    return Catalog(locale=locale, domain=domain, project="TinBáo", charset="utf-8")


def all_msgids(locale: str) -> dict[str, str]:
    """Every msgid in a locale's catalogs with its translation (possibly empty)."""
    merged: dict[str, str] = {}
    for path in sorted((LOCALES_DIR / locale / "LC_MESSAGES").glob("*.po")):
        for m in _read(path, locale, path.stem):
            if m.id and isinstance(m.id, str):
                merged[m.id] = m.string if isinstance(m.string, str) else ""
    return merged


def sync(domain: str, files: list[Path]) -> int:
    """Add msgids from `files` that no catalog has yet to DOMAIN.po (en filled, vi left to translate)."""
    messages = extract(files)
    added = 0
    for locale in SUPPORTED_LOCALES:
        known = all_msgids(locale)
        path = _po_path(locale, domain)
        catalog = _read(path, locale, domain)
        for msgid, places in messages.items():
            if msgid in known:
                continue
            catalog.add(
                msgid,
                msgid if locale == "en" else "",
                locations=[(p.split(":")[0], int(p.split(":")[1])) for p in places],
            )
            added += 1
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as handle:
            write_po(handle, catalog, width=0, omit_header=False, no_location=True, sort_output=False)
    return added


def missing(root: Path) -> dict[str, list[str]]:
    """Locale → msgids used in code without a translation in that locale."""
    used = extract(source_files(root))
    gaps: dict[str, list[str]] = {}
    for locale in SUPPORTED_LOCALES:
        known = all_msgids(locale)
        gaps[locale] = sorted(m for m in used if not known.get(m))
    return gaps


def main() -> None:
    """Command line entry."""
    parser = argparse.ArgumentParser(prog="python -m bot.i18n_tool")
    sub = parser.add_subparsers(dest="command", required=True)
    sync_cmd = sub.add_parser("sync", help="add new msgids of FILES to DOMAIN.po in every locale")
    sync_cmd.add_argument("domain")
    sync_cmd.add_argument("files", nargs="+", type=Path)
    sub.add_parser("check", help="list msgids without a translation")
    args = parser.parse_args()
    if args.command == "sync":
        print(f"{sync(args.domain, args.files)} entries added")
        return
    gaps = missing(Path.cwd())
    for locale, ids in gaps.items():
        for msgid in ids:
            print(f"{locale}: {msgid!r}")
    sys.exit(1 if any(gaps.values()) else 0)


if __name__ == "__main__":
    main()
