"""The `tinbao` command: run, migrate, sandbox, chat."""

from __future__ import annotations

import argparse
import sys

from bot.config import ConfigError, Settings, load_settings
from bot.logsetup import configure_logging


def _settings_or_exit() -> Settings:
    try:
        return load_settings()
    except ConfigError as exc:
        print(f"Configuration error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


def _secrets(settings: Settings) -> list[str]:
    values = [settings.bot_token]
    for secret in (settings.webhook_secret, settings.secret_key):
        if secret is not None:
            values.append(secret.get_secret_value())
    return values


def main(argv: list[str] | None = None) -> None:
    """Entry point of `tinbao` and `python -m bot`."""
    parser = argparse.ArgumentParser(prog="tinbao", description="TinBáo tip line")
    sub = parser.add_subparsers(dest="command", required=True)
    run_cmd = sub.add_parser("run", help="migrate, then run bot + API (+ sandbox without a token) in one process")
    run_cmd.add_argument(
        "--role",
        choices=["all", "web", "worker"],
        default="all",
        help="all: everything; web: intake, officer API, outbox; worker: scheduler, campaign sender, alerts",
    )
    sub.add_parser("migrate", help="upgrade the database to the latest schema")
    sandbox = sub.add_parser("sandbox", help="run only the Telegram Bot API emulator")
    sandbox.add_argument("--host", default=None)
    sandbox.add_argument("--port", type=int, default=None)
    chat = sub.add_parser("chat", help="chat with the bot as a citizen through the sandbox")
    chat.add_argument("--user-id", type=int, default=100000001)
    chat.add_argument("--lang", default="vi", choices=["vi", "en"])
    officer = sub.add_parser("officer", help="manage officer accounts")
    officer_sub = officer.add_subparsers(dest="officer_command", required=True)
    create = officer_sub.add_parser("create", help="create an officer; the password is read from stdin")
    create.add_argument("--username", required=True)
    create.add_argument("--role", choices=["officer", "supervisor", "admin"], default="officer")
    create.add_argument("--province", type=int, action="append", default=[], help="province code (repeatable)")
    create.add_argument("--ward", type=int, action="append", default=[], help="commune code (repeatable)")
    create.add_argument("--restricted", action="store_true", help="may see political-security tips")
    args = parser.parse_args(argv)

    settings = _settings_or_exit()
    configure_logging(settings.log_level, _secrets(settings))
    if args.command == "run":
        from bot.roles import Role
        from bot.runner import run
        from sandbox.eventloop import run as run_loop

        run_loop(run(settings, Role(args.role)))
    elif args.command == "migrate":
        from storage.migrate import upgrade

        upgrade(settings.effective_database_url)
        print("database is up to date")
    elif args.command == "officer":
        from bot.officer_cli import create_officer_from_cli

        raise SystemExit(create_officer_from_cli(settings, args))
    elif args.command == "sandbox":
        from sandbox.__main__ import main as sandbox_main

        host = args.host or settings.sandbox_host
        sandbox_main(["--host", host, "--port", str(args.port or settings.sandbox_port)])
    elif args.command == "chat":
        from sandbox.chat import main as chat_main

        url = f"http://{settings.sandbox_host}:{settings.sandbox_port}"
        chat_main(["--url", url, "--user-id", str(args.user_id), "--lang", args.lang])
