"""`tinbao officer create`: the first (nationwide) admin, or any officer, from the command line."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys

from bot.config import Settings
from storage.audit import record_audit
from storage.db import create_engine, create_session_factory
from storage.domain import OfficerRole
from storage.errors import DomainError
from storage.migrate import upgrade
from storage.officers import Jurisdiction, create_officer


def read_password() -> str:
    """The password from a prompt (twice) on a terminal, or the first line of piped stdin."""
    if sys.stdin.isatty():
        first = getpass.getpass("Password: ")
        if getpass.getpass("Repeat password: ") != first:
            raise SystemExit("passwords differ")
        return first
    return sys.stdin.readline().rstrip("\n")


def create_officer_from_cli(settings: Settings, args: argparse.Namespace) -> int:
    """Create the officer; an officer with no area given covers the whole country. Returns an exit code."""
    password = read_password()
    nationwide = not args.province and not args.ward
    jurisdiction = Jurisdiction(nationwide=nationwide, province_codes=args.province, ward_codes=args.ward)
    upgrade(settings.effective_database_url)

    async def create() -> int:
        engine = create_engine(settings.effective_database_url)
        try:
            async with create_session_factory(engine)() as session:
                officer = await create_officer(
                    session,
                    username=args.username,
                    password=password,
                    role=OfficerRole(args.role),
                    jurisdiction=jurisdiction,
                    can_view_restricted=args.restricted or (args.role == "admin" and nationwide),
                )
                await record_audit(
                    session, officer_id=None, action="officer_created_cli", detail={"officer_id": officer.id}
                )
                await session.commit()
                scope = "nationwide" if nationwide else f"provinces={args.province} wards={args.ward}"
                print(f"officer {officer.username} (id {officer.id}, {officer.role}) created, {scope}")
                return 0
        except DomainError as exc:
            print(f"cannot create officer: {exc}", file=sys.stderr)
            return 1
        finally:
            await engine.dispose()

    return asyncio.run(create())
