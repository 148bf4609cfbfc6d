"""Property-based API tests from the app's own OpenAPI (schemathesis), plus a generic mass-assignment test.

Every operation of `app.openapi()` gets 100 deterministic examples, sent as a nationwide admin on a real
test database holding tips and officers. Checks: no server error, every answer matches its documented
schema, every status code is documented. Operations added later are covered without editing this file.
"""

from __future__ import annotations

import asyncio
import traceback
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any, TypeVar

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

from admin_api.app import create_app
from bot.context import AppContext
from storage.domain import Anonymity, AttachmentKind, Category, OfficerRole
from storage.officers import issue_token
from storage.tips import NewAttachment
from tests.admin_api.conftest import HA_NOI, HCM, HOAN_KIEM, PASSWORD, ApiOfficer, make_officer, make_tip
from tests.admin_api.test_authz_matrix import BODY_EXAMPLES, Operation, World, example_value, request_for

T = TypeVar("T")
EXAMPLES = 100
CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance]
# Operations left out, and why. The Telegram webhook is not in the schema (include_in_schema=False).
EXCLUDED: dict[str, str] = {
    "GET /healthz": "not part of the officer API; covered by the bot tests",
}
# Fields a client must never set: a body carrying any of them is a 422 (mass assignment).
READ_ONLY_FIELDS = {
    "id": 1,
    "created_at": "2024-01-01T00:00:00Z",
    "updated_at": "2024-01-01T00:00:00Z",
    "password_hash": "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA",
    "totp_secret": "JBSWY3DPEHPK3PXP",
    "totp_secret_enc": "AAAA",
    "totp_enabled": True,
    "telegram_chat_enc": "AAAA",
    "ref": "TB-AAAAAAA",
    "receipt_hash": "AAAA",
    "reporter_id": 1,
    "officer_id": 1,
    "closed_at": "2024-01-01T00:00:00Z",
    "is_superuser": True,
}


async def seed(context: AppContext) -> tuple[ApiOfficer, dict[str, list[int]]]:
    """A nationwide admin, officers of every kind and tips inside/outside Hà Nội, restricted ones included."""
    admin = await make_officer(context, "fuzz.admin", role=OfficerRole.ADMIN, nationwide=True, restricted=True)
    officers = [admin.id]
    for name, role, scope in (
        ("fuzz.officer", OfficerRole.OFFICER, {"provinces": (HA_NOI,)}),
        ("fuzz.supervisor", OfficerRole.SUPERVISOR, {"provinces": (HCM,), "restricted": True}),
        ("fuzz.ward", OfficerRole.OFFICER, {"wards": (HOAN_KIEM,)}),
        ("fuzz.hn.admin", OfficerRole.ADMIN, {"provinces": (HA_NOI,)}),
    ):
        officers.append((await make_officer(context, name, role=role, **scope)).id)
    big = NewAttachment(
        kind=AttachmentKind.PHOTO, file_id="AgAD-too-big", file_unique_id="big", size=25 * 1024 * 1024, mime_type=None
    )
    tips = []
    for province, ward, category, anonymity, urgent in (
        (HA_NOI, HOAN_KIEM, Category.DRUGS, Anonymity.ANONYMOUS, False),
        (HA_NOI, HOAN_KIEM, Category.POLITICAL_SECURITY, Anonymity.FOLLOW_UP, True),
        (HCM, 26506, Category.FRAUD, Anonymity.ANONYMOUS, False),
        (HCM, None, Category.TRAFFIC, Anonymity.ANONYMOUS, True),
    ):
        tip, _ = await make_tip(
            context,
            province=province,
            ward=ward,
            category=category,
            anonymity=anonymity,
            urgent=urgent,
            attachments=[big],
        )
        tips.append(tip.id)
    identified, _ = await make_tip(
        context, anonymity=Anonymity.IDENTIFIED, identity_name="Nguyễn Văn A", identity_phone="0912345678"
    )
    tips.append(identified.id)
    return admin, {"tip_id": tips, "officer_id": officers, "n": [1, 2]}


def _httpx_kwargs(kwargs: dict[str, Any]) -> dict[str, Any]:
    """requests-style transport kwargs → httpx.AsyncClient.request kwargs."""
    out = {k: v for k, v in kwargs.items() if k in {"method", "url", "headers", "params", "cookies", "json", "files"}}
    data = kwargs.get("data")
    if isinstance(data, (bytes, str)):
        out["content"] = data
    elif data is not None:
        out["data"] = data
    out["headers"] = {k: v for k, v in (out.get("headers") or {}).items() if k.lower() != "connection"}
    if not out.get("cookies"):
        out.pop("cookies", None)
    if out.get("files"):
        out["files"] = [(name, _file_part(part)) for name, part in out["files"]]
    return out


def _file_part(part: Any) -> Any:
    """A multipart part as httpx takes it: generated contents may be numbers, booleans or None."""
    if not isinstance(part, tuple):
        part = (None, part)
    filename, content, *rest = part
    if not isinstance(content, (bytes, str)):
        content = "" if content is None else str(content)
    return (filename, content, *rest)


