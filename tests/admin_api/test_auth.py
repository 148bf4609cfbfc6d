"""Authentication: tokens die on deactivation, logout, password change and expiry; login backoff; TOTP."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

import storage.officers
from admin_api.app import create_app
from bot.context import AppContext
from storage.domain import OfficerRole
from storage.models import AuditEvent, AuthToken, utcnow
from storage.officers import issue_token
from storage.totp import totp_code
from tests.admin_api.conftest import HA_NOI, PASSWORD, ApiOfficer, make_officer

ME = "/api/v1/auth/me"
TOKEN = "/api/v1/auth/token"
NEW_PASSWORD = "another-long-passphrase-42"


async def login(api: httpx.AsyncClient, username: str, password: str = PASSWORD, **extra: str) -> httpx.Response:
    """POST the OAuth2 password form."""
    return await api.post(TOKEN, data={"username": username, "password": password, **extra})


def bearer(response: httpx.Response) -> dict[str, str]:
    """Authorization header from a successful login answer."""
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def audit_actions(context: AppContext) -> list[tuple[str, dict[str, Any]]]:
    """(action, detail) of every audit event, oldest first."""
    async with context.sessions() as session:
        rows = (await session.scalars(select(AuditEvent).order_by(AuditEvent.id))).all()
        return [(row.action, row.detail) for row in rows]


@pytest.fixture
async def admin(app_context: AppContext) -> ApiOfficer:
    """A nationwide admin."""
    return await make_officer(app_context, "chief", role=OfficerRole.ADMIN, nationwide=True, restricted=True)


@pytest.fixture
async def officer(app_context: AppContext) -> ApiOfficer:
    """A Hà Nội officer."""
    return await make_officer(app_context, "hanoi.officer", provinces=(HA_NOI,))


async def test_login_gives_a_working_token(
    api: httpx.AsyncClient, officer: ApiOfficer, app_context: AppContext
) -> None:
    """The password form returns a bearer token that expires after the configured minutes."""
    response = await login(api, "Hanoi.Officer")
    body = response.json()
    assert body["token_type"] == "bearer"
    me = await api.get(ME, headers=bearer(response))
    assert me.status_code == 200
    assert me.json()["username"] == "hanoi.officer"
    assert "password_hash" not in me.text and "totp_secret" not in me.text
    async with app_context.sessions() as session:
        stored = (await session.scalars(select(AuthToken.token_hash))).all()
    assert all(body["access_token"].encode() not in h for h in stored), "tokens are stored hashed only"


async def test_no_token_or_a_bad_token_is_401(api: httpx.AsyncClient) -> None:
    """Missing and made-up tokens are refused with a Bearer challenge."""
    for headers in ({}, {"Authorization": "Bearer not-a-real-token"}, {"Authorization": "Basic Zm9vOmJhcg=="}):
        response = await api.get(ME, headers=headers)
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"] == "Bearer"


async def test_deactivated_officers_token_fails_at_once(
    api: httpx.AsyncClient, admin: ApiOfficer, officer: ApiOfficer
) -> None:
    """Token works → admin deactivates the officer → the same token is 401 on the very next call."""
    assert (await api.get(ME, headers=officer.headers)).status_code == 200
    second = bearer(await login(api, officer.username))
    assert (await api.delete(f"/api/v1/officers/{officer.id}", headers=admin.headers)).status_code == 204
    assert (await api.get(ME, headers=officer.headers)).status_code == 401
    assert (await api.get(ME, headers=second)).status_code == 401
    assert (await login(api, officer.username)).status_code == 401


async def test_deactivation_by_patch_also_revokes(
    api: httpx.AsyncClient, admin: ApiOfficer, officer: ApiOfficer
) -> None:
    """PATCH active=false kills tokens too; reactivation does not bring old tokens back."""
    patch = await api.patch(f"/api/v1/officers/{officer.id}", json={"active": False}, headers=admin.headers)
    assert patch.status_code == 200 and patch.json()["active"] is False
    assert (await api.get(ME, headers=officer.headers)).status_code == 401
    await api.patch(f"/api/v1/officers/{officer.id}", json={"active": True}, headers=admin.headers)
    assert (await api.get(ME, headers=officer.headers)).status_code == 401
    assert (await api.get(ME, headers=bearer(await login(api, officer.username)))).status_code == 200


async def test_password_change_revokes_every_token(api: httpx.AsyncClient, officer: ApiOfficer) -> None:
    """Changing one's password logs out everywhere; only the new password works afterwards."""
    other = bearer(await login(api, officer.username))
    body = {"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    assert (await api.post("/api/v1/auth/password", json=body, headers=officer.headers)).status_code == 204
    assert (await api.get(ME, headers=officer.headers)).status_code == 401
    assert (await api.get(ME, headers=other)).status_code == 401
    assert (await login(api, officer.username)).status_code == 401
    assert (await api.get(ME, headers=bearer(await login(api, officer.username, NEW_PASSWORD)))).status_code == 200


async def test_password_change_needs_the_current_password(api: httpx.AsyncClient, officer: ApiOfficer) -> None:
    """A wrong current password is refused and the token keeps working; weak new passwords are 422."""
    wrong = {"current_password": "not-my-password", "new_password": NEW_PASSWORD}
    assert (await api.post("/api/v1/auth/password", json=wrong, headers=officer.headers)).status_code == 403
    weak = {"current_password": PASSWORD, "new_password": "aaaaaaaaaaaa"}
    assert (await api.post("/api/v1/auth/password", json=weak, headers=officer.headers)).status_code == 422
    assert (await api.get(ME, headers=officer.headers)).status_code == 200


async def test_admin_password_reset_revokes_tokens(
    api: httpx.AsyncClient, admin: ApiOfficer, officer: ApiOfficer
) -> None:
    """An admin setting someone's password logs them out."""
    response = await api.patch(f"/api/v1/officers/{officer.id}", json={"password": NEW_PASSWORD}, headers=admin.headers)
    assert response.status_code == 200
    assert (await api.get(ME, headers=officer.headers)).status_code == 401
    assert (await login(api, officer.username, NEW_PASSWORD)).status_code == 200


async def test_logout_revokes_only_that_token(api: httpx.AsyncClient, officer: ApiOfficer) -> None:
    """Logout kills the token used for the call, not the officer's other sessions."""
    other = bearer(await login(api, officer.username))
    assert (await api.post("/api/v1/auth/logout", headers=officer.headers)).status_code == 204
    assert (await api.get(ME, headers=officer.headers)).status_code == 401
    assert (await api.post("/api/v1/auth/logout", headers=officer.headers)).status_code == 401
    assert (await api.get(ME, headers=other)).status_code == 200


async def test_expired_tokens_are_401(api: httpx.AsyncClient, app_context: AppContext, officer: ApiOfficer) -> None:
    """A token with lifetime 0, and a live token whose expiry has passed, both fail."""
    async with app_context.sessions() as session:
        dead, _ = await issue_token(session, officer_id=officer.id, lifetime=timedelta(0))
        await session.commit()
    assert (await api.get(ME, headers={"Authorization": f"Bearer {dead}"})).status_code == 401
    assert (await api.get(ME, headers=officer.headers)).status_code == 200
    async with app_context.sessions() as session:
        await session.execute(update(AuthToken).values(expires_at=utcnow() - timedelta(seconds=1)))
        await session.commit()
    assert (await api.get(ME, headers=officer.headers)).status_code == 401


async def test_token_lifetime_follows_the_setting(
    api: httpx.AsyncClient, app_context: AppContext, officer: ApiOfficer
) -> None:
    """expires_at is access_token_minutes from now."""
    app_context.settings = app_context.settings.model_copy(update={"access_token_minutes": 5})
    expires = datetime.fromisoformat((await login(api, officer.username)).json()["expires_at"])
    left = (expires if expires.tzinfo else expires.replace(tzinfo=UTC)) - utcnow()
    assert timedelta(minutes=4) < left <= timedelta(minutes=5)


async def test_twenty_wrong_passwords_slow_the_next_try(
    api: httpx.AsyncClient, app_context: AppContext, officer: ApiOfficer
) -> None:
    """After 20 wrong passwords even the right one waits (429 + Retry-After); all of it is audited."""
    statuses = [(await login(api, officer.username, f"wrong-password-{i}")).status_code for i in range(20)]
    assert statuses[:5] == [401] * 5, "the first few mistakes are free"
    assert set(statuses) <= {401, 429} and 429 in statuses
    response = await login(api, officer.username)
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 0
    actions = [action for action, _ in await audit_actions(app_context)]
    assert actions.count("login_failed") >= 5
    assert actions.count("login_throttled") == statuses.count(429) + 1
    assert "login" not in actions


async def test_backoff_per_client_across_usernames(app_context: AppContext, officer: ApiOfficer) -> None:
    """One client guessing many usernames is slowed down; another client is not."""
    app = create_app(app_context)

    def client(ip: str) -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=app, client=(ip, 40000))
        return httpx.AsyncClient(transport=transport, base_url="http://testserver")

    async with client("203.0.113.7") as guesser, client("198.51.100.9") as honest:
        statuses = [(await login(guesser, f"user{i}", "guess-guess-guess")).status_code for i in range(20)]
        assert 429 in statuses
        throttled = await login(guesser, officer.username)
        assert throttled.status_code == 429 and int(throttled.headers["Retry-After"]) > 0
        assert (await login(honest, officer.username)).status_code == 200


