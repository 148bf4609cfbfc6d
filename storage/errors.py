"""Domain errors: the bot and the API each map these to a friendly answer."""

from __future__ import annotations


class DomainError(Exception):
    """Base class for errors a user can be told about."""


class NotFound(DomainError):
    """The thing does not exist (or is not visible to the caller)."""


class ValidationFailed(DomainError):
    """Input breaks a domain rule; the message says which."""


class TooManyAttempts(DomainError):
    """A rate limit on guesses was reached; retry after `retry_after` seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many attempts, retry after {retry_after}s")
        self.retry_after = retry_after


class PermissionDenied(DomainError):
    """The caller is known but may not do this."""


class Conflict(DomainError):
    """The request clashes with the current state (e.g. a status change the tip life forbids)."""


class AuthFailed(DomainError):
    """Wrong credentials, or an expired, revoked or unknown token."""
