"""Officer API benchmark: the tip list and the statistics over a million tips on PostgreSQL.

    uv run python -m bench.officer_api --tips 1000000 [--database-url URL] [--iterations 60] [--reuse]

Creates (or empties) a separate database, `tinbao_bench` next to the given one, migrates it, bulk-loads
a realistic distribution with COPY, then calls the real ASGI app through httpx (warm-up first) and
prints p50/p95 per query. The default server is TEST_POSTGRES_URL, else the local test PostgreSQL.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import secrets
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import httpx
from sqlalchemy import select, text
from sqlalchemy.engine import make_url

from admin_api.app import create_app
from bot.config import load_settings
from bot.context import AppContext
from bot.factory import build_context
from bot.runner import settle_heap
from storage.areas import area_rows
from storage.db import create_engine
from storage.domain import CATEGORIES_BY_GROUP, CategoryGroup, OfficerRole, Outcome, Priority, TipStatus
from storage.migrate import upgrade
from storage.models import Tip
from storage.officers import Jurisdiction, create_officer, issue_token
from storage.seed import bulk_load_tips

DEFAULT_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
BENCH_DB = "tinbao_bench"
HA_NOI, HCM = 1, 79
SPAN = timedelta(days=5 * 365)
# Rough weights: the two big cities and a few populous provinces get most tips.
PROVINCE_WEIGHTS = {1: 14.0, 79: 16.0, 31: 4.0, 48: 3.0, 92: 3.0, 75: 4.0, 38: 4.0, 40: 4.0, 24: 3.5, 33: 3.0}
# DOMAIN.md's Hà Nội split: political security, criminal, social evils, other.
GROUP_WEIGHTS = {
    CategoryGroup.POLITICAL_SECURITY: 24_962,
    CategoryGroup.CRIMINAL: 115_301,
    CategoryGroup.SOCIAL_EVILS: 55_226,
    CategoryGroup.OTHER: 12_740,
}
OUTCOME_WEIGHTS = {
    Outcome.VALUABLE: 662,
    Outcome.NOT_ACTIONABLE: 6000,
    Outcome.DUPLICATE: 1400,
    Outcome.FALSE_REPORT: 1000,
    Outcome.SPAM: 859,
}
PHRASES = (
    "Có người bán ma túy sau chợ",
    "Xe máy bị trộm trước cổng trường",
    "Nhóm thanh niên đánh bạc ban đêm",
    "Lừa đảo qua mạng, giả danh công an gọi điện",
    "Đổ rác thải công nghiệp ra sông",
    "Quán karaoke hoạt động mại dâm",
    "Buôn bán hàng giả ở chợ đầu mối",
    "Đua xe trái phép trên quốc lộ",
    "Cho vay nặng lãi, đòi nợ bằng bạo lực",
    "Tàng trữ pháo nổ trong kho",
)


@dataclass
class Officers:
    """Bearer tokens of the benchmark's officers and the assignee pools."""

    province_token: str
    admin_token: str
    assignees: dict[int, list[int]]


def _bench_url(base: str, database: str) -> str:
    return make_url(base).set(database=database).render_as_string(hide_password=False)


def _asyncpg_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def ensure_database(base_url: str, database: str) -> str:
    """CREATE DATABASE if missing; returns the SQLAlchemy URL of the benchmark database."""
    maintenance = await asyncpg.connect(_asyncpg_dsn(_bench_url(base_url, "postgres")))
    try:
        exists = await maintenance.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", database)
        if not exists:
            await maintenance.execute(f'CREATE DATABASE "{database}"')
    finally:
        await maintenance.close()
    return _bench_url(base_url, database)


async def fresh_schema(url: str) -> None:
    """Drop everything and migrate from scratch."""
    engine = create_engine(url)
    async with engine.begin() as conn:
        await conn.execute(text("DROP SCHEMA public CASCADE"))
        await conn.execute(text("CREATE SCHEMA public"))
    await engine.dispose()
    await asyncio.to_thread(upgrade, url)