class CountingHasher:
    """Wraps the argon2 hasher to count verifications."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.verified = 0

    def verify(self, password_hash: str, password: str) -> bool:
        self.verified += 1
        result: bool = self.inner.verify(password_hash, password)
        return result

    def hash(self, password: str) -> str:
        result: str = self.inner.hash(password)
        return result


async def test_unknown_usernames_take_the_same_path(
    api: httpx.AsyncClient, app_context: AppContext, officer: ApiOfficer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Unknown, malformed and known usernames with a wrong password: same status, body and argon2 work."""
    hasher = CountingHasher(storage.officers._HASHER)
    monkeypatch.setattr(storage.officers, "_HASHER", hasher)
    answers = []
    for username in (officer.username, "nobody.here", "x\x00' OR 1=1 --"):
        before = hasher.verified
        response = await login(api, username, "wrong-password-123")
        answers.append((response.status_code, response.json(), response.headers.get("WWW-Authenticate")))
        assert hasher.verified - before == 1, f"one argon2 verification for {username!r}"
    assert answers[0] == answers[1] == answers[2]
    assert answers[0][0] == 401
    failed = [detail for action, detail in await audit_actions(app_context) if action == "login_failed"]
    assert [d["username"] for d in failed] == [officer.username, "nobody.here", "(malformed)"]


