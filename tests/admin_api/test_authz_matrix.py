"""Authorisation matrix: every /api/v1 operation (read from the app's OpenAPI) × role × scope × restricted.

Operations are discovered from `app.openapi()`, so endpoints added later are covered without editing
this file; only request bodies that the schema alone cannot produce validly live in `BODY_EXAMPLES`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from admin_api.app import create_app
from bot.context import AppContext
from storage.domain import AttachmentKind, Category, OfficerRole
from storage.models import TipMessage, Ward
from storage.tips import NewAttachment
from tests.admin_api.conftest import HA_NOI, HCM, HOAN_KIEM, PASSWORD, ApiOfficer, make_officer, make_tip

API = "/api/v1"
LOGIN = "/api/v1/auth/token"
HCM_WARD = 26506
NO_SUCH_TIP = 987654
REF = re.compile(r"TB-[A-Z0-9]{7}")
TOO_BIG = 25 * 1024 * 1024  # over Telegram's 20 MB getFile limit: the attachment route answers without fetching

# Bodies the schema alone cannot make valid (or that should not change much); keyed by (METHOD, path).
BODY_EXAMPLES: dict[tuple[str, str], Any] = {
    ("PATCH", "/api/v1/tips/{tip_id}"): {"priority": "high"},
    ("POST", "/api/v1/tips/{tip_id}/notes"): {"body": "Ghi chú nội bộ: kiểm tra lại địa điểm."},
    ("POST", "/api/v1/tips/{tip_id}/replies"): {"body": "Bạn có thể cho biết thêm thời gian không?"},
    ("POST", "/api/v1/officers"): {"username": "matrix.new", "password": PASSWORD, "province_codes": [HA_NOI]},
    ("PATCH", "/api/v1/officers/{officer_id}"): {"on_duty": True},
    ("POST", "/api/v1/auth/password"): {"current_password": "wrong-password", "new_password": "new-password-123"},
    ("POST", "/api/v1/auth/totp/enable"): {"code": "123456"},
}
PATH_EXAMPLES: dict[str, Any] = {"n": 1}


@dataclass(frozen=True)
class Operation:
    """One OpenAPI operation."""

    method: str
    path: str
    spec: dict[str, Any] = field(hash=False, compare=False)

    @property
    def path_params(self) -> list[str]:
        return re.findall(r"{(\w+)}", self.path)

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


@dataclass
class Viewer:
    """An officer of the matrix and the tips they may see (by name)."""

    name: str
    role: OfficerRole
    sees: set[str]
    officer: ApiOfficer | None = None


@dataclass
class World:
    """Officers, tips and the app's operations."""

    api: httpx.AsyncClient
    openapi: dict[str, Any]
    viewers: list[Viewer]
    tips: dict[str, tuple[int, str]]  # name → (id, ref)

    def operations(self) -> Iterator[Operation]:
        for path, item in self.openapi["paths"].items():
            if not path.startswith(API + "/"):
                continue
            for method, spec in item.items():
                if method in {"get", "post", "put", "patch", "delete"}:
                    yield Operation(method.upper(), path, spec)

    def viewer(self, name: str) -> Viewer:
        return next(v for v in self.viewers if v.name == name)


TIPS = ("hoan_kiem", "hanoi_other", "hcm", "restricted", "hcm_restricted")
ALL_HANOI = {"hoan_kiem", "hanoi_other"}
VIEWERS = [
    *(Viewer(f"hn.{role.value}", role, set(ALL_HANOI)) for role in OfficerRole),
    *(Viewer(f"hn.{role.value}.r", role, ALL_HANOI | {"restricted"}) for role in OfficerRole),
    Viewer("ward.officer", OfficerRole.OFFICER, {"hoan_kiem"}),
    Viewer("ward.officer.r", OfficerRole.OFFICER, {"hoan_kiem", "restricted"}),
    Viewer("nation.admin", OfficerRole.ADMIN, set(TIPS)),
]