def tip_rows(n: int, assignees: dict[int, list[int]], now: datetime, seed: int = 7) -> Iterator[dict[str, Any]]:
    """n tips in creation order over five years, weighted by province, group, status and outcome."""
    rng = random.Random(seed)
    _provinces, wards = area_rows()
    by_province: dict[int, list[int]] = {}
    for ward in wards:
        by_province.setdefault(int(ward["province_code"]), []).append(int(ward["code"]))
    codes = sorted(by_province)
    province_weights = [PROVINCE_WEIGHTS.get(c, 1.5) for c in codes]
    groups, group_weights = list(GROUP_WEIGHTS), list(GROUP_WEIGHTS.values())
    outcomes, outcome_weights = list(OUTCOME_WEIGHTS), list(OUTCOME_WEIGHTS.values())
    start = now - SPAN
    step = SPAN / n
    chunk = 10_000  # draw in chunks: random.choices is much faster per call with k > 1
    for base in range(0, n, chunk):
        size = min(chunk, n - base)
        provinces = rng.choices(codes, province_weights, k=size)
        picked_groups = rng.choices(groups, group_weights, k=size)
        for j in range(size):
            i = base + j
            province = provinces[j]
            categories = CATEGORIES_BY_GROUP[picked_groups[j]]
            created = start + step * i + timedelta(seconds=rng.random() * 30)
            age = now - created
            urgent = rng.random() < 0.03
            row: dict[str, Any] = {
                "category": categories[rng.randrange(len(categories))],
                "province_code": province,
                "ward_code": rng.choice(by_province[province]) if rng.random() < 0.9 else None,
                "created_at": created,
                "urgent": urgent,
                "priority": Priority.URGENT
                if urgent
                else rng.choice((Priority.NORMAL,) * 8 + (Priority.HIGH, Priority.LOW)),
                "description": f"{PHRASES[rng.randrange(len(PHRASES))]} (số {i}).",
            }
            status = _status(rng, age)
            row["status"] = status
            if status is not TipStatus.NEW:
                response = timedelta(seconds=rng.expovariate(1 / 7200))
                row["first_response_at"] = min(created + response, now)
                row["assignee_id"] = rng.choice(assignees[province])
            if status is TipStatus.CLOSED:
                row["outcome"] = rng.choices(outcomes, outcome_weights)[0]
                row["closed_at"] = min(created + timedelta(days=rng.uniform(1, 30)), now)
            yield row


def _status(rng: random.Random, age: timedelta) -> TipStatus:
    """Old tips are mostly closed; recent ones are still being worked on."""
    roll = rng.random()
    if age > timedelta(days=60):
        return TipStatus.CLOSED if roll < 0.86 else TipStatus.FORWARDED if roll < 0.96 else TipStatus.IN_REVIEW
    if roll < 0.3:
        return TipStatus.NEW
    if roll < 0.65:
        return TipStatus.IN_REVIEW
    if roll < 0.75:
        return TipStatus.NEEDS_INFO
    return TipStatus.FORWARDED if roll < 0.85 else TipStatus.CLOSED


async def make_officers(context: AppContext) -> Officers:
    """Two assignees per province (the measured officers come from `issue_tokens`)."""
    provinces, _wards = area_rows()
    assignees: dict[int, list[int]] = {}
    async with context.sessions() as session:
        for province in provinces:
            code = int(province["code"])
            for k in range(2):
                officer = await create_officer(
                    session,
                    username=f"p{code}_officer{k}",
                    password=secrets.token_urlsafe(16),
                    role=OfficerRole.OFFICER,
                    jurisdiction=Jurisdiction(province_codes=(code,)),
                )
                assignees.setdefault(code, []).append(officer.id)
        await session.commit()
    return Officers("", "", assignees)


async def issue_tokens(context: AppContext, officers: Officers) -> Officers:
    """Fresh tokens for the two measured officers (created on first use)."""
    from storage.officers import find_officer

    async with context.sessions() as session:
        tokens = []
        for username, role, jurisdiction, restricted in (
            ("bench_hanoi", OfficerRole.OFFICER, Jurisdiction(province_codes=(HA_NOI,)), False),
            ("bench_admin", OfficerRole.ADMIN, Jurisdiction(nationwide=True), True),
        ):
            officer = await find_officer(session, username=username)
            if officer is None:
                officer = await create_officer(
                    session,
                    username=username,
                    password=secrets.token_urlsafe(16),
                    role=role,
                    jurisdiction=jurisdiction,
                    can_view_restricted=restricted,
                )
            token, _ = await issue_token(session, officer_id=officer.id, lifetime=timedelta(hours=3))
            tokens.append(token)
        await session.commit()
    return Officers(tokens[0], tokens[1], officers.assignees)