async def test_totp_second_factor(api: httpx.AsyncClient, officer: ApiOfficer) -> None:
    """Setup → enable with a code; then login needs the code; setup cannot silently reset it."""
    setup = await api.post("/api/v1/auth/totp/setup", headers=officer.headers)
    assert setup.status_code == 200
    secret = setup.json()["secret"]
    assert setup.json()["otpauth_uri"].startswith("otpauth://totp/")
    wrong = await api.post("/api/v1/auth/totp/enable", json={"code": "000000"}, headers=officer.headers)
    if totp_code(secret) != "000000":
        assert wrong.status_code == 422
    enable = await api.post("/api/v1/auth/totp/enable", json={"code": totp_code(secret)}, headers=officer.headers)
    assert enable.status_code == 204
    assert (await api.get(ME, headers=officer.headers)).json()["totp_enabled"] is True
    assert (await api.post("/api/v1/auth/totp/setup", headers=officer.headers)).status_code == 409

    assert (await login(api, officer.username)).status_code == 401
    bad_code = "123456" if totp_code(secret) != "123456" else "654321"
    assert (await login(api, officer.username, otp=bad_code)).status_code == 401
    assert (await login(api, officer.username, "wrong-password-1", otp=totp_code(secret))).status_code == 401
    assert (
        await api.get(ME, headers=bearer(await login(api, officer.username, otp=totp_code(secret))))
    ).status_code == 200