@pytest.mark.timeout(900)
async def test_schemathesis_every_operation(api: httpx.AsyncClient, app_context: AppContext) -> None:
    """100 examples per operation as a nationwide admin: no 5xx, schema-conformant bodies and statuses."""
    admin, real_ids = await seed(app_context)
    app = create_app(app_context)
    schema = schemathesis.openapi.from_dict(app.openapi())
    loop = asyncio.get_running_loop()
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")

    def on_loop(coro: Awaitable[T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, loop).result(timeout=60)  # type: ignore[arg-type]

    async def fresh_token() -> str:
        # A new token per example: logout and password changes revoke tokens, which must not end the run.
        async with app_context.sessions() as session:
            token, _ = await issue_token(session, officer_id=admin.id, lifetime=timedelta(minutes=5))
            await session.commit()
            return token

    failures: dict[str, str] = {}
    tested: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()  # type: ignore[union-attr]  # an invalid schema fails loudly here
        label = f"{operation.method.upper()} {operation.path}"
        if label in EXCLUDED:
            continue
        tested.append(label)
        run = _runner(operation, real_ids, on_loop, fresh_token, client)
        try:
            await asyncio.to_thread(run)
        except (Exception, BaseExceptionGroup) as exc:  # collected per operation, reported together below
            failures[label] = "".join(traceback.format_exception(exc))[-4000:]
    await client.aclose()
    assert len(tested) >= 8, tested
    assert not failures, "\n\n".join(f"== {label}\n{text}" for label, text in failures.items())


def _runner(
    operation: Any,
    real_ids: dict[str, list[int]],
    on_loop: Callable[[Awaitable[Any]], Any],
    fresh_token: Callable[[], Awaitable[str]],
    client: httpx.AsyncClient,
) -> Callable[[], None]:
    """A hypothesis test for one operation; half of the examples use ids that exist."""

    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
        print_blob=False,
    )
    @given(case=operation.as_strategy(), real=st.booleans(), pick=st.integers(min_value=0, max_value=100))
    def run(case: Any, real: bool, pick: int) -> None:
        if real and case.path_parameters:
            for name in list(case.path_parameters):
                if name in real_ids:
                    case.path_parameters[name] = real_ids[name][pick % len(real_ids[name])]
        token = on_loop(fresh_token())
        headers = {"Authorization": f"Bearer {token}"}
        kwargs = _httpx_kwargs(case.as_transport_kwargs(base_url="http://testserver", headers=headers))
        try:
            response = on_loop(client.request(**kwargs))
        except Exception as exc:
            raise AssertionError(f"server raised {exc!r} for {kwargs}") from exc
        response.request.read()  # multipart bodies are streamed; schemathesis reads the request content
        case.validate_response(response, checks=CHECKS, headers=headers)

    return run


def _json_body_schemas(world: World) -> list[tuple[Operation, dict[str, Any]]]:
    """(operation, resolved body schema) for every operation that takes a JSON body."""
    found = []
    for op in world.operations():
        content = op.spec.get("requestBody", {}).get("content", {})
        if "application/json" in content:
            schema = content["application/json"]["schema"]
            while "$ref" in schema:
                schema = world.openapi["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
            found.append((op, schema))
    return found


async def test_every_json_body_forbids_unknown_and_read_only_fields(
    api: httpx.AsyncClient, app_context: AppContext
) -> None:
    """Mass assignment: each JSON body says additionalProperties=false, and injected fields are a 422."""
    admin, real_ids = await seed(app_context)
    world = World(api=api, openapi=create_app(app_context).openapi(), viewers=[], tips={})
    bodies = _json_body_schemas(world)
    assert any(op.path == "/api/v1/officers" for op, _ in bodies)
    failures = []
    values = {"tip_id": real_ids["tip_id"][0], "officer_id": real_ids["officer_id"][1], "n": 1}
    for op, schema in bodies:
        if schema.get("additionalProperties") is not False:
            failures.append(f"{op}: body schema allows additional properties")
        base = request_for(world, op, values)
        valid = BODY_EXAMPLES.get((op.method, op.path), example_value(world.openapi, schema))
        for field, value in READ_ONLY_FIELDS.items():
            if field in schema.get("properties", {}):
                continue
            base["json"] = {**valid, field: value}
            response = await api.request(**base, headers=admin.headers)
            errors = response.json().get("detail") if response.status_code == 422 else None
            if not isinstance(errors, list) or not any(
                e.get("type") == "extra_forbidden" and e.get("loc", [None])[-1] == field for e in errors
            ):
                failures.append(f"{op} with {field!r}: {response.status_code} {response.text[:200]}")
    assert not failures, "\n".join(failures)


async def test_login_form_extras_grant_nothing(api: httpx.AsyncClient, app_context: AppContext) -> None:
    """OAuth2 scopes or smuggled form fields on the login form change nothing about the officer's powers."""
    officer = await make_officer(app_context, "plain.officer", provinces=(HA_NOI,))
    data = {"username": officer.username, "password": PASSWORD, "scope": "admin", "role": "admin", "nationwide": "1"}
    response = await api.post("/api/v1/auth/token", data=data)
    assert response.status_code == 200
    me = await api.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {response.json()['access_token']}"})
    assert me.json()["role"] == "officer" and me.json()["nationwide"] is False