async def load_tips(context: AppContext, n: int, assignees: dict[int, list[int]]) -> float:
    """Bulk-load n tips (COPY, committed every 100,000), then VACUUM ANALYZE everything; returns seconds."""
    started = time.monotonic()
    rows = tip_rows(n, assignees, datetime.now(UTC))
    loaded = 0
    while loaded < n:
        chunk = (next(rows) for _ in range(min(100_000, n - loaded)))
        async with context.sessions() as session:
            loaded += await bulk_load_tips(session, chunk, batch_rows=20_000)
            await session.commit()
        print(f"  loaded {loaded:,} tips ({time.monotonic() - started:.0f} s)", flush=True)
    async with context.engine.connect() as conn:
        autocommit = await conn.execution_options(isolation_level="AUTOCOMMIT")
        # The whole database: the COPY batches also rewrote the trigger-kept count tables many times over.
        await autocommit.execute(text("VACUUM ANALYZE"))
    return time.monotonic() - started


async def count_tips(context: AppContext) -> int:
    """How many tips the database holds."""
    async with context.sessions() as session:
        return int(await session.scalar(select(text("count(*)")).select_from(Tip)) or 0)


def percentile(values: list[float], q: float) -> float:
    """The q-quantile (0..1) by linear interpolation."""
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


async def measure(
    client: httpx.AsyncClient, path: str, params: dict[str, Any], token: str, iterations: int, warmup: int
) -> tuple[list[float], dict[str, Any]]:
    """Latencies in ms of `iterations` calls after `warmup` calls; returns them with the last body."""
    headers = {"Authorization": f"Bearer {token}"}
    body: dict[str, Any] = {}
    timings: list[float] = []
    for k in range(warmup + iterations):
        started = time.perf_counter()
        response = await client.get(path, params=params, headers=headers)
        elapsed = (time.perf_counter() - started) * 1000
        if response.status_code != 200:
            raise RuntimeError(f"{path} {params}: HTTP {response.status_code} {response.text[:300]}")
        if k >= warmup:
            timings.append(elapsed)
        body = response.json()
    return timings, body


async def run_queries(
    context: AppContext, officers: Officers, iterations: int, warmup: int
) -> list[tuple[str, float, float, str]]:
    """Each typical query through the real ASGI app: (name, p50, p95, note)."""
    now = datetime.now(UTC)
    results: list[tuple[str, float, float, str]] = []
    transport = httpx.ASGITransport(app=create_app(context))
    settle_heap()  # as `tinbao run` does before it serves
    async with httpx.AsyncClient(transport=transport, base_url="http://bench", timeout=60) as client:
        province, admin = officers.province_token, officers.admin_token
        probe = await client.get("/api/v1/tips", params={"limit": 1}, headers={"Authorization": f"Bearer {province}"})
        has_list = probe.status_code == 200
        quarter = {
            "created_from": (now - timedelta(days=400)).isoformat(),
            "created_to": (now - timedelta(days=310)).isoformat(),
        }
        cases: list[tuple[str, str, dict[str, Any], str]] = [
            ("stats: province officer (Hà Nội), period=month", "/api/v1/stats/tips", {"period": "month"}, province),
            ("stats: nationwide admin, period=month", "/api/v1/stats/tips", {"period": "month"}, admin),
            (
                "stats: province officer, last 30 days, period=day",
                "/api/v1/stats/tips",
                {"period": "day", "created_from": (now - timedelta(days=30)).isoformat()},
                province,
            ),
        ]
        if has_list:
            cases += [
                ("list: province officer, newest first", "/api/v1/tips", {}, province),
                ("list: status=new", "/api/v1/tips", {"status": "new"}, province),
                (
                    "list: category=fraud + 3-month date range",
                    "/api/v1/tips",
                    {"category": "fraud", **quarter},
                    province,
                ),
                ("list: overdue=true", "/api/v1/tips", {"overdue": "true"}, province),
                ("list: text search q=xe máy", "/api/v1/tips", {"q": "xe máy"}, province),
                ("list: nationwide admin, newest first", "/api/v1/tips", {}, admin),
            ]
        for name, path, params, token in cases:
            timings, body = await measure(client, path, params, token, iterations, warmup)
            note = f"total {body.get('total', '?'):,}" if isinstance(body.get("total"), int) else ""
            results.append((name, percentile(timings, 0.5), percentile(timings, 0.95), note))
            print(f"  {name}: p50 {results[-1][1]:.1f} ms, p95 {results[-1][2]:.1f} ms {note}", flush=True)
            if path == "/api/v1/tips" and not params and token == province and body.get("next_cursor"):
                second = {"cursor": body["next_cursor"]}
                timings, body = await measure(client, path, second, token, iterations, warmup)
                results.append(
                    ("list: second page via cursor", percentile(timings, 0.5), percentile(timings, 0.95), "")
                )
                print(f"  list: second page: p50 {results[-1][1]:.1f} ms, p95 {results[-1][2]:.1f} ms", flush=True)
        if not has_list:
            results.append(("list: GET /api/v1/tips not available in this checkout", 0.0, 0.0, "skipped"))
    return results