async def test_required_totp_blocks_admins_until_enrolled(
    api: httpx.AsyncClient, app_context: AppContext, admin: ApiOfficer, officer: ApiOfficer
) -> None:
    """With require_totp_for_admins, an admin without TOTP may only enrol; officers are unaffected."""
    app_context.settings = app_context.settings.model_copy(update={"require_totp_for_admins": True})
    assert (await api.get("/api/v1/officers", headers=admin.headers)).status_code == 403
    headers = bearer(await login(api, admin.username))
    blocked = await api.get("/api/v1/officers", headers=headers)
    assert blocked.status_code == 403 and "TOTP" in blocked.json()["detail"]
    assert (await api.get(ME, headers=headers)).status_code == 200
    assert (await api.get(ME, headers=officer.headers)).status_code == 200

    secret = (await api.post("/api/v1/auth/totp/setup", headers=headers)).json()["secret"]
    enable = await api.post("/api/v1/auth/totp/enable", json={"code": totp_code(secret)}, headers=headers)
    assert enable.status_code == 204
    assert (await api.get("/api/v1/officers", headers=headers)).status_code == 200
    assert (await login(api, admin.username)).status_code == 401
    fresh = bearer(await login(api, admin.username, otp=totp_code(secret)))
    assert (await api.get("/api/v1/officers", headers=fresh)).status_code == 200


@pytest.fixture
async def cli_database(tmp_path: Any, sqlite_template: Any) -> AsyncIterator[str]:
    """A migrated SQLite file of its own for the CLI subprocess (copied from the session template)."""
    import shutil

    path = tmp_path / "cli.db"
    shutil.copy(sqlite_template, path)
    yield f"sqlite+aiosqlite:///{path}"


async def test_cli_creates_the_first_nationwide_admin(cli_database: str, tmp_path: Any, sandbox: Any) -> None:
    """`tinbao officer create --role admin` with the password on stdin; then log in through the API."""
    import asyncio
    import os
    import sys

    from bot.config import load_settings
    from bot.factory import build_context
    from tests.conftest import TEST_SECRET

    env = {
        **os.environ,
        "DATABASE_URL": cli_database,
        "DATA_DIR": str(tmp_path / "cli-data"),
        "SECRET_KEY": TEST_SECRET,
        "LOG_LEVEL": "WARNING",
    }
    env.pop("REDIS_URL", None)

    async def run(*args: str, stdin: str) -> tuple[int, str, str]:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "officer", "create", *args,
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env,
        )  # fmt: skip
        out, err = await asyncio.wait_for(proc.communicate(stdin.encode()), timeout=60)
        return proc.returncode or 0, out.decode(), err.decode()

    code, out, err = await run("--username", "Chief", "--role", "admin", stdin=PASSWORD + "\n")
    assert code == 0, err
    assert "chief" in out and "nationwide" in out and PASSWORD not in out + err
    code, _, err = await run("--username", "weak", "--role", "admin", stdin="short\n")
    assert code == 1 and "password" in err

    settings = load_settings(database_url=cli_database, secret_key=TEST_SECRET, data_dir=tmp_path / "data")
    context = build_context(settings, api_base=sandbox.base_url)
    try:
        transport = httpx.ASGITransport(app=create_app(context))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as api:
            me = (await api.get(ME, headers=bearer(await login(api, "chief")))).json()
            assert me["role"] == "admin" and me["nationwide"] is True and me["can_view_restricted"] is True
            assert (await login(api, "weak", "short")).status_code == 401
    finally:
        await context.close()


async def test_malformed_otp_is_422_not_a_crash(api: httpx.AsyncClient, officer: ApiOfficer) -> None:
    """Non-digit one-time codes never reach the constant-time comparison (which only takes ASCII)."""
    secret = (await api.post("/api/v1/auth/totp/setup", headers=officer.headers)).json()["secret"]
    await api.post("/api/v1/auth/totp/enable", json={"code": totp_code(secret)}, headers=officer.headers)
    assert (await login(api, officer.username, otp="é12345")).status_code == 422
    assert (await login(api, officer.username, otp=totp_code(secret))).status_code == 200