@pytest.fixture
async def world(api: httpx.AsyncClient, app_context: AppContext) -> World:
    """Nine officers (province, commune, nationwide; with/without the restricted permission) and five tips."""
    async with app_context.sessions() as session:
        other_ward = await session.scalar(
            select(Ward.code).where(Ward.province_code == HA_NOI, Ward.code != HOAN_KIEM).order_by(Ward.code)
        )
    assert other_ward is not None
    big_file = NewAttachment(
        kind=AttachmentKind.DOCUMENT, file_id="BQAD-too-big", file_unique_id="big1", size=TOO_BIG, mime_type="video/mp4"
    )
    places = {
        "hoan_kiem": (HA_NOI, HOAN_KIEM, Category.DRUGS),
        "hanoi_other": (HA_NOI, other_ward, Category.FRAUD),
        "hcm": (HCM, HCM_WARD, Category.DRUGS),
        "restricted": (HA_NOI, HOAN_KIEM, Category.POLITICAL_SECURITY),
        "hcm_restricted": (HCM, HCM_WARD, Category.POLITICAL_SECURITY),
    }
    tips: dict[str, tuple[int, str]] = {}
    for name, (province, ward, category) in places.items():
        tip, _ = await make_tip(app_context, province=province, ward=ward, category=category, attachments=[big_file])
        tips[name] = (tip.id, tip.ref)
    viewers = [Viewer(v.name, v.role, set(v.sees)) for v in VIEWERS]
    for viewer in viewers:
        scope: dict[str, Any] = {"restricted": viewer.name.endswith(".r")}
        if viewer.name.startswith("hn."):
            scope["provinces"] = (HA_NOI,)
        elif viewer.name.startswith("ward."):
            scope["wards"] = (HOAN_KIEM,)
        else:
            scope = {"nationwide": True, "restricted": True}
        viewer.officer = await make_officer(app_context, viewer.name, role=viewer.role, **scope)
    return World(api=api, openapi=create_app(app_context).openapi(), viewers=viewers, tips=tips)