def machine() -> str:
    """CPU, cores, memory and PostgreSQL version for the record."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        memory_kb = next(
            int(line.split()[1])
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal")
        )
        memory = f"{memory_kb / 1024 / 1024:.0f} GB RAM"
    except (OSError, StopIteration, ValueError):
        memory = "? RAM"
    return f"{cpu}, {os.cpu_count()} cores, {memory}, Python {platform.python_version()}"


async def main_async(args: argparse.Namespace) -> int:
    """Prepare the database, load, measure, print a Markdown table."""
    url = await ensure_database(args.database_url, args.bench_db)
    settings = load_settings(
        database_url=url,
        secret_key="bench-" + secrets.token_urlsafe(32),
        data_dir=Path(tempfile.mkdtemp(prefix="tinbao-bench-")),
        redis_url=None,
        log_level="WARNING",
    )
    load_seconds = 0.0
    if args.reuse:
        print("migrating the kept database to head (newer migrations backfill from its tips) ...", flush=True)
        started = time.monotonic()
        await asyncio.to_thread(upgrade, url)
        print(f"  migrated in {time.monotonic() - started:.0f} s", flush=True)
        context = build_context(settings, api_base="http://127.0.0.1:9")
        existing = await count_tips(context)
        if existing != args.tips:
            await context.close()
            print(f"--reuse: found {existing:,} tips, not {args.tips:,}; reloading", flush=True)
            args.reuse = False
    if not args.reuse:
        print(f"fresh schema in {make_url(url).database} ...", flush=True)
        await fresh_schema(url)
        context = build_context(settings, api_base="http://127.0.0.1:9")
        officers = await make_officers(context)
        print(f"loading {args.tips:,} tips ...", flush=True)
        load_seconds = await load_tips(context, args.tips, officers.assignees)
    else:
        officers = Officers("", "", {})
    try:
        officers = await issue_tokens(context, officers)
        async with context.sessions() as session:
            server = str(await session.scalar(text("SHOW server_version")))
        print(f"measuring ({args.warmup} warm-up + {args.iterations} calls each) ...", flush=True)
        results = await run_queries(context, officers, args.iterations, args.warmup)
    finally:
        await context.close()
    print()
    print(f"Machine: {machine()}, PostgreSQL {server}")
    print(f"Command: uv run python -m bench.officer_api --tips {args.tips}" + (" --reuse" if args.reuse else ""))
    if load_seconds:
        print(f"Load: {args.tips:,} tips in {load_seconds:.0f} s (COPY, indexes in place, then VACUUM ANALYZE)")
    print()
    print("| query | p50 ms | p95 ms | note |")
    print("|---|---:|---:|---|")
    for name, p50, p95, note in results:
        print(f"| {name} | {p50:.1f} | {p95:.1f} | {note} |")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tips", type=int, default=1_000_000)
    parser.add_argument("--database-url", default=os.environ.get("TEST_POSTGRES_URL") or DEFAULT_URL)
    parser.add_argument("--bench-db", default=BENCH_DB, help="database created next to --database-url")
    parser.add_argument("--iterations", type=int, default=60)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--reuse", action="store_true", help="keep an already loaded database of the same size")
    args = parser.parse_args(argv)
    if make_url(args.database_url).get_backend_name() != "postgresql":
        print("the benchmark needs PostgreSQL (--database-url or TEST_POSTGRES_URL)", file=sys.stderr)
        return 2
    return asyncio.run(main_async(args))


if __name__ == "__main__":
    raise SystemExit(main())
