"""Read Bot API parameters from JSON, urlencoded or multipart bodies and the query string."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from sandbox.errors import bad_request


@dataclass(frozen=True)
class Upload:
    """A file uploaded in a multipart request."""

    filename: str
    content: bytes
    content_type: str | None


class Params:
    """Bot API call parameters with Telegram-like coercion of form strings."""

    def __init__(self, values: dict[str, Any], uploads: dict[str, Upload] | None = None) -> None:
        self.values = values
        self.uploads = uploads or {}

    def has(self, key: str) -> bool:
        """True if the parameter was given and is not empty."""
        return self.values.get(key) not in (None, "")

    def get_str(self, key: str) -> str | None:
        """A string parameter (numbers given in JSON bodies are stringified)."""
        value = self.values.get(key)
        if value is None or isinstance(value, Upload):
            return None
        return value if isinstance(value, str) else json.dumps(value) if isinstance(value, dict | list) else str(value)

    def require_str(self, key: str) -> str:
        """A required string parameter; 400 "<key> is empty" like Telegram if missing."""
        value = self.get_str(key)
        if not value:
            raise bad_request(f"{key} is empty")
        return value

    def get_int(self, key: str) -> int | None:
        """An integer parameter; 400 if it is not a number."""
        value = self.values.get(key)
        if value is None or value == "":
            return None
        if isinstance(value, bool):
            return int(value)
        try:
            return int(value)
        except (TypeError, ValueError):
            raise bad_request(f"invalid {key} specified") from None

    def require_int(self, key: str) -> int:
        """A required integer parameter."""
        value = self.get_int(key)
        if value is None:
            raise bad_request(f"{key} is empty")
        return value

    def get_float(self, key: str) -> float | None:
        """A float parameter; 400 if it is not a number."""
        value = self.values.get(key)
        if value is None or value == "":
            return None
        try:
            return float(value)
        except (TypeError, ValueError):
            raise bad_request(f"invalid {key} specified") from None

    def get_bool(self, key: str) -> bool:
        """A boolean parameter (true/false/1/0); absent means False."""
        value = self.values.get(key)
        if isinstance(value, str):
            return value.strip().lower() in ("true", "1", "yes")
        return bool(value)

    def get_json(self, key: str) -> Any:
        """A JSON-serialized parameter (aiogram sends nested objects as JSON strings)."""
        value = self.values.get(key)
        if not isinstance(value, str):
            return value
        if value == "":
            return None
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            raise bad_request(f"can't parse {key} JSON object") from None

    def resolve_media(self, value: Any) -> Upload | str | None:
        """A media value: an Upload, `attach://name` resolved to its Upload, or a file_id/URL string."""
        if isinstance(value, Upload) or value is None:
            return value
        text = str(value)
        if text.startswith("attach://"):
            upload = self.uploads.get(text.removeprefix("attach://"))
            if upload is None:
                raise bad_request(f"file must be uploaded as a multipart part named {text[9:]}")
            return upload
        return text

    def media(self, key: str) -> Upload | str | None:
        """The media parameter `key` (see resolve_media)."""
        return self.resolve_media(self.values.get(key))

    def loggable(self) -> dict[str, Any]:
        """Parameters with file bytes replaced by a short description, for the request log."""
        out: dict[str, Any] = {}
        for key, value in self.values.items():
            if isinstance(value, Upload):
                out[key] = {"upload": value.filename, "size": len(value.content)}
            else:
                out[key] = value
        for key, upload in self.uploads.items():
            out.setdefault(key, {"upload": upload.filename, "size": len(upload.content)})
        return out


async def read_params(request: web.Request) -> Params:
    """Collect parameters from the query string and a JSON, urlencoded or multipart body."""
    values: dict[str, Any] = dict(request.query)
    uploads: dict[str, Upload] = {}
    if request.can_read_body:
        if request.content_type == "application/json":
            try:
                body = await request.json()
            except json.JSONDecodeError:
                raise bad_request("can't parse JSON body") from None
            if isinstance(body, dict):
                values.update(body)
        else:
            form = await request.post()
            for key, value in form.items():
                if isinstance(value, web.FileField):
                    uploads[key] = Upload(value.filename, value.file.read(), value.content_type)
                else:
                    values[key] = value
    # An upload sent directly in the field (not via attach://) counts as that field's value.
    for key, upload in uploads.items():
        values.setdefault(key, upload)
    return Params(values, uploads)
