"""GET /api/v1/tips/export.csv: streamed, scoped, Excel-friendly, injection-safe and audited."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import select

from bot.context import AppContext
from storage.domain import Anonymity, Category, OfficerRole, Outcome, TipStatus
from storage.export import COLUMNS
from storage.models import AuditEvent, Ward
from storage.seed import bulk_load_tips
from tests.admin_api.conftest import HA_NOI, HCM, HOAN_KIEM, make_officer, make_tip

URL = "/api/v1/tips/export.csv"


def _rows(response: httpx.Response) -> list[dict[str, str]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    assert response.content.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM so Excel reads Vietnamese correctly
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))


async def _exports(context: AppContext) -> list[AuditEvent]:
    async with context.sessions() as session:
        stmt = select(AuditEvent).where(AuditEvent.action == "tips_exported").order_by(AuditEvent.id)
        return list((await session.scalars(stmt)).all())


async def test_export_scope_columns_and_audit(api: httpx.AsyncClient, app_context: AppContext) -> None:
    mine, _ = await make_tip(app_context, province=HA_NOI, ward=HOAN_KIEM, category=Category.FRAUD, urgent=True)
    await make_tip(app_context, province=HA_NOI, ward=None, category=Category.DRUGS)
    foreign, _ = await make_tip(app_context, province=HCM, ward=None)
    restricted, _ = await make_tip(app_context, province=HA_NOI, category=Category.POLITICAL_SECURITY)
    officer = await make_officer(app_context, "hn_officer", provinces=(HA_NOI,))

    rows = _rows(await api.get(URL, headers=officer.headers))
    assert list(rows[0].keys()) == list(COLUMNS)  # no description by default
    refs = {r["ref"] for r in rows}
    assert mine.ref in refs
    assert foreign.ref not in refs
    assert restricted.ref not in refs
    assert len(rows) == 2
    first = next(r for r in rows if r["ref"] == mine.ref)
    assert first["created_at"].endswith("+07:00")
    assert datetime.fromisoformat(first["created_at"]) == mine.created_at.replace(microsecond=0)
    assert first["category"] == "fraud"
    assert first["group"] == "criminal"
    assert first["province"] == "Thành phố Hà Nội"
    assert first["commune"]
    assert first["status"] == "new"
    assert first["urgent"] == "true"
    assert first["priority"] == "urgent"
    assert first["first_response_seconds"] == ""

    events = await _exports(app_context)
    assert len(events) == 1
    assert events[0].officer_id == officer.id
    assert events[0].detail == {"filter": {}, "rows": 2, "include_description": False}

    rows = _rows(await api.get(URL, params={"category": "drugs", "status": "new"}, headers=officer.headers))
    assert len(rows) == 1
    events = await _exports(app_context)
    assert events[-1].detail["filter"] == {"status": ["new"], "category": ["drugs"]}
    assert events[-1].detail["rows"] == 1

    # Filtering to a foreign province exports nothing (0 foreign rows), but is still audited.
    rows = _rows(await api.get(URL, params={"province_code": HCM}, headers=officer.headers))
    assert rows == []
    assert (await _exports(app_context))[-1].detail["rows"] == 0


async def test_description_for_supervisors_only_and_injection_safe(
    api: httpx.AsyncClient, app_context: AppContext
) -> None:
    formula = '=HYPERLINK("http://evil.example","bấm vào")'
    await make_tip(app_context, description=formula)
    await make_tip(app_context, description="+84 912 — gọi ngay", category=Category.FRAUD)
    identified, _ = await make_tip(
        app_context,
        anonymity=Anonymity.IDENTIFIED,
        identity_name="Nguyễn Văn An",
        identity_phone="0912345678",
        description='Tôi thấy, dòng 1\ndòng 2, "trích dẫn"',
    )
    officer = await make_officer(app_context, "hn_officer", provinces=(HA_NOI,))
    supervisor = await make_officer(app_context, "hn_super", role=OfficerRole.SUPERVISOR, provinces=(HA_NOI,))

    r = await api.get(URL, params={"include_description": "true"}, headers=officer.headers)
    assert r.status_code == 403

    r = await api.get(URL, params={"include_description": "true"}, headers=supervisor.headers)
    rows = _rows(r)
    assert list(rows[0].keys()) == [*COLUMNS, "description"]
    descriptions = {row["description"] for row in rows}
    assert "'" + formula in descriptions
    assert "'+84 912 — gọi ngay" in descriptions
    assert 'Tôi thấy, dòng 1\ndòng 2, "trích dẫn"' in descriptions  # quoted, multi-line cell survives
    assert "Nguyễn Văn An" not in r.text
    assert "0912345678" not in r.text
    assert identified.ref in {row["ref"] for row in rows}
    events = await _exports(app_context)
    assert [e.detail["include_description"] for e in events] == [True]


async def test_export_streams_many_rows_in_batches(api: httpx.AsyncClient, app_context: AppContext) -> None:
    async with app_context.sessions() as session:
        wards = list((await session.scalars(select(Ward.code).where(Ward.province_code == HA_NOI))).all())
        start = datetime(2024, 1, 1, tzinfo=UTC)
        rows = [
            {
                "category": Category.THEFT_ROBBERY,
                "province_code": HA_NOI if i % 5 else HCM,
                "ward_code": wards[i % len(wards)] if i % 5 else None,
                "created_at": start + timedelta(minutes=i),
                "status": TipStatus.CLOSED if i % 3 == 0 else TipStatus.NEW,
                "outcome": Outcome.VALUABLE if i % 3 == 0 else None,
                "first_response_at": start + timedelta(minutes=i, seconds=90) if i % 3 == 0 else None,
            }
            for i in range(3_500)
        ]
        await bulk_load_tips(session, rows)
        await session.commit()
    officer = await make_officer(app_context, "hn_officer", provinces=(HA_NOI,))
    r = await api.get(URL, headers=officer.headers)
    exported = _rows(r)
    assert len(exported) == 2_800  # 4 of every 5 are in Hà Nội
    assert len({row["ref"] for row in exported}) == 2_800
    assert all(row["province"] == "Thành phố Hà Nội" for row in exported)
    closed = [row for row in exported if row["status"] == "closed"]
    assert closed and all(row["first_response_seconds"] == "90" and row["outcome"] == "valuable" for row in closed)
    assert (await _exports(app_context))[-1].detail["rows"] == 2_800


async def test_export_needs_login(api: httpx.AsyncClient) -> None:
    assert (await api.get(URL)).status_code == 401
