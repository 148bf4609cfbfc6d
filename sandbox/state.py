"""In-memory world of the sandbox: one World per bot token, all kept in a SandboxState."""

from __future__ import annotations

import bisect
import re
import secrets
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from sandbox.ratelimit import SendLimiter
from sandbox.wakeup import Signal

JSON = dict[str, Any]
TOKEN_RE = re.compile(r"^\d+:[A-Za-z0-9_-]{20,}$")
BOT_FIRST_NAME = "TinBáo Sandbox"
BOT_USERNAME = "tinbao_sandbox_bot"
REQUEST_LOG_LIMIT = 100_000


def new_file_id() -> str:
    """An opaque file_id, long and random like Telegram's."""
    return "SBX" + secrets.token_urlsafe(36)


def new_unique_id() -> str:
    """An opaque file_unique_id."""
    return "SU" + secrets.token_urlsafe(9)


def now_ts() -> int:
    """Current Unix time in whole seconds, the unit of Telegram dates."""
    return int(time.time())


@dataclass
class StoredFile:
    """A file known to the world (uploaded by a user or the bot, or referenced by URL)."""

    file_id: str
    file_unique_id: str
    kind: str
    content: bytes
    file_size: int
    file_path: str
    mime_type: str | None = None
    file_name: str | None = None
    width: int | None = None
    height: int | None = None
    duration: int | None = None
    source_url: str | None = None
    # For photos: file_ids of all sizes of the same picture, smallest first.
    photo_group: list[str] = field(default_factory=list)

    def as_file(self) -> JSON:
        """Bot API File object."""
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": self.file_size,
            "file_path": self.file_path,
        }


@dataclass
class StoredMessage:
    """A message in a chat; `data` is the Bot API Message object as last returned."""

    chat_id: int
    message_id: int
    from_bot: bool
    data: JSON
    markup: JSON | None
    date: int
    version: int
    deleted: bool = False
    history: list[JSON] = field(default_factory=list)


@dataclass
class ChatState:
    """A chat the bot knows about, with its messages."""

    chat: JSON
    chat_instance: str
    next_message_id: int = 1
    messages: dict[int, StoredMessage] = field(default_factory=dict)


@dataclass
class QueuedUpdate:
    """An update waiting to be fetched by getUpdates or pushed to the webhook."""

    update: JSON
    redelivery: bool = False
    delivered: bool = False
    assigned: bool = False

    @property
    def update_id(self) -> int:
        """The update's update_id."""
        return int(self.update["update_id"])


@dataclass
class WebhookConfig:
    """Current webhook registration."""

    url: str
    secret_token: str | None
    allowed_updates: list[str] | None
    max_connections: int | None
    last_error_date: int | None = None
    last_error_message: str | None = None


@dataclass
class FailRule:
    """Injected failure: the next `count` calls of `method` (None = any) answer `status`."""

    method: str | None
    count: int
    status: int
    description: str | None = None


@dataclass
class Behaviour:
    """Switchable Telegram behaviour; everything is off by default."""

    limits_enabled: bool = False
    global_rate: float = 30.0
    per_chat_rate: float = 1.0
    per_chat_burst: int = 1
    blocked_chats: set[int] = field(default_factory=set)
    fail_rules: list[FailRule] = field(default_factory=list)
    latency_ms: int = 0
    webhook_concurrency: int = 50

    def as_dict(self) -> JSON:
        """JSON view for the control API."""
        return {
            "limits_enabled": self.limits_enabled,
            "global_rate": self.global_rate,
            "per_chat_rate": self.per_chat_rate,
            "per_chat_burst": self.per_chat_burst,
            "blocked_chats": sorted(self.blocked_chats),
            "fail_next": [
                {"method": r.method, "count": r.count, "status": r.status, "description": r.description}
                for r in self.fail_rules
            ],
            "latency_ms": self.latency_ms,
            "webhook_concurrency": self.webhook_concurrency,
        }


@dataclass
class RequestRecord:
    """One Bot API call as seen by the sandbox."""

    method: str
    params: JSON
    status: int
    ts: float
    via: str = "http"

    def as_dict(self) -> JSON:
        """JSON view for the control API."""
        return {"method": self.method, "params": self.params, "status": self.status, "ts": self.ts, "via": self.via}


@dataclass
class Stats:
    """Counters exposed by GET /control/{token}/stats."""

    calls: Counter[str] = field(default_factory=Counter)
    too_many_requests: int = 0
    forbidden: int = 0
    sends_per_chat: Counter[int] = field(default_factory=Counter)
    webhook_delivered: int = 0
    webhook_failures: int = 0

    def as_dict(self) -> JSON:
        """JSON view for the control API."""
        return {
            "calls": dict(self.calls),
            "too_many_requests": self.too_many_requests,
            "forbidden": self.forbidden,
            "sends_per_chat": {str(k): v for k, v in self.sends_per_chat.items()},
            "webhook_delivered": self.webhook_delivered,
            "webhook_failures": self.webhook_failures,
        }