def _resolve(openapi: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = openapi["components"]["schemas"][name]
    return schema


def example_value(openapi: dict[str, Any], schema: dict[str, Any]) -> Any:
    """A minimal valid-looking value for a JSON schema (required fields only)."""
    schema = _resolve(openapi, schema)
    for key in ("example", "default"):
        if key in schema and schema[key] is not None:
            return schema[key]
    if schema.get("examples"):
        return schema["examples"][0]
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            options = [o for o in schema[key] if _resolve(openapi, o).get("type") != "null"]
            return example_value(openapi, options[0])
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        props = schema.get("properties", {})
        return {name: example_value(openapi, props[name]) for name in schema.get("required", [])}
    if kind == "array":
        return [example_value(openapi, schema.get("items", {}))] * schema.get("minItems", 0)
    if kind == "integer":
        return max(1, schema.get("minimum", 1))
    if kind == "number":
        return max(1.0, schema.get("minimum", 1.0))
    if kind == "boolean":
        return False
    return "x" * max(1, schema.get("minLength", 1))


def request_for(world: World, op: Operation, values: dict[str, Any]) -> dict[str, Any]:
    """httpx.request kwargs for an operation: path, required query params and a body."""
    url = op.path
    for name in op.path_params:
        url = url.replace("{" + name + "}", str(values.get(name, PATH_EXAMPLES.get(name, 1))))
    kwargs: dict[str, Any] = {"method": op.method, "url": url}
    query = {
        p["name"]: example_value(world.openapi, p.get("schema", {}))
        for p in op.spec.get("parameters", [])
        if p["in"] == "query" and p.get("required")
    }
    if query:
        kwargs["params"] = query
    content = op.spec.get("requestBody", {}).get("content", {})
    if (op.method, op.path) in BODY_EXAMPLES:
        body = BODY_EXAMPLES[(op.method, op.path)]
    elif "application/json" in content:
        body = example_value(world.openapi, content["application/json"]["schema"])
    else:
        body = None
    if body is not None:
        kwargs["json"] = body
    return kwargs


async def call(world: World, op: Operation, viewer: Viewer | None, **values: Any) -> httpx.Response:
    """Send the operation as a viewer (None: without a token)."""
    headers = viewer.officer.headers if viewer and viewer.officer else {}
    return await world.api.request(**request_for(world, op, values), headers=headers)


def tip_operations(world: World) -> list[Operation]:
    """Every operation addressing one tip."""
    return [op for op in world.operations() if "tip_id" in op.path_params]


def list_operations(world: World) -> list[Operation]:
    """GET operations without path parameters (lists, stats, exports, audit), except one's own account."""
    return [
        op
        for op in world.operations()
        if op.method == "GET" and not op.path_params and not op.path.startswith(API + "/auth/")
    ]


async def test_matrix_discovers_the_operations(world: World) -> None:
    """The matrix really walks the API (guards against an empty OpenAPI making every test pass)."""
    paths = {str(op) for op in world.operations()}
    assert {"GET /api/v1/officers", "GET /api/v1/auth/me"} <= paths
    if "GET /api/v1/tips/{tip_id}" in paths:
        assert len(tip_operations(world)) >= 1


async def test_tip_operations_hide_out_of_scope_tips(world: World, app_context: AppContext) -> None:
    """Every {tip_id} operation × viewer × tip: visible → not 404; invisible → exactly a missing tip's 404."""
    failures: list[str] = []
    ops = tip_operations(world)
    if not ops:
        pytest.skip("no {tip_id} operations in the API yet")
    for op in ops:
        for viewer in world.viewers:
            missing = await call(world, op, viewer, tip_id=NO_SUCH_TIP)
            if missing.status_code not in {403, 404}:
                failures.append(f"{op} as {viewer.name}: missing tip gave {missing.status_code} {missing.text[:200]}")
            for tip_name, (tip_id, ref) in world.tips.items():
                response = await call(world, op, viewer, tip_id=tip_id)
                where = f"{op} as {viewer.name} on {tip_name}"
                if response.status_code >= 500 or response.status_code == 401:
                    failures.append(f"{where}: {response.status_code} {response.text[:200]}")
                elif tip_name in viewer.sees:
                    if response.status_code == 404 and "{n}" not in op.path:
                        failures.append(f"{where}: in scope but 404 {response.text[:200]}")
                    if response.status_code == 422:
                        failures.append(f"{where}: 422, add a valid body to BODY_EXAMPLES: {response.text[:300]}")
                else:
                    if response.status_code != missing.status_code or response.content != missing.content:
                        failures.append(
                            f"{where}: out of scope must look exactly like a missing tip "
                            f"({missing.status_code}), got {response.status_code} {response.text[:200]}"
                        )
                    if ref in response.text:
                        failures.append(f"{where}: the ref {ref} leaked")
    nation = world.viewer("nation.admin").officer
    assert nation is not None
    foreign = [world.tips["hcm"][0], world.tips["hcm_restricted"][0]]
    async with app_context.sessions() as session:
        writers = set(
            (await session.scalars(select(TipMessage.officer_id).where(TipMessage.tip_id.in_(foreign)))).all()
        )
    if writers - {None, nation.id}:
        failures.append(f"officers outside Hồ Chí Minh wrote on its tips: {writers}")
    assert not failures, "\n".join(failures)


def _tip_ids_in(value: Any, *, tip_object: bool = False) -> Iterator[int]:
    """Tip ids in a JSON body: `tip_id` fields, and `id` of objects that carry a tip `ref`."""
    if isinstance(value, dict):
        is_tip = isinstance(value.get("ref"), str) and REF.fullmatch(value["ref"]) is not None
        for key, item in value.items():
            names_tip = key in {"tip_id", "duplicate_of_id"} or (key == "id" and is_tip)
            if names_tip and isinstance(item, int):
                yield item
            else:
                yield from _tip_ids_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from _tip_ids_in(item)


async def test_lists_stats_exports_and_audit_hold_no_foreign_rows(world: World) -> None:
    """Every list-like GET as every viewer: no ref or id of a tip they may not see, and counts match scope."""
    ops = list_operations(world)
    # Everyone touches every tip they can, so the audit log has rows about every tip.
    for op in tip_operations(world):
        if op.method == "GET" and op.path == "/api/v1/tips/{tip_id}":
            for viewer in world.viewers:
                for name in viewer.sees:
                    await call(world, op, viewer, tip_id=world.tips[name][0])
    failures: list[str] = []
    for op in ops:
        for viewer in world.viewers:
            response = await call(world, op, viewer)
            where = f"{op} as {viewer.name}"
            if response.status_code in {401} or response.status_code >= 500:
                failures.append(f"{where}: {response.status_code} {response.text[:200]}")
                continue
            if response.status_code != 200:
                continue
            visible_refs = {world.tips[n][1] for n in viewer.sees}
            visible_ids = {world.tips[n][0] for n in viewer.sees}
            foreign_refs = set(REF.findall(response.text)) - visible_refs
            if foreign_refs:
                failures.append(f"{where}: foreign refs {sorted(foreign_refs)}")
            body: Any = None
            if response.headers.get("content-type", "").startswith("application/json"):
                body = response.json()
                foreign_ids = set(_tip_ids_in(body)) - visible_ids
                if foreign_ids:
                    failures.append(f"{where}: foreign tip ids {sorted(foreign_ids)}")
            if op.path in {"/api/v1/tips", "/api/v1/tips/export.csv"}:
                found = set(REF.findall(response.text))
                if found != visible_refs:
                    failures.append(f"{where}: refs {sorted(found)} != in scope {sorted(visible_refs)}")
            counted = isinstance(body, dict) and isinstance(body.get("total"), int)
            if counted and op.path.startswith((API + "/stats", API + "/tips")) and body["total"] != len(viewer.sees):
                failures.append(f"{where}: total {body['total']} != {len(viewer.sees)} tips in scope")
    assert not failures, "\n".join(failures)


async def test_every_operation_but_login_needs_a_token(world: World) -> None:
    """No token, or a dead one → 401 everywhere except POST /auth/token."""
    failures = []
    tip_id = world.tips["hoan_kiem"][0]
    officer = world.viewer("hn.officer").officer
    assert officer is not None
    for op in world.operations():
        if op.path == LOGIN:
            continue
        values = {"tip_id": tip_id, "officer_id": officer.id}
        for headers in ({}, {"Authorization": "Bearer revoked-or-made-up"}):
            response = await world.api.request(**request_for(world, op, values), headers=headers)
            if response.status_code != 401:
                failures.append(f"{op} with {headers or 'no token'}: {response.status_code} {response.text[:200]}")
    assert not failures, "\n".join(failures)


async def test_officer_management_is_admin_only_and_scoped(world: World) -> None:
    """Every /officers operation: officers and supervisors 403; a province admin never reaches wider officers."""
    failures = []
    nation = world.viewer("nation.admin").officer
    hanoi_officer = world.viewer("hn.officer").officer
    assert nation is not None and hanoi_officer is not None
    ops = [op for op in world.operations() if op.path.startswith(API + "/officers")]
    assert ops
    for op in ops:
        for viewer in world.viewers:
            target = nation.id if viewer.name != "nation.admin" else hanoi_officer.id
            response = await call(world, op, viewer, officer_id=target)
            where = f"{op} as {viewer.name}"
            if viewer.role is not OfficerRole.ADMIN:
                if response.status_code != 403:
                    failures.append(f"{where}: {response.status_code}, expected 403")
            elif "officer_id" in op.path_params and viewer.name != "nation.admin" and response.status_code != 404:
                failures.append(f"{where} on the nationwide admin: {response.status_code}, expected 404")
            elif op.method == "GET" and not op.path_params and response.status_code == 200:
                names = {o["username"] for o in response.json()["items"]}
                if viewer.name.startswith("hn.") and not names <= {
                    v.name for v in world.viewers if v.name != "nation.admin"
                }:
                    failures.append(f"{where}: sees {sorted(names)}")
    assert not failures, "\n".join(failures)
