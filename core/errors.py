"""Domain errors raised by services; the API maps each to its HTTP status and DRF's error shape."""

from __future__ import annotations

# A lost database is an outage of a dependency, not a bug: writes roll back, and clients may retry after this.
DATABASE_RETRY_AFTER_SECONDS = 5
DATABASE_UNAVAILABLE = "the database is unavailable; retry later"


class DomainError(Exception):
    """Base class: a request the domain refuses, with a reason meant for the caller."""

    status_code = 400

    def __init__(self, reason: str, *, field: str | None = None, extra: dict | None = None):
        super().__init__(reason)
        self.reason = reason
        self.field = field
        self.extra = extra or {}

    def as_data(self) -> dict:
        if self.field:
            return {self.field: [self.reason], **self.extra}
        return {"detail": self.reason, **self.extra}


class InvalidInput(DomainError):
    """The input is wrong; `field` names where."""

    status_code = 400


class NotPermitted(DomainError):
    """The actor's roles do not allow this."""

    status_code = 403


class NotFound(DomainError):
    status_code = 404


class Conflict(DomainError):
    """The request clashes with the current state (duplicate with other provenance, illegal transition)."""

    status_code = 409


class PayloadTooLarge(DomainError):
    status_code = 413