@dataclass
class CallbackRecord:
    """A callback query sent to the bot and, once answered, the bot's answer."""

    id: str
    chat_id: int
    message_id: int
    data: str
    answered: bool = False
    answer: JSON | None = None


class WebhookRunner(Protocol):
    """Background delivery of updates to the webhook (implemented in sandbox.webhook)."""

    def kick(self) -> None:
        """Re-examine the webhook config and pending updates."""

    async def stop(self) -> None:
        """Stop delivering and release resources."""


class World:
    """Everything one bot (token) sees: chats, messages, files, updates and behaviour switches."""

    def __init__(self, token: str, runner_factory: Callable[[World], WebhookRunner] | None = None) -> None:
        self.token = token
        self.bot_id = int(token.split(":", 1)[0])
        self._runner_factory = runner_factory
        self.webhook_runner: WebhookRunner | None = None
        self.updates_signal = Signal()
        # One signal per chat: a change in one chat wakes only that chat's long-polls (one world-wide signal woke
        # every waiting citizen on every message, which the intake benchmark's 300 citizens turned quadratic).
        self.chat_signals: dict[int, Signal] = {}
        # These survive reset(): a running bot keeps its getUpdates offset and long-poll.
        self.next_update_id = 1
        self.poll_generation = 0
        self._init_fields()

    def _init_fields(self) -> None:
        self.users: dict[int, JSON] = {}
        self.chats: dict[int, ChatState] = {}
        self.files: dict[str, StoredFile] = {}
        self.files_by_path: dict[str, StoredFile] = {}
        self.file_counter = 0
        self.updates: list[QueuedUpdate] = []
        self.sent_updates: dict[int, JSON] = {}
        self.webhook: WebhookConfig | None = None
        self.allowed_updates: list[str] | None = None
        self.commands: dict[str, list[JSON]] = {}
        self.bot_settings: JSON = {}
        self.menu_buttons: dict[str, JSON] = {}
        self.callbacks: dict[str, CallbackRecord] = {}
        self.callback_answers: list[JSON] = []
        self.behaviour = Behaviour()
        self.limiter = SendLimiter()
        self.request_log: deque[RequestRecord] = deque(maxlen=REQUEST_LOG_LIMIT)
        self.stats = Stats()
        self.delivery_failures: list[JSON] = []
        self.version = 0
        self.closed = False

    async def reset(self) -> None:
        """Forget everything (the token and bot id stay)."""
        await self.stop_webhook_runner()
        self._init_fields()
        self.updates_signal.notify()
        self.notify_all_chats()

    async def stop_webhook_runner(self) -> None:
        """Stop background webhook delivery, if running."""
        if self.webhook_runner is not None:
            runner, self.webhook_runner = self.webhook_runner, None
            await runner.stop()

    def close(self) -> None:
        """Wake every long-poll so server shutdown is not held up."""
        self.closed = True
        self.updates_signal.notify()
        self.notify_all_chats()

    # --- identities -------------------------------------------------------------------------

    def bot_user(self, full: bool = False) -> JSON:
        """The bot's User object (full=True adds the getMe-only capability fields)."""
        user: JSON = {"id": self.bot_id, "is_bot": True, "first_name": BOT_FIRST_NAME, "username": BOT_USERNAME}
        if full:
            user.update(
                can_join_groups=False,
                can_read_all_group_messages=False,
                supports_inline_queries=False,
                can_connect_to_business=False,
                has_main_web_app=False,
            )
        return user

    def ensure_user(self, user: JSON) -> ChatState:
        """Remember a user and their private chat (chat id == user id); return the chat."""
        clean: JSON = {"id": int(user["id"]), "is_bot": False, "first_name": str(user.get("first_name") or "User")}
        for key in ("last_name", "username", "language_code"):
            if user.get(key):
                clean[key] = str(user[key])
        self.users[clean["id"]] = clean
        chat: JSON = {"id": clean["id"], "type": "private", "first_name": clean["first_name"]}
        for key in ("last_name", "username"):
            if key in clean:
                chat[key] = clean[key]
        return self.ensure_chat(chat)

    def ensure_chat(self, chat: JSON) -> ChatState:
        """Remember a chat (updating its description); return its state."""
        chat_id = int(chat["id"])
        state = self.chats.get(chat_id)
        if state is None:
            state = self.chats[chat_id] = ChatState(chat=dict(chat), chat_instance=str(secrets.randbits(62)))
        else:
            state.chat.update(chat)
        return state

    # --- messages ----------------------------------------------------------------------------

    def bump_version(self) -> int:
        """Advance the world's change counter (used by control long-polls)."""
        self.version += 1
        return self.version

    def store_message(self, chat: ChatState, from_bot: bool, data: JSON, markup: JSON | None) -> StoredMessage:
        """Store a message whose data already carries message_id/date/chat."""
        message = StoredMessage(
            chat_id=int(chat.chat["id"]),
            message_id=int(data["message_id"]),
            from_bot=from_bot,
            data=data,
            markup=markup,
            date=int(data["date"]),
            version=self.bump_version(),
        )
        chat.messages[message.message_id] = message
        self.notify_chat(message.chat_id)
        return message

    def touch_message(self, message: StoredMessage) -> None:
        """Mark a message as changed (edit/delete) for control long-polls."""
        message.version = self.bump_version()
        self.notify_chat(message.chat_id)

    def chat_signal(self, chat_id: int) -> Signal:
        """The signal long-polls on one chat wait for."""
        signal = self.chat_signals.get(chat_id)
        if signal is None:
            signal = self.chat_signals[chat_id] = Signal()
        return signal

    def notify_chat(self, chat_id: int) -> None:
        """Wake the long-polls waiting on one chat."""
        signal = self.chat_signals.get(chat_id)
        if signal is not None:
            signal.notify()

    def notify_all_chats(self) -> None:
        """Wake every chat's long-polls (reset, shutdown)."""
        for signal in self.chat_signals.values():
            signal.notify()

    def allocate_message_id(self, chat: ChatState) -> int:
        """Next message_id in a chat; user and bot messages share the counter, like Telegram."""
        message_id = chat.next_message_id
        chat.next_message_id += 1
        return message_id

    # --- files -------------------------------------------------------------------------------

    def add_file(self, kind: str, content: bytes, extension: str, **meta: Any) -> StoredFile:
        """Store bytes as a new file with fresh opaque ids and a download path."""
        self.file_counter += 1
        folder = {"photo": "photos", "voice": "voice", "audio": "music"}.get(kind, kind + "s")
        path = f"{folder}/file_{self.file_counter}.{extension}"
        size = int(meta.pop("file_size", None) or len(content))
        stored = StoredFile(
            file_id=new_file_id(),
            file_unique_id=new_unique_id(),
            kind=kind,
            content=content,
            file_size=size,
            file_path=path,
            **meta,
        )
        self.files[stored.file_id] = stored
        self.files_by_path[path] = stored
        return stored

    # --- updates -----------------------------------------------------------------------------

    def enqueue_update(self, payload: JSON) -> int:
        """Queue a new update (assigning update_id if missing); return its update_id."""
        update_id = int(payload.get("update_id") or self.next_update_id)
        # update_id first, as Telegram orders it (cosmetic, but nicer to read in logs and dumps).
        payload = {"update_id": update_id, **{k: v for k, v in payload.items() if k != "update_id"}}
        self.next_update_id = max(self.next_update_id, update_id + 1)
        self.sent_updates[update_id] = payload
        self._insert(QueuedUpdate(update=payload))
        return update_id

    def redeliver(self, update_id: int) -> bool:
        """Queue an already-sent update again with the same update_id; False if unknown."""
        payload = self.sent_updates.get(update_id)
        if payload is None:
            return False
        self._insert(QueuedUpdate(update=payload, redelivery=True))
        return True

    def _insert(self, entry: QueuedUpdate) -> None:
        # Kept sorted by update_id so a redelivered old update is fetched before newer ones.
        keys = [e.update_id for e in self.updates]
        self.updates.insert(bisect.bisect_right(keys, entry.update_id), entry)
        self.updates_signal.notify()
        if self.webhook is not None:
            self.kick_webhook()

    def confirm_updates(self, offset: int) -> None:
        """Forget updates confirmed by getUpdates' offset (negative offset keeps the last N)."""
        if offset < 0:
            self.updates = self.updates[offset:]
            return
        self.updates = [e for e in self.updates if e.update_id >= offset or (e.redelivery and not e.delivered)]

    def remove_update(self, entry: QueuedUpdate) -> None:
        """Drop one queued entry (after webhook delivery)."""
        if entry in self.updates:
            self.updates.remove(entry)

    def kick_webhook(self) -> None:
        """Start or wake the webhook delivery task."""
        if self.webhook_runner is None and self.webhook is not None and self._runner_factory is not None:
            self.webhook_runner = self._runner_factory(self)
        if self.webhook_runner is not None:
            self.webhook_runner.kick()


class SandboxState:
    """All worlds of a sandbox server, keyed by bot token."""

    def __init__(self, runner_factory: Callable[[World], WebhookRunner] | None = None) -> None:
        self.worlds: dict[str, World] = {}
        self.runner_factory = runner_factory

    def world(self, token: str) -> World:
        """The world of a (valid) token, created on first use."""
        world = self.worlds.get(token)
        if world is None:
            world = self.worlds[token] = World(token, self.runner_factory)
        return world

    def find(self, token: str) -> World | None:
        """Resolve a control-API token: `default` means the first world; unknown valid tokens are created."""
        if token == "default":  # noqa: S105 - a keyword, not a secret
            return next(iter(self.worlds.values()), None)
        if TOKEN_RE.match(token):
            return self.world(token)
        return None

    async def close(self) -> None:
        """Wake all waiters and stop background delivery."""
        for world in self.worlds.values():
            world.close()
            await world.stop_webhook_runner()
